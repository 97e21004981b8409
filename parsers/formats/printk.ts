/**
 * The prefixes the kernel and dmesg(1) put in front of a message, which appear on their own
 * (dmesg, console captures) and inside other envelopes (syslog's `kernel: [ 12.345678] ...`):
 * `<3>` log level, `[ 1234.567890]` printk time, `[  T140]` / `[    C3]` caller id,
 * `dmesg -T` local times in any locale, `dmesg --time-format=iso`, `dmesg -x` facility:level,
 * `dmesg -d` deltas and `dmesg -e` relative times.
 *
 * `stripPrintk()` removes the ones present and reports what they said. It never fails: text
 * without prefixes comes back unchanged.
 */
import { compile } from '../patterns.js';

export interface PrintkPrefix {
  text: string;
  uptime: number | null;
  level: number | null;
  caller: string | null;
  time: number | null;
  /** True when at least one prefix was found. */
  found: boolean;
  /** `time` was written without a zone (read in this machine's). */
  localTime?: boolean;
}

const LEVELS: Record<string, number> = {
  emerg: 0, alert: 1, crit: 2, err: 3, warn: 4, warning: 4, notice: 5, info: 6, debug: 7,
};

// dmesg -x: `kern  :err   : ` (facility and level names padded to fixed widths).
const DMESG_X = compile(String.raw`
  ^ (?<facility> kern|user|mail|daemon|auth|syslog|lpr|news|uucp|cron|authpriv|ftp|local[0-7]|res\d+ ) \s* :
    (?<lvl> emerg|alert|crit|err|warn|warning|notice|info|debug ) \s* : \s?`);

// printk time, optionally with dmesg -d's delta: `[ 1234.567890]`, `[ 1234.567890 <    0.000123>]`.
// Some reporters cut the fraction off (`[  240.]`, samples/eras/mips-*.log).
// Android/Qualcomm kernels add the wall clock: `[   79.822894 / 05-03 18:11:50.340]` (stress/15).
// HiSilicon and Huawei kernels print seconds with a unit: `[63651.040069s]`.
const UPTIME = compile(String.raw`^ \[ \s* (?<secs> \d+ \. \d* ) s? (?: \s* < [^>]* > )? (?: \s / \s [\d\-:.\x20]+ )? \]`);

// Android vendors' tags after the time, naming the CPU and the printing task; the task is used as
// the caller id, so that lines of other CPUs printed in between stay apart:
//   MediaTek  `-(2)[0:swapper/2]`, ` (1)[1:swapper/0]` (maybe after a level: ` <6>-(6)[1:init]`)
//   HiSilicon `[pid:2912,cpu3,sh]`, Huawei ` [pid:5118,cpu4,QThread,7]`
//   LG        `[1]`, the CPU, glued to the time
// (The CPU's digits taken whole: giving some back to `[^\]]{0,64}` never finds the `]` nearer.)
const VENDOR = /^ ?(?:<(\d)>)?(?:[- ]\(\d{1,3}\)\[(\d+):[^\]]{0,64}\]|\[pid:(\d+),cpu(?=(\d+))\4[^\]]{0,64}\])/;
const CPU_TAG = /^\[\d{1,3}\]/;
// Android vendors' printk also names the printing task before each message (`khungtaskd: `,
// `vkhungtaskd: `), and MediaTek the source module of each line (`[name:hung_task&]`, `[name:core&]`):
// `[ 4320.666589] [   T56] khungtaskd: [name:core&]task:stressapptest   state:D ...`.
const KHUNGTASKD = /^v?khungtaskd: (?:\[name:[\w.-]{1,40}&\])?/;
const NAME_TAG = /^\[name:[\w.-]{1,40}&\]/;
const RT_CPU = /^\d{3}: /;

/**
 * The message without the vendor tags that may start it: MediaTek's CPU and task (` (1)[67:khungtaskd]`,
 * also in /dev/kmsg records), then khungtaskd's own name and MediaTek's module tag. `caller`: the
 * task of the CPU tag, as a caller id.
 */
export function stripVendorTags(input: string): { text: string; caller: string | null; level: number | null } {
  let text = input;
  let caller: string | null = null;
  let level: number | null = null;
  const v = VENDOR.exec(text);
  if (v) {
    if (v[1] !== undefined) level = Number(v[1]);
    caller = `T${v[2] ?? v[3]}`;
    text = text.slice(v[0].length);
  }
  return { text: stripTaskTags(text), caller, level };
}

