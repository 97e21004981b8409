/**
 * The line-format registry and per-line detection. Every line is decoded on its own (a file may
 * mix formats, e.g. a syslog file with a pasted trace), by trying the formats that can start with
 * the line's first character, most specific first, and falling back to `bare`. Detection depends
 * on the line alone, so the result is the same whichever lines were skipped before it.
 */
import type { KernelLine } from '../record.js';
import { bare, QUOTE } from './bare.js';
import { dmesg } from './dmesg.js';
import { journal } from './journal.js';
import { journalFields } from './journal-fields.js';
import { journalJson, setInnerDecoder } from './journal-json.js';
import { kmsg } from './kmsg.js';
import { logcat } from './logcat.js';
import { rfc5424 } from './rfc5424.js';
import { syslog } from './syslog.js';
import { withEnvelopeTime, type DecodeContext, type LineFormat } from './types.js';

export type { DecodeContext, LineFormat } from './types.js';

/** All formats, most specific first. `--format` takes these names. */
export const FORMATS: readonly LineFormat[] = [journalJson, kmsg, rfc5424, syslog, journal, journalFields, logcat, dmesg, bare];

export function formatByName(name: string): LineFormat | undefined {
  return FORMATS.find((f) => f.name === name);
}

// kmsg dictionary lines (` SUBSYSTEM=pci`) follow a record and carry no message.
const KMSG_DICT = /^ [A-Z][A-Z0-9_]*=/;

/**
 * Colour (SGR, `ESC [ ... m`) and erase-in-line (`ESC [ K`) sequences, which `dmesg --color=always`,
 * `SYSTEMD_COLORS=1 journalctl`, `grep --color=always` and `script` captures put around the time,
 * a subsystem prefix, a match or an error's text, splitting envelopes and headers. Other control
 * sequences are no colouring and stay, escaped on output like any control character.
 */
