// Records a forger, an odd kernel or a huge fleet can put in a log: each must neither stop the
// scan nor hide a real report.
import assert from 'node:assert/strict';
import path from 'node:path';
import { Assembler } from '../parsers/assembler.js';
import type { TaskReport } from '../parsers/record.js';
import { Scanner } from '../src/scan.js';
import { cli, frameNames, REFERENCE, rules, sample, scanText, tmpdir } from './helpers.js';

const JAVA = sample('seed/centos7-java-rwsem.messages');
const FRAMES = ['Call Trace:', ' [<ffffffff816a94c9>] schedule+0x29/0x70', ' [<ffffffff816aaafd>] rwsem_down_read_failed+0x10d/0x1a0',
  ' [<ffffffff816a8760>] down_read+0x20/0x40', ' [<ffffffff8108d8b9>] do_exit+0x189/0xa40', ' [<ffffffff816b527d>] int_signal+0x12/0x17'];

function journal(message: string | number[], spaced = false): string {
  const o = { _TRANSPORT: 'kernel', _HOSTNAME: 'h1', __REALTIME_TIMESTAMP: '1548758467000000', MESSAGE: message };
  const s = JSON.stringify(o);
  return spaced ? s.replace(/":/g, '" : ').replace(/,"/g, ', "') : s;
}

describe('hostile and unusual records', () => {
  it('a forged header with a 20-digit pid or duration is no report, and the real one after it is found and stored', () => {
    for (const forged of ['x:99999999999999999999 blocked for more than 120 seconds.', 'x:5 blocked for more than 99999999999999999999 seconds.']) {
      const text = `Jan 29 10:40:00 app-prod-17 kernel: INFO: task ${forged}\n${JAVA}`;
      const got = scanText(text);
      assert.deepEqual(got.map((a) => `${a.report.task}:${a.report.pid}`), ['java:181134']);
      const r = cli(['--db', path.join(tmpdir(), 'k.db'), '-'], { input: text });
      assert.equal(r.status, 0, r.stderr);
      assert.match(r.stdout, /stored: 1 new report/);
    }
  });

  it('a task name holding CR, LF or U+2028 (journal JSON, bytes, kmsg) is still reported, escaped', () => {
    const header = (name: string): string => `INFO: task ${name}:181134 blocked for more than 120 seconds.`;
    const inputs = [
      [journal(header('ja\rva')), ...FRAMES.map((f) => journal(f))],
      [journal(header('ja\nva')), ...FRAMES.map((f) => journal(f))],
      [journal(header('ja\u2028va')), ...FRAMES.map((f) => journal(f))],
      [journal([...Buffer.from(header('ja\rva'))]), ...FRAMES.map((f) => journal(f))],
      ['3,1,100,-;' + header('ja\\x0dva'), ...FRAMES.map((f, i) => `6,${i + 2},100,-;${f}`)],
    ];
    for (const lines of inputs) {
      const got = scanText(lines.join('\n') + '\n');
      assert.equal(got.length, 1, lines[0]);
      assert.match(got[0].report.task, /^ja[\r\n\u2028]va$/);
      assert.equal(frameNames(got[0])[3], 'do_exit');
      const r = cli(['--no-db', '-'], { input: lines.join('\n') + '\n' });
      assert.ok(!/ja[\r\n\u2028]va/.test(r.stdout), 'the raw control character reached the terminal');
      assert.match(r.stdout, /hung task ja\\(x0d|x0a|u2028)va:181134/);
    }
  });

  it('MESSAGE as bytes is found in spaced JSON too (older journalctl: "MESSAGE" : [...])', () => {
    const lines = [journal([...Buffer.from('INFO: task ja\x01va:181134 blocked for more than 120 seconds.')], true),
      ...FRAMES.map((f) => journal(f, true))];
    const got = scanText(lines.join('\n') + '\n');
    assert.equal(got.length, 1);
    assert.equal(got[0].report.task, 'ja\x01va');
  });

  it('a deeply nested journal field is ignored, and the run goes on', () => {
    const deep = '{"_TRANSPORT":"kernel","MESSAGE":"INFO: task e:5 blocked for more than 120 seconds.","_HOSTNAME":'
      + '['.repeat(20000) + ']'.repeat(20000) + '}';
    const r = cli(['--no-db', '--json', '-'], { input: `${deep}\n${JAVA}` });
    assert.equal(r.status, 0, r.stderr);
    const reports = r.json.filter((j) => j.type === 'report');
    assert.deepEqual(reports.map((j) => j.task), ['e', 'java']);
  });

  it('times of 400 digits are no times: no crash, no store error, the report kept without them', () => {
    const nines = '9'.repeat(400);
    const rec = (real: string, mono: string, msg: string): string => JSON.stringify({ __REALTIME_TIMESTAMP: real, _SOURCE_MONOTONIC_TIMESTAMP: mono,
      _BOOT_ID: 'b1', _HOSTNAME: 'inf', _TRANSPORT: 'kernel', PRIORITY: '3', MESSAGE: msg });
    const text = [rec(nines, '5000000', 'INFO: task a:1 blocked for more than 120 seconds.'), rec('1548758467000000', nines, 'INFO: task b:2 blocked for more than 120 seconds.'),
      `[${nines}.000000] INFO: task c:3 blocked for more than 120 seconds.`, ''].join('\n');
    const dir = tmpdir();
    const r = cli(['--db', path.join(dir, 'k.db'), '--json', '-'], { input: text });
    assert.equal(r.status, 0, r.stderr);
    const reports = r.json.filter((o) => o.type === 'report').map((o) => [o.task, o.time, o.uptime]);
    assert.deepEqual(reports, [['a', null, 5], ['b', '2019-01-29T10:41:07.000Z', null], ['c', null, null]]);
  });

  it('followed files are apart: a line of one ending in `=` or cut short takes no line of the next as its rest', () => {
    for (const last of ['audit: type=1400 apparmor="STATUS" name=', 'task:java        state:D stack:0     pid:4242']) {
      const out: TaskReport[] = [];
      const asm = new Assembler({ referenceTime: REFERENCE }, (r) => out.push(r));
      let n = 0;
      asm.setScope('kern.log');
      for (const l of ['Jan  1 00:00:00 hostA kernel: [    1.000000] INFO: task java:4242 blocked for more than 120 seconds.',
        `Jan  1 00:00:00 hostA kernel: [    1.000001] ${last}`]) asm.push(l, { name: 'kern.log', line: ++n });
      asm.setScope('console.log');
      for (const l of ['INFO: task dd:555 blocked for more than 120 seconds.', 'task:dd              state:D stack:    0 pid:  555 ppid:     2 flags:0x00004000',
        'Call Trace:', ' __schedule+0x2f6/0xf80']) asm.push(l, { name: 'console.log', line: ++n });
      asm.flush();
      // (The cut task line still gives its own state.)
      const java = last.startsWith('task:') ? 'D' : null;
      assert.deepEqual(out.map((r) => [r.task, r.host, r.state, r.frames.length]).sort(), [['dd', null, 'D', 1], ['java', 'hostA', java, 0]], last);
    }
  });

  it('a report cut in two files at any line is the report of the whole file (blocker and owner trace included), and a whole one takes no other trace', () => {
    const digest = (r: TaskReport): unknown[] => [r.kind, r.task, r.pid, r.frames.length, r.truncated, r.blocker?.owner?.pid ?? null, r.blocker?.ownerFrames.length ?? 0];
    const scan = (parts: [string, string[]][]): unknown[][] => {
      const out: TaskReport[] = [];
      const asm = new Assembler({ referenceTime: REFERENCE }, (r) => out.push(r));
      for (const [name, lines] of parts) lines.forEach((l, i) => asm.push(l, { name, line: i + 1 }));
      asm.flush();
      return out.map(digest);
    };
    for (const file of ['eras/6x-blocker-mutex-owner-trace-no-timestamps.log', 'seed/centos7-java-rwsem.messages']) {
      const lines = sample(file).split('\n');
      const whole = scan([['one', lines]]);
      for (let k = 1; k < lines.length; k++) assert.deepEqual(scan([['a', lines.slice(0, k)], ['b', lines.slice(k)]]), whole, `${file} cut after line ${k}`);
    }
    // A whole trace, then another file that starts with the top of another trace (samples/seed).
    const two = scan([['dmesg', sample('seed/alios7-ps-cmdline.dmesg').split('\n')], ['stack', sample('seed/centos7-cat-proc-stack.txt').split('\n')]]);
    assert.deepEqual(two.map((d) => [d[1], d[3]]), [['ps', 12]]);
  });

  it('kmsg continuation pieces (c then +) are joined into one line', () => {
    const recs = ['3,100,6141921740,-;INFO: task java:181134 blocked for more than 120 seconds.', '6,101,6141921750,-;Call Trace:'];
    let seq = 102;
    for (const f of FRAMES.slice(1)) {
      const [addr, fn] = f.trim().split(' ');
      recs.push(`4,${seq++},6141921760,c; ${addr} `, `4,${seq++},6141921760,+;${fn}`);
    }
    const got = scanText(recs.join('\n') + '\n');
    assert.equal(got.length, 1);
    assert.deepEqual(frameNames(got[0]), ['schedule', 'rwsem_down_read_failed', 'down_read', 'do_exit', 'int_signal']);
    assert.equal(got[0].report.truncated, false);
    assert.ok(got[0].matches.some((m) => m.rule === 'rhel7-rwsem-missed-wakeup'));
  });

  it('1500 hosts interleaved line by line: every report keeps its whole trace', () => {
    const n = 1500;
    const per: string[][] = [];
    for (let h = 0; h < n; h++) {
      const p = `Jan 29 10:41:07 host${h} kernel: `;
      per.push([`${p}INFO: task java:${1000 + h} blocked for more than 120 seconds.`, ...FRAMES.map((f) => p + f)]);
    }
    let text = '';
    for (let i = 0; i < per[0].length; i++) for (let h = 0; h < n; h++) text += per[h][i] + '\n';
    const got = scanText(text);
    assert.equal(got.length, n);
    assert.ok(got.every((a) => a.report.frames.length === 5 && !a.report.truncated));
  });

  it('a report ended only because too many were open is "cut short", not "without a trace"', () => {
    const out: TaskReport[] = [];
    const asm = new Assembler({ referenceTime: REFERENCE }, (r) => out.push(r), { maxOpen: 2 });
    for (let h = 0; h < 3; h++) asm.push(`Jan 29 10:41:07 host${h} kernel: INFO: task java:${h + 1} blocked for more than 120 seconds.`, { name: 't', line: h + 1 });
    // (Without a release it waits for a stack dump that may name one: no longer waiting, it comes out.)
    asm.releaseWaiting();
    assert.equal(out.length, 1);
    assert.equal(out[0].host, 'host0');
    assert.equal(out[0].truncated, true);
  });

  it('a cut-short header never completed stops holding the fast path after a while', () => {
    const scanner = new Scanner({ rules: rules() }, () => {});
    scanner.beginSource('t', REFERENCE);
    scanner.line('Jan 29 10:41:07 h1 kernel: INFO: task foo:1 blocked', 1, 0);
    assert.equal(scanner.idle(), false);
    for (let i = 2; i < 400; i++) scanner.line(`Jan 29 10:41:08 h1 sshd[1]: Accepted publickey for deploy ${i}`, i, 0);
    assert.equal(scanner.idle(), true);
  });

  it('"Feb 29" without a year falls in the latest leap year at or before the reference', () => {
    const got = scanText(JAVA.replaceAll('Jan 29', 'Feb 29'), { referenceTime: Date.UTC(2025, 5, 1) });
    assert.equal(new Date(got[0].report.time!).getFullYear(), 2024);
    assert.equal(new Date(got[0].report.time!).getMonth(), 1);
  });

  it('evidence lines are kept short, however long the line', () => {
    const long = 'Jan 29 10:40:00 app-prod-17 kernel: nfs: server filer1 not responding, still trying ' + 'x'.repeat(3000);
    const got = scanText(`${long}\n${JAVA}`);
    assert.equal(got[0].report.context.length, 1);
    assert.ok(got[0].report.context[0].startsWith('nfs: server filer1 not responding'));
    assert.ok(got[0].report.context[0].length <= 512);
  });
});
