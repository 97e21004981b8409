// Hostile and broken input: klogscan must neither crash, hang, lose or duplicate a report.
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { once } from 'node:events';
import fs from 'node:fs';
import path from 'node:path';
import { generate } from '../bench/generate.js';
import { ChunkFeeder, type LineSink } from '../src/input/feeder.js';
import { PartReadError, scanFileParallel } from '../src/input/parallel.js';
import { describeError } from '../src/input/sources.js';
import { Scanner, type AnalyzedReport } from '../src/scan.js';
import { BIN, cli, REFERENCE, rules, sample, scanText, tmpdir } from './helpers.js';

const JAVA = sample('seed/centos7-java-rwsem.messages');

function noise(bytes: number, seed: number): Buffer {
  const b = Buffer.alloc(bytes);
  let x = seed;
  for (let i = 0; i < bytes; i++) {
    x = (Math.imul(x, 1103515245) + 12345) >>> 0;
    b[i] = x >>> 24;
  }
  return b;
}

describe('robustness', () => {
  it('finds a report inside binary noise, exactly once', () => {
    const input = Buffer.concat([noise(3 << 20, 1), Buffer.from('\n' + JAVA), noise(3 << 20, 2)]);
    const reports = scanText(input, { chunk: 65536 });
    const java = reports.filter((a) => a.report.task === 'java');
    assert.equal(java.length, 1);
    assert.equal(java[0].report.frames.length, 15);
  });

  it('ignores NUL runs left by a crash in front of a line', () => {
    const text = JAVA.split('\n').map((l, i) => (i === 0 ? '\0'.repeat(4096) + l : l)).join('\n');
    const [a] = scanText(text);
    assert.equal(a.report.task, 'java');
    assert.equal(a.report.frames.length, 15);
  });

  it('survives invalid UTF-8 and keeps control characters out of the terminal', () => {
    const bytes = Buffer.concat([
      Buffer.from('INFO: task ja'), Buffer.from([0xff, 0xfe, 0x1b]), Buffer.from('[2Jva:77 blocked for more than 120 seconds.\n'),
      Buffer.from('Call Trace:\n [<ffffffff816a94c9>] schedule+0x29/0x70\n [<ffffffff8108d8b9>] do_exit+0x189/0xa40\n'),
    ]);
    const [a] = scanText(bytes);
    assert.equal(a.report.pid, 77);
    assert.equal(a.report.task, 'ja\ufffd\ufffd\x1b[2Jva');
    const r = cli([], { input: bytes, env: { FORCE_COLOR: '0' } });
    assert.equal(r.status, 0);
    assert.ok(!r.stdout.includes('\x1b'), 'no raw ESC reaches the terminal');
    assert.match(r.stdout, /hung task ja\ufffd\ufffd\\x1b\[2Jva:77/);
    const j = cli(['--json'], { input: bytes });
    assert.equal(j.json[0].task, 'ja\ufffd\ufffd\x1b[2Jva', 'JSON keeps the text, escaped by JSON itself');
  });

  it('escapes C1 controls in JSON output too', () => {
    const j = cli(['--json'], { input: 'INFO: task a\u009bb:5 blocked for more than 120 seconds.\n' });
    assert.ok(j.stdout.includes('a\\u009bb'));
    assert.equal(j.json[0].task, 'a\u009bb');
  });

  it('handles a 100 MB line without a newline in bounded memory', function () {
    this.timeout(120000);
    const dir = tmpdir();
    const file = path.join(dir, 'long.log');
    const fd = fs.openSync(file, 'w');
    fs.writeSync(fd, JAVA);
    const block = Buffer.alloc(1 << 20, 0x41);
    for (let i = 0; i < 100; i++) fs.writeSync(fd, block);
    fs.closeSync(fd);
    const r = cli(['--json', '--stats', file]);
    assert.equal(r.status, 0, r.stderr);
    assert.equal(r.json.filter((o) => o.type === 'report').length, 1);
    const rss = Number(/peak RSS ([\d.]+) MiB/.exec(r.stderr)![1]);
    assert.ok(rss < 150, `peak RSS ${rss} MiB`);
    fs.rmSync(dir, { recursive: true });
  });

  it('reports a file cut mid-trace as truncated, and an empty file as nothing', () => {
    const dir = tmpdir();
    const cut = path.join(dir, 'cut.log');
    fs.writeFileSync(cut, JAVA.slice(0, JAVA.indexOf('do_group_exit') - 40));
    const empty = path.join(dir, 'empty.log');
    fs.writeFileSync(empty, '');
    const r = cli(['--json', cut, empty]);
    assert.equal(r.status, 0);
    assert.equal(r.json[0].truncated, true);
    assert.equal(r.json.at(-1)!.reports, 1);
    assert.equal(r.json.at(-1)!.inputs, 2);
  });

  it('a missing or unreadable input: one line on stderr, exit 2, the other files still scanned', () => {
    const dir = tmpdir();
    const r = cli(['--json', '/nonexistent/messages', dir, 'samples/seed/centos7-java-rwsem.messages']);
    assert.equal(r.status, 2);
    assert.equal(r.stderr, `klogscan: cannot read /nonexistent/messages: no such file\nklogscan: cannot read ${dir}: is a directory\n`);
    assert.equal(r.json[0].task, 'java');
    assert.equal(r.json.at(-1)!.errors, 2);
  });

  it('a corrupt gzip file is an error for that file only', () => {
    const dir = tmpdir();
    const gz = path.join(dir, 'messages.1.gz');
    fs.writeFileSync(gz, Buffer.concat([Buffer.from([0x1f, 0x8b, 8, 0]), noise(1000, 3)]));
    const r = cli(['--json', gz, 'samples/seed/centos7-java-rwsem.messages']);
    assert.equal(r.status, 2);
    assert.match(r.stderr, /^klogscan: .*messages\.1\.gz: /);
    assert.equal(r.stderr.split('\n').length, 2, 'one line');
    assert.equal(r.json[0].task, 'java');
  });

  it('bad options give one line and exit 2, never a stack trace', () => {
    for (const args of [['--bogus'], ['--kernel', 'banana', '-'], ['--year', '19', '-'], ['rules', 'show', 'no-such-rule']]) {
      const r = cli(args, { input: '' });
      assert.equal(r.status, 2, args.join(' '));
      assert.equal(r.stderr.trim().split('\n').length, 1, r.stderr);
      assert.match(r.stderr, /^klogscan: /);
      assert.ok(!/\bat .*\.js:\d+/.test(r.stderr));
    }
  });

  it('exits quietly when the reader of its output goes away (| head)', function () {
    this.timeout(60000);
    const dir = tmpdir();
    const file = path.join(dir, 'many.log');
    fs.writeFileSync(file, JAVA.repeat(3000));
    const r = spawnSync('sh', ['-c', `"${process.execPath}" "${BIN}" --no-db "${file}" | head -n 3`], { encoding: 'utf8', env: { ...process.env, NO_COLOR: '1' } });
    assert.equal(r.status, 0);
    assert.equal(r.stdout.split('\n').length, 4);
    assert.equal(r.stderr, '');
  });

  it('waits for a slow reader of its output instead of buffering it, and loses nothing', async function () {
    this.timeout(60000);
    const rchar = (pid: number): number => Number(/^rchar: (\d+)$/m.exec(fs.readFileSync(`/proc/${pid}/io`, 'utf8'))?.[1]);
    if (!fs.existsSync('/proc/self/io')) this.skip();
    const file = path.join(tmpdir(), 'many.log');
    const n = 20000;
    fs.writeFileSync(file, JAVA.repeat(n)); // 38 MB in, 52 MB of NDJSON out
    // `klogscan FILE | slow-reader`: what the reader has not taken must not pile up in memory.
    const child = spawn('sh', ['-c', `"${process.execPath}" "${BIN}" --json --no-db "${file}" | cat`], {
      stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, KLOGSCAN_THREADS: '1' },
    });
    child.stdout.pause();
    const klogscanPid = async (): Promise<number> => {
      for (;;) {
        for (const t of fs.readdirSync(`/proc/${child.pid}/task`)) {
          for (const pid of fs.readFileSync(`/proc/${child.pid}/task/${t}/children`, 'utf8').trim().split(/\s+/)) {
            if (pid && fs.readFileSync(`/proc/${pid}/cmdline`, 'utf8').includes(BIN)) return Number(pid);
          }
        }
        await new Promise((r) => setTimeout(r, 20));
      }
    };
    const pid = await klogscanPid();
    // Nobody reads: once the pipes are full klogscan must stop reading its input.
    let last = -1;
    for (let still = 0; still < 5;) {
      await new Promise((r) => setTimeout(r, 100));
      const now = rchar(pid);
      still = now === last ? still + 1 : 0;
      last = now;
    }
    assert.ok(last < fs.statSync(file).size / 4, `read ${last} bytes of ${fs.statSync(file).size} with nobody reading its output`);
    let text = '';
    child.stdout.setEncoding('utf8').on('data', (d: string) => { text += d; });
    child.stdout.resume();
    const [code] = await once(child, 'close') as [number];
    assert.equal(code, 0);
    const lines = text.trimEnd().split('\n');
    assert.equal(lines.length, n + 1);
    assert.equal(JSON.parse(lines.at(-1)!).reports, n);
  });
});

