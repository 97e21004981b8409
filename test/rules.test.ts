// The rule database: every rule proven by its samples, the loader's errors, user rules, verdicts, ranking.
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { checkRule } from '../src/rules/harness.js';
import { parseRelease, rpmCompare, rpmvercmp } from '../src/rules/kernel-release.js';
import { loadRuleDir, loadRuleFile, RuleFileError, ruleSet } from '../src/rules/loader.js';
import { versionVerdict } from '../src/rules/engine.js';
import { cli, ROOT, rules, sample, scanText, tmpdir } from './helpers.js';

describe('rule database', () => {
  const set = rules();

  it('has the rules the project promises, each named after its file', () => {
    for (const id of ['rhel7-rwsem-missed-wakeup', 'proc-cmdline-mmap-sem', 'rwsem-handoff-lockup-5x', 'wbt-rq-qos-missed-wakeup',
      'memcg-reclaim-wait-on-writeback', 'jbd2-checkpoint-mutex-deadlock', 'xfs-log-cover-deadlock', 'sync-livelock-dirty-time',
      'nfs-server-not-responding', 'cifs-server-unreachable', 'ceph-client-blocked', 'fuse-daemon-not-answering',
      'dm-multipath-queue-if-no-path', 'ext4-jbd2-io-stall', 'xfs-log-io-stall', 'btrfs-transaction-stall', 'zfs-txg-sync-stall',
      'dirty-writeback-throttling', 'cgroup-mutex-contention', 'md-raid5-fetch-block-resync-lockup', 'oom-memcg-limit',
      'memcg-oom-dump-tasks-soft-lockup', 'cross-cpu-call-wait-lockup', 'rcu-gp-kthread-starved',
      'netdev-watchdog-tx-timeout']) {
      assert.ok(set.byId.has(id), id);
      assert.equal(path.basename(set.byId.get(id)!.file), `${id}.json`);
    }
  });

  describe('every rule passes its hit and miss samples', () => {
    for (const r of set.rules) {
      it(r.spec.id, () => {
        const failures = checkRule(r, set, ROOT).filter((c) => !c.ok);
        assert.deepEqual(failures.map((c) => `${c.kind} ${c.sample}: ${c.problem}`), []);
      });
    }
  });

  it('the harness refuses a rule without a hit sample, a miss sample or a reference', () => {
    const dir = tmpdir();
    const file = path.join(dir, 'lonely.json');
    fs.writeFileSync(file, JSON.stringify({
      id: 'lonely', title: 't', kind: 'environment', meaning: 'm', advice: 'a',
      match: { any_frames: ['some_function'] }, references: [{ title: 'r' }], samples: { hit: [], miss: [] },
    }));
    const cases = checkRule(loadRuleFile(file, dir), set, dir);
    assert.deepEqual(cases.filter((c) => !c.ok).map((c) => c.problem), ['has no hit sample', 'has no miss sample']);
  });

  it('a hit sample may match another rule only if the rule supersedes it', () => {
    const dir = tmpdir();
    fs.copyFileSync(path.join(ROOT, 'samples/seed/centos7-java-rwsem.messages'), path.join(dir, 'java.log'));
    fs.copyFileSync(path.join(ROOT, 'samples/seed/alios7-ps-cmdline.dmesg'), path.join(dir, 'ps.log'));
    const spec = (supersedes: string[]): string => JSON.stringify({
      id: 'do-exit-rwsem', title: 't', kind: 'environment', meaning: 'm', advice: 'a', supersedes,
      match: { culprit: ['do_exit'] }, references: [{ title: 'r' }], samples: { hit: ['java.log'], miss: ['ps.log'] },
    });
    fs.writeFileSync(path.join(dir, 'do-exit-rwsem.json'), spec([]));
    const loose = loadRuleDir(dir, dir)[0];
    const both = ruleSet([...set.rules, loose]);
    const problems = checkRule(loose, both, dir).filter((c) => !c.ok).map((c) => c.problem);
    assert.deepEqual(problems, ['report java:181134 also matches rhel7-rwsem-missed-wakeup (add it to "supersedes" if this rule refines it)']);
    fs.writeFileSync(path.join(dir, 'do-exit-rwsem.json'), spec(['rhel7-rwsem-missed-wakeup']));
    const declared = loadRuleDir(dir, dir)[0];
    assert.deepEqual(checkRule(declared, ruleSet([...set.rules, declared]), dir).filter((c) => !c.ok), []);
    const [a] = scanText(sample('seed/centos7-java-rwsem.messages'), { rules: ruleSet([...set.rules, declared]) });
    assert.deepEqual(a.matches.map((m) => m.rule).slice(0, 2), ['do-exit-rwsem', 'rhel7-rwsem-missed-wakeup'], 'supersedes ranks first');
  });
});

