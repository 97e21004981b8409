// Follow mode with real files and real processes: rotation of every kind, restarts, idle flush.
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { BIN, cli, holdsOpen, sample, tmpdir } from './helpers.js';

const JAVA = sample('seed/centos7-java-rwsem.messages');

/** The seed report with another pid: each written report is told apart by its pid. */
function report(pid: number): string {
  return JAVA.replace(/181134/g, String(pid));
}

interface Seen { pid: number; at: number }

/** A running `klogscan -f --json` whose report lines are collected with their arrival times. */
class Follow {
  readonly child: ChildProcess;
  readonly seen: Seen[] = [];
  /** Every object printed, reports and the summary. */
  readonly objects: { type: string }[] = [];
  stderr = '';
  private buf = '';
  readonly exited: Promise<number | null>;

  constructor(readonly args: string[], env: Record<string, string>, opts: { stdin?: boolean; node?: string[] } = {}) {
    this.child = spawn(process.execPath, [...(opts.node ?? []), BIN, '--json', ...args], {
      env: { ...process.env, TZ: 'UTC', NO_COLOR: '1', KLOGSCAN_RULES_D: '/nonexistent', ...env },
      stdio: [opts.stdin ? 'pipe' : 'ignore', 'pipe', 'pipe'],
    });
    this.child.stdout!.on('data', (d: Buffer) => {
      this.buf += d.toString();
      let nl: number;
      while ((nl = this.buf.indexOf('\n')) >= 0) {
        const line = this.buf.slice(0, nl);
        this.buf = this.buf.slice(nl + 1);
        const o = JSON.parse(line) as { type: string; pid?: number };
        this.objects.push(o);
        if (o.type === 'report') this.seen.push({ pid: o.pid!, at: Date.now() });
      }
    });
    this.child.stderr!.on('data', (d: Buffer) => { this.stderr += d.toString(); });
    this.exited = new Promise((r) => this.child.on('exit', (code) => r(code)));
  }

  pids(): number[] {
    return this.seen.map((s) => s.pid);
  }

  async waitFor(pid: number, ms = 5000): Promise<Seen> {
    const end = Date.now() + ms;
    for (;;) {
      const s = this.seen.find((x) => x.pid === pid);
      if (s) return s;
      if (Date.now() > end) throw new Error(`report ${pid} not printed within ${ms} ms; got ${this.pids().join(',')}; stderr: ${this.stderr}`);
      await sleep(20);
    }
  }

  async stop(signal: NodeJS.Signals = 'SIGTERM'): Promise<number | null> {
    this.child.kill(signal);
    return this.exited;
  }
}

function sleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}

/**
 * Waits until the follower has set up (it says nothing while the file exists; a poll is 100 ms):
 * at least 700 ms, and until it holds each followed regular file open (its starting position is
 * taken then) and has said why it waits for each other name: on a loaded machine its start-up
 * alone can take longer than 700 ms.
 */
async function started(f: Follow): Promise<void> {
  await sleep(700);
  const names = f.args.filter((a) => !a.startsWith('-')).map((a) => path.resolve(a));
  const files = names.filter((n) => fs.statSync(n, { throwIfNoEntry: false })?.isFile() === true);
  await holdsOpen(f.child, files);
  const others = names.filter((n) => !files.includes(n));
  const end = Date.now() + 20000;
  while (f.child.exitCode === null && Date.now() < end && !others.every((n) => f.stderr.includes(`waiting for ${n}`))) await sleep(20);
}

/** Every stored report (pid and frame count), over all incidents, sorted by pid. */
function storedReports(db: string): [number, number][] {
  return cli(['history', '--db', db, '--json']).json
    .flatMap((i) => cli(['show', String(i.id), '--db', db, '--json']).json.slice(1))
    .map((o): [number, number] => [o.pid as number, (o.frames as unknown[]).length])
    .sort((a, b) => a[0] - b[0]);
}

function storedPids(db: string): number[] {
  const r = cli(['show', '1', '--db', db, '--json']);
  return r.json.slice(1).map((o) => o.pid as number).sort((a, b) => a - b);
}

