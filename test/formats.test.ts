// Input formats: each module's own samples, detection, and the same report in every format.
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { decodeLine, detectFormat, FORMATS } from '../parsers/formats/index.js';
import { decodeByPattern, surelyNotKernel, syslog } from '../parsers/formats/syslog.js';
import { generate } from '../bench/generate.js';
import type { AnalyzedReport } from '../src/scan.js';
import { encodings, gzipped, HOST, TIME_MS } from './fixtures/seed-formats.js';
import { cli, REFERENCE, ROOT, sample, scanText, tmpdir } from './helpers.js';

const ctx = { referenceTime: REFERENCE };

/** What must be identical whatever the envelope: everything the kernel itself printed. */
function core(a: AnalyzedReport): unknown {
  const r = a.report;
  return {
    kind: r.kind, task: r.task, pid: r.pid, blockedSeconds: r.blockedSeconds, state: r.state, ppid: r.ppid,
    flags: r.flags, frames: r.frames, kernel: r.kernel, truncated: r.truncated,
    signature: a.identity.signature, fingerprint: a.identity.fingerprint,
    matches: a.matches.map((m) => [m.rule, m.verdict]),
  };
}

describe('line formats', () => {
  for (const f of FORMATS) {
    it(`${f.name}: decodes its own samples, and detection gives them to it alone`, () => {
      assert.ok(f.samples.length > 0);
      for (const s of f.samples) {
        assert.ok(f.decode(s, ctx), `${f.name} decodes ${JSON.stringify(s)}`);
        assert.equal(detectFormat(s, ctx), f.name, `detection of ${JSON.stringify(s)}`);
      }
    });
  }

  it('syslog: splits host, tag and message, and keeps the message indentation', () => {
    const k = syslog.decode('Jan 29 10:41:07 app-prod-17 kernel:  schedule+0x29/0x70', ctx)!;
    assert.equal(k.host, 'app-prod-17');
    assert.equal(k.text, ' schedule+0x29/0x70', 'exactly one separator is removed');
    const other = syslog.decode('Jan 29 10:41:08 app-prod-17 sshd[4242]: Accepted publickey', ctx)!;
    assert.equal(other.kernel, false);
  });

  it('syslog: raw console text stamped with an ISO time alone is kernel text, a program quoting a report is not', () => {
    const lines = [
      '2025-01-16T17:24:58.365Z INFO: task khugepaged:931 blocked for more than 1228 seconds.',
      '2025-01-16T17:24:58.365Z Tainted: P OE 6.12.0-4.el9ueknext.x86_64 #1',
      '2025-01-16T17:24:58.374Z ""echo 0 > /proc/sys/kernel/hung_task_timeout_secs"" disables this message.',
      '2025-01-16T17:24:58.387Z Call Trace:',
      '2025-01-16T17:24:58.390Z <TASK>',
      '2025-01-16T17:24:58.394Z __schedule+0x266/0x720',
    ];
    for (const l of lines) {
      const k = decodeLine(l, ctx)!;
      assert.equal(k.kernel, true, l);
      assert.equal(k.host, null, l);
      assert.equal(k.text, l.slice(25), l);
      assert.equal(new Date(k.time!).toISOString().slice(0, 19), '2025-01-16T17:24:58');
    }
    for (const l of [
      '2025-01-16T17:24:58.365Z node-7 node-problem-detector[812]: INFO: task khugepaged:931 blocked for more than 1228 seconds.',
      '2025-01-16T17:24:58.365Z monitor: INFO: task khugepaged:931 blocked for more than 1228 seconds.',
      '2025-01-16T17:24:58.365Z node-7 sshd[4242]: Accepted publickey for deploy',
      '2025-01-16T17:24:58.365Z INFO: something else happened',
    ]) assert.equal(decodeLine(l, ctx)!.kernel, false, l);
  });

  it('syslog: a /dev/kmsg record forwarded as the message is decoded as one (level, printk time), also by the quick check', () => {
    const l = 'May 21 20:00:40 x 3,2903,86997972896,-;INFO: task init:1 blocked for more than 122 seconds.';
    const k = decodeLine(l, ctx)!;
    assert.equal(k.kernel, true);
    assert.equal(k.host, 'x');
    assert.equal(k.level, 3);
    assert.equal(k.uptime, 86997.972896);
    assert.equal(k.text, 'INFO: task init:1 blocked for more than 122 seconds.');
    assert.equal(surelyNotKernel(l), false);
    assert.equal(surelyNotKernel(l.replace(' x ', ' x user.info ')), false, 'a facility.level after the host, as splitHostTag allows');
    assert.equal(surelyNotKernel(l.replace(' x ', ' x  ')), false);
    assert.equal(surelyNotKernel('May 21 20:00:40 x cron[12]: (root) CMD (run-parts; true)'), true);
    // A user-space record (facility above 0) is no kernel text.
    assert.equal(decodeLine('May 21 20:00:40 x 14,2910,86997990000,-;systemd[1]: Started foo.', ctx)!.kernel, false);
  });

  it('reads grep -H/-r output: a file name and `:` or `-` (and a line number) before the log line', () => {
    const plain = decodeLine('Jun 17 20:18:08 ip-172-31-27-211 kernel: Call Trace:', ctx)!;
    for (const l of [
      'messages:Jun 17 20:18:08 ip-172-31-27-211 kernel: Call Trace:',
      'messages-Jun 17 20:18:08 ip-172-31-27-211 kernel: Call Trace:',
      '/var/log/messages-20190617:Jun 17 20:18:08 ip-172-31-27-211 kernel: Call Trace:',
      'messages:1234:Jun 17 20:18:08 ip-172-31-27-211 kernel: Call Trace:',
    ]) assert.deepEqual(decodeLine(l, ctx), plain, l);
    // Another program's line stays another program's, not bare kernel text.
    assert.equal(decodeLine('messages:Jun 17 20:18:08 ip-172-31-27-211 sshd[42]: Accepted publickey', ctx)!.kernel, false);
    // Text without such a prefix is what it was.
    for (const l of ['INFO: task java:181134 blocked for more than 120 seconds.', 'EXT4-fs error (device sda1): ext4_find_entry:1455',
      'task:khugepaged state:D stack:0 pid:931 ppid:2 flags:0x00004002', 'x86/fpu: Supporting XSAVE feature 0x001']) {
      assert.equal(decodeLine(l, ctx)!.format, 'bare', l);
      assert.equal(decodeLine(l, ctx)!.text, l, l);
    }
  });

  it('drops a carriage return shown as the text `^M` (a console capture copied from a pager)', () => {
    const k = decodeLine('[  240.513340] INFO: task systemd-udevd:244 blocked for more than 120 seconds.^M', ctx)!;
    assert.equal(k.text, 'INFO: task systemd-udevd:244 blocked for more than 120 seconds.');
    assert.equal(k.uptime, 240.51334);
  });

  it('syslog: OpenWrt logread (ctime date with the year, no host, facility.level) and host-less facility.level lines', () => {
    // Lines of openwrt/openwrt issue #10589 (an RCU stall on an MT7621 router, 2022).
    const k = decodeLine('Thu Sep  1 19:26:56 2022 kern.warn kernel: [  450.355384] [<8000b64c>] show_stack+0x30/0x100', ctx)!;
    assert.equal(k.format, 'syslog');
    assert.equal(k.kernel, true);
    assert.equal(k.host, null);
    assert.equal(k.time, new Date(2022, 8, 1, 19, 26, 56).getTime(), 'local time, the year as written');
    assert.equal(k.yearGuessed, undefined);
    assert.equal(k.uptime, 450.355384);
    assert.equal(k.text, '[<8000b64c>] show_stack+0x30/0x100');
    const other = decodeLine('Sun Jun  2 16:18:17 2024 daemon.notice hostapd: phy0-ap0: AP-STA-CONNECTED ae:63:e2:65:9f:e7 auth_alg=open', ctx)!;
    assert.equal(other.kernel, false);
    // BusyBox syslogd on a buildroot board, kernel lines without a host name (notes in a public
    // repository): the facility.level is no host.
    const bb = decodeLine('Nov  2 20:33:21 kern.err kernel: [  929.818710] usb 1-1: 1:0: usb_set_interface failed (-71)', ctx)!;
    assert.equal(bb.host, null);
    assert.equal(bb.kernel, true);
    assert.equal(bb.text, 'usb 1-1: 1:0: usb_set_interface failed (-71)');
    assert.equal(decodeLine('Sep 13 14:34:10 ccgx user.err kernel: [43500.179242] Call Trace:', ctx)!.host, 'ccgx');
  });

  it('syslog: places a date without a year at or before the reference time', () => {
    const dec = syslog.decode('Dec 31 23:59:00 h kernel: x', { referenceTime: Date.UTC(2020, 0, 2) })!;
    assert.equal(new Date(dec.time!).toISOString(), '2019-12-31T23:59:00.000Z');
    const jan = syslog.decode('Jan  1 00:00:01 h kernel: x', { referenceTime: Date.UTC(2020, 0, 2) })!;
    assert.equal(new Date(jan.time!).toISOString(), '2020-01-01T00:00:01.000Z');
  });

  it('syslog: journalctl short and short-precise dates in locales whose month is a number or not in Latin or Cyrillic letters (helper-41 #1)', () => {
    // strftime %b of glibc 2.36's locales (localedef on Debian 12), months 1 to 12, as journalctl
    // prints them in `%b %d %H:%M:%S`: a month number with 月 or 월 (maybe after a blank), Vietnamese
    // `Thg N`, Finnish names of six letters, Greek, Hebrew, Arabic, dotted Thai and Lithuanian
    // names, Estonian names padded with blanks, glibc 2.36's Czech June and July.
    const months: Record<string, string> = {
      zh_CN: '1月|2月|3月|4月|5月|6月|7月|8月|9月|10月|11月|12月',
      ja_JP: ' 1月| 2月| 3月| 4月| 5月| 6月| 7月| 8月| 9月|10月|11月|12月',
      zh_TW: ' 1月| 2月| 3月| 4月| 5月| 6月| 7月| 8月| 9月|10月|11月|12月',
      ko_KR: ' 1월| 2월| 3월| 4월| 5월| 6월| 7월| 8월| 9월|10월|11월|12월',
      vi_VN: 'Thg 1|Thg 2|Thg 3|Thg 4|Thg 5|Thg 6|Thg 7|Thg 8|Thg 9|Thg 10|Thg 11|Thg 12',
      fi_FI: 'tammi|helmi|maalis|huhti|touko|kesä|heinä|elo|syys|loka|marras|joulu',
      el_GR: 'Ιαν|Φεβ|Μαρ|Απρ|Μαΐ|Ιουν|Ιουλ|Αυγ|Σεπ|Οκτ|Νοε|Δεκ',
      he_IL: 'ינו|פבר|מרץ|אפר|מאי|יונ|יול|אוג|ספט|אוק|נוב|דצמ',
      ar_SA: 'يناير|فبراير|مارس|أبريل|مايو|يونيو|يوليو|أغسطس|سبتمبر|أكتوبر|نوفمبر|ديسمبر',
      th_TH: 'ม.ค.|ก.พ.|มี.ค.|เม.ย.|พ.ค.|มิ.ย.|ก.ค.|ส.ค.|ก.ย.|ต.ค.|พ.ย.|ธ.ค.',
      lt_LT: 'saus.|vas.|kov.|bal.|geg.|birž.|liep.|rugp.|rugs.|spal.|lapkr.|gruod.',
      et_EE: 'jaan |veebr|märts|apr  |mai  |juuni|juuli|aug  |sept |okt  |nov  |dets ',
      cs_CZ: 'led|úno|bře|dub|kvě|čen|čec|srp|zář|říj|lis|pro',
    };
    for (const [locale, names] of Object.entries(months)) {
      names.split('|').forEach((mon, i) => {
        for (const [clock, ms] of [['10:41:07', 0], ['10:41:07.000037', 0]] as const) {
          const line = `${mon} 05 ${clock} app-prod-17 kernel: INFO: task java:181134 blocked for more than 120 seconds.`;
          const k = decodeLine(line, ctx);
          assert.equal(k?.format, 'syslog', `${locale}: ${line}`);
          assert.equal(k.host, 'app-prod-17', line);
          assert.equal(k.text, 'INFO: task java:181134 blocked for more than 120 seconds.', line);
          assert.equal(new Date(k.time!).toISOString(), `2026-${String(i + 1).padStart(2, '0')}-05T10:41:07.00${ms}Z`, line);
        }
      });
    }
    // Another program's line under such a LANG stays another program's; a number that is no month is no date.
    assert.equal(decodeLine('3월 10 08:00:00 db-node-3 sshd[812]: Accepted publickey for deploy', ctx)!.kernel, false);
    assert.equal(decodeLine('13月 10 08:00:00 db-node-3 kernel: Call Trace:', ctx)?.format === 'syslog', false);
    assert.equal(decodeLine('Thg 13 10 08:00:00 db-node-3 kernel: Call Trace:', ctx)?.format === 'syslog', false);
  });

  it('journalctl -o short/short-precise output under LANG=zh_CN, ja_JP, ko_KR gives the report of the C locale\'s (helper-41 #1)', () => {
    const referenceTime = Date.UTC(2026, 11, 31);
    const [base] = scanText(sample('formats/seed-java.syslog-bsd.log'), { kernel: '3.10.0-862.el7', referenceTime });
    for (const file of ['tool-journalctl-short-zh_CN.log', 'tool-journalctl-short-ja_JP.log', 'tool-journalctl-short-precise-ko_KR.log']) {
      const got = scanText(sample(`formats/${file}`), { kernel: '3.10.0-862.el7', referenceTime });
      assert.equal(got.length, 1, file);
      assert.deepEqual(core(got[0]), core(base), file);
      assert.equal(got[0].report.host, 'app-prod-17', file);
      assert.equal(got[0].report.time, base.report.time, file);
    }
  });

  it('--year is the year of each input\'s first date: a log running from December into January moves on a year', () => {
    const seed = sample('seed/centos7-java-rwsem.messages').split('\n');
    const at = seed.findIndex((l) => l.includes('INFO: task java:'));
    const report = (stamp: string, pid: number): string[] => seed.slice(at, at + 30).filter((l) => / kernel: /.test(l))
      .map((l) => l.replace(/^\w{3} [ \d]\d \d\d:\d\d:\d\d/, stamp).replace(/181134/g, String(pid)));
    const text = [...report('Dec 31 23:59:58', 1111), ...report('Jan  1 00:02:01', 2222), ''].join('\n');
    const dir = tmpdir();
    const file = path.join(dir, 'messages');
    fs.writeFileSync(file, text);
    const times = (args: string[], input?: string): string[] => cli(['--no-db', '--json', '--year', '2025', ...args], { input, env: { TZ: 'UTC' } }).json
      .filter((o) => o.type === 'report').map((o) => `${o.pid as number} ${o.time as string} ${o.year_guessed as boolean}`);
    const want = ['1111 2025-12-31T23:59:58.000Z false', '2222 2026-01-01T00:02:01.000Z false'];
    assert.deepEqual(times([file]), want);
    assert.deepEqual(times(['-'], text), want);
    // Each input starts in the year given again (without a store, both copies are printed).
    assert.deepEqual(times([file, file]), [...want, ...want]);
    // A board without a clock logs January 1 after each boot, until its clock is set: no New Year.
    const board = [...report('Jun 10 12:00:00', 1111), ...report('Jan  1 00:00:07', 2222), ...report('Jun 10 12:05:00', 3333), ''].join('\n');
    assert.deepEqual(times(['-'], board), ['1111 2025-06-10T12:00:00.000Z false', '2222 2025-01-01T00:00:07.000Z false',
      '3333 2025-06-10T12:05:00.000Z false']);
    // Two hosts' lines a second out of order across midnight, and reports weeks apart with only
    // other programs' lines between them (the fast path decodes none of those) (helper-77).
    const mixed = [...report('Dec 31 23:59:58', 1111), ...report('Jan  1 00:00:01', 2222).map((l) => l.replace('app-prod-17', 'other-host')),
      ...report('Dec 31 23:59:59', 3333), ''].join('\n');
    assert.deepEqual(times(['-'], mixed), ['1111 2025-12-31T23:59:58.000Z false', '2222 2026-01-01T00:00:01.000Z false',
      '3333 2025-12-31T23:59:59.000Z false']);
    const sparse = [...report('Dec 20 10:00:00', 1111), 'Dec 21 10:00:00 app-prod-17 CRON[1]: (root) CMD (run-parts)',
      ...report('Jan 25 10:00:00', 2222), ''].join('\n');
    assert.deepEqual(times(['-'], sparse), ['1111 2025-12-20T10:00:00.000Z false', '2222 2026-01-25T10:00:00.000Z false']);
  });

  it('reads printk prefixes inside any envelope: level, time, caller id', () => {
    const k = decodeLine('<4>[  125.364467][  T140] task:zsh state:D', ctx)!;
    assert.equal(k.level, 4);
    assert.equal(k.uptime, 125.364467);
    assert.equal(k.caller, 'T140');
    assert.equal(k.text, 'task:zsh state:D');
  });

  it('reads a blank between level and time, a caller id without a time, and a console line as a syslog message', () => {
    // Intel's CI: `<3> [187.682308] ...`.
    const ci = decodeLine('<6> [187.705354] task:kworker/0:3     state:D stack:13504 pid:165   ppid:2      flags:0x00004000', ctx)!;
    assert.equal(ci.level, 6);
    assert.equal(ci.uptime, 187.705354);
    assert.equal(ci.text, 'task:kworker/0:3     state:D stack:13504 pid:165   ppid:2      flags:0x00004000');
    // printk.time=0 with CONFIG_PRINTK_CALLER: ` [   T37] ...`.
    const caller = decodeLine(' [   T37]  __schedule+0x4c9/0x1810', ctx)!;
    assert.equal(caller.caller, 'T37');
    assert.equal(caller.text, ' __schedule+0x4c9/0x1810');
    // A BSD date, then neither host nor program: the console line is the message.
    const sl = decodeLine('Jun  4 01:46:52  [12810.275218][  T587] INFO: task nginx:3977 blocked for more than 609 seconds.', ctx)!;
    assert.equal(sl.format, 'syslog');
    assert.equal(sl.kernel, true);
    assert.equal(sl.host, null);
    assert.equal(sl.caller, 'T587');
    assert.equal(sl.uptime, 12810.275218);
    assert.equal(sl.text, 'INFO: task nginx:3977 blocked for more than 609 seconds.');
  });

  it('reads dmesg -T dates in other locales', () => {
    for (const [line, iso] of [
      ['[Di Jan 29 10:41:07 2019] x', '2019-01-29T10:41:07.000Z'],
      ['[mar. janv. 29 10:41:07 2019] x', '2019-01-29T10:41:07.000Z'],
      ['[Вт янв 29 10:41:07 2019] x', '2019-01-29T10:41:07.000Z'],
      ['[火  1月 29 10:41:07 2019] x', '2019-01-29T10:41:07.000Z'],
      ['[Mi Dez  4 03:14:35 2013] x', '2013-12-04T03:14:35.000Z'],
      // Finnish, Hungarian, Ukrainian %b (a Finnish journal lost its whole oops: h27/15).
      ['[ti heinä 19 21:58:29 2016] x', '2016-07-19T21:58:29.000Z'],
      ['[K márc 29 10:41:07 2019] x', '2019-03-29T10:41:07.000Z'],
      ['[Пн лис 29 10:41:07 2019] x', '2019-11-29T10:41:07.000Z'],
    ]) {
      const k = decodeLine(line, ctx)!;
      assert.equal(k.format, 'dmesg', line);
      assert.equal(new Date(k.time!).toISOString(), iso, line);
      assert.equal(k.text, 'x');
    }
  });

  it('reads dmesg -T -d (delta inside the bracket) and crash log -T (a zone before the year)', () => {
    const delta = decodeLine('[Wed Jan  8 10:35:44 2025 <    0.000290>]       Tainted: G           OE K   5.10.134-17.2.al8.x86_64 #1', ctx)!;
    assert.equal(new Date(delta.time!).toISOString(), '2025-01-08T10:35:44.000Z');
    assert.equal(delta.text, '      Tainted: G           OE K   5.10.134-17.2.al8.x86_64 #1');
    for (const [line, iso] of [
      ['[Sat May 30 15:31:46 EDT 2026] x', '2026-05-30T19:31:46.000Z'],
      ['[Sat May 30 15:31:46 UTC 2026] x', '2026-05-30T15:31:46.000Z'],
      ['[Sat May 30 15:31:46 +0900 2026] x', '2026-05-30T06:31:46.000Z'],
      // CST is Central (US) or China Standard Time: read as local, like a time with no zone.
      ['[Sat May 30 15:31:46 CST 2026] x', '2026-05-30T15:31:46.000Z'],
    ]) {
      const k = decodeLine(line, ctx)!;
      assert.equal(new Date(k.time!).toISOString(), iso, line);
      assert.equal(k.text, 'x', line);
    }
  });

  it('drops dmesg -H prefixes in any locale: a decimal comma, a month that is not English', () => {
    for (const line of ['[  +0,000008]       Tainted: P OE 4.8.0-39-generic #42-Ubuntu', '[Mär 6 18:08]       Tainted: P OE 4.8.0-39-generic #42-Ubuntu',
      '[Jan 6 18:08]       Tainted: P OE 4.8.0-39-generic #42-Ubuntu']) {
      const k = decodeLine(line, ctx)!;
      assert.equal(k.format, 'dmesg', line);
      assert.equal(k.text, '      Tainted: P OE 4.8.0-39-generic #42-Ubuntu', line);
    }
  });

  it('drops dmesg -e/-H prefixes whose month is a number or padded, and dates dmesg -T in every locale (helper-41 #2)', () => {
    // util-linux 2.38 `dmesg -H` under glibc 2.36's locales: the first line of a minute, `[%b%d %H:%M]`.
    for (const stamp of ['[11月27 14:54]', '[ 3月05 14:54]', '[3月05 14:54]', '[11월27 14:54]', '[ 3월05 14:54]', '[Thg 1127 14:54]',
      '[Thg 305 14:54]', '[nov  27 14:54]', '[apr  05 14:54]', '[märts05 14:54]', '[marras27 14:54]', '[lapkr.27 14:54]', '[พ.ย.27 14:54]',
      '[نوفمبر27 14:54]', '[נוב27 14:54]', '[Νοε27 14:54]']) {
      const line = `${stamp} BUG: unable to handle kernel NULL pointer dereference at 0000000000000010`;
      const k = decodeLine(line, ctx)!;
      assert.equal(k.format, 'dmesg', line);
      assert.equal(k.text, 'BUG: unable to handle kernel NULL pointer dereference at 0000000000000010', line);
    }
    // `dmesg -T`: Vietnamese weekday and month hold digits; Greek, Thai, Hebrew, Arabic, Lithuanian months are names.
    for (const stamp of ['[T6 Thg 11 27 11:24:46 2026]', '[T5 Thg 3  5 11:24:46 2026]', '[Παρ Νοε 27 11:24:46 2026]', '[ศ. พ.ย. 27 11:24:46 2026]',
      '[ו\' נוב 27 11:24:46 2026]', '[ج نوفمبر 27 11:24:46 2026]', '[Pn lapkr. 27 11:24:46 2026]']) {
      const k = decodeLine(`${stamp} watchdog: BUG: soft lockup - CPU#1 stuck for 26s! [ksoftirqd/1:23]`, ctx)!;
      assert.equal(k.format, 'dmesg', stamp);
      assert.equal(new Date(k.time!).toISOString(), stamp.includes('Thg 3') ? '2026-03-05T11:24:46.000Z' : '2026-11-27T11:24:46.000Z', stamp);
      assert.equal(k.text, 'watchdog: BUG: soft lockup - CPU#1 stuck for 26s! [ksoftirqd/1:23]', stamp);
    }
    // The reports of real util-linux output: a soft lockup (`dmesg -e`, zh_CN; `dmesg -T`, vi_VN) and an
    // oops opened at its first line, not at the `Oops:` line after it (`dmesg -H`, zh_CN).
    for (const [file, signature, time] of [
      ['tool-dmesg-e-zh_CN-soft-lockup.log', 'soft lockup in ieee80211_select_queue', null],
      ['tool-dmesg-T-vi_VN-soft-lockup.log', 'soft lockup in ieee80211_select_queue', '2026-11-27T11:24:46.000Z'],
      ['tool-dmesg-H-zh_CN-oops.log', 'kernel NULL pointer dereference in rb_next', null],
    ] as const) {
      const got = scanText(sample(`formats/${file}`));
      assert.equal(got.length, 1, file);
      assert.equal(got[0].identity.signature, signature, file);
      assert.equal(got[0].report.time === null ? null : new Date(got[0].report.time).toISOString(), time, file);
    }
    assert.equal(scanText(sample('formats/tool-dmesg-e-zh_CN-soft-lockup.log'))[0].report.frames.length, 19);
  });

  it('reads a whole log line quoted in a mail reply as that line, still a pasted one', () => {
    const k = decodeLine('> Mar 16 11:30:24 myhost kernel:  __schedule+0x275/0x660', ctx)!;
    assert.equal(k.format, 'bare');
    assert.equal(k.host, 'myhost');
    assert.equal(k.text, ' __schedule+0x275/0x660');
    assert.equal(decodeLine('>> 2021-03-16 11:30:24.753 kernel: Call Trace:', ctx)!.text, 'Call Trace:');
    // A container runtime's line quoted whole, and a quoted line of no envelope at all.
    const cri = decodeLine('> 2019-01-29T10:41:07.000000000Z stdout F [ 6141.921740] INFO: task java:181134 blocked for more than 120 seconds.', ctx)!;
    assert.equal(cri.kernel, true);
    assert.equal(cri.uptime, 6141.921740);
    assert.equal(decodeLine('> stdout F  schedule+0x29/0x70', ctx)!.text, 'stdout F  schedule+0x29/0x70');
    // Another program's line quoted stays that program's: no kernel text.
    assert.equal(decodeLine('> Mar 16 11:30:24 host myapp[12]: INFO: task java:181134 blocked for more than 120 seconds.', ctx)!.kernel, false);
    // Quotes and collector prefixes nested a thousand times are text, not a recursion per level.
    const nested = decodeLine('2019-01-29T10:41:07Z stdout F > '.repeat(1300) + 'INFO: task java:1 blocked for more than 120 seconds.', ctx);
    assert.equal(nested!.kernel, false);
  });

  it('keeps a capture tool\'s `[Jan 29 10:41:07]` stamp apart from dmesg -e\'s `[Jan29 10:41]`', () => {
    const k = decodeLine('[Jan 29 10:41:07] [  123.456789] INFO: task jbd2/sda1-8:312 blocked for more than 120 seconds.', ctx)!;
    assert.equal(k.uptime, 123.456789);
    assert.equal(k.text, 'INFO: task jbd2/sda1-8:312 blocked for more than 120 seconds.');
  });

  it('undoes kmsg \\xNN escapes and skips kmsg dictionary lines', () => {
    assert.equal(decodeLine('6,12,34,-;INFO: task a\\x1bb:1 blocked', ctx)!.text, 'INFO: task a\x1bb:1 blocked');
    assert.equal(decodeLine(' SUBSYSTEM=pci', ctx), null);
  });

  it('reads journal JSON MESSAGE given as an array of byte values', () => {
    const k = decodeLine(JSON.stringify({ _TRANSPORT: 'kernel', MESSAGE: [...Buffer.from('Call Trace:')], _HOSTNAME: 'h' }), ctx)!;
    assert.equal(k.text, 'Call Trace:');
    assert.equal(k.host, 'h');
    const user = decodeLine(JSON.stringify({ _TRANSPORT: 'syslog', MESSAGE: 'x', SYSLOG_IDENTIFIER: 'sshd' }), ctx)!;
    assert.equal(user.kernel, false);
  });

  describe('the seed java report in every input format gives the same report', () => {
    // Year-less dates (BSD syslog) are placed before a reference time in 2019, as --year 2019 would.
    const referenceTime = Date.UTC(2019, 11, 31);
    const base = scanText(encodings()[0].text, { kernel: '3.10.0-862.el7', referenceTime });
    assert.equal(base.length, 1);
    for (const e of encodings()) {
      it(e.name, () => {
        for (const chunk of [undefined, 7]) {
          const got = scanText(e.text, { kernel: '3.10.0-862.el7', chunk, referenceTime });
          assert.equal(got.length, 1);
          assert.deepEqual(core(got[0]), core(base[0]));
          assert.equal(got[0].report.host, e.host);
          assert.equal(got[0].report.time, e.time);
          assert.equal(got[0].report.uptime, e.uptime);
        }
      });
    }
    it('and each encoding is kept as a sample (samples/formats/seed-java.*.log)', () => {
      for (const e of encodings()) {
        const file = path.join(ROOT, 'samples/formats', `seed-java.${e.name}.log`);
        assert.equal(fs.readFileSync(file, 'utf8'), e.text, `${file} is current (node dist/test/fixtures/seed-formats.js --write)`);
      }
    });
  });

  it('reads a gzip-compressed (rotated) file the same as the plain one', () => {
    const dir = tmpdir();
    const gz = path.join(dir, 'messages-20190129.gz');
    fs.writeFileSync(gz, gzipped());
    const r = cli(['--json', '--year', '2019', gz]);
    assert.equal(r.status, 0, r.stderr);
    assert.equal(r.json[0].task, 'java');
    assert.equal(r.json[0].host, HOST);
    assert.equal(r.json[0].time, new Date(TIME_MS).toISOString());
    assert.equal((r.json[0].frames as unknown[]).length, 15);
  });

  it('--format forces a decoder: lines of another format are ignored', () => {
    const text = encodings().find((e) => e.name === 'dmesg')!.text;
    assert.equal(cli(['--json', '--format', 'dmesg'], { input: text }).json[0].task, 'java');
    const forced = cli(['--json', '--format', 'syslog'], { input: text });
    assert.equal(forced.json[0].type, 'summary');
    assert.equal(forced.json[0].reports, 0);
    // In text, the run says that the forced format may be the reason (helper-63: it was silent).
    assert.match(cli(['--no-db', '--format', 'syslog'], { input: text }).stdout, /note: no report was found with --format syslog; if the log is in another format, leave --format out/);
    assert.doesNotMatch(cli(['--no-db', '--format', 'dmesg'], { input: text }).stdout, /leave --format out/);
    const bad = cli(['--format', 'nope'], { input: '' });
    assert.equal(bad.status, 2);
    assert.match(bad.stderr, /^klogscan: unknown format "nope"; formats: journal-json, kmsg, rfc5424, syslog, journal, journal-fields, logcat, dmesg, bare\n$/);
  });

  it('a file may mix formats line by line (a pasted trace inside a syslog file)', () => {
    const text = [
      'Jan 29 10:40:00 db-1 kernel: e1000e: eth0 NIC Link is Up 1000 Mbps Full Duplex',
      ...encodings().find((e) => e.name === 'bare')!.text.trimEnd().split('\n'),
      'Jan 29 10:42:00 db-1 kernel: e1000e: eth0 NIC Link is Down',
    ].join('\n');
    const [a] = scanText(text);
    assert.equal(a.report.task, 'java');
    assert.equal(a.report.frames.length, 15);
  });

  it('grep --color=always output: painted lines are read, in the parallel file scan and from stdin', () => {
    // As `grep --color=always -e kernel -e 'blocked for more' messages` paints the seed report: the
    // program name of every line, and the header's ' for more than ' is split (its 'INFO: task '
    // still opens it; a line painted so that neither is left whole is not found, see the README).
    const paint = (s: string): string => `\x1b[01;31m\x1b[K${s}\x1b[m\x1b[K`;
    const report = encodings()[0].text.trimEnd().split('\n')
      .map((l) => l.replace('kernel', paint('kernel')).replace('blocked for more', paint('blocked for more')));
    assert.ok(!report[0].includes(' for more than ') && report.every((l) => l.includes('\x1b[K')));
    let filler = '';
    generate(1 << 20, (s) => { filler += s; }, { seed: 5 });
    const lines = filler.trimEnd().split('\n').filter((l) => !l.includes(' for more than '));
    const text = [...lines.slice(0, 3000), ...report, ...lines.slice(3000)].join('\n') + '\n';
    const file = path.join(tmpdir(), 'painted.log');
    fs.writeFileSync(file, text);
    const env = { KLOGSCAN_THREADS: '2', KLOGSCAN_PARALLEL_MIN: '1024' };
    for (const r of [cli(['--json', '--no-db', '--year', '2019', file], { env }), cli(['--json', '--no-db', '--year', '2019'], { input: text })]) {
      assert.equal(r.status, 0, r.stderr);
      const java = r.json.filter((o) => o.type === 'report' && o.task === 'java');
      assert.equal(java.length, 1);
      assert.equal((java[0].frames as unknown[]).length, 15);
      assert.equal(java[0].host, HOST);
      assert.equal((java[0].matches as { rule: string }[])[0].rule, 'rhel7-rwsem-missed-wakeup');
    }
  });

  it("log shippers' JSON records: the program decides what is kernel text, and a syslog line inside takes the record's year", () => {
    const sshd = decodeLine(JSON.stringify({ hostname: 'h', programname: 'sshd', msg: 'INFO: task java:1 blocked for more than 120 seconds.' }), ctx)!;
    assert.equal(sshd.kernel, false);
    const k = decodeLine(JSON.stringify({ host: { name: 'h' }, process: { name: 'kernel' }, message: 'Call Trace:' }), ctx)!;
    assert.deepEqual([k.kernel, k.host, k.text], [true, 'h', 'Call Trace:']);
    const loki = decodeLine(JSON.stringify({ line: 'Jan 29 10:41:07 db-1 kernel: [ 12.5] Call Trace:', timestamp: '2019-01-29T10:41:07Z' }), ctx)!;
    assert.deepEqual([loki.host, loki.time, loki.uptime, loki.text, loki.yearGuessed], ['db-1', TIME_MS, 12.5, 'Call Trace:', false]);
    const other = decodeLine(JSON.stringify({ line: 'Jan 29 10:41:07 db-1 sshd[1]: Accepted', timestamp: '2019-01-29T10:41:07Z' }), ctx)!;
    assert.equal(other.kernel, false);
    // Journal entries as Vector and Filebeat ship them: the transport decides, an empty program is none.
    const vector = decodeLine(JSON.stringify({ message: 'Call Trace:', host: 'h', _TRANSPORT: 'kernel', _SOURCE_MONOTONIC_TIMESTAMP: '12500000' }), ctx)!;
    assert.deepEqual([vector.kernel, vector.host, vector.uptime, vector.text], [true, 'h', 12.5, 'Call Trace:']);
    const filebeat = decodeLine(JSON.stringify({ message: 'Call Trace:', host: { hostname: 'h' }, process: { name: '' }, systemd: { transport: 'kernel' } }), ctx)!;
    assert.deepEqual([filebeat.kernel, filebeat.host], [true, 'h']);
    assert.equal(decodeLine(JSON.stringify({ message: 'x', _TRANSPORT: 'stdout', SYSLOG_IDENTIFIER: 'kernel' }), ctx)!.kernel, false);
    // Logstash's syslog input: the host is `logsource`, not the sender's address.
    assert.equal(decodeLine(JSON.stringify({ message: '[ 1.5] Call Trace:\n', logsource: 'h', host: '10.0.0.5', program: 'kernel' }), ctx)!.host, 'h');
    // A JSON document with none of the text fields carries no message.
    assert.equal(decodeLine(JSON.stringify({ type: 'summary', reports: 3 }), ctx), null);
  });

  it('a line number, or forum markup, glued before a syslog line (bug tracker mail, vBulletin BBCode)', () => {
    const n = decodeLine('1 Mar 23 22:19:15 hostname kernel: Call Trace:', ctx)!;
    assert.deepEqual([n.format, n.host, n.text], ['syslog', 'hostname', 'Call Trace:']);
    const b = decodeLine('[FONT=Courier New][SIZE=1]Jan 15 16:51:33 kong kernel: [31801.180014] INFO: task kjournald:698 blocked', ctx)!;
    assert.deepEqual([b.format, b.host, b.uptime], ['syslog', 'kong', 31801.180014]);
    // A syslog line cut to its clock.
    const c = decodeLine('23:05:11 localhost.localdomain kernel: qemu-system-aar D    0  8361  30794 0x00000200', ctx)!;
    assert.deepEqual([c.host, c.text], ['localhost.localdomain', 'qemu-system-aar D    0  8361  30794 0x00000200']);
    // Text that merely starts with a number stays text.
    assert.deepEqual([decodeLine('3 locks held by kworker/0:1/12:', ctx)!.format, decodeLine('3 locks held by kworker/0:1/12:', ctx)!.text],
      ['bare', '3 locks held by kworker/0:1/12:']);
    assert.equal(decodeLine('262144 pages RAM', ctx)!.text, '262144 pages RAM');
  });

  it('reads the same reports through real tools\' outputs: rsyslog RFC 5424 and JSON templates, syslog-ng JSON, dmesg --json 2.38, journalctl json-pretty and export with a binary MESSAGE (helper-59)', () => {
    const whole = [['kworker/u52:2', 18], ['java', 15], ['jbd2/dm-20-8', 21]];
    for (const [f, binary] of [['rsyslog-printk-SyslogProtocol23Format', true], ['syslog-ng-json', true], ['rsyslog-json-list', true],
      ['rsyslog-jsonmesg', true], ['dmesg-json', true], ['journal-export', true], ['journal-json-pretty', false]] as const) {
      const got = scanText(sample(`formats/tool-${f}.log`)).map((a) => [a.report.task, a.report.frames.length]).filter(([t]) => t !== 'fake');
      // The report of the task whose name is not UTF-8: json-pretty gives its header as bytes, which ends the report before it.
      assert.deepEqual(got, binary ? [...whole, [got[3]?.[0], 5]] : whole, f);
      if (binary) assert.match(String(got[3][0]), /^caf/, f);
    }
    // Newest first: each trace comes before its header; no report takes an older report's trace.
    const reversed = scanText(sample('formats/tool-journal-short-reverse.log'));
    assert.deepEqual(reversed.map((a) => [a.report.task, a.report.frames.length, a.matches.length]),
      [['jbd2/dm-20-8', 0, 0], ['java', 0, 0], ['kworker/u52:2', 0, 0]]);
  });

  it('journalctl -o short-full in another zone: an abbreviation that names one offset gives the instant, an ambiguous one local time (helper-59)', () => {
    const t = (zone: string): [number | null, boolean | undefined] => {
      const k = decodeLine(`Thu 2026-01-29 03:54:45 ${zone} app-prod-17 kernel: Call Trace:`, ctx)!;
      return [k.time, k.localTime];
    };
    const instant = Date.UTC(2026, 0, 29, 3, 54, 45);
    assert.deepEqual(t('UTC'), [instant, undefined]);
    assert.deepEqual(t('EST'), [instant + 5 * 3600000, undefined]);
    assert.deepEqual(t('AEDT'), [instant - 11 * 3600000, undefined]);
    assert.deepEqual(t('+0530'), [instant - 5.5 * 3600000, undefined]);
    assert.deepEqual(t('-03'), [instant + 3 * 3600000, undefined]);
    // India, Israel or Ireland: read in the zone klogscan runs in, and said to be so.
    assert.equal(t('IST')[1], true);
    // short-unix gives the same millisecond as json and short-precise: cut, not rounded.
    assert.equal(decodeLine('1769676885.870574 app-prod-17 kernel: Call Trace:', ctx)!.time, 1769676885870);
  });

  it('a test harness\'s clock or `cat -n` numbers before a report\'s own lines, with no envelope (stress/106)', () => {
    const reports = scanText(sample('stress/106-6.4-fstests-console-seconds-prefix-xfs-dio.log'));
    assert.deepEqual(reports.map((a) => [a.report.task, a.report.kernel, a.report.frames.length, a.identity.culprit.fn]),
      [['kworker/0:55', '6.4.0-rc2-dirty', 18, 'xfs_ilock'], ['kworker/0:129', '6.4.0-rc2-dirty', 42, 'xfs_buf_lock']]);
    const numberedLines = sample('seed/centos7-java-rwsem.messages').split('\n').map((l) => l.replace(/^.*?kernel: /, ''))
      .map((l, i) => `${String(i + 1).padStart(6)}\t${l}`).join('\n');
    const [a] = scanText(numberedLines);
    assert.deepEqual([a.report.task, a.report.frames.length], ['java', 15]);
    // Frames of modules with a build id (`[jbd2 0b3c...]`) too (helper-61).
    const buildIds = sample('eras/5.19-task-line-padded-pid-buildid-modules.log').trimEnd().split('\n');
    const plain = scanText(buildIds.map((l) => l.replace(/^\[\s*\d+\.\d+\] ?/, '')).join('\n'))[0];
    const numbered = scanText(buildIds.map((l, i) => `${String(i + 1).padStart(6)}\t${l.replace(/^\[\s*\d+\.\d+\] ?/, '')}`).join('\n'))[0];
    assert.ok(plain.report.frames.length > 10);
    assert.deepEqual(numbered.report.frames.map((f) => f.fn), plain.report.frames.map((f) => f.fn));
  });

  it('Android vendor tags after the time, serial-capture stamps before it, ChromeOS severities and metalog tags', () => {
    const d = (l: string): [string | null, number | null, string | null, string] => {
      const k = decodeLine(l, ctx)!;
      return [k.host, k.uptime, k.caller, k.text];
    };
    // MediaTek (CPU and the printing task), HiSilicon and Huawei (pid, CPU, comm; seconds with a unit), LG (CPU).
    assert.deepEqual(d('<4>[    0.101058] -(2)[0:swapper/2][<ffffff8008089b80>] dump_backtrace+0x0/0x218'),
      [null, 0.101058, 'T0', '[<ffffff8008089b80>] dump_backtrace+0x0/0x218']);
    assert.deepEqual(d('[    5.096715] <6>-(6)[1:init] dump_backtrace+0x0/0x158'), [null, 5.096715, 'T1', 'dump_backtrace+0x0/0x158']);
    assert.deepEqual(d('<4>[63651.040069s][pid:2912,cpu3,sh][<ffffffc000088e5c>] dump_backtrace+0x0/0x124'),
      [null, 63651.040069, 'T2912', '[<ffffffc000088e5c>] dump_backtrace+0x0/0x124']);
    assert.deepEqual(d('[ 66.575469s] [pid:5118,cpu4,QThread,9] dump_backtrace+0x0/0x1c0'), [null, 66.575469, 'T5118', 'dump_backtrace+0x0/0x1c0']);
    assert.deepEqual(d('[   57.068765 / 10-26 15:03:55.524][1] Call trace:'), [null, 57.068765, null, 'Call trace:']);
    // Capture tools' stamps before the kernel's time are dropped.
    for (const stamp of ['[2021/6/17 11:13:45] ', '[136.506000 0.001200] ', '[2023/06/16-12:08:14:405] ', '[2018-06-25 15:44:05,105] [mortar.router] [DEBUG] ', '[guest] ']) {
      assert.deepEqual(d(`${stamp}[   80.481981]  __schedule+0x5d8/0x8c8`), [null, 80.481981, null, ' __schedule+0x5d8/0x8c8'], stamp);
    }
    assert.equal(decodeLine('[drm] Initialized i915 1.6.0', ctx)!.text, '[drm] Initialized i915 1.6.0');
    // A logger's stamp that is a full date stays the line's time.
    const logged = decodeLine('[2019-01-29 10:41:07] [ 6141.921740] INFO: task java:181134 blocked for more than 120 seconds.', ctx)!;
    assert.deepEqual([logged.time, logged.uptime], [new Date(2019, 0, 29, 10, 41, 7).getTime(), 6141.92174]);
    assert.deepEqual(d('2021-04-24T18:03:53.804311Z INFO kernel: [  516.876907] kworker/u16:6   D    0   146      2 0x80004000'),
      [null, 516.876907, null, 'kworker/u16:6   D    0   146      2 0x80004000']);
    assert.deepEqual(d('Aug 23 18:52:29 [kernel] [   80.481931]       Not tainted 4.19.193 #1'), [null, 80.481931, null, '      Not tainted 4.19.193 #1']);
  });

  it('review cases: no line recurses without end, and nothing a program prints passes for the kernel', () => {
    // A run of severity words is read once, not once per word (20 KB of `ERR ` overflowed the stack).
    const many = decodeLine(`Jan 29 10:41:07 ${'ERR '.repeat(5000)}kernel: x`, ctx)!;
    assert.equal(many.host, 'ERR');
    // An epoch stamp before a bare header (`ts %.s`): no program is read from `INFO:`.
    assert.equal(scanText('1548758467.123456 INFO: task java:181134 blocked for more than 120 seconds.').length, 1);
    // A bracketed host before a tag is a host, not metalog's program.
    const bracketed = decodeLine('Jan 29 10:41:07 [host-1] kernel: Call Trace:', ctx)!;
    assert.deepEqual([bracketed.host, bracketed.kernel, bracketed.text], ['[host-1]', true, 'Call Trace:']);
    // A container's own output, and an app's logcat line, are no kernel text.
    for (const l of ['2024-01-29T10:41:07.1Z stdout F INFO: task postgres:4242 blocked for more than 120 seconds.',
      JSON.stringify({ log: 'INFO: task postgres:4242 blocked for more than 120 seconds.\n', stream: 'stdout' }),
      '06-15 04:48:22.666  1234  1250 E MyApp   : INFO: task evil:1 blocked for more than 120 seconds.',
      'E/MyApp   ( 1234): INFO: task evil:1 blocked for more than 120 seconds.']) {
      assert.equal(decodeLine(l, ctx)!.kernel, false, l);
    }
    // ... unless its line says it is (a pod running dmesg -w), or a label or facility does.
    assert.equal(decodeLine('2024-01-29T10:41:07.1Z stdout F [ 12.5] Call Trace:', ctx)!.kernel, true);
    assert.equal(decodeLine('2024-01-29T10:41:07Z {transport="kernel", host="db-1"} Call Trace:', ctx)!.host, 'db-1');
    assert.equal(decodeLine(JSON.stringify({ host: 'h', short_message: 'Call Trace:', _facility: 'kern' }), ctx)!.kernel, true);
  });

  it("crash's log -m: the level in hexadecimal after the time", () => {
    const k = decodeLine('[ 6141.921740] <3>INFO: task java:181134 blocked for more than 120 seconds.', ctx)!;
    assert.equal(k.format, 'dmesg');
    assert.equal(k.level, 3);
    assert.equal(k.uptime, 6141.92174);
    assert.equal(k.text, 'INFO: task java:181134 blocked for more than 120 seconds.');
    assert.equal(decodeLine('[ 6141.922440] <c> [<ffffffff816a94c9>] schedule+0x29/0x70', ctx)!.text, ' [<ffffffff816a94c9>] schedule+0x29/0x70');
  });

  it('a colour sequence is removed, other control sequences stay (escaped on output)', () => {
    const k = decodeLine('\x1b[32m[ 6141.921740] \x1b[0m\x1b[33mINFO: \x1b[0m\x1b[31mtask ja\x1b[2Jva:181134 blocked\x1b[0m', ctx)!;
    assert.equal(k.format, 'dmesg');
    assert.equal(k.uptime, 6141.92174);
    assert.equal(k.text, 'INFO: task ja\x1b[2Jva:181134 blocked');
  });

  it('journalctl -o verbose/export/json-pretty: the other fields and the entry lines are no kernel text, so they neither end nor join a report', () => {
    for (const l of ['    _HOSTNAME=app-prod-17', '__REALTIME_TIMESTAMP=1548758467000000', '_TRANSPORT=kernel',
      'Tue 2019-01-29 10:41:07.000100 UTC [s=54411c99274847d18024662e7debf3c0;i=2;b=0a1b;m=16e164e18;t=580966e44b724;x=29aa]']) {
      const k = decodeLine(l, ctx)!;
      assert.equal(k.format, 'journal-fields', l);
      assert.equal(k.kernel, false, l);
    }
    assert.equal(decodeLine('    MESSAGE= schedule+0x29/0x70', ctx)!.text, ' schedule+0x29/0x70');
    // json-pretty: the braces, other fields and the lines of a byte-array value are no text either;
    // a MESSAGE given as bytes is a message of its own, unread (it ends an open report, tool-journal-json-pretty).
    for (const l of ['}', '\t"_HOSTNAME" : "app-prod-17",', '\t\t106,', '\t],']) {
      assert.equal(decodeLine(l, ctx)!.kernel, false, l);
    }
    assert.equal(decodeLine('\t"MESSAGE" : [', ctx)!.kernel, true);
    assert.equal(decodeLine('\t"MESSAGE" : "\\"echo 0 > /proc/sys/kernel/hung_task_timeout_secs\\" disables this message.",', ctx)!.text,
      '"echo 0 > /proc/sys/kernel/hung_task_timeout_secs" disables this message.');
    // A bare line that merely starts with a capital word keeps being bare text.
    assert.equal(decodeLine('CPU: 3 PID: 181134 Comm: java Tainted: G', ctx)!.format, 'bare');
  });
});

