// Report grammar and assembly: headers, task lines, blockers, streams, endings, negatives.
import assert from 'node:assert/strict';
import { parseCrashStart } from '../parsers/crash.js';
import { parseBlocker, parseHeader, parseTainted, parseTaskLine } from '../parsers/hung-task.js';
import type { AnalyzedReport } from '../src/scan.js';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { cli, count, frameNames, ROOT, sample, scanText, tmpdir } from './helpers.js';

const JAVA = sample('seed/centos7-java-rwsem.messages');

describe('hung-task header', () => {
  it('takes the pid as the last :digits, whatever the task name holds', () => {
    for (const [line, task, pid, secs] of [
      ['INFO: task kworker/u8:102:403349 blocked for more than 1228 seconds.', 'kworker/u8:102', 403349, 1228],
      ['INFO: task (udev-worker):9428 blocked for more than 122 seconds.', '(udev-worker)', 9428, 122],
      ['INFO: task FwgThread OpFor:15341 blocked for more than 120 seconds.', 'FwgThread OpFor', 15341, 120],
      ['INFO: task java:181134 blocked for more than 1 seconds.', 'java', 181134, 1],
      ['INFO: task a:b:c:7 blocked for more than 28262 seconds.', 'a:b:c', 7, 28262],
    ] as const) {
      const h = parseHeader(line)!;
      assert.deepEqual([h.task, h.pid, h.blockedSeconds, h.verb], [task, pid, secs, 'blocked'], line);
    }
  });

  it('reads a header with text glued after "seconds." (a blog\'s note, a zero-width space)', () => {
    assert.equal(parseHeader('INFO: task umount:19286 blocked for more than 1200seconds.----这个默认是120')?.blockedSeconds, 1200);
    assert.equal(parseHeader('INFO: task a:1 blocked for more than 120 seconds.\u200b')?.pid, 1);
    assert.equal(parseHeader('INFO: task a:1 blocked for more than 120 secondsX'), null);
  });

  it('is no header where a program\'s field quotes it (node-problem-detector\'s Message:INFO: ...)', () => {
    assert.equal(parseHeader('Message:INFO: task cifsd:981715 blocked for more than 604 seconds.}]'), null);
    assert.equal(parseHeader('<3>INFO: task cifsd:981715 blocked for more than 604 seconds.')?.task, 'cifsd');
    assert.equal(parseHeader('[-(2)[0:swapper/2]INFO: task cifsd:981715 blocked for more than 604 seconds.')?.task, 'cifsd');
  });

  it('is no header where someone quotes one: a subject, a sentence, code, an advisory, klogscan\'s own output (helper-70)', () => {
    const h = 'INFO: task mysqld:1234 blocked for more than 120 seconds.';
    for (const quoted of [`Subject: Re: ${h}`, `We saw ${h} yesterday`, `grep -c '${h}' /var/log/messages`,
      `            'Dec 29 08:45:12 server kernel: [8765.432109] ${h}',`, `logs.append(f'Dec 29 12:15:00 server kernel: ${h}')`,
      `x = '${h}'`, '    * kernel-rt: task deadline_test:2526 blocked for more than 600 seconds. (BZ#2188625)',
      'hung task java:181134 blocked for more than 120 s', 'WARN worker queue:42 blocked for more than 10 seconds.',
      `Betreff: AW: ${h}`, `Objet : RE: ${h}`]) {
      assert.equal(parseHeader(quoted), null, quoted);
    }
    // Envelopes klogscan does not read stay readable, and a header a mail client broke after `INFO:`.
    for (const kept of [`\`[Sat Jun  1 17:40:26 2019] ${h}`, `vagrant login: [ 840.061101] ${h}`, `msg: ' ${h}'`,
      `  Warning  TaskHung  5m23s  kernel-monitor  ${h}`, '```[89431.510429] ' + h, `{"message":"${h}"}`,
      'task mysqld:1234 blocked for more than 120 seconds.', `> ${h}`,
      // CSV and JSON exports of a log platform hold the kernel's line in a field (helper-72).
      `"2024-01-05T10:00:00.000+0000","web1","Jan  5 10:00:00 web1 kernel: ${h}"`, `["1704448800000000000","${h}"]`,
      `  "msg": [ "[  123.45] ${h}",`, `  "Jan  5 10:00:00 web1 kernel: ${h}",`]) {
      assert.deepEqual([parseHeader(kept)?.task, parseHeader(kept)?.pid], ['mysqld', 1234], kept);
    }
  });

  it('knows the I/O-wait and can\'t-die variants and a vendor "s." ending', () => {
    assert.equal(parseHeader('INFO: task udevd:5612 blocked in I/O wait for more than 143 seconds.')!.verb, 'blocked in I/O wait');
    assert.equal(parseHeader("INFO: task syz-executor.4:21128 can't die for more than 143 seconds.")!.verb, "can't die");
    assert.equal(parseHeader('INFO: task khugepaged:136 blocked for more than 120 s.')!.blockedSeconds, 120);
    assert.equal(parseHeader('task 123 (ps) blocked? no: this line only mentions blocked words'), null);
  });

  it('reads Tainted and Not tainted lines of every era', () => {
    assert.deepEqual(parseTainted('      Tainted: G        W   E     4.19.0-6-amd64 #1 Debian 4.19.67-2+deb10u2'),
      { release: '4.19.0-6-amd64', tainted: 'G W E', pkg: '4.19.67-2+deb10u2' });
    assert.deepEqual(parseTainted('      Not tainted 6.8.1-arch1-1 #1'), { release: '6.8.1-arch1-1', tainted: null, pkg: null });
    assert.equal(parseTainted('      Tainted: GF IO--------------   3.10.0-210.el7.x86_64 #1')!.release, '3.10.0-210.el7.x86_64');
    assert.equal(parseTainted('      Tainted: G          I      --------- ---  5.14.0-31.rt21.31.el9.x86_64 #1')!.release, '5.14.0-31.rt21.31.el9.x86_64');
  });

  it('reads old and new task lines', () => {
    assert.deepEqual(parseTaskLine('java            D ffff881269bd7c00     0 181134      1 0x00000084'),
      { comm: 'java', state: 'D', pid: 181134, tgid: null, ppid: 1, flags: '0x00000084' });
    assert.deepEqual(parseTaskLine(' ps              D    0 14018      1 0x00000004'),
      { comm: 'ps', state: 'D', pid: 14018, tgid: null, ppid: 1, flags: '0x00000004' });
    assert.deepEqual(parseTaskLine('task:kworker/4:2     state:D stack:0     pid:1520  tgid:1520  ppid:2      task_flags:0x4288060 flags:0x00080000'),
      { comm: 'kworker/4:2', state: 'D', pid: 1520, tgid: 1520, ppid: 2, flags: '0x00080000' });
    assert.equal(parseTaskLine('task:syz-executor.5  state:R  running task     stack:26128 pid:19074 ppid:  3634 flags:0x00004004')!.state, 'R');
    assert.equal(parseTaskLine('java          D ffff810001004420     0  3120      1          3121  3119 (NOTLB)')!.pid, 3120);
    // Cut at a terminal's width after ppid: the fields that are there still count.
    assert.deepEqual(parseTaskLine('task:reboot          state:D stack:    0 pid:17359 ppid:     1 f2'),
      { comm: 'reboot', state: 'D', pid: 17359, tgid: null, ppid: 1, flags: null });
  });

  it('reads the 6.15+ blocker lines, found and not found', () => {
    const mutex = parseBlocker('INFO: task kworker/0:1:11 is blocked on a mutex likely owned by task dhcpcd:615.')!;
    assert.deepEqual([mutex.task, mutex.lock, mutex.owner], [{ task: 'kworker/0:1', pid: 11 }, 'mutex', { task: 'dhcpcd', pid: 615 }]);
    const sem = parseBlocker('INFO: task cat:955 blocked on a semaphore likely last held by task cat:909')!;
    assert.deepEqual([sem.lock, sem.owner], ['semaphore', { task: 'cat', pid: 909 }]);
    const rw = parseBlocker('INFO: task NvmlTaskRunner:11290 <reader> blocked on an rw-semaphore likely owned by task VLLM::EngineCor:46249 <writer>')!;
    assert.deepEqual([rw.lock, rw.as, rw.owner, rw.ownerAs], ['rw-semaphore', 'reader', { task: 'VLLM::EngineCor', pid: 46249 }, 'writer']);
    const none = parseBlocker('INFO: task modprobe:2342 is blocked on an rw-semaphore, but the owner is not found.')!;
    assert.equal(none.owner, null);
  });
});

