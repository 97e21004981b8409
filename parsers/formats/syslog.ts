/**
 * syslog files as rsyslog, syslog-ng and `journalctl -o short*` write them:
 *   BSD / RFC 3164   `Jan 29 10:41:07 app-prod-17 kernel: msg`   (host optional, `.123456` optional)
 *   RFC 3339         `2019-01-29T10:41:07.123456+08:00 app-prod-17 kernel: msg` (also `+0800`, `Z`,
 *                    and journalctl short-iso's `2019-01-29T10:41:07+0000`)
 * with an optional `<PRI>` in front. The message of a `kernel` line may carry printk prefixes of
 * its own (`kernel: [ 6141.921740] INFO: ...`), which are decoded too. Lines of other programs
 * come back with `kernel: false`. RFC 5424 has a module of its own (rfc5424.ts).
 */
import { isReportText } from '../hung-task.js';
import { compile } from '../patterns.js';
import type { KernelLine } from '../record.js';
import { kmsg } from './kmsg.js';
import { fracMs, monthOf, stripPrintk, zoneMinutes } from './printk.js';
import { kernelLine, type DecodeContext, type LineFormat } from './types.js';

const MONTH_INDEX: Record<string, number> = {
  Jan: 0, Feb: 1, Mar: 2, Apr: 3, May: 4, Jun: 5, Jul: 6, Aug: 7, Sep: 8, Oct: 9, Nov: 10, Dec: 11,
};

// The month in English, or as strftime %b writes it in another locale (`Dez`, `janv.`, `июл`:
// journalctl and rsyslog under LANG=de_DE..., stress/57); unknown names are not syslog. Names
// may be Greek, Hebrew or Arabic (`Μαρ`, `מרץ`, `سبتمبر`), Thai's are dotted (`มี.ค.`), and
// Chinese, Japanese, Korean and Vietnamese ones are numbers (`1月`, `1월`, `Thg 1`; helper-41 #1:
// `journalctl -k` under such a LANG gave no kernel line at all). Estonian pads its names with
// blanks (`apr  `), hence up to three before the day.
const BSD = compile(String.raw`
  ^ (?: < \d{1,3} > )?
    (?<mon> \d{1,2} [月월] | [Tt]hg \x20 \d{1,2}
      | [A-Za-z\u00C0-\u024F\u0370-\u03FF\u0400-\u04FF\u0590-\u05FF\u0600-\u06FF]{3,6} \.?
      | [\u0E00-\u0E7F]{1,3} \. [\u0E00-\u0E7F]{1,3} \. )
    \s{1,3} (?<day> \d{1,2} ) \s
    (?<h> \d\d ) : (?<m> \d\d ) : (?<s> \d\d ) (?: \. (?<frac> \d+ ) )? \s+`);

// OpenWrt's logread: ctime(3) with the year after the time, `Thu Sep  1 19:26:56 2022 kern.warn kernel: ...`.
const CTIME = compile(String.raw`
  ^ (?: < \d{1,3} > )? (?: Mon | Tue | Wed | Thu | Fri | Sat | Sun ) \s
    (?<mon> Jan | Feb | Mar | Apr | May | Jun | Jul | Aug | Sep | Oct | Nov | Dec ) \s{1,2} (?<day> \d{1,2} ) \s
    (?<h> \d\d ) : (?<mi> \d\d ) : (?<s> \d\d ) \s (?<y> \d{4} ) \s+`);

const ISO = compile(String.raw`
  ^ (?: < \d{1,3} > )?
    (?<y> \d{4} ) - (?<mo> \d\d ) - (?<d> \d\d ) [T\x20] (?<h> \d\d ) : (?<mi> \d\d ) : (?<s> \d\d )
    (?: \. (?<frac> \d+ ) )? (?<tz> Z | [+-] \d\d :? \d\d )? \s+`);

/** Program tags that carry kernel messages. */
export const KERNEL_TAGS = new Set(['kernel', 'vmunix', 'kern', 'klogd']);

/**
 * Splits `[host] tag[pid]: message` after the timestamp. A first token ending in `:` is the tag
 * (no host in this file); otherwise the first token is the host and the second the tag.
 */