describe('pathological lines', () => {
  // Patterns whose parts can take the same characters (`\s*` next to `.*?` next to `\s+`) go
  // quadratic or cubic on long runs of those characters: one 64 KiB line of blanks once took
  // hours. Scanning these must stay linear: with such a pattern back, this test runs into its
  // time-out (each line alone would take seconds to hours) instead of finishing in a second.
  it('16 KiB runs of blanks and separators, behind every line prefix, before and inside traces', function () {
    this.timeout(60000);
    const prefixes = ['', 'Jan 29 10:41:07 h1 kernel: [  12.345678] ', '<6>1 2019-01-29T10:41:07Z h1 kernel - - - ',
      '6,1234,5678,-;', '[Tue Jan 29 10:41:07 2019] '];
    const starts = ['', '[', '[<', 'task:', 'Tainted: ', 'java ', ' ? ', 'INFO: task x:1 ', 'blocked on a ',
      '{"MESSAGE":[', 'x D ', '#0: ', 'f (', ' a', 'INFO: task a:1 ', '1f40:'];
    const fills = [' ', '\t', ' ?', ': ', '0 ', ' [', ':1 ', '+0x1/0x2 ', ':1', '.isra', 'task: ', '1'];
    const tails = [' for more than x)', 'x+0x1/0x2', '!x y'];
    const header = ['INFO: task java:181134 blocked for more than 120 seconds.', '      Not tainted 3.10.0-862.el7.x86_64 #1',
      'java            D ffff8c7d3fd5a0c0     0 181134      1 0x00000080'];
    const trace = ['Call Trace:', ' [<ffffffff8bb67c49>] schedule+0x29/0x70'];
    let text = '';
    let cases = 0;
    for (const p of prefixes) {
      for (const st of starts) {
        for (const f of fills) {
          const fill = f.repeat(Math.floor((16 * 1024) / f.length));
          for (const tail of tails) {
            // Before the trace (where wrapped task lines are pieced together) and inside it.
            for (const lead of [header, [...header, ...trace]]) {
              text += lead.map((l) => p + l + '\n').join('') + p + st + fill + tail + '\n';
              cases++;
            }
          }
        }
      }
    }
    // In a child process: a runaway pattern blocks the event loop, and only a kill can end it.
    const file = path.join(tmpdir(), 'pathological.log');
    fs.writeFileSync(file, text);
    const r = cli(['--json', '--no-db', file], { timeout: 45000 });
    assert.equal(r.status, 0, `klogscan did not finish in 45 s (${r.stderr})`);
    const reports = r.json.filter((j) => j.type === 'report');
    assert.equal(reports.length, cases);
    assert.ok(reports.every((j) => j.task === 'java'));
  });

  // Each shape is a worst case the ReDoS checker (recheck) found for a pattern, about 4 KiB long,
  // in the context where the pattern runs. With the old patterns the worst of them (Tainted,
  // Workqueue, EFLAGS) took seconds to hours per line.
  it('4 KiB attack lines of every pattern that went polynomial, where each pattern reads them', function () {
    this.timeout(60000);
    const K = 4000;
    const fill = (unit: string, head = '', tail = ''): string => head + unit.repeat(Math.floor((K - head.length - tail.length) / unit.length)) + tail;
    const crash = [ // inside an oops and a WARNING, before their trace
      fill('\t', 'Tainted: 0.0', '#T\r'), fill('\t', ' Not tainted 3.10.0 #1 x', '\rx'), fill('0', 'CPU: 0 PID: 1 Comm: x Tainted: G 5.1.', '\r#1'),
      fill('REGS:'), fill('(1.1.1', 'EFLAGS: '), fill('\t', 'EFLAGS: (1.1.1', '\r(1.1.1)'), fill('(1.1.1', 'REGS: ', ' x)'),
      fill('\t', 'lr : [<0>]'), fill('\tlr : N', 'NIP r', '\r'), fill(' ', 'NIP x', 'y'), fill(' ', '---[ end Kernel panic'),
      fill('\t', '-\t', ':'), fill(' ', 'ext4 [last unloaded: ', 'x]y'), fill('by task /', '', 'k'),
      fill(',task=', 'oom-kill:constraint=CONSTRAINT_NONE,'), fill('{', 'rcu: INFO: rcu_sched detected stalls on CPUs/tasks: '),
      fill('\t ', 'CPU: 0 PID: 0 Comm:  x', 'n'), fill('\t ', 'Pid: 0, comm: cN oN', 'n'),
    ];
    const hung = [ // inside a hung task's trace
      fill('\t', 'Workqueue:', 'Workqueue:\rW'), fill(' ', 'Workqueue: x', 'y'), fill('0[0.000000]\t0', '', '0[\r0.000000] x'),
      fill('\t', '[<00000000>]', '\x00'), fill('\t', ' [<ffffffff8bb67c49>] ', '?x'), fill('ret_from_fork', ' ret_from_fork+0x1/0x2 x', '\x00'),
      fill(':0 blocked on a mutex likely owned by task l', 'INFO: task x:1 blocked on a mutex likely owned by task '),
    ];
    const raw = [ // lines of their own, where the format decoders read them
      fill('0', '6,1,2,,caller=C0'), fill(',caller=T1', '6,1,2,-'), fill('E></PR', '', 'V</P>'), fill('<br>', 'x', 'x>'),
      fill('0', '[pid:0,cpu0'), fill('\t', 'x', '\x00\n'),
    ];
    const before = [ // before a hung task: the rules' log patterns read the lines before a report
      fill('9)XFS (r): metadata I/O error-'), fill('usb B: reset :USB device number 0 '),
    ];
    const hungTask = ['INFO: task java:181134 blocked for more than 120 seconds.', '      Not tainted 3.10.0-862.el7.x86_64 #1',
      'java            D ffff8c7d3fd5a0c0     0 181134      1 0x00000080', 'Call Trace:', ' [<ffffffff8bb67c49>] schedule+0x29/0x70'];
    const oops = ['BUG: unable to handle kernel NULL pointer dereference at 0000000000000008', 'Oops: 0000 [#1] SMP'];
    const warning = ['WARNING: CPU: 1 PID: 404 at kernel/foo.c:12 foo+0x1/0x2'];
    const trace = ['Call Trace:', ' [<ffffffff8bb67c49>] foo+0x1/0x2', ' [<ffffffff8bb67c4a>] bar+0x1/0x2', '---[ end trace 0123456789abcdef ]---'];
    let text = '';
    for (const l of crash) text += [...oops, l, ...trace, ...warning, l, ...trace, ''].join('\n');
    for (const l of hung) text += [...hungTask, l, ' [<ffffffff8bb67c4a>] io_schedule+0x1/0x2', ''].join('\n');
    for (const l of [...raw, ...before]) text += [l, ...hungTask, ''].join('\n');
    const file = path.join(tmpdir(), 'attacks.log');
    fs.writeFileSync(file, text);
    const r = cli(['--json', '--no-db', file], { timeout: 45000 });
    assert.equal(r.status, 0, `klogscan did not finish in 45 s (${r.stderr})`);
    const kinds = r.json.at(-1)!.kinds as Record<string, number>;
    assert.equal(kinds.oops, crash.length);
    assert.equal(kinds.warning, crash.length);
    assert.equal(kinds.hung_task, hung.length + raw.length + before.length);
  });
});

