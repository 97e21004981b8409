// The incident store: migrations, idempotence, cross-source dedup, grouping, queries, bad files.
import assert from 'node:assert/strict';
import Database from 'better-sqlite3';
import fs from 'node:fs';
import path from 'node:path';
import { INCIDENT_MAX_REPORTS, SCHEMA_VERSION, Store, storedJson, withoutFrames } from '../src/store.js';
import { reportJson } from '../src/output/json.js';
import { fitTerminal, jsonLine } from '../src/output/term.js';
import { rootOf } from '../src/incidents.js';
import { cli, count, ROOT, sample, scanText, tmpdir } from './helpers.js';

const JAVA = 'samples/seed/centos7-java-rwsem.messages';
const PS = 'samples/seed/alios7-ps-cmdline.dmesg';
const JOURNAL = 'samples/formats/seed-java.journal-json.log';

function db(): string {
  return path.join(tmpdir(), 'k.db');
}

/** A syslog line of host h at mm:ss past 10:00 on 29 Jan. */
function at(h: string, mmss: string, msg: string): string {
  return `Jan 29 10:${mmss} ${h} kernel: ${msg}`;
}

function hung(h: string, mmss: string, task: string, pid: number, secs: number, frames: string[]): string[] {
  return [
    at(h, mmss, `INFO: task ${task}:${pid} blocked for more than ${secs} seconds.`),
    at(h, mmss, '"echo 0 > /proc/sys/kernel/hung_task_timeout_secs" disables this message.'),
    at(h, mmss, `${task.padEnd(15)} D ffff881269bd7c00     0 ${String(pid).padStart(6)}      1 0x00000084`),
    at(h, mmss, 'Call Trace:'),
    ...frames.map((f) => at(h, mmss, ` [<ffffffff816a94c9>] ${f}`)),
  ];
}

const EXIT = ['schedule+0x29/0x70', 'rwsem_down_read_failed+0x10d/0x1a0', 'call_rwsem_down_read_failed+0x18/0x30', 'down_read+0x20/0x40', 'do_exit+0x189/0xa40', 'do_group_exit+0x3f/0xa0', 'int_signal+0x12/0x17'];
const CMDLINE = ['schedule+0x29/0x70', 'rwsem_down_read_failed+0x10d/0x1a0', 'call_rwsem_down_read_failed+0x18/0x30', 'proc_pid_cmdline_read+0xb2/0x560', 'vfs_read+0x9c/0x170', 'SyS_read+0x7f/0xe0', 'system_call_fastpath+0x16/0x1b'];
const JBD2 = ['schedule+0x29/0x70', 'jbd2_journal_commit_transaction+0x23c/0x19b0 [jbd2]', 'kjournald2+0xb4/0x240 [jbd2]', 'kthread+0xcf/0xe0', 'ret_from_fork+0x58/0x90'];

function writeLog(lines: string[]): string {
  const f = path.join(tmpdir(), 'messages');
  fs.writeFileSync(f, lines.join('\n') + '\n');
  return f;
}