/** The message without khungtaskd's name and MediaTek's module tag before it. */
function stripTaskTags(text: string): string {
  const c = text.charCodeAt(0);
  if (c === 107 /* k */ || c === 118 /* v */) {
    const k = KHUNGTASKD.exec(text);
    if (k) return text.slice(k[0].length);
  } else if (c === 91 /* [ */ && text.charCodeAt(1) === 110 /* n */) {
    const n = NAME_TAG.exec(text);
    if (n) return text.slice(n[0].length);
  }
  return text;
}

// Bracketed stamps of serial-console capture tools before the kernel's own time, dropped:
// `[2021/6/17 11:13:45] `, `[2023/06/16-12:08:14:405] `, grabserial's `[136.504800 0.001200] `,
// a test harness's `[2018-06-25 15:44:05,105] [mortar.router] [DEBUG] `, `[guest] `.
const CAPTURE_STAMPS = /^(?:\[[^[\]]{1,40}\] ?){1,3}(?=(?:<\d{1,3}>)?\[\s*\d+\.\d+s?\])/;

// printk caller id right after the time (CONFIG_PRINTK_CALLER): `[  T140]`, `[    C3]`.
const CALLER = compile(String.raw`^ \[ \s* (?<id> [TC] \d+ ) \]`);

// dmesg -T: `[Tue Jan 29 10:41:07 2019]` in the C locale, or any other locale's %a %b names
// (`[Di Jan 29 ...]`, `[mar. janv. 29 ...]`, `[火  1月 29 ...]`). Names are looked up below.
// Every name is a run of non-blanks followed by blanks, so a line of nothing but blanks is tried
// in one pass (overlapping blank-eating parts made it cubic: a 64 KiB line took hours).
// `dmesg -T -d` adds the delta before the bracket closes (`[Wed Jan  8 10:35:44 2025 <    0.000290>]`),
// and crash's `log -T` a zone before the year (`[Sat May 30 15:31:46 EDT 2026]`).
// Vietnamese names hold digits: the weekday `T2`..`T7` and the month `Thg 11` (`[T6 Thg 11 27 11:22:05 2026]`,
// helper-41 #2: each line was read as text, and a soft lockup's first line was not found).
const DMESG_T = compile(String.raw`
  ^ \[ \s* (?<names> (?: (?: [Tt]hg \s \d{1,2} | T[2-7] | [^\]\d\s]+ ) \s+ )* (?: \d{1,2} (?: 月 | 월 ) \s+ (?: [^\]\d\s]+ \s+ )* )? )
    (?<day> \d{1,2} ) \s+ (?<h> \d\d ) : (?<m> \d\d ) : (?<s> \d\d ) (?: \s (?<zone> [A-Z]{1,5} | [+-] \d{4} ) )?
    \s+ (?<year> \d{4} ) (?: \s* < [\s\d.,]* > )? \]`);

/**
 * Zone abbreviations that name one offset (minutes east of UTC) wherever they are printed. CST,
 * IST and BST name several zones: a time in them is read as local, like one with no zone.
 */
const ZONES: Readonly<Record<string, number>> = {
  UTC: 0, GMT: 0, Z: 0, UT: 0, WET: 0, WEST: 60, CET: 60, CEST: 120, MET: 60, MEST: 120, EET: 120, EEST: 180, MSK: 180,
  EST: -300, EDT: -240, CDT: -300, MST: -420, MDT: -360, PST: -480, PDT: -420, AKST: -540, AKDT: -480, HST: -600,
  NST: -210, NDT: -150, AST: -240, ADT: -180, JST: 540, KST: 540, HKT: 480, SGT: 480, PHT: 480, WIB: 420,
  AEST: 600, AEDT: 660, ACST: 570, ACDT: 630, AWST: 480, NZST: 720, NZDT: 780, SAST: 120, CAT: 120, EAT: 180, WAT: 60,
};

/**
 * The offset (minutes east of UTC) a printed zone names: an abbreviation of ZONES, or `+03`,
 * `-0530`, `+05:30`; null for one that names several zones or none (read as local time).
 */
export function zoneOffset(tz: string): number | null {
  const named = ZONES[tz.toUpperCase()];
  if (named !== undefined) return named;
  const m = /^([+-])(\d\d):?(\d\d)?$/.exec(tz);
  return m ? (m[1] === '-' ? -1 : 1) * (Number(m[2]) * 60 + Number(m[3] ?? 0)) : null;
}