describe('report assembly', () => {
  it('keeps the lines of interleaved hosts apart', () => {
    const other = (i: number): string => `Jan 29 10:41:07 db-${i % 3} kernel: e1000e: eth0 NIC Link is Up ${i}`;
    const lines = JAVA.trimEnd().split('\n');
    const mixed: string[] = [];
    lines.forEach((l, i) => { mixed.push(l, other(i), `Jan 29 10:41:07 app-prod-17 sshd[42]: session ${i}`); });
    const [a, ...rest] = scanText(mixed.join('\n') + '\n');
    assert.equal(rest.length, 0);
    assert.equal(a.report.frames.length, 15);
    assert.equal(a.report.truncated, false);
  });

  it('keeps printk callers apart: a CPU line inside a khungtaskd report does not end it', () => {
    const text = [
      '<3>[  125.362363][  T140] INFO: task zsh:470 blocked for more than 61 seconds.',
      '<6>[  125.364467][  T140] task:zsh             state:D stack:0     pid:470   tgid:470   ppid:1      flags:0x00004002',
      '<6>[  125.364500][  T140] Call Trace:',
      '<4>[  125.364510][    C3] e1000e: eth0 NIC Link is Up',
      '<6>[  125.364520][  T140]  __schedule+0x2cd/0x890',
      '<6>[  125.364530][  T140]  mutex_lock+0x1a/0x20',
      '<6>[  125.364540][  T140]  drop_caches_sysctl_handler+0x4f/0xa0',
      '<6>[  125.364550][  T140]  ret_from_fork+0x44/0x70',
    ].join('\n');
    const [a] = scanText(text);
    assert.deepEqual(frameNames(a), ['__schedule', 'mutex_lock', 'drop_caches_sysctl_handler', 'ret_from_fork']);
    assert.equal(a.report.caller, 'T140');
  });

  it('gives every task of one khungtaskd pass its own report', () => {
    const reports = scanText(sample('eras/syzbot-6.13-next-five-tasks-locks-nmi.log'));
    assert.deepEqual(reports.map((a) => a.report.pid), [5878, 5879, 5874, 5876, 5877]);
    for (const a of reports) {
      assert.equal(a.identity.signature, 'hung task in __generic_file_fsync (rwsem write)');
      assert.ok(!a.report.frames.some((f) => f.fn === 'debug_show_all_locks'), 'the lockdep table and NMI backtraces are not frames');
    }
  });

  it('a log that writes every kernel line twice gives each report once, with its frames once', () => {
    const twice = (text: string): string => text.split('\n').flatMap((l) => [l, l]).join('\n');
    // syslog without printk times, dmesg, a sysrq-w dump in syslog without printk times.
    for (const text of [JAVA, sample('formats/seed-java.dmesg.log'), sample('stress/68-2.6.9-sysrq-t-syslog-old-columns-D-S-R.log')]) {
      const plain = scanText(text);
      const reports = scanText(twice(text));
      assert.equal(reports.length, plain.length);
      reports.forEach((a, i) => assert.deepEqual(frameNames(a), frameNames(plain[i])));
    }
    const once = scanText(JAVA);
    // A line that came once in a doubled log does not stop the copies of the timed lines after it
    // from being dropped.
    const dmesg = sample('formats/seed-java.dmesg.log');
    const gap = dmesg.split('\n').flatMap((l, i) => (i === 9 ? [l] : [l, l])).join('\n');
    assert.deepEqual(frameNames(scanText(gap)[0]), frameNames(scanText(dmesg)[0]));
    // Without the doubled header, a line without a printk time that repeats is a line of its own,
    // and so is one with the time of the line before it (the clock stands still after a panic)...
    const repeat = JAVA.replace(/^(.*schedule\+0x29\/0x70)$/m, '$1\n$1');
    assert.equal(scanText(repeat)[0].report.frames.length, once[0].report.frames.length + 1);
    const fast = dmesg.replace(/^(\[ *[\d.]+\])( {2}\[<[0-9a-f]+>\] schedule\+0x29\/0x70)$/m, '$1$2\n[ 6141.999999]$2\n[ 6141.999999]$2');
    assert.equal(scanText(fast)[0].report.frames.length, scanText(dmesg)[0].report.frames.length + 2, 'a repeat within one microsecond');
    const frozen = dmesg.replace(/^\[ *[\d.]+\]/gm, '[ 6141.921740]');
    const still = frozen.replace(/^(.*\] {2}\[<[0-9a-f]+>\] schedule\+0x29\/0x70)$/m, '$1\n$1');
    assert.equal(scanText(still)[0].report.frames.length, scanText(frozen)[0].report.frames.length + 1);
    // ... and a header without any time (`dmesg -t | grep`) repeated is one report a line.
    const header = 'INFO: task jbd2/sda1-8:312 blocked for more than 120 seconds.\n';
    assert.equal(scanText(header.repeat(4)).length, 4);
    // Another host's doubled header says nothing of this host's lines.
    const other = JAVA.split('\n').flatMap((l, i) => (i === 3 ? [l, 'Jan 29 10:41:07 db-2 kernel: INFO: task x:1 blocked for more than 120 seconds.',
      'Jan 29 10:41:07 db-2 kernel: INFO: task x:1 blocked for more than 120 seconds.'] : [l])).join('\n')
      .replace(/^(.*schedule\+0x29\/0x70)$/m, '$1\n$1');
    const java = scanText(other).find((a) => a.report.task === 'java')!;
    assert.equal(java.report.frames.length, once[0].report.frames.length + 1);
  });

  it('one message of another subsystem between the header and the trace does not cost the trace', () => {
    const lines = [
      '[ 1841.392818] INFO: task jbd2/sda1-8:312 blocked for more than 120 seconds.',
      '[ 1841.392840]       Not tainted 5.15.0-91-generic #101-Ubuntu',
      '[ 1841.392851] "echo 0 > /proc/sys/kernel/hung_task_timeout_secs" disables this message.',
      '[ 1841.392860] sd 2:0:0:0: [sda] tag#17 timing out command, waited 180s',
      '[ 1841.392866] task:jbd2/sda1-8     state:D stack:    0 pid:  312 ppid:     2 flags:0x00004000',
      '[ 1841.392875] Call Trace:',
      '[ 1841.392878]  <TASK>',
      '[ 1841.392884]  __schedule+0x24e/0x590',
      '[ 1841.392893]  schedule+0x69/0x110',
      '[ 1841.392897]  jbd2_journal_commit_transaction+0x2f0/0x1a30',
      '[ 1841.392905]  kjournald2+0xa9/0x280',
      '[ 1841.392912]  kthread+0x127/0x150',
      '[ 1841.392917]  ret_from_fork+0x1f/0x30',
      '[ 1841.392925]  </TASK>',
    ];
    const [a] = scanText(lines.join('\n'));
    assert.equal(a.report.state, 'D');
    assert.equal(a.report.frames.length, 6);
    assert.equal(a.identity.signature, 'hung task in jbd2_journal_commit_transaction');
    // A header whose trace a priority filter dropped stays header-only, and the lines after it
    // keep their own meaning (a boot banner still names the next report's kernel).
    const filtered = [lines[0], '[ 1841.5] sd 2:0:0:0: [sda] tag#17 timing out command, waited 180s',
      '[    0.000000] Linux version 5.15.0-92-generic (buildd@lcy02) #102-Ubuntu SMP', lines[0].replace('1841.392818', '9.1')];
    const [b, c] = scanText(filtered.join('\n'));
    assert.equal(b.report.frames.length, 0);
    assert.equal(c.report.kernel, '5.15.0-92-generic');
  });

  it('a reply written between the quoted lines of a trace neither ends nor joins it', () => {
    const quoted = [
      '> INFO: task kworker/4:1:16648 blocked for more than 360 seconds.',
      '> task:kworker/4:1     state:D stack:0     pid:16648 tgid:16648 ppid:2      task_flags:0x4288060 flags:0x00080000',
      '> Call Trace:',
      '>   <TASK>',
      '>   __schedule+0x46b/0x1140',
      '>   schedule+0x23/0xc0',
      '>   usb_kill_urb+0x7b/0xc0',
    ];
    const rest = ['>   usb_hcd_flush_endpoint+0xb2/0x160', '>   usb_disable_interface+0xbb/0xe0', '>   kthread+0xf7/0x1f0',
      '>   ret_from_fork+0x114/0x140', '>   </TASK>'];
    const prose = ['', 'Kworker failed to kill urb within 300 seconds, so we know the underlying usb', 'hardware failed to respond.', ''];
    const [a] = scanText([...quoted, ...prose, ...rest].join('\n'));
    assert.deepEqual(frameNames(a), ['__schedule', 'schedule', 'usb_kill_urb', 'usb_hcd_flush_endpoint', 'usb_disable_interface', 'kthread', 'ret_from_fork']);
    assert.equal(a.report.truncated, false);
    assert.ok(!a.report.lines.some((l) => l.includes('Kworker failed')));
    // Frames of the writer's own trace in the reply are not the quoted report's.
    const ownTrace = ['My trace is below, from 6.2:', '  schedule+0x1/0x2', '  rwsem_down_write_slowpath+0x1/0x2', '  ext4_buffered_write_iter+0x1/0x2'];
    const [c] = scanText([...quoted, ...ownTrace].join('\n'));
    assert.deepEqual(frameNames(c), ['__schedule', 'schedule', 'usb_kill_urb']);
    // The same prose inside an unquoted paste ends the trace there.
    const [b] = scanText([...quoted, ...prose, ...rest].map((l) => l.replace(/^> /, '')).join('\n'));
    assert.equal(b.report.frames.length, 3);
  });

  it('keeps a header-only report (a priority filter dropped the trace)', () => {
    const reports = scanText(sample('eras/4.19-header-only-no-task-lines.log'));
    assert.equal(reports.length, 5);
    assert.ok(reports.every((a) => a.report.frames.length === 0 && a.report.kernel === '4.19.0-6-amd64'));
    assert.equal(reports[0].identity.signature, 'hung task of kworker/*:* (no call trace)');
  });

  it('treats growing blocked times of one task as separate reports (the store groups them)', () => {
    const reports = scanText(sample('formats/journal-monotonic-header-only-repeats.log'));
    assert.deepEqual(reports.filter((a) => a.report.pid === 136).map((a) => a.report.blockedSeconds), [122, 245, 368]);
  });

  it('attaches the owner of a 6.15+ blocker line instead of making it a hung task', () => {
    const [a, ...rest] = scanText(sample('eras/6x-arm64-blocker-mutex-T-marks.log'));
    assert.equal(rest.length, 0);
    assert.equal(a.report.task, 'kworker/0:1');
    assert.deepEqual(a.report.blocker?.owner, { task: 'dhcpcd', pid: 615 });
    assert.ok(a.report.blocker!.ownerFrames.length > 10);
    assert.ok(a.report.blocker!.ownerFrames.some((f) => f.fn === 'rwsem_down_write_slowpath'));
    assert.ok(!a.report.frames.some((f) => f.fn === 'rwsem_down_write_slowpath'));
  });

  it('keeps the blocker and the owner\'s whole trace when another CPU\'s line falls between them or inside it (helper-57)', () => {
    const lines = sample('eras/6x-blocker-rwsem-dmesg-T.log').trimEnd().split('\n');
    const stray = '[Thu Jun 12 11:01:33 2025] usb 1-1: reset high-speed USB device number 2 using xhci_hcd';
    const owner = (text: string): [string | undefined, string[]] => {
      const [a] = scanText(text);
      return [a.report.blocker?.owner?.task, (a.report.blocker?.ownerFrames ?? []).map((f) => f.fn)];
    };
    const clean = owner(lines.join('\n'));
    assert.equal(clean[0], 'rw_sem_thread1');
    assert.ok(clean[1].length > 10 && clean[1].at(-1) === 'ret_from_fork_asm', clean[1].join(' '));
    // Between `</TASK>` and the blocker line (x86), or in the middle of the owner's trace.
    assert.deepEqual(owner([...lines.slice(0, 30), stray, ...lines.slice(30)].join('\n')), clean);
    assert.deepEqual(owner([...lines.slice(0, 42), stray, ...lines.slice(42)].join('\n')), clean);
    // Two lines between them end the report: the blocker line is then no report of its own either.
    const two = scanText([...lines.slice(0, 30), stray, stray, ...lines.slice(30)].join('\n'));
    assert.deepEqual([two.length, two[0].report.blocker], [1, null]);
  });

  it('takes the flags of a whole task line that a mail client wrapped before them (helper-57)', () => {
    const text = ['INFO: task swapper/0:1 blocked for more than 122 seconds.', '      Not tainted 7.0.0 #1',
      'task:swapper/0         state:D stack:0     pid:1     tgid:1     ppid:0      task_flags:0x0140 ', 'flags:0x00000010', 'Call trace:',
      ' __switch_to+0x104/0x1c8 (T)', ' __schedule+0x2b0/0x6e0', ' schedule+0x3c/0x118', ' kthread+0x120/0x130', ' ret_from_fork+0x10/0x20', ''].join('\n');
    const [a] = scanText(text);
    assert.deepEqual([a.report.state, a.report.flags, a.report.frames.length], ['D', '0x00000010', 5]);
  });

  it('says when 6.15+ finds the task blocked by a core dump, in JSON and in text (helper-57)', () => {
    const text = ['INFO: task syz.0.17:5931 blocked for more than 143 seconds.', '      Not tainted 6.16.0-rc1 #0', '      Blocked by coredump.',
      '"echo 0 > /proc/sys/kernel/hung_task_timeout_secs" disables this message.', 'task:syz.0.17 state:D stack:28312 pid:5931 tgid:5930 ppid:5836 task_flags:0x400648 flags:0x00004004',
      'Call Trace:', ' <TASK>', ' __schedule+0x16a2/0x4cb0', ' schedule+0x165/0x360', ' do_exit+0x1f1/0x2be0', ' do_group_exit+0x21c/0x2d0',
      ' get_signal+0x125e/0x1310', ' </TASK>', ''].join('\n');
    const [a] = scanText(text);
    assert.equal(a.report.coredump, true);
    assert.equal(a.report.frames.length, 5);
    const r = cli(['--no-db', '--json', '-'], { input: text });
    assert.equal(r.json[0].blocked_by_coredump, true);
    assert.match(cli(['--no-db', '-'], { input: text }).stdout, /blocked by a core dump/);
    assert.equal(cli(['--no-db', '--json', '-'], { input: text.replace('      Blocked by coredump.\n', '') }).json[0].blocked_by_coredump, undefined);
  });

  it('reads syzbot\'s inlined frames whose line is unknown (`call_driver_probe drivers/base/dd.c:-1 [inline]`)', () => {
    const text = ['INFO: task syz.1.21:6983 blocked for more than 143 seconds.', 'Call Trace:', ' <TASK>',
      ' __schedule+0x16a2/0x4cb0 kernel/sched/core.c:6790', ' file_ioctl fs/ioctl.c:-1 [inline]',
      ' do_vfs_ioctl+0x10b/0x1760 fs/ioctl.c:840', ' </TASK>', ''].join('\n');
    assert.deepEqual(scanText(text)[0].report.frames.map((f) => [f.fn, f.source ?? null]),
      [['__schedule', 'kernel/sched/core.c:6790'], ['file_ioctl', 'fs/ioctl.c:-1'], ['do_vfs_ioctl', 'fs/ioctl.c:840']]);
  });

  it('marks a report cut off mid-trace as truncated, and a complete one not', () => {
    const lines = JAVA.trimEnd().split('\n');
    const [cut] = scanText(lines.slice(0, 12).join('\n'));
    assert.equal(cut.report.truncated, true);
    assert.equal(cut.report.frames.length, 5);
    assert.equal(scanText(JAVA)[0].report.truncated, false);
  });

  it('notes the kernel suppressing further reports, unless the host reported more after it (kernel.hung_task_panic)', () => {
    const line = 'Jan 29 10:41:07 app-prod-17 kernel: Future hung task reports are suppressed, see sysctl kernel.hung_task_warnings\n';
    const text = JAVA + line;
    assert.equal(scanText(text)[0].report.suppressesFurther, true);
    const note = (input: string): string[] => cli(['--no-db', '--json', '-'], { input }).json.filter((o) => o.type === 'summary')
      .map((o) => o.suppressed_hosts as string[]).flat();
    assert.deepEqual(note(text), ['app-prod-17']);
    // With hung_task_panic the kernel prints the line after each report of its pass, then panics:
    // the report after it shows that later hangs were not hidden.
    const more = JAVA.replace(/java:181134/g, 'java:181135').replace(/ 181134 /g, ' 181135 ');
    assert.deepEqual(note(text + more + line), []);
  });

  it('joins the lines of pasted mail that end in a quoted-printable soft break (`=`), not those ending in `==`', () => {
    const mail = sample('stress/66-6.14-rc3-blocker-mutex-quoted-printable-soft-breaks.log');
    const [r] = scanText(mail);
    assert.equal(r.report.task, 'cat');
    assert.equal(r.report.state, 'D', 'the task line, broken after `ppid:106  =`, is read whole');
    assert.equal(r.report.frames.length, 16);
    assert.deepEqual(r.report.blocker?.owner, { task: 'cat', pid: 114 });
    // Undo the soft breaks by hand: the same report.
    const [joined] = scanText(mail.replace(/=\n/g, ''));
    assert.deepEqual(frameNames(joined), frameNames(r));
    // A line that ends in `==` (lockdep's `=====` rule, base64 padding) is a line of its own.
    const reports = scanText(['INFO: task a:1 blocked for more than 120 seconds.', 'Call Trace:', ' schedule+0x29/0x70',
      '=============================================', 'INFO: task b:2 blocked for more than 120 seconds.', ''].join('\n'));
    assert.deepEqual(reports.map((a) => [a.report.task, a.report.source.line]), [['a', 1], ['b', 5]], 'the second header is not glued to the rule before it');
  });

  it('joins a soft break after a printk time and caller id: the rest of the line comes without them', () => {
    const mail = sample('stress/80-arm64-6.15-next-mail-quoted-printable-dmesg-caller-ids-blocker.log');
    const [r, ...more] = scanText(mail);
    assert.equal(more.length, 0);
    assert.deepEqual([r.report.task, r.report.pid, r.report.blockedSeconds, r.report.uptime, r.report.state, r.report.ppid],
      ['kworker/2:3', 117, 121, 244.059129, 'D', 2]);
    assert.equal(r.report.kernel, '6.15.0-rc2-next-20250417-06621-g7cd761409c73-dirty');
    assert.equal(r.report.frames.length, 19);
    assert.deepEqual(r.report.blocker?.owner, { task: 'kworker/u16:5', pid: 120 });
    assert.equal(r.report.blocker?.ownerFrames.length, 37);
    // Undo the soft breaks by hand: the same report.
    const [joined] = scanText(mail.replace(/=\n/g, ''));
    assert.deepEqual(frameNames(joined), frameNames(r));
    assert.deepEqual(joined.report.blocker?.ownerFrames, r.report.blocker?.ownerFrames);
  });

  it('reads the task, blocker and Tainted lines that a mail client wrapped at a blank, the rest without the prefix', () => {
    const fields = (a: AnalyzedReport): unknown[] => [a.report.task, a.report.pid, a.report.state, a.report.ppid, a.report.tgid,
      a.report.flags, a.report.kernel, a.report.blocker?.owner ?? null, a.report.blocker?.ownerFrames.length ?? 0];
    const wrapped = scanText(sample('stress/81-arm64-7.0-rc2-mail-hard-wrapped-caller-ids-blockers.log'));
    assert.deepEqual(wrapped.map(fields), [
      ['systemd-udevd', 2258, 'D', 2250, 2258, '0x00000811', '7.0.0-rc2+', null, 0],
      ['systemd-udevd', 2268, 'D', 2250, 2268, '0x00000811', '7.0.0-rc2+', { task: 'systemd-udevd', pid: 2258 }, 0],
      ['systemd-udevd', 2296, 'D', 2250, 2296, '0x00000811', '7.0.0-rc2+', { task: 'systemd-udevd', pid: 2258 }, 0],
      ['kworker/u1280:2', 2688, 'D', 2, 2688, '0x00000010', '7.0.0-rc2+', { task: 'kworker/240:1', pid: 1908 }, 24],
    ]);
    // Quoted twice, some lines in three pieces.
    const quoted = scanText(sample('stress/82-arm64-7.0-rc2-double-quoted-mail-three-piece-wraps.log'));
    assert.deepEqual(quoted.map(fields).slice(0, 1), [
      ['kworker/u1280:1', 1671, 'D', 2, 1671, '0x00000010', '7.0.0-rc2+', { task: 'kworker/240:2', pid: 2582 }, 24]]);
    // Pasted without prefixes: the same.
    const bare = scanText(sample('stress/81-arm64-7.0-rc2-mail-hard-wrapped-caller-ids-blockers.log').replace(/^\[[^\]]*\]\[[^\]]*\] /gm, ''));
    assert.deepEqual(bare.map(fields), wrapped.map(fields));
    // The semaphore forms print no `is`.
    const [sem] = scanText(['[  31.000000][   T44] INFO: task cat:955 blocked for more than 122 seconds.', '[  31.000002][   T44] Call Trace:',
      '[  31.000003][   T44]  __schedule+0x2f6/0xf80', '[  31.000007][   T44] INFO: task cat:955 blocked on a semaphore likely last', 'held by task cat:909',
      '[  31.000008][   T44] task:cat             state:S stack:0     pid:909   tgid:909   ppid:1      flags:0x00004002', ''].join('\n'));
    assert.deepEqual([sem.report.blocker?.lock, sem.report.blocker?.owner, sem.report.blocker?.ownerTask?.state], ['semaphore', { task: 'cat', pid: 909 }, 'S']);
    // The Tainted line cut before the release (stress/57, Thunderbird).
    const [tb] = scanText(sample('stress/57-debian-6.13-german-locale-syslog-thunderbird-wrapped.log'));
    assert.deepEqual([tb.report.kernel, tb.report.tainted], ['6.13.0-rc3-00193-ge9b8ffafd20a', 'G U']);
    // A rest that does not make the line whole is a line of its own; the cut line gives what it holds.
    const [cut] = scanText(['[  242.940133][ T1645] INFO: task a:1 blocked for more than 120 seconds.',
      '[  242.940133][ T1645] task:a   state:D stack:0     pid:1', 'Call trace:', '[  242.940133][ T1645]  schedule+0x58/0x118', ''].join('\n'));
    assert.deepEqual([cut.report.state, cut.report.ppid, cut.report.frames.length], ['D', null, 1]);
  });

  it('a cut line whose rest does not come joins nothing: the echo line cut, then the task line or another report', () => {
    const [r] = scanText(['[  245.100000] INFO: task kworker/2:3:117 blocked for more than 122 seconds.', '[  245.100002] "echo 0 >',
      '[  245.100003] task:kworker/2:3     state:D stack:0     pid:117   tgid:117   ppid:2      flags:0x00000008',
      '[  245.100004] Call Trace:', '[  245.100006]  __schedule+0x2f6/0xf80', ''].join('\n'));
    assert.deepEqual([r.report.state, r.report.ppid, r.report.frames.length], ['D', 2, 1]);
    const two = scanText(['Jan  1 00:00:00 hostA kernel: [    1.000000] INFO: task java:4242 blocked for more than 120 seconds.',
      'Jan  1 00:00:00 hostA kernel: [    1.000001] "echo 0 >', 'INFO: task dd:555 blocked for more than 120 seconds.',
      'task:dd              state:D stack:    0 pid:  555 ppid:     2 flags:0x00004000', 'Call Trace:', ' __schedule+0x2f6/0xf80', ''].join('\n'));
    assert.deepEqual(two.map((a) => [a.report.task, a.report.host, a.report.state, a.report.frames.length]), [['java', 'hostA', null, 0], ['dd', null, 'D', 1]]);
  });

  it('joins a header wrapped right after NAME:PID with its rest', () => {
    const [r] = scanText(['[    1.000000] INFO: task scp_power_reset:227', 'blocked for more than 120 seconds.',
      '[    1.000002] scp_power_reset D    0   227      2 0x00000000', '[    1.000003] Call Trace:',
      '[    1.000004]  __schedule+0x2f6/0xf80', '[    1.000005]  schedule+0x29/0x70', ''].join('\n'));
    assert.deepEqual([r.report.task, r.report.pid, r.report.blockedSeconds, r.report.state, r.report.frames.length], ['scp_power_reset', 227, 120, 'D', 2]);
  });

  it('keeps the host and times of a header a mail client wrapped right after `INFO:`, and its wrapped frames (linux-raid mail, 4.14)', () => {
    const p = (us: string, up: string): string => `Jan 12 00:16:11.${us} vsa-00000014-vc-1 kernel: [${up}]`;
    const mail = ['We hit the hung-task panic again:', '', `${p('183134', '387258.853460')} INFO:`,
      'task kworker/u8:4:9259 blocked for more than 600 seconds.', `${p('183159', '387258.854200')}`,
      'Tainted: G           OE   4.14.99-zadara02 #1', `${p('183978', '387258.855654')}`, 'kworker/u8:4    D    0  9259      2 0x80000000',
      `${p('185698', '387258.856953')} Call Trace:`, `${p('185700', '387258.857368')}  ?`, '__schedule+0x290/0x8a0',
      `${p('186917', '387258.858240')}`, 'schedule+0x2f/0x90', `${p('186919', '387258.858584')}`, 'raid5_make_request+0x1b7/0xb10 [raid456]',
      `${p('188731', '387258.859907')}`, 'md_handle_request+0x131/0x1a0 [md_mod]', '', 'Thanks,'];
    const fields = (a: AnalyzedReport): unknown[] => [a.report.task, a.report.pid, a.report.host, a.report.time, a.report.uptime,
      a.report.state, a.report.kernel, a.report.frames.map((f) => `${f.unreliable ? '? ' : ''}${f.fn}`), a.report.source.line];
    const want = ['kworker/u8:4', 9259, 'vsa-00000014-vc-1', Date.UTC(2026, 0, 12, 0, 16, 11, 183), 387258.85346, 'D', '4.14.99-zadara02',
      ['? __schedule', 'schedule', 'raid5_make_request', 'md_handle_request'], 3];
    for (const eol of ['\n', '\r\n']) {
      for (const chunk of [undefined, 7]) assert.deepEqual(scanText(mail.join(eol) + eol, { chunk }).map(fields), [want], `${JSON.stringify(eol)} ${chunk}`);
    }
    // A mail client that keeps the blank after `INFO:` (helper-77).
    const blank = mail.map((l) => (l.endsWith(' INFO:') ? `${l} ` : l));
    assert.deepEqual(scanText(blank.join('\n') + '\n').map(fields), [want]);
    // The fast file path (the parallel scan among lines of another host) and stdin alike.
    const filler = Array.from({ length: 400 }, (_, i) => `Jan 12 00:16:0${i % 10} other kernel: e1000e: eth0 NIC Link is Up ${i}`);
    for (const lines of [mail, blank]) {
      const text = [...filler, ...lines, ...filler].join('\n') + '\n';
      const file = path.join(tmpdir(), 'wrapped-info.log');
      fs.writeFileSync(file, text);
      const env = { KLOGSCAN_THREADS: '2', KLOGSCAN_PARALLEL_MIN: '1024', KLOGSCAN_BLOCK: '4096' };
      const runs = [cli(['--json', '--no-db', '--year', '2026', file], { env }), cli(['--json', '--no-db', '--year', '2026'], { input: text })];
      const seen = runs.map((r) => r.json.filter((o) => o.type === 'report').map((o) => [o.task, o.host, o.time, o.uptime, (o.frames as unknown[]).length]));
      assert.deepEqual(seen[0], [['kworker/u8:4', 'vsa-00000014-vc-1', '2026-01-12T00:16:11.183Z', 387258.85346, 4]]);
      assert.deepEqual(seen[1], seen[0]);
    }
  });

  it('prose ending in INFO: task NAME:PID, or a cut header followed by a whole one, does not take the next header', () => {
    const next = ['INFO: task kworker/u8:2:1234 blocked for more than 120 seconds.', 'Call Trace:', ' __schedule+0x1/0x2', ''];
    for (const first of ['Since the upgrade dmesg keeps printing INFO: task jbd2/sda1-8:412', '[    1.000000] INFO: task jbd2/sda1-8:412']) {
      const got = scanText([first, ...next].join('\n'));
      assert.deepEqual(got.map((a) => [a.report.task, a.report.source.line]), [['kworker/u8:2', 2]], first);
    }
  });

  it('frames stamped a minute after a report\'s last line are not its own (a later print whose header is missing)', () => {
    const head = ['[  601.296034] INFO: task apt-get:1493 blocked for more than 120 seconds.', '[  601.296040] Call Trace:',
      '[  601.296050]  [<c058b0c5>] io_schedule+0x35/0x50'];
    const [r] = scanText([...head, '[  721.296246]  [<c058d4f0>] ? do_device_not_available+0x0/0x60',
      '[  721.296255]  [<c058d1a3>] error_code+0x73/0x80', ''].join('\n'));
    assert.deepEqual(frameNames(r), ['io_schedule']);
    // Seconds apart (a slow console flushing a backlog) is still one print.
    const [slow] = scanText([...head, '[  611.000000]  [<c058d1a3>] error_code+0x73/0x80', ''].join('\n'));
    assert.deepEqual(frameNames(slow), ['io_schedule', 'error_code']);
    // A mail reply's own log line between the quoted lines of a trace ends nothing, whatever its time.
    const [quoted] = scanText([...head.map((l) => `> ${l}`), '', 'Just before it my log has:',
      '[ 5000.123456] usb 1-1: reset high-speed USB device number 2 using xhci_hcd', '', '> [  601.296060]  [<c058d1a3>] error_code+0x73/0x80', ''].join('\n'));
    assert.deepEqual(frameNames(quoted), ['io_schedule', 'error_code']);
  });

  it('a header block printed twice with the same times is one report; a header of another time is a report of its own', () => {
    const block = (t: string): string[] => [`[${t}] INFO: task Xorg:797 blocked for more than 241 seconds.`,
      `[${t.replace(/\d$/, '9')}]       Not tainted 5.3.0-050300rc7-generic #201909021831`];
    const rest = ['[124333.380060] Xorg            D    0   797    773 0x00404004', '[124333.380062] Call Trace:',
      '[124333.380067]  __schedule+0x2b9/0x6c0', '[124333.380068]  schedule+0x42/0xb0', ''];
    const once = scanText([...block('124333.376328'), ...block('124333.376328'), ...rest].join('\n'));
    assert.deepEqual(once.map((a) => [a.report.task, a.report.frames.length, a.report.kernel]), [['Xorg', 2, '5.3.0-050300rc7-generic']]);
    const twice = scanText([...block('124092.376328'), ...block('124333.376328'), ...rest].join('\n'));
    assert.deepEqual(twice.map((a) => a.report.frames.length), [0, 2]);
  });

  it('reads a trace quoted with function names alone, but only right after Call Trace:', () => {
    const [r] = scanText(['INFO: task sway:967 blocked for more than 1228 seconds.', 'task:sway            state:D stack:0     pid:967   ppid:925',
      'Call Trace:', ' __schedule', ' schedule', ' down', ' nvkms_ioctl_from_kapi_try_pmlock [nvidia_modeset]', ' ...', ' drm_mode_atomic_ioctl',
      '', 'Regards', ''].join('\n'));
    assert.deepEqual(r.report.frames.map((f) => [f.fn, f.module]), [['__schedule', null], ['schedule', null], ['down', null],
      ['nvkms_ioctl_from_kapi_try_pmlock', 'nvidia_modeset'], ['drm_mode_atomic_ioctl', null]]);
    // Without Call Trace: before it, a lone word is no frame.
    const [s] = scanText(['INFO: task sway:967 blocked for more than 1228 seconds.', 'Regards', ''].join('\n'));
    assert.equal(s.report.frames.length, 0);
  });

  it('passes over a reader\'s notes in a pasted trace: after a frame, or on lines of their own (helper-70, linux-mm mail)', () => {
    const [r] = scanText(['INFO: task stress:1824 blocked for more than 30 seconds.',
      'task:stress          state:D stack:0     pid:1824  tgid:1824  ppid:1822   flags:0x0000000c', 'Call trace:',
      ' __schedule+0x43c/0xcb0', ' schedule+0x54/0x198', ' io_schedule+0x44/0x70', ' folio_wait_bit_common+0x184/0x3f8',
      '\t\t\t<-- folio mapping ffff00036d69cb18 index 996  (**)', ' __folio_lock+0x24/0x38',
      ' migrate_pages_batch+0x77c/0xea0\t// try_split_folio (mm/migrate.c:1486:2)', '\t\t\t\t\t\t// migrate_pages_batch (mm/migrate.c:1734:16)',
      '\t\t\t..', ' migrate_pages+0xb28/0xe90', ' compact_zone+0xa08/0x10f0 [foo]   <-- here', ''].join('\n'));
    assert.deepEqual(r.report.frames.map((f) => f.fn), ['__schedule', 'schedule', 'io_schedule', 'folio_wait_bit_common', '__folio_lock',
      'migrate_pages_batch', 'migrate_pages', 'compact_zone']);
    assert.equal(r.report.frames[7].module, 'foo');
    assert.equal(r.identity.signature, 'hung task in migrate_pages_batch (page lock)');
  });

  it('reads a raw quoted-printable mail whose indentation is no-break spaces (=C2=A0, helper-70: a 6.9 report lost every trace)', () => {
    const [r] = scanText(['INFO: task kworker/5:13:648 blocked for more than 180 seconds.', '=C2=A0=C2=A0=C2=A0=C2=A0=C2=A0=C2=A0 Not tainted 6.9.0-rc2+ #23',
      'task:kworker/5:13=C2=A0=C2=A0=C2=A0 state:D stack:0 pid:648 tgid:648 ppid:2 flags:0x00004000', 'Call Trace:',
      '=C2=A0=C2=A0__schedule+0x43d/0xe20', '=C2=A0=C2=A0schedule+0x31/0x130', '=C2=A0=C2=A0__flush_work+0x287/0x460',
      '=C2=A0=C2=A0deferred_probe_timeout_work_func+0x2b/0xa0', ''].join('\n'));
    assert.deepEqual([r.report.state, r.report.kernel, r.report.frames.length, r.identity.signature],
      ['D', '6.9.0-rc2+', 4, 'hung task in deferred_probe_timeout_work_func (work flush)']);
  });

  it('reads a paste from a web page or a mail\'s HTML part: entities and <br> at line ends', () => {
    const [r] = scanText(['INFO: task khubd:1966 blocked for more than 120 seconds.<br>',
      'khubd &nbsp; &nbsp; &nbsp; D ffff81003dca9bc0 &nbsp; &nbsp; 0 &nbsp;1966 &nbsp; &nbsp; 2<br>', 'Call Trace:<br>',
      '[&lt;ffffffffa0099645&gt;] :dvb_core:dvb_unregister_frontend+0xb5/0x100<br>', '[&lt;ffffffff80245e8f&gt;] kthread+0x47/0x90</pre>', ''].join('\n'));
    assert.deepEqual([r.report.state, r.report.ppid, r.report.frames.map((f) => `${f.fn} ${f.module}`)],
      ['D', 2, ['dvb_unregister_frontend dvb_core', 'kthread null']]);
  });

  it('joins a frame whose symbol a mail client wrapped after its addresses (stress/99, ppc32)', () => {
    const [r] = scanText(sample('stress/99-ppc32-4.14-mail-wrapped-frame-addresses-rcu-stall-hung-task-panic.log')).filter((a) => a.report.kind === 'hung_task');
    assert.equal(r.report.task, 'notfmgrd');
    assert.equal(r.report.frames.length, 14);
    assert.equal(r.report.frames[0].fn, '__update_load_avg_se.isra.3');
    assert.equal(r.report.truncated, false);
    assert.equal(r.identity.signature, 'hung task in pram_notify_change (rcu)');
    // x86 too: `[<addr>] ?` alone, the symbol on the next line.
    const [x] = scanText(['INFO: task dd:7 blocked for more than 120 seconds.', 'dd              D 0  7  1 0x00000000', 'Call Trace:',
      ' [<ffffffff8132cb66>] ?', '__blk_run_queue+0x29/0x31', ' [<ffffffff815b6451>] schedule+0x31/0x80', ''].join('\n'));
    assert.deepEqual(x.report.frames.map((f) => [f.fn, f.unreliable]), [['__blk_run_queue', true], ['schedule', false]]);
    // 4.14+: no addresses, the `?` mark alone (helper-70's raid5 mail): the frame stays unreliable.
    const [y] = scanText(['[387258.853460] INFO: task kworker/u8:4:9259 blocked for more than 600 seconds.', '[387258.856953] Call Trace:',
      '[387258.857368]  ?', '__schedule+0x290/0x8a0', '[387258.858240]  schedule+0x2f/0x90', '[387258.859145]  ?', 'wait_woken+0x80/0x80',
      '[387258.859506]  raid5_make_request+0x1b7/0xb10 [raid456]', ''].join('\n'));
    assert.deepEqual(y.report.frames.map((f) => [f.fn, f.unreliable]), [['__schedule', true], ['schedule', false], ['wait_woken', true],
      ['raid5_make_request', false]]);
  });

  it('reads on after a `Code:` line that a mail client wrapped into lines of bytes (stress/100)', () => {
    const [r] = scanText(sample('stress/100-ubuntu-5.15-mail-wrapped-code-line-mid-trace-hung-task-panic.log'));
    assert.equal(r.report.frames.length, 26);
    assert.equal(r.report.frames[25].fn, 'entry_SYSCALL_64_after_hwframe');
    assert.equal(r.report.truncated, false);
  });

  it('makes no second report of a header quoted again alone, with the same printk time (stress/101)', () => {
    const reports = scanText(sample('stress/101-rhel8-4.18-crash-log-nmi-panic-header-quoted-again.log')).filter((a) => a.report.kind === 'hung_task');
    assert.equal(reports.length, 1);
    assert.equal(reports[0].report.frames.length > 0, true);
    // Two passes with whole-second times (a capture tool's) are two reports.
    const two = scanText(['[  245] INFO: task a:1 blocked for more than 120 seconds.', '',
      '[  245] INFO: task a:1 blocked for more than 120 seconds.', ''].join('\n'));
    assert.equal(two.length, 2);
  });

  it('says so when the lock owner the kernel names is the hung task itself (stress/102)', () => {
    const r = cli(['--no-db', 'samples/stress/102-6.15-next-level-prefix-caller-ids-mutex-owned-by-itself.log']);
    assert.match(r.stdout, /blocked on a mutex, likely held by zsh:470 itself \(it waits for a lock it holds\)/);
    // A semaphore names the last task to take it, which may have let it go since.
    const text = sample('stress/102-6.15-next-level-prefix-caller-ids-mutex-owned-by-itself.log')
      .replace('is blocked on a mutex likely owned by task zsh:470.', 'blocked on a semaphore likely last held by task zsh:470');
    const sem = cli(['--no-db', '-'], { input: text });
    assert.match(sem.stdout, /blocked on a semaphore, likely held by zsh:470 itself \(the last to take it: this may be stale\)/);
  });

  it('a LOCKDEP kernel\'s list of the task\'s held locks between its trace and the blocker line keeps the blocker (s390x 6.16, helper-82)', () => {
    // linux-s390, Gerd Bayer, Aug 2025 (mail, quoted-printable decoded; the pager cut the task lines at `flags:0x0000>`).
    const p = (l: string): string => `Aug 05 18:34:42 a83lp68.lnxne.boe kernel: ${l}`;
    const lines = ['INFO: task kmcheck:161 blocked for more than 122 seconds.', '      Not tainted 6.16.0-11676-g19dc172eb595 #7',
      'task:kmcheck         state:D stack:10160 pid:161   tgid:161   ppid:2      task_flags:0x208040 flags:0x0000>', 'Call Trace:',
      ' [<0000033d918f00be>] __schedule+0xa3e/0x1c80 ', ' [<0000033d918f1360>] schedule+0x60/0x100 ',
      ' [<0000033d918f2bac>] mutex_lock_nested+0x3c/0x50 ', ' [<0000033d10cf84c4>] mlx5_pci_resume+0x74/0x110 [mlx5_core] ',
      ' [<0000033d90814796>] kthread+0x296/0x2c0 ', ' [<0000033d918fc75a>] ret_from_fork+0xa/0x30 ',
      '4 locks held by kmcheck/161:', ' #0: 0000033d922455d0 (crw_handler_mutex){+.+.}-{3:3}, at: crw_collect_info+0x162/0x2f0',
      ' #1: 00000233282d08d0 (&zdev->state_lock){+.+.}-{3:3}, at: zpci_event_error+0x15c/0x2f0',
      ' #2: 00000233205f1190 (&dev->mutex){....}-{3:3}, at: pci_dev_lock+0x2c/0x40',
      ' #3: 000002334b95a270 (&devlink->lock_key){+.+.}-{3:3}, at: mlx5_pci_resume+0x74/0x110 [mlx5_core]',
      'INFO: task kmcheck:161 is blocked on a mutex likely owned by task devlink:1274.',
      'task:devlink         state:D stack:11984 pid:1274  tgid:1274  ppid:1247   task_flags:0x400100 flags:0x0000>', 'Call Trace:',
      ' [<0000033d918f00be>] __schedule+0xa3e/0x1c80 ', ' [<0000033d914291d2>] pci_wait_cfg+0xa2/0xc0 ',
      ' [<0000033d10c12726>] mlx5_vsc_gw_lock+0x36/0x150 [mlx5_core] '].map(p);
    const [a] = scanText(lines.join('\n'));
    assert.deepEqual([a.report.blocker?.lock, a.report.blocker?.owner, a.report.blocker?.ownerFrames.length, a.report.frames.length],
      ['mutex', { task: 'devlink', pid: 1274 }, 3, 6]);
    // Another task's list is no part of this report.
    const other = scanText([...lines.slice(0, 10), p('1 lock held by devlink/1274:')].join('\n'));
    assert.equal(other[0].report.lines.length, 10);
  });

  it('shows a time written without a zone as written, in any zone of the machine, and says so', () => {
    for (const tz of ['UTC', 'America/New_York', 'Asia/Tokyo']) {
      const r = cli(['--no-db', 'samples/formats/seed-java.dmesg-T.log'], { env: { TZ: tz } });
      assert.match(r.stdout, /time 2019-01-29 10:41:07 \(local time\)/, tz);
      const j = cli(['--no-db', '--json', '--year', '2019', 'samples/seed/centos7-java-rwsem.messages'], { env: { TZ: tz } }).json[0];
      assert.deepEqual([j.time_local, j.year_guessed], [true, false], tz);
    }
    // A zone in the log: an instant, printed in UTC, no note.
    // A shipper's record: its timestamp is an instant, whatever zone-less stamp the line inside has.
    const shipped = cli(['--no-db', '--json'], { input: `${JSON.stringify({ message: 'kernel: [Tue Jan 29 10:41:07 2019] INFO: task java:1 blocked for more than 120 seconds.',
      program: 'kernel', host: 'h1', '@timestamp': '2019-01-29T15:41:07.000Z' })}\n`, env: { TZ: 'America/New_York' } }).json[0];
    assert.deepEqual([shipped.time, shipped.time_local], ['2019-01-29T15:41:07.000Z', false]);
    // Android logcat's month-day times are the device's local time too.
    for (const tz of ['UTC', 'Asia/Tokyo']) {
      assert.match(cli(['--no-db', 'samples/formats/seed-java.logcat-threadtime.log'], { env: { TZ: tz } }).stdout, /time \d{4}-01-29 10:41:07 \(local time, year guessed\)/, tz);
    }
    const iso = cli(['--no-db', '--json'], { input: '2019-01-29T10:41:07.000+02:00 h kernel: INFO: task a:1 blocked for more than 120 seconds.\n' }).json[0];
    assert.deepEqual([iso.time, iso.time_local, iso.year_guessed], ['2019-01-29T08:41:07.000Z', false, false]);
  });

  it('knows the MIPS system call entry as the bottom of a trace (stress/103: stack_done, then lockdep)', () => {
    const [r] = scanText(sample('stress/103-mips-slow-serial-console-stack-done-lockdep-after.log'));
    assert.equal(r.report.frames.length, 11);
    assert.equal(r.report.frames[10].fn, 'stack_done');
    assert.equal(r.report.truncated, false);
    assert.equal(r.identity.signature, 'hung task in lookup_slow (mutex)');
  });

  it('takes the release from the stack dump right after a report that printed none (stress/104: NMI backtrace, hung_task panic)', () => {
    const [r] = scanText(sample('stress/104-rhel8.4-rt-header-only-release-on-nmi-and-panic-cpu-lines-quoted.log')).filter((a) => a.report.kind === 'hung_task');
    assert.deepEqual([r.report.task, r.report.kernel, r.report.kernelSource], ['xfsaild/sda4', '4.18.0-305.49.1.rt7.121.el8_4.x86_64', 'dump']);
    const lines = (rel: string, gap: number): string => ['[  500.100000] INFO: task jbd2/sda1-8:512 blocked for more than 120 seconds.',
      '[  500.100100] "echo 0 > /proc/sys/kernel/hung_task_timeout_secs" disables this message.',
      '[  500.100200] jbd2/sda1-8     D ffff88017fc13680     0   512      2 0x00000000',
      '[  500.100300] Call Trace:', '[  500.100400]  [<ffffffff8163a909>] schedule+0x29/0x70',
      '[  500.100500]  [<ffffffff810a5c08>] kthread+0xd8/0xe0',
      ...Array.from({ length: gap }, (_, i) => `[  500.2${String(i).padStart(5, '0')}] e1000e: eth0 NIC Link is Down`),
      '[  500.300000] Kernel panic - not syncing: hung_task: blocked tasks',
      `[  500.300100] CPU: 9 PID: 170 Comm: khungtaskd Not tainted ${rel} #1`, ''].join('\n');
    // RHEL 7's reports carry no release; its hung_task panic names it. The file path and stdin agree.
    const [panic] = scanText(lines('3.10.0-957.el7.x86_64', 0));
    assert.deepEqual([panic.report.kernel, panic.report.kernelSource], ['3.10.0-957.el7.x86_64', 'dump']);
    const r2 = cli(['--no-db', '--json', '-'], { input: lines('3.10.0-957.el7.x86_64', 0) }).json[0];
    assert.equal(r2.kernel, '3.10.0-957.el7.x86_64');
    // Too far after it (other lines of the machine in between), or of an earlier boot: not its release.
    assert.equal(scanText(lines('3.10.0-957.el7.x86_64', 45))[0].report.kernel, null);
    const earlierBoot = lines('3.10.0-957.el7.x86_64', 0).replace('[  500.300100] CPU', '[   12.300100] CPU');
    assert.equal(scanText(earlierBoot)[0].report.kernel, null);
    // A report whose wait ended, kept queued behind another host's, takes no release of its host's next boot.
    const host = (h: string, l: string): string => l.split('\n').filter(Boolean).map((x) => `Jan 10 10:00:00 ${h} kernel: ${x}`).join('\n');
    const report = lines('3.10.0-1160.el7.x86_64', 0).split('\n').slice(0, 6).join('\n');
    const text = [host('hostB', `${report}\n[  501.000000] e1000: eth1 link up`), host('hostA', report.replace(/500\./g, '5000.')),
      host('hostA', Array.from({ length: 20 }, (_, i) => `[ 5001.${String(i).padStart(6, '0')}] e1000: eth0 link flap ${i}`).join('\n')),
      host('hostA', report.replace(/500\./g, '200.').replace(/sda1/g, 'sdc1')),
      host('hostA', '[  200.300100] CPU: 1 PID: 41 Comm: khungtaskd Not tainted 3.10.0-1160.el7.x86_64 #1'), ''].join('\n');
    assert.deepEqual(scanText(text).map((a) => [a.report.host, a.report.uptime, a.report.kernel]),
      [['hostB', 500.1, null], ['hostA', 5000.1, null], ['hostA', 200.1, '3.10.0-1160.el7.x86_64']]);
    // Nor a report before a boot banner, from a dump after it (a later uptime, another boot).
    const rebooted = lines('3.10.0-1160.el7.x86_64', 0).replace('[  500.300000] Kernel panic', '[    0.000000] Linux version 3.10.0-1160.el7.x86_64 (mockbuild@x) #1 SMP\n[  500.300000] Kernel panic');
    assert.equal(scanText(rebooted)[0].report.kernel, null);
  });

  it('takes the release from a stack dump after a report in a log without printk times (RHEL 7 /var/log/messages; helper-58)', () => {
    const dump = (clock: string): string => `Jan 29 ${clock} app-prod-17 kernel: CPU: 3 PID: 181200 Comm: java Tainted: G           OEL ------------   3.10.0-862.14.4.el7.x86_64 #1\n`
      + `Jan 29 ${clock} app-prod-17 kernel: Call Trace:\n`;
    // The dump right after the trace (held as a stray line, then ending it), or after a soft lockup's first lines.
    for (const between of ['', 'Jan 29 10:41:12 app-prod-17 kernel: NMI watchdog: BUG: soft lockup - CPU#3 stuck for 22s! [java:181200]\n']) {
      const [a] = scanText(JAVA + between + dump('10:41:12'));
      assert.deepEqual([a.report.uptime, a.report.kernel, a.report.kernelSource], [null, '3.10.0-862.14.4.el7.x86_64', 'dump'], between);
    }
    // A dump stamped before the report was printed before it, one hours later is of a later event
    // (maybe a boot without its banner), and one with no clock at all proves nothing (helper-62).
    assert.equal(scanText(JAVA + dump('10:30:00'))[0].report.kernel, null);
    assert.equal(scanText(JAVA + dump('11:42:10'))[0].report.kernel, null);
    const bare = (t: string): string => t.split('\n').map((l) => l.replace(/^.*? kernel: /, '')).join('\n');
    assert.equal(scanText(bare(JAVA + dump('10:41:12')))[0].report.kernel, null);
    // The dump at the start of the next file (a rotation between them) still names it.
    const r = cli(['--no-db', '--json', 'samples/seed/centos7-java-rwsem.messages', '-'], { input: dump('10:41:12') }).json[0];
    assert.equal(r.kernel, '3.10.0-862.14.4.el7.x86_64');
    const banner = 'Jan 29 10:45:00 app-prod-17 kernel: Linux version 3.10.0-957.12.1.el7.x86_64 (mockbuild@x) #1 SMP\n';
    assert.equal(scanText(JAVA + banner + dump('10:46:00'))[0].report.kernel, null);
  });

  it('reads a frame glued after the start of another message, from the printk time on (eras/5.10-serial-console-char-interleaved)', () => {
    const [r] = scanText(sample('eras/5.10-serial-console-char-interleaved-syslog.log'));
    const fns = r.report.frames.map((f) => f.fn);
    // `INFO: task jbd2/[34315.188943]  __rq_qos_throttle+0x23/0x30`, `ed for more than[34315.212349]  jbd2_journal_commit_transaction+...`
    assert.ok(fns.includes('__rq_qos_throttle') && fns.includes('jbd2_journal_commit_transaction'), fns.join(' '));
    assert.equal(r.matches[0]?.rule, 'ext4-jbd2-io-stall');
  });

  it('ends a report at a line of its stream that no grammar accepts', () => {
    const text = JAVA + 'Jan 29 10:41:08 app-prod-17 kernel: e1000e: eth0 NIC Link is Down\n'
      + 'Jan 29 10:41:09 app-prod-17 kernel: [<ffffffff816a94c9>] schedule+0x29/0x70\n';
    assert.equal(scanText(text)[0].report.frames.length, 15);
  });
});