// eslint-disable-next-line no-control-regex -- ESC is what the pattern is for
const COLOUR = /\x1b\[[0-9;]*[mK]/g;
/** The length before a binary field's value in journal export format (values under 64 KiB). */
const EXPORT_LENGTH = /^[^\0][\s\S]\0{6}/;

// (Tried from the first tag of a run only, which is where a match starts: tried from each tag, a
// line of tags took n^2 steps.)
const HTML_END = /(?<!<br\s*\/?>|<\/(?:pre|code|p|div)>)(?:<br\s*\/?>|<\/(?:pre|code|p|div)>)+\s*$/i;
const HTML_ENTITY = /&(?:lt|gt|amp|quot|nbsp|#39|#x27);/g;
const ENTITIES: Record<string, string> = {
  '&lt;': '<', '&gt;': '>', '&amp;': '&', '&quot;': '"', '&nbsp;': ' ', '&#39;': "'", '&#x27;': "'",
};

/** Candidate formats by the line's first character. */
function candidates(c0: number): readonly LineFormat[] {
  if (c0 === 123 /* { */ || c0 === 0x1e) return [journalJson];
  if (c0 >= 48 && c0 <= 57) return [kmsg, logcat, syslog, journal, dmesg];
  if (c0 === 60 /* < */) return [rfc5424, syslog, dmesg];
  if (c0 === 91 /* [ */) return [journal, dmesg, logcat];
  if (c0 >= 65 && c0 <= 90) return [syslog, journal, journalFields, logcat];
  if (c0 === 95 /* _ */) return [journalFields];
  if (c0 === 100 /* d */) return [journalJson, dmesg, syslog];
  if (c0 >= 97 && c0 <= 122) return [dmesg, syslog];
  if (c0 >= 0xc0) return [syslog];
  return [];
}

/**
 * Decodes one line (without its line terminator). Returns null for lines that carry no kernel
 * message at all (kmsg dictionary lines, broken JSON records); lines of other programs come back
 * with `kernel: false`.
 */
export function decodeLine(raw: string, ctx: DecodeContext, forced?: LineFormat): KernelLine | null {
  // A binary-safe field of journalctl -o export: an 8-byte little-endian length before the value
  // (on the line after the field name), which is then read as the message.
  const value = raw.includes('\0') && EXPORT_LENGTH.test(raw) ? raw.slice(8) : raw;
  // NUL runs appear where a crash left preallocated blocks in a log file.
  let line = value.includes('\0') ? value.replace(/\0+/g, '') : value;
  // A console capture copied from a pager or `cat -v` shows its carriage returns as the text `^M`.
  if (line.charCodeAt(line.length - 1) === 77 && line.charCodeAt(line.length - 2) === 94) line = line.slice(0, -2);
  if (line.includes('\x1b')) line = line.replace(COLOUR, '');
  // A paste taken from a web page or a mail's HTML part: entities, and `<br>` or `</pre>` at the end.
  if (line.charCodeAt(line.length - 1) === 62 /* > */) line = line.replace(HTML_END, '');
  if (line.charCodeAt(0) !== 123 /* { */ && line.includes('&')) line = line.replace(HTML_ENTITY, (e) => ENTITIES[e] ?? e);
  // A raw mail sent quoted-printable: the no-break spaces of its indentation are `=C2=A0`.
  if (line.includes('=C2=A0')) line = line.replaceAll('=C2=A0', ' ');
  // A byte order mark starts a file saved by some editors, and the line of every file concatenated after it.
  if (line.charCodeAt(0) === 0xfeff) line = line.slice(1);
  if (forced) return forced.decode(line, ctx);
  const c0 = line.charCodeAt(0);
  if (c0 >= 48 && c0 <= 57) {
    const k = collectedLine(line, ctx);
    if (k) return k;
  }
  if (c0 === 32 || c0 === 9 || c0 === 125 /* } */) {
    if (c0 === 32 && KMSG_DICT.test(line)) return null;
    const k = journalFields.decode(line, ctx);
    if (k) return k;
  }
  if (c0 >= 65 && c0 <= 90 && line.includes(';')) {
    const k = relayedRecord(line, ctx);
    if (k) return k;
  }
  for (const f of candidates(c0)) {
    const k = f.decode(line, ctx);
    if (k) return k;
  }
  if (c0 === 32 || c0 === 9) {
    // A paste indented as a block (Markdown, e-mail): the envelope may follow the indentation.
    const t = line.trimStart();
    for (const f of candidates(t.charCodeAt(0))) {
      const k = f.decode(t, ctx);
      if (k && k.format !== 'dmesg') return k;
    }
  }
  if (c0 === 123 || c0 === 0x1e) return null;
  return grepped(line, ctx) ?? numbered(line, ctx) ?? forumMarkup(line, ctx) ?? quoted(line, ctx) ?? bare.decode(line, ctx);
}

/** `rest` decoded by a format with an envelope (not bare text, which takes anything), or null. */
function enveloped(rest: string, ctx: DecodeContext): KernelLine | null {
  for (const f of candidates(rest.charCodeAt(0))) {
    if (f === journalJson) continue;
    const k = f.decode(rest, ctx);
    if (k) return k;
  }
  return null;
}

/** Whether a quoted line is being decoded: a quote inside it is text (no recursion per `> `). */
let inQuote = false;

/**
 * A whole log line quoted in a mail reply (`> Mar 16 11:30:24 host kernel: ...`) is decoded as that
 * line, another program's line included; it stays a pasted line, so that the reply's own text
 * between its quoted lines is told apart.
 */
function quoted(line: string, ctx: DecodeContext): KernelLine | null {
  if (inQuote) return null;
  const m = QUOTE.exec(line);
  if (!m) return null;
  inQuote = true;
  try {
    const k = decodeLine(line.slice(m[0].length), ctx);
    return k ? { ...k, format: 'bare' } : null;
  } finally {
    inQuote = false;
  }
}

/** A line number that an editor, a pager or a bug tracker's mail put in front (`1 Mar 23 22:19:15 host kernel: ...`). */
const LINE_NUMBER = /^\s*\d{1,7}(?:[:|]\s*|\s+)/;

/**
 * A line of a report, as it starts once a number in front is taken off: a frame (indented or not,
 * `? `-marked), a stack section marker, a header, a task line, the release or workqueue line, the
 * raw stack words of old kernels, register and Code lines.
 */
const REPORT_LINE = new RegExp([
  String.raw`^(?:\? )?[\w.$]{1,200}\+0x[0-9a-f]+\/0x[0-9a-f]+(?: \[[\w-]+(?: [0-9a-f]{8,64})?\])?\s*$`,
  String.raw`^<\/?(?:TASK|IRQ|NMI|EOI|SOFTIRQ)>`,
  String.raw`^\[<[0-9a-f]{8,16}>\] `,
  String.raw`^(?:INFO: task \S|Call Trace:|Call trace:|task:\S|Not tainted \d|Tainted: |"echo 0 > |Workqueue: \S|CPU: \d+ PID: \d+ |Hardware name: )`,
  String.raw`^\S{1,64} +D +[0-9a-f]+ +\d+ +\d+ +\d+`,
  String.raw`^(?:[0-9a-f]{8}|[0-9a-f]{16})(?: (?:[0-9a-f]{8}|[0-9a-f]{16})){1,7}\s*$`,
  String.raw`^(?:RIP|RSP|RAX|RDX|RBP|R10|R13|FS|CS|CR2|Code|Stack|Modules linked in): `,
].join('|'));

/**
 * A line number that an editor or a pager put in front, or a test harness's clock in seconds
 * (`03384 INFO: task ...`, `03384  __schedule+0x274/0x740` in an fstests console log): in front of
 * an envelope, or of a report's own line without one.
 */
function numbered(line: string, ctx: DecodeContext): KernelLine | null {
  const m = LINE_NUMBER.exec(line);
  if (!m) return null;
  const rest = line.slice(m[0].length);
  return enveloped(rest, ctx) ?? (REPORT_LINE.test(rest) ? bare.decode(rest, ctx) : null);
}

/** Forum markup glued to a pasted line: `[FONT=Courier New][SIZE=1]Jan 15 16:51:33 kong kernel: ...`, `[code]...`. */
const BBCODE = /^(?:\[\/?(?:code|quote|font|size|color|colour|b|i|u|s|pre|tt|php|html|spoiler|noparse|indent|highlight|left|center)(?:=[^\]]{0,64})?\])+/i;

function forumMarkup(line: string, ctx: DecodeContext): KernelLine | null {
  if (line.charCodeAt(0) !== 91 /* [ */) return null;
  const m = BBCODE.exec(line);
  if (!m) return null;
  const rest = line.slice(m[0].length);
  return enveloped(rest, ctx) ?? bare.decode(rest, ctx);
}

/**
 * A collector's line around a whole log line: a container runtime's (CRI, /var/log/pods:
 * `2019-01-29T10:41:07.123456789Z stdout F `), Loki's logcli default output (the entry's time,
 * its labels, then the line: `2019-01-29T10:41:07Z {host="db-1", job="varlogs"} `), or `aws logs
 * tail` (below).
 */
const COLLECTOR = /^(\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(?:\.\d{1,9})?(?:Z|[+-]\d\d:\d\d)) (?:std(?:out|err) [FP]|\{([^{}]{0,1024})\}) /;
/**
 * `aws logs tail`: the event's time and log stream (the instance id, by the agent's default), then
 * the line the CloudWatch agent read, which must have a syslog date, a printk time or a level.
 */
const CLOUDWATCH = /^(\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{6}\+00:00) ()(\S+) (?=[A-Z][a-z]{2} [ \d]\d \d\d:|\[\s*\d+\.\d+\] |<\d{1,3}>)/;
const KERNEL_LABEL = /(?:^|[,\s])(?:transport|syslog_identifier|unit|job)="kernel"/;
const LABEL_HOST = /(?:^|[,\s])(?:host|hostname|instance|node_name|nodename)="([^"]+)"/;