// dmesg --time-format=iso: `2019-01-29T10:41:07,123456+00:00 ` (comma before the fraction).
const DMESG_ISO = compile(String.raw`
  ^ (?<y> \d{4} ) - (?<mo> \d\d ) - (?<d> \d\d ) T (?<h> \d\d ) : (?<mi> \d\d ) : (?<s> \d\d )
    , (?<frac> \d+ ) (?<tz> [+-] \d\d :? \d\d | Z ) \s`);

// Serial-console loggers (conserver, minicom, ipmitool sol logs): `[2019-01-29 10:41:07] msg`, local time.
const LOGGER = compile(String.raw`
  ^ \[ (?<y> \d{4} ) - (?<mo> \d\d ) - (?<d> \d\d ) [T\x20] (?<h> \d\d ) : (?<mi> \d\d ) : (?<s> \d\d ) (?: [.,] (?<frac> \d+ ) )? \]`);

// dmesg -e / --time-format=reltime: `[Jan29 10:41]`, `[  +0.000123]`, and --time-format=delta:
// `[<    0.000123>]`: no usable time, only dropped.
// The month is the locale's (`[Mär 6 18:08]`: %b%e, a blank only before a one-digit day, no
// seconds, so a capture tool's `[Jan 29 10:41:07]` is not taken), and so is the decimal mark
// (`[  +0,000008]`). Chinese, Japanese, Korean and Vietnamese months are numbers, which util-linux
// 2.38's `%b%d` glues to the day (`[11月27 11:24]`, `[ 3월05 14:54]`, `[Thg 1127 11:24]`): the
// first line of each minute, a report's first line as a rule, was not read (helper-41 #2).
// Estonian pads its names with blanks to five characters (`[nov  27 11:24]`).
const DMESG_REL = compile(String.raw`
  ^ \[ (?: [^\]\d\s]{2,6} (?: \d{2} \s \d\d:\d\d (?::\d\d)? | \x20 \d \s \d\d:\d\d )
    | \x20? \d{1,2} [月월] \d{2} \s \d\d:\d\d | [Tt]hg \x20 \d{3,4} \s \d\d:\d\d | [^\]\d\s]{3,4} \x20{1,2} \d{2} \s \d\d:\d\d
    | \s* \+ \d+ [.,] \d+ | < \s* \d+ [.,] \d+ > ) \]`);

/** Month names as strftime %b prints them in common locales, lower-cased, dots removed. */
const MONTHS: Record<string, number> = {};
for (const names of [
  'jan feb mar apr may jun jul aug sep oct nov dec', // en
  'jan feb mär apr mai jun jul aug sep okt nov dez', // de
  'janv févr mars avril mai juin juil août sept oct nov déc', // fr
  'ene feb mar abr may jun jul ago sep oct nov dic', // es
  'gen feb mar apr mag giu lug ago set ott nov dic', // it
  'jan fev mar abr mai jun jul ago set out nov dez', // pt
  'jan feb mrt apr mei jun jul aug sep okt nov dec', // nl
  'янв фев мар апр мая июн июл авг сен окт ноя дек', // ru (genitive, as glibc prints %b)
  'sty lut mar kwi maj cze lip sie wrz paź lis gru', // pl
  'led úno bře dub kvě čvn čvc srp zář říj lis pro', // cs
  'jan feb mar apr maj jun jul aug sep okt nov dec', // sv, da
  'jan feb mac apr mei jun jul ogos sep okt nov dis', // ms (Malay)
  'jan feb mar apr mei jun jul agu sep okt nov des', // id (Indonesian)
  'oca şub mar nis may haz tem ağu eyl eki kas ara', // tr
  'tammi helmi maalis huhti touko kesä heinä elo syys loka marras joulu', // fi
  'jan febr márc ápr máj jún júl aug szept okt nov dec', // hu
  'jan feb mar apr mai jun jul aug sep okt nov des', // nb
  'ian feb mar apr mai iun iul aug sep oct nov dec', // ro
  'січ лют бер кві тра чер лип сер вер жов лис гру', // uk
  // Scripts other than Latin and Cyrillic, and Baltic abbreviations ending in a dot, as glibc 2.36
  // prints them (localedef of each locale on a Debian 12 machine, helper-41 #1): journalctl and
  // `dmesg -T` under these LANGs print nothing else.
  'ιαν φεβ μαρ απρ μαΐ ιουν ιουλ αυγ σεπ οκτ νοε δεκ', // el
  'ינו פבר מרץ אפר מאי יונ יול אוג ספט אוק נוב דצמ', // he
  'يناير فبراير مارس أبريل مايو يونيو يوليو أغسطس سبتمبر أكتوبر نوفمبر ديسمبر', // ar
  'ม.ค ก.พ มี.ค เม.ย พ.ค มิ.ย ก.ค ส.ค ก.ย ต.ค พ.ย ธ.ค', // th
  'saus vas kov bal geg birž liep rugp rugs spal lapkr gruod', // lt
  'jaan veebr märts apr mai juuni juuli aug sept okt nov dets', // et
]) {
  names.split(' ').forEach((n, i) => {
    if (!(n in MONTHS)) MONTHS[n] = i;
  });
}
// A few full or alternative spellings that glibc uses for %b (glibc 2.36's Czech June and July).
Object.assign(MONTHS, { 'mär': 2, 'märz': 2, 'juni': 5, 'juli': 6, 'févr': 1, 'fév': 1, 'янв.': 0, 'мар.': 2, 'čen': 5, 'čec': 6 });

