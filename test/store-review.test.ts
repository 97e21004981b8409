// The store under failure, load and odd inputs: transactions on errors, linear storing and show,
// other writers holding the lock, source identity, boot tolerance, read-only readers, query options.
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import Database from 'better-sqlite3';
import fs from 'node:fs';
import path from 'node:path';
import { SCHEMA_VERSION, Store } from '../src/store.js';
import { BIN, cli, count, holdsOpen, ROOT, sample, scanText, tmpdir } from './helpers.js';

const JAVA = 'samples/seed/centos7-java-rwsem.messages';
const BARE = sample('formats/seed-java.bare.log');

function sleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}

const EXIT = ['schedule+0x29/0x70', 'rwsem_down_read_failed+0x10d/0x1a0', 'down_read+0x20/0x40', 'do_exit+0x189/0xa40', 'int_signal+0x12/0x17'];
const CMDLINE = ['schedule+0x36/0x80', 'rwsem_down_read_failed+0xf0/0x150', 'call_rwsem_down_read_failed+0x18/0x30', 'down_read+0x20/0x40',
  'proc_pid_cmdline_read+0xd9/0x4e0', '__vfs_read+0x37/0x150', 'vfs_read+0x96/0x130', 'SyS_read+0x55/0xc0'];

/** A syslog hung-task report of host h, `secs` seconds after 2019-01-01 00:00:00. */
function report(h: string, secs: number, task: string, pid: number, frames: string[]): string[] {
  const d = new Date(Date.UTC(2019, 0, 1) + secs * 1000);
  const stamp = `Jan ${String(d.getUTCDate()).padStart(2)} ${d.toISOString().slice(11, 19)}`;
  return [`${stamp} ${h} kernel: INFO: task ${task}:${pid} blocked for more than 120 seconds.`, ...frames.map((f) => `${stamp} ${h} kernel:  ${f}`)];
}

/** n java reports in do_exit interleaved with n ps readers of /proc/PID/cmdline, 5 s apart. */
function victims(n: number): string {
  const lines: string[] = [];
  for (let i = 0; i < 2 * n; i++) lines.push(...report('web01', i * 5, i % 2 ? 'ps' : 'java', 1000 + i, i % 2 ? CMDLINE : EXIT));
  return lines.join('\n') + '\n';
}

function write(dir: string, name: string, text: string): string {
  const f = path.join(dir, name);
  fs.writeFileSync(f, text);
  return f;
}

/**
 * Turns a database of this klogscan back into what schema 3 wrote: frames in a table of their own,
 * one row per frame of each report, no traces.
 */
function toSchema3(file: string): void {
  const d = new Database(file);
  d.exec(`
    CREATE TABLE frames3 (
      report_id INTEGER NOT NULL REFERENCES reports(id) ON DELETE CASCADE, stack TEXT NOT NULL, idx INTEGER NOT NULL,
      fn TEXT NOT NULL, offset TEXT, size TEXT, module TEXT, unreliable INTEGER NOT NULL, context TEXT NOT NULL,
      inline INTEGER NOT NULL, source TEXT, PRIMARY KEY (report_id, stack, idx)
    ) STRICT, WITHOUT ROWID;
    INSERT INTO frames3 SELECT * FROM frames;
    DROP VIEW frames;
    ALTER TABLE frames3 RENAME TO frames;
    DROP TABLE trace_frames;
    DROP TABLE traces;
    ALTER TABLE reports DROP COLUMN trace_id;
    ALTER TABLE reports DROP COLUMN owner_trace_id;
    PRAGMA user_version = 3;
  `);
  d.close();
}

describe('store: errors roll back, never commit half a report', () => {
  it('a failing INSERT leaves no report, no empty incident, and exit 2 with that error', () => {
    const dir = tmpdir();
    const db = path.join(dir, 'k.db');
    assert.equal(cli(['--db', db, 'samples/formats/seed-java.dmesg.log']).status, 0);
    const d = new Database(db);
    d.exec('ALTER TABLE matches DROP COLUMN reason');
    d.close();
    const r = cli(['--db', db, JAVA]);
    assert.equal(r.status, 2);
    assert.match(r.stderr, /has no column named reason/);
    assert.equal(r.stderr.trim().split('\n').length, 1);
    assert.equal(count(db, 'SELECT count(*) AS n FROM reports'), 1, 'the half-written report is rolled back');
    assert.equal(count(db, 'SELECT count(*) AS n FROM incidents'), 1, 'and so is its incident');
  });

  it('disk full: the first error (SQLITE_FULL) is reported, the store stays consistent and closes cleanly', () => {
    const dir = tmpdir();
    const file = path.join(dir, 'k.db');
    const lines: string[] = [];
    for (let i = 0; i < 400; i++) lines.push(...report('h1', i * 2, 'java', 5000 + i, EXIT));
    const reports = scanText(lines.join('\n') + '\n');
    const store = Store.open(file, { createDir: false });
    store.record(reports[0]);
    store.commit();
    // No room for more than a few pages: SQLite fails with SQLITE_FULL somewhere in a batch.
    const db = (store as unknown as { db: Database.Database }).db;
    db.pragma(`max_page_count = ${(db.pragma('page_count', { simple: true }) as number) + 6}`);
    let error: Error | null = null;
    try {
      for (const a of reports.slice(1)) store.record(a);
      store.commit();
    } catch (e) {
      error = e as Error;
    }
    assert.ok(error, 'the database filled up');
    assert.match(error.message, /^no space left for .*k\.db \(database or disk is full\)$/);
    assert.doesNotThrow(() => store.close(), 'close() commits nothing after an error, so it cannot fail with another one');
    const stored = count(file, 'SELECT count(*) AS n FROM reports');
    assert.ok(stored >= 1);
    assert.equal(count(file, 'SELECT count(*) AS n FROM reports r WHERE nframes <> (SELECT count(*) FROM frames f WHERE f.report_id = r.id)'), 0);
    assert.equal(count(file, 'SELECT sum(reports) AS n FROM incidents'), stored);
  });

  it('extended SQLite codes are mapped by their primary code: one clear line', () => {
    const r = cli(['--db', '/dev/null', JAVA]);
    assert.equal(r.status, 2);
    assert.match(r.stderr, /^klogscan: (input\/output error on|cannot open|\/dev\/null is not a klogscan database)/);
    assert.doesNotMatch(r.stderr, /^klogscan: \/dev\/null: /);
  });
});