describe('the other kinds\' grammar on hostile lines', () => {
  it('a first line held inside a hung task\'s trace is a report also at the end of input and beyond 8192 open reports (helper-68)', () => {
    const one = (h: number): string => [`Nov 27 10:00:00 h${h} kernel: INFO: task foo:${100 + h} blocked for more than 120 seconds.`,
      `Nov 27 10:00:00 h${h} kernel: Call Trace:`, `Nov 27 10:00:00 h${h} kernel:  __schedule+0x419/0x1340`,
      `Nov 27 10:00:00 h${h} kernel: WARNING: CPU: 1 PID: 456 at fs/ext4/inode.c:100 ext4_foo+0x10/0x20`, ''].join('\n');
    assert.deepEqual(cli(['--json', '--no-db', '-'], { input: one(0) }).json.at(-1)!.kinds, { hung_task: 1, warning: 1 });
    // 9000 hosts, each with a report open and a line held: room is made without finishing a report twice or losing one.
    const file = path.join(tmpdir(), 'held.log');
    fs.writeFileSync(file, Array.from({ length: 9000 }, (_, h) => one(h)).join(''));
    const r = cli(['--json', '--no-db', file], { timeout: 60000 });
    assert.equal(r.status, 0, r.stderr);
    assert.deepEqual(r.json.at(-1)!.kinds, { hung_task: 9000, warning: 9000 });
  });

  it('a line after `Modules linked in:` that is no module list costs no more than a short scan (helper-67: 2^n)', () => {
    const file = path.join(tmpdir(), 'modules.log');
    const lines = ['WARNING: CPU: 0 PID: 1 at kernel/foo.c:1 foo+0x1/0x2', 'Modules linked in: ext4 jbd2 mbcache', `${'a'.repeat(60)}!`,
      `${'ab '.repeat(300)}[last unloaded: x`, ''];
    fs.writeFileSync(file, lines.join('\n'));
    const r = cli(['--json', '--no-db', file], { timeout: 20000 });
    assert.equal(r.status, 0, `klogscan did not finish in 20 s (${r.stderr})`);
    assert.equal(r.json.at(-1)!.reports, 1);
  });
});