export function splitHostTag(rest: string): { host: string | null; tag: string; msg: string } | null {
  // Neither host nor program, a console line as the message: `Jun  4 01:46:52  [12810.275218][  T587] INFO: ...`.
  if (rest.charCodeAt(0) === 91 && PRINTK_START.test(rest)) return { host: null, tag: 'kernel', msg: rest };
  // OpenWrt's logread and BusyBox syslogd without a host name: `kern.err kernel: msg`.
  const lead = rest.charCodeAt(0) >= 97 ? FACILITY_LEVEL.exec(rest) : null;
  if (lead) {
    const tail = rest.slice(lead[0].length);
    const colon = tail.indexOf(':');
    if (colon > 0 && !tail.slice(0, colon).includes(' ')) return { host: null, tag: stripPid(tail.slice(0, colon)), msg: dropSep(tail.slice(colon + 1)) };
  }
  // metalog: the program in brackets and no host (`Aug 23 18:52:29 [kernel] [   80.481916] ...`);
  // a bracketed word followed by a tag is a host (`[host-1] kernel: ...`).
  const meta = rest.charCodeAt(0) === 91 ? METALOG.exec(rest) : null;
  if (meta && !TAG_NEXT.test(rest.slice(meta[0].length))) return { host: null, tag: stripPid(meta[1]), msg: rest.slice(meta[0].length) };
  const sp = rest.indexOf(' ');
  if (sp <= 0) return null;
  const first = rest.slice(0, sp);
  // ChromeOS writes the severity where the host would be (`...Z ERR kernel: [ 516.876901] ...`):
  // a severity word directly followed by a tag is no host.
  if (SEVERITY.has(first)) {
    const sp2 = rest.indexOf(' ', sp + 1);
    const tag = sp2 < 0 ? '' : rest.slice(sp + 1, sp2);
    if (tag.length > 1 && tag.endsWith(':')) return { host: null, tag: stripPid(tag.slice(0, -1)), msg: dropSep(rest.slice(sp2 + 1)) };
  }
  if (first.endsWith(':')) {
    return { host: null, tag: stripPid(first.slice(0, -1)), msg: dropSep(rest.slice(sp + 1)) };
  }
  let i = sp + 1;
  while (rest.charCodeAt(i) === 32) i++;
  // BusyBox syslogd and some templates put facility.level between the host and the tag.
  const fl = FACILITY_LEVEL.exec(rest.slice(i));
  if (fl) i += fl[0].length;
  const c = rest.charCodeAt(i);
  if (c >= 48 && c <= 57 && KMSG_START.test(rest.slice(i))) return { host: first, tag: 'kernel', msg: rest.slice(i) };
  const colon = rest.indexOf(':', i);
  const tagToken = colon < 0 ? '' : rest.slice(i, colon);
  if (tagToken.length === 0 || tagToken.includes(' ') || tagToken.startsWith('[')) {
    // `host message` without a tag: a forwarded console record (`10.20.22.1 [139221.2][  T817] INFO: ...`,
    // samples/eras/5.8-remote-syslog-*.log) is kernel text; anything else is not a program line.
    const msg = rest.slice(i);
    return { host: first, tag: PRINTK_START.test(msg) ? 'kernel' : '', msg };
  }
  return { host: first, tag: stripPid(tagToken), msg: dropSep(rest.slice(colon + 1)) };
}

const METALOG = /^\[([\w.\-/]{1,64})\] /;
const TAG_NEXT = /^[^\s:[\]]{1,64}: /;
const SEVERITY = new Set(['EMERG', 'ALERT', 'CRIT', 'ERR', 'ERROR', 'WARNING', 'WARN', 'NOTICE', 'INFO', 'DEBUG']);

const FACILITY_LEVEL = /^(?:kern|user|mail|daemon|auth|syslog|lpr|news|uucp|cron|authpriv|ftp|local[0-7])\.(?:emerg|alert|crit|err|warn|warning|notice|info|debug) +/;

/** A message that starts with a printk time or level: kernel text even without a `kernel:` tag. */
const PRINTK_START = /^(?:<\d{1,3}>)?\[\s*\d+\.\d*\]/;

/**
 * A message that is a whole /dev/kmsg record (`3,2903,86997972896,-;INFO: task init:1 ...`): what
 * a forwarder that reads /dev/kmsg and sends the records as they are leaves after the host.
 */
const KMSG_START = /^(?:\d{1,4}\.\d{1,4}[^,;\s]{0,100},)?\d{1,4},\d+,\d+,[^;]*;/;

function stripPid(tag: string): string {
  const b = tag.indexOf('[');
  return b > 0 ? tag.slice(0, b) : tag;
}

function dropSep(msg: string): string {
  return msg.charCodeAt(0) === 32 ? msg.slice(1) : msg;
}