describe('the running kernel', () => {
  // RHEL 7 prints no release in its reports: the live /var/log/messages of this machine, in this
  // boot, was written by the kernel running now.
  const log = (host: string, date: string): string => [
    `${date} ${host} kernel: INFO: task java:181134 blocked for more than 120 seconds.`,
    `${date} ${host} kernel: java            D ffff881269bd7c00     0 181134      1 0x00000084`,
    `${date} ${host} kernel: Call Trace:`,
    `${date} ${host} kernel:  [<ffffffff816a94c9>] schedule+0x29/0x70`,
    `${date} ${host} kernel:  [<ffffffff8108f8f9>] do_exit+0x189/0xa40`, ''].join('\n');
  const bsd = (t: Date): string => `${t.toString().slice(4, 10).replace(/ 0(\d)$/, '  $1')} ${t.toTimeString().slice(0, 8)}`;
  // (A file: a year-less date piped in is placed in the year of now, which proves nothing.)
  const kernelOf = (input: string, args: string[] = []): [unknown, unknown] => {
    const file = path.join(tmpdir(), 'messages');
    fs.writeFileSync(file, input);
    const r = cli(['--no-db', '--json', ...args, file]).json[0];
    return [r.kernel, r.kernel_source];
  };

  it('judges this machine\'s reports of this boot against it, and no one else\'s', () => {
    const now = bsd(new Date());
    assert.deepEqual(kernelOf(log(os.hostname(), now)), [os.release(), 'running']);
    assert.deepEqual(kernelOf(log(`${os.hostname()}.example.com`, now)), [os.release(), 'running']);
    assert.deepEqual(kernelOf(log('some-other-host', now)), [null, null]);
    assert.deepEqual(kernelOf(log('localhost', now)), [null, null]);
    // The same machine's log of an earlier boot, and --kernel, which always wins.
    assert.deepEqual(kernelOf(log(os.hostname(), 'Jan 29 10:41:07'), ['--year', '2019']), [null, null]);
    assert.deepEqual(kernelOf(log(os.hostname(), now), ['--kernel', '3.10.0-957.el7.x86_64']), ['3.10.0-957.el7.x86_64', 'user']);
    // Piped in, the same lines prove nothing (last year's log would read as this year's).
    assert.deepEqual(cli(['--no-db', '--json', '-'], { input: log(os.hostname(), now) }).json[0].kernel_source, null);
  });

  it('takes a journal entry\'s boot id over the host name and the clock', function () {
    let boot: string;
    try {
      boot = fs.readFileSync('/proc/sys/kernel/random/boot_id', 'latin1').trim().replace(/-/g, '');
    } catch {
      this.skip();
    }
    // `journalctl -k -o json` of this boot on a machine that calls itself localhost; the same
    // entries of another boot, stamped now under this machine's name (a clock set wrong, a copy).
    const journal = (bootId: string, host: string): string => log('h', 'Jan 29 10:41:07').split('\n').filter(Boolean)
      .map((l, i) => JSON.stringify({
        __REALTIME_TIMESTAMP: String(Date.now() * 1000 + i), _BOOT_ID: bootId, _TRANSPORT: 'kernel', _HOSTNAME: host,
        MESSAGE: l.replace(/^.*? kernel: /, ''),
      })).join('\n') + '\n';
    assert.deepEqual(kernelOf(journal(boot, 'localhost')), [os.release(), 'running']);
    const other = boot.replace(/^./, (c) => (c === '0' ? '1' : '0'));
    assert.deepEqual(kernelOf(journal(other, os.hostname())), [null, null]);
    // Without a boot id, the host name and the clock decide as for syslog.
    assert.deepEqual(kernelOf(journal('', os.hostname())), [os.release(), 'running']);
  });
});