describe('store: linear in the number of reports', function () {
  this.timeout(60000);

  it('stores and shows 2000 victims waiting for 2000 culprits in seconds; edges are per task and capped', () => {
    const dir = tmpdir();
    const db = path.join(dir, 'k.db');
    const log = write(dir, 'victims.log', victims(2000));
    let t = Date.now();
    const r = cli(['--db', db, '--year', '2019', log], { timeout: 40000 });
    assert.equal(r.status, 0, r.stderr);
    const storeMs = Date.now() - t;
    assert.ok(storeMs < 15000, `storing took ${storeMs} ms`);
    t = Date.now();
    const [inc, ...reports] = cli(['show', '1', '--db', db, '--json'], { timeout: 40000 }).json;
    const showMs = Date.now() - t;
    assert.ok(showMs < 10000, `show took ${showMs} ms`);
    assert.equal(reports.length, 4000);
    assert.equal(inc.edges_total, 2000 * 2000);
    assert.equal((inc.edges as unknown[]).length, 200);
    assert.equal(reports.find((x) => x.id === inc.root_report)!.task, 'java');
    const text = cli(['show', '1', '--db', db], { timeout: 40000 }).stdout;
    assert.match(text, /\.\.\. and 3999800 more/);
  });

  it('bounds an incident: a storm longer than 6 hours is a series of incidents', () => {
    const dir = tmpdir();
    const db = path.join(dir, 'k.db');
    const lines: string[] = [];
    // One report every 10 minutes for 13 hours: each within the 15-minute gap of the one before.
    for (let i = 0; i <= 78; i++) lines.push(...report('h1', i * 600, 'java', 100 + i, EXIT));
    cli(['--db', db, '--year', '2019', write(dir, 'storm.log', lines.join('\n') + '\n')]);
    const h = cli(['history', '--db', db, '--json']).json;
    assert.deepEqual(h.map((i) => i.reports), [5, 37, 37]);
    for (const i of h) assert.ok(Date.parse(i.last_seen as string) - Date.parse(i.first_seen as string) <= 6 * 3600e3);
  });
});

