/**
 * Text with no log envelope at all: a trace pasted from an email, a web page or a ticket, often
 * indented or quoted with `> `. Quote markers are removed; printk prefixes that survived the
 * paste (`> [ 12.345678] ...`) are decoded. Every line is accepted, so this format comes last.
 */
import { journal } from './journal.js';
import { stripPrintk } from './printk.js';
import { kernelLine, type LineFormat } from './types.js';

/** A mail reply's quote marks: `> `, `>> `, ` > > `. */
export const QUOTE = /^(?:[ \t]*>)+ ?/;
// A paste with line numbers in front (`162 [  843.072392] INFO: ...`, an editor or a pager did
// it), or a CI runner's clock (`12:53:09 [  245.528313] kernel: ...`, stress/41).
const LINE_NUMBER = /^\s*(?:\d+|\d\d:\d\d:\d\d(?:\.\d+)?)\s+(?=\[\s*\d+\.\d*\])/;
// A syslog line whose timestamp a paste or a log shipper dropped: `kernel: msg`, `host kernel: msg`,
// or cut to its clock (`23:05:11 localhost.localdomain kernel: msg`).
const KERNEL_TAG = /^\s*(?:\d\d:\d\d:\d\d(?:[.,]\d{1,9})? +)?(?:([\w.-]+) )?kernel: ?/;

export const bare: LineFormat = {
  name: 'bare',
  description: 'kernel text without any prefix (pasted, indented or quoted with "> ")',
  samples: [
    'INFO: task java:181134 blocked for more than 120 seconds.',
    '  [<ffffffff816a94c9>] schedule+0x29/0x70',
    '> INFO: task java:181134 blocked for more than 120 seconds.',
    'kernel: [<ffffffff816a94c9>] schedule+0x29/0x70',
  ],
  decode(line, ctx) {
    let text = line;
    if (text.includes('>')) {
      const q = QUOTE.exec(text);
      if (q) text = text.slice(q[0].length);
    }
    const ln = LINE_NUMBER.exec(text);
    if (ln) {
      // What follows may be a whole journal or dmesg line: decode it as such.
      const inner = journal.decode(text.slice(ln[0].length), ctx);
      if (inner) return { ...inner, format: 'bare' };
      text = text.slice(ln[0].length);
    }
    let host: string | null = null;
    if (text.includes('kernel:')) {
      const k = KERNEL_TAG.exec(text);
      if (k) {
        host = k[1] ?? null;
        text = text.slice(k[0].length);
      }
    }
    let p = stripPrintk(text);
    // A paste may indent the prefix, and console captures sometimes repeat it.
    if (!p.found && text.trimStart().charCodeAt(0) === 91) p = stripPrintk(text.trimStart());
    if (p.found && p.text.charCodeAt(0) === 91) {
      const again = stripPrintk(p.text);
      if (again.found && again.uptime !== null) p = { ...again, uptime: p.uptime ?? again.uptime };
    }
    return kernelLine(p.text, 'bare', { host, uptime: p.uptime, level: p.level, caller: p.caller, time: p.time, ...(p.localTime ? { localTime: true } : {}) });
  },
};
