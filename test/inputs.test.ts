// Inputs as operators hand them over: pipes named like files, FIFOs, gzip with trailing bytes,
// a report cut in two by a rotation, stdout that fails, typos, and log text built to fool a terminal.
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import zlib from 'node:zlib';
import { BIN, cli, count, ROOT, sample, tmpdir } from './helpers.js';

const SEED_FILE = path.join(ROOT, 'samples/seed/centos7-java-rwsem.messages');
const JAVA = sample('seed/centos7-java-rwsem.messages');
const ENV = { ...process.env, TZ: 'UTC', NO_COLOR: '1', KLOGSCAN_RULES_D: '/nonexistent' };

function summary(r: { json: Record<string, unknown>[] }): Record<string, unknown> {
  const s = r.json.at(-1)!;
  assert.equal(s.type, 'summary');
  return s;
}

/** Resolves with the exit code, or null when the process was still running after `ms`. */
function exitWithin(child: ReturnType<typeof spawn>, ms: number): Promise<number | null> {
  return new Promise((resolve) => {
    const t = setTimeout(() => resolve(null), ms);
    child.on('exit', (code) => {
      clearTimeout(t);
      resolve(code);
    });
  });
}

describe('inputs', function () {
  this.timeout(30000);
  let dir: string;
  beforeEach(() => {
    dir = tmpdir('klogscan-inputs-');
  });

  it('reads a pipe named like a file: /dev/stdin and <(cmd)', () => {
    const viaDevStdin = cli(['--no-db', '--json', '/dev/stdin'], { input: JAVA });
    assert.equal(viaDevStdin.status, 0, viaDevStdin.stderr);
    assert.equal(viaDevStdin.json[0].task, 'java');
    assert.equal((viaDevStdin.json[0].frames as unknown[]).length, 15);
    const bash = spawnSync('bash', ['-c', `"${process.execPath}" "${BIN}" --no-db --json <(cat "${SEED_FILE}")`], { encoding: 'utf8', env: ENV });
    assert.equal(bash.status, 0, bash.stderr);
    assert.match(bash.stdout, /"rule":"rhel7-rwsem-missed-wakeup"/);
  });

  it('reads a FIFO, gzip recognised by its first bytes, and stops at SIGTERM while nobody writes to it', async () => {
    const fifo = path.join(dir, 'p');
    spawnSync('mkfifo', [fifo]);
    const reader = spawn(process.execPath, [BIN, '--no-db', '--json', fifo], { env: ENV });
    let out = '';
    reader.stdout.on('data', (d: Buffer) => { out += d.toString(); });
    fs.writeFileSync(fifo, zlib.gzipSync(JAVA));
    assert.equal(await exitWithin(reader, 10000), 0);
    assert.match(out, /"task":"java"/);

    const idle = spawn(process.execPath, [BIN, '--no-db', fifo], { env: ENV });
    // (Long enough for a loaded machine to start it: a SIGTERM before its handler is set kills it
    // by the signal, which is not what is asked here.)
    await new Promise((r) => setTimeout(r, 2000));
    idle.kill('SIGTERM');
    const code = await exitWithin(idle, 3000);
    if (code === null) idle.kill('SIGKILL');
    assert.equal(code, 0, 'a FIFO without a writer does not keep klogscan from stopping');
  });

  it('a FIFO cannot be followed: one line, exit 2', () => {
    const fifo = path.join(dir, 'p');
    spawnSync('mkfifo', [fifo]);
    const r = cli(['-f', '--no-db', fifo]);
    assert.equal(r.status, 2);
    assert.match(r.stderr, /^klogscan: cannot follow .*p: it is not a regular file/);
    assert.equal(r.stderr.trim().split('\n').length, 1);
  });

  it('stops on SIGTERM while the writer of its stdin stays alive', async () => {
    const child = spawn(process.execPath, [BIN, '--no-db', '--json'], { env: ENV, stdio: ['pipe', 'pipe', 'pipe'] });
    let out = '';
    child.stdout.on('data', (d: Buffer) => { out += d.toString(); });
    child.stdin.write(JAVA);
    await new Promise((r) => setTimeout(r, 1000));
    child.kill('SIGTERM');
    const code = await exitWithin(child, 3000);
    if (code === null) child.kill('SIGKILL');
    assert.equal(code, 0);
    assert.match(out, /"task":"java"/);
    assert.match(out.trim().split('\n').at(-1)!, /^\{"type":"summary"/);
  });

  it('a report cut in two by a rotation is whole when both files are given', () => {
    const lines = JAVA.split('\n');
    fs.writeFileSync(path.join(dir, 'messages-20190129'), lines.slice(0, 9).join('\n') + '\n');
    fs.writeFileSync(path.join(dir, 'messages'), lines.slice(9).join('\n'));
    const r = cli(['--no-db', '--json', 'messages-20190129', 'messages'], { cwd: dir });
    assert.equal(r.status, 0, r.stderr);
    const reports = r.json.filter((o) => o.type === 'report');
    assert.equal(reports.length, 1);
    assert.equal(reports[0].truncated, false);
    assert.equal((reports[0].frames as unknown[]).length, 15);
    assert.equal((reports[0].matches as { rule: string }[])[0].rule, 'rhel7-rwsem-missed-wakeup');
    assert.equal(summary(r).inputs, 2);
  });

  it('a whole report ends with its file: the next file\'s first lines are not its own (the seed files scanned together)', () => {
    const r = cli(['--no-db', '--json', 'samples/seed/alios7-ps-cmdline.dmesg', 'samples/seed/centos7-cat-proc-stack.txt']);
    assert.equal(r.status, 0, r.stderr);
    const ps = r.json.filter((o) => o.type === 'report');
    assert.deepEqual(ps.map((o) => [o.task, (o.frames as { fn: string }[]).at(-1)?.fn]), [['ps', 'entry_SYSCALL_64_fastpath']]);
  });

  it('gzip: trailing garbage is warned about and what came before it is read; members are concatenated', () => {
    const gz = zlib.gzipSync(JAVA);
    fs.writeFileSync(path.join(dir, 'trail.gz'), Buffer.concat([gz, Buffer.from('garbage\n')]));
    const r = cli(['--no-db', '--json', 'trail.gz'], { cwd: dir });
    assert.equal(r.status, 0);
    assert.match(r.stderr, /^klogscan: trail\.gz: trailing garbage ignored/);
    assert.equal(r.json.filter((o) => o.type === 'report').length, 1);

    const lines = JAVA.split('\n');
    const two = Buffer.concat([zlib.gzipSync(lines.slice(0, 5).join('\n') + '\n'), zlib.gzipSync(lines.slice(5).join('\n'))]);
    fs.writeFileSync(path.join(dir, 'two.gz'), two);
    const m = cli(['--no-db', '--json', 'two.gz'], { cwd: dir });
    assert.equal(m.stderr, '');
    assert.equal((m.json[0].frames as unknown[]).length, 15);
    // Bytes of log text and of gzip data are counted apart.
    assert.equal(summary(m).bytes, Buffer.byteLength(JAVA));
    assert.equal(summary(m).compressed_bytes, two.length);

    fs.writeFileSync(path.join(dir, 'cut.gz'), gz.subarray(0, gz.length - 12));
    const cut = cli(['--no-db', 'cut.gz'], { cwd: dir });
    assert.equal(cut.status, 2);
    assert.match(cut.stderr, /cut\.gz: .*(end of file|truncated)/);
  });

  it('UTF-16 text (a log saved on Windows) is read as the same log: either byte order, with or without a mark, gzipped, from stdin', () => {
    const le = Buffer.from(JAVA.replace(/\n/g, '\r\n'), 'utf16le');
    const be = Buffer.from(le).swap16();
    const inputs: [string, Buffer][] = [
      ['le.log', Buffer.concat([Buffer.from([0xff, 0xfe]), le])],
      ['be.log', Buffer.concat([Buffer.from([0xfe, 0xff]), be])],
      ['nomark.log', le],
      ['le.log.gz', zlib.gzipSync(Buffer.concat([Buffer.from([0xff, 0xfe]), le]))],
    ];
    const runs = inputs.map(([name, data]) => {
      fs.writeFileSync(path.join(dir, name), data);
      return cli(['--no-db', '--json', '--year', '2019', name], { cwd: dir });
    });
    runs.push(cli(['--no-db', '--json', '--year', '2019', '-'], { cwd: dir, input: inputs[0][1] }));
    runs.push(cli(['--no-db', '--json', '--year', '2019', '-'], { cwd: dir, input: inputs[3][1] }));
    for (const r of runs) {
      assert.equal(r.status, 0, r.stderr);
      const [java] = r.json.filter((o) => o.type === 'report');
      assert.equal(java.task, 'java');
      assert.equal(java.host, 'app-prod-17');
      assert.equal((java.frames as unknown[]).length, 15);
      assert.equal(summary(r).reports, 1);
    }
    // A file that merely starts with a UTF-8 byte order mark.
    fs.writeFileSync(path.join(dir, 'bom.log'), `\ufeff${JAVA}`);
    const bom = cli(['--no-db', '--json', 'bom.log'], { cwd: dir });
    assert.equal((bom.json[0].frames as unknown[]).length, 15);
    assert.equal(bom.json[0].host, 'app-prod-17');
  });

  it('a systemd journal file is read through journalctl: its kernel entries, or one line saying why not', () => {
    const journal = path.join(dir, 'system.journal');
    fs.writeFileSync(journal, Buffer.concat([Buffer.from('LPKSHHRH'), Buffer.alloc(4096)]));
    const json = fs.readFileSync(path.join(ROOT, 'samples/formats/seed-java.journal-json.log'));
    fs.writeFileSync(path.join(dir, 'entries.json'), json);
    // A stand-in journalctl: prints the entries when asked for the file's kernel entries as JSON.
    const bin = path.join(dir, 'bin');
    fs.mkdirSync(bin);
    fs.writeFileSync(path.join(bin, 'journalctl'), [
      '#!/bin/sh',
      `[ "$*" = "--file ${journal} --output json --no-pager _TRANSPORT=kernel" ] || { echo "unexpected arguments: $*" >&2; exit 1; }`,
      `[ -e ${dir}/broken ] && { echo "Failed to open files: Bad message" >&2; exit 1; }`,
      `cat ${dir}/entries.json`,
    ].join('\n'), { mode: 0o755 });
    const env = { PATH: `${bin}:/usr/bin:/bin` };
    const ok = cli(['--no-db', '--json', journal], { env });
    assert.equal(ok.status, 0, ok.stderr);
    assert.equal(ok.json[0].host, 'app-prod-17');
    assert.equal((ok.json[0].frames as unknown[]).length, 15);
    fs.writeFileSync(path.join(dir, 'broken'), '');
    const bad = cli(['--no-db', journal], { env });
    assert.equal(bad.status, 2);
    assert.match(bad.stderr, /^klogscan: cannot read .*system\.journal: journalctl: Failed to open files: Bad message$/m);
    const none = cli(['--no-db', journal], { env: { PATH: '/nonexistent' } });
    assert.equal(none.status, 2);
    assert.match(none.stderr, /system\.journal: a systemd journal file, and journalctl, which reads it, is not installed/);
    const piped = cli(['--no-db', '-'], { input: fs.readFileSync(journal) });
    assert.equal(piped.status, 2);
    assert.match(piped.stderr, /standard input is a systemd journal file: give its name/);
  });

  it('a real journal file, when this machine has journalctl and systemd-journal-remote to make one', function () {
    const remote = ['/lib/systemd/systemd-journal-remote', '/usr/lib/systemd/systemd-journal-remote'].find((p) => fs.existsSync(p));
    if (!remote || spawnSync('journalctl', ['--version']).status !== 0) this.skip();
    const journal = path.join(dir, 'remote.journal');
    const made = spawnSync(remote!, ['-o', journal, '-'], { input: fs.readFileSync(path.join(ROOT, 'samples/formats/seed-java.journal-export.log')) });
    assert.equal(made.status, 0, String(made.stderr));
    const r = cli(['--no-db', '--json', journal]);
    assert.equal(r.status, 0, r.stderr);
    assert.deepEqual([r.json[0].task, r.json[0].host, (r.json[0].frames as unknown[]).length], ['java', 'app-prod-17', 15]);
  });

  it('with 2>&1, a message about one input comes after the reports of the inputs before it', () => {
    // Output into a pipe is gathered into larger writes: it must still come out before stderr.
    // A later line of the host ends the report within the first file.
    fs.writeFileSync(path.join(dir, 'a.log'), `${JAVA.trimEnd()}\nJan 29 10:45:00 app-prod-17 kernel: e1000e: eth0 NIC Link is Up\n`);
    const r = spawnSync('sh', ['-c', `"${process.execPath}" "${BIN}" --no-db --json a.log missing.log 2>&1`], { env: ENV, cwd: dir, encoding: 'utf8' });
    assert.equal(r.status, 2);
    const lines = r.stdout.trimEnd().split('\n');
    const kinds = lines.map((l) => (l.startsWith('klogscan: ') ? 'error' : (JSON.parse(l) as { type: string }).type));
    assert.deepEqual(kinds, ['report', 'error', 'summary']);
    assert.match(lines[1], /missing\.log: no such file/);
  });

  it('a failed write to stdout is one line and exit 2', () => {
    const full = fs.openSync('/dev/full', 'w');
    const r = spawnSync(process.execPath, [BIN, '--no-db', SEED_FILE], { env: ENV, stdio: ['ignore', full, 'pipe'], encoding: 'utf8' });
    fs.closeSync(full);
    assert.equal(r.status, 2);
    assert.equal(r.stderr, 'klogscan: cannot write output: no space left on device\n');
  });

  it('usage mistakes: a second -, --from-start without -f, a mistyped command, stdin a directory', () => {
    const twice = cli(['--no-db', '-', '-'], { input: JAVA });
    assert.equal(twice.status, 2);
    assert.match(twice.stderr, /standard input \(-\) can be read only once/);
    const fromStart = cli(['--no-db', '--from-start', SEED_FILE]);
    assert.equal(fromStart.status, 2);
    assert.match(fromStart.stderr, /--from-start is for follow mode/);
    const db = path.join(dir, 'never.db');
    const typo = cli(['histroy'], { cwd: dir, env: { KLOGSCAN_DB: db } });
    assert.equal(typo.status, 2);
    assert.match(typo.stderr, /unknown command 'histroy'; did you mean history\?/);
    assert.equal(fs.existsSync(db), false, 'a typo opens no database');
    // Options before the subcommand: the subcommand still runs (it is not scanned as a file).
    const scanned = path.join(dir, 'before.db');
    assert.equal(cli(['--db', scanned, SEED_FILE]).status, 0);
    const before = cli(['--db', scanned, 'history', '--json']);
    assert.equal(before.status, 0, before.stderr);
    assert.deepEqual(before.json.map((o) => o.type), ['incident']);
    // An option's value that spells a subcommand is the option's value: `--db history FILE` scans FILE into ./history.
    const valued = cli(['--db', 'history', SEED_FILE], { cwd: dir });
    assert.equal(valued.status, 0, valued.stderr);
    assert.match(valued.stdout, /hung task java:181134/);
    assert.equal(count(path.join(dir, 'history'), 'SELECT count(*) AS n FROM reports'), 1);
    // A file of that name is a file, not a typo.
    fs.writeFileSync(path.join(dir, 'stats'), JAVA);
    assert.equal(cli(['--no-db', './stats'], { cwd: dir }).status, 0);
    assert.match(cli(['--no-db', 'stats'], { cwd: dir }).stdout, /hung task java:181134/, 'an existing file named stats is scanned');
    const d = spawnSync(process.execPath, [BIN, '--no-db'], { env: ENV, stdio: [fs.openSync(dir, 'r'), 'pipe', 'pipe'], encoding: 'utf8' });
    assert.equal(d.status, 2);
    assert.match(d.stderr, /cannot read standard input: is a directory/);
  });

  it('rules test on a directory without rule files, or with extra arguments, is a usage error', () => {
    const empty = cli(['rules', 'test', dir]);
    assert.equal(empty.status, 2);
    assert.match(empty.stderr, /no rule files in/);
    const extra = cli(['rules', 'list', 'junk']);
    assert.equal(extra.status, 2);
    assert.match(extra.stderr, /rules list takes no arguments/);
  });

  it('escape sequences and direction overrides in log text reach no terminal, also through the verdict', () => {
    const lines = JAVA.split('\n');
    const tainted = 'Jan 29 10:41:07 app-prod-17 kernel:       Tainted: G           OE  3.10.0-693.el7.\x1b[2J\x1b]0;owned\x07 #1';
    const evil = [lines[0].replace('java:181134', 'ja\u202eva:181134'), tainted, ...lines.slice(1)].join('\n');
    fs.writeFileSync(path.join(dir, 'esc.log'), evil);
    const db = path.join(dir, 'e.db');
    const scan = cli(['--db', db, 'esc.log'], { cwd: dir });
    assert.equal(scan.status, 0, scan.stderr);
    assert.match(scan.stdout, /older than the fix/);
    const show = cli(['show', '1', '--db', db], { cwd: dir });
    for (const out of [scan.stdout, show.stdout]) {
      // eslint-disable-next-line no-control-regex
      assert.doesNotMatch(out, /[\x07\x1b\u202e]/);
      assert.match(out, /\\x1b\[2J/);
      assert.match(out, /ja\\u202eva/);
    }
  });
});

describe('gzip edge cases', () => {
  it('a header whose file name never ends is an error at once; NUL padding then one stray byte is trailing garbage', () => {
    const dir = tmpdir('klogscan-gz-');
    const header = Buffer.from([0x1f, 0x8b, 8, 8, 0, 0, 0, 0, 0, 3]);
    fs.writeFileSync(path.join(dir, 'name.gz'), Buffer.concat([header, Buffer.alloc(8 << 20, 0x41)]));
    const r = cli(['--no-db', 'name.gz'], { cwd: dir, timeout: 20000 });
    assert.equal(r.status, 2);
    assert.match(r.stderr, /name\.gz: not valid gzip data \(header field too long\)/);
    fs.writeFileSync(path.join(dir, 'pad.gz'), Buffer.concat([zlib.gzipSync(JAVA), Buffer.alloc(5), Buffer.from('X')]));
    const p = cli(['--no-db', '--json', 'pad.gz'], { cwd: dir });
    assert.equal(p.status, 0, p.stderr);
    assert.match(p.stderr, /trailing garbage ignored/);
    assert.equal(p.json.filter((o) => o.type === 'report').length, 1);
  });
});
