// `klogscan ps` (issue 7): the process list that never hangs, over a fake /proc of the seed
// incident in which every cmdline, environ and maps is a FIFO (a reader blocks like on a wedged
// mm), and over this machine's real /proc.
import assert from 'node:assert/strict';
import { execFileSync, spawn, spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { readBounded } from '../src/proc/bounded.js';
import {
  fdCandidates, offCpuSeconds, parseCmdline, parseExecStart, parseMmTarget, parseStack, parseStat, parseSyscall, parseUptime,
} from '../src/proc/parse.js';
import { readSafe } from '../src/proc/read.js';
import { buildFakeProc, catStack, RELEASE, seedTasks, type FakeTask } from './fixtures/fake-proc.js';
import { BIN, cli, tmpdir, type CliResult } from './helpers.js';

type Json = Record<string, unknown>;
interface TaskJson extends Json {
  pid: number;
  tid: number;
  comm: string;
  state: string;
  frames: { fn: string }[];
  matches: { rule: string; verdict: string; role: string }[];
  waits_for: { pid: number | null; how: string } | null;
  cmdline: string[] | null;
  cmdline_timed_out: boolean;
  cmdline_status: string;
}

/** Runs the CLI and measures the wall time of the child process. A hang fails after 10 s, not at mocha's timeout. */
/**
 * A stuck /proc read the command waited for would take it to the CLI's 10 s time-out; its own
 * bounds (1 s a phase, 0.3 s a stalled read) end it well before this. Not a speed test: the
 * margin is for a loaded machine.
 */
const HANG_MS = 6000;

function timed(args: string[], env?: Record<string, string>): CliResult & { ms: number } {
  const t0 = process.hrtime.bigint();
  const r = cli(args, { timeout: 10000, env });
  return { ...r, ms: Number(process.hrtime.bigint() - t0) / 1e6 };
}

const tasksOf = (r: CliResult): TaskJson[] => r.json.filter((o) => o.type === 'task') as TaskJson[];
const summaryOf = (r: CliResult): Json => r.json.find((o) => o.type === 'summary')!;
const byComm = (r: CliResult, comm: string): TaskJson => tasksOf(r).find((t) => t.comm === comm)!;

describe('ps: /proc parsers', () => {
  it('takes the name between the first ( and the last ), whatever it contains', () => {
    const s = parseStat('4242 (a) R (b c) S 1 4242 4242 0 -1 4194560 3997 50351 1 20 0 2 26 8 20 0 3 0 301138 5124096 1017\n');
    assert.deepEqual(s, { pid: 4242, comm: 'a) R (b c', state: 'S', ppid: 1, flags: 4194560, numThreads: 3 });
    assert.equal(parseStat('77 (kworker/u8:1-events_unbound) I 2 0 0 0 -1 69238880 0 0 0 0 0 0 0 0 20 0 1 0 5')?.comm, 'kworker/u8:1-events_unbound');
    assert.equal(parseStat('12 ((sd-pam)) S 11 11 11 0 -1 1077936448')?.comm, '(sd-pam)');
    assert.equal(parseStat('13 () D 1 13 13')?.comm, '');
    assert.equal(parseStat('garbage'), null);
    assert.equal(parseStat('14 (x) 1 2 3'), null, 'no state letter');
  });

  it('reads se.exec_start of a sched file and sets it against the clock', () => {
    const text = 'bash (30949, #threads: 1)\n----\nse.exec_start                                :       3025993.909469\nse.vruntime                                  :           197.693751\n';
    assert.equal(parseExecStart(text), 3025993.909469);
    assert.equal(parseExecStart('se.vruntime : 1.0\n'), null);
    assert.equal(offCpuSeconds(3025993.909469, 4025993.909469), 1000, 'both in ms');
    assert.equal(offCpuSeconds(3025993.9, 3025993.0), 0, 'another CPU\'s clock may lag a little');
    assert.equal(offCpuSeconds(null, 5), null);
    assert.equal(parseUptime('3025.13 5162.00\n'), 3025.13);
  });

  it('reads the syscall line and finds the fd a blocked reader reads from', () => {
    const read = parseSyscall('0 0x3 0x7f1c2a5e4000 0x20000 0x0 0x0 0x0 0x7ffd43c1b2a8 0x7f1c2a0f1b10\n');
    assert.deepEqual(read, { nr: 0, args: ['0x3', '0x7f1c2a5e4000', '0x20000', '0x0', '0x0', '0x0'] });
    assert.deepEqual(fdCandidates(read), [3], 'the buffer pointer is no fd');
    assert.deepEqual(fdCandidates(parseSyscall('40 0x1 0x5 0x0 0x10000 0x0 0x0 0x7ffd 0x7f1c')), [1, 5], 'sendfile reads its second argument');
    assert.deepEqual(parseSyscall('-1 0x7f3a3d7fbc00 0x7f3a6a2e1a35'), { nr: -1, args: [] });
    assert.deepEqual(fdCandidates(parseSyscall('-1 0x7f3a3d7fbc00 0x7f3a6a2e1a35')), []);
    assert.deepEqual(parseSyscall('running\n'), { nr: null, args: [] });
    assert.equal(parseSyscall('0 0x3 zzz'), null);
  });

  it('names the mm an fd symlink points at', () => {
    assert.deepEqual(parseMmTarget('/proc/181134/cmdline'), { pid: 181134, tid: null, file: 'cmdline' });
    assert.deepEqual(parseMmTarget('/proc/181134/task/181140/maps'), { pid: 181134, tid: 181140, file: 'maps' });
    assert.deepEqual(parseMmTarget('/host/proc/5/map_files/7f0000-7f1000'), { pid: 5, tid: null, file: 'map_files' });
    assert.equal(parseMmTarget('/proc/1/stat'), null, 'stat does not take the mm');
    assert.equal(parseMmTarget('/dev/pts/0'), null);
  });

  it('parses both /proc/PID/stack forms and drops the end mark', () => {
    assert.deepEqual(parseStack(catStack()).map((f) => f.fn),
      ['call_rwsem_down_read_failed', 'proc_pid_cmdline_read', 'vfs_read', 'SyS_read', 'system_call_fastpath']);
    const modern = parseStack('[<0>] __schedule+0x2cd/0x890\n[<0>] schedule+0x4e/0xb0\n[<0>] jbd2_log_wait_commit+0xac/0x120 [jbd2]\n');
    assert.deepEqual(modern.map((f) => f.fn), ['__schedule', 'schedule', 'jbd2_log_wait_commit']);
    assert.deepEqual(modern[2], { fn: 'jbd2_log_wait_commit', offset: '0xac', size: '0x120', module: 'jbd2', unreliable: false, context: 'task' });
    assert.deepEqual(parseStack(''), []);
  });

  it('splits a command line on NUL', () => {
    assert.deepEqual(parseCmdline(Buffer.from('/usr/sbin/sshd\0-D\0')), ['/usr/sbin/sshd', '-D']);
    assert.deepEqual(parseCmdline(Buffer.alloc(0)), []);
  });
});

describe('ps: reading without blocking', () => {
  it('refuses the files that take the mm, and leaves a FIFO alone', () => {
    const dir = tmpdir();
    assert.throws(() => readSafe(path.join(dir, 'cmdline')), /refusing to read/);
    assert.throws(() => readSafe(path.join(dir, 'status')), /refusing to read/);
    execFileSync('mkfifo', [path.join(dir, 'stat')]);
    assert.equal(readSafe(path.join(dir, 'stat')), null);
    fs.writeFileSync(path.join(dir, 'wchan'), 'ep_poll');
    assert.equal(readSafe(path.join(dir, 'wchan')), 'ep_poll');
    assert.equal(readSafe(path.join(dir, 'missing')), null);
  });

  it('gives up a read that never returns, with the rest of its group, and goes on with the others', async () => {
    const dir = tmpdir();
    const file = (name: string, text: string): string => {
      fs.writeFileSync(path.join(dir, name), text);
      return path.join(dir, name);
    };
    const fifo = (name: string): string => {
      execFileSync('mkfifo', [path.join(dir, name)]);
      return path.join(dir, name);
    };
    const t0 = Date.now();
    const res = await readBounded([
      { path: file('a', 'one'), group: '1' },
      { path: fifo('b'), group: '2' },
      { path: fifo('c'), group: '2' },
      { path: path.join(dir, 'missing'), group: '3' },
      { path: file('d', 'four'), group: '4' },
    ], { deadlineMs: 8000, stallMs: 200 });
    const ms = Date.now() - t0;
    assert.deepEqual(res.map((r) => r.status), ['read', 'timed_out', 'timed_out', 'error', 'read']);
    assert.equal(res[0].status === 'read' && res[0].data.toString(), 'one');
    assert.equal(res[3].status === 'error' && res[3].code, 'ENOENT');
    assert.equal(res[4].status === 'read' && res[4].data.toString(), 'four');
    // Given up after its stall (0.2 s), not at the deadline (8 s): the margin is for a loaded machine.
    assert.ok(ms < 4000, `took ${ms} ms: the stalled group was not given up`);
  });

  it('marks everything not read by the deadline as timed out', async () => {
    const dir = tmpdir();
    const fifos = ['x', 'y', 'z'].map((n) => path.join(dir, n));
    execFileSync('mkfifo', fifos);
    const t0 = Date.now();
    const res = await readBounded(fifos.map((p) => ({ path: p })), { deadlineMs: 500, stallMs: 30000 });
    assert.deepEqual(res.map((r) => r.status), ['timed_out', 'timed_out', 'timed_out']);
    // At the deadline (0.5 s), not after the stall (30 s).
    assert.ok(Date.now() - t0 < 5000);
  });
});

describe('ps: the seed incident in a fake /proc', () => {
  let proc: string;
  before(() => {
    proc = buildFakeProc(path.join(tmpdir('klogscan-proc-'), 'proc'));
  });

  it('lists exactly the three D tasks with their stacks and causes, without waiting on the stuck reads', () => {
    const r = timed(['ps', '--proc', proc, '--json']);
    assert.equal(r.status, 0, r.stderr);
    assert.equal(r.stderr, '');
    assert.ok(r.ms < HANG_MS, `took ${r.ms.toFixed(0)} ms`);
    const tasks = tasksOf(r);
    assert.deepEqual(tasks.map((t) => `${t.comm}:${t.pid}/${t.tid} ${t.state}`).sort(),
      ['cat:38042/38042 D', 'java:181134/181134 D', 'ps:14018/14018 D']);
    const java = byComm(r, 'java');
    assert.deepEqual(java.frames.map((f) => f.fn), ['schedule', 'rwsem_down_read_failed', 'call_rwsem_down_read_failed', 'down_read',
      'do_exit', 'do_group_exit', 'get_signal_to_deliver', 'do_signal', 'do_notify_resume', 'int_signal']);
    assert.equal(java.kernel, RELEASE);
    assert.equal(java.kernel_source, 'proc');
    assert.equal(java.signature, 'blocked task in do_exit (rwsem read)');
    assert.equal(java.matches[0].rule, 'rhel7-rwsem-missed-wakeup');
    assert.equal(java.matches[0].verdict, 'affected');
    assert.equal(java.wchan, 'call_rwsem_down_read_failed');
    assert.equal(java.ppid, 1);
    assert.equal(java.off_cpu_seconds, 120, 'uptime minus se.exec_start (4880000.5 ms), to the ms');
    assert.equal(java.waits_for, null);
    for (const comm of ['cat', 'ps']) {
      const t = byComm(r, comm);
      assert.deepEqual(t.frames.map((f) => f.fn).slice(0, 2), ['call_rwsem_down_read_failed', 'proc_pid_cmdline_read']);
      assert.equal(t.matches[0].rule, 'proc-cmdline-mmap-sem');
      assert.equal(t.matches[0].role, 'victim');
      assert.equal(t.waits_for?.pid, 181134, `${comm} waits for java`);
      assert.match(t.waits_for!.how, /reads \/proc\/181134\/cmdline \(fd \d\)/);
    }
    assert.equal(byComm(r, 'ps').waits_for?.how, 'reads /proc/181134/cmdline (fd 6)', 'the fd of its read(2), not its other /proc fds');
    const s = summaryOf(r);
    assert.equal(s.d_state, 3);
    assert.equal(s.tasks, 5);
    assert.equal(s.matched, 3);
    assert.deepEqual(s.waiting, { found: 2, not_found: 0 });
    assert.equal(s.stored, null);
    assert.equal(r.json.at(-1)?.type, 'summary', 'the summary comes last');
  });

  it('shows the readers under the task whose mm they wait for', () => {
    const r = timed(['ps', '--proc', proc]);
    assert.equal(r.status, 0, r.stderr);
    assert.ok(r.ms < HANG_MS, `took ${r.ms.toFixed(0)} ms`);
    const lines = r.stdout.split('\n');
    assert.match(lines[0], /^3 tasks in D state of 5 on .*, kernel 3\.10\.0-862\.14\.4\.el7\.x86_64, from /);
    const at = (re: RegExp): number => lines.findIndex((l) => re.test(l));
    const java = at(/^java:181134 {2}state D {2}off CPU 2\.0 min {2}wchan call_rwsem_down_read_failed {2}ppid 1$/);
    const head = at(/^ {2}2 tasks wait for the mm of java:181134:$/);
    const cat = at(/^ {4}cat:38042 {2}state D/);
    const ps = at(/^ {4}ps:14018 {2}state D/);
    assert.ok(java >= 0 && head > java && cat > head && ps > head, r.stdout);
    assert.match(r.stdout, /^ {2}cause rhel7-rwsem-missed-wakeup {2}AFFECTED {3}fixed in 3\.10\.0-957\.12\.1\.el7$/m);
    assert.match(r.stdout, /^ {6}reads \/proc\/181134\/cmdline \(fd 3\)$/m);
    assert.match(r.stdout, /^ {6}cause proc-cmdline-mmap-sem {2}AFFECTED$/m);
    assert.match(r.stdout, /^ {4}> do_exit\+0x189\/0xa40$/m, 'the culprit frame is marked');
    assert.match(r.stdout, /^summary: 3 in D state, 3 with a known cause, 2 waiting for another task \(5 tasks, 5 processes\)$/m);
  });

  it('--all adds the healthy tasks, without causes', () => {
    const r = timed(['ps', '--proc', proc, '--json', '--all']);
    assert.equal(r.status, 0, r.stderr);
    assert.deepEqual(tasksOf(r).map((t) => t.comm).sort(), ['cat', 'java', 'ps', 'sshd', 'systemd']);
    const sshd = byComm(r, 'sshd');
    assert.equal(sshd.state, 'S');
    assert.equal(sshd.signature, null);
    assert.deepEqual(sshd.matches, []);
    assert.deepEqual(sshd.frames.map((f) => f.fn), ['poll_schedule_timeout', 'do_sys_poll', 'SyS_poll', 'system_call_fastpath']);
    assert.equal(sshd.cmdline_status, 'not_requested');
    assert.equal(summaryOf(r).shown, 5);
  });

  it('--cmdline gives up the command lines that do not come, and still returns at once', () => {
    const r = timed(['ps', '--proc', proc, '--json', '--all', '--cmdline']);
    assert.equal(r.status, 0, r.stderr);
    assert.ok(r.ms < HANG_MS, `took ${r.ms.toFixed(0)} ms`);
    for (const comm of ['sshd', 'systemd']) {
      const t = byComm(r, comm);
      assert.equal(t.cmdline, null);
      assert.equal(t.cmdline_timed_out, true, comm);
    }
    for (const comm of ['java', 'cat', 'ps']) {
      const t = byComm(r, comm);
      assert.equal(t.cmdline, null);
      assert.equal(t.cmdline_timed_out, false);
      assert.equal(t.cmdline_status, 'skipped_d_state', `${comm}: never read for a task in D state`);
    }
    assert.deepEqual(summaryOf(r).cmdline, { read: 0, timed_out: 2, skipped: 3, unreadable: 0 });
    const text = timed(['ps', '--proc', proc, '--all', '--cmdline']);
    assert.equal(text.status, 0, text.stderr);
    assert.match(text.stdout, /^ +1022 +1022 S +10\.0s {2}poll_schedule_timeout +sshd {2}\(command line: read timed out\)$/m);
  });

  it('--store records the D tasks as blocked_state reports, once', () => {
    const db = path.join(tmpdir(), 'ps.db');
    const first = timed(['ps', '--proc', proc, '--json', '--store', '--db', db]);
    assert.equal(first.status, 0, first.stderr);
    assert.deepEqual(summaryOf(first).stored, { db, new: 3, duplicates: 0, incidents: 1 });
    const incident = byComm(first, 'java').incident;
    assert.equal(typeof incident, 'number');
    const history = (): Json[] => {
      const h = cli(['history', '--kind', 'blocked_state', '--json', '--db', db]);
      assert.equal(h.status, 0, h.stderr);
      return h.json;
    };
    const [inc, ...more] = history();
    assert.equal(more.length, 0);
    assert.equal(inc.kind, 'blocked_state');
    assert.equal(inc.reports, 3);
    assert.equal(inc.tasks, 3);
    assert.equal(inc.kernel, RELEASE);
    assert.deepEqual(inc.root_cause, { rule: 'rhel7-rwsem-missed-wakeup', verdict: 'affected' });

    const again = timed(['ps', '--proc', proc, '--json', '--store', '--db', db]);
    assert.equal(again.status, 0, again.stderr);
    assert.deepEqual(summaryOf(again).stored, { db, new: 0, duplicates: 3, incidents: 1 });
    assert.equal(history()[0].reports, 3, 'a second snapshot within the minute adds nothing');

    const show = cli(['show', String(incident), '--json', '--db', db]);
    assert.equal(show.status, 0, show.stderr);
    const reports = show.json.slice(1) as { id: number; task: string; kind: string; source: { name: string } }[];
    assert.deepEqual(reports.map((x) => x.kind), ['blocked_state', 'blocked_state', 'blocked_state']);
    assert.equal(reports[0].source.name, proc);
    const name = (id: number): string => reports.find((x) => x.id === id)!.task;
    const edges = (show.json[0].edges as { waiter: number; holder: number }[]).map((e) => `${name(e.waiter)} -> ${name(e.holder)}`).sort();
    assert.deepEqual(edges, ['cat -> java', 'ps -> java']);
  });

  it('says what is wrong in one line, exit 2', () => {
    const missing = timed(['ps', '--proc', path.join(proc, 'nope')]);
    assert.equal(missing.status, 2);
    assert.equal(missing.stdout, '');
    assert.match(missing.stderr, /^klogscan: --proc \S+\/nope: no such directory\n$/);
    const empty = timed(['ps', '--proc', tmpdir()]);
    assert.equal(empty.status, 2);
    assert.match(empty.stderr, /^klogscan: \S+: no \/proc\/PID\/task\/TID\/stat found: not a \/proc tree, or nothing is visible to this user\n$/);
    const db = timed(['ps', '--proc', proc, '--db', 'x.db']);
    assert.equal(db.status, 2);
    assert.match(db.stderr, /^klogscan: --db is for --store: add --store to record the snapshot\n$/);
    const arg = timed(['ps', 'java']);
    assert.equal(arg.status, 2);
    assert.equal(arg.stderr.split('\n').length, 2);
    const help = timed(['ps', '--help']);
    assert.equal(help.status, 0);
    assert.match(help.stdout, /^Usage: klogscan ps \[options\]$/m);
  });
});

describe('ps: threads, odd names, and holders that are not in D', () => {
  let proc: string;
  before(() => {
    const extra: FakeTask[] = [
      // A healthy httpd whose I/O thread hangs; its name tries to fool a stat parser and a terminal.
      {
        pid: 2000, comm: 'httpd', state: 'S', ppid: 1, wchan: 'ep_poll', execStart: 4999000,
        stack: '[<0>] ep_poll+0x23d/0x3f0\n', syscall: '232 0x4 0x7ffc 0x29 0xffffffff 0x0 0x0 0x7ffc 0x7f6a', cmdline: '/usr/sbin/httpd\0-DFOREGROUND\0',
      },
      {
        pid: 2000, tid: 2005, comm: 'io) D 1 (\x1b[2J', state: 'D', ppid: 1, wchan: 'jbd2_log_wait_commit', execStart: 4000000,
        stack: '[<0>] __schedule+0x2cd/0x890\n[<0>] schedule+0x4e/0xb0\n[<0>] jbd2_log_wait_commit+0xac/0x120 [jbd2]\n[<0>] ext4_sync_file+0x2e1/0x3a0 [ext4]\n[<0>] do_fsync+0x38/0x60\n',
        syscall: '74 0x7 0x0 0x0 0x0 0x0 0x0 0x7ffc 0x7f6a',
      },
      // A healthy process whose command line can be read: after systemd's, which never comes.
      {
        pid: 1500, comm: 'crond', state: 'S', ppid: 1, wchan: 'hrtimer_nanosleep', execStart: 4999500,
        stack: '[<0>] hrtimer_nanosleep+0xd0/0x1c0\n', syscall: '35 0x7ffc 0x7ffc 0x0 0x0 0x0 0x0 0x7ffc 0x7f6a', cmdline: '/usr/sbin/crond\0-n\0',
      },
      // A reader of sshd's environ (sshd is in S: its mm's holder is not in D), and one whose fd is gone.
      {
        pid: 3100, comm: 'pgrep', state: 'D', ppid: 1, wchan: 'call_rwsem_down_read_failed', execStart: 4990000,
        stack: catStack().replace('proc_pid_cmdline_read', 'environ_read'), syscall: '0 0x4 0x7ffc10 0x1000 0x0 0x0 0x0 0x7ffc 0x7f6a',
        fds: { 4: '/proc/1022/environ' },
      },
      {
        pid: 3200, comm: 'top', state: 'D', ppid: 1, wchan: 'call_rwsem_down_read_failed', execStart: 4990000,
        stack: catStack(), syscall: '0 0x9 0x7ffc10 0x1000 0x0 0x0 0x0 0x7ffc 0x7f6a',
      },
    ];
    proc = buildFakeProc(path.join(tmpdir('klogscan-proc-'), 'proc'), [...seedTasks(), ...extra]);
  });

  it('shows a hung thread of a healthy process, by its thread id', () => {
    const r = timed(['ps', '--proc', proc, '--json']);
    assert.equal(r.status, 0, r.stderr);
    const t = tasksOf(r).find((x) => x.tid === 2005)!;
    assert.equal(t.pid, 2000);
    assert.equal(t.comm, 'io) D 1 (\x1b[2J');
    assert.equal(t.state, 'D');
    assert.deepEqual(t.frames.map((f) => f.fn), ['__schedule', 'schedule', 'jbd2_log_wait_commit', 'ext4_sync_file', 'do_fsync']);
    assert.equal(tasksOf(r).some((x) => x.tid === 2000), false, 'its healthy main thread is not in D');
  });

  it('names holders that are not in D, and falls back where the read cannot be traced', () => {
    const r = timed(['ps', '--proc', proc, '--json']);
    assert.equal(byComm(r, 'pgrep').waits_for?.pid, 1022);
    const top = byComm(r, 'top');
    assert.equal(top.waits_for?.pid, null);
    assert.match(top.waits_for!.how, /^waits for an mm held by another task \(no fd of its syscall names a \/proc file\)$/);
    const text = timed(['ps', '--proc', proc]);
    assert.match(text.stdout, /^process sshd:1022 \(state S, not in D\): its mm is held or wedged/m);
    assert.match(text.stdout, /^waits for an mm held by another task \(which one is not visible\)\n {2}top:3200 /m);
    assert.match(text.stdout, /^io\) D 1 \(\\x1b\[2J:2005 {2}thread of pid 2000 {2}state D/m, 'the name reaches the terminal escaped');
    assert.equal(text.stdout.includes('\x1b'), false);
  });

  it('--cmdline reads the healthy ones, past a stuck one, and never a process with a hung thread', () => {
    const r = timed(['ps', '--proc', proc, '--json', '--all', '--cmdline']);
    assert.equal(r.status, 0, r.stderr);
    assert.ok(r.ms < HANG_MS, `took ${r.ms.toFixed(0)} ms`);
    assert.equal(byComm(r, 'systemd').cmdline_status, 'timed_out');
    assert.deepEqual(byComm(r, 'crond').cmdline, ['/usr/sbin/crond', '-n'], 'read by a fresh child after systemd\'s stalled');
    assert.equal(byComm(r, 'crond').cmdline_status, 'read');
    assert.equal(byComm(r, 'sshd').cmdline_status, 'skipped_suspect_mm', 'pgrep waits for its mm');
    const httpd = byComm(r, 'httpd');
    assert.equal(httpd.cmdline_status, 'skipped_d_state', 'its I/O thread is in D: its mm may be wedged too');
    const text = timed(['ps', '--proc', proc, '--all', '--cmdline']);
    assert.match(text.stdout, /^ +1500 +1500 S +0\.5s {2}hrtimer_nanosleep +crond {2}\/usr\/sbin\/crond -n$/m);
  });
});

describe('ps: this machine\'s /proc', () => {
  const real = fs.readFileSync('/proc/sys/kernel/osrelease', 'utf8').trim();

  it('works as is and prints JSON lines', () => {
    const r = timed(['ps', '--json']);
    assert.equal(r.status, 0, r.stderr);
    const lines = r.stdout.trimEnd().split('\n');
    const objs = lines.map((l) => JSON.parse(l) as Json);
    assert.equal(objs.at(-1)?.type, 'summary');
    assert.equal(objs.at(-1)?.kernel, real);
    for (const o of objs.slice(0, -1)) assert.equal(o.state, 'D');
    const text = timed(['ps']);
    assert.equal(text.status, 0, text.stderr);
    assert.match(text.stdout, /^summary: \d+ in D state/m);
  });

  it('works for a user who cannot read kernel stacks', function () {
    if (process.getuid?.() !== 0) this.skip();
    const r = spawnSync(process.execPath, [BIN, 'ps', '--all', '--json'], { uid: 65534, gid: 65534, encoding: 'utf8', timeout: 10000, cwd: '/' });
    if (r.error && (r.error as NodeJS.ErrnoException).code === 'EACCES') this.skip();
    assert.equal(r.status, 0, r.stderr);
    const objs = r.stdout.trimEnd().split('\n').map((l) => JSON.parse(l) as Json);
    const summary = objs.at(-1)!;
    assert.equal((summary.stacks as Json).read, 0);
    assert.ok(((summary.stacks as Json).denied as number) > 0);
  });

  it('shows a real task in D state with its kernel stack (a vfork parent), where a C compiler exists', function () {
    if (process.getuid?.() !== 0) this.skip();
    const dir = tmpdir();
    const src = path.join(dir, 'vf.c');
    fs.writeFileSync(src, '#include <unistd.h>\n#include <time.h>\nint main(void) { if (vfork() == 0) { struct timespec t = {20, 0}; nanosleep(&t, 0); _exit(0); } return 0; }\n');
    try {
      execFileSync('cc', ['-o', path.join(dir, 'vf'), src], { stdio: 'ignore' });
    } catch {
      this.skip();
    }
    const child = spawn(path.join(dir, 'vf'), [], { detached: true, stdio: 'ignore' });
    try {
      let r: CliResult | null = null;
      for (let i = 0; i < 50; i++) {
        r = timed(['ps', '--json']);
        if (tasksOf(r).some((t) => t.pid === child.pid)) break;
      }
      const t = tasksOf(r!).find((x) => x.pid === child.pid);
      assert.ok(t, 'the vfork parent is listed');
      assert.equal(t.state, 'D');
      assert.ok(t.frames.some((f) => /vfork|clone/.test(f.fn)), JSON.stringify(t.frames));
      assert.equal(t.kernel, real);
    } finally {
      // Its process group: the parent (killable) and the sleeping vfork child.
      try {
        process.kill(-child.pid!, 'SIGKILL');
      } catch {
        // already gone
      }
    }
  });
});