describe('syslog dates read by position', () => {
  it('give the very record the date patterns give, on every sample line and on variants of the date', () => {
    const lines: string[] = [];
    const walk = (dir: string): void => {
      for (const e of fs.readdirSync(dir, { withFileTypes: true })) {
        const f = path.join(dir, e.name);
        if (e.isDirectory()) walk(f);
        else if (!e.name.endsWith('.gz')) lines.push(...fs.readFileSync(f, 'utf8').split('\n'));
      }
    };
    walk(path.join(ROOT, 'samples'));
    generate(1 << 20, (t) => { lines.push(...t.split('\n')); }, { seed: 5 });
    const base = 'Jan 29 10:41:07 app-prod-17 kernel: INFO: task java:181134 blocked for more than 120 seconds.';
    const variants = [
      base, base.replace('Jan 29', 'Jan  9'), base.replace('Jan 29', 'Jan 9'), base.replace('Jan 29', 'Dec 31'),
      base.replace('Jan', 'jan'), base.replace('Jan', 'JAN'), base.replace('Jan', 'Jun.'), base.replace('Jan', 'Dez'),
      base.replace('10:41:07 ', '10:41:07.123456 '), base.replace('10:41:07 ', '10:41:07  '), base.replace('10:41:07 ', '10:41:07\t'),
      base.replace('10:41:07 ', '10:41:07 \t'), base.replace('10:41:07 ', '10:41:07\u00a0'), base.replace('10:41:07', '1a:41:07'),
      base.replace('10:41:07', '10:4:07 '), base.replace('Jan 29', 'Jan 2x'), base.replace('Jan 29', 'Jan x9'), `<4>${base}`,
      'Jan 29 10:41:07 ', 'Jan 29 10:41:07  ', 'Jan 29 10:41:07 x', 'Jan 29 10:41:07 kernel: Call Trace:', 'Jan 29 10:41:07 host',
      base.replace('Jan 29', 'Feb 29'), base.replace('Jan 29', 'Jan 00'), base.replace('10:41:07', '29:61:99'),
    ];
    let fast = 0;
    for (const line of [...lines, ...variants]) {
      for (const c of [ctx, { ...ctx, yearGiven: true }]) {
        const a = syslog.decode(line, c);
        assert.deepEqual(a, decodeByPattern(line, c), line);
        if (a && /^[A-Z][a-z][a-z] [ \d]\d \d\d:/.test(line)) fast++;
      }
    }
    assert.ok(fast > 1000, `${fast} lines took the positional path`);
  });
});