/**
 * Places a month/day/time without a year at or before the reference time (+1 day of skew). With a
 * year given (--year): the input's first such date in that year, and each later one in that year
 * or the next, whichever puts it nearer the date before it, so that a log running from December
 * into January moves on (however far apart its decoded lines are), a December line a second out
 * of order after January's stays in December, and a board without a clock that logs January 1 at
 * boot in the middle of the year stays in the year.
 * The start of each local hour is remembered: building a local-time Date per line is slow.
 */
export function yearless(ctx: DecodeContext, mon: number, day: number, h: number, m: number, s: number, ms: number): number {
  let memo = hourMemo.get(ctx);
  if (!memo || memo.ref !== ctx.referenceTime) {
    memo = { ref: ctx.referenceTime, hours: new Map() };
    hourMemo.set(ctx, memo);
  }
  const given = ctx.givenYear;
  if (given) {
    const within = m * 60000 + s * 1000 + ms;
    let t = hourIn(memo.hours, given.first, mon, day, h) + within;
    if (given.latest !== null) {
      const next = hourIn(memo.hours, given.first + 1, mon, day, h) + within;
      if (Math.abs(next - given.latest) < Math.abs(t - given.latest)) t = next;
    }
    given.latest = t;
    return t;
  }
  const key = ((mon * 32 + day) * 24 + h) * 2;
  let hour = memo.hours.get(key);
  if (hour === undefined) {
    let year = new Date(ctx.referenceTime).getFullYear();
    // Feb 29 exists only in leap years: the latest one at or before the reference.
    const fits = (y: number): boolean => mon !== 1 || day !== 29 || new Date(y, 1, 29).getMonth() === 1;
    while (!fits(year)) year--;
    hour = new Date(year, mon, day, h).getTime();
    if (hour > ctx.referenceTime + 86400000) {
      year--;
      while (!fits(year)) year--;
      hour = new Date(year, mon, day, h).getTime();
    }
    memo.hours.set(key, hour);
  }
  return hour + m * 60000 + s * 1000 + ms;
}

/** The start of a local hour of a given year, remembered (odd keys: the even ones are yearless()'s own). */
function hourIn(hours: Map<number, number>, year: number, mon: number, day: number, h: number): number {
  const key = (((year * 12 + mon) * 32 + day) * 24 + h) * 2 + 1;
  let hour = hours.get(key);
  if (hour === undefined) {
    hour = new Date(year, mon, day, h).getTime();
    hours.set(key, hour);
  }
  return hour;
}

const hourMemo = new WeakMap<DecodeContext, { ref: number; hours: Map<number, number> }>();

/**
 * True when a BSD syslog line certainly holds no kernel message: no kernel-ish tag anywhere, no
 * printk prefix (` [`, ` <`) that a tag-less forwarded console line would start with, and no
 * forwarded /dev/kmsg record. Lines of other programs are most of /var/log/messages; they are
 * dismissed without decoding.
 */
export function surelyNotKernel(raw: string): boolean {
  return raw.length > 16 && raw.charCodeAt(3) === 32 && raw.charCodeAt(9) === 58 && raw.charCodeAt(12) === 58
    && !raw.includes('kern') && !raw.includes('vmunix') && !raw.includes('klogd')
    && !raw.includes(' [') && !raw.includes(' <') && !(raw.includes(';') && KMSG_AFTER_HOST.test(raw));
}

/**
 * A /dev/kmsg record as the message of a BSD syslog line (see KMSG_START), also with extended
 * netconsole's release before it and no host (a remote syslog's line of a netconsole packet).
 */
const KMSG_AFTER_HOST = /^.{15} +(?:\S+ +)?(?:[a-z0-9]+\.[a-z]+ +)?(?:\d{1,4}\.\d{1,4}[^,;\s]{0,100},)?\d{1,4},\d+,\d+,[^;]*;/;

/**
 * rsyslog writes a control character of a message as `#` and its three octal digits
 * ($EscapeControlCharactersOnReceive, on by default), so the kernel's tabs in RCU stall lines
 * arrive as `rcu: #0117-....: (2 GPs behind) ...` and `#011(t=60000 jiffies ...)`. The tab is put
 * back, so that what follows it reads as it does in any other log (helper-41 #3: the stalled CPUs
 * were lost). Only the tab: a `#012` stands for a line end inside one record, and no kernel text
 * writes `#011` itself (lockdep's `#3` class numbers have no leading zero).
 */
