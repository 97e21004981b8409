/**
 * RFC 5424 syslog (rsyslog's RSYSLOG_SyslogProtocol23Format, syslog-ng's `syslog()` driver):
 *   `<3>1 2019-01-29T10:41:07.123456+00:00 app-prod-17 kernel - - - INFO: task ...`
 * PRI, version 1, timestamp, host, app-name, procid, msgid, structured data (`-` or `[...]`
 * elements with quoted, escaped values), then the message (a UTF-8 BOM is dropped).
 */
import { compile } from '../patterns.js';
import { fracMs, zoneMinutes } from './printk.js';
import { programLine } from './syslog.js';
import type { LineFormat } from './types.js';

const HEAD = compile(String.raw`
  ^ < (?<pri> \d{1,3} ) > \s? 1 \s        # some senders put a space before the version
    (?: - | (?<y> \d{4} ) - (?<mo> \d\d ) - (?<d> \d\d ) T (?<h> \d\d ) : (?<mi> \d\d ) : (?<s> \d\d )
        (?: \. (?<frac> \d+ ) )? (?<tz> Z | [+-] \d\d : \d\d ) ) \s
    (?<host> \S+ ) \s (?<app> \S+ ) \s (?<procid> \S+ ) \s (?<msgid> \S+ ) \s`);

/** A printk time after blanks. */
const PRINTK_AFTER_BLANKS = /^ +\[\s*\d+\.\d+\]/;

/** Index just past the structured data at `i` (`-` or one or more `[id k="v"]` elements), or -1. */
function skipStructuredData(s: string, i: number): number {
  if (s[i] === '-') return i + 1;
  if (s[i] !== '[') return -1;
  while (s[i] === '[') {
    let inQuote = false;
    for (i++; i < s.length; i++) {
      const c = s[i];
      if (c === '\\') { i++; continue; }
      if (c === '"') inQuote = !inQuote;
      else if (c === ']' && !inQuote) break;
    }
    if (i >= s.length) return -1;
    i++;
  }
  return i;
}

export const rfc5424: LineFormat = {
  name: 'rfc5424',
  description: 'RFC 5424 syslog lines (<PRI>1 TIMESTAMP HOST APP PROCID MSGID SD MSG)',
  samples: [
    '<3>1 2019-01-29T10:41:07.123456+00:00 app-prod-17 kernel - - - INFO: task java:181134 blocked for more than 120 seconds.',
    '<6>1 2019-01-29T10:41:07Z app-prod-17 kernel - - [meta sequenceId="12"] Call Trace:',
    '<6> 1 2020-11-19T23:58:33.111549+01:00 LABNBS5A kernel - - - [  153.655776] Call Trace:',
    '<14>1 2026-11-27T17:33:51.488857+00:00 app-prod-17 kernel - - -  [  864.017575]  __schedule+0x206/0x580',
  ],
  decode(line) {
    if (line.charCodeAt(0) !== 60) return null;
    const m = HEAD.exec(line);
    if (!m?.groups) return null;
    const g = m.groups;
    const end = skipStructuredData(line, m[0].length);
    if (end < 0) return null;
    let msg = line.slice(end);
    if (msg.charCodeAt(0) === 32) msg = msg.slice(1);
    if (msg.charCodeAt(0) === 0xfeff) msg = msg.slice(1);
    // rsyslog keeps the blank that followed `kernel:` in the message it received (`-  [  863.969340] ...`).
    if (msg.charCodeAt(0) === 32 && PRINTK_AFTER_BLANKS.test(msg)) msg = msg.trimStart();
    const time = g.y ? Date.UTC(+g.y, +g.mo - 1, +g.d, +g.h, +g.mi, +g.s, fracMs(g.frac)) - zoneMinutes(g.tz) * 60000 : null;
    const host = g.host === '-' ? null : g.host;
    const kernelLine = programLine('rfc5424', host, g.app, msg, time);
    if (kernelLine.level === null && kernelLine.kernel) kernelLine.level = Number(g.pri) & 7;
    return kernelLine;
  },
};