describe('store', () => {
  it('creates the schema in an empty file, mode 0600, and records the scan', () => {
    const file = db();
    fs.writeFileSync(file, '');
    const r = cli(['--db', file, '--year', '2019', JAVA, PS]);
    assert.equal(r.status, 0, r.stderr);
    assert.match(r.stdout, new RegExp(`^stored: 2 new reports, 2 incidents, in ${file.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&')} \\(klogscan history\\)$`, 'm'));
    assert.equal(count(file, 'SELECT user_version AS n FROM pragma_user_version'), SCHEMA_VERSION);
    assert.equal(fs.statSync(file).mode & 0o777, 0o600);
    const fresh = db();
    cli(['--db', fresh, JAVA]);
    assert.equal(fs.statSync(fresh).mode & 0o777, 0o600, 'a new database is private: logs can hold sensitive data');
  });

  it('a new database has 8 KiB pages (three report rows a page); one with 4 KiB pages keeps them and works', () => {
    const fresh = db();
    assert.equal(cli(['--db', fresh, JAVA]).status, 0);
    assert.equal(count(fresh, 'SELECT page_size AS n FROM pragma_page_size'), 8192);
    const old = db();
    const d = new Database(old);
    d.pragma('page_size = 4096');
    d.pragma('journal_mode = WAL');
    d.close();
    const r = cli(['--db', old, '--json', JAVA, PS]);
    assert.equal(r.status, 0, r.stderr);
    assert.equal(count(old, 'SELECT page_size AS n FROM pragma_page_size'), 4096);
    assert.equal(count(old, 'SELECT count(*) AS n FROM reports'), 2);
  });

  it('uses $KLOGSCAN_DB when --db is not given, and --no-db stores nothing', () => {
    const file = db();
    assert.equal(cli([JAVA], { env: { KLOGSCAN_DB: file } }).status, 0);
    assert.equal(count(file, 'SELECT count(*) AS n FROM reports'), 1);
    const none = db();
    const r = cli(['--no-db', JAVA], { env: { KLOGSCAN_DB: none } });
    assert.equal(r.status, 0);
    assert.ok(!fs.existsSync(none));
    assert.ok(!/^stored:/m.test(r.stdout));
  });

  it('keeps each report once: the same files twice, then the journal of the same host', () => {
    const file = db();
    for (let i = 0; i < 2; i++) assert.equal(cli(['--db', file, '--year', '2019', JAVA, PS]).status, 0);
    const j = cli(['--db', file, '--json', JOURNAL]);
    assert.deepEqual(j.json.at(-1)!.stored, { db: file, new: 0, duplicates: 1, incidents: 1 });
    assert.equal(j.json[0].incident, 1, 'the journal copy is reported with the stored incident');
    assert.equal(count(file, 'SELECT count(*) AS n FROM reports'), 2);
    assert.equal(count(file, 'SELECT count(*) AS n FROM incidents'), 2);
  });

  it('keeps the more complete copy when a source lost trace lines', () => {
    const file = db();
    const text = sample('seed/centos7-java-rwsem.messages').split('\n');
    const cut = writeLog(text.slice(0, 12));
    cli(['--db', file, '--year', '2019', cut]);
    assert.equal(count(file, 'SELECT nframes AS n FROM reports'), 5);
    cli(['--db', file, '--year', '2019', JAVA]);
    assert.equal(count(file, 'SELECT count(*) AS n FROM reports'), 1);
    assert.equal(count(file, 'SELECT nframes AS n FROM reports'), 15);
    assert.equal(count(file, 'SELECT count(*) AS n FROM frames'), 15);
  });

  it('groups one episode: a task reported again as its blocked time grows, several tasks in one pass', () => {
    const file = db();
    const log = writeLog([
      ...hung('db-1', '00:00', 'jbd2/sda1-8', 412, 122, JBD2),
      ...hung('db-1', '00:00', 'mysqld', 3301, 122, JBD2),
      ...hung('db-1', '02:03', 'jbd2/sda1-8', 412, 245, JBD2),
      ...hung('db-1', '04:06', 'jbd2/sda1-8', 412, 368, JBD2),
      ...hung('db-2', '04:06', 'jbd2/sda1-8', 412, 122, JBD2),
    ]);
    assert.equal(cli(['--db', file, '--year', '2019', log]).status, 0);
    const h = cli(['history', '--db', file, '--json']).json;
    assert.equal(h.length, 2);
    const db1 = h.find((i) => i.host === 'db-1')!;
    assert.equal(db1.reports, 4);
    assert.equal(db1.tasks, 2);
    assert.equal(db1.first_seen, '2019-01-29T10:00:00.000Z');
    assert.equal(db1.last_seen, '2019-01-29T10:04:06.000Z');
  });

  it('starts a new incident after a quiet gap', () => {
    const file = db();
    const log = writeLog([...hung('db-1', '00:00', 'a', 1, 120, JBD2), ...hung('db-1', '40:00', 'b', 2, 120, JBD2)]);
    cli(['--db', file, '--year', '2019', log]);
    assert.equal(cli(['history', '--db', file, '--json']).json.length, 2);
  });

  it('tells victims from the culprit: ps and cat wait for java stuck in do_exit', () => {
    const file = db();
    const log = writeLog([
      ...hung('app-prod-17', '41:07', 'ps', 14018, 120, CMDLINE),
      ...hung('app-prod-17', '41:07', 'java', 181134, 120, EXIT),
      ...hung('app-prod-17', '41:07', 'cat', 38042, 120, CMDLINE),
    ]);
    cli(['--db', file, '--year', '2019', '--kernel', '3.10.0-862.14.4.el7.x86_64', log]);
    const [inc, ...reports] = cli(['show', '1', '--db', file, '--json']).json;
    assert.equal(inc.type, 'incident');
    assert.equal(inc.signature, 'hung task in do_exit (rwsem read)');
    assert.deepEqual(inc.root_cause, { rule: 'rhel7-rwsem-missed-wakeup', verdict: 'affected' });
    const javaId = (reports.find((r) => r.task === 'java') as { id: number }).id;
    const edges = inc.edges as { waiter: number; holder: number; how: string }[];
    assert.equal(edges.length, 2);
    assert.ok(edges.every((e) => e.holder === javaId && e.how === 'victim rule'));
    assert.equal(inc.root_report, javaId);
    const text = cli(['show', '1', '--db', file]).stdout;
    assert.match(text, /look at java:181134: hung task in do_exit \(rwsem read\)/);
    assert.match(text, /ps:14018 waits for java:181134 {2}\(victim rule\)/);
    assert.match(text, /root cause rhel7-rwsem-missed-wakeup {2}AFFECTED {3}fixed in 3\.10\.0-957\.12\.1\.el7/);
    assert.match(text, /log lines:/);
    assert.match(text, /INFO: task cat:38042 blocked for more than 120 seconds\./);
  });

  it('links a 6.15+ blocker line to the owner report in the same pass', () => {
    const file = db();
    cli(['--db', file, 'samples/eras/6x-blocker-mutex-owner-trace-no-timestamps.log']);
    const [inc, ...reports] = cli(['show', '1', '--db', file, '--json']).json;
    const edges = inc.edges as { waiter: number; holder: number | null; how: string; lock: string }[];
    assert.equal(edges.length, 1);
    assert.equal(edges[0].how, 'blocker line');
    assert.equal(edges[0].lock, 'mutex');
    assert.equal(reports.find((r) => r.id === edges[0].holder)!.pid, 13250);
    assert.equal(inc.root_report, edges[0].holder, 'the owner everyone waits for is the task to look at');
  });

  it('a scan again with --kernel gives a stored report the release it lacked, and its verdict (helper-63)', () => {
    const file = db();
    cli(['--db', file, '--year', '2019', JAVA]);
    assert.deepEqual(cli(['history', '--db', file, '--json']).json[0].root_cause, { rule: 'rhel7-rwsem-missed-wakeup', verdict: 'unknown' });
    cli(['--db', file, '--year', '2019', '--kernel', '3.10.0-862.14.4.el7.x86_64', JAVA]);
    const [inc] = cli(['history', '--db', file, '--json']).json;
    assert.deepEqual([inc.reports, inc.root_cause], [1, { rule: 'rhel7-rwsem-missed-wakeup', verdict: 'affected' }]);
    assert.equal(count(file, 'SELECT count(*) AS n FROM reports WHERE kernel = \'3.10.0-862.14.4.el7.x86_64\''), 1);
  });

  it('a later report of a task without its trace does not take the place of the earlier one with its cause (helper-63)', () => {
    const file = db();
    const log = writeLog([...sample('seed/centos7-java-rwsem.messages').trimEnd().split('\n'), 'Jan 29 10:43:07 app-prod-17 kernel: INFO: task java:181134 blocked for more than 240 seconds.']);
    cli(['--db', file, '--year', '2019', '--kernel', '3.10.0-862.el7.x86_64', log]);
    const [inc] = cli(['history', '--db', file, '--json']).json;
    assert.deepEqual([inc.reports, inc.signature, inc.root_cause], [2, 'hung task in do_exit (rwsem read)', { rule: 'rhel7-rwsem-missed-wakeup', verdict: 'affected' }]);
  });

  it('names a lock owner that its blocker line names but that is not reported as hung as the task to look at (helper-57)', () => {
    const file = db();
    cli(['--db', file, 'samples/eras/6x-blocker-rwsem-dmesg-T.log']);
    const text = cli(['show', '1', '--db', file]).stdout;
    assert.match(text, /look at rw_sem_thread1:36525 \(not reported as hung: 1 reported task waits for it, and its stack follows the blocker line\)\n {2}first hung rw_sem_thread2:36526: hung task in thread2_func \(rwsem write\)\n/);
  });

  describe('queries', () => {
    const file = db();
    before(() => {
      const log = writeLog([
        ...hung('web-1', '00:00', 'java', 100, 120, EXIT),
        ...hung('web-2', '30:00', 'jbd2/sda1-8', 200, 120, JBD2),
        'Jan 30 08:00:00 web-2 kernel: Linux version 3.10.0-1160.el7.x86_64 (mockbuild@x) #1 SMP',
        ...hung('web-2', '30:00', 'jbd2/sda1-8', 300, 120, JBD2).map((l) => l.replace('Jan 29', 'Jan 30')),
      ]);
      assert.equal(cli(['--db', file, '--year', '2019', '--kernel', '3.10.0-862.el7.x86_64', log]).status, 0);
      // A later scan without --kernel: web-2's second report takes the banner release.
      cli(['--db', file, '--year', '2019', log]);
    });
    // Incidents by what they are: web-1 on the 29th, web-2 on the 29th, web-2 on the 30th.
    const when = (args: string[]): string[] => cli(['history', '--db', file, '--json', ...args]).json.map((i) => `${i.host} ${String(i.first_seen).slice(8, 10)}`);

    it('history lists incidents newest first, one line each', () => {
      assert.deepEqual(when([]), ['web-2 30', 'web-2 29', 'web-1 29']);
      const text = cli(['history', '--db', file]).stdout.trim().split('\n');
      assert.equal(text.length, 3);
      assert.match(text[2], /^#\d+ {2}2019-01-29 10:00:00Z {2}web-1 {2}1 report, 1 task {2}hung task in do_exit \(rwsem read\) {2}rhel7-rwsem-missed-wakeup \(affected\)$/);
    });

    it('a history or stats row is folded at a terminal\'s width, its styles not counted, and left whole elsewhere (helper-63)', () => {
      const row = '\u001b[1m#12\u001b[22m  2019-01-29 10:41:07Z  app-prod-17  3 reports, 2 tasks  hung task in jbd2_journal_commit_transaction (bit wait)  rhel7-memcg-oom-ext4-jbd2-hang (affected)';
      const folded = fitTerminal(row, 80).split('\n');
      assert.ok(folded.length >= 2);
      for (const l of folded) assert.ok(l.replaceAll('\u001b[1m', '').replaceAll('\u001b[22m', '').length <= 80, l);
      assert.ok(folded.slice(1).every((l) => l.startsWith('    ')));
      // Nothing is lost: the words are all there, in order.
      assert.equal(folded.map((l) => l.trim()).join(' ').replace(/ +/g, ' '), row.replace(/ +/g, ' '));
      assert.equal(fitTerminal(row, 0), row, 'no terminal: unchanged');
      assert.equal(fitTerminal('#1  short', 80), '#1  short');
    });

    it('filters by --since/--until, --host, --rule, --kind, --fingerprint and --limit', () => {
      assert.deepEqual(when(['--since', '2019-01-29T10:15']), ['web-2 30', 'web-2 29']);
      assert.deepEqual(when(['--until', '2019-01-29T10:15']), ['web-1 29']);
      assert.deepEqual(when(['--since', '2019-01-30']), ['web-2 30']);
      assert.deepEqual(when(['--host', 'web-2']), ['web-2 30', 'web-2 29']);
      assert.deepEqual(when(['--host', 'WEB-1.example.com']), ['web-1 29'], 'hosts compare by their first label');
      assert.deepEqual(when(['--rule', 'rhel7-rwsem-missed-wakeup']), ['web-1 29']);
      assert.deepEqual(when(['--kind', 'hung_task']), ['web-2 30', 'web-2 29', 'web-1 29']);
      assert.deepEqual(when(['--kind', 'blocked_state']), []);
      const fp = cli(['history', '--db', file, '--json', '--host', 'web-2']).json[0].fingerprint as string;
      assert.deepEqual(when(['--fingerprint', fp.slice(0, 8)]), ['web-2 30', 'web-2 29']);
      assert.deepEqual(when(['--limit', '1']), ['web-2 30']);
      assert.deepEqual(when(['--since', '100000d']), ['web-2 30', 'web-2 29', 'web-1 29']);
      assert.equal(cli(['history', '--db', file, '--since', 'yesterday']).status, 2);
      // A date without a zone is UTC, as history prints its times, wherever klogscan runs (helper-63).
      const ny = cli(['history', '--db', file, '--json', '--since', '2019-01-29T10:15'], { env: { TZ: 'America/New_York' } }).json;
      assert.deepEqual(ny.map((i) => `${i.host} ${String(i.first_seen).slice(8, 10)}`), ['web-2 30', 'web-2 29']);
    });

    it('stats count by fingerprint, rule, host and kernel, with the probable fix', () => {
      const byFp = cli(['stats', '--db', file, '--json']).json;
      const jbd2 = byFp.find((s) => String(s.signature).includes('jbd2_journal_commit_transaction'))!;
      assert.equal(jbd2.reports, 2);
      assert.equal(jbd2.hosts, 1);
      assert.deepEqual(jbd2.kernels, ['3.10.0-862.el7.x86_64']);
      const java = byFp.find((s) => String(s.signature).includes('do_exit'))!;
      assert.equal(java.probable_fix, null);
      const byHost = cli(['stats', '--db', file, '--json', '--by', 'host']).json;
      assert.deepEqual(byHost.map((s) => [s.key, s.reports]), [['web-2', 2], ['web-1', 1]]);
      const byRule = cli(['stats', '--db', file, '--json', '--by', 'rule']).json;
      assert.ok(byRule.some((s) => s.key === 'rhel7-rwsem-missed-wakeup' && s.reports === 1));
      const byKernel = cli(['stats', '--db', file, '--json', '--by', 'kernel']).json;
      assert.deepEqual(byKernel.map((s) => s.key), ['3.10.0-862.el7.x86_64']);
      assert.match(cli(['stats', '--db', file]).stdout, /2 reports, 2 incidents, 1 host/);
      assert.equal(cli(['stats', '--db', file, '--by', 'color']).status, 2);
    });

    it('a log whose times carry no zone, scanned again under another TZ, is stored once', () => {
      const db = path.join(tmpdir(), 'k.db');
      for (const [tz, file] of [['UTC', 'samples/formats/seed-java.dmesg-T.log'], ['America/New_York', 'samples/formats/seed-java.dmesg-T.log'],
        ['Asia/Tokyo', 'samples/seed/centos7-java-rwsem.messages'], ['UTC', 'samples/seed/centos7-java-rwsem.messages']]) {
        assert.equal(cli(['--db', db, file], { env: { TZ: tz } }).status, 0);
      }
      assert.equal(count(db, 'SELECT count(*) AS n FROM reports'), 2);
    });

    it('stats by host: reports without a host name are one row, counted by input (each may be another machine)', () => {
      const db = path.join(tmpdir(), 'k.db');
      cli(['--db', db, 'samples/seed/alios7-ps-cmdline.dmesg', 'samples/eras/4.5-all-frames-questionmark-stack-words.log', 'samples/seed/centos7-java-rwsem.messages']);
      const byHost = cli(['stats', '--db', db, '--json', '--by', 'host']).json;
      assert.deepEqual(byHost.map((s) => [s.key, s.reports, s.hosts]), [[null, 2, 2], ['app-prod-17', 1, 1]]);
      assert.match(cli(['stats', '--db', db, '--by', 'host']).stdout, /^\(no host name\) {2}2 reports, 2 incidents, 2 inputs/m);
      // By fingerprint, two host-less inputs with one signature are two machines.
      cli(['--db', db, '-'], { input: fs.readFileSync(path.join(ROOT, 'samples/seed/alios7-ps-cmdline.dmesg')) });
      const ps = cli(['stats', '--db', db, '--json']).json.find((s) => String(s.signature).includes('proc_pid_cmdline_read'))!;
      assert.equal(ps.hosts, 2);
    });

    it('show prints the whole incident; an unknown id is an error', () => {
      const id = cli(['history', '--db', file, '--json', '--host', 'web-2']).json[0].id as number;
      const s = cli(['show', String(id), '--db', file]);
      assert.equal(s.status, 0);
      assert.match(s.stdout, new RegExp(`^incident #${id} {2}web-2 {2}2019-01-30 10:30:00Z`));
      assert.match(s.stdout, /Call Trace:/);
      const none = cli(['show', '42', '--db', file]);
      assert.equal(none.status, 2);
      assert.match(none.stderr, /^klogscan: no incident #42 in /);
    });
  });

  it('finds the first kernel after which a fingerprint stopped (probable fix)', () => {
    const file = db();
    const log = writeLog([
      'Jan 20 08:00:00 web-1 kernel: Linux version 3.10.0-862.el7.x86_64 (mockbuild@x) #1 SMP',
      ...hung('web-1', '00:00', 'java', 100, 120, EXIT),
      'Jan 30 08:00:00 web-1 kernel: Linux version 3.10.0-957.12.1.el7.x86_64 (mockbuild@x) #1 SMP',
      ...hung('web-1', '00:00', 'jbd2/sda1-8', 5, 120, JBD2).map((l) => l.replace('Jan 29', 'Jan 31')),
    ]);
    cli(['--db', file, '--year', '2019', log]);
    const java = cli(['stats', '--db', file, '--json']).json.find((s) => String(s.signature).includes('do_exit'))!;
    assert.equal(java.probable_fix, '3.10.0-957.12.1.el7.x86_64');
    assert.match(cli(['stats', '--db', file]).stdout, /probable fix: 3\.10\.0-957\.12\.1\.el7\.x86_64/);
  });

  describe('a database klogscan cannot use: one line, exit 2, the file untouched', () => {
    const cases: [string, (f: string) => void, RegExp][] = [
      ['not a database', (f) => fs.writeFileSync(f, 'not sqlite at all, just text\n'.repeat(200)), /is not a klogscan database \(not an SQLite file\)/],
      ['another program\'s database', (f) => { const d = new Database(f); d.exec('CREATE TABLE x (a)'); d.close(); }, /is an SQLite database of another program/],
      ['from a newer klogscan', (f) => { const d = new Database(f); d.exec('CREATE TABLE x (a)'); d.pragma('user_version = 99'); d.close(); }, /was written by a newer klogscan \(schema 99; this one knows \d+\): upgrade klogscan/],
      ['corrupt', (f) => {
        cli(['--db', f, JAVA]);
        const b = fs.readFileSync(f);
        b.fill(0x5a, 100, 8192);
        fs.writeFileSync(f, b);
      }, /is (corrupt|not a klogscan database)/],
    ];
    for (const [what, make, msg] of cases) {
      it(what, () => {
        const file = db();
        make(file);
        const before = fs.readFileSync(file);
        for (const args of [['--db', file, JAVA], ['history', '--db', file]]) {
          const r = cli(args);
          assert.equal(r.status, 2, `${args[0]}: ${r.stderr}`);
          assert.match(r.stderr, msg);
          assert.equal(r.stderr.trim().split('\n').length, 1);
        }
        assert.deepEqual(fs.readFileSync(file), before);
      });
    }

    it('a missing directory for --db', () => {
      const r = cli(['--db', '/nonexistent/dir/k.db', JAVA]);
      assert.equal(r.status, 2);
      assert.equal(r.stderr, 'klogscan: cannot open database /nonexistent/dir/k.db: directory /nonexistent/dir does not exist\n');
      assert.equal(r.stdout, '', 'nothing is scanned without the store that was asked for');
    });

    it('a directory given as the database says so (helper-63: it said "disk I/O error")', () => {
      const dir = tmpdir();
      for (const args of [['history'], [JAVA]]) {
        const r = cli(['--db', dir, ...args]);
        assert.equal(r.status, 2);
        assert.equal(r.stderr, `klogscan: ${dir} is a directory, not a database file; use --db FILE\n`);
      }
    });

    it('a database locked by another writer', function () {
      this.timeout(30000);
      const file = db();
      cli(['--db', file, JAVA]);
      const holder = new Database(file);
      holder.exec('BEGIN EXCLUSIVE');
      try {
        const r = cli(['--db', file, PS]);
        assert.equal(r.status, 2);
        assert.match(r.stderr, /is locked by another process/);
      } finally {
        holder.exec('ROLLBACK');
        holder.close();
      }
      assert.equal(cli(['--db', file, PS]).status, 0, 'works again once the lock is gone');
    });

    it('history before any scan', () => {
      const r = cli(['history', '--db', db()]);
      assert.equal(r.status, 2);
      assert.match(r.stderr, /no database at .* yet: scan some logs first/);
    });
  });

  it('stores through the API too: the incident id goes back onto the report', () => {
    const file = db();
    const store = Store.open(file, { createDir: false });
    const [a] = scanText(sample('seed/centos7-java-rwsem.messages'));
    const res = store.record(a);
    store.commit();
    assert.equal(a.incident, res.incident);
    assert.equal(store.record(a).duplicate, true);
    store.close();
  });
});

describe('store: what a connection remembers between its statements', () => {
  it("sees another connection's commits: a report that one stored between two batches is a duplicate, not a second row", () => {
    const file = db();
    const [java, cat] = scanText([...hung('h1', '00:10', 'java', 100, 120, EXIT), ...hung('h1', '00:20', 'cat', 200, 120, CMDLINE)].join('\n') + '\n');
    const one = Store.open(file, { createDir: false });
    const two = Store.open(file, { createDir: false });
    // The first connection has stored every report of h1 so far (java); the second stores cat.
    assert.equal(one.record(java).duplicate, false);
    one.commit();
    assert.equal(two.record(cat).duplicate, false);
    two.commit();
    const again = one.record(cat);
    one.commit();
    assert.equal(again.duplicate, true);
    assert.equal(count(file, 'SELECT count(*) AS n FROM reports'), 2);
    assert.equal(count(file, 'SELECT count(*) AS n FROM incidents'), 1, 'cat joined java\'s incident');
    // The first connection's next report of that incident counts the task the other one added.
    const [ps] = scanText(hung('h1', '00:30', 'ps', 201, 120, CMDLINE).join('\n') + '\n');
    assert.equal(one.record(ps).duplicate, false);
    one.commit();
    assert.equal(count(file, 'SELECT tasks AS n FROM incidents'), 3);
    one.close();
    two.close();
  });

  it('a task reported again counts by its latest report, after the tasks reported since (the earliest of equals is the root)', () => {
    const file = db();
    const log = writeLog([...hung('h1', '00:10', 'jbd2/sda1-8', 300, 120, JBD2), ...hung('h1', '00:20', 'jbd2/sdb1-8', 301, 120, JBD2),
      ...hung('h1', '02:10', 'jbd2/sda1-8', 300, 120, JBD2)]);
    assert.equal(cli(['--db', file, '--year', '2019', log]).status, 0);
    const d = new Database(file, { readonly: true });
    const inc = d.prepare('SELECT tasks, reports, root_report FROM incidents').all() as { tasks: number; reports: number; root_report: number }[];
    const sdb = d.prepare("SELECT id FROM reports WHERE task = 'jbd2/sdb1-8'").pluck().get();
    d.close();
    assert.deepEqual(inc, [{ tasks: 2, reports: 3, root_report: sdb }]);
  });

  it('a better copy of a report changes its incident\'s root cause in the same run', () => {
    const file = db();
    // java's first copy lost its trace after two frames: the jbd2 thread looks like the root.
    const java = hung('h1', '00:10', 'java', 100, 240, EXIT);
    const short = writeLog([...java.slice(0, 6), ...hung('h1', '00:20', 'jbd2/sda1-8', 300, 120, JBD2)]);
    const whole = path.join(tmpdir(), 'messages.1');
    fs.writeFileSync(whole, java.join('\n') + '\n');
    assert.ok(cli(['--db', file, '--year', '2019', short, whole]).status! < 2);
    assert.equal(count(file, 'SELECT count(*) AS n FROM reports'), 2);
    const d = new Database(file, { readonly: true });
    const root = d.prepare('SELECT root_rule FROM incidents').pluck().all();
    d.close();
    assert.deepEqual(root, ['rhel7-rwsem-missed-wakeup']);
  });

  it("an incident's root cause, kept in memory during a scan, is what its stored tasks give (every sample, one run)", () => {
    const file = db();
    const all = fs.readdirSync('samples').filter((d) => fs.statSync(path.join('samples', d)).isDirectory())
      .flatMap((d) => fs.readdirSync(path.join('samples', d)).map((f) => path.join('samples', d, f)));
    // Without the self-check: what a user's scan does.
    const r = cli(['--db', file, '--year', '2019', ...all], { env: { KLOGSCAN_STORE_CHECK: '0' } });
    assert.ok(r.status === 0 || r.status === 1, r.stderr);
    const d = new Database(file, { readonly: true });
    const incidents = d.prepare('SELECT id, tasks, root_report, kernel, signature FROM incidents').all() as Record<string, unknown>[];
    assert.ok(incidents.length > 150, `${incidents.length} incidents`);
    const members = d.prepare(`SELECT r.id, r.task, r.pid, r.kind, r.blocked_seconds, r.signature, r.best_rule, r.best_verdict,
        r.best_kind, r.best_role, r.owner_task, r.owner_pid, r.fingerprint, r.kernel
      FROM incident_tasks t JOIN reports r ON r.id = t.report_id WHERE t.incident_id = ? ORDER BY r.id`);
    let several = 0;
    for (const inc of incidents) {
      const rows = members.all(inc.id) as Record<string, unknown>[];
      if (rows.length > 1) several++;
      const root = rootOf(rows.map((x) => ({
        id: x.id as number, task: x.task as string, pid: x.pid as number, kind: x.kind as string,
        blockedSeconds: x.blocked_seconds as number | null, signature: x.signature as string, fingerprint: x.fingerprint as string,
        rule: x.best_rule as string | null, verdict: x.best_verdict as string | null, ruleKind: x.best_kind as string | null,
        role: x.best_role as 'culprit' | 'victim' | null, ownerTask: x.owner_task as string | null, ownerPid: x.owner_pid as number | null,
      })));
      assert.equal(inc.tasks, rows.length, `incident ${inc.id as number}`);
      assert.equal(inc.root_report, root.id, `incident ${inc.id as number}`);
      assert.equal(inc.signature, root.signature, `incident ${inc.id as number}`);
      assert.equal(inc.kernel, rows.find((x) => x.id === root.id)!.kernel, `incident ${inc.id as number}`);
    }
    assert.ok(several > 20, `${several} incidents of several tasks`);
    d.close();
  });
});

/**
 * Logs that walk an incident search through its cases: gaps just under and over INCIDENT_GAP,
 * spans over six hours, blocks out of order, reboots (banners and uptimes starting again), hosts,
 * host-less dmesg with only uptimes, untimed pastes, a task reported again, equal times, and more
 * than INCIDENT_MAX_REPORTS reports in one episode. Deterministic (a fixed seed).
 */
function incidentWalk(): { syslog: string; dmesg: string; bare: string } {
  let seed = 12345;
  const rnd = (n: number): number => {
    seed = (seed * 1103515245 + 12345) % 2147483648;
    return Math.floor((seed / 2147483648) * n);
  };
  const traces = [EXIT, CMDLINE, JBD2];
  const steps = [0, 0, 1000, 30_000, 120_000, 14 * 60_000, 16 * 60_000, 3 * 3600_000, 7 * 3600_000, -20 * 60_000];
  const month = ['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec'];
  const stamp = (ms: number): string => {
    const d = new Date(ms);
    const p = (n: number): string => String(n).padStart(2, '0');
    return `${month[d.getUTCMonth()]} ${String(d.getUTCDate()).padStart(2)} ${p(d.getUTCHours())}:${p(d.getUTCMinutes())}:${p(d.getUTCSeconds())}`;
  };
  const up = (x: number): string => `[${x.toFixed(6).padStart(12)}]`;
  const report = (prefix: string, task: string, pid: number): string[] => [
    `${prefix}INFO: task ${task}:${pid} blocked for more than 120 seconds.`,
    `${prefix}"echo 0 > /proc/sys/kernel/hung_task_timeout_secs" disables this message.`,
    `${prefix}Call Trace:`,
    ...traces[(pid + task.length) % 3].map((f) => `${prefix} [<ffffffff816a94c9>] ${f}`),
  ];
  const syslog: string[] = [];
  const hosts = ['h1', 'h2', 'h3'].map((name, k) => ({ name, time: Date.UTC(2019, 0, 1, 8) + k * 1000, boot: Date.UTC(2019, 0, 1, 7) }));
  for (let n = 0; n < 900; n++) {
    const h = hosts[rnd(3)];
    h.time += steps[rnd(steps.length)];
    if (rnd(40) === 0) {
      h.boot = h.time;
      syslog.push(`${stamp(h.time)} ${h.name} kernel: ${up(0)} Linux version 3.10.0-${rnd(3) === 0 ? 957 : 693}.el7.x86_64 (mockbuild@x86-01.bsys.centos.org) #1 SMP`);
    }
    if (h.time < h.boot) h.time = h.boot + 1000;
    const pid = 100 + rnd(8);
    // Now and then a line without the printk time: no uptime, so no boot time (rsyslog's own stamp only).
    const uptime = rnd(5) === 0 ? '' : `${up((h.time - h.boot) / 1000 + rnd(1000) / 1e6)} `;
    syslog.push(...report(`${stamp(h.time)} ${h.name} kernel: ${uptime}`, `task${pid % 5}`, pid));
  }
  // An episode longer than an incident spans: a report every ten minutes for eight hours (wall
  // times only here, uptimes only in the dmesg below).
  for (let n = 0; n < 48; n++) {
    const t = Date.UTC(2019, 4, 1, 12) + n * 600_000;
    syslog.push(...report(`${stamp(t)} long kernel: `, `l${n % 3}`, 400 + (n % 3)));
  }
  // One episode of more reports than an incident holds, a report every half second.
  for (let n = 0; n < INCIDENT_MAX_REPORTS + 150; n++) {
    const t = Date.UTC(2019, 5, 1, 12) + n * 500;
    syslog.push(...report(`${stamp(t)} big kernel: ${up(5000 + n / 2)} `, 'kworker/0:1', 1000 + n));
  }
  const dmesg: string[] = [];
  let uptime = 100;
  for (let n = 0; n < 300; n++) {
    // Over a minute apart: closer, one task's two reports would be one (the dedupe rules).
    uptime += [61, 61, 120, 14 * 60, 16 * 60, 7 * 3600][rnd(6)] + rnd(1000) / 1e6;
    const pid = 200 + rnd(6);
    dmesg.push(...report(`${up(uptime)} `, `d${pid % 4}`, pid));
  }
  for (let n = 0; n < 48; n++) dmesg.push(...report(`${up(uptime + 600 * (n + 1))} `, `d${n % 3}`, 500 + (n % 3)));
  const bare: string[] = [];
  for (let n = 0; n < 60; n++) bare.push(...report('', `b${n % 3}`, 300 + rnd(4)));
  return { syslog: syslog.join('\n') + '\n', dmesg: dmesg.join('\n') + '\n', bare: bare.join('\n') + '\n' };
}

describe('store: the incident searches answered from memory', () => {
  it('give what the database gives, through every case of the search (self-check on; first scan, again, and from stdin twice)', function () {
    this.timeout(120_000);
    const dir = tmpdir();
    const file = path.join(dir, 'k.db');
    const logs = incidentWalk();
    const names = Object.entries(logs).map(([k, text]) => {
      const f = path.join(dir, `${k}.log`);
      fs.writeFileSync(f, text);
      return f;
    });
    const env = { KLOGSCAN_STORE_CHECK: '1' };
    const first = cli(['--db', file, '--year', '2019', ...names], { env });
    assert.doesNotMatch(first.stderr, /self-check/);
    assert.ok(first.status === 0 || first.status === 1, first.stderr);
    const reports = count(file, 'SELECT count(*) AS n FROM reports');
    // A task reported twice within a minute by the same clocks is one report (the dedupe rules).
    assert.ok(reports > 6000, `${reports} reports`);
    const fromDmesg = count(file, "SELECT count(*) AS n FROM reports r JOIN sources s ON s.id = r.source_id WHERE s.name LIKE '%/dmesg.log'");
    assert.equal(fromDmesg, 348);
    // Incidents were split every way the search can split them.
    assert.ok(count(file, 'SELECT count(*) AS n FROM incidents') > 100);
    assert.equal(count(file, `SELECT count(*) AS n FROM incidents WHERE reports = ${INCIDENT_MAX_REPORTS}`), 1);
    assert.ok(count(file, 'SELECT count(*) AS n FROM incidents WHERE first_time IS NULL AND first_uptime IS NOT NULL') > 5);
    assert.ok(count(file, 'SELECT count(*) AS n FROM incidents WHERE first_time IS NULL AND first_uptime IS NULL') >= 1);
    assert.ok(count(file, 'SELECT count(DISTINCT boot_key) AS n FROM incidents') > 10);
    const again = cli(['--db', file, '--year', '2019', ...names], { env });
    assert.doesNotMatch(again.stderr, /self-check/);
    assert.equal(count(file, 'SELECT count(*) AS n FROM reports'), reports, 'a second scan adds nothing');
    for (let k = 0; k < 2; k++) {
      const piped = cli(['--db', file, '--year', '2019', '-'], { env, input: logs.dmesg });
      assert.doesNotMatch(piped.stderr, /self-check/);
      assert.ok(piped.status === 0 || piped.status === 1, piped.stderr);
    }
    assert.equal(count(file, 'SELECT count(*) AS n FROM reports'), reports + fromDmesg, 'dmesg piped twice is stored once');
  });
});

describe('store: the stored JSON is cut from the NDJSON line', () => {
  const files = (dir: string): string[] => fs.readdirSync(path.join('samples', dir)).filter((f) => f.endsWith('.log')).map((f) => `samples/${dir}/${f}`);

  it('gives what serialising the report without its frames gives, for every sample report (blocker owner frames too)', () => {
    let reports = 0;
    let owners = 0;
    for (const file of [...files('eras'), ...files('formats'), JAVA, PS]) {
      for (const a of scanText(fs.readFileSync(file))) {
        const json = reportJson({ ...a, incident: 7 });
        const cut = withoutFrames(jsonLine(json));
        assert.ok(cut !== null, file);
        assert.deepEqual(JSON.parse(cut), JSON.parse(storedJson(json)), file);
        reports++;
        if (a.report.blocker && a.report.blocker.ownerFrames.length > 0) owners++;
      }
    }
    assert.ok(reports > 50 && owners > 0, `${reports} reports, ${owners} with owner frames`);
  });

  it('is not fooled by log text that spells the keys it cuts at', () => {
    const tricky = 'x],"signature":"y","frames":[';
    const a = scanText(hung('h1', '00:01', 'evil', 7, 120, [`${tricky}+0x1/0x2`, ...EXIT]).join('\n') + '\n')[0];
    a.report.task = tricky;
    const json = reportJson({ ...a, incident: 1 });
    assert.deepEqual(JSON.parse(withoutFrames(jsonLine(json))!), JSON.parse(storedJson(json)));
    // The blocker's owner frames are cut too: its lock and an owner frame spell the end of that cut.
    const owned = scanText(fs.readFileSync('samples/eras/6x-blocker-mutex-owner-trace-no-timestamps.log')).find((x) => (x.report.blocker?.ownerFrames.length ?? 0) > 0)!;
    const trickier = 'y]},"truncated":false,"owner_frames":[';
    owned.report.blocker!.lock = trickier;
    owned.report.blocker!.ownerFrames[0].fn = trickier;
    owned.report.frames[0].fn = tricky;
    const ownedJson = reportJson({ ...owned, incident: 2 });
    assert.deepEqual(JSON.parse(withoutFrames(jsonLine(ownedJson))!), JSON.parse(storedJson(ownedJson)));
  });

  it('stores the same JSON as before for a scanned file, and prints the line it cut from', () => {
    const file = db();
    const r = cli(['--db', file, '--json', 'samples/eras/6x-blocker-mutex-multi-task-nmi-backtrace.log']);
    assert.equal(r.status, 0, r.stderr);
    const printed = r.stdout.trim().split('\n').slice(0, -1).map((l) => JSON.parse(l) as Record<string, unknown>);
    const d = new Database(file, { readonly: true });
    const rows = d.prepare('SELECT id, incident_id, json FROM reports ORDER BY id').all() as { id: number; incident_id: number; json: string }[];
    d.close();
    assert.equal(rows.length, printed.length);
    rows.forEach((row, i) => {
      const { frames: _f, ...rest } = printed[i];
      const blocker = rest.blocker as Record<string, unknown> | null;
      if (blocker) delete blocker.owner_frames;
      assert.deepEqual(JSON.parse(row.json), rest);
      assert.equal(printed[i].incident, row.incident_id);
    });
  });
});