function unescapeRsyslogTab(msg: string): string {
  return msg.includes('#011') ? msg.replaceAll('#011', '\t') : msg;
}

/** Builds the KernelLine for a decoded `host tag: message` triple. */
export function programLine(
  format: string, host: string | null, tag: string, escaped: string, time: number | null,
): KernelLine {
  if (!KERNEL_TAGS.has(tag)) return kernelLine(escaped, format, { host, time, kernel: false });
  const msg = unescapeRsyslogTab(escaped);
  const c0 = msg.charCodeAt(0);
  if (c0 >= 48 && c0 <= 57 && KMSG_START.test(msg)) {
    const rec = kmsg.decode(msg, { referenceTime: 0 });
    if (rec) return { ...rec, format, host, time };
  }
  const p = stripPrintk(msg);
  return kernelLine(p.text, format, {
    host, time, uptime: p.uptime, level: p.level, caller: p.caller,
  });
}

export const syslog: LineFormat = {
  name: 'syslog',
  description: 'rsyslog/syslog-ng files and journalctl short, short-precise and short-iso output',
  samples: [
    'Jan 29 10:41:07 app-prod-17 kernel: INFO: task java:181134 blocked for more than 120 seconds.',
    'Jan  9 10:41:07 kernel: [ 6141.921740] INFO: task java:181134 blocked for more than 120 seconds.',
    'Jan 29 10:41:07.123456 app-prod-17 kernel:  schedule+0x29/0x70',
    '2019-01-29T10:41:07.123456+08:00 app-prod-17 kernel: Call Trace:',
    '2019-01-29T10:41:07+0000 app-prod-17 kernel: Call Trace:',
    '2021-03-16 11:30:24.753 kernel: INFO: task iw:467 blocked for more than 122 seconds.',
    '2025-01-16T17:24:58.384Z task:khugepaged state:D stack:0 pid:931 tgid:931 ppid:2 flags:0x00004002',
    'May 21 20:00:40 x 3,2903,86997972896,-;INFO: task init:1 blocked for more than 122 seconds.',
    'Aug 30 05:34:55 10.20.22.1 [139221.203949][  T817] INFO: task pppd:6009 blocked for more than 122 seconds.',
    'Sep 13 14:34:10 ccgx user.err kernel: [43500.179242] INFO: task vedirect-dbus:1339 blocked for more than 120 seconds.',
    '<4>Jan 29 10:41:07 app-prod-17 kernel: Call Trace:',
    'Jan 29 10:41:08 app-prod-17 sshd[4242]: Accepted publickey for deploy',
    'Thu Sep  1 19:26:56 2022 kern.warn kernel: [  450.352922] Call Trace:',
    'Nov  2 20:33:21 kern.err kernel: [  929.818710] usb 1-1: 1:0: usb_set_interface failed (-71)',
    'Dez 21 10:22:08 abreu kernel: INFO: task systemd-journal:386 blocked for more than 120 seconds.',
    'janv. 29 10:41:07 app-prod-17 kernel: Call Trace:',
    '1月 29 10:41:07 app-prod-17 kernel: Call Trace:',
    'Thg 1 29 10:41:07 app-prod-17 kernel: Call Trace:',
    'มี.ค. 10 10:41:07 app-prod-17 kernel: Call Trace:',
  ],
  decode(line, ctx) {
    return decodeFast(line, ctx) ?? decodeByPattern(line, ctx);
  },
};

/** Month of a three-letter English name, keyed by its three character codes. */
const MONTH_BY_CODE = new Map(Object.entries(MONTH_INDEX).map(([k, v]) => [(k.charCodeAt(0) << 16) | (k.charCodeAt(1) << 8) | k.charCodeAt(2), v]));

/** A digit's value, or NaN (which no comparison passes). */
function digitAt(line: string, i: number): number {
  const d = line.charCodeAt(i) - 48;
  return d >= 0 && d <= 9 ? d : NaN;
}

/** What `\s` matches besides the space: tab, line ends, and the Unicode spaces. */
function otherSpace(c: number): boolean {
  return (c >= 9 && c <= 13) || c === 0xa0 || c === 0x1680 || (c >= 0x2000 && c <= 0x200a) || c === 0x2028 || c === 0x2029
    || c === 0x202f || c === 0x205f || c === 0x3000 || c === 0xfeff;
}