describe('skipping idle input gives exactly the same reports', () => {
  /** Interleaves lines of other hosts into the workload, also inside reports. */
  function workload(): { text: string; expected: number } {
    let text = '';
    const exp = generate(3 << 20, (s) => { text += s; }, { seed: 11 });
    const out: string[] = [];
    let i = 0;
    for (const l of text.split('\n')) {
      out.push(l);
      if (++i % 3 === 0) out.push(`Jan 29 10:00:00 other${i % 5} kernel: e1000e: eth0 NIC Link is Up ${i}`);
    }
    return { text: out.join('\n'), expected: exp.reports };
  }

  function run(text: string, chunk: number, neverIdle: boolean): AnalyzedReport[] {
    const got: AnalyzedReport[] = [];
    const scanner = new Scanner({ rules: rules() }, (a) => got.push(a));
    scanner.beginSource('w', REFERENCE);
    const sink: LineSink = neverIdle
      ? { needles: scanner.needles, idle: () => false, line: (t, n) => scanner.line(t, n) }
      : scanner;
    const feeder = new ChunkFeeder(sink);
    const buf = Buffer.from(text);
    for (let p = 0; p < buf.length; p += chunk) feeder.push(buf.subarray(p, p + chunk));
    feeder.end();
    scanner.endSource();
    return got;
  }

  const summary = (rs: AnalyzedReport[]): string => JSON.stringify(rs.map((a) => [a.report.source.line, a.report.host, a.report.task,
    a.report.pid, a.report.frames.length, a.report.truncated, a.identity.fingerprint, a.matches.map((m) => m.rule)]));

  it('line by line, in 1 MiB chunks and in odd small chunks', function () {
    this.timeout(60000);
    const { text, expected } = workload();
    const all = run(text, 1 << 20, true);
    assert.equal(all.length, expected);
    assert.ok(all.every((a) => !a.report.truncated && a.report.frames.length > 0));
    assert.equal(summary(run(text, 1 << 20, false)), summary(all));
    assert.equal(summary(run(text, 4093, false)), summary(all));
    assert.equal(summary(run(text, 97, false)), summary(all));
  });
});