describe('journalctl boot separators', () => {
  // `journalctl -o short-iso` over two boots (systemd 252, helper-79): the second boot's banner is
  // not in the capture, so only the separator says that the first boot's release is not its.
  const boot1 = '2025-03-10T08:00:00+0000 db-node-3 kernel: Linux version 5.14.0-130.el9.x86_64 (mockbuild@x86-vm-07.build.eng.bos.redhat.com) (gcc (GCC) 11.3.1 20220421 (Red Hat 11.3.1-2), GNU ld version 2.35.2-24.el9) #1 SMP PREEMPT_DYNAMIC Thu Jul 14 11:01:19 EDT 2022';
  const report = (day: string): string[] => [
    `2025-03-${day}T09:16:03+0000 db-node-3 kernel: INFO: task kworker/u52:2:671 blocked for more than 122 seconds.`,
    `2025-03-${day}T09:16:03+0000 db-node-3 kernel: task:kworker/u52:2   state:D stack:    0 pid:  671 ppid:     2 flags:0x00004000`,
    `2025-03-${day}T09:16:04+0000 db-node-3 kernel: Call Trace:`,
    `2025-03-${day}T09:16:04+0000 db-node-3 kernel:  __schedule+0x206/0x580`,
    `2025-03-${day}T09:16:04+0000 db-node-3 kernel:  schedule+0x43/0xa0`,
    `2025-03-${day}T09:16:04+0000 db-node-3 kernel:  __ib_drain_sq+0xf6/0x170 [ib_core]`,
  ];
  const kernels = (lines: string[]): unknown[] => scanText(lines.join('\n')).map((a) => [a.report.kernel, a.report.frames.length]);

  it('a report after `-- Boot ID --` or `-- Reboot --` does not take the release of the boot before it', () => {
    assert.deepEqual(kernels([boot1, ...report('11')]), [['5.14.0-130.el9.x86_64', 3]]);
    assert.deepEqual(kernels([boot1, '-- Boot 1f2e3d4c5b6a79880796a5b4c3d2e1f0 --', ...report('11')]), [[null, 3]]);
    assert.deepEqual(kernels([boot1, '-- Reboot --', ...report('11')]), [[null, 3]]);
  });

  it('a report open at a separator ends there: its boot ended', () => {
    const r = report('10');
    assert.deepEqual(kernels([boot1, ...r.slice(0, 4), '-- Reboot --', ...r.slice(4)]), [['5.14.0-130.el9.x86_64', 1]]);
  });
});