/**
 * A line that a collector logged for something that reads the kernel's log (a pod running
 * `dmesg -w` or `journalctl -kf`, promtail shipping /var/log/messages): after the collector's
 * prefix, the line as it was read, decoded on its own; the collector's time stands in for a
 * missing one, or for a year that a syslog date lacks, and a host label for a missing host.
 */
function collectedLine(line: string, ctx: DecodeContext): KernelLine | null {
  if (line.charCodeAt(4) !== 45 /* - */ || line.length < 24) return null;
  const m = COLLECTOR.exec(line) ?? CLOUDWATCH.exec(line);
  if (!m) return null;
  const rest = line.slice(m[0].length);
  const k = rest.charCodeAt(0) >= 48 && rest.charCodeAt(0) <= 57 && COLLECTOR.test(rest) ? bare.decode(rest, ctx) : decodeLine(rest, ctx);
  if (!k) return null;
  // A container's output is kernel text only when its line says so (a dmesg, syslog or kmsg
  // line), or a label does: any program can print `INFO: task ...`.
  if (k.format === 'bare' && !(m[2] !== undefined && KERNEL_LABEL.test(m[2]))) return { ...k, kernel: false };
  const t = Date.parse(m[1]);
  // An `instance` label is host:port; a log stream is named after its instance by default.
  const host = k.host !== null ? null : m[3] ?? (m[2] === undefined ? null : LABEL_HOST.exec(m[2])?.[1].replace(/:\d+$/, '') ?? null);
  return withEnvelopeTime(host === null ? k : { ...k, host }, Number.isFinite(t) ? t : null);
}