/**
 * Months written with their number: Chinese, Japanese and Korean `1月`/`1월`, Vietnamese `Thg 1`
 * (also taken in lower case, as some write it).
 */
const NUMBERED_MONTH = /(\d{1,2})\s*(?:月|월)|\b[Tt]hg\s(\d{1,2})\b/;

export function monthOf(names: string): number | null {
  const numbered = NUMBERED_MONTH.exec(names);
  if (numbered) {
    const n = Number(numbered[1] ?? numbered[2]);
    return n >= 1 && n <= 12 ? n - 1 : null;
  }
  // %a comes before %b, and some weekday abbreviations are month names elsewhere (French "mar.").
  for (const raw of names.trim().split(/\s+/).reverse()) {
    const t = raw.toLowerCase().replace(/[.,]$/, '');
    if (t in MONTHS) return MONTHS[t];
    const short = t.slice(0, 3);
    if (t.length > 3 && short in MONTHS && /^[a-z]/.test(short)) return MONTHS[short];
  }
  return null;
}

/** Parses a numeric zone `+08:00`, `-0500`, `Z` into minutes east of UTC. */
export function zoneMinutes(tz: string): number {
  if (tz === 'Z' || tz === 'z') return 0;
  const m = /^([+-])(\d\d):?(\d\d)$/.exec(tz);
  if (!m) return 0;
  const v = Number(m[2]) * 60 + Number(m[3]);
  return m[1] === '-' ? -v : v;
}

/** First three digits of a fraction of a second as milliseconds. */
export function fracMs(frac: string | undefined): number {
  if (!frac) return 0;
  return Number((frac + '00').slice(0, 3));
}

/**
 * The caller id after a time: glued to it as the console prints it (`[  994.93][   T26]`), or one
 * blank after it as util-linux dmesg 2.40+ prints the caller field of /dev/kmsg (`[  994.93] [   T26]`).
 */
function callerAfterTime(text: string): { id: string; rest: string } | null {
  const skip = text.charCodeAt(0) === 32 && text.charCodeAt(1) === 91 ? 1 : 0;
  if (text.charCodeAt(skip) !== 91) return null;
  const c = CALLER.exec(skip ? text.slice(1) : text);
  return c?.groups ? { id: c.groups.id, rest: text.slice(skip + c[0].length) } : null;
}

