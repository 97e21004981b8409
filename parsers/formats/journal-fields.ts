/**
 * journalctl's field-per-line outputs:
 *   -o verbose  an entry line (`Tue 2019-01-29 10:41:07.000100 UTC [s=...;i=...;...]`), then its
 *               fields indented by four blanks (`    MESSAGE=INFO: task ...`)
 *   -o export   the fields at the margin (`MESSAGE=...`), a blank line after each entry
 *   -o json-pretty  an entry between `{` and `}` lines, a field a line (`\t"MESSAGE" : "...",`);
 *               a MESSAGE of bytes is an array whose values have a line each, and is not read
 * MESSAGE is the text. The other fields and the entry lines carry none and come back as lines
 * of no kernel message, so that they neither end nor join a report.
 *
 * An entry's fields come in the order of its data in the journal file, which differs from entry
 * to entry: `_HOSTNAME`, `_TRANSPORT` and the times may follow MESSAGE. Lines are decoded on their
 * own, so such reports have no host, time or uptime, and every MESSAGE counts as kernel text
 * (`journalctl -k -o verbose` holds nothing else). `-o json` carries all of it on one line.
 * A field journalctl writes in binary form (a value it will not print) is not read.
 *
 * util-linux `dmesg --json` is read the same way: a record a few lines long (`"pri": 3,`,
 * `"time":  6141.921740,`, `"caller": "T26",`, `"msg": "INFO: task ..."`), the msg its text.
 */
import type { KernelLine } from '../record.js';
import { kernelLine, type LineFormat } from './types.js';

/** A journal field name (`[A-Z0-9_]`, not starting with a digit, up to 64) and `=`, maybe indented by four blanks. */
const FIELD = /^(?: {4})?_{0,2}[A-Z][A-Z0-9_]{0,63}=/;
const MESSAGE = /^(?: {4})?MESSAGE=/;
/** The line that opens an entry in -o verbose: its time and zone, then its cursor. */
const ENTRY = /^[A-Z][a-z]{2} \d{4}-\d\d-\d\d \d\d:\d\d:\d\d(?:\.\d+)? \S+ \[s=[0-9a-f]+;i=[0-9a-f]+;/;
/** A json-pretty field: its name and its JSON value, indented by a tab (blanks where a mail expanded it). */
const PRETTY = /^(?:\t| {2,8})"(_{0,2}[A-Z][A-Z0-9_]{0,63})" : (.*?),?$/;
/** json-pretty's entry braces, and the lines of an array value (a byte a line, then its bracket). */
const PRETTY_OTHER = /^(?:\},?|\s+(?:\d{1,3},?|\],?))$/;

/** A field of a `dmesg --json` record (blanks before it), and the array's and records' brackets. */
const DMESG_JSON = /^ {2,12}"(pri|fac|time|caller|msg)": (.*?),?$/;
const DMESG_JSON_OTHER = /^ *(?:"dmesg": \[|\},?\{?|\]|\{)$/;

/** A line of the output that is no message. */
const noMessage = (): KernelLine => kernelLine('', 'journal-fields', { kernel: false });

export const journalFields: LineFormat = {
  name: 'journal-fields',
  description: 'journalctl -o verbose / export / json-pretty (MESSAGE fields; no host or time)',
  samples: [
    '    MESSAGE=INFO: task java:181134 blocked for more than 120 seconds.',
    '    _HOSTNAME=app-prod-17',
    'MESSAGE= schedule+0x29/0x70',
    '__REALTIME_TIMESTAMP=1548758467000000',
    'Tue 2019-01-29 10:41:07.000100 UTC [s=54411c99274847d18024662e7debf3c0;i=2;b=0a1b2c3d4e5f60718293a4b5c6d7e8f9;m=16e164e18;t=580966e44b724;x=29aabf2f0fb46e7d]',
    '\t"MESSAGE" : "INFO: task java:181134 blocked for more than 120 seconds.",',
    '\t"_HOSTNAME" : "app-prod-17"',
    '}',
  ],
  decode(line) {
    const m = MESSAGE.exec(line);
    if (m) return kernelLine(line.slice(m[0].length), 'journal-fields');
    if (FIELD.test(line) || ENTRY.test(line) || PRETTY_OTHER.test(line)) return noMessage();
    const p = PRETTY.exec(line) ?? DMESG_JSON.exec(line);
    if (!p) return DMESG_JSON_OTHER.test(line) ? noMessage() : null;
    if (p[1] === 'MESSAGE' && p[2] === '[') return binaryMessage();
    if (p[1] !== 'MESSAGE' && p[1] !== 'msg') return noMessage();
    const k = jsonText(p[2]);
    // util-linux 2.38's dmesg --json runs each record's msg on to the end of the buffer
    // (`"msg": "INFO: task ...\n<3>[  863.979224]       Not tainted ..."`): its first line is its own.
    if (p[1] === 'msg' && k.kernel) {
      const nl = k.text.indexOf('\n');
      if (nl >= 0) return kernelLine(k.text.slice(0, nl), 'journal-fields');
    }
    return k;
  },
};

/**
 * A MESSAGE that journalctl -o json-pretty writes as an array of bytes (not valid UTF-8), one
 * number per line: its text cannot be read line by line, but it is a message of its own, so it
 * ends whatever report was open instead of letting the next message's frames join it.
 */
function binaryMessage(): KernelLine {
  return kernelLine('(a message journalctl wrote as bytes)', 'journal-fields');
}

/** A message given as a JSON string; anything else is no message. */
function jsonText(value: string): KernelLine {
  if (value.charCodeAt(0) !== 34 /* " */) return noMessage();
  let text: unknown;
  try {
    text = JSON.parse(value);
  } catch {
    return noMessage();
  }
  return typeof text === 'string' ? kernelLine(text, 'journal-fields') : noMessage();
}