/**
 * The common BSD date, `Jan 29 10:41:07 ` or `Jan  9 10:41:07 `, read by position: the pattern's
 * match objects and captures were most of the cost and the garbage of decoding (every line of an
 * open report is decoded). Anything else (a PRI, fractions, other months, other spacing) returns
 * null and takes the pattern; both give the same record (a test compares them).
 */
function decodeFast(line: string, ctx: DecodeContext): KernelLine | null {
  if (line.length < 17 || line.charCodeAt(3) !== 32 || line.charCodeAt(6) !== 32 || line.charCodeAt(9) !== 58
    || line.charCodeAt(12) !== 58 || line.charCodeAt(15) !== 32) return null;
  const mon = MONTH_BY_CODE.get((line.charCodeAt(0) << 16) | (line.charCodeAt(1) << 8) | line.charCodeAt(2));
  if (mon === undefined) return null;
  const d1 = line.charCodeAt(4) === 32 ? 0 : digitAt(line, 4);
  const day = d1 * 10 + digitAt(line, 5);
  const h = digitAt(line, 7) * 10 + digitAt(line, 8);
  const m = digitAt(line, 10) * 10 + digitAt(line, 11);
  const sec = digitAt(line, 13) * 10 + digitAt(line, 14);
  if (!(day >= 0 && h >= 0 && m >= 0 && sec >= 0)) return null;
  let i = 16;
  while (line.charCodeAt(i) === 32) i++;
  if (otherSpace(line.charCodeAt(i))) return null;
  const ht = splitHostTag(line.slice(i));
  if (!ht) return null;
  const kl = programLine('syslog', ht.host, ht.tag, ht.msg, yearless(ctx, mon, day, h, m, sec, 0));
  if (ctx.yearGiven !== true) kl.yearGuessed = true;
  kl.localTime = true;
  return kl;
}

/** A line that starts with a month written as a number (`1月 29`, `12월 29`), not a year. */
function numberedMonth(line: string): boolean {
  const c1 = line.charCodeAt(1);
  const c = c1 >= 48 && c1 <= 57 ? line.charCodeAt(2) : c1;
  return c === 0x6708 /* 月 */ || c === 0xc6d4 /* 월 */;
}

/** Every date form, by the patterns above. */
export function decodeByPattern(line: string, ctx: DecodeContext): KernelLine | null {
  {
    const c0 = line.charCodeAt(0);
    let m: RegExpExecArray | null;
    let time: number;
    /** A BSD date has no year: it is guessed from the reference time. */
    let guessed = false;
    let local = true;
    let iso = false;
    if ((c0 >= 48 && c0 <= 57) || c0 === 60) {
      m = ISO.exec(line);
      if (m?.groups) {
        iso = true;
        const g = m.groups;
        const ms = fracMs(g.frac);
        local = !g.tz;
        time = g.tz
          ? Date.UTC(+g.y, +g.mo - 1, +g.d, +g.h, +g.mi, +g.s, ms) - zoneMinutes(g.tz) * 60000
          : new Date(+g.y, +g.mo - 1, +g.d, +g.h, +g.mi, +g.s, ms).getTime();
      } else if (c0 !== 60 && !numberedMonth(line)) {
        return null;
      }
    } else {
      m = null;
    }
    if (!m && (c0 === 60 || (c0 >= 70 && c0 <= 87)) && (m = CTIME.exec(line))?.groups) {
      const g = m.groups;
      time = new Date(+g.y, MONTH_INDEX[g.mon], +g.day, +g.h, +g.mi, +g.s).getTime();
    }
    if (!m) {
      m = BSD.exec(line);
      if (!m?.groups) return null;
      const g = m.groups;
      const mon = MONTH_INDEX[g.mon] ?? monthOf(g.mon);
      if (mon === undefined || mon === null) return null;
      time = yearless(ctx, mon, +g.day, +g.h, +g.m, +g.s, fracMs(g.frac));
      guessed = ctx.yearGiven !== true;
    }
    const rest = line.slice(m[0].length);
    const ht = splitHostTag(rest);
    // Raw console text stamped with an ISO time and nothing else (no host, no program).
    if (iso && (!ht || !KERNEL_TAGS.has(ht.tag)) && isReportText(rest)) {
      const kl = programLine('syslog', null, 'kernel', rest, time!);
      if (local) kl.localTime = true;
      return kl;
    }
    if (!ht) return null;
    const kl = programLine('syslog', ht.host, ht.tag, ht.msg, time!);
    if (guessed) kl.yearGuessed = true;
    if (local) kl.localTime = true;
    return kl;
  }
}