describe('extended netconsole records with the release first (netconsole=+r, 6.5+)', () => {
  it('are kmsg records whose release names the report\'s kernel when nothing else does', () => {
    const k = decodeLine('5.14.0-130.el9.x86_64,6,2003,863996997,-;task:kworker/u52:2   state:D stack:    0 pid:  671 ppid:     2 flags:0x00004000', { referenceTime: REFERENCE });
    assert.deepEqual([k?.format, k?.uptime, k?.release, k?.text.slice(0, 18)], ['kmsg', 863.996997, '5.14.0-130.el9.x86_64', 'task:kworker/u52:2']);
    // No Tainted line and no banner: the records' release is the kernel's.
    const lines = ['3,2000,863969340,-;INFO: task kworker/u52:2:671 blocked for more than 122 seconds.',
      '6,2003,863996997,-;task:kworker/u52:2   state:D stack:    0 pid:  671 ppid:     2 flags:0x00004000', '4,2005,864007300,-;Call Trace:',
      '4,2006,864007400,-; __schedule+0x206/0x580', '4,2007,864007500,-; schedule+0x43/0xa0', '4,2008,864007600,-; __ib_drain_sq+0xf6/0x170 [ib_core]'];
    const [plain] = scanText(lines.join('\n'));
    assert.deepEqual([plain.report.kernel, plain.report.kernelSource, plain.report.frames.length], [null, null, 3]);
    const [r] = scanText(lines.map((l) => `5.14.0-130.el9.x86_64,${l}`).join('\n'));
    assert.deepEqual([r.report.kernel, r.report.kernelSource, r.report.uptime, r.report.frames.length], ['5.14.0-130.el9.x86_64', 'record', 863.96934, 3]);
  });

  it('as a remote syslog stores them, date first and no host: the oops they carry is read (it was not at all)', () => {
    const got = scanText(sample('negative/oops-netconsole-ext-kmsg-records-via-syslog.log'));
    assert.deepEqual(got.map((a) => [a.report.kind, a.report.task, a.report.pid, a.report.kernel, a.report.tainted, a.report.uptime, a.report.caller]), [
      ['oops', 'server-nft', 3523, '6.7.0', 'G O', 194.879739, 'T3523'], ['panic', '', -1, '6.7.0', null, 194.88836, 'T3523']]);
    assert.equal(got[0].identity.signature, 'unable to handle page fault in tcp_recvmsg_locked');
    assert.equal(got[0].report.frames.length, 18);
  });
});
