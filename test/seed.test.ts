// The seed incident end to end: what an operator gets from the two original logs.
import assert from 'node:assert/strict';
import { cli, frameNames, sample, scanText } from './helpers.js';

describe('seed: the CentOS 7 ps hang', () => {
  it('reads the java report from /var/log/messages exactly', () => {
    const [a, ...rest] = scanText(sample('seed/centos7-java-rwsem.messages'));
    assert.equal(rest.length, 0);
    const r = a.report;
    assert.equal(r.kind, 'hung_task');
    assert.equal(r.task, 'java');
    assert.equal(r.pid, 181134);
    assert.equal(r.blockedSeconds, 120);
    assert.equal(r.host, 'app-prod-17');
    assert.equal(r.state, 'D');
    assert.equal(r.ppid, 1);
    assert.equal(r.frames.length, 15);
    assert.deepEqual(r.frames.filter((f) => f.unreliable).map((f) => f.fn),
      ['plist_del', '__unqueue_futex', 'futex_wait', 'wake_up_new_task', 'do_fork']);
    assert.deepEqual(frameNames(a).slice(0, 5), ['schedule', 'rwsem_down_read_failed', 'call_rwsem_down_read_failed', 'down_read', 'do_exit']);
    assert.deepEqual(r.frames[0], { fn: 'schedule', offset: '0x29', size: '0x70', module: null, unreliable: false, context: 'task' });
    assert.equal(r.truncated, false);
    assert.equal(r.kernel, null, 'a RHEL 7 hung-task report names no kernel release');
  });

  it('reads the ps report of the upstream patch with its kernel and trace', () => {
    const [a] = scanText(sample('seed/alios7-ps-cmdline.dmesg'));
    assert.equal(a.report.task, 'ps');
    assert.equal(a.report.pid, 14018);
    assert.equal(a.report.kernel, '4.9.79-009.ali3000.alios7.x86_64');
    assert.equal(a.report.tainted, 'G E');
    assert.deepEqual(frameNames(a, true).slice(0, 5),
      ['schedule', 'rwsem_down_read_failed', 'call_rwsem_down_read_failed', 'down_read', 'proc_pid_cmdline_read']);
    assert.equal(a.report.frames[0].fn, '__schedule');
    assert.equal(a.report.frames[0].unreliable, true, 'the first frame is printed with "? "');
  });

  it('names the cause of the java hang with a verdict for each kernel', () => {
    const text = sample('seed/centos7-java-rwsem.messages');
    const verdict = (kernel: string | null): string | undefined => {
      const [a] = scanText(text, { kernel });
      assert.equal(a.matches[0]?.rule, 'rhel7-rwsem-missed-wakeup');
      return a.matches[0]?.verdict;
    };
    assert.equal(verdict(null), 'unknown');
    assert.equal(verdict('3.10.0-862.14.4.el7.x86_64'), 'affected');
    assert.equal(verdict('3.10.0-957.10.1.el7.x86_64'), 'affected');
    assert.equal(verdict('3.10.0-957.12.1.el7.x86_64'), 'fixed');
    assert.equal(verdict('3.10.0-1160.el7.x86_64'), 'fixed');
  });

  it('takes the kernel release from a boot banner earlier in the log', () => {
    const banner = 'Jan 29 08:00:01 app-prod-17 kernel: Linux version 3.10.0-862.14.4.el7.x86_64 (mockbuild@kbuilder.bsys.centos.org) (gcc version 4.8.5 20150623 (Red Hat 4.8.5-28) (GCC) ) #1 SMP Wed Sep 26 15:12:11 UTC 2018\n';
    const [a] = scanText(banner + sample('seed/centos7-java-rwsem.messages'));
    assert.equal(a.report.kernel, '3.10.0-862.14.4.el7.x86_64');
    assert.equal(a.report.kernelSource, 'banner');
    assert.equal(a.matches[0].rule, 'rhel7-rwsem-missed-wakeup');
    assert.equal(a.matches[0].verdict, 'affected');
    assert.equal(a.matches[0].fixed_in, '3.10.0-957.12.1.el7');
  });

  it('does not take the banner of another host', () => {
    const banner = 'Jan 29 08:00:01 db-1 kernel: Linux version 3.10.0-1160.el7.x86_64 (mockbuild@kbuilder) #1 SMP\n';
    const [a] = scanText(banner + sample('seed/centos7-java-rwsem.messages'));
    assert.equal(a.report.kernel, null);
  });

  it('calls ps a victim of the mmap_sem holder, affected on its own 4.9 kernel, fixed on 5.4', () => {
    const text = sample('seed/alios7-ps-cmdline.dmesg');
    const [own] = scanText(text);
    assert.equal(own.matches[0].rule, 'proc-cmdline-mmap-sem');
    assert.equal(own.matches[0].verdict, 'affected');
    assert.equal(own.matches[0].role, 'victim');
    const [later] = scanText(text.replace('4.9.79-009.ali3000.alios7.x86_64', '5.4.0-42-generic'));
    assert.equal(later.matches[0].verdict, 'fixed');
  });

  it('gives each seed report the signature an operator can search for', () => {
    assert.equal(scanText(sample('seed/centos7-java-rwsem.messages'))[0].identity.signature, 'hung task in do_exit (rwsem read)');
    assert.equal(scanText(sample('seed/alios7-ps-cmdline.dmesg'))[0].identity.signature, 'hung task in proc_pid_cmdline_read (rwsem read)');
  });

  it('prints a readable block per report and a summary on the terminal', () => {
    const r = cli(['samples/seed/centos7-java-rwsem.messages', '--kernel', '3.10.0-862.14.4.el7.x86_64']);
    assert.equal(r.status, 0, r.stderr);
    assert.match(r.stdout, /^hung task java:181134 blocked for more than 120 s$/m);
    // A BSD syslog date: read in this machine's zone, shown back as written, the year marked as guessed.
    assert.match(r.stdout, /host app-prod-17 {3}time \d{4}-01-29 10:41:07 \(local time, year guessed\)/);
    assert.match(r.stdout, /kernel 3\.10\.0-862\.14\.4\.el7\.x86_64 \(--kernel\)/);
    assert.match(r.stdout, /cause rhel7-rwsem-missed-wakeup {2}AFFECTED {3}fixed in 3\.10\.0-957\.12\.1\.el7/);
    assert.match(r.stdout, /^ {4}> do_exit\+0x189\/0xa40$/m, 'the culprit frame is marked');
    assert.match(r.stdout, /^ {4}\? plist_del\+0x46\/0x70$/m, 'unreliable frames keep their "?"');
    assert.match(r.stdout, /^summary: 1 hung-task report, 1 host, 1 with a known cause \(1 input, 22 lines\)$/m);
  });

  it('on a kernel that has the fix, does not advise installing it and counts no known cause', () => {
    const r = cli(['--no-db', '--kernel', '3.10.0-957.12.1.el7.x86_64', 'samples/seed/centos7-java-rwsem.messages']);
    assert.match(r.stdout, /cause rhel7-rwsem-missed-wakeup {2}FIXED/);
    assert.match(r.stdout, /advice this kernel already has the fix for this bug/);
    assert.doesNotMatch(r.stdout, /update RHEL\/CentOS 7 to/);
    assert.match(r.stdout, /^summary: 1 hung-task report, 1 host, 0 with a known cause/m);
    // A dmesg names no host: its reports are not counted as one host.
    assert.match(cli(['--no-db', 'samples/seed/alios7-ps-cmdline.dmesg']).stdout, /^summary: 1 hung-task report, no host names, 1 with a known cause/m);
  });

  it('writes the NDJSON contract with --json: reports, then a summary', () => {
    const r = cli(['--json', '--no-db', 'samples/seed/centos7-java-rwsem.messages', 'samples/seed/alios7-ps-cmdline.dmesg']);
    assert.equal(r.status, 0, r.stderr);
    assert.equal(r.json.length, 3);
    const [java, ps, summary] = r.json;
    for (const k of ['type', 'kind', 'host', 'time', 'uptime', 'task', 'pid', 'blocked_seconds', 'state', 'kernel', 'tainted',
      'frames', 'signature', 'fingerprint', 'matches', 'source', 'incident']) {
      assert.ok(k in java, `report has ${k}`);
    }
    assert.equal(java.type, 'report');
    assert.equal(java.kind, 'hung_task');
    assert.equal(java.pid, 181134);
    assert.match(String(java.time), /^\d{4}-01-29T10:41:07\.000Z$/);
    assert.deepEqual(java.source, { name: 'samples/seed/centos7-java-rwsem.messages', line: 1 });
    assert.match(String(java.fingerprint), /^[0-9a-f]{16}$/);
    assert.deepEqual((java.frames as { fn: string }[])[5], { fn: 'plist_del', offset: '0x46', size: '0x70', module: null, unreliable: true, context: 'task' });
    assert.equal(ps.kernel, '4.9.79-009.ali3000.alios7.x86_64');
    assert.equal(ps.tainted, 'G E');
    assert.deepEqual((ps.matches as { rule: string }[]).map((m) => m.rule), ['proc-cmdline-mmap-sem']);
    assert.equal(summary.type, 'summary');
    assert.equal(summary.reports, 2);
    assert.deepEqual(summary.kinds, { hung_task: 2 });
  });

  it('reads the same report from stdin and from "-"', () => {
    const text = sample('seed/centos7-java-rwsem.messages');
    for (const args of [['--json'], ['--json', '-']]) {
      const r = cli(args, { input: text });
      assert.equal(r.status, 0);
      assert.equal(r.json[0].task, 'java');
      assert.deepEqual(r.json[0].source, { name: '-', line: 1 });
    }
  });

  it('answers --help and --version', () => {
    const h = cli(['--help']);
    assert.equal(h.status, 0);
    assert.match(h.stdout, /Usage:/);
    assert.match(h.stdout, /--kernel RELEASE/);
    const v = cli(['--version']);
    assert.match(v.stdout, /^klogscan \d+\.\d+\.\d+\n$/);
  });
});