describe('rules of the other report kinds', () => {
  // A user rule for each new key, in a directory of its own, against real excerpts.
  const ruleOf = (id: string, extra: Record<string, unknown>): ReturnType<typeof ruleSet> => {
    const dir = tmpdir();
    fs.writeFileSync(path.join(dir, `${id}.json`), JSON.stringify({
      id, title: 't', kind: 'environment', meaning: 'm', advice: 'a', references: [{ title: 'r' }], samples: { hit: [], miss: [] }, ...extra,
    }));
    return ruleSet(loadRuleDir(dir, dir));
  };
  const rulesOf = (file: string, set: ReturnType<typeof ruleSet>): string[][] =>
    scanText(sample(file), { rules: set }).map((a) => [a.report.kind, ...a.matches.map((m) => m.rule)]);

  it('a rule reads the kinds it names, hung tasks when it names none', () => {
    const frames = { match: { frames_in_order: ['dump_task', 'mem_cgroup_scan_tasks'] } };
    const file = 'rules/memcg-oom-dump-tasks-soft-lockup.hit.1.log';
    assert.deepEqual(rulesOf(file, ruleOf('dump-task', frames)), [['soft_lockup']]);
    assert.deepEqual(rulesOf(file, ruleOf('dump-task', { ...frames, kinds: ['soft_lockup'] })), [['soft_lockup', 'dump-task']]);
    assert.deepEqual(rulesOf(file, ruleOf('dump-task', { ...frames, kinds: ['rcu_stall', 'hung_task'] })), [['soft_lockup']]);
  });

  it('ip, oom_constraint and report_patterns compare where the CPU was, the OOM constraint and the report\'s own lines', () => {
    const ip = ruleOf('csd', { kinds: ['soft_lockup'], match: { ip: ['smp_call_function_many*'] } });
    // (The RIP line of decode_stacktrace.sh names a source line after the function.)
    assert.deepEqual(rulesOf('rules/cross-cpu-call-wait-lockup.hit.1.log', ip), [['soft_lockup', 'csd']]);
    assert.deepEqual(rulesOf('rules/memcg-oom-dump-tasks-soft-lockup.hit.1.log', ip), [['soft_lockup']]);
    const memcg = ruleOf('memcg', { kinds: ['oom_kill'], match: { oom_constraint: ['memcg'] } });
    assert.deepEqual(rulesOf('kinds/07-oom-memcg-rhel7-3.10.0-693-sacrifice-child.log', memcg), [['oom_kill', 'memcg']]);
    assert.deepEqual(rulesOf('kinds/02-oom-global-3.13-ubuntu-mysqld-indented.log', memcg), [['oom_kill']]);
    const starved = ruleOf('starved', { kinds: ['rcu_stall'], match: { report_patterns: [{ needle: 'kthread starved', pattern: 'rcu_\\w+ kthread starved for \\d+ jiffies' }], report_required: true } });
    const [a] = scanText(sample('kinds/13-rcu-preempt-stall-syzbot-6.x-kthread-starved-nmi-wireguard.log'), { rules: starved });
    assert.equal(a.matches[0]?.rule, 'starved');
    assert.match(a.matches[0].evidence ?? '', /rcu_preempt kthread starved for \d+ jiffies/);
    assert.deepEqual(rulesOf('kinds/12-rcu-sched-stalls-3.x-xen-task-dump-R-swapper-quoted.log', starved).filter((x) => x.length > 1), []);
  });

  it('refuses kinds it does not know and a block that would match every report of a kind', () => {
    const dir = tmpdir();
    const write = (extra: Record<string, unknown>): string => {
      const file = path.join(dir, 'r.json');
      fs.writeFileSync(file, JSON.stringify({ id: 'r', title: 't', kind: 'environment', meaning: 'm', advice: 'a', references: [{ title: 'r' }],
        samples: { hit: [], miss: [] }, match: { ip: ['x'] }, ...extra }));
      return file;
    };
    assert.throws(() => loadRuleFile(write({ kinds: ['lockup'] }), dir), /"kinds" must be a list of report kinds/);
    assert.throws(() => loadRuleFile(write({ kinds: ['warning'], match: { task_names: ['swapper/*'] } }), dir), /would match every report/);
    assert.throws(() => loadRuleFile(write({ match: { report_patterns: [{ needle: 'QEMU', pattern: 'QEMU' }] } }), dir), /would match every report/);
    assert.equal(loadRuleFile(write({ kinds: ['warning'] }), dir).kinds.has('warning'), true);
  });

  it('says whether any rule reads a kind when none matched (text)', () => {
    const r = cli(['--no-db', 'samples/kinds/19-bug-6.2-ext4-kernel-BUG-at-fs-ext4-invalid-opcode-kasan.log']);
    assert.match(r.stdout, /cause no rule reads kernel BUGs yet/);
    assert.match(cli(['--no-db', 'samples/kinds/02-oom-global-3.13-ubuntu-mysqld-indented.log']).stdout, /cause no known rule matches/);
  });
});

