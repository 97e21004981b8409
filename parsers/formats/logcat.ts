/**
 * Android's `logcat -b kernel` (and `adb logcat` with the kernel buffer among others), in its
 * one-line formats:
 *   threadtime `06-15 04:48:22.666     0     0 W         : dump_backtrace+0x0/0x178`
 *   epoch      `1623703702.666     0     0 W         : ...`
 *   year/uid   `2021-06-15 04:48:22.666000000 +0800  root     0     0 E         : ...`
 *   time       `06-15 04:48:22.666 W/        (    0): ...`
 *   brief      `W/        (    0): ...`
 * `-v long` puts the tag on a line of its own (`[ 06-15 04:48:22.666     0:    0 W/task ]`) and
 * the rest of a cut line on the next, so its task and `Call trace:` lines cannot be put back
 * together line by line: its entry lines carry no text, its message lines are read as they are.
 *
 * The log daemon cuts a kernel line at its first colon into a tag and a message when the part
 * before looks like a tag (`I task    : kworker/0:1 state:D ...`, `W Call trace:  `); the kernel's
 * text is put back together from both. The kernel's lines carry pid 0; an app's lines (with
 * `-b all` or `-b main,kernel`) are not kernel text. A date without a year is placed like a syslog date.
 */
import type { KernelLine } from '../record.js';
import { yearless } from './syslog.js';
import { kernelLine, type DecodeContext, type LineFormat } from './types.js';

const LEVEL = '[VDIWEFS]';
/** threadtime / epoch / year: the time, an optional uid, pid, tid, level, the tag padded to 8, `: `. */
const THREADTIME = new RegExp(String.raw`^(?:(\d\d)-(\d\d) (\d\d):(\d\d):(\d\d)\.(\d{3})|(\d{9,11})\.(\d{3})|(\d{4}-\d\d-\d\d) (\d\d:\d\d:\d\d)(?:\.(\d{3})\d*)?(?: ([+-]\d\d)(\d\d))?)(?: +\S+)?? +(\d+) +\d+ (${LEVEL}) (.{0,64}?) ?: ?(.*)$`);
/** time / brief: an optional time, then `L/tag(  pid): `. */
const BRIEF = new RegExp(String.raw`^(?:(\d\d)-(\d\d) (\d\d):(\d\d):(\d\d)\.(\d{3}) )?(${LEVEL})\/(.{0,64}?)\( *(\d+)\): ?(.*)$`);
/** `-v long`'s entry line. */
const LONG = new RegExp(String.raw`^\[ \d\d-\d\d \d\d:\d\d:\d\d\.\d{3} +\d+: *\d+ ${LEVEL}\/.{0,64} \]$`);

const LEVELS: Record<string, number> = { F: 0, S: 0, E: 3, W: 4, I: 6, D: 7, V: 7 };

/** The kernel's line from the daemon's tag and message. */
function rejoin(tag: string, msg: string): string {
  const t = tag.trim();
  if (t === '') return msg;
  // `task:NAME state:D ...` has no blank after its colon; other cut lines had one.
  return t === 'task' ? `task:${msg}` : msg.trim() === '' ? `${t}:` : `${t}: ${msg}`;
}

function monthDay(ctx: DecodeContext, g: string[], at: number): number {
  return yearless(ctx, Number(g[at]) - 1, Number(g[at + 1]), Number(g[at + 2]), Number(g[at + 3]), Number(g[at + 4]), Number(g[at + 5]));
}

export const logcat: LineFormat = {
  name: 'logcat',
  description: 'Android logcat output (threadtime, epoch, year, time, brief, long)',
  samples: [
    '06-15 04:48:22.666     0     0 E         : INFO: task kworker/0:1:42 blocked for more than 120 seconds.',
    '06-15 04:48:22.666     0     0 I task    : kworker/0:1 state:D stack:0 pid:42 ppid:2 flags:0x00000008',
    '1623703702.666     0     0 W         : dump_backtrace+0x0/0x178',
    '2021-06-15 04:48:22.666000000 +0800  root     0     0 W Call trace:  ',
    '06-15 04:48:22.666 W/        (    0): dump_backtrace+0x0/0x178',
    'W/        (    0): show_stack+0x14/0x20',
    '[ 06-15 04:48:22.666     0:    0 I/task     ]',
  ],
  decode(line, ctx): KernelLine | null {
    const c0 = line.charCodeAt(0);
    if (c0 === 91 /* [ */) return LONG.test(line) ? kernelLine('', 'logcat', { kernel: false }) : null;
    let m: RegExpExecArray | null;
    if (c0 >= 48 && c0 <= 57 && (m = THREADTIME.exec(line))) {
      const g = m as unknown as string[];
      // Groups: 1-6 month..ms, 7-8 epoch seconds and ms, 9-13 date, time, ms, zone; 14 pid, 15 level, 16 tag, 17 text.
      const time = g[1] !== undefined ? monthDay(ctx, g, 1)
        : g[7] !== undefined ? Number(g[7]) * 1000 + Number(g[8])
          : Date.parse(`${g[9]}T${g[10]}.${g[11] ?? '000'}${g[12] !== undefined ? `${g[12]}:${g[13]}` : ''}`);
      return kernelLine(rejoin(g[16], g[17]), 'logcat', {
        time: Number.isFinite(time) ? time : null, level: LEVELS[g[15]] ?? null, yearGuessed: g[1] !== undefined && !ctx.yearGiven,
        // The month-day form and a date without a zone are written in the device's local time.
        localTime: g[1] !== undefined || (g[9] !== undefined && g[12] === undefined),
        kernel: g[14] === '0',
      });
    }
    if ((m = BRIEF.exec(line))) {
      const g = m as unknown as string[];
      return kernelLine(rejoin(g[8], g[10]), 'logcat', {
        time: g[1] !== undefined ? monthDay(ctx, g, 1) : null, level: LEVELS[g[7]] ?? null, yearGuessed: g[1] !== undefined && !ctx.yearGiven,
        localTime: g[1] !== undefined,
        kernel: g[9] === '0',
      });
    }
    return null;
  },
};