describe('follow mode (-f)', function () {
  this.timeout(60000);
  let dir: string;
  let log: string;
  let env: Record<string, string>;
  let f: Follow | null = null;

  beforeEach(() => {
    dir = tmpdir('klogscan-follow-');
    log = path.join(dir, 'messages');
    env = { KLOGSCAN_DB: path.join(dir, 'k.db') };
  });
  afterEach(async () => {
    if (f && f.child.exitCode === null) await f.stop('SIGKILL');
    f = null;
  });

  it('starts at the end on the first run and prints each new report within a second', async () => {
    fs.writeFileSync(log, report(1));
    f = new Follow(['-f', log], env);
    await started(f);
    const t0 = Date.now();
    fs.appendFileSync(log, report(2));
    const s = await f.waitFor(2);
    assert.ok(s.at - t0 < 1000, `latency ${s.at - t0} ms`);
    assert.deepEqual(f.pids(), [2], 'the report already in the file is old news');
    assert.equal(await f.stop(), 0);
  });

  it('--from-start reads what is already there', async () => {
    fs.writeFileSync(log, report(1));
    f = new Follow(['-f', '--from-start', log], env);
    await f.waitFor(1);
    assert.equal(await f.stop(), 0);
  });

  it('takes two reports written at once, and one report written in many small pieces', async () => {
    fs.writeFileSync(log, '');
    f = new Follow(['-f', log], env);
    await started(f);
    fs.appendFileSync(log, report(3) + report(4));
    await f.waitFor(3);
    await f.waitFor(4);
    const text = report(5);
    for (let i = 0; i < text.length; i += 37) {
      fs.appendFileSync(log, text.slice(i, i + 37));
      await sleep(5);
    }
    await f.waitFor(5);
    const [five] = f.seen.filter((s) => s.pid === 5);
    assert.ok(five);
    assert.deepEqual(f.pids(), [3, 4, 5]);
    assert.equal(await f.stop(), 0);
    const r = cli(['show', '1', '--db', env.KLOGSCAN_DB, '--json']);
    assert.equal((r.json.find((o) => o.pid === 5)!.frames as unknown[]).length, 15);
  });

  it('a writer that pauses a second inside a trace does not cut the report (helper-63: rsyslog async writing, NFS)', async () => {
    fs.writeFileSync(log, '');
    f = new Follow(['-f', log], env);
    await started(f);
    const lines = report(6).split('\n');
    fs.appendFileSync(log, lines.slice(0, 12).join('\n') + '\n');
    await sleep(1500);
    assert.deepEqual(f.pids(), [], 'not printed while its trace stops in the middle');
    fs.appendFileSync(log, lines.slice(12).join('\n'));
    await f.waitFor(6);
    const six = f.objects.find((o) => o.type === 'report' && (o as { pid?: number }).pid === 6) as unknown as { frames: unknown[]; truncated: boolean };
    assert.deepEqual([six.frames.length, six.truncated], [15, false]);
    assert.equal(await f.stop(), 0);
  });

  it('an OOM kill whose kill line comes in a later write is one report with its victim', async () => {
    fs.writeFileSync(log, '');
    f = new Follow(['-f', log], env);
    await started(f);
    // A kernel thread's OOM (its trace goes down to ret_from_fork, so nothing says that more comes).
    const oom = sample('kinds/07-oom-memcg-rhel7-3.10.0-693-sacrifice-child.log').trimEnd().split('\n')
      .map((l) => l.replace('async_page_fault+0x28/0x30', 'ret_from_fork+0x1f/0x40'));
    const kill = oom.findIndex((l) => l.includes('Kill process'));
    fs.appendFileSync(log, oom.slice(0, kill).join('\n') + '\n');
    await sleep(1500);
    fs.appendFileSync(log, oom.slice(kill).join('\n') + '\n');
    await f.waitFor(26049);
    await sleep(700);
    const reports = f.objects.filter((o) => o.type === 'report') as unknown as { pid: number | null; oom_victim: { pid: number } | null }[];
    assert.deepEqual(reports.map((r) => [r.pid, r.oom_victim?.pid]), [[26049, 24518]]);
    assert.equal(await f.stop(), 0);
  });

  it('follows rename+create rotation (logrotate create) and drains the old file', async () => {
    fs.writeFileSync(log, '');
    f = new Follow(['-f', log], env);
    await started(f);
    fs.appendFileSync(log, report(10));
    fs.renameSync(log, `${log}.1`);
    fs.appendFileSync(`${log}.1`, report(11)); // the writer had not reopened yet
    fs.writeFileSync(log, report(12));
    await f.waitFor(10);
    await f.waitFor(11);
    await f.waitFor(12);
    assert.deepEqual(f.pids().sort(), [10, 11, 12]);
    assert.equal(await f.stop(), 0);
  });

  it('follows copytruncate, without losing the first new line', async () => {
    fs.writeFileSync(log, '');
    f = new Follow(['-f', log], env);
    await started(f);
    fs.appendFileSync(log, report(20));
    await f.waitFor(20);
    fs.copyFileSync(log, `${log}.1`);
    fs.truncateSync(log, 0);
    fs.appendFileSync(log, report(21));
    await f.waitFor(21);
    assert.deepEqual(f.pids(), [20, 21]);
    assert.equal(await f.stop(), 0);
  });

  it('a copytruncate while klogscan was stopped: the rest is read from the copy first (helper-63)', async () => {
    fs.writeFileSync(log, report(60));
    f = new Follow(['-f', '--from-start', log], env);
    await f.waitFor(60);
    assert.equal(await f.stop(), 0);
    fs.appendFileSync(log, report(61));
    fs.copyFileSync(log, `${log}-20260130`);
    fs.truncateSync(log, 0);
    fs.appendFileSync(log, report(62));
    f = new Follow(['-f', log], env);
    await f.waitFor(62);
    await f.waitFor(61);
    assert.deepEqual(f.pids().sort(), [61, 62]);
    assert.match(f.stderr, /copied and truncated while klogscan was not running: reading the rest of .*-20260130 first/);
    assert.equal(await f.stop(), 0);
    assert.deepEqual(storedPids(env.KLOGSCAN_DB).sort(), [60, 61, 62]);
  });

  it('follows delete+recreate, and a file that does not exist yet', async () => {
    f = new Follow(['-f', log], env);
    await started(f);
    assert.match(f.stderr, /waiting for .*messages: it does not exist yet/);
    fs.writeFileSync(log, report(30));
    await f.waitFor(30);
    fs.unlinkSync(log);
    await sleep(300);
    fs.writeFileSync(log, report(31));
    await f.waitFor(31);
    assert.deepEqual(f.pids(), [30, 31]);
    assert.equal(await f.stop(), 0);
  });

  it('a file that shrinks is read again from its start', async () => {
    fs.writeFileSync(log, '');
    f = new Follow(['-f', log], env);
    await started(f);
    fs.appendFileSync(log, report(40) + report(41));
    await f.waitFor(41);
    fs.writeFileSync(log, report(42));
    await f.waitFor(42);
    assert.deepEqual(f.pids(), [40, 41, 42]);
    assert.equal(await f.stop(), 0);
  });

  it('survives kill -9: resumes at the stored position, nothing lost, nothing repeated', async () => {
    fs.writeFileSync(log, '');
    f = new Follow(['-f', log], env);
    await started(f);
    fs.appendFileSync(log, report(50));
    await f.waitFor(50);
    // Half of a report is in the file when klogscan dies.
    const half = report(51);
    fs.appendFileSync(log, half.slice(0, 400));
    await sleep(300);
    await f.stop('SIGKILL');
    fs.appendFileSync(log, half.slice(400) + report(52));
    f = new Follow(['-f', log], env);
    await f.waitFor(51);
    await f.waitFor(52);
    await sleep(300);
    assert.deepEqual(f.pids(), [51, 52], 'the report printed before the kill is not printed again');
    assert.equal(await f.stop(), 0);
    assert.deepEqual(storedPids(env.KLOGSCAN_DB), [50, 51, 52]);
  });

  it('SIGTERM finishes and stores the open report before exiting 0', async () => {
    fs.writeFileSync(log, '');
    f = new Follow(['-f', log], env);
    await started(f);
    fs.appendFileSync(log, report(60));
    await sleep(150); // read, but not yet idle for half a second
    assert.equal(await f.stop('SIGTERM'), 0);
    assert.ok(f.pids().includes(60));
    assert.deepEqual(storedPids(env.KLOGSCAN_DB), [60]);
    // The NDJSON contract: the last line of a run is the summary, in follow mode too.
    const last = f.objects.at(-1) as { type: string; reports: number; inputs: number; lines: number; stored: { new: number } };
    assert.equal(last.type, 'summary');
    assert.equal(last.reports, 1);
    assert.equal(last.inputs, 1);
    assert.equal(last.lines, report(60).split('\n').length - 1);
    assert.equal(last.stored.new, 1);
  });

  it('a followed name that is a directory is waited for, and followed once it is a file', async () => {
    fs.mkdirSync(log);
    f = new Follow(['-f', log], env);
    await started(f);
    assert.match(f.stderr, /waiting for .*messages: it is a directory/);
    assert.equal(f.child.exitCode, null, 'still running');
    fs.rmdirSync(log);
    fs.writeFileSync(log, report(80));
    await f.waitFor(80);
    // And the other way round: the file is replaced by a directory, then by a file again.
    fs.unlinkSync(log);
    fs.mkdirSync(log);
    await sleep(400);
    fs.rmdirSync(log);
    fs.writeFileSync(log, report(81));
    await f.waitFor(81);
    assert.equal(await f.stop(), 0);
    assert.equal(f.stderr.match(/it is a directory/g)?.length, 2, 'said once each time, not at every poll');
  });

  it('dates year-less syslog lines by the clock when they are read, not when klogscan started', async () => {
    // klogscan starts with its clock two days behind, as if it had been running for two days.
    // The seed report is written dated "now": it is this year's, not last year's.
    const hook = path.join(dir, 'clock.mjs');
    fs.writeFileSync(hook, `const real = Date.now; const t0 = real(); Date.now = () => { const t = real(); return t - t0 < 1500 ? t - 2 * 86400000 : t; };\n`);
    fs.writeFileSync(log, '');
    f = new Follow(['-f', log], env, { node: ['--import', hook] });
    await sleep(2000);
    const now = new Date();
    const month = now.toLocaleString('en-US', { month: 'short', timeZone: 'UTC' });
    const stamp = `${month} ${String(now.getUTCDate()).padStart(2, ' ')} ${now.toISOString().slice(11, 19)}`;
    fs.appendFileSync(log, report(90).replace(/^Jan 29 \d\d:\d\d:\d\d/gm, stamp));
    await f.waitFor(90);
    assert.equal(await f.stop(), 0);
    const r = cli(['history', '--since', '1d', '--db', env.KLOGSCAN_DB, '--json']);
    assert.equal(r.json.length, 1, r.stdout);
    assert.equal(String(r.json[0].first_seen).slice(0, 4), String(now.getUTCFullYear()));
  });

  it('kill -9 while a report begun before a rotation is still open: read again from the old file', async () => {
    fs.writeFileSync(log, '');
    f = new Follow(['-f', log], env);
    await started(f);
    const text = report(95);
    const cut = text.indexOf('\n', 700) + 1;
    fs.appendFileSync(log, text.slice(0, cut));
    // Read under the live name first (other hosts' lines keep the report from an idle flush)...
    for (let i = 0; i < 4; i++) {
      await sleep(100);
      fs.appendFileSync(log, `Jan 29 10:41:2${i} other-host sshd[7]: before ${i}\n`);
    }
    // ...then rotated away while it is open.
    fs.renameSync(log, `${log}.1`);
    // The writer reopens: other hosts' lines keep the stream busy (no idle flush) for longer
    // than the old file is drained, then klogscan dies before the report is complete.
    fs.writeFileSync(log, '');
    for (let i = 0; i < 16; i++) {
      fs.appendFileSync(log, `Jan 29 10:41:3${i % 10} other-host sshd[7]: session ${i}\n`);
      await sleep(100);
    }
    await f.stop('SIGKILL');
    assert.deepEqual(f.pids(), []);
    fs.appendFileSync(log, text.slice(cut));
    f = new Follow(['-f', log], env);
    await f.waitFor(95);
    assert.equal(await f.stop(), 0);
    const r = cli(['show', '1', '--db', env.KLOGSCAN_DB, '--json']);
    const rep = r.json.find((o) => o.pid === 95)!;
    assert.equal((rep.frames as unknown[]).length, 15, 'the whole trace, from both files');
    assert.equal(rep.truncated, false);
  });

  it('reports rotated in the middle, back to back: each stored whole, rotated files let go, after kill -9 too', async () => {
    fs.writeFileSync(log, '');
    f = new Follow(['-f', log], env);
    await started(f);
    const cut = (pid: number): [string, string] => {
      const t = report(pid);
      const at = t.indexOf('\n', 700) + 1;
      return [t.slice(0, at), t.slice(at)];
    };
    const logFds = (): number => fs.readdirSync(`/proc/${f!.child.pid}/fd`).filter((x) => {
      try {
        return fs.readlinkSync(`/proc/${f!.child.pid}/fd/${x}`).includes('messages');
      } catch {
        return false;
      }
    }).length;
    let pid = 200;
    fs.appendFileSync(log, cut(pid)[0]);
    for (let r = 1; r <= 5; r++) {
      // Rotated while a report is open; the writer puts its rest and the next one's start in the new file.
      fs.renameSync(log, `${log}.${r}`);
      fs.writeFileSync(log, '');
      await sleep(150);
      fs.appendFileSync(log, cut(pid)[1]);
      pid++;
      fs.appendFileSync(log, cut(pid)[0]);
      for (let i = 0; i < 3; i++) {
        await sleep(100);
        fs.appendFileSync(log, `Jan 29 10:41:30 other sshd[7]: line ${i}\n`);
      }
    }
    assert.ok(logFds() <= 3, `rotated files are let go once their reports are complete (${logFds()} open)`);
    await f.stop('SIGKILL');
    fs.appendFileSync(log, cut(pid)[1]);
    f = new Follow(['-f', log], env);
    await f.waitFor(pid);
    assert.equal(await f.stop(), 0);
    assert.deepEqual(storedReports(env.KLOGSCAN_DB), [200, 201, 202, 203, 204, 205].map((p) => [p, 15]));
  });

  it('a rotation between the lines of a report after a quiet spell does not cut it short', async () => {
    fs.writeFileSync(log, '');
    f = new Follow(['-f', log], env);
    await started(f);
    for (let k = 0; k < 2; k++) {
      const t = report(300 + k);
      const at = t.indexOf('\n', 700) + 1;
      await sleep(700); // quiet: the next round may flush what is open
      fs.appendFileSync(log, t.slice(0, at));
      fs.renameSync(log, `${log}.${k + 1}`);
      fs.writeFileSync(log, '');
      await sleep(150);
      fs.appendFileSync(log, t.slice(at));
      await f.waitFor(300 + k);
    }
    assert.equal(await f.stop(), 0);
    const shown = cli(['show', '1', '--db', env.KLOGSCAN_DB, '--json']).json.slice(1);
    assert.deepEqual(shown.map((o) => [o.pid, (o.frames as unknown[]).length, o.truncated]), [[300, 15, false], [301, 15, false]]);
  });

  it('a host-less log followed through a symlink, then scanned by its real path, is stored once', async () => {
    const real = path.join(dir, 'real.log');
    fs.writeFileSync(real, sample('formats/seed-java.dmesg.log'));
    const link = path.join(dir, 'link.log');
    fs.symlinkSync(real, link);
    f = new Follow(['-f', '--from-start', link], env);
    await f.waitFor(181134);
    assert.equal(await f.stop(), 0);
    const again = cli(['--db', env.KLOGSCAN_DB, '--json', real]);
    assert.deepEqual(again.json.at(-1)!.stored, { db: env.KLOGSCAN_DB, new: 0, duplicates: 1, incidents: 1 });
  });

  it('two hosts\' reports open at a rotation, one completes, kill -9: the other is read again from the rotated file', async () => {
    fs.writeFileSync(log, '');
    f = new Follow(['-f', log], env);
    await started(f);
    const other = (i: number): string => `Jan 29 10:41:3${i % 10} other-host sshd[7]: session ${i}\n`;
    const a = report(700).replace(/app-prod-17/g, 'host-a');
    const b = report(800).replace(/app-prod-17/g, 'host-b');
    const ca = a.indexOf('\n', 700) + 1;
    const cb = b.indexOf('\n', 700) + 1;
    fs.appendFileSync(log, other(0).repeat(40) + a.slice(0, ca) + b.slice(0, cb));
    await sleep(150);
    fs.renameSync(log, `${log}.1`);
    fs.writeFileSync(log, '');
    await sleep(150);
    fs.appendFileSync(log, a.slice(ca) + 'Jan 29 10:41:40 host-a kernel: e1000e: eth0 NIC Link is Up\n' + other(1).repeat(40));
    for (let i = 0; i < 15; i++) {
      await sleep(100);
      fs.appendFileSync(log, other(i));
    }
    await f.waitFor(700);
    await f.stop('SIGKILL');
    fs.appendFileSync(log, b.slice(cb) + other(2));
    f = new Follow(['-f', log], env);
    await f.waitFor(800);
    assert.equal(await f.stop(), 0);
    assert.deepEqual(storedReports(env.KLOGSCAN_DB), [[700, 15], [800, 15]]);
  });

  it('-f messages kern.log with the same kernel lines in both: one whole report, not a doubled trace', async () => {
    const kern = path.join(dir, 'kern.log');
    fs.writeFileSync(log, '');
    fs.writeFileSync(kern, '');
    f = new Follow(['-f', log, kern], env);
    await started(f);
    const t = report(300);
    const at = t.indexOf('\n', 700) + 1;
    fs.appendFileSync(log, t.slice(0, at));
    fs.appendFileSync(kern, t.slice(0, at));
    await sleep(150);
    fs.appendFileSync(log, t.slice(at));
    fs.appendFileSync(kern, t.slice(at));
    await f.waitFor(300);
    await sleep(600);
    assert.equal(await f.stop(), 0);
    const shown = cli(['show', '1', '--db', env.KLOGSCAN_DB, '--json']).json.slice(1);
    assert.deepEqual(shown.map((o) => [o.pid, (o.frames as unknown[]).length, o.truncated]), [[300, 15, false]]);
  });

  it('a header wrapped in one followed console log is not completed by another one\'s lines', async () => {
    const a = path.join(dir, 'consA.log');
    const b = path.join(dir, 'consB.log');
    fs.writeFileSync(a, '');
    fs.writeFileSync(b, '');
    const bare = (pid: number): string[] => report(pid).trim().split('\n').map((l) => l.replace(/^.*? kernel: /, ''));
    f = new Follow(['-f', a, b], env);
    await started(f);
    const ra = bare(111);
    const cut = ra[0].indexOf(' seconds.');
    fs.appendFileSync(a, ra[0].slice(0, cut) + '\n'); // "... blocked for more than 120", the rest comes later
    await sleep(50);
    fs.appendFileSync(b, bare(222).join('\n') + '\n');
    await sleep(300);
    fs.appendFileSync(a, 'seconds.\n' + ra.slice(1).join('\n') + '\n');
    await f.waitFor(111);
    await f.waitFor(222);
    assert.equal(await f.stop(), 0);
    assert.deepEqual(storedReports(env.KLOGSCAN_DB), [[111, 15], [222, 15]]);
  });

  it('kill -9 while a wrapped header waits for its rest: the restart reads it from its first line', async () => {
    fs.writeFileSync(log, '');
    f = new Follow(['-f', log], env);
    await started(f);
    const r = report(444).split('\n');
    const cut = r[0].indexOf(' seconds.');
    const noise = (i: number): string => `Jan 29 10:41:3${i % 10} other sshd[7]: session ${i}\n`;
    fs.appendFileSync(log, noise(0) + r[0].slice(0, cut) + '\n');
    for (let i = 0; i < 3; i++) {
      await sleep(100);
      fs.appendFileSync(log, noise(i));
    }
    await f.stop('SIGKILL');
    fs.appendFileSync(log, ['seconds.', ...r.slice(1)].join('\n') + '\nJan 29 10:41:40 app-prod-17 kernel: e1000e: eth0 NIC Link is Up\n');
    f = new Follow(['-f', log], env);
    await f.waitFor(444);
    assert.equal(await f.stop(), 0);
    const shown = cli(['show', '1', '--db', env.KLOGSCAN_DB, '--json']).json.slice(1);
    assert.deepEqual(shown.map((o) => [o.pid, (o.frames as unknown[]).length, (o.source as { line: number }).line]), [[444, 15, 2]]);
  });

  it('kill -9 while a header-less hung task (Debian /var/log/messages) waits to come out: the restart reads it again, once', async () => {
    fs.writeFileSync(log, '');
    f = new Follow(['-f', log], env);
    await started(f);
    // The seed report as /var/log/messages keeps it on Debian: no KERN_ERR header or echo line.
    const r = report(555).split('\n').filter((l) => l.trim() !== '' && !/blocked for more than|hung_task_timeout_secs/.test(l));
    // Lines of its machine after it end it and its wait for a release; it is held, not yet out.
    const after = Array.from({ length: 20 }, (_, i) => `Jan 29 10:41:3${i % 10} app-prod-17 kernel: e1000e: eth0 NIC Link is Up ${i}`);
    fs.appendFileSync(log, [...r, ...after].join('\n') + '\n');
    for (let i = 0; i < 4; i++) {
      await sleep(100);
      fs.appendFileSync(log, `Jan 29 10:41:3${i} other sshd[7]: session ${i}\n`);
    }
    await f.stop('SIGKILL');
    // Stored before the kill or read again after it, never lost and never twice.
    f = new Follow(['-f', log], env);
    await started(f);
    await sleep(1500);
    assert.equal(await f.stop(), 0);
    assert.deepEqual(storedReports(env.KLOGSCAN_DB), [[555, 15]]);
  });

  it('a header-less hung task that later lines ended comes out at the next pause, not when klogscan stops (helper-84 #2)', async () => {
    fs.writeFileSync(log, '');
    f = new Follow(['-f', log], env);
    await started(f);
    const r = report(556).split('\n').filter((l) => l.trim() !== '' && !/blocked for more than|hung_task_timeout_secs/.test(l));
    const after = Array.from({ length: 80 }, (_, i) => `Jan 29 10:41:3${i % 10} app-prod-17 kernel: audit: type=1400 audit(1706524890.${i}:1): apparmor="ALLOWED"`);
    fs.appendFileSync(log, [...r, ...after].join('\n') + '\n');
    await f.waitFor(556, 4000);
    assert.equal(await f.stop(), 0);
    assert.deepEqual(f.objects.filter((o) => o.type === 'report').map((o) => { const x = o as unknown as Record<string, unknown>; return [x.kind, x.pid, x.headerless]; }), [['hung_task', 556, true]]);
  });

  it('kill -9 while a WARNING\'s `cut here` and message wait for its WARNING line: the restart reads them again', async () => {
    fs.writeFileSync(log, '');
    f = new Follow(['-f', log], env);
    await started(f);
    const k = (t: string, msg: string): string => `Jan 29 10:41:${t} app-prod-17 kernel: ${msg}\n`;
    fs.appendFileSync(log, k('30', '------------[ cut here ]------------') + k('30', 'NETDEV WATCHDOG: eth0 (e1000e): transmit queue 0 timed out'));
    for (let i = 0; i < 3; i++) {
      await sleep(100);
      fs.appendFileSync(log, `Jan 29 10:41:3${i} other sshd[7]: session ${i}\n`);
    }
    await f.stop('SIGKILL');
    fs.appendFileSync(log, [k('31', 'WARNING: CPU: 3 PID: 777 at net/sched/sch_generic.c:461 dev_watchdog+0x1ee/0x200'),
      k('31', 'CPU: 3 PID: 777 Comm: kworker/3:1 Not tainted 4.15.0-20-generic #21-Ubuntu'), k('31', 'RIP: 0010:dev_watchdog+0x1ee/0x200'),
      k('31', 'Call Trace:'), k('31', ' <IRQ>'), k('31', ' call_timer_fn+0x30/0x130'), k('31', ' run_timer_softirq+0x3fb/0x450'),
      k('31', '---[ end trace 1a2b3c4d5e6f7a8b ]---'), k('40', 'e1000e: eth0 NIC Link is Up')].join(''));
    f = new Follow(['-f', log], env);
    await f.waitFor(777);
    assert.equal(await f.stop(), 0);
    const warning = f.objects.find((o) => o.type === 'report') as unknown as { kind: string; message: string[] };
    assert.equal(warning.kind, 'warning');
    assert.deepEqual(warning.message, ['NETDEV WATCHDOG: eth0 (e1000e): transmit queue 0 timed out']);
  });

  it('host-less dmesg with caller ids: a report read again from the rotated file after kill -9 is not stored twice', async () => {
    const seed = report(0).trim().split('\n').map((l) => l.replace(/^.*? kernel: /, ''));
    const rep = (pid: number, up: number): string[] =>
      seed.map((l) => `[${up.toFixed(6).padStart(12)}][${`T${pid}`.padStart(6)}] ${l.replace(/\b0\b/, String(pid))}\n`);
    const noise = (i: number): string => `[${(300 + i / 10).toFixed(6).padStart(12)}][    T9] e1000e: eth0 NIC Link is Up ${i}\n`;
    fs.writeFileSync(log, '');
    f = new Follow(['-f', log], env);
    await started(f);
    const p1 = rep(1001, 200);
    const p2 = rep(1002, 201);
    fs.appendFileSync(log, p1.slice(0, 8).join('')); // stays open
    fs.appendFileSync(log, p2.join('') + '[  202.000000][ T1002] e1000e: link flap\n'); // complete
    await f.waitFor(1002);
    fs.renameSync(log, `${log}.1`);
    fs.writeFileSync(log, '');
    for (let i = 0; i < 7; i++) {
      await sleep(100);
      fs.appendFileSync(log, noise(i));
    }
    await f.stop('SIGKILL');
    fs.appendFileSync(log, p1.slice(8).join('') + '[  203.000000][ T1001] e1000e: link flap\n');
    f = new Follow(['-f', log], env);
    await f.waitFor(1001);
    assert.equal(await f.stop(), 0);
    assert.deepEqual(storedReports(env.KLOGSCAN_DB), [[1001, 15], [1002, 15]]);
  });

  it('a stream on stdin that stays open: each report is printed after a short pause', async () => {
    f = new Follow([], env, { stdin: true });
    // Printed while the stream is still open (waitFor gives up after 5 s; the pause is a fraction
    // of a second). How soon is the benchmark's business (its follow latency), not a test's.
    f.child.stdin!.write(report(70));
    await f.waitFor(70);
    f.child.stdin!.write(report(71));
    await f.waitFor(71);
    f.child.stdin!.end();
    assert.equal(await f.exited, 0);
  });

  it('a journal JSON stream stores its cursor for --print-cursor', async () => {
    const journal = sample('formats/seed-java.journal-json.log');
    f = new Follow([], env, { stdin: true });
    f.child.stdin!.end(journal);
    assert.equal(await f.exited, 0);
    const last = JSON.parse(journal.trim().split('\n').at(-1)!) as { __CURSOR: string };
    const r = cli(['--print-cursor'], { env });
    assert.equal(r.status, 0);
    assert.equal(r.stdout, `${last.__CURSOR}\n`);
  });

  it('the whole story: appends, both rotations, kill -9, appends while down, restart', async () => {
    const latencies: number[] = [];
    const write = async (pid: number, at: string = log): Promise<void> => {
      const t = Date.now();
      fs.appendFileSync(at, report(pid));
      if (f && f.child.exitCode === null) latencies.push((await f.waitFor(pid)).at - t);
    };
    fs.writeFileSync(log, '');
    f = new Follow(['-f', log], env);
    await started(f);
    await write(100);
    await write(101);
    fs.renameSync(log, `${log}.1`); // rename + create
    fs.writeFileSync(log, '');
    await write(102);
    fs.copyFileSync(log, `${log}.2`); // copytruncate
    fs.truncateSync(log, 0);
    await write(103);
    await f.stop('SIGKILL');
    f = null;
    fs.appendFileSync(log, report(104) + report(105)); // while klogscan is down
    f = new Follow(['-f', log], env);
    await f.waitFor(104);
    await f.waitFor(105);
    await started(f);
    await write(106);
    assert.equal(await f.stop(), 0);
    assert.deepEqual(storedPids(env.KLOGSCAN_DB), [100, 101, 102, 103, 104, 105, 106]);
    assert.ok(latencies.every((l) => l < 1000), `latencies ${latencies.join(', ')} ms`);
    const h = cli(['history', '--db', env.KLOGSCAN_DB, '--json']).json;
    assert.equal(h.length, 1);
    assert.equal(h[0].reports, 7);
  });
});