describe('how strong an environmental cause is', () => {
  it('names the log line that confirms it, in JSON and in text', () => {
    const [a] = scanText(sample('rules/iscsi-session-lost.hit.1.log'));
    assert.equal(a.matches[0].rule, 'iscsi-session-lost');
    assert.match(a.matches[0].evidence ?? '', /detected conn error \(1022\)/);
    const r = cli(['--no-db', 'samples/rules/iscsi-session-lost.hit.1.log']);
    assert.match(r.stdout, /confirmed by this line of the host's log:\n {10}connection8:0: detected conn error \(1022\)/);
  });

  it('a line another block of the rule looks for confirms it too (stress/105: USB resets, then a scsi_eh report)', () => {
    const [a] = scanText(sample('stress/105-3.14-beaglebone-musb-usb-reset-then-scsi-eh-report.log'));
    assert.equal(a.matches[0].rule, 'scsi-error-handling-stall');
    assert.equal(a.matches[0].evidence, 'usb 1-1: reset high-speed USB device number 2 using musb-hdrc');
  });

  it('the storage rules take every block error name the kernel prints, not only I/O errors', () => {
    const text = sample('rules/ext4-jbd2-io-stall.hit.1.log');
    for (const line of ['blk_update_request: critical medium error, dev dewba, sector 12853464',
      'end_request: I/O error, dev dewba, sector 2048', 'I/O error, dev dewba, sector 2466368 op 0x1:(WRITE) flags 0x0 phys_seg 1 prio class 0']) {
      const [a] = scanText(`[ 9000.000001] ${line}\n${text}`);
      assert.equal(a.matches[0].evidence, line, line);
    }
    // An operation a device does not support is no stall, nor are a VM's floppy, a CD drive, or a
    // keyboard's or Bluetooth adapter's USB reset; a disk's reset is one.
    for (const line of ['blk_update_request: operation not supported error, dev dewba, sector 0', 'blk_update_request: I/O error, dev fd0, sector 0',
      'Buffer I/O error on dev sr0, logical block 0, async page read', 'usb 1-4: reset full-speed USB device number 3 using xhci_hcd']) {
      const [n] = scanText(`[ 9000.000001] ${line}\n${text}`);
      assert.equal(n.matches[0].evidence, null, line);
    }
    const disk = 'usb 2-1: reset SuperSpeed USB device number 2 using xhci_hcd';
    assert.equal(scanText(`[ 9000.000001] ${disk}\n${text}`)[0].matches[0].evidence, disk);
  });

  it('command aborts and timeouts of SCSI, virtio-scsi and NVMe disks confirm a storage stall, a CD drive\'s do not', () => {
    const text = sample('rules/ext4-jbd2-io-stall.hit.1.log');
    for (const line of ['sd 2:0:0:0: [sda] abort', 'sd 0:0:0:1: [sdb] tag#12 abort', 'sd 0:0:0:0: [sda] tag#99 task abort on host 0, ffff88003d3e2a00',
      'nvme nvme0: I/O 123 QID 4 timeout, aborting', 'sd 3:0:0:0: [sdc] FAILED Result: hostbyte=0x03 driverbyte=0x00',
      'sd 3:0:0:0: [sdc] tag#3 FAILED Result: hostbyte=DID_TIME_OUT driverbyte=DRIVER_OK cmd_age=30s']) {
      assert.equal(scanText(`[ 9000.000001] ${line}\n${text}`)[0].matches[0].evidence, line, line);
    }
    // A CD drive's abort, a completed command (hostbyte 0x00) and other aborts confirm nothing.
    for (const line of ['sr 1:0:0:0: [sr0] abort', 'sd 3:0:0:0: [sdc] FAILED Result: hostbyte=0x00 driverbyte=0x08', 'EXT4-fs (sda1): ext4_da_writepages: jbd2_start: 1024 pages, ino 12; err -30 abort',
      'myprog: [io] abort', 'ata1.00: [sense] abort', 'sr 1:0:0:0: [sr0] tag#0 task abort on host 1, ffff88003d3e2a00']) {
      assert.equal(scanText(`[ 9000.000001] ${line}\n${text}`)[0].matches[0].evidence, null, line);
    }
    // The SCSI rule reads the numbers of the host bytes it names by name (include/scsi/scsi.h).
    const scsi = sample('rules/scsi-error-handling-stall.hit.1.log').split('\n').filter((l) => !/abort|FAILED/.test(l)).join('\n');
    const named = (line: string): string | null => scanText(`[ 9000.000001] ${line}\n${scsi}`)[0].matches.find((m) => m.rule === 'scsi-error-handling-stall')?.evidence ?? null;
    assert.equal(named('sd 0:0:0:0: [sda] tag#5 FAILED Result: hostbyte=0x07 driverbyte=0x00'), 'sd 0:0:0:0: [sda] tag#5 FAILED Result: hostbyte=0x07 driverbyte=0x00');
    assert.equal(named('sd 0:0:0:0: [sda] tag#5 FAILED Result: hostbyte=0x01 driverbyte=0x00'), null);
  });

  it('lines that hold a needle but match no pattern push no evidence out (helper-61: ext4\'s aborted-journal errors after a SCSI abort)', () => {
    const abort = 'sd 0:0:0:0: [sda] tag#99 task abort on host 0, ffff88003d3e2a00';
    const noise = Array.from({ length: 6 }, (_, i) => `[ 9000.00001${i}] EXT4-fs error (device sdb1): ext4_journal_check_start:83: comm systemd-journal: Detected aborted journal`);
    const [a] = scanText([`[ 9000.000001] ${abort}`, ...noise, sample('rules/ext4-jbd2-io-stall.hit.1.log')].join('\n'));
    assert.equal(a.matches.find((m) => m.rule === 'ext4-jbd2-io-stall')?.evidence, abort);
  });

  it('names the journal stall of a jbd2 report without a trace only when a device error line of its host came first', () => {
    const [a] = scanText(sample('rules/ext4-jbd2-io-stall.hit.3.log'));
    assert.equal(a.report.frames.length, 0);
    assert.equal(a.matches[0]?.rule, 'ext4-jbd2-io-stall');
    assert.equal(a.matches[0].evidence, 'sd 2:0:0:0: [sda] abort');
    const header = sample('rules/ext4-jbd2-io-stall.hit.3.log').split('\n').filter((l) => !l.includes('] abort')).join('\n');
    assert.deepEqual(scanText(header)[0].matches, []);
    // With a trace, that block does not apply: a kernel bug its frames name still ranks first.
    const traced = ['[  100.000000] unregister_netdevice: waiting for lo to become free. Usage count = 1',
      '[  100.100000] blk_update_request: I/O error, dev sda, sector 2048 op 0x1:(WRITE) flags 0x0 phys_seg 1 prio class 0',
      '[  200.000000] INFO: task jbd2/sda1-8:412 blocked for more than 120 seconds.', '[  200.000001]       Not tainted 4.19.0-6-amd64 #1 Debian 4.19.67-2',
      '[  200.000002] Call Trace:', '[  200.000003]  __schedule+0x2d1/0x890', '[  200.000004]  schedule+0x28/0x80', '[  200.000005]  schedule_preempt_disabled+0xa/0x10',
      '[  200.000006]  __mutex_lock.isra.8+0x2b5/0x4a0', '[  200.000007]  jbd2_update_log_tail+0x2c/0x60', '[  200.000008]  jbd2_journal_commit_transaction+0x166/0x1a00',
      '[  200.000009]  kjournald2+0xbd/0x270', '[  200.000010]  kthread+0x112/0x130', '[  200.000011]  ret_from_fork+0x35/0x40', ''].join('\n');
    const withTrace = scanText(traced)[0].matches.map((m) => m.rule);
    assert.equal(withTrace.indexOf('ext4-jbd2-io-stall') > withTrace.indexOf('netns-unregister-netdevice-leak') || !withTrace.includes('netns-unregister-netdevice-leak'), true, withTrace.join(' '));
  });

  it('a trace of only unreliable frames is a trace: the block for reports printed without one does not apply', () => {
    const base = sample('rules/ext4-jbd2-io-stall.hit.3.log').split('\n').slice(0, 7);
    const bare = scanText([...base, ''].join('\n'));
    assert.equal(bare[0].matches[0]?.rule, 'ext4-jbd2-io-stall');
    // The same report with a trace the unwinder could not vouch for: it was not printed without
    // one, so the block for traceless reports must not name it (nor may the rules' memo).
    const guessed = scanText([...base, 'Jul 24 05:14:21 pluton kernel: [ 3000.720000] Call Trace:',
      'Jul 24 05:14:21 pluton kernel: [ 3000.720001]  [<ffffffffa8521a1e>] ? __schedule+0x3ee/0x9c0',
      'Jul 24 05:14:21 pluton kernel: [ 3000.720002]  [<ffffffffa80a6c5e>] ? kthread+0x9e/0xc0', ''].join('\n'));
    assert.equal(guessed[0].report.frames.length, 2);
    assert.deepEqual(guessed[0].matches.map((m) => m.rule), []);
  });

  it('reads the OSD-down line of libceph in both its forms (6.x adds the cluster fsid and map epoch)', () => {
    const text = sample('rules/ceph-client-blocked.hit.1.log');
    for (const line of ['libceph: osd2 down', 'libceph (8ee2a3c4-ad1b-11ed-9f4d-525400a1b2c3 e1234): osd2 down']) {
      const [a] = scanText(`[ 9000.000001] ${line}\n${text}`);
      assert.equal(a.matches.find((m) => m.rule === 'ceph-client-blocked')?.evidence, line, line);
    }
  });

  it('says when it rests on the trace alone, where a log line could have confirmed it', () => {
    const [a] = scanText(sample('rules/ext4-jbd2-io-stall.hit.1.log'));
    assert.equal(a.matches[0].rule, 'ext4-jbd2-io-stall');
    assert.equal(a.matches[0].evidence, null);
    const r = cli(['--no-db', 'samples/rules/ext4-jbd2-io-stall.hit.1.log']);
    // An environmental cause is said as such, not as a kernel "AFFECTED" by a bug (JSON keeps `affected`).
    assert.match(r.stdout, /^ {2}cause ext4-jbd2-io-stall {2}ENVIRONMENT$/m);
    assert.match(r.stdout, /from the trace alone: no line of this host's log before the report confirms it, and a\s+kernel deadlock can leave the same frames/);
    // A kernel bug, or a cause no log line could confirm (a FUSE daemon), gets no such note.
    assert.doesNotMatch(cli(['--no-db', '--kernel', '3.10.0-862.el7.x86_64', 'samples/seed/centos7-java-rwsem.messages']).stdout, /trace alone|confirmed by/);
    assert.doesNotMatch(cli(['--no-db', 'samples/rules/fuse-daemon-not-answering.hit.1.log']).stdout, /trace alone|confirmed by/);
  });

  it('--kernel judges the release given, not the Debian package version the log printed for its own (helper-87 #1)', () => {
    const verdict = (kernel: string): unknown[] => {
      const out = cli(['--no-db', '--json', '--kernel', kernel, 'samples/rules/wbt-rq-qos-missed-wakeup.hit.1.log']).stdout.trim().split('\n')
        .map((l) => JSON.parse(l) as { type: string; kernel_package?: string | null; matches?: { rule: string; verdict: string }[] });
      const r = out.find((o) => o.type === 'report')!;
      return [r.kernel_package, r.matches!.find((m) => m.rule === 'wbt-rq-qos-missed-wakeup')?.verdict];
    };
    // The log's own release keeps its package (5.10.46-4: before the 5.10.51 fix).
    assert.deepEqual(verdict('5.10.0-8-cloud-amd64'), ['5.10.46-4', 'affected']);
    // Another Debian release hides its sublevel: unknown, not "older than 5.10.51" because of the log's package.
    assert.deepEqual(verdict('5.10.0-9-amd64'), [null, 'unknown']);
    assert.deepEqual(verdict('5.10.60'), [null, 'fixed']);
  });
});

describe('rule files that are wrong', () => {
  const good = {
    id: 'x', title: 't', kind: 'environment', meaning: 'm', advice: 'a', match: { any_frames: ['f'] },
    references: [{ title: 'r' }], samples: { hit: [], miss: [] },
  };
  const cases: [string, Record<string, unknown> | string, RegExp][] = [
    ['not JSON', '{ "id": ', /not valid JSON/],
    ['id differs from the file name', { ...good, id: 'y' }, /"id" is "y" but the file is named x\.json/],
    ['no reference', { ...good, references: [] }, /needs at least one reference/],
    ['bad kind', { ...good, kind: 'bug' }, /"kind" must be "kernel-bug" or "environment"/],
    ['a match that matches everything', { ...good, match: { task_names: ['*'] } }, /would match every report/],
    ['a bad log pattern', { ...good, match: { log_patterns: [{ needle: 'x', pattern: '(unclosed' }] } }, /log_patterns\[0\]: bad pattern/],
    ['an unknown key', { ...good, match: { any_frame: ['f'] } }, /unknown key "any_frame"/],
    ['bad versions', { ...good, versions: { upstream: { fixed: 5 } } }, /versions\.upstream\.fixed must be a version/],
  ];
  for (const [what, content, msg] of cases) {
    it(`${what}: one line naming the file, exit 2`, () => {
      const dir = tmpdir();
      fs.writeFileSync(path.join(dir, 'x.json'), typeof content === 'string' ? content : JSON.stringify(content));
      assert.throws(() => loadRuleDir(dir, dir), (e: unknown) => e instanceof RuleFileError && msg.test(e.message));
      const r = cli(['--rules', dir, '--no-db', 'samples/seed/centos7-java-rwsem.messages']);
      assert.equal(r.status, 2);
      assert.equal(r.stderr.split('\n').length, 2);
      assert.ok(r.stderr.startsWith(`klogscan: ${path.join(dir, 'x.json')}: `), r.stderr);
      assert.match(r.stderr, msg);
    });
  }
});

describe('user rules', () => {
  function userRule(dir: string, id: string, extra: Record<string, unknown> = {}): void {
    fs.copyFileSync(path.join(ROOT, 'samples/seed/centos7-java-rwsem.messages'), path.join(dir, 'java.log'));
    fs.copyFileSync(path.join(ROOT, 'samples/seed/alios7-ps-cmdline.dmesg'), path.join(dir, 'ps.log'));
    fs.writeFileSync(path.join(dir, `${id}.json`), JSON.stringify({
      id, title: 'Our own: java dying under an rwsem', kind: 'environment', meaning: 'm', advice: 'call the java team',
      match: { culprit: ['do_exit'], task_names: ['java'] }, references: [{ title: 'runbook 12' }],
      supersedes: ['rhel7-rwsem-missed-wakeup'], samples: { hit: ['java.log'], miss: ['ps.log'] }, ...extra,
    }));
  }

  it('--rules DIR adds rules; rules list, show and test see them', () => {
    const dir = tmpdir();
    userRule(dir, 'java-exit');
    const r = cli(['--json', '--no-db', '--rules', dir, 'samples/seed/centos7-java-rwsem.messages']);
    assert.deepEqual((r.json[0].matches as { rule: string }[]).map((m) => m.rule), ['java-exit', 'rhel7-rwsem-missed-wakeup']);
    assert.match(cli(['rules', 'list', '--rules', dir]).stdout, /^java-exit +environment +Our own/m);
    assert.match(cli(['rules', 'show', 'java-exit', '--rules', dir]).stdout, /advice: call the java team/);
    const t = cli(['rules', 'test', dir]);
    assert.equal(t.status, 0, t.stdout);
    assert.equal(t.stdout, '5 passed, 0 failed (1 rule)\n');
  });

  it('rules test DIR fails (exit 1) and says why when a user rule misses its sample', () => {
    const dir = tmpdir();
    userRule(dir, 'java-exit', { match: { culprit: ['do_fork'] } });
    const t = cli(['rules', 'test', dir]);
    assert.equal(t.status, 1);
    assert.match(t.stdout, /^FAIL java-exit hit java\.log: the rule does not match \(signatures: hung task in do_exit \(rwsem read\)\)$/m);
  });

  it('a user rule with a built-in id replaces it; /etc/klogscan/rules.d is read too', () => {
    const dir = tmpdir();
    userRule(dir, 'rhel7-rwsem-missed-wakeup', { supersedes: [] });
    const r = cli(['--json', '--no-db', 'samples/seed/centos7-java-rwsem.messages'], { env: { KLOGSCAN_RULES_D: dir } });
    const m = r.json[0].matches as { rule: string; title: string }[];
    assert.equal(m.length, 1);
    assert.equal(m[0].title, 'Our own: java dying under an rwsem');
  });
});

describe('kernel releases and verdicts', () => {
  it('compares RPM versions the way rpm does', () => {
    for (const [a, b, want] of [
      ['3.10.0-957.12.1.el7', '3.10.0-957.12.1.el7', 0], ['3.10.0-957.10.1.el7', '3.10.0-957.12.1.el7', -1],
      ['3.10.0-1160.el7', '3.10.0-957.12.1.el7', 1], ['3.10.0-862.14.4.el7', '3.10.0-957.el7', -1],
      ['1.0~rc1', '1.0', -1], ['1.0a', '1.0', 1], ['1.0', '1.0.1', -1], ['2.0', '10.0', -1], ['1.05', '1.5', 0],
    ] as const) {
      assert.equal(Math.sign(a.includes('-') ? rpmCompare(a, b) : rpmvercmp(a, b)), want, `${a} vs ${b}`);
    }
  });

  it('sorts releases into their streams', () => {
    const s = (r: string, pkg: string | null = null): string => {
      const k = parseRelease(r, pkg)!;
      return `${k.stream} ${k.base.join('.')}${k.exactSublevel ? '' : '~'}`;
    };
    assert.equal(s('3.10.0-957.12.1.el7.x86_64'), 'rhel7 3.10.0~');
    assert.equal(s('4.18.0-372.9.1.el8_6.x86_64'), 'rhel8 4.18.0~');
    assert.equal(s('5.4.17-2136.300.7.el8uek.x86_64'), 'uek 5.4.17~');
    assert.equal(s('4.15.0-112-generic'), 'ubuntu 4.15.0~');
    assert.equal(s('4.19.0-6-amd64'), 'debian 4.19.0~');
    assert.equal(s('4.19.0-6-amd64', '4.19.67-2+deb10u2'), 'debian 4.19.67');
    assert.equal(s('5.14.21-150400.24.18-default'), 'suse 5.14.21');
    assert.equal(s('4.9.79-009.ali3000.alios7.x86_64'), 'upstream 4.9.79');
    assert.equal(s('6.5.6-300.fc39.x86_64'), 'upstream 6.5.6');
    assert.equal(s('6.8.1-arch1-1'), 'upstream 6.8.1');
    assert.equal(s('6.16-rc6+unreleased-arm64-cknow'), 'upstream 6.16.0~');
    // A `.0` sublevel with a build suffix hides the real one (Ubuntu derivatives not in the
    // flavour list, Raspberry Pi OS, openEuler); ELRepo's vanilla builds are not RHEL kernels.
    assert.equal(s('5.15.0-1027-mtk'), 'upstream 5.15.0~');
    assert.equal(s('6.1.0-rpi7-rpi-v8'), 'upstream 6.1.0~');
    assert.equal(s('5.10.0-60.18.0.50.oe2203.x86_64'), 'upstream 5.10.0~');
    assert.equal(s('5.15.0'), 'upstream 5.15.0');
    assert.equal(s('4.0.9-1.el7.elrepo.x86_64'), 'upstream 4.0.9');
    assert.equal(s('5.4.278-1.el7.elrepo.x86_64'), 'upstream 5.4.278');
    assert.equal(s('5.18.6-2.gdc.el8.x86_64'), 'upstream 5.18.6', 'a mainline kernel built for EL8');
    assert.equal(s('2.6.32-754.35.1.el6.x86_64'), 'rhel6 2.6.32~');
    assert.equal(s('6.12.0-55.el10.x86_64'), 'rhel10 6.12.0~');
    assert.equal(s('4.14.0-115.el7a.aarch64'), 'rhel7-alt 4.14.0~');
    assert.equal(s('5.4.0-137-dx2023022419-17ff49f96-generic'), 'upstream 5.4.0~', 'a custom Ubuntu build hides its sublevel');
    const flags = (r: string): string => {
      const k = parseRelease(r)!;
      return `${k.prerelease ? 'rc' : '-'} ${k.backports ? 'backports' : '-'}`;
    };
    assert.equal(flags('6.11.0-rc3'), 'rc -');
    assert.equal(flags('6.12.0-rc1-next-20241001'), 'rc -');
    assert.equal(flags('6.11.0'), '- -');
    assert.equal(flags('4.19.90-2102.2.0.0062.oe1.x86_64'), '- backports');
    assert.equal(flags('4.19.90-24.4.v2101.ky10.x86_64'), '- backports');
    assert.equal(flags('5.10.134-16.al8.x86_64'), '- backports');
    assert.equal(flags('4.14.355-275.570.amzn2.x86_64'), '- -');
  });

  it('says "fixed" only where the release proves it', () => {
    const v = (id: string, k: string): string => versionVerdict(rules().byId.get(id)!, k).verdict;
    // A hidden sublevel cannot predate a bug that a stable update brought (5.15.6): these Ubuntu
    // kernels may be anywhere on the 5.15 line.
    assert.equal(v('rwsem-handoff-lockup-5x', '5.15.0-1027-mtk'), 'unknown');
    assert.equal(v('rwsem-handoff-lockup-5x', '5.15.0-1104-intel-iot-realtime'), 'unknown');
    assert.equal(v('rwsem-handoff-lockup-5x', '5.15.5'), 'fixed', 'a plain upstream 5.15.5 does predate it');
    // A vendor kernel on an old base may have taken the fix in: unknown, not affected; past the fix: fixed.
    assert.equal(v('wbt-rq-qos-missed-wakeup', '5.10.0-60.18.0.50.oe2203.x86_64'), 'unknown');
    assert.equal(v('sync-livelock-dirty-time', '4.19.90-2102.2.0.0062.oe1.x86_64'), 'unknown');
    assert.equal(v('wbt-rq-qos-missed-wakeup', '5.10.134-16.al8.x86_64'), 'fixed');
    // ELRepo's builds are vanilla kernels: 5.4.278 is past the proc-cmdline fix (5.3), and 4.0.9
    // (4.0.y ended before the memcg fix) is not a RHEL 7 kernel past 3.10.0-693.el7.
    assert.equal(v('proc-cmdline-mmap-sem', '5.4.278-1.el7.elrepo.x86_64'), 'fixed');
    assert.equal(v('memcg-reclaim-wait-on-writeback', '4.0.9-1.el7.elrepo.x86_64'), 'affected');
    // A release candidate of the series whose release has the fix: which candidate got it is unknown.
    assert.equal(v('sync-livelock-dirty-time', '5.9.0-rc1'), 'unknown');
    assert.equal(v('sync-livelock-dirty-time', '5.10.0-rc1'), 'fixed');
    assert.equal(v('sync-livelock-dirty-time', '5.8.0-rc4'), 'affected');
    assert.equal(v('sync-livelock-dirty-time', '4.9.235'), 'fixed', 'the 4.9 stable fix');
    assert.equal(v('sync-livelock-dirty-time', '4.9.234'), 'affected');
    // A release given as x.y predates a bug of a later series; a stable candidate x.y.z-rcN comes after x.y.
    assert.equal(v('rhel7-rwsem-missed-wakeup', '4.4'), 'fixed');
    assert.equal(v('rhel7-rwsem-missed-wakeup', '4.6-rc3'), 'fixed');
    assert.equal(v('rwsem-handoff-lockup-5x', '5.19.1-rc1'), 'fixed');
    assert.equal(v('rwsem-handoff-lockup-5x', '5.15.0-rc3'), 'fixed', 'before the 5.15.6 that brought it');
    assert.equal(v('rwsem-handoff-lockup-5x', '5.15.5-rc1'), 'fixed');
    // A hidden sublevel is a distribution's build: unknown, never affected or predating.
    assert.equal(v('rwsem-handoff-lockup-5x', '5.4.0-1107-mtk'), 'unknown');
    assert.equal(v('rhel7-rwsem-missed-wakeup', '4.4.0-21-custom'), 'unknown');
    // One blog's range start is no proof that older builds are free of the bug.
    assert.equal(v('rhel7-memcg-oom-ext4-jbd2-hang', '3.10.0-693.el7.x86_64'), 'affected');
    // The md RAID5 fix came to mainline in 3.19 and to the 3.18 stable branch in 3.18.3 (helper-60).
    assert.equal(v('md-raid5-fetch-block-resync-lockup', '3.18.3'), 'fixed');
    assert.equal(v('md-raid5-fetch-block-resync-lockup', '3.18.2'), 'affected');
  });

  it('judges each stream by its own bounds', () => {
    const rwsem = rules().byId.get('rhel7-rwsem-missed-wakeup')!;
    const cmdline = rules().byId.get('proc-cmdline-mmap-sem')!;
    const v = (r: typeof rwsem, k: string | null, pkg: string | null = null): string => versionVerdict(r, k, pkg).verdict;
    assert.equal(v(rwsem, '3.10.0-862.el7.x86_64'), 'affected');
    assert.equal(v(rwsem, '3.10.0-957.12.1.el7.x86_64'), 'fixed');
    assert.equal(v(rwsem, null), 'unknown');
    assert.equal(v(cmdline, '4.9.79'), 'affected', 'no 4.9 stable fix: affected');
    assert.equal(v(cmdline, '4.19.62'), 'affected');
    assert.equal(v(cmdline, '4.19.63'), 'fixed', 'the 4.19 stable fix');
    assert.equal(v(cmdline, '5.4.0-42-generic'), 'fixed', 'a later series carries the mainline fix');
    assert.equal(v(cmdline, '4.19.0-6-amd64'), 'unknown', 'Debian hides the sublevel');
    assert.equal(v(cmdline, '4.19.0-6-amd64', '4.19.67-2+deb10u2'), 'fixed', 'unless the package version tells it');
    assert.equal(v(cmdline, '4.15.0-112-generic'), 'unknown', 'a distribution kernel: backports not known');
    assert.equal(versionVerdict(rules().byId.get('nfs-server-not-responding')!, '5.4.0').verdict, 'affected', 'environment: no kernel is immune');
  });

  it('says why: the reason names the fix that applies', () => {
    const cmdline = rules().byId.get('proc-cmdline-mmap-sem')!;
    const got = versionVerdict(cmdline, '4.19.62');
    assert.equal(got.fixed_in, '4.19.63');
    assert.match(got.reason, /older than the 4\.19 fix 4\.19\.63/);
    assert.match(versionVerdict(cmdline, '5.10.1').reason, /signature of a fixed bug, a regression or a different cause/);
  });
});