describe('the kernel\'s other problem reports', () => {
  // What each real excerpt of samples/kinds/ should give, from its source (samples/README.md):
  // kind, task:pid of the report's subject, CPU, and the function its title names.
  const expected: [string, string, string, number | null, string][] = [
    ['04-softlockup-6.0-ksoftirqd-mac80211-quoted-syslog.log', 'soft_lockup', 'ksoftirqd/1:23', 1, 'soft lockup in ieee80211_select_queue'],
    ['10-softlockup-rhel5-2.6.18-kswapd-nfs-module-colon-format.log', 'soft_lockup', 'kswapd1:982', 1, 'soft lockup in nfs_access_cache_shrinker'],
    ['08-oops-null-rhel7-3.10.0-229-pick_next_task_fair-vmcore-dmesg.log', 'oops', 'java:16179', 3, 'kernel NULL pointer dereference in rb_next'],
    ['09-warning-rhel7-3.10.0-957-topology_sane-azure-docs.log', 'warning', 'swapper/4:0', 4, 'WARNING in topology_sane'],
    ['17-oops-arm64-5.17-paging-request-qcom-cpufreq.log', 'oops', 'kworker/7:1H:162', 7, 'unable to handle kernel paging request in cpufreq_cpu_get_raw'],
    ['18-oops-2.6.x-i386-2004-printing-eip-process-line-crc-frames.log', 'oops', 'rmmod:1194', 0, 'in ipw2100_defrag_free'],
    ['19-bug-6.2-ext4-kernel-BUG-at-fs-ext4-invalid-opcode-kasan.log', 'bug', 'xfs_io:2567', 7, 'kernel BUG in ext4_get_group_info'],
    ['20-gpf-6.10-syzbot-kasan-smc_diag-inline-rip.log', 'oops', 'syz-executor175:6338', 1, 'general protection fault in smc_diag_msg_common_fill'],
    ['13-rcu-preempt-stall-syzbot-6.x-kthread-starved-nmi-wireguard.log', 'rcu_stall', 'kworker/R-wg-cr:6005', 1, 'RCU stall in'],
    ['07-oom-memcg-rhel7-3.10.0-693-sacrifice-child.log', 'oom_kill', 'monocular:26049', 0, 'OOM kill of monocular (memcg)'],
    ['15-hardlockup-6.12-cloudflare-caller-ids-interleaved-nmi-qp-panic.log', 'hard_lockup', 'swapper/33:0', 33, 'hard lockup'],
    // Held out while the parser was written (helper-66's expectations, samples/README.md).
    ['h27-01-warning-ppc64-6.19-new-header-format-caller-ids-boot.log', 'warning', 'swapper:0', 0, 'WARNING in virt_to_phys'],
    ['h27-07-hardlockup-ppc64le-6.2-self-detected-NIP-hcall-trailing-spaces.log', 'hard_lockup', 'swapper/216:0', 216, 'hard lockup in'],
    ['h27-14-oops-ppc64le-6.8-powernv-ifetch-null-NIP0-caller-ids-ci-noise-then-panic-kill-init.log', 'oops', 'swapper/1:1', 1, 'in spapr_tce_platform_iommu_attach_dev'],
    ['h27-17-bug-kasan-uaf-6.18-in-raw_spin_lock-lockref-debugfs-mac80211-raw-dmesg.log', 'bug', 'wpa_supplicant:23758', 2, 'KASAN: slab-use-after-free in simple_recursive_removal'],
    ['h27-18-bug-sleeping-in-atomic-s390x-5.7-lpar-mutex-mlx5-smc.log', 'bug', 'smcapp:131031', 1, 'sleeping function called from invalid context in mlx5_lag_get_roce_netdev'],
    ['h27-23-warning-rhel7-3.10.0-514-old-WARNING-at-format-syslog-irq-eoi-modules-wrapped.log', 'warning', 'swapper/10:0', 10, 'WARNING in tcp_mark_head_lost'],
    // Register dumps of other architectures (helper-44 findings 1, 2, 4 and 7).
    ['h44-01-oops-mips32-4.14-openwrt-data-bus-error-regs-epc-ra.log', 'oops', 'sh:7263', 0, 'oops in ioread32'],
    ['h44-02-warning-riscv64-6.2-regs-gp-status-badaddr.log', 'warning', 'cryptomgr_test:87', 1, 'WARNING in alg_test'],
    ['h44-04-bug-loongarch-6.13-regs-pc-ERA-CRMD-xe.log', 'bug', 'kworker/0:4:102', 0, 'kernel BUG in drm_gem_private_object_init'],
    ['h44-07b-rcu-stall-sparc64-6.17-regs-TSTATE-TPC-g0.log', 'rcu_stall', '(udev-worker):96', 0, 'RCU stall in count_memcg_events'],
    // Oopses whose first lines were not read (helper-44 findings 3, 5, 7 and 10).
    ['h44-03-oops-s390x-6.1-illegal-operation-ilc-null-call-zvm-quoted.log', 'oops', 'kworker/0:1:9', 0, 'oops in smc_conn_create'],
    ['h44-05-oops-loongarch-6.6-kernel-ade-access.log', 'oops', 'swapper/0:1', 0, 'oops in loongson_gpu_fixup_dma_hang'],
    ['h44-07-oops-sparc64-6.17-null-deref-comm-pid-oops-TPC.log', 'oops', 'systemd:1', 0, 'kernel NULL pointer dereference in bpf_patch_insn_data'],
    ['h44-10-oops-m68k-4.18-oops-without-counter-indented.log', 'oops', 'grep:45', null, 'oops in'],
  ];
  for (const [file, kind, who, cpu, title] of expected) {
    it(`${file}: ${kind} of ${who}`, () => {
      const got = scanText(sample(`kinds/${file}`)).filter((a) => a.report.kind === kind);
      assert.ok(got.length >= 1, `no ${kind} report`);
      const r = got[0].report;
      assert.equal(`${r.task}:${r.pid}`, who);
      assert.equal(r.crash?.cpu ?? null, cpu);
      assert.ok(got[0].identity.signature.includes(title), got[0].identity.signature);
      assert.ok(r.frames.length > 0);
      assert.equal(scanText(sample(`kinds/${file}`)).filter((a) => a.report.kind === 'hung_task').length, 0);
    });
  }

  it('the register dumps of MIPS, RISC-V, LoongArch and sparc64 are part of the report, and name where the CPU was', () => {
    for (const [file, ip, frames] of [
      ['h44-01-oops-mips32-4.14-openwrt-data-bus-error-regs-epc-ra.log', 'ioread32', ['ioread32']],
      ['h44-02-warning-riscv64-6.2-regs-gp-status-badaddr.log', 'alg_test', ['alg_test', 'cryptomgr_test', 'kthread', 'ret_from_exception']],
      ['h44-04-bug-loongarch-6.13-regs-pc-ERA-CRMD-xe.log', 'drm_gem_private_object_init', null],
      ['h44-07b-rcu-stall-sparc64-6.17-regs-TSTATE-TPC-g0.log', 'count_memcg_events', null],
    ] as const) {
      const [a] = scanText(sample(`kinds/${file}`));
      assert.equal(a.report.crash?.ip?.fn, ip, file);
      assert.ok(a.report.frames.length >= (frames?.length ?? 16), `${file}: ${a.report.frames.length} frames`);
      if (frames) assert.deepEqual(frameNames(a), frames);
    }
  });

  it('opens an oops at the die() lines of s390, LoongArch, MIPS, sparc64 and m68k, only where nothing is open', () => {
    for (const line of ['illegal operation: 0001 ilc:1 [#1] SMP', 'specification exception: 0006 ilc:2 [#1] PREEMPT SMP',
      'addressing exception: 0005 ilc:3 [#1] SMP', 'translation specification exception: 0012 ilc:3 [#2] SMP', 'Kernel stack overflow: 0000 ilc:2 [#1] SMP',
      'Kernel ade access[#1]:', 'Kernel ale access[#1]:', 'Reserved instruction in kernel code[#1]:', 'Break instruction in kernel code[#1]:',
      'Oops - BUG[#1]:', 'systemd(1): Oops [#1]', 'Oops: 00000000']) {
      const st = parseCrashStart(line);
      assert.ok(st && st.weak && (st.kind === 'oops' || st.kind === 'bug'), line);
    }
    assert.equal(parseCrashStart('systemd(1): Oops [#1]')?.task, 'systemd');
    assert.equal(parseCrashStart('Unable to handle kernel NULL pointer dereference')?.kind, 'oops');
    for (const line of ['Oops: 0000', 'the illegal operation: 0001 ilc: see', 'Kernel access[#1]']) assert.equal(parseCrashStart(line), null, line);
  });

  it('m68k prints the first frame on the `Call Trace:` line itself, and it is the first frame of the trace (helper-44 #9)', () => {
    const [w] = scanText(sample('kinds/h44-09-warning-m68k-5.5-atari-first-frame-on-call-trace-line-quoted.log'));
    assert.deepEqual(frameNames(w).slice(0, 3), ['__warn', 'warn_slowpath_fmt', 'refcount_warn_saturate']);
    assert.equal(w.report.frames.length, 9);
    const [o] = scanText(sample('kinds/h44-10-oops-m68k-4.18-oops-without-counter-indented.log'));
    assert.equal(frameNames(o)[0], 'nubus_proc_rsrc_show');
    assert.equal(o.report.frames.length, 20);
  });

  it('s390\'s `Last Breaking-Event-Address:` frame is where the CPU last branched from, not a frame of the trace (helper-44 #11)', () => {
    const [w] = scanText(sample('kinds/h44-11-warning-s390x-6.2-fc37-zvm-last-breaking-event-address-quoted.log'));
    assert.equal(w.report.frames.length, 27);
    assert.equal(frameNames(w).at(-1), 'ret_from_fork');
    assert.ok(!frameNames(w).includes('__warn_printk'));
    const [o] = scanText(sample('kinds/h44-03-oops-s390x-6.1-illegal-operation-ilc-null-call-zvm-quoted.log'));
    assert.equal(frameNames(o).at(-1), 'ret_from_fork');
  });

  it('a task preempted on its way back from an interrupt is not stuck in the preemption path (x86 trace_hardirqs_on_thunk, retint_kernel)', () => {
    // A 4.16 linux-next RCU stall whose blocked reader was preempted: only `?` frames say what it did.
    const stall = ['INFO: rcu_preempt detected stalls on CPUs/tasks:', '\tTasks blocked on level-0 rcu_node (CPUs 0-11): P15438',
      '\t(detected by 9, t=65002 jiffies, g=315489, c=315488, q=363)', '270             R  running task        0 15438   1007 0x00000000',
      'Call Trace:', ' __schedule+0x2b4/0xab0', ' ? trace_hardirqs_on_thunk+0x1a/0x1c', ' trace_hardirqs_on_thunk+0x1a/0x1c',
      ' ? retint_kernel+0x2d/0x2d', ' ? xas_descend+0x3a/0x160', ' ? invalidate_mapping_pages+0x8d/0x360', ' ? drop_pagecache_sb+0xa3/0xf0', ''].join('\n');
    const [a] = scanText(stall);
    assert.equal(a.report.kind, 'rcu_stall');
    assert.equal(`${a.report.task}:${a.report.pid}`, '270:15438');
    assert.equal(a.identity.culprit.fn, null, a.identity.signature);
  });

  it('a bad page report names the task of its first line, and its title passes over the page allocator\'s reporting', () => {
    // The first line as a 4.16 linux-next log printed it, with no dump of its own after it.
    const alone = scanText('BUG: Bad page state in process fio  pfn:11e38c\npage:ffffea000478e300 count:0 mapcount:0 mapping:0000000000000000 index:0x60\n');
    assert.equal(alone.length, 1);
    assert.equal(alone[0].report.task, 'fio');
    const dump = ['[ 1520.012345] BUG: Bad page map in process C2 CompilerThre  pte:800000036a1bb025 pmd:36c2d4067',
      '[ 1520.012360] CPU: 2 PID: 3012 Comm: C2 CompilerThre Tainted: G    B   4.16.0 #2', '[ 1520.012362] Call Trace:',
      '[ 1520.012363]  dump_stack+0x5c/0x7b', '[ 1520.012364]  print_bad_pte+0x1d4/0x290', '[ 1520.012365]  _vm_normal_page+0x9c/0xb0',
      '[ 1520.012366]  unmap_page_range+0x6f0/0x8f0', '[ 1520.012367]  exit_mmap+0xa4/0x190', ''].join('\n');
    const [bad] = scanText(dump);
    assert.equal(`${bad.report.task}:${bad.report.pid}`, 'C2 CompilerThre:3012');
    assert.equal(bad.identity.culprit.fn, '_vm_normal_page');
  });

  it('an OOM kill names its victim, constraint and cgroup, the child it killed, and the further kills of its group', () => {
    const rhel = scanText(sample('kinds/07-oom-memcg-rhel7-3.10.0-693-sacrifice-child.log'));
    assert.equal(rhel.length, 1);
    // `Kill process 26074 ... or sacrifice child`, then `Killed process 24518`: the child is the one killed.
    assert.deepEqual(rhel[0].report.crash?.oom?.victim, { task: 'monocular', pid: 24518 });
    const group = scanText(sample('kinds/01-oom-memcg-5.15-azure-oomgroup.log'));
    assert.equal(group.length, 1);
    const oom = group[0].report.crash!.oom!;
    assert.equal(oom.constraint, 'memcg');
    assert.match(oom.memcg ?? '', /^\/kubepods\.slice/);
    assert.deepEqual(oom.more.map((v) => v.pid), [7620, 7656, 7657, 7712]);
    // A kill line alone (journalctl -p err keeps only it) is a report without its invoker; the choice
    // before a kill (`... or sacrifice child`) alone is none (the benchmark's noise holds such lines).
    const alone = cli(['--no-db', '--json', '-'], { input: '<3>[ 3301.1] Out of memory: Killed process 4321 (postgres) total-vm:1kB\n<3>[ 3400.2] Out of memory: Kill process 99 (java) score 912 or sacrifice child\n' });
    const reports = alone.json.filter((j) => j.type === 'report');
    assert.equal(reports.length, 1);
    assert.deepEqual([reports[0].task, reports[0].pid, reports[0].oom_victim], [null, null, { task: 'postgres', pid: 4321 }]);
    // Before 4.19 the kill line had no `Out of memory:` of its own, and a run of OOM kills printed
    // their dumps only as often as a ratelimit let them: the choice and kill lines alone (an armv7
    // 3.10 board's log, 2013). Each kill is a report; a choice alone still none.
    const pairs = ['[59313.549221] Killed process 15479 (server) total-vm:9984kB, anon-rss:68kB, file-rss:0kB',
      '[59318.531080] Out of memory: Kill process 15485 (server) score 0 or sacrifice child',
      '[59318.618689] Killed process 15485 (server) total-vm:9984kB, anon-rss:68kB, file-rss:0kB',
      '[59321.839161] Out of memory: Kill process 1339 (portmap) score 0 or sacrifice child',
      '[59321.926735] Killed process 1339 (portmap) total-vm:1732kB, anon-rss:64kB, file-rss:0kB',
      '[59324.100000] Out of memory: Kill process 1400 (sshd) score 0 or sacrifice child', ''].join('\n');
    assert.deepEqual(scanText(pairs).map((a) => [a.report.kind, a.report.crash?.oom?.victim?.pid, a.report.crash?.oom?.constraint]),
      [['oom_kill', 15479, null], ['oom_kill', 15485, null], ['oom_kill', 1339, null]]);
    // The next OOM's lines say nothing of a kill before them (helper-77): a global kill followed by
    // a cgroup's is no cgroup's, in either era.
    const oomOf = (lines: string[]): unknown[] => scanText(lines.join('\n') + '\n').map((a) => [a.report.crash?.oom?.victim?.pid, a.report.crash?.oom?.constraint]);
    assert.deepEqual(oomOf(['[ 5020.000011] Out of memory: Kill process 302 (java) score 900 or sacrifice child',
      '[ 5020.000012] Killed process 302 (java) total-vm:8000000kB, anon-rss:4000000kB, file-rss:0kB',
      '[ 5030.000011] Memory cgroup out of memory: Kill process 303 (nginx) score 900 or sacrifice child',
      '[ 5030.000012] Killed process 303 (nginx) total-vm:8000000kB, anon-rss:4000000kB, file-rss:0kB']), [[302, null], [303, null]]);
    assert.deepEqual(oomOf(['[ 5020.000012] Out of memory: Killed process 302 (java) total-vm:8000000kB, anon-rss:4000000kB, file-rss:0kB',
      '[ 5030.000012] Memory cgroup out of memory: Killed process 303 (nginx) total-vm:8000000kB, anon-rss:4000000kB, file-rss:0kB']), [[302, null], [303, 'memcg']]);
  });

  it('a kill line alone takes the `oom-kill:constraint=` line right before it that names its victim (4.19+, grep of both lines)', () => {
    const k = (t: string): string => `Jun 10 12:00:01 node7 kernel: [ 5000.10000${t.length % 10}] ${t}`;
    const memcg = k('oom-kill:constraint=CONSTRAINT_MEMCG,nodemask=(null),cpuset=docker-abc.scope,mems_allowed=0,oom_memcg=/kubepods/burstable/pod123,task_memcg=/kubepods/burstable/pod123/abc,task=java,pid=4242,uid=1000');
    const memcgKill = k('Memory cgroup out of memory: Killed process 4242 (java) total-vm:5000000kB, anon-rss:2000000kB, file-rss:0kB, shmem-rss:0kB, UID:1000 pgtables:5000kB oom_score_adj:999');
    const global = k('oom-kill:constraint=CONSTRAINT_NONE,nodemask=(null),cpuset=/,mems_allowed=0,global_oom,task_memcg=/user.slice/user-1000.slice,task=stress,pid=999,uid=0');
    const globalKill = k('Out of memory: Killed process 999 (stress) total-vm:5000000kB, anon-rss:2000000kB, file-rss:0kB, shmem-rss:0kB, UID:0 pgtables:5000kB oom_score_adj:0');
    const oom = (a: AnalyzedReport): unknown[] => [a.report.crash?.oom?.victim?.pid, a.report.crash?.oom?.constraint, a.report.crash?.oom?.memcg, a.report.source.line];
    const text = [memcg, memcgKill, global, globalKill, ''].join('\n');
    const want = [[4242, 'memcg', '/kubepods/burstable/pod123', 2], [999, 'global', '/user.slice/user-1000.slice', 4]];
    for (const chunk of [undefined, 9]) assert.deepEqual(scanText(text, { chunk }).map(oom), want);
    const [g] = scanText([global, globalKill].join('\n'));
    assert.equal(g.identity.signature, 'OOM kill of stress (global)');
    assert.equal(g.report.lines.length, 2);
    // Not directly before it, or of another victim: the kill line alone, as before.
    const other = global.replace('pid=999', 'pid=998');
    for (const lines of [[global, k('e1000e: eth0 NIC Link is Up'), globalKill], [other, globalKill]]) {
      assert.deepEqual(scanText(lines.join('\n')).map(oom), [[999, null, null, lines.length]], lines[1]);
    }
    // The fast file path (the parallel scan among other lines) and stdin alike.
    const filler = Array.from({ length: 300 }, (_, i) => `Jun 10 11:59:0${i % 10} other kernel: e1000e: eth0 NIC Link is Up ${i}`);
    const big = [...filler, memcg, memcgKill, ...filler, global, globalKill, ...filler].join('\n') + '\n';
    const file = path.join(tmpdir(), 'oom-constraint.log');
    fs.writeFileSync(file, big);
    const env = { KLOGSCAN_THREADS: '2', KLOGSCAN_PARALLEL_MIN: '1024', KLOGSCAN_BLOCK: '4096' };
    const runs = [cli(['--json', '--no-db', file], { env }), cli(['--json', '--no-db'], { input: big })]
      .map((r) => r.json.filter((o) => o.type === 'report').map((o) => [o.oom_constraint, o.memcg, (o.source as { line: number }).line]));
    assert.deepEqual(runs[0], [['memcg', '/kubepods/burstable/pod123', 302], ['global', '/user.slice/user-1000.slice', 604]]);
    assert.deepEqual(runs[1], runs[0]);
  });

  it('a WARN()\'s message printed before its WARNING line is its message: 4.15+ after `cut here`, x86 4.12-4.14 before it, NETDEV WATCHDOG right before', () => {
    const cut = '[   25.212764] ------------[ cut here ]------------';
    const nd = '[   25.212824] NETDEV WATCHDOG: enp0s31f6 (e1000e): transmit queue 0 timed out';
    const warn = '[   25.212909] WARNING: CPU: 3 PID: 0 at net/sched/sch_generic.c:461 dev_watchdog+0x1ee/0x200';
    const body = ['[   25.212977] Modules linked in: e1000e(O) snd_pcm', '[   25.213100] CPU: 3 PID: 0 Comm: swapper/3 Tainted: G           O    4.15.0-20-generic #21-Ubuntu',
      '[   25.213200] RIP: 0010:dev_watchdog+0x1ee/0x200', '[   25.213300] Call Trace:', '[   25.213301]  <IRQ>', '[   25.213302]  call_timer_fn+0x30/0x130',
      '[   25.213303]  run_timer_softirq+0x3fb/0x450', '[   25.213304] ---[ end trace 1a2b3c4d5e6f7a8b ]---'];
    const link = '[   20.027123] e1000e: enp0s31f6 NIC Link is Up 10 Mbps Full Duplex, Flow Control: None';
    const other = '[   25.212800] xhci_hcd 0000:00:14.0: WARN Set TR Deq Ptr cmd failed due to incorrect slot or ep state.';
    const ndMsg = ['NETDEV WATCHDOG: enp0s31f6 (e1000e): transmit queue 0 timed out'];
    const w = (a: AnalyzedReport[]): unknown[] => a.filter((x) => x.report.kind === 'warning').map((x) => [x.identity.signature, x.report.crash?.message]);
    const cases: [string[], unknown[]][] = [
      [[link, cut, nd, warn, ...body], ndMsg], // 4.15+
      [[link, nd, cut, warn, ...body], ndMsg], // x86 4.12-4.14
      [[link, nd, warn, ...body], ndMsg], // grep NETDEV -e WARNING
      [[link, cut, warn, nd, ...body], ndMsg], // up to 4.11: after the WARNING line, as before
      [[link, cut, '[   25.212830] This is a warning message', warn, ...body], ['This is a warning message']],
      // WARN_ON() prints no message: the line before `cut here` is none.
      [[link, other, cut, warn, ...body], []],
      [[link, cut, warn, ...body], []],
    ];
    for (const [lines, message] of cases) {
      for (const chunk of [undefined, 11]) {
        assert.deepEqual(w(scanText(lines.join('\n') + '\n', { chunk })), [['WARNING in dev_watchdog', message]], `${lines.join('|')} ${chunk}`);
      }
    }
    // Another printk caller's line between them does not lose the message (helper-77).
    const callers = ['[  100.000001][    T1] ------------[ cut here ]------------', '[  100.000001][    T2] usb 1-1: new device',
      '[  100.000002][    T1] refcount_t: underflow; use-after-free.',
      '[  100.000003][    T1] WARNING: CPU: 1 PID: 10 at lib/refcount.c:28 refcount_warn_saturate+0x1/0x2',
      '[  100.000004][    T1] CPU: 1 PID: 10 Comm: kworker/1:0 Not tainted 6.1.0 #1', '[  100.000005][    T1] Call Trace:',
      '[  100.000007][    T1]  bar+0x1/0x2', '[  100.000010][    T1] ---[ end trace 0000000000000000 ]---', ''].join('\n');
    for (const chunk of [undefined, 7]) {
      assert.deepEqual(scanText(callers, { chunk }).map((a) => a.report.crash?.message), [['refcount_t: underflow; use-after-free.']]);
    }
    // The held lines are still lines of their own: `cut here` before a BUG, a NETDEV line followed by something else.
    const bug = scanText([nd, cut, '[   25.3] kernel BUG at mm/slub.c:296!', '[   25.4] invalid opcode: 0000 [#1] SMP', ''].join('\n'));
    assert.deepEqual(bug.map((a) => a.report.kind), ['bug']);
    // The fast file path (the parallel scan among other lines) and stdin alike.
    const filler = Array.from({ length: 300 }, (_, i) => `[   2${i % 5}.000000] e1000e: eth1 NIC Link is Up ${i}`);
    const big = [...filler, link, nd, cut, warn, ...body, ...filler, cut, nd, warn, ...body, ...filler].join('\n') + '\n';
    const file = path.join(tmpdir(), 'netdev-watchdog.log');
    fs.writeFileSync(file, big);
    const env = { KLOGSCAN_THREADS: '2', KLOGSCAN_PARALLEL_MIN: '1024', KLOGSCAN_BLOCK: '4096' };
    const runs = [cli(['--json', '--no-db', file], { env }), cli(['--json', '--no-db'], { input: big })]
      .map((r) => r.json.filter((o) => o.type === 'report').map((o) => [o.kind, o.message, (o.source as { line: number }).line]));
    assert.deepEqual(runs[0], [['warning', ndMsg, 304], ['warning', ndMsg, 615]]);
    assert.deepEqual(runs[1], runs[0]);
  });

  it('an oops and the panic it ends in are two reports; copies and look-alikes are none', () => {
    const text = ['[  133.400000] BUG: kernel NULL pointer dereference, address: 0000000000000000',
      '[  133.463697] Kernel panic - not syncing: Fatal exception in interrupt',
      '[  133.467025] ---[ end Kernel panic - not syncing: Fatal exception in interrupt ]---', ''].join('\n');
    const r = cli(['--no-db', '-'], { input: text });
    assert.match(r.stdout, /summary: 0 hung-task reports, 1 oops, 1 kernel panic,/);
    assert.deepEqual(cli(['--no-db', '--json', '-'], { input: text }).json.filter((j) => j.type === 'report').map((j) => j.signature),
      ['kernel NULL pointer dereference (no call trace)', 'kernel panic: Fatal exception in interrupt']);
    // A user process's fault, a quoted copy of the same line, a program's own line: no more reports.
    const gpf = 'Mar  3 10:00:01 h1 kernel: traps: chrome[12345] general protection fault ip:7f1c sp:7ffd error:0 in libc.so.6[7f1c+16d000]\n';
    assert.equal(cli(['--no-db', '--json', '-'], { input: gpf }).json.at(-1)!.reports, 0);
    const oops = '[ 5000.100000] BUG: kernel NULL pointer dereference, address: 0000000000000008\n';
    assert.deepEqual(cli(['--no-db', '--json', '-'], { input: `${oops}> ${oops}` }).json.at(-1)!.other_reports, { oops: 1 });
    assert.equal(cli(['--no-db', '--json', '-'], { input: 'Jan 29 10:41:07 h1 myapp[12]: BUG: soft lockup - CPU#3 stuck for 22s!\n' }).json.at(-1)!.reports, 0);
  });

  it('a first line of another kind inside a hung task\'s trace is passed over, and a report of its own (helper-67)', () => {
    const hung = ['[  363.123456] INFO: task jbd2/sda1-8:312 blocked for more than 120 seconds.',
      '[  363.123460]       Not tainted 5.15.0-46-generic #49-Ubuntu',
      '[  363.123463] task:jbd2/sda1-8     state:D stack:    0 pid:  312 ppid:     2 flags:0x00004000',
      '[  363.123466] Call Trace:', '[  363.123467]  <TASK>', '[  363.123469]  __schedule+0x23d/0x590', '[  363.123472]  schedule+0x4e/0xc0',
      '[  363.123474]  io_schedule+0x46/0x70', '[  363.123476]  bit_wait_io+0x11/0x70', '[  363.123477]  __wait_on_bit+0x31/0xa0',
      '[  363.123479]  jbd2_journal_commit_transaction+0x16a/0x1b00', '[  363.123480]  kjournald2+0xa9/0x280',
      '[  363.123481]  kthread+0x127/0x150', '[  363.123482]  ret_from_fork+0x1f/0x30', '[  363.123483]  </TASK>'];
    const warn = '[  363.123473] WARNING: CPU: 3 PID: 0 at kernel/time/tick-sched.c:555 tick_nohz_idle_enter+0x4d/0x60';
    const wq = '[  363.123464] BUG: workqueue lockup - pool cpus=1 node=0 flags=0x0 nice=0 stuck for 40s!';
    for (const [at, line] of [[7, warn], [3, wq]] as const) {
      const text = [...hung.slice(0, at), line, ...hung.slice(at)].join('\n');
      const got = scanText(text);
      const h = got.find((a) => a.report.kind === 'hung_task')!;
      assert.deepEqual([h.report.frames.length, h.report.truncated, h.identity.signature],
        [9, false, 'hung task in jbd2_journal_commit_transaction (bit wait)'], line);
      assert.equal(got.filter((a) => a.report.kind !== 'hung_task').length, 1, line);
    }
    // A header-only hung task (a priority filter), then a WARNING with its body, then two soft lockups
    // one after the other: each whole.
    const body = [warn, '[  363.123474] Modules linked in: ext4 jbd2', '[  363.123475] CPU: 3 PID: 0 Comm: swapper/3 Not tainted 5.15.0-46-generic #49-Ubuntu',
      '[  363.123477] Call Trace:', '[  363.123479]  do_idle+0x8a/0x2a0', '[  363.123480]  cpu_startup_entry+0x20/0x30',
      '[  363.123484] ---[ end trace 0123456789abcdef ]---',
      '[  390.100000] watchdog: BUG: soft lockup - CPU#1 stuck for 22s! [java:4242]',
      '[  390.200000] watchdog: BUG: soft lockup - CPU#2 stuck for 22s! [java:4243]'];
    const got = scanText([...hung.slice(0, 2), ...body].join('\n'));
    assert.deepEqual(got.map((a) => [a.report.kind, a.report.task, a.report.frames.length]),
      [['hung_task', 'jbd2/sda1-8', 0], ['warning', 'swapper/3', 2], ['soft_lockup', 'java', 0], ['soft_lockup', 'java', 0]]);
  });

  it('prose and mail headers that quote a report open none (helper-67)', () => {
    const text = ['Subject: Re: BUG: unable to handle kernel NULL pointer dereference at 0000000000000008',
      '> Subject: BUG: kernel NULL pointer dereference, address: 0000000000000010',
      'Kernel panic - not syncing: is what the screen says, then nothing. Any idea?',
      'BUG: I think this is a regression from 5.10.',
      'WARNING: at least one of the disks was missing after the reboot.',
      'firefox invoked oom-killer: gfp_mask= is in the log too but I did not copy the rest.', ''].join('\n');
    assert.deepEqual(scanText(text), []);
    // The same first lines as a console prints them are reports (h27/13: a serial console without times).
    const console = ['Kernel panic - not syncing: VFS: Unable to mount root fs on unknown-block(0,0)',
      'WARNING: at net/sched/sch_generic.c:261 dev_watchdog+0x26b/0x280()', 'BUG: Bad rss-counter state mm:000000001a2b3c4d type:MM_ANONPAGES val:-1', ''].join('\n');
    assert.deepEqual(scanText(console).map((a) => a.report.kind), ['panic', 'warning', 'bug']);
  });

  it('a first line without its body does not take the next boot\'s banner or another OOM\'s kill (helper-67)', () => {
    const text = ['Mar  3 09:00:00 db1 kernel: Linux version 5.4.0-65-generic (buildd@lcy01) #73-Ubuntu SMP',
      'Mar  3 10:00:00 db1 kernel: BUG: kernel NULL pointer dereference, address: 0000000000000008',
      'Mar  3 10:00:40 db1 kernel: Linux version 5.4.0-70-generic (buildd@lcy01) #78-Ubuntu SMP',
      'Mar  3 10:30:00 db1 kernel: INFO: task jbd2/sda1-8:312 blocked for more than 120 seconds.', ''].join('\n');
    const got = scanText(text);
    assert.deepEqual(got.map((a) => [a.report.kind, a.report.kernel, a.report.crash?.message ?? []]),
      [['oops', '5.4.0-65-generic', []], ['hung_task', '5.4.0-70-generic', []]]);
    // Two kill lines alone (a priority filter kept them) are two OOM kills, not one with two victims.
    const kills = ['Mar  3 10:00:00 db1 kernel: Out of memory: Killed process 4411 (java) total-vm:1kB, anon-rss:1kB',
      'Mar  3 10:00:19 db1 kernel: Out of memory: Killed process 5522 (python3) total-vm:1kB, anon-rss:1kB', ''].join('\n');
    assert.deepEqual(scanText(kills).map((a) => a.report.crash?.oom?.victim?.task), ['java', 'python3']);
    // A WARN's message between its first line and its body is kept as its message.
    const warn = ['[ 61.1] WARNING: CPU: 0 PID: 0 at net/sched/sch_generic.c:320 dev_watchdog+0x248/0x250',
      '[ 61.2] NETDEV WATCHDOG: eth0 (e1000e): transmit queue 0 timed out', '[ 61.3] Modules linked in: e1000e',
      '[ 61.4] CPU: 0 PID: 0 Comm: swapper/0 Not tainted 4.14.142 #58', ''].join('\n');
    assert.deepEqual(scanText(warn)[0].report.crash?.message, ['NETDEV WATCHDOG: eth0 (e1000e): transmit queue 0 timed out']);
  });

  it('a report of another kind between a RHEL 7 hung task and the dump that names the release leaves its wait as it was (helper-68)', () => {
    const text = ['Nov 27 10:00:00 db7 kernel: INFO: task java:1234 blocked for more than 120 seconds.',
      'Nov 27 10:00:00 db7 kernel: java            D ffff88103f2d6b00     0  1234      1 0x00000080',
      'Nov 27 10:00:00 db7 kernel: Call Trace:', 'Nov 27 10:00:00 db7 kernel: [<ffffffff8176e8e9>] schedule+0x29/0x70',
      'Nov 27 10:00:00 db7 kernel: [<ffffffff8176ec9d>] wait_for_completion+0xfd/0x140',
      'Nov 27 10:00:00 db7 kernel: [<ffffffff81777d3d>] system_call_fastpath+0x16/0x1b',
      'Nov 27 10:00:01 db7 kernel: INFO: rcu_sched detected stalls on CPUs/tasks: { 3} (detected by 1, t=60002 jiffies, g=123, c=122, q=0)',
      'Nov 27 10:00:01 db7 kernel: Kernel panic - not syncing: hung_task: blocked tasks',
      'Nov 27 10:00:01 db7 kernel: CPU: 3 PID: 404 Comm: khungtaskd Not tainted 3.10.0-957.el7.x86_64 #1', ''].join('\n');
    assert.deepEqual(scanText(text).map((a) => [a.report.kind, a.report.kernel, a.report.kernelSource]), [
      ['hung_task', '3.10.0-957.el7.x86_64', 'dump'], ['rcu_stall', '3.10.0-957.el7.x86_64', 'dump'], ['panic', '3.10.0-957.el7.x86_64', 'tainted']]);
  });

  it('distinct reports of one task a few seconds apart are stored apart; a rescan adds none (helper-67)', () => {
    const dir = tmpdir();
    const db = path.join(dir, 'k.db');
    const file = path.join(dir, 'two.log');
    fs.writeFileSync(file, ['Mar  3 10:00:00 db1 kernel: watchdog: BUG: soft lockup - CPU#1 stuck for 23s! [java:4242]',
      'Mar  3 10:00:26 db1 kernel: watchdog: BUG: soft lockup - CPU#1 stuck for 23s! [java:4242]',
      'Mar  3 10:01:00 db1 kernel: WARNING: CPU: 1 PID: 812 at mm/vmscan.c:100 shrink_node+0x1/0x2',
      'Mar  3 10:01:30 db1 kernel: WARNING: CPU: 1 PID: 812 at mm/page_alloc.c:200 __alloc_pages+0x1/0x2', ''].join('\n'));
    const stored = (): unknown => cli(['--db', db, '--json', file]).json.at(-1)!.stored;
    assert.deepEqual(stored(), { db, new: 4, duplicates: 0, incidents: 1 });
    assert.deepEqual(stored(), { db, new: 0, duplicates: 4, incidents: 1 });
  });

  it('a lockup keeps the dump printed after its own panic line, not another kind\'s or another CPU\'s (softlockup_panic, helper-72)', () => {
    const kinds = (lines: string[]): string[][] => scanText([...lines, ''].join('\n'))
      .map((a) => [a.report.kind, a.report.task, String(a.report.frames.length)]);
    const lockup = '[  128.17] watchdog: BUG: soft lockup - CPU#3 stuck for 25s! [a:1]';
    const dump = (cpu: number, pid: number, comm: string): string[] => [`[  128.17] CPU: ${cpu} PID: ${pid} Comm: ${comm} Not tainted 6.5.3 #1`,
      '[  128.17] Call Trace:', '[  128.17]  <IRQ>', '[  128.17]  dump_stack_lvl+0x47/0x60', '[  128.17]  panic+0x180/0x330',
      '[  128.17]  watchdog_timer_fn+0x1e2/0x220', '[  128.17]  </IRQ>', '[  128.17]  <TASK>', '[  128.17]  foo_loop+0x1/0x2', '[  128.17]  </TASK>'];
    assert.deepEqual(kinds([lockup, '[  128.17] Kernel panic - not syncing: softlockup: hung tasks', ...dump(3, 1, 'a')]),
      [['panic', '', '0'], ['soft_lockup', 'a', '4']]);
    assert.deepEqual(kinds([lockup, '[  128.17] Kernel panic - not syncing: Hard LOCKUP', ...dump(5, 2, 'b')]),
      [['soft_lockup', 'a', '0'], ['panic', 'b', '4']]);
    assert.deepEqual(kinds([lockup, '[  128.17] Kernel panic - not syncing: softlockup: hung tasks', ...dump(5, 2, 'b')]).map((k) => k.slice(0, 2)),
      [['panic', ''], ['soft_lockup', 'a']]);
    assert.equal(kinds([lockup, '[  128.17] Kernel panic - not syncing: softlockup: hung tasks', ...dump(5, 2, 'b')])[1][2], '0');
  });

  it('a global OOM after a memory cgroup\'s is not blamed on a cgroup limit (helper-72)', () => {
    const oom = (t: string, who: string, pid: number, memcg: boolean): string[] => [
      `[${t}] ${who} invoked oom-killer: gfp_mask=0xcc0(GFP_KERNEL), order=0, oom_score_adj=0`,
      `[${t}] CPU: 1 PID: ${pid} Comm: ${who} Not tainted 5.15.0-91-generic #101-Ubuntu`,
      `[${t}] oom-kill:constraint=${memcg ? 'CONSTRAINT_MEMCG' : 'CONSTRAINT_NONE'},nodemask=(null),cpuset=/,mems_allowed=0,global_oom,task=${who},pid=${pid + 1},uid=0`,
      `[${t}] ${memcg ? 'Memory cgroup out of memory' : 'Out of memory'}: Killed process ${pid + 1} (${who}) total-vm:1000kB, anon-rss:900kB, file-rss:0kB, shmem-rss:0kB, UID:0 pgtables:40kB oom_score_adj:0`];
    const got = scanText([...oom('5000.100000', 'php', 900, true), ...oom('5003.200000', 'java', 950, false), ''].join('\n'));
    assert.deepEqual(got.map((a) => [a.report.task, a.matches.map((m) => m.rule)]), [['php', ['oom-memcg-limit']], ['java', []]]);
  });

  it('two OOM kills of one invoker seconds apart are two reports when their victims are two processes', () => {
    const dir = tmpdir();
    const db = path.join(dir, 'k.db');
    const file = path.join(dir, 'oom.log');
    // php-fpm's workers killed one after another, a wall-clock-only syslog: only the victims' pids differ.
    const oom = (t: string, victim: number): string[] => [
      `Mar  3 10:00:0${t} web1 kernel: php-fpm invoked oom-killer: gfp_mask=0x201da, order=0, oom_score_adj=0`,
      `Mar  3 10:00:0${t} web1 kernel: CPU: 1 PID: 900 Comm: php-fpm Not tainted 3.10.0-957.el7.x86_64 #1`,
      `Mar  3 10:00:0${t} web1 kernel: Out of memory: Kill process ${victim} (php-fpm) score 31 or sacrifice child`,
      `Mar  3 10:00:0${t} web1 kernel: Killed process ${victim} (php-fpm) total-vm:712000kB, anon-rss:250000kB, file-rss:0kB, shmem-rss:0kB`];
    fs.writeFileSync(file, [...oom('1', 2001), ...oom('3', 2002), ''].join('\n'));
    const run = (): Record<string, unknown>[] => cli(['--db', db, '--json', file]).json;
    const first = run();
    assert.deepEqual(first.slice(0, -1).map((r) => (r.oom_victim as { pid: number }).pid), [2001, 2002]);
    assert.deepEqual(first.at(-1)!.stored, { db, new: 2, duplicates: 0, incidents: 1 });
    assert.deepEqual(run().at(-1)!.stored, { db, new: 0, duplicates: 2, incidents: 1 });
  });

  it('a soft lockup\'s spinning and a stall\'s interrupt are passed over for the function that called them', () => {
    const rcu = scanText(sample('kinds/13-rcu-preempt-stall-syzbot-6.x-kthread-starved-nmi-wireguard.log'))[0];
    // Caught in the timer interrupt (rb_erase) of a task spinning for a write lock: the title names neither.
    assert.doesNotMatch(rcu.identity.signature, /rb_erase|queued_write_lock|hrtimer/);
    assert.equal(rcu.identity.culprit.primitive, 'spinlock');
    const idle = scanText(sample('kinds/15-hardlockup-6.12-cloudflare-caller-ids-interleaved-nmi-qp-panic.log'))[0];
    assert.equal(idle.identity.signature, 'hard lockup of swapper/* (idle)');
  });

  it('a soft lockup is stored once per report, and found again by --kind (store)', () => {
    const dir = tmpdir();
    const db = path.join(dir, 'k.db');
    const file = 'samples/kinds/05-i386-5.2-next-kernel-BUG-lockref-then-softlockups-rcu-stall-quoted.log';
    const first = cli(['--db', db, '--json', file]).json.at(-1)!;
    assert.deepEqual(first.kinds, { bug: 1, soft_lockup: 2, rcu_stall: 1 });
    assert.equal((first.stored as { new: number }).new, 4);
    assert.equal((cli(['--db', db, '--json', file]).json.at(-1)!.stored as { new: number }).new, 0);
    // One episode: the BUG, the lockups and the stall that followed it.
    const hist = cli(['history', '--db', db, '--kind', 'soft_lockup']);
    assert.match(hist.stdout, /^#1 .* 4 reports, 2 tasks {2}kernel BUG in lockref_mark_dead/);
    assert.equal(cli(['history', '--db', db, '--kind', 'hard_lockup']).stdout, 'no incidents match\n');
    // A paste names no host: history prints `-`, and `--host -` finds it (helper-63).
    assert.match(cli(['history', '--db', db, '--host', '-']).stdout, /^#1 {2}\S.* {2}- {2}4 reports/);
    assert.equal(cli(['history', '--db', db, '--host', 'web-1']).stdout, 'no incidents match\n');
    const show = cli(['show', '--db', db, '1']).stdout;
    assert.match(show, /soft lockup on CPU 1: WorkerPool\/7703:7703, stuck for 23 s/);
    assert.match(show, /soft lockup in shrink_lock_dentry \(spinlock\)/);
    assert.match(show, /root cause no rule reads kernel BUGs yet/);
  });

  it('reads a 6.13+ hard lockup: pr_fmt\'s `watchdog: ` and then the CPU that noticed it (helper-73)', () => {
    // intel-gfx CI, 6.17.0-rc6 (kernel/watchdog.c: pr_emerg("CPU%u: Watchdog detected hard LOCKUP on cpu %u\n", this_cpu, cpu)).
    const got = scanText([
      '[164.964389] watchdog: CPU3: Watchdog detected hard LOCKUP on cpu 3',
      '[164.964407] Modules linked in: snd_hda_codec_alc662 i915 autofs4',
      '[164.964650] CPU: 3 UID: 0 PID: 1515 Comm: syncobj_timelin Tainted: G     U              6.17.0-rc6-Trybot_154715v1-gc1b827f32471+ #1 PREEMPT(voluntary)',
      '[164.964669] RIP: 0010:lock_release+0x13d/0x2a0',
      '[164.964729] Call Trace:',
      '[164.964734]  <IRQ>',
      '[164.964750]  dma_fence_chain_get_prev+0x13d/0x240',
      '[164.964879]  </IRQ>',
      '[164.964882]  <TASK>',
      '[164.964967]  sync_timeline_signal+0x153/0x2c0',
      '[164.965248]  </TASK>', ''].join('\n'));
    assert.deepEqual(got.map((a) => [a.report.kind, a.report.task, a.report.pid, a.report.crash?.cpu]), [['hard_lockup', 'syncobj_timelin', 1515, 3]]);
  });

  it('an ARM32 oops is one report through its `pgd = ` and `[addr] *pgd=` lines (helper-73)', () => {
    // arch/arm/mm/fault.c show_pte(): pr_alert("pgd = %p\n", ...); pr_alert("[%08lx] *pgd=%08llx", ...).
    const got = scanText([
      '[135992.726639] Unable to handle kernel NULL pointer dereference at virtual address 0000000c',
      '[135992.726663] pgd = 6f458410',
      '[135992.726682] [0000000c] *pgd=0d3e2831, *pte=00000000, *ppte=00000000',
      '[135992.726715] Internal error: Oops: 17 [#2] ARM',
      '[135992.726854] CPU: 0 PID: 7690 Comm: htop Tainted: G      D  C        5.4.79+ #1373',
      '[135992.726890] PC is at seq_vprintf+0x18/0x64',
      '[135992.726903] LR is at seq_printf+0x3c/0x5c', ''].join('\n'));
    assert.deepEqual(got.map((a) => [a.report.kind, a.report.task, a.report.pid, a.report.crash?.ip?.fn]), [['oops', 'htop', 7690, 'seq_vprintf']]);
  });

  it('a hard lockup told as a WARNING (2.6.36-4.4, RHEL 6/7) is one hard lockup, not a WARNING and a lockup (helper-73)', () => {
    // 4.2.0-27-generic, Ubuntu Forums syslog: kernel/watchdog.c WARN(1, "Watchdog detected hard LOCKUP on cpu %d", ...).
    const p = 'Feb 17 19:24:18 UStudio kernel: ';
    const got = scanText([
      `${p}[  207.015552] ------------[ cut here ]------------`,
      `${p}[  207.015558] WARNING: CPU: 7 PID: 183 at /build/linux-NgsOGa/linux-4.2.0/kernel/watchdog.c:311 watchdog_overflow_callback+0x79/0xa0()`,
      `${p}[  207.015559] Watchdog detected hard LOCKUP on cpu 7`,
      `${p}[  207.015588] CPU: 7 PID: 183 Comm: kworker/u16:4 Tainted: P      D    OE   4.2.0-27-generic #32-Ubuntu`,
      `${p}[  207.015599] Call Trace:`,
      `${p}[  207.015599]  <NMI>  [<ffffffff817eae99>] dump_stack+0x45/0x57`,
      `${p}[  207.015607]  [<ffffffff81132ff9>] watchdog_overflow_callback+0x79/0xa0`,
      `${p}[  207.015619]  [<ffffffff817f3f51>] end_repeat_nmi+0x1a/0x1e`,
      `${p}[  207.015624]  <<EOE>>  [<ffffffff817f19c8>] _raw_spin_lock_irq+0x28/0x30`,
      `${p}[  207.015627]  [<ffffffff817ed363>] __schedule+0xb3/0x950`, ''].join('\n'));
    assert.deepEqual(got.map((a) => [a.report.kind, a.report.task, a.report.pid, a.report.crash?.cpu]), [['hard_lockup', 'kworker/u16:4', 183, 7]]);
    // Any other WARNING stays a WARNING, and a lockup line after it is a report of its own.
    const other = scanText(['WARNING: CPU: 7 PID: 183 at net/core/dev.c:1 f+0x1/0x2', 'Watchdog detected hard LOCKUP on cpu 7', ''].join('\n'));
    assert.deepEqual(other.map((a) => a.report.kind).sort(), ['hard_lockup', 'warning']);
  });

  it('a powerpc oops before 4.19 opens at `Unable to handle kernel paging request for data at address` (helper-73)', () => {
    // A POWER8 (powernv) console, `echo c > /proc/sysrq-trigger`: every line printed twice.
    const ppc = ['[  349.166638] Unable to handle kernel paging request for data at address 0x00000000',
      '[  349.166638] Unable to handle kernel paging request for data at address 0x00000000',
      '[  349.167485] Faulting instruction address: 0xc00000000069d168', '[  349.168127] Oops: Kernel access of bad area, sig: 11 [#1]', ''].join('\n');
    const got = scanText(ppc);
    assert.deepEqual(got.map((a) => [a.report.kind, a.report.source.line, a.report.crash?.what, a.report.crash?.address]),
      [['oops', 1, 'unable to handle kernel paging request', '0x00000000']]);
  });

  it('an oops whose first line a mail client cut before its address is an oops, not a kernel BUG (helper-73)', () => {
    const cut = ['Feb  8 23:04:00 pc3 kernel: BUG: unable to handle kernel NULL pointer ', 'dereference at 00000004',
      'Feb  8 23:04:00 pc3 kernel: IP: [<c11ae628>] firmware_loading_store+0x68/0x1a0', 'Feb  8 23:04:00 pc3 kernel: Oops: 0000 [#1] SMP', ''].join('\n');
    assert.deepEqual(scanText(cut).map((a) => [a.report.kind, a.identity.signature]), [['oops', 'kernel NULL pointer dereference in firmware_loading_store']]);
  });

  it('an s390 call through a NULL function pointer is named after its caller, the unreliable entry after `0x0` (helper-73)', () => {
    // 6.14 s390x (linux-next CI): show_stack() prints r14, the return address of the jump to 0, in parentheses.
    const s390 = ['Unable to handle kernel pointer dereference in virtual kernel address space',
      'CPU: 3 UID: 0 PID: 19223 Comm: dump2tar Not tainted 6.14.0-20250123.rc0.git129.853d1f41ba73.300.fc41.s390x+next #1',
      'Krnl PSW : 0704e00180000000 0000000000000000 (0x0)', 'Call Trace:', ' [<0000000000000000>] 0x0',
      '([<000001e12d421b6a>] full_proxy_read+0x4a/0xc0)', ' [<000001e12d18ac16>] vfs_read+0x96/0x340', ' [<000001e12d18b7b8>] ksys_read+0x78/0x100', ''].join('\n');
    const [a] = scanText(s390);
    assert.equal(a.identity.signature, 'unable to handle kernel pointer dereference in full_proxy_read');
  });

  it('a hard lockup told only by its panic (hardlockup_panic up to 4.4, RHEL 7) is a hard lockup, of the CPU it names (helper-73)', () => {
    const rhel = ['[83076.933317] Kernel panic - not syncing: Watchdog detected hard LOCKUP on cpu 4',
      '[83077.019826] CPU: 4 PID: 3487 Comm: docker Tainted: GF         IO--------------   3.10.0-210.el7.x86_64 #1',
      '[83077.479636] Call Trace:', '[83077.508892]  <NMI>  [<ffffffff816038f7>] dump_stack+0x19/0x1b',
      '[83077.577827]  [<ffffffff815fd14b>] panic+0xd8/0x1e7', '[83077.720642]  [<ffffffff8110a872>] watchdog_overflow_callback+0xc2/0xd0', ''].join('\n');
    const [a] = scanText(rhel);
    assert.deepEqual([a.report.kind, a.report.crash?.cpu, `${a.report.task}:${a.report.pid}`], ['hard_lockup', 4, 'docker:3487']);
    // Another CPU's dump after it (the one that noticed) is not the locked CPU's: no task is named.
    const [b] = scanText(rhel.replace('on cpu 4', 'on cpu 0'));
    assert.deepEqual([b.report.kind, b.report.crash?.cpu, b.report.task], ['hard_lockup', 0, '']);
  });

  it('a soft lockup of an idle CPU is where its softirq spins, not the idle loop it interrupted (helper-73)', () => {
    // 6.13.2 NixOS (linux-wireless mail, Thunderbird-wrapped lines re-joined, frames cut): only an
    // interrupt can hold an idle CPU 22 s, and show_regs() prints the interrupted softirq's RIP first.
    const lines = fs.readFileSync(path.join(ROOT, 'test/fixtures/dumps', 'softlockup-idle-softirq-6.13.log'), 'utf8');
    const [a] = scanText(lines);
    assert.equal(a.report.crash?.ip?.fn, 'native_queued_spin_lock_slowpath');
    assert.equal(a.identity.signature, 'soft lockup in __iwl_trans_pcie_grab_nic_access (spinlock)');
  });

  it('an RCU stall whose first line a mail client wrapped after `on` is still one, with its CPUs (helper-73)', () => {
    // 6.13.2 NixOS, Thunderbird wrap at 72 columns (linux-wireless mail).
    const got = scanText([
      '[454932.295575] rcu: INFO: rcu_preempt detected expedited stalls on ',
      'CPUs/tasks: { 1-.... 18-.... } 21253 jiffies s: 31717 root: 0x3/.',
      '[454932.295584] rcu: blocking rcu_node structures (internal RCU debug): ',
      'l=1:0-15:0x2/. l=1:16-31:0x4/.',
      '[454932.295588] Sending NMI from CPU 22 to CPUs 1:',
      '[454932.295592] NMI backtrace for cpu 1',
      '[454932.295595] CPU: 1 UID: 0 PID: 0 Comm: swapper/1 Tainted: G     L     6.13.2 #1-NixOS',
      '[454932.295598] RIP: 0010:native_queued_spin_lock_slowpath+0x79/0x2c0',
      '[454932.295612] Call Trace:',
      '[454932.295669]  _raw_spin_lock+0x3f/0x60', ''].join('\n'));
    assert.deepEqual(got.map((a) => [a.report.kind, a.report.crash?.rcu?.cpus]), [['rcu_stall', [1, 18]]]);
  });

  it('an RCU stall in rsyslog\'s file keeps its stalled CPUs through the `#011` that stands for the kernel\'s tab (helper-41 #3)', () => {
    // 5.7.0-rc2, /var/log/messages of an intel-wired-lan post: a self-detected stall.
    const self = scanText([
      'May  1 06:37:33 u1322 kernel: rcu: INFO: rcu_sched self-detected stall on CPU',
      'May  1 06:37:33 u1322 kernel: rcu: #0117-....: (2 GPs behind) idle=4be/1/0x4000000000000004 softirq=180999/181000 fqs=14982',
      'May  1 06:37:33 u1322 kernel: #011(t=60000 jiffies g=2095585 q=2857)',
      'May  1 06:37:33 u1322 kernel: NMI backtrace for cpu 7',
      'May  1 06:37:33 u1322 kernel: CPU: 7 PID: 9111 Comm: ethtool Tainted: G             L    5.7.0-rc2_next-queue_dev-queue_c097661-00758-gc097661edb2b #31',
      'May  1 06:37:33 u1322 kernel: Call Trace:',
      'May  1 06:37:33 u1322 kernel: <IRQ>',
      'May  1 06:37:33 u1322 kernel: dump_stack+0x50/0x70', ''].join('\n'));
    assert.deepEqual(self.map((a) => [a.report.kind, a.report.crash?.cpu, a.report.crash?.rcu?.cpus]), [['rcu_stall', 7, [7]]]);
    // A 6.12 syslog: `detected stalls on CPUs/tasks`, CPU 17 behind the escape (`#01117` is `#011` then `17`).
    const detected = scanText([
      'Dec  3 01:58:46 node7 kernel: rcu: INFO: rcu_preempt detected stalls on CPUs/tasks:',
      'Dec  3 01:58:46 node7 kernel: rcu: #01117-...!: (0 ticks this GP) idle=b124/1/0x4000000000000000 softirq=2109356/2109356 fqs=0',
      'Dec  3 01:58:46 node7 kernel: rcu: #011(detected by 18, t=60004 jiffies, g=11126601, q=393720 ncpus=40)',
      'Dec  3 01:58:46 node7 kernel: Sending NMI from CPU 18 to CPUs 17:', ''].join('\n'));
    assert.deepEqual(detected.map((a) => [a.report.kind, a.report.crash?.rcu?.cpus]), [['rcu_stall', [17]]]);
  });

  it('a 2.6.1x-2.6.3x i386 oops keeps its body past the lone `SMP` line and `last sysfs file:` (helper-73)', () => {
    // arch/i386/kernel/traps.c die(): "PREEMPT "/"SMP " on a line of their own, then "last sysfs file: %s\n".
    const got = scanText([
      'BUG: unable to handle kernel paging request at virtual address 22222232',
      '  printing eip:', 'c012cf84', '*pde = 25b5a001', '*pte = 00000000', 'Oops: 0000 [#1]', 'SMP',
      'last sysfs file: /devices/pci0000:00/0000:00:0a.0/resource', 'Modules linked in:', 'CPU:    12',
      'EIP:    0060:[<c012cf84>]    Not tainted VLI', 'EFLAGS: 00010002   (2.6.17-rc5-mm3-autokern1 #1)',
      'EIP is at check_deadlock+0x19/0xe1', 'Process mkdir09 (pid: 18319, threadinfo=e47ea000 task=e5f91ab0)', ''].join('\n'));
    assert.deepEqual(got.map((a) => [a.report.kind, a.report.task, a.report.pid, a.report.crash?.ip?.fn]), [['oops', 'mkdir09', 18319, 'check_deadlock']]);
  });
});

describe('not hung-task reports', () => {
  for (const file of [
    'negative/soft-lockup-and-rcu-self-detected-stall-5.2-i386.log',
    'negative/rcu-stall-kthread-starved-task-line-state-I.log',
    'negative/rcu-stall-4.9-arm32-running-task-line.log',
    'negative/oops-netconsole-ext-kmsg-records-via-syslog.log',
    'negative/oom-kill-5.15-syslog-with-printk-ts.log',
    'negative/oom-kill-3.13-syslog-stack-words.log',
    'negative/freezing-failed-6.x-btrfs.log',
    'negative/freezing-failed-arm32-running-task.log',
    'negative/powerpc-rcu-stall-unreliable-interrupt-frame.log',
    'negative/sysrq-w-show-blocked-state-6.7.log',
    'negative/sysrq-w-3.x-header-columns.log',
  ]) {
    it(`${file}: no hung_task report`, () => {
      assert.equal(scanText(sample(file)).filter((a) => a.report.kind === 'hung_task').length, 0);
    });
  }

  it('a 2.6 sysrq-t dump with the old two-line column header gives its D-state tasks only', () => {
    const r = scanText(sample('stress/68-2.6.9-sysrq-t-syslog-old-columns-D-S-R.log'));
    assert.deepEqual(r.map((a) => [a.report.kind, a.report.task, a.report.pid]),
      [['blocked_state', 'init', 1], ['blocked_state', 'kswapd0', 33], ['blocked_state', 'syslogd', 3074], ['blocked_state', 'klogd', 3089]]);
  });

  it('a sysrq-w dump gives blocked_state reports, one per D-state task', () => {
    const reports = scanText(sample('negative/sysrq-w-show-blocked-state-6.7.log'));
    assert.deepEqual(reports.map((a) => [a.report.kind, a.report.task, a.report.state]), [['blocked_state', 'lvm', 'D']]);
    assert.equal(reports[0].report.blockedSeconds, null);
    assert.equal(reports[0].identity.signature, 'blocked task in stop_sync_thread');
  });

  it('a sysrq-w dump goes on past another subsystem\'s message between two tasks and a wrapped column header', () => {
    const task = (name: string, pid: number): string[] => [`Jul 31 16:31:40 backup1 kernel: ${name.padEnd(15)} D    0 ${String(pid).padStart(5)}      2 0x80004000`,
      'Jul 31 16:31:40 backup1 kernel: Call Trace:', 'Jul 31 16:31:40 backup1 kernel:  __schedule+0x2d8/0x760',
      'Jul 31 16:31:40 backup1 kernel:  kthread+0x112/0x130', 'Jul 31 16:31:40 backup1 kernel:  ret_from_fork+0x35/0x40'];
    const got = scanText(['Jul 31 16:31:40 backup1 kernel: sysrq: Show Blocked State',
      'Jul 31 16:31:40 backup1 kernel:   task                        PC stack', '  pid father', ...task('md1_reclaim', 910),
      'Jul 31 16:31:41 backup1 kernel: BTRFS info (device md1): qgroup scan completed (inconsistency flag cleared)',
      ...task('btrfs-transacti', 10200), ...task('btrfs', 30038),
      'Jul 31 16:31:42 backup1 kernel: e1000e: eth0 NIC Link is Down', 'Jul 31 16:31:43 backup1 kernel: e1000e: eth0 NIC Link is Up', ''].join('\n'));
    assert.deepEqual(got.map((a) => [a.report.kind, a.report.task, a.report.frames.length]),
      [['blocked_state', 'md1_reclaim', 3], ['blocked_state', 'btrfs-transacti', 3], ['blocked_state', 'btrfs', 3]]);
  });

  it('a line passed over between two dump tasks still counts as evidence, and a quoted dump does not hide the writer\'s own lines after it', () => {
    for (const f of ['sysrq-w-nfs-evidence-between-tasks.log', 'quoted-sysrq-w-then-own-lines.log']) {
      const text = fs.readFileSync(path.join(ROOT, 'test/fixtures/dumps', f), 'utf8');
      const cat = scanText(text).find((a) => a.report.task === 'cat')!;
      assert.deepEqual([cat.report.context, cat.matches[0]?.rule], [['nfs: server filer1 not responding, still trying'], 'nfs-server-not-responding'], f);
    }
  });

  it('PREEMPT_RT kernels\' CPU number before each message is not part of it', () => {
    const [r] = scanText(['[195380.604772] 027: INFO: task kworker/u56:2:6079 blocked for more than 122 seconds.',
      '[195380.604776] 027:       Tainted: G           OE     5.4.161-rt67-rc1 #1',
      '[195380.604779] 027: kworker/u56:2   D    0  6079      2 0x80084000', '[195380.604789] 027: Workqueue: netns cleanup_net',
      '[195380.604790] 027: Call Trace:', '[195380.604793] 027:  __schedule+0x3d4/0x8a0', ''].join('\n'));
    assert.deepEqual([r.report.state, r.report.kernel, r.report.workqueue, frameNames(r)], ['D', '5.4.161-rt67-rc1', 'netns cleanup_net', ['__schedule']]);
  });
});

describe('hung tasks whose header the log dropped (Debian /var/log/messages keeps info, notice and warn, not err)', () => {
  /** What such a syslog rule leaves of a log: the KERN_ERR lines of the hung-task reports go. */
  const dropErr = (text: string): string => text.split('\n')
    .filter((l) => !/INFO: task .* blocked for more than|(?:Not tainted|Tainted:) \d|hung_task_timeout_secs/.test(l)).join('\n');
  // (Not the causes: without the Tainted line the release may be unknown, and a rule a release excludes may apply.)
  const key = (a: AnalyzedReport): unknown[] => [a.report.task, a.report.pid, frameNames(a), a.identity.signature];

  for (const file of [
    'seed/centos7-java-rwsem.messages', // 3.10: `%-15.15s %c` and the pc, `java            D ffff881fbfc13680`
    'eras/2.6-syslog-karmic-three-tasks.log', // 2.6.31: `%-13.13s`, three tasks back to back
    'eras/rhel5.6-2.6.18-x86_64-L-TLB-stale-find-busiest-group-panic.log', // 2.6.18: `(L-TLB)`
    'eras/4.18-el8-name-with-space.log', // 4.9-5.8: the free stack right after the state, `D    0`
    'eras/5.12-task-line-padded-workqueue-no-TASK-markers.log', // 5.9+: `task:... state:D`
  ]) {
    it(`${file}: the same hung tasks, told as without their header`, () => {
      const whole = scanText(sample(file)).filter((a) => a.report.kind === 'hung_task' && a.report.frames.length > 0);
      const cut = scanText(dropErr(sample(file))).filter((a) => a.report.kind === 'hung_task');
      assert.ok(whole.length > 0);
      assert.deepEqual(cut.map(key), whole.map(key));
      assert.ok(cut.every((a) => a.report.headerless === true && a.report.blockedSeconds === null && a.report.state === 'D'));
      assert.ok(whole.every((a) => a.report.headerless === undefined));
      const kernel = whole[0].report.kernel ?? undefined;
      assert.deepEqual(scanText(dropErr(sample(file)), { kernel }).filter((a) => a.report.kind === 'hung_task').map((a) => a.matches.map((m) => m.rule)),
        whole.map((a) => a.matches.map((m) => m.rule)));
      // One by one in small chunks (the file path skips idle lines by the needles; this reads them all).
      assert.deepEqual(scanText(dropErr(sample(file)), { chunk: 97 }).filter((a) => a.report.kind === 'hung_task').map(key), cut.map(key));
    });
  }

  it('a Ubuntu 10.04 /var/log/messages: every hung task of two khungtaskd passes, and the note on the CLI', () => {
    const file = 'eras/2.6.32-ubuntu10.04-var-log-messages-task-lines-without-kern-err-headers.log';
    const got = scanText(sample(file));
    assert.deepEqual(got.map((a) => [a.report.kind, a.report.task, a.report.pid, a.report.host, a.report.uptime]), [
      ['hung_task', 'kjournald', 627, 'netguy-backup01', 8880.273227], ['hung_task', 'flush-8:16', 1011, 'netguy-backup01', 8880.284748],
      ['hung_task', 'rsync', 1023, 'netguy-backup01', 8880.295884], ['hung_task', 'kjournald', 627, 'netguy-backup01', 9000.300974]]);
    assert.equal(got[0].matches[0]?.rule, 'ext4-jbd2-io-stall');
    const r = cli(['--no-db', path.join(ROOT, 'samples', file)]);
    assert.equal(r.status, 0);
    assert.match(r.stdout, /hung task kjournald:627 in D state \(its 'blocked for more than' line is not in the log\)/);
    assert.match(r.stdout, /note: 4 hung tasks were read from their task line and trace alone: .*Debian's \/var\/log\/messages keeps only info, notice and warn/);
    const json = cli(['--no-db', '--json', path.join(ROOT, 'samples', file)]).stdout.trim().split('\n').map((l) => JSON.parse(l) as Record<string, unknown>);
    assert.deepEqual(json.slice(0, -1).map((o) => [o.headerless, o.blocked_seconds, o.header]), Array(4).fill([true, null, null]));
    assert.equal(json.at(-1)!.headerless, 4);
  });

  it('a name of 15 characters leaves one blank before the state: found in each era\'s form', () => {
    const trace = ['Call Trace:', ' [<ffffffff8163a909>] schedule+0x29/0x70', ' [<ffffffff8163c2a5>] rwsem_down_write_failed+0x115/0x220',
      ' [<ffffffff81301e23>] call_rwsem_down_write_failed+0x13/0x20', ' [<ffffffff816391bd>] down_write+0x2d/0x3d',
      ' [<ffffffff81645909>] system_call_fastpath+0x16/0x1b'];
    for (const task of ['systemd-journal D ffff88103fc13680     0   472      1 0x00000000',
      'systemd-journal D 0000000000000000     0   472      1 0x00000000',
      'systemd-journal D    0   472      1 0x00000000',
      'task:systemd-journal state:D stack:0     pid:472   ppid:1      flags:0x00000000']) {
      const got = scanText([task, ...trace].map((l) => `Jan 29 10:41:07 web1 kernel: ${l}`).join('\n'));
      assert.deepEqual(got.map((a) => [a.report.task, a.report.pid, a.report.headerless, a.report.frames.length]), [['systemd-journal', 472, true, 5]], task);
    }
  });

  const at = (host: string, up: number, text: string): string => `Jun  9 12:42:24 ${host} kernel: [${up.toFixed(6).padStart(12)}] ${text}`;
  /** A 2.6.3x hung task of kjournald as /var/log/syslog has it (whole) and as /var/log/messages does (no KERN_ERR lines). */
  const kjournald = (whole: boolean): string => [
    ...(whole ? [at('backup01', 8880.27322, 'INFO: task kjournald:627 blocked for more than 120 seconds.'),
      at('backup01', 8880.273225, '"echo 0 > /proc/sys/kernel/hung_task_timeout_secs" disables this message.')] : []),
    at('backup01', 8880.273227, 'kjournald     D 00000000ffffffff     0   627      2 0x00000000'),
    at('backup01', 8880.273246, 'Call Trace:'), at('backup01', 8880.273284, ' [<ffffffff81555627>] io_schedule+0x47/0x70'),
    at('backup01', 8880.273287, ' [<ffffffff8116d215>] sync_buffer+0x45/0x50'),
    at('backup01', 8880.273314, ' [<ffffffff81212bfb>] journal_commit_transaction+0x31b/0xe40'),
    at('backup01', 8880.273331, ' [<ffffffff81216a9d>] kjournald+0xed/0x250'), at('backup01', 8880.27334, ' [<ffffffff8100c1ca>] child_rip+0xa/0x20'), ''].join('\n');

  it('/var/log/messages and /var/log/syslog of one host, in either order: the hang once, whole (in one run, and in the store over two)', () => {
    const dir = tmpdir();
    fs.writeFileSync(path.join(dir, 'messages'), kjournald(false));
    fs.writeFileSync(path.join(dir, 'syslog'), kjournald(true));
    for (const order of [['messages', 'syslog'], ['syslog', 'messages']]) {
      const out = cli(['--no-db', '--json', ...order.map((f) => path.join(dir, f))]).stdout.trim().split('\n').map((l) => JSON.parse(l) as Record<string, unknown>);
      assert.deepEqual(out.filter((o) => o.type === 'report').map((o) => [o.task, o.blocked_seconds, o.headerless ?? false]), [['kjournald', 120, false]], order.join(' '));
    }
    for (const order of [['messages', 'syslog'], ['syslog', 'messages']]) {
      const db = path.join(dir, `${order[0]}.db`);
      for (const f of order) assert.equal(cli(['--db', db, path.join(dir, f)]).status, 0);
      assert.equal(count(db, 'SELECT count(*) n FROM reports'), 1, order.join(' then '));
      assert.equal(count(db, 'SELECT count(*) n FROM reports WHERE blocked_seconds = 120'), 1, order.join(' then '));
    }
  });

  it('a state dump cut before its opening line gives blocked tasks, not hung tasks: its column header, or a task not in D state between', () => {
    const task = (up: number, name: string, state: string, pid: number, fn: string): string[] => [
      at('hostB', up, `${name.padEnd(15)} ${state} ffff88003fc13780     0 ${String(pid).padStart(5)}      2 0x00000000`), at('hostB', up + 0.000002, 'Call Trace:'),
      at('hostB', up + 0.000003, ' [<ffffffff816d4f69>] schedule+0x29/0x70'), at('hostB', up + 0.000004, ` [<ffffffff816d42bd>] ${fn}+0xed/0x250`),
      at('hostB', up + 0.000005, ' [<ffffffff816dd9ed>] kthread+0x96/0xa0')];
    const dump = [...task(900.00001, 'kjournald', 'D', 627, 'kjournald'), ...task(900.00002, 'sshd', 'S', 999, 'do_select'),
      ...task(900.00003, 'flush-8:0', 'D', 1011, 'bdi_writeback_thread'), ...task(900.00004, 'cron', 'S', 1200, 'hrtimer_nanosleep'),
      ...task(900.00005, 'bash', 'R', 1300, 'n_tty_read')];
    const kinds = (lines: string[]): unknown[] => scanText(lines.join('\n')).map((a) => [a.report.kind, a.report.task]);
    assert.deepEqual(kinds(dump), [['blocked_state', 'kjournald'], ['blocked_state', 'flush-8:0']]);
    assert.deepEqual(kinds([at('hostB', 900, '  task                        PC stack   pid father'), ...dump.slice(0, 5)]), [['blocked_state', 'kjournald']]);
    // khungtaskd's D-state tasks back to back stay hung tasks.
    assert.deepEqual(kinds([...dump.slice(0, 5), ...dump.slice(10, 15)]), [['hung_task', 'kjournald'], ['hung_task', 'flush-8:0']]);
    // Kernels without `task_flags:` name no lock owners: one task not in D state between two is a dump already.
    assert.deepEqual(kinds(dump.slice(0, 15)), [['blocked_state', 'kjournald'], ['blocked_state', 'flush-8:0']]);
    // ... but a task line printed 20 s later (an RCU stall's kthread, its `rcu:` lines gone with the KERN_ERR ones) is no dump's.
    assert.deepEqual(kinds([...dump.slice(0, 5), ...task(920.1, 'rcu_sched', 'S', 10, 'rcu_gp_kthread')]), [['hung_task', 'kjournald']]);
  });

  it('6.15+: a header-less hung task followed by the task that likely owns its lock (in any state) stays a hung task, and whole once with syslog (helper-84 #1)', () => {
    const p = (up: number, l: string): string => at('web1', up, l);
    const hang = (up: number, name: string, pid: number, owner: { name: string; pid: number; state: string }, whole: boolean): string[] => [
      ...(whole ? [p(up, `INFO: task ${name}:${pid} blocked for more than 122 seconds.`), p(up, '      Not tainted 6.15.0-1-amd64 #1 Debian 6.15.1-1'),
        p(up, '"echo 0 > /proc/sys/kernel/hung_task_timeout_secs" disables this message.')] : []),
      p(up + 0.00001, `task:${name.padEnd(15)} state:D stack:0     pid:${pid}  tgid:${pid}  ppid:1000   task_flags:0x400000 flags:0x00004002`),
      p(up + 0.00002, 'Call Trace:'), p(up + 0.00002, ' <TASK>'), p(up + 0.00003, ' __schedule+0x3f0/0xbd0'), p(up + 0.00003, ' schedule+0x27/0xf0'),
      p(up + 0.00003, ' schedule_preempt_disabled+0x15/0x30'), p(up + 0.00004, ' __mutex_lock.constprop.0+0x3ef/0x7a0'),
      p(up + 0.00004, ' misc_open+0x2d/0x60 [hung_test]'), p(up + 0.00004, ' chrdev_open+0xc4/0x250'), p(up + 0.00005, ' </TASK>'),
      ...(whole ? [p(up + 0.00005, `INFO: task ${name}:${pid} is blocked on a mutex likely owned by task ${owner.name}:${owner.pid}.`)] : []),
      p(up + 0.00006, `task:${owner.name.padEnd(15)} state:${owner.state} stack:0     pid:${owner.pid}  tgid:${owner.pid}  ppid:1000   task_flags:0x400000 flags:0x00004002`),
      p(up + 0.00007, 'Call Trace:'), p(up + 0.00007, ' <TASK>'), p(up + 0.00007, ' __schedule+0x3f0/0xbd0'), p(up + 0.00008, ' schedule+0x27/0xf0'),
      p(up + 0.00008, ' schedule_timeout+0x9e/0x160'), p(up + 0.00008, ' msleep_interruptible+0x2f/0x60'), p(up + 0.00009, ' misc_write+0x3a/0x60 [hung_test]'),
      p(up + 0.00009, ' </TASK>')];
    const log = (whole: boolean): string => [...hang(246.1, 'cat', 1234, { name: 'cat', pid: 1233, state: 'S' }, whole),
      ...hang(246.2, 'cat', 1235, { name: 'cat', pid: 1233, state: 'S' }, whole), 'Jan 15 22:27:40 web1 systemd[1]: Started foo.service.', ''].join('\n');
    const key = (a: AnalyzedReport): unknown[] => [a.report.kind, a.report.pid, a.report.headerless ?? false, a.report.frames.length];
    assert.deepEqual(scanText(log(false)).map(key), [['hung_task', 1234, true, 6], ['hung_task', 1235, true, 6]]);
    assert.deepEqual(scanText(log(true)).map((a) => [...key(a), a.report.blocker?.owner?.pid]), [['hung_task', 1234, false, 6, 1233], ['hung_task', 1235, false, 6, 1233]]);
    const dir = tmpdir();
    fs.writeFileSync(path.join(dir, 'messages'), log(false));
    fs.writeFileSync(path.join(dir, 'syslog'), log(true));
    const out = cli(['--no-db', '--json', path.join(dir, 'messages'), path.join(dir, 'syslog')]).stdout.trim().split('\n').map((l) => JSON.parse(l) as Record<string, unknown>);
    assert.deepEqual(out.filter((o) => o.type === 'report').map((o) => [o.kind, o.pid, o.blocked_seconds]), [['hung_task', 1234, 122], ['hung_task', 1235, 122]]);
    // An owner in D state (holding the mutex while it waits for I/O) is no hang of its own: with
    // syslog in the same run, in either order, its header-less copy goes with the hang that names it.
    const ownerD = (whole: boolean): string => [...hang(246.1, 'cat', 1234, { name: 'writer', pid: 1233, state: 'D' }, whole),
      'Jan 15 22:27:40 web1 systemd[1]: Started foo.service.', ''].join('\n');
    fs.writeFileSync(path.join(dir, 'messages'), ownerD(false));
    fs.writeFileSync(path.join(dir, 'syslog'), ownerD(true));
    for (const order of [['messages', 'syslog'], ['syslog', 'messages']]) {
      const got = cli(['--no-db', '--json', ...order.map((f) => path.join(dir, f))]).stdout.trim().split('\n').map((l) => JSON.parse(l) as Record<string, unknown>);
      assert.deepEqual(got.filter((o) => o.type === 'report').map((o) => [o.pid, o.blocked_seconds]), [[1234, 122]], order.join(' '));
    }
    // A task line seconds later (an RCU stall's grace-period kthread, its `rcu:` lines gone with the
    // KERN_ERR ones) does not make the hang and its owner a state dump.
    const rcu = [p(266.5, 'task:rcu_preempt     state:I stack:0     pid:17    tgid:17    ppid:2      task_flags:0x208040 flags:0x00004000'),
      p(266.50001, 'Call Trace:'), p(266.50001, ' <TASK>'), p(266.50002, ' __schedule+0x3f0/0xbd0'), p(266.50002, ' schedule+0x27/0xf0'),
      p(266.50002, ' rcu_gp_kthread+0x111/0x180'), p(266.50003, ' </TASK>')];
    assert.deepEqual(scanText([...hang(246.1, 'cat', 1234, { name: 'cat', pid: 1233, state: 'S' }, false), ...rcu].join('\n')).map(key), [['hung_task', 1234, true, 6]]);
    // ARM32 prints no `Call Trace:` line: the next hang's frames follow its task line right away.
    const arm = (up: number, pid: number, state: string): string[] => [
      p(up, `task:cat             state:${state} stack:0     pid:${pid}  tgid:${pid}  ppid:1000   task_flags:0x400000 flags:0x00004002`),
      p(up + 0.000001, '[<807762c0>] (__schedule) from [<80776938>] (schedule+0x50/0xa8)'),
      p(up + 0.000002, '[<80776938>] (schedule) from [<80778a1c>] (schedule_preempt_disabled+0x14/0x20)'),
      p(up + 0.000003, '[<80778a1c>] (schedule_preempt_disabled) from [<80779b80>] (__mutex_lock.constprop.0+0x1e8/0x4a0)'),
      p(up + 0.000004, '[<80779b80>] (__mutex_lock.constprop.0) from [<802d6e40>] (chrdev_open+0xd0/0x1cc)'),
      p(up + 0.000005, '[<802d6e40>] (chrdev_open) from [<80101000>] (ret_fast_syscall+0x0/0x54)')];
    assert.deepEqual(scanText([...arm(6141.9, 1234, 'D'), ...arm(6141.901, 1233, 'S'), ...arm(6141.902, 1235, 'D'), ...arm(6141.903, 1233, 'S')].join('\n'))
      .map((a) => [a.report.kind, a.report.pid, a.report.frames.length]), [['hung_task', 1234, 6], ['hung_task', 1235, 6]]);
  });

  it('6.18, real (made on this machine): a hang whose mutex owner sleeps, as /var/log/messages and syslog keep it', () => {
    // `dmesg -r` of it: the KERN_ERR lines are `<3>`; Debian's /var/log/messages drops them.
    const raw = sample('eras/6.18-real-blocker-owner-sleeping-userfaultfd.log').split('\n').filter((l) => l !== '');
    const syslog = (keepErr: boolean): string => raw.filter((l) => keepErr || !l.startsWith('<3>'))
      .map((l) => `Nov 28 08:58:21 sandbox kernel: ${l.replace(/^<\d>/, '')}`).join('\n') + '\n';
    const whole = scanText(syslog(true));
    assert.deepEqual(whole.map((a) => [a.report.kind, a.report.pid, a.report.blockedSeconds, a.report.blocker?.owner?.pid, a.report.blocker?.ownerTask?.state]),
      [['hung_task', 7480, 8, 7439, 'S'], ['hung_task', 7480, 16, 7439, 'S']]);
    const cut = scanText(syslog(false));
    assert.deepEqual(cut.map((a) => [a.report.kind, a.report.pid, a.report.headerless, a.report.frames.length, a.identity.signature]),
      whole.map((a) => [a.report.kind, a.report.pid, true, 23, a.identity.signature]));
    const dir = tmpdir();
    fs.writeFileSync(path.join(dir, 'messages'), syslog(false));
    fs.writeFileSync(path.join(dir, 'syslog'), syslog(true));
    const out = cli(['--no-db', '--json', path.join(dir, 'messages'), path.join(dir, 'syslog')]).stdout.trim().split('\n').map((l) => JSON.parse(l) as Record<string, unknown>);
    assert.deepEqual(out.filter((o) => o.type === 'report').map((o) => [o.pid, o.blocked_seconds, o.headerless ?? false]), [[7480, 8, false], [7480, 16, false]]);
  });

  it('the freezer\'s list without its KERN_ERR line (a suspend that failed, in Debian\'s /var/log/messages) gives no hung task', () => {
    const lines = [at('laptop', 7001.1, 'Freezing user space processes ... '), at('laptop', 7021.1081, 'ls              D    0  4242   4100 0x00000004'),
      at('laptop', 7021.10811, 'Call Trace:'), at('laptop', 7021.10812, ' __schedule+0x2d1/0x870'), at('laptop', 7021.10813, ' schedule+0x55/0xf0'),
      at('laptop', 7021.10814, ' rpc_wait_bit_killable+0x1e/0x90 [sunrpc]'), at('laptop', 7021.10815, ' do_syscall_64+0x5b/0x1b0')];
    assert.deepEqual(scanText(lines.join('\n')), []);
    // Long after a suspend, a D-state task with a trace is a hung task again.
    const later = lines.slice(1).map((l) => l.replace(/\[ *(\d+\.\d+)\]/, (_, u: string) => `[${(Number(u) + 600).toFixed(6).padStart(12)}]`));
    assert.deepEqual(scanText([lines[0], ...later].join('\n')).map((a) => [a.report.kind, a.report.task]), [['hung_task', 'ls']]);
    // A suspend that froze every task prints no list: a hung task soon after its resume is one (helper-84 #4).
    for (const frozen of ['Freezing user space processes ... (elapsed 0.002 seconds) done.', 'Freezing user space processes completed (elapsed 0.003 seconds)']) {
      assert.deepEqual(scanText([at('laptop', 7001.1, frozen), ...lines.slice(1)].join('\n')).map((a) => [a.report.kind, a.report.task]), [['hung_task', 'ls']], frozen);
    }
  });

  it('no report from a D-state task line alone, from the freezer\'s list, or from a report\'s own task line out of its place', () => {
    const p = (l: string): string => `Jan 29 10:41:07 web1 kernel: [ 5000.10] ${l}`;
    assert.deepEqual(scanText([p('jbd2/sda1-8     D    0   434      2 0x80000000'), p('e1000e: eth0 NIC Link is Up')].join('\n')), []);
    assert.deepEqual(scanText(sample('negative/freezing-failed-6.x-btrfs.log')), []);
    assert.deepEqual(scanText(sample('negative/freezing-failed-arm32-running-task.log')), []);
    // The header's report ended before its task line came (lines of a central syslog out of order): one report, not two.
    const got = scanText([p('INFO: task jbd2/sda1-8:434 blocked for more than 120 seconds.'), 'Jan 29 10:41:07 web1 app: unrelated',
      p('Call Trace:'), p(' schedule+0x2c/0x80'), p(' io_schedule+0x16/0x40'), p(' kthread+0x121/0x140'), p(' ret_from_fork+0x35/0x40'),
      p('jbd2/sda1-8     D    0   434      2 0x80000000'), p('Call Trace:'), p(' schedule+0x2c/0x80'), p(' kthread+0x121/0x140')].join('\n'));
    assert.deepEqual(got.map((a) => [a.report.task, a.report.headerless ?? false]), [['jbd2/sda1-8', false]]);
  });
});