/**
 * A kmsg record that a syslog daemon received as it is and stamped with its date (and maybe the
 * sender's name): extended netconsole sent to a remote rsyslog, `Jan 15 22:27:39
 * 6.7.0,4,884,194882257,-,caller=T3523; <TASK>`. The record is decoded as such; the date gives
 * the time (its year guessed as for any syslog date).
 */
const RELAYED = /^([A-Z][a-z]{2} [ \d]\d \d\d:\d\d:\d\d) +(?:([\w.-]{1,253}) +)?(?=\d{1,4}(?:\.\d{1,4}[^,;\s]{0,100})?,\d{1,4},\d+,\d+,[^;]*;)/;

function relayedRecord(line: string, ctx: DecodeContext): KernelLine | null {
  const m = RELAYED.exec(line);
  if (!m) return null;
  const k = kmsg.decode(line.slice(m[0].length), ctx);
  if (!k) return null;
  // The date read as syslog reads it: its year and zone handling are the same.
  const date = syslog.decode(`${m[1]} - kernel: -`, ctx);
  const host = m[2] !== undefined && !/^\d+$/.test(m[2]) ? m[2] : null;
  const t = date ? withEnvelopeTime(k, date.time) : k;
  return { ...t, host, ...(date?.yearGuessed ? { yearGuessed: true } : {}), ...(date?.localTime ? { localTime: true } : {}) };
}

/**
 * A line of `grep -H`/`grep -r` output: the file name and `:` (a match) or `-` (a context line),
 * maybe a line number and another separator, then the log line (`messages:Jun 17 20:18:08 host
 * kernel: ...`, `messages-20190617-Jun 17 ...`, `messages:1234:Jun 17 ...`). Tried only when no
 * format takes the line as it is: each `:` or `-` of its first word may end the prefix, and what
 * follows must be a line of a format with an envelope (not bare text, which takes anything).
 */
function grepped(line: string, ctx: DecodeContext): KernelLine | null {
  const end = Math.min(line.length, 512);
  for (let i = 1; i < end; i++) {
    const c = line.charCodeAt(i);
    if (c === 32 || c === 9) return null;
    if (c !== 58 /* : */ && c !== 45 /* - */) continue;
    const k = enveloped(line.slice(i + 1), ctx);
    if (k) return k;
  }
  return null;
}

// The text of a log shipper's JSON record may be a whole line of another format; one level only.
setInnerDecoder((line, ctx) => {
  const c0 = line.charCodeAt(0);
  if (c0 === 123 || c0 === 0x1e || line.startsWith('data: {')) return bare.decode(line, ctx);
  return decodeLine(line, ctx);
});

/** The format that auto-detection attributes a line to ('skip' when it carries no message). */
export function detectFormat(line: string, ctx: DecodeContext): string {
  return decodeLine(line, ctx)?.format ?? 'skip';
}