describe('store: other writers', function () {
  this.timeout(60000);

  it('a batch is committed within a moment even when no report follows, so the write lock is not kept', async () => {
    const file = path.join(tmpdir(), 'k.db');
    const store = Store.open(file, { createDir: false });
    const [a] = scanText(sample('seed/centos7-java-rwsem.messages'));
    store.record(a);
    await sleep(600);
    const other = new Database(file, { timeout: 0 });
    try {
      other.exec('BEGIN IMMEDIATE');
      other.exec('ROLLBACK');
    } finally {
      other.close();
      store.close();
    }
    assert.equal(count(file, 'SELECT count(*) AS n FROM reports'), 1);
  });

  it('follow mode keeps working while another connection holds the write lock beyond the busy timeout', async () => {
    const dir = tmpdir();
    const db = path.join(dir, 'k.db');
    const log = write(dir, 'messages', '');
    const child = spawn(process.execPath, [BIN, '-f', '--json', '--db', db, log], {
      env: { ...process.env, TZ: 'UTC', NO_COLOR: '1', KLOGSCAN_RULES_D: '/nonexistent' },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => { stdout += d.toString(); });
    child.stderr.on('data', (d: Buffer) => { stderr += d.toString(); });
    const exited = new Promise<number | null>((r) => child.on('exit', (c) => r(c)));
    try {
      await sleep(1000);
      await holdsOpen(child, [log]);
      const holder = new Database(db);
      holder.exec('BEGIN IMMEDIATE');
      fs.appendFileSync(log, sample('seed/centos7-java-rwsem.messages'));
      await sleep(7000);
      assert.equal(child.exitCode, null, `follow exited: ${stderr}`);
      holder.exec('ROLLBACK');
      holder.close();
      fs.appendFileSync(log, sample('seed/centos7-java-rwsem.messages').replace(/181134/g, '181135').replace(/10:41/g, '10:45'));
      for (let i = 0; i < 100 && !stdout.includes('181135'); i++) await sleep(100);
    } finally {
      child.kill('SIGTERM');
    }
    assert.equal(await exited, 0, stderr);
    assert.match(stderr, /is locked by another process: keeping/);
    const pids = stdout.trim().split('\n').map((l) => JSON.parse(l) as { type: string; pid: number }).filter((o) => o.type === 'report').map((o) => o.pid);
    assert.deepEqual(pids, [181134, 181135]);
    assert.equal(count(db, 'SELECT count(*) AS n FROM reports'), 2);
  });
});

describe('store: which reports are one', () => {
  it('a file is one source however its path is spelled', () => {
    const dir = tmpdir();
    const db = path.join(dir, 'k.db');
    write(dir, 'nohost.log', sample('formats/seed-java.dmesg.log'));
    const news = ['nohost.log', './nohost.log', path.join(dir, 'nohost.log')].map((f) => cli(['--db', db, '--json', f], { cwd: dir }).json.at(-1)!.stored);
    assert.deepEqual(news.map((s) => (s as { new: number }).new), [1, 0, 0]);
    assert.equal(count(db, 'SELECT count(*) AS n FROM incidents'), 1);
  });

  it('host-less dmesg of three machines piped one after another: three reports, three incidents', () => {
    const db = path.join(tmpdir(), 'k.db');
    const text = sample('formats/seed-java.dmesg.log');
    const up = /^\[\s*(\d+)\.\d+\]/m.exec(text)![1];
    for (const u of ['6141', '6170', '6400']) {
      const r = cli(['--db', db, '--json'], { input: text.replaceAll(`${up}.`, `${u}.`) });
      assert.equal((r.json.at(-1)!.stored as { new: number }).new, 1, r.stderr);
    }
    assert.equal(count(db, 'SELECT count(*) AS n FROM incidents'), 3);
    // The same machine's dmesg piped again (a cron job, a second look) adds nothing.
    const again = cli(['--db', db, '--json'], { input: text.replaceAll(`${up}.`, '6170.') });
    assert.deepEqual(again.json.at(-1)!.stored, { db, new: 0, duplicates: 1, incidents: 1 });
    assert.equal(count(db, 'SELECT count(*) AS n FROM reports'), 3);
  });

  it('a timestamp-less file with the same report twice keeps both; scanning it again adds nothing', () => {
    const dir = tmpdir();
    const db = path.join(dir, 'k.db');
    const f = write(dir, 'twice.log', `${BARE}some other message\n${BARE}`);
    assert.deepEqual(cli(['--db', db, '--json', f]).json.at(-1)!.stored, { db, new: 2, duplicates: 0, incidents: 1 });
    assert.deepEqual(cli(['--db', db, '--json', f]).json.at(-1)!.stored, { db, new: 0, duplicates: 2, incidents: 1 });
  });

  it('one boot whose estimated boot time falls on both sides of a minute is one incident', () => {
    const dir = tmpdir();
    const db = path.join(dir, 'k.db');
    const lines = [
      ...EXIT.map((f, i) => `Jan 29 10:17:09 h1 kernel: [ 1000.000000] ${i === 0 ? 'INFO: task java:1 blocked for more than 120 seconds.\nJan 29 10:17:09 h1 kernel: [ 1000.000000] Call Trace:\nJan 29 10:17:09 h1 kernel: [ 1000.000000] ' : ''} ${f}`),
      ...EXIT.map((f, i) => `Jan 29 10:19:11 h1 kernel: [ 1120.500000] ${i === 0 ? 'INFO: task cat:2 blocked for more than 120 seconds.\nJan 29 10:19:11 h1 kernel: [ 1120.500000] Call Trace:\nJan 29 10:19:11 h1 kernel: [ 1120.500000] ' : ''} ${f}`),
    ];
    cli(['--db', db, '--year', '2019', write(dir, 'bootjit.log', lines.join('\n') + '\n')]);
    assert.equal(count(db, 'SELECT count(*) AS n FROM reports'), 2);
    assert.equal(count(db, 'SELECT count(*) AS n FROM incidents'), 1);
  });
});

describe('store: queries', () => {
  it('work for a reader who may read the database but not write its directory', function () {
    if (process.getuid?.() !== 0) this.skip();
    const dir = tmpdir();
    fs.chmodSync(dir, 0o755);
    const db = path.join(dir, 'ro.db');
    cli(['--db', db, JAVA]);
    fs.chmodSync(db, 0o644);
    const nobody = 65534;
    const r = spawnSync(process.execPath, [BIN, 'history', '--db', db, '--json'], { encoding: 'utf8', uid: nobody, gid: nobody, env: { ...process.env, TZ: 'UTC' }, cwd: '/' });
    if (r.error || /EACCES|permission denied/i.test(r.stderr) && !/klogscan:/.test(r.stderr)) this.skip();
    assert.equal(r.status, 0, r.stderr);
    assert.equal(r.stdout.trim().split('\n').length, 1);
    for (const args of [['show', '1'], ['stats']]) {
      assert.equal(spawnSync(process.execPath, [BIN, ...args, '--db', db], { encoding: 'utf8', uid: nobody, gid: nobody, cwd: '/' }).status, 0);
    }
  });

  it('reject a --limit beyond safe integers, dates that do not exist, and say so on one line', () => {
    const db = path.join(tmpdir(), 'k.db');
    cli(['--db', db, JAVA]);
    const big = cli(['history', '--db', db, '--limit', '99999999999999999999']);
    assert.equal(big.status, 2);
    assert.match(big.stderr, /--limit takes a positive number/);
    const feb30 = cli(['history', '--db', db, '--since', '2019-02-30']);
    assert.equal(feb30.status, 2);
    assert.match(feb30.stderr, /--since takes a duration/);
    assert.equal(cli(['history', '--db', db, '--since', '2020-02-29']).status, 0, 'a leap day exists');
    const neg = cli(['history', '--db', db, '--limit', '-1']);
    assert.equal(neg.status, 2);
    assert.doesNotMatch(neg.stderr, /\\x0a/);
    assert.equal(neg.stderr.trim().split('\n').length, 1);
  });

  it('--fingerprint is a prefix, not a LIKE pattern; stats keep a kernel release with a comma whole', () => {
    const db = path.join(tmpdir(), 'k.db');
    cli(['--db', db, '--kernel', '3.10.0-693,custom.el7', JAVA]);
    assert.equal(cli(['history', '--db', db, '--json']).json.length, 1);
    assert.equal(cli(['history', '--db', db, '--json', '--fingerprint', '%']).json.length, 0);
    assert.equal(cli(['history', '--db', db, '--json', '--fingerprint', '_']).json.length, 0);
    const s = cli(['stats', '--db', db, '--json']).json;
    assert.deepEqual(s[0].kernels, ['3.10.0-693,custom.el7']);
  });
});

describe('store: second review', function () {
  this.timeout(60000);

  it('a more complete copy brings what the first lacked: kernel, state, blocker owner, and where it was read', () => {
    const dir = tmpdir();
    const full = sample('eras/6x-blocker-rwsem-dmesg-T.log').replace(/^\[\w{3} (\w{3}) (\d\d) (\d\d:\d\d:\d\d) 2025\]/gm, '$1 $2 $3 h1 kernel:');
    const db = path.join(dir, 'k.db');
    // First only the header line (a log filtered by priority), then the whole report.
    cli(['--db', db, '--year', '2025', write(dir, 'hdr.log', full.split('\n')[0] + '\n')]);
    cli(['--db', db, '--year', '2025', write(dir, 'full.log', full)]);
    const fresh = path.join(dir, 'fresh.db');
    cli(['--db', fresh, '--year', '2025', path.join(dir, 'full.log')]);
    // Its source and line are the copy's too, as its raw lines and JSON are (helper-56 #4).
    const cols = `SELECT kernel, state, tainted, owner_task, owner_pid, owner_lock, nframes, time, uptime, source_line,
      (SELECT name FROM sources s WHERE s.id = source_id) AS source, json_extract(json, '$.source.line') AS json_line FROM reports ORDER BY id`;
    const rows = (f: string): unknown[] => {
      const d = new Database(f, { readonly: true });
      try {
        return d.prepare(cols).all();
      } finally {
        d.close();
      }
    };
    assert.deepEqual(rows(db), rows(fresh));
    const owner = rows(db)[0] as { owner_task: string | null; kernel: string | null };
    assert.ok(owner.owner_task && owner.kernel, JSON.stringify(owner));
    // Either copy read again is the stored report.
    for (const f of ['hdr.log', 'full.log']) {
      const again = cli(['--db', db, '--year', '2025', '--json', path.join(dir, f)]).json.at(-1)!;
      assert.deepEqual(again.stored, { db, new: 0, duplicates: 1, incidents: 1 }, f);
    }
    assert.deepEqual(rows(db), rows(fresh));
  });

  it('a better copy read under another TZ keeps the stored instant: the zoned copy read later is still the same report (helper-61)', () => {
    const dir = tmpdir();
    const db = path.join(dir, 'k.db');
    const msgs = sample('seed/centos7-java-rwsem.messages').trimEnd().split('\n').map((l) => l.replace(/^.*?kernel: /, ''));
    const up = (i: number): string => `[ 5000.${String(123456 + i).padStart(6, '0')}] `;
    const at = Date.UTC(2019, 0, 29, 10, 41, 7, 500);
    // The journal's header alone (an instant), then the syslog copy with the whole trace read in
    // New York (its local time is 5 hours later as an instant), then an ISO copy with its zone.
    write(dir, 'j.json', msgs.slice(0, 2).map((m, i) => JSON.stringify({ __REALTIME_TIMESTAMP: String((at + i) * 1000), _HOSTNAME: 'app-prod-17',
      _TRANSPORT: 'kernel', _SOURCE_MONOTONIC_TIMESTAMP: String(5000123456 + i), MESSAGE: m })).join('\n') + '\n');
    write(dir, 's.log', msgs.map((m, i) => `Jan 29 10:41:07 app-prod-17 kernel: ${up(i)}${m}`).join('\n') + '\n');
    write(dir, 'iso.log', msgs.slice(0, 2).map((m, i) => `2019-01-29T10:41:07.500000+00:00 app-prod-17 kernel: ${up(i)}${m}`).join('\n') + '\n');
    cli(['--db', db, path.join(dir, 'j.json')]);
    const better = cli(['--db', db, '--year', '2019', '--json', path.join(dir, 's.log')], { env: { TZ: 'America/New_York' } }).json.at(-1)!;
    assert.deepEqual(better.stored, { db, new: 0, duplicates: 1, incidents: 1 });
    const iso = cli(['--db', db, '--json', path.join(dir, 'iso.log')]).json.at(-1)!;
    assert.deepEqual(iso.stored, { db, new: 0, duplicates: 1, incidents: 1 });
    const d = new Database(db, { readonly: true });
    try {
      const row = d.prepare('SELECT time, nframes, (SELECT name FROM sources s WHERE s.id = source_id) AS source FROM reports').get() as { time: number; nframes: number; source: string };
      assert.deepEqual([row.time, row.nframes, path.basename(row.source)], [at, 15, 's.log']);
    } finally {
      d.close();
    }
    // The other way round: a syslog header with a guessed year first, then the journal's whole copy:
    // the instant replaces the guess (helper-62).
    const db2 = path.join(dir, 'k2.db');
    write(dir, 'j2.json', msgs.map((m, i) => JSON.stringify({ __REALTIME_TIMESTAMP: String((at + i) * 1000), _HOSTNAME: 'app-prod-17',
      _TRANSPORT: 'kernel', _SOURCE_MONOTONIC_TIMESTAMP: String(5000123456 + i), MESSAGE: m })).join('\n') + '\n');
    write(dir, 'sh.log', msgs.slice(0, 2).map((m, i) => `Jan 29 10:41:07 app-prod-17 kernel: ${up(i)}${m}`).join('\n') + '\n');
    cli(['--db', db2, path.join(dir, 'sh.log')]);
    cli(['--db', db2, path.join(dir, 'j2.json')]);
    const d2 = new Database(db2, { readonly: true });
    try {
      assert.deepEqual(d2.prepare('SELECT count(*) AS n, min(time) AS time, min(year_guessed) AS yg FROM reports').get(), { n: 1, time: at, yg: 0 });
    } finally {
      d2.close();
    }
  });

  it('re-scanning a file stored by an older schema under the name as typed adds nothing', () => {
    const dir = tmpdir();
    const db = path.join(dir, 'k.db');
    write(dir, 'nohost.log', sample('formats/seed-java.dmesg.log'));
    cli(['--db', db, 'nohost.log'], { cwd: dir });
    // Schema 1 kept the path as it was typed.
    const d = new Database(db);
    d.prepare("UPDATE sources SET name = 'nohost.log' WHERE name LIKE '%nohost.log'").run();
    d.close();
    const again = cli(['--db', db, '--json', 'nohost.log'], { cwd: dir });
    assert.deepEqual(again.json.at(-1)!.stored, { db, new: 0, duplicates: 1, incidents: 1 });
  });

  it('a FIFO or <(cmd) is a stream: other machines apart, the same machine read again adds nothing', async () => {
    const dir = tmpdir();
    const db = path.join(dir, 'k.db');
    const text = sample('formats/seed-java.dmesg.log');
    const up = /^\[\s*(\d+)\.\d+\]/m.exec(text)![1];
    const fifo = path.join(dir, 'p');
    spawnSync('mkfifo', [fifo]);
    const viaFifo = async (input: string): Promise<Record<string, unknown>> => {
      const child = spawn(process.execPath, [BIN, '--db', db, '--json', fifo], { env: { ...process.env, NO_COLOR: '1' } });
      let out = '';
      child.stdout.on('data', (b: Buffer) => { out += b.toString(); });
      fs.writeFileSync(fifo, input);
      await new Promise((r) => child.on('exit', r));
      return JSON.parse(out.trim().split('\n').at(-1)!) as Record<string, unknown>;
    };
    assert.equal(((await viaFifo(text)).stored as { new: number }).new, 1);
    // Another machine, the same kernel thread pid, a minute later: a report of its own.
    assert.equal(((await viaFifo(text.replaceAll(`${up}.`, `${Number(up) + 60}.`))).stored as { new: number }).new, 1);
    assert.equal(count(db, 'SELECT count(*) AS n FROM incidents'), 2);
    // The first machine again, through <(cmd): nothing new.
    const bash = spawnSync('bash', ['-c', `"${process.execPath}" "${BIN}" --db "${db}" --json <(cat "${write(dir, 'a.log', text)}")`], { encoding: 'utf8' });
    assert.deepEqual((JSON.parse(bash.stdout.trim().split('\n').at(-1)!) as { stored: unknown }).stored, { db, new: 0, duplicates: 1, incidents: 1 });
  });

  it('a stream that repeats an earlier run joins that run\'s incident with its new reports', () => {
    const dir = tmpdir();
    const db = path.join(dir, 'k.db');
    const first = sample('formats/seed-java.dmesg.log');
    const up = Number(/^\[\s*(\d+)\.\d+\]/m.exec(first)![1]);
    // Later, the same ring buffer holds the old report and the same task again at 240 s.
    const later = first + first.replaceAll(`${up}.`, `${up + 120}.`).replace('more than 120 seconds', 'more than 240 seconds');
    cli(['--db', db], { input: first });
    const r = cli(['--db', db, '--json'], { input: later });
    assert.deepEqual(r.json.at(-1)!.stored, { db, new: 1, duplicates: 1, incidents: 1 });
    assert.equal(count(db, 'SELECT count(*) AS n FROM incidents'), 1);
    // Wall times alone (dmesg -T) prove nothing: two identical machines' kernel thread reported in
    // the same second stays two reports.
    const t = sample('formats/seed-java.dmesg-T.log');
    const db2 = path.join(dir, 't.db');
    cli(['--db', db2], { input: t });
    assert.equal((cli(['--db', db2, '--json'], { input: t }).json.at(-1)!.stored as { new: number }).new, 1);
  });

  it('follow mode stopped while another writer still holds the database says what is not stored, exit 2', async () => {
    const dir = tmpdir();
    const db = path.join(dir, 'k.db');
    cli(['--db', db, JAVA]);
    const log = write(dir, 'messages', '');
    const holder = new Database(db);
    holder.exec('BEGIN IMMEDIATE');
    const child = spawn(process.execPath, [BIN, '-f', '--json', '--db', db, log], { env: { ...process.env, NO_COLOR: '1' } });
    let stderr = '';
    child.stderr.on('data', (d: Buffer) => { stderr += d.toString(); });
    const exited = new Promise<number | null>((r) => child.on('exit', (c) => r(c)));
    try {
      await sleep(800);
      await holdsOpen(child, [log]);
      fs.appendFileSync(log, sample('seed/centos7-java-rwsem.messages').replace(/181134/g, '5'));
      await sleep(1500);
      const t0 = Date.now();
      child.kill('SIGTERM');
      assert.equal(await exited, 2);
      assert.ok(Date.now() - t0 < 14000);
    } finally {
      holder.exec('ROLLBACK');
      holder.close();
    }
    assert.match(stderr, /is locked by another process: keeping what is read in memory/);
    assert.match(stderr, /stayed locked by another process: what was read since the last stored position is not stored \(no position was ever stored: restart with -f --from-start/);
  });

  it('issue 4 as an operator runs it: a syslog file of any age and the same report from the journal are one', () => {
    // No --year: the syslog copy is dated by the file's modification time (today), the journal
    // copy carries the real year (2019).
    for (const order of [['syslog', 'journal'], ['journal', 'syslog']]) {
      const dir = tmpdir();
      const db = path.join(dir, 'k.db');
      const files = {
        syslog: [write(dir, 'messages', sample('seed/centos7-java-rwsem.messages')), write(dir, 'ps.dmesg', sample('seed/alios7-ps-cmdline.dmesg'))],
        journal: [path.join(ROOT, 'samples/formats/seed-java.journal-json.log')],
      };
      for (const which of order) for (let i = 0; i < 2; i++) assert.equal(cli(['--db', db, ...files[which as 'syslog' | 'journal']]).status, 0);
      assert.equal(count(db, 'SELECT count(*) AS n FROM reports'), 2, order.join(' then '));
    }
  });

  it('host-less files do not lend each other boot banners, evidence or a probable fix', () => {
    const dir = tmpdir();
    const banner = write(dir, 'banner.log', '[    0.000000] Linux version 3.10.0-862.el7.x86_64 (mockbuild@x) (gcc 4.8.5) #1 SMP\n');
    const nfs = write(dir, 'nfs.log', '[  100.000000] nfs: server filer1 not responding, still trying\n');
    const bare = path.join(ROOT, 'samples/formats/seed-java.dmesg.log');
    const one = cli(['--no-db', '--json', banner, nfs, bare]).json[0];
    assert.equal(one.kernel, null, 'another file\'s boot banner is no kernel of this one');
    assert.deepEqual(one.context ?? [], []);
    // Two machines piped one after another: the later kernel of the other one is no fix.
    const db = path.join(dir, 'k.db');
    const dmesgT = (day: string, release: string, task: string): string => sample('formats/seed-java.dmesg-T.log')
      .replace(/Jan 29/g, day).replace('java:181134', task).replace(/Not tainted|Tainted:.*$/m, `Tainted: G OE ${release} #1`);
    cli(['--db', db], { input: dmesgT('Jan 29', '3.10.0-862.14.4.el7.x86_64', 'java:181134') });
    cli(['--db', db], { input: dmesgT('Mar 29', '3.10.0-1160.el7.x86_64', 'kworker/0:1:77') });
    const stats = cli(['stats', '--db', db, '--json']).json;
    assert.ok(stats.length >= 1);
    for (const row of stats) assert.equal(row.probable_fix ?? null, null, JSON.stringify(row));
  });

  it('a database of schema 3 is upgraded: each distinct trace is stored once, and show and the frames view give what they gave', () => {
    const dir = tmpdir();
    const db = path.join(dir, 'k.db');
    // A blocked task with its mutex owner's trace, and 6 reports in two traces (java and ps, 3 each).
    assert.equal(cli(['--db', db, path.join(ROOT, 'samples/eras/6x-blocker-mutex-owner-trace-no-timestamps.log')]).status, 0);
    assert.equal(cli(['--db', db, write(dir, 'victims.log', victims(3))]).status, 0);
    const shown = (): unknown[] => cli(['history', '--db', db, '--json']).json.map((i) => cli(['show', '--db', db, '--json', String(i.id)]).json);
    const frameRows = 'SELECT * FROM frames ORDER BY report_id, stack, idx';
    const rows = (): unknown[] => {
      const d = new Database(db, { readonly: true });
      try {
        return d.prepare(frameRows).all();
      } finally {
        d.close();
      }
    };
    const before = { shown: shown(), rows: rows() };
    assert.ok(before.rows.some((x) => (x as { stack: string }).stack === 'owner'), 'the owner trace is among the frames');
    toSchema3(db);
    assert.equal(count(db, "SELECT count(*) AS n FROM sqlite_master WHERE name = 'frames' AND type = 'table'"), 1);
    const upgrade = cli(['--db', db, '-'], { input: '' });
    assert.equal(upgrade.status, 0, upgrade.stderr);
    assert.equal(count(db, 'SELECT user_version AS n FROM pragma_user_version'), SCHEMA_VERSION);
    assert.deepEqual(rows(), before.rows);
    assert.deepEqual(shown(), before.shown);
    // The owner's trace, the blocked task's, java's and ps's: 4 traces for 8 reports.
    assert.equal(count(db, 'SELECT count(*) AS n FROM reports'), 8);
    assert.equal(count(db, 'SELECT count(*) AS n FROM traces'), 4);
    assert.equal(count(db, 'SELECT count(*) AS n FROM trace_frames'), count(db, 'SELECT sum(nframes) AS n FROM traces'));
  });

  it('the upgrade to schema 5 retitles a stored report whose frames name no caller, and its incident', () => {
    const dir = tmpdir();
    const db = path.join(dir, 'k.db');
    const cut = 'INFO: task TaskSchedulerFo:28445 blocked for more than 120 seconds.\nCall Trace:\n __schedule+0x2c4/0x5b0\n schedule+0x50/0xa8\n';
    assert.equal(cli(['--db', db, write(dir, 'cut.log', cut)]).status, 0);
    const fresh = cli(['history', '--db', db, '--json']).json[0];
    assert.equal(fresh.signature, 'hung task of TaskSchedulerFo (trace names no caller)');
    // What klogscan of schema 4 and before stored for it.
    const d = new Database(db);
    d.exec(`PRAGMA user_version = 4; UPDATE reports SET signature = 'hung task of TaskSchedulerFo (no call trace)', fingerprint = '0b9e3b7e95f6cc92',
        json = json_set(json, '$.signature', 'hung task of TaskSchedulerFo (no call trace)', '$.fingerprint', '0b9e3b7e95f6cc92');
      UPDATE incidents SET signature = 'hung task of TaskSchedulerFo (no call trace)', fingerprint = '0b9e3b7e95f6cc92';`);
    d.close();
    assert.equal(cli(['--db', db, '-'], { input: '' }).status, 0);
    const after = cli(['history', '--db', db, '--json']).json[0];
    assert.equal(after.signature, fresh.signature);
    assert.equal(after.fingerprint, fresh.fingerprint);
    const shown = cli(['show', '--db', db, '--json', String(after.id)]).json[1];
    assert.equal(shown.signature, fresh.signature);
    assert.equal(shown.fingerprint, fresh.fingerprint);
  });

  it('the upgrade to schema 7 names a stored wait for writeback anew, with its fingerprint and incident', () => {
    const dir = tmpdir();
    const db = path.join(dir, 'k.db');
    assert.equal(cli(['--db', db, 'samples/stress/98-5.4-kswapd-page-writeback-dmesg-two-reports.log']).status, 0);
    const fresh = cli(['history', '--db', db, '--json']).json.find((i) => String(i.signature).includes('shrink_page_list'))!;
    assert.equal(fresh.signature, 'hung task in shrink_page_list (page writeback)');
    // What klogscan of schema 6 and before stored for it.
    const old = 'hung task in shrink_page_list (page lock)';
    const d = new Database(db);
    d.prepare(`UPDATE reports SET signature = ?, fingerprint = '511cdfbd121e793e', wait = 'page lock',
        json = json_set(json, '$.signature', ?, '$.fingerprint', '511cdfbd121e793e', '$.wait', 'page lock') WHERE culprit = 'shrink_page_list'`).run(old, old);
    d.prepare("UPDATE incidents SET signature = ?, fingerprint = '511cdfbd121e793e' WHERE signature = ?").run(old, fresh.signature);
    d.exec('PRAGMA user_version = 6');
    d.close();
    assert.equal(cli(['--db', db, '-'], { input: '' }).status, 0);
    const after = cli(['history', '--db', db, '--json']).json.find((i) => i.id === fresh.id)!;
    assert.deepEqual([after.signature, after.fingerprint], [fresh.signature, fresh.fingerprint]);
    const shown = cli(['show', '--db', db, '--json', String(fresh.id)]).json.find((o) => o.type === 'report' && o.culprit === 'shrink_page_list')!;
    assert.deepEqual([shown.signature, shown.fingerprint, shown.wait], [fresh.signature, fresh.fingerprint, 'page writeback']);
  });

  it('a report an older klogscan named otherwise takes today\'s identity when its log is scanned again', () => {
    const dir = tmpdir();
    const db = path.join(dir, 'k.db');
    const file = 'samples/stress/97-3.x-sysrq-w-all-question-frames-edge-words-dmesg-c.log';
    assert.equal(cli(['--db', db, file]).status, 0);
    const fresh = cli(['history', '--db', db, '--json']).json[0];
    // What klogscan before schema 7 stored: the stale `? lru_deactivate_fn+0x16b/0x16b` as its culprit.
    const old = 'blocked task in lru_deactivate_fn (page lock)';
    const d = new Database(db);
    d.prepare(`UPDATE reports SET signature = ?, fingerprint = '04ac274960d0ace6', culprit = 'lru_deactivate_fn',
      json = json_set(json, '$.signature', ?, '$.fingerprint', '04ac274960d0ace6')`).run(old, old);
    d.prepare("UPDATE incidents SET signature = ?, fingerprint = '04ac274960d0ace6'").run(old);
    d.close();
    const again = cli(['--db', db, file]);
    assert.match(again.stdout, /stored: 0 new reports, 1 already known/);
    const after = cli(['history', '--db', db, '--json']).json[0];
    assert.deepEqual([after.signature, after.fingerprint], [fresh.signature, fresh.fingerprint]);
    assert.equal(count(db, "SELECT count(*) AS n FROM reports WHERE culprit = 'generic_file_aio_read'"), 1);
  });

  it('two copies of one report that are named apart today keep the first copy\'s name, whatever the order of later scans', () => {
    const dir = tmpdir();
    const db = path.join(dir, 'k.db');
    // The journal copy of the seed, its culprit frame marked `?`: as complete, and named otherwise.
    const marked = write(dir, 'j.log', fs.readFileSync(path.join(ROOT, 'samples/formats/seed-java.journal-short-iso.log'), 'utf8').replace(/\] do_exit/, '] ? do_exit'));
    const fps: string[] = [];
    for (const f of ['samples/seed/centos7-java-rwsem.messages', marked, 'samples/seed/centos7-java-rwsem.messages', marked]) {
      assert.equal(cli(['--db', db, '--year', '2019', f]).status, 0);
      fps.push(String(cli(['history', '--db', db, '--json']).json[0].fingerprint));
    }
    assert.equal(count(db, 'SELECT count(*) AS n FROM reports'), 1);
    assert.deepEqual(new Set(fps).size, 1);
  });

  it('a report stored before wall clocks were kept gets one when found again, and a rescan under another TZ finds it', () => {
    const dir = tmpdir();
    const db = path.join(dir, 'k.db');
    const file = 'samples/seed/centos7-java-rwsem.messages';
    assert.equal(cli(['--db', db, '--year', '2019', file], { env: { TZ: 'UTC' } }).status, 0);
    const d = new Database(db);
    d.exec('UPDATE reports SET wall = NULL');
    d.close();
    assert.equal(cli(['--db', db, '--year', '2019', file], { env: { TZ: 'UTC' } }).status, 0);
    assert.equal(cli(['--db', db, '--year', '2019', file], { env: { TZ: 'America/New_York' } }).status, 0);
    assert.equal(count(db, 'SELECT count(*) AS n FROM reports'), 1);
  });

  it('a trace printed again is stored once; a report of it reads its frames back', () => {
    const dir = tmpdir();
    const db = path.join(dir, 'k.db');
    assert.equal(cli(['--db', db, write(dir, 'a.log', victims(2))]).status, 0);
    assert.equal(count(db, 'SELECT count(*) AS n FROM traces'), 2);
    // Another run (a new cache) finds the stored traces instead of adding them again.
    const later = victims(2).replace(/Jan {2}1/g, 'Jan  2').replace(/:10(\d\d) blocked/g, ':20$1 blocked');
    assert.equal(cli(['--db', db, write(dir, 'b.log', later)]).status, 0);
    assert.equal(count(db, 'SELECT count(*) AS n FROM reports'), 8);
    assert.equal(count(db, 'SELECT count(*) AS n FROM traces'), 2);
    assert.equal(count(db, 'SELECT count(*) AS n FROM trace_frames'), EXIT.length + CMDLINE.length);
    assert.equal(count(db, "SELECT count(*) AS n FROM frames WHERE stack = 'task'"), 4 * EXIT.length + 4 * CMDLINE.length);
    const last = cli(['history', '--db', db, '--json']).json[0];
    const shown = cli(['show', '--db', db, '--json', String(last.id)]).json.slice(1) as { task: string; frames: { fn: string }[] }[];
    assert.equal(shown.length, 4);
    for (const r of shown) assert.deepEqual(r.frames.map((f) => f.fn), (r.task === 'ps' ? CMDLINE : EXIT).map((f) => f.split('+')[0]));
  });

  it('traces that differ only in a mark, a module, a size or a context are stored apart in one run', () => {
    const dir = tmpdir();
    const db = path.join(dir, 'k.db');
    const at = (mmss: string, text: string): string => `Jan  1 10:${mmss} h1 kernel: ${text}`;
    const report = (mmss: string, task: string, pid: number, frames: string[]): string[] => [
      at(mmss, `INFO: task ${task}:${pid} blocked for more than 120 seconds.`), at(mmss, 'Call Trace:'), ...frames.map((f) => at(mmss, ` ${f}`))];
    const base = ['schedule+0x29/0x70', 'io_schedule+0x16/0x40', 'wait_on_page_bit+0x81/0xa0', 'vfs_read+0x9c/0x170'];
    const variants = [
      base,
      base.map((f, i) => (i === 1 ? `? ${f}` : f)),
      base.map((f, i) => (i === 2 ? `${f} [ext4]` : f)),
      base.map((f, i) => (i === 2 ? f.replace('0xa0', '0xb0') : f)),
      ['<IRQ>', ...base.slice(0, 2), '</IRQ>', ...base.slice(2)],
      base,
    ];
    const lines = variants.flatMap((v, k) => report(`0${k}:00`, `t${k}`, 100 + k, v));
    assert.equal(cli(['--db', db, '--year', '2019', write(dir, 'a.log', lines.join('\n') + '\n')]).status, 0);
    assert.equal(count(db, 'SELECT count(*) AS n FROM reports'), 6);
    assert.equal(count(db, 'SELECT count(*) AS n FROM traces'), 5, 'the first and the last trace are one');
    const d = new Database(db, { readonly: true });
    const stored = d.prepare(`SELECT r.task, (SELECT json_group_array(json_array(f.fn, f.unreliable, f.module, f.size, f.context))
        FROM (SELECT * FROM frames WHERE report_id = r.id AND stack = 'task' ORDER BY idx) f) AS frames
      FROM reports r ORDER BY r.id`).all() as { task: string; frames: string }[];
    d.close();
    const scanned = cli(['--no-db', '--json', '--year', '2019', path.join(dir, 'a.log')]).json.filter((o) => o.type === 'report') as
      { task: string; frames: { fn: string; unreliable: boolean; module: string | null; size: string | null; context: string }[] }[];
    assert.deepEqual(stored.map((r) => [r.task, JSON.parse(r.frames) as unknown[]]),
      scanned.map((r) => [r.task, r.frames.map((f) => [f.fn, f.unreliable ? 1 : 0, f.module, f.size, f.context])]));
  });

  it('a database of schema 2 is upgraded (the year column came in a migration of its own)', () => {
    const dir = tmpdir();
    const db = path.join(dir, 'k.db');
    cli(['--db', db, JAVA]);
    toSchema3(db);
    const d = new Database(db);
    d.exec('ALTER TABLE reports DROP COLUMN year_guessed; PRAGMA user_version = 2;');
    d.close();
    const r = cli(['--db', db, '--json', path.join(ROOT, 'samples/formats/seed-java.dmesg.log')]);
    assert.equal(r.status, 0, r.stderr);
    assert.equal((r.json.at(-1)!.stored as { new: number }).new, 1);
  });

  it('history: --kind is checked, a fingerprint in capitals is found; --print-cursor needs the database', () => {
    const dir = tmpdir();
    const db = path.join(dir, 'k.db');
    const fp = cli(['--db', db, '--json', JAVA]).json[0].fingerprint as string;
    const bad = cli(['history', '--db', db, '--kind', 'bogus']);
    assert.equal(bad.status, 2);
    assert.match(bad.stderr, /--kind takes one of hung_task, blocked_state, soft_lockup, /);
    assert.equal(cli(['history', '--db', db, '--json', '--fingerprint', fp.slice(0, 6).toUpperCase()]).json.length, 1);
    const pc = cli(['--print-cursor', '--no-db']);
    assert.equal(pc.status, 2);
    assert.match(pc.stderr, /cannot be used with --no-db/);
    // A database without a cursor (files were scanned, no journal stream): exit 1, said on stderr only.
    const none = cli(['--print-cursor', '--db', db]);
    assert.deepEqual([none.status, none.stdout], [1, '']);
    assert.match(none.stderr, /no journal cursor stored yet/);
  });

  it('journal JSON on stdin stopped inside a report keeps the cursor before it, so a restart reads it whole', async () => {
    const dir = tmpdir();
    const db = path.join(dir, 'k.db');
    const journal = sample('formats/seed-java.journal-json.log').trim().split('\n');
    const child = spawn(process.execPath, [BIN, '--db', db, '--json'], { env: { ...process.env, NO_COLOR: '1' }, stdio: ['pipe', 'ignore', 'pipe'] });
    const exited = new Promise((r) => child.on('exit', r));
    child.stdin.write(journal.slice(0, 1).map((l) => l.replace(/INFO: task java:181134 blocked for more than 120 seconds\./, 'e1000e: eth0 NIC Link is Up')).join('\n') + '\n');
    await sleep(1200); // idle: the cursor of that line is stored
    child.stdin.write(journal.slice(0, 8).join('\n') + '\n');
    await sleep(200);
    child.kill('SIGTERM');
    await exited;
    const cursor = cli(['--print-cursor', '--db', db]).stdout.trim();
    assert.equal(cursor, (JSON.parse(journal[0]) as { __CURSOR: string }).__CURSOR, 'the cursor before the report, not inside it');
    // The restart (journalctl --after-cursor) gives the report again, whole: the better copy wins.
    cli(['--db', db], { input: journal.join('\n') + '\n' });
    assert.equal(count(db, 'SELECT nframes AS n FROM reports'), 15);
  });

  it('a query as root before any scan creates no /var/lib/klogscan and says there is no database yet', function () {
    if (process.getuid?.() !== 0 || fs.existsSync('/var/lib/klogscan')) this.skip();
    for (const args of [['history'], ['stats'], ['--print-cursor']]) {
      const r = cli(args, { env: { KLOGSCAN_DB: '' } });
      assert.equal(r.status, 2);
      assert.equal(r.stderr, 'klogscan: no database at /var/lib/klogscan/klogscan.db yet: scan some logs first (klogscan FILE), or pass --db\n');
      assert.equal(fs.existsSync('/var/lib/klogscan'), false, args.join(' '));
    }
  });
  it('a guessed year: --year is no guess, midnight and a daylight saving change do not split a report', () => {
    const dir = tmpdir();
    const java = sample('seed/centos7-java-rwsem.messages');
    const journal = sample('formats/seed-java.journal-json.log');
    const db = path.join(dir, 'y.db');
    cli(['--db', db, '--year', '2024', write(dir, 'm2024', java)]);
    assert.equal((cli(['--db', db, '--json', '--year', '2025', write(dir, 'm2025', java)]).json.at(-1)!.stored as { new: number }).new, 1, 'two years given, two reports');
    const pair = (name: string, tz: string, syslogStamp: string, realtimeUs: string): Record<string, unknown> => {
      const pdb = path.join(dir, `${name}.db`);
      const env = { TZ: tz };
      cli(['--db', pdb], { env, input: journal.replace(/"__REALTIME_TIMESTAMP":"\d+"/g, `"__REALTIME_TIMESTAMP":"${realtimeUs}"`) });
      const file = write(dir, `${name}.messages`, java.replace(/^Jan 29 10:41:0\d/gm, syslogStamp));
      return cli(['--db', pdb, '--json', file], { env }).json.at(-1)!.stored as Record<string, unknown>;
    };
    // 2019-01-30 00:00:00.3 UTC in the journal, Jan 29 23:59:59 in syslog (year guessed).
    assert.equal(pair('midnight', 'UTC', 'Jan 29 23:59:59', '1548806400300000').new, 0);
    // 2019-03-09 12:00 EST in the journal; the guessed year has daylight saving on Mar 9.
    assert.equal(pair('dst', 'America/New_York', 'Mar  9 12:00:00', '1552150800000000').new, 0);
  });

  it('the same task at the same uptime two boots apart, or at the same time with another uptime, is two reports', () => {
    const dir = tmpdir();
    const db = path.join(dir, 'b.db');
    // The seed report with a printk time inside each syslog line, on host app-prod-17.
    const boot = (day: string, uptime: string): string => sample('formats/seed-java.syslog-bsd-nohost-printk.log')
      .replace(/^Jan 29 10:41:07 kernel: \[ *6141\.(\d+)\]/gm, `${day} 10:41:07 app-prod-17 kernel: [${uptime}.$1]`);
    const stored = (text: string, name: string): number => (cli(['--db', db, '--json', '--year', '2019', write(dir, name, text)]).json.at(-1)!.stored as { new: number }).new;
    assert.equal(stored(boot('Jan 29', ' 6141'), 'a'), 1);
    assert.equal(stored(boot('Jan 29', ' 6141'), 'a-again'), 0, 'the same report again');
    assert.equal(stored(boot('Jan 31', ' 6150'), 'b'), 1, 'two days later at about the same uptime: another boot');
    assert.equal(stored(boot('Jan 29', '95141'), 'c'), 1, 'the same minute, 89000 s more uptime: another boot');
    // The same record (its uptime to the microsecond) in a syslog whose clock was three minutes off.
    assert.equal(stored(boot('Jan 29', ' 6141').replace(/10:41:07/g, '10:44:12'), 'skewed'), 0);
    // A jiffies clock (10 ms steps) can put one kernel thread's hang at the same step in two boots.
    const jiffies = (day: string): string => boot(day, ' 6141').replace(/\[ 6141\.\d+\]/g, '[  240.010000]');
    assert.equal(stored(jiffies('Feb  1'), 'j1'), 1);
    assert.equal(stored(jiffies('Feb 14'), 'j2'), 1, 'the same 10 ms step, another boot');
  });

  it('a guessed year matches an hour off only on the days where daylight saving moves between years', () => {
    const dir = tmpdir();
    const env = { TZ: 'America/New_York' };
    const messages = write(dir, 'm', sample('seed/centos7-java-rwsem.messages'));
    // The journal of the same machine, 2019-01-29 an hour before and after 10:41:07 local (EST).
    const journal = sample('formats/seed-java.journal-json.log');
    for (const us of ['1548772867000000', '1548780067000000']) {
      const db = path.join(dir, `h${us}.db`);
      cli(['--db', db, messages], { env });
      const r = cli(['--db', db, '--json'], { env, input: journal.replace(/"__REALTIME_TIMESTAMP":"\d+"/g, `"__REALTIME_TIMESTAMP":"${us}"`) });
      assert.equal((r.json.at(-1)!.stored as { new: number }).new, 1, us);
    }
  });

  it('on the day daylight saving starts, an earlier report of that day does not decide for a later one', () => {
    const dir = tmpdir();
    const db = path.join(dir, 'd.db');
    const env = { TZ: 'America/New_York' };
    // Mar 8 12:00 with the year guessed as 2020 (daylight saving began that morning) ...
    const messages = write(dir, 'messages', sample('seed/centos7-java-rwsem.messages').replace(/^Jan 29 10:41:07/gm, 'Mar  8 12:00:00'));
    fs.utimesSync(messages, new Date('2020-06-01T00:00:00Z'), new Date('2020-06-01T00:00:00Z'));
    assert.equal((cli(['--db', db, '--json', messages], { env }).json.at(-1)!.stored as { new: number }).new, 1);
    // ... and the journal of 2021, where Mar 8 12:00 is still standard time: another task at 03:00 UTC, then java.
    const journal = sample('formats/seed-java.journal-json.log');
    const at = (us: string, text: string): string => text.replace(/"__REALTIME_TIMESTAMP":"\d+"/g, `"__REALTIME_TIMESTAMP":"${us}"`);
    const input = at('1615172400000000', journal.replace('java:181134', 'java:999').replace(' 181134 ', ' 999 '))
      + at('1615222800000000', journal.replace(/_SOURCE_MONOTONIC_TIMESTAMP":"6/g, '_SOURCE_MONOTONIC_TIMESTAMP":"7'));
    const stored = cli(['--db', db, '--json'], { env, input }).json.at(-1)!.stored as { new: number; duplicates: number };
    assert.deepEqual([stored.new, stored.duplicates], [1, 1]);
  });

  it('a report read again from a stream is the same only at the same microsecond of uptime', () => {
    const dir = tmpdir();
    const db = path.join(dir, 's.db');
    const dmesg = sample('formats/seed-java.dmesg.log');
    const run = (text: string): number => (cli(['--db', db, '--json', '-'], { input: text }).json.at(-1)!.stored as { new: number }).new;
    assert.equal(run(dmesg), 1);
    assert.equal(run(dmesg.replace('[ 6141.921740]', '[ 6141.922040]')), 1, '300 µs later: another record');
    assert.equal(run(dmesg), 0);
  });

  it('a line held back when a report ends counts for its own host-less input, not the next one', () => {
    const dir = tmpdir();
    const a = write(dir, 'hA.dmesg', HA);
    const b = write(dir, 'hB.dmesg', HB);
    const alone = cli(['--no-db', '--json', b]).json[0];
    const after = cli(['--no-db', '--json', a, b]).json.find((o) => o.source && (o.source as { name: string }).name === b)!;
    assert.deepEqual(after.context ?? [], alone.context ?? []);
    assert.deepEqual(after.matches, alone.matches);
  });
});

/** Host-less dmesg of one machine: a report cut short mid-trace, then an NFS line (held when the report ends). */
const HA = "[  300.000000] INFO: task dd:111 blocked for more than 120 seconds.\n[  300.000020] \"echo 0 > /proc/sys/kernel/hung_task_timeout_secs\" disables this message.\n[  300.000030] task:dd              state:D stack:    0 pid:  111 ppid:  100 flags:0x00004000\n[  300.000040] Call Trace:\n[  300.000060]  __schedule+0x2cd/0x890\n[  300.000070]  schedule+0x4e/0xb0\n[  300.000080]  io_schedule+0x16/0x40\n[  300.000090] nfs: server filerA not responding, still trying\n";
/** Host-less dmesg of another machine: a report in page writeback, no NFS line. */
const HB = "[  300.000000] INFO: task cp:4242 blocked for more than 120 seconds.\n[  300.000020] \"echo 0 > /proc/sys/kernel/hung_task_timeout_secs\" disables this message.\n[  300.000030] task:cp              state:D stack:    0 pid: 4242 ppid:  4000 flags:0x00004000\n[  300.000040] Call Trace:\n[  300.000050]  <TASK>\n[  300.000060]  __schedule+0x2cd/0x890\n[  300.000070]  schedule+0x4e/0xb0\n[  300.000080]  io_schedule+0x16/0x40\n[  300.000090]  folio_wait_bit_common+0x14a/0x360\n[  300.000100]  folio_wait_writeback+0x28/0x80\n[  300.000110]  __filemap_fdatawait_range+0x8d/0xf0\n[  300.000120]  filemap_write_and_wait_range+0x85/0xf0\n[  300.000130]  do_syscall_64+0x59/0xc0\n[  300.000140]  entry_SYSCALL_64_after_hwframe+0x61/0xcb\n[  300.000150]  </TASK>\n";