function generateText(size: number, seed: number): string {
  let text = '';
  generate(size, (t) => { text += t; }, { seed });
  return text;
}

/** Runs `fn` with the parallel scan cutting files into blocks of `block` bytes (KLOGSCAN_BLOCK), then restores it. */
async function withBlockSize<T>(block: string, fn: () => Promise<T>): Promise<T> {
  const saved = process.env.KLOGSCAN_BLOCK;
  process.env.KLOGSCAN_BLOCK = block;
  try {
    return await fn();
  } finally {
    if (saved === undefined) delete process.env.KLOGSCAN_BLOCK;
    else process.env.KLOGSCAN_BLOCK = saved;
  }
}

describe('the parallel scan of a large file gives exactly the sequential result', () => {
  it('in reports, lines, sources and summary; also without a final newline', function () {
    this.timeout(120000);
    const dir = tmpdir();
    const file = path.join(dir, 'messages');
    let text = '';
    generate(6 << 20, (s) => { text += s; }, { seed: 3 });
    // Dense episodes make the part boundaries fall inside reports; no newline at the very end.
    const dense = text.split('\n').flatMap((l, i) => (i % 900 === 0 ? [JAVA.trimEnd(), l] : [l])).join('\n').trimEnd();
    fs.writeFileSync(file, dense);
    const run = (threads: string, block = '1048576'): string => {
      const r = cli(['--json', '--no-db', file], { env: { KLOGSCAN_THREADS: threads, KLOGSCAN_PARALLEL_MIN: '1024', KLOGSCAN_BLOCK: block } });
      assert.equal(r.status, 0, r.stderr);
      return r.stdout;
    };
    const one = run('1');
    assert.ok(JSON.parse(one.trim().split('\n').at(-1)!).reports > 50);
    assert.equal(run('3'), one);
    assert.equal(run('2'), one);
    // Small blocks: about 1500 of them, many ending inside a report, far more than the threads
    // may search ahead of the analysis; blocks of one line each at the end of the file.
    assert.equal(run('2', '4096'), one);
    assert.equal(run('3', '1'), one);

    // The last line has no newline and is longer than any line klogscan keeps; it is a header.
    fs.writeFileSync(file, `${dense}\nJan 29 10:59:00 app-prod-17 kernel: INFO: task ps:4242 blocked for more than 120 seconds. ${'x'.repeat(300000)}`);
    const tail = run('1');
    assert.ok(JSON.parse(tail.trim().split('\n').at(-1)!).lines > JSON.parse(one.trim().split('\n').at(-1)!).lines);
    assert.equal(run('2'), tail);
    assert.equal(run('3', '4096'), tail);
  });

  it('reads the file it was given even when its name is rotated to another file meanwhile', async () => {
    const dir = tmpdir();
    const file = path.join(dir, 'messages');
    const text = generateText(2 << 20, 4);
    fs.writeFileSync(file, text);
    const fd = fs.openSync(file, 'r');
    // logrotate: the name now belongs to a new, different file.
    fs.renameSync(file, `${file}.1`);
    fs.writeFileSync(file, generateText(1 << 20, 9));
    const got: AnalyzedReport[] = [];
    const scanner = new Scanner({ rules: rules() }, (a) => got.push(a));
    scanner.beginSource('messages', REFERENCE);
    try {
      await withBlockSize('65536', () => scanFileParallel(fd, Buffer.byteLength(text), scanner, 3, () => {}));
    } finally {
      fs.closeSync(fd);
    }
    scanner.flush();
    const want = scanText(text, { referenceTime: REFERENCE });
    assert.ok(want.length > 5);
    const key = (rs: AnalyzedReport[]): string => JSON.stringify(rs.map((a) => [a.report.source.line, a.report.task, a.report.pid, a.report.frames.length]));
    assert.equal(key(got), key(want));
  });

  it('a file truncated while it is scanned counts the bytes and lines it had, not its size at the start', async () => {
    const dir = tmpdir();
    const file = path.join(dir, 'messages');
    const text = generateText(1 << 20, 5);
    fs.writeFileSync(file, text);
    const fd = fs.openSync(file, 'r');
    const got: AnalyzedReport[] = [];
    const scanner = new Scanner({ rules: rules() }, (a) => got.push(a));
    scanner.beginSource('messages', REFERENCE);
    let bytes = 0;
    let lines: number;
    try {
      // The size the scan was given is the file's before a truncation (copytruncate) cut 300 KB off.
      ({ lines } = await withBlockSize('65536', () => scanFileParallel(fd, Buffer.byteLength(text) + 300000, scanner, 3, (n) => { bytes += n; })));
    } finally {
      fs.closeSync(fd);
    }
    scanner.flush();
    assert.equal(bytes, Buffer.byteLength(text));
    assert.equal(lines, text.split('\n').length - 1, 'the text ends with a newline: no partial last line');
    assert.equal(got.length, scanText(text, { referenceTime: REFERENCE }).length);
  });

  it('a read that fails, in any thread, is an unreadable input with the reason in words', async () => {
    const dir = tmpdir();
    // A descriptor that cannot be read (a directory): while cutting blocks, and in the searches.
    for (const block of ['65536', String(8 << 20)]) {
      const fd = fs.openSync(dir, 'r');
      const scanner = new Scanner({ rules: rules() }, () => {});
      try {
        await withBlockSize(block, () => assert.rejects(scanFileParallel(fd, 1 << 20, scanner, 3, () => {}), (e: Error) => {
          assert.ok(e instanceof PartReadError, String(e));
          assert.equal(describeError(e.cause), 'is a directory');
          return true;
        }));
      } finally {
        fs.closeSync(fd);
      }
    }
  });

  it('stops at SIGTERM, and when its reader goes away, however dense the reports', async function () {
    this.timeout(120000);
    const dir = tmpdir();
    const file = path.join(dir, 'dense');
    // Nothing but headers: every line is a report, and the analysis never catches up.
    const line = (i: number): string => `Jan 29 10:41:07 h kernel: INFO: task ps:${i} blocked for more than 120 seconds.\n`;
    const fd = fs.openSync(file, 'w');
    for (let i = 0; i < 100; i++) fs.writeSync(fd, Array.from({ length: 10000 }, (_, k) => line(i * 10000 + k)).join(''));
    fs.closeSync(fd);
    const env = { ...process.env, TZ: 'UTC', NO_COLOR: '1', KLOGSCAN_RULES_D: '/nonexistent', KLOGSCAN_THREADS: '2', KLOGSCAN_PARALLEL_MIN: '1024' };
    const child = spawn(process.execPath, [BIN, '--no-db', '--json', file], { env, stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    child.stdout.on('data', (d: Buffer) => {
      if (out === '') child.kill('SIGTERM');
      out = (out + d.toString()).slice(-65536);
    });
    const code = await new Promise<number | null>((resolve) => child.on('exit', resolve));
    assert.equal(code, 0);
    const summary = JSON.parse(out.trim().split('\n').at(-1)!) as { type: string; lines: number };
    assert.equal(summary.type, 'summary');
    assert.ok(summary.lines < 1000000, `stopped early, not after all ${summary.lines} lines`);

    // `| head -1`: the reader leaves after one line; the rest of the file is not read.
    const head = spawnSync('sh', ['-c', `"${process.execPath}" "${BIN}" --no-db --json "${file}" --stats | head -1 >/dev/null`], { env, encoding: 'utf8' });
    assert.equal(head.status, 0);
    const stats = /stats: .* ([\d]+) lines/.exec(head.stderr);
    assert.ok(!stats || Number(stats[1]) < 1000000, head.stderr);
  });
});