export function stripPrintk(input: string): PrintkPrefix {
  let text = input;
  let uptime: number | null = null;
  let level: number | null = null;
  let caller: string | null = null;
  let time: number | null = null;
  let localTime = false;
  let found = false;
  /** Takes a caller id that follows the time just read (see callerAfterTime()). */
  const takeCaller = (): boolean => {
    const c = callerAfterTime(text);
    if (c) {
      caller = c.id;
      text = c.rest;
    }
    return c !== null;
  };

  // dmesg -x comes first, then the level, then the time, then the caller id.
  if (text.length > 4 && text.charCodeAt(0) >= 97) {
    const m = DMESG_X.exec(text);
    if (m?.groups) {
      level = LEVELS[m.groups.lvl];
      text = text.slice(m[0].length);
      found = true;
    }
  }
  if (text.charCodeAt(0) === 60 /* < */) {
    const m = /^<(\d{1,3})>/.exec(text);
    if (m) {
      level = Number(m[1]) & 7;
      text = text.slice(m[0].length);
      found = true;
      // Intel's CI logs put a blank between the level and the time: `<3> [187.682308] INFO: ...`.
      if (text.charCodeAt(0) === 32 && text.charCodeAt(1) === 91 && UPTIME.test(text.slice(1))) text = text.slice(1);
    }
  }
  const c0 = text.charCodeAt(0);
  if (c0 === 91 /* [ */) {
    let m = UPTIME.exec(text);
    if (m?.groups) {
      uptime = Number(m.groups.secs);
      text = text.slice(m[0].length);
      found = true;
      if (!takeCaller()) {
        const cpu = text.charCodeAt(0) === 91 ? CPU_TAG.exec(text) : null;
        if (cpu && text.charCodeAt(cpu[0].length) === 32) text = text.slice(cpu[0].length);
      }
      const v = stripVendorTags(text);
      if (v.level !== null) level ??= v.level;
      if (v.caller !== null) caller ??= v.caller;
      text = v.text;
    } else if ((m = DMESG_T.exec(text))?.groups) {
      const g = m.groups;
      const mon = monthOf(g.names);
      if (mon !== null) {
        const zone = g.zone === undefined ? null : zoneOffset(g.zone);
        localTime = zone === null;
        time = zone === null
          ? new Date(Number(g.year), mon, Number(g.day), Number(g.h), Number(g.m), Number(g.s)).getTime()
          : Date.UTC(Number(g.year), mon, Number(g.day), Number(g.h), Number(g.m), Number(g.s)) - zone * 60000;
      }
      text = text.slice(m[0].length);
      found = true;
      takeCaller();
    } else if ((m = CALLER.exec(text))?.groups) {
      // The caller id without a time (printk.time=0): ` [   T37] INFO: task ...`.
      caller = m.groups.id;
      text = text.slice(m[0].length);
      found = true;
    } else if ((m = DMESG_REL.exec(text))) {
      text = text.slice(m[0].length);
      found = true;
      // dmesg --time-format reltime,ctime prints both; a caller id may follow either (`[  +0.000004] [   T91] ...`).
      if (text.charCodeAt(0) === 32 && text.charCodeAt(1) === 91) {
        const inner = stripPrintk(text.slice(1));
        if (inner.found) return { ...inner, level: inner.level ?? level };
      }
      takeCaller();
    } else if ((m = LOGGER.exec(text))?.groups) {
      const g = m.groups;
      time = new Date(+g.y, +g.mo - 1, +g.d, +g.h, +g.mi, +g.s, fracMs(g.frac)).getTime();
      localTime = true;
      text = text.slice(m[0].length);
      found = true;
      // The console line that follows still has its own printk prefixes.
      if (text.charCodeAt(0) === 32 && text.charCodeAt(1) === 91) {
        const inner = stripPrintk(text.slice(1));
        if (inner.found) return { ...inner, time, localTime: true, found: true };
      }
    } else if ((m = CAPTURE_STAMPS.exec(text))) {
      const inner = stripPrintk(text.slice(m[0].length));
      if (inner.found) return inner;
    }
  } else if (c0 >= 48 && c0 <= 57 && text.length > 26 && text.charCodeAt(10) === 84 /* T */) {
    const m = DMESG_ISO.exec(text);
    if (m?.groups) {
      const g = m.groups;
      time = Date.UTC(+g.y, +g.mo - 1, +g.d, +g.h, +g.mi, +g.s, fracMs(g.frac)) - zoneMinutes(g.tz) * 60000;
      text = text.slice(m[0].length - 1);
      found = true;
      takeCaller();
    }
  }
  // Exactly one separator belongs to the prefix; further spaces are the message's indentation.
  if (found && text.charCodeAt(0) === 32) text = text.slice(1);
  if (found) text = stripTaskTags(text);
  // PREEMPT_RT kernels of some vendors print the CPU before each message: `[195380.604772] 027: INFO: ...`.
  if (uptime !== null && text.charCodeAt(3) === 58 /* : */ && RT_CPU.test(text)) text = text.slice(5);
  // crash's `log -m` puts the level after the time, in hexadecimal: `[ 6141.921740] <3>INFO: ...`.
  if (found && level === null && text.charCodeAt(0) === 60) {
    const m = /^<([0-9a-f]{1,3})>/.exec(text);
    if (m) {
      level = parseInt(m[1], 16) & 7;
      text = text.slice(m[0].length);
    }
  }
  return localTime ? { text, uptime, level, caller, time, found, localTime } : { text, uptime, level, caller, time, found };
}
