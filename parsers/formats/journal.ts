/**
 * journalctl's text outputs that do not look like syslog (those are decoded by syslog.ts):
 *   short-monotonic  `[ 1234.567890] app-prod-17 kernel: msg`   (also short-delta's
 *                    `[ 1234.567890 <    0.000100 >]`, blank-padded to that width on an entry's first line)
 *   short-unix       `1548758467.123456 app-prod-17 kernel: msg`
 *   short-full       `Tue 2019-01-29 10:41:07 UTC app-prod-17 kernel: msg`
 * For kernel lines journald's monotonic time is the kernel's own printk time.
 */
import { compile } from '../patterns.js';
import { fracMs, zoneOffset } from './printk.js';
import { programLine, splitHostTag } from './syslog.js';
import type { LineFormat } from './types.js';

// `[ 6141.921740] host kernel: msg` looks like a dmesg line whose message begins with two words and a
// colon (`[ 12.3] usb 2-1: reset ...`, `[ 12.3] CIFS VFS: ...`), so the program must be `kernel` or
// `name[pid]` as journalctl prints other programs; anything else is dmesg.
const PROGRAM = String.raw`(?: kernel | [\w.@\-]+ \[ \d+ \] ) :`;
// journalctl --no-hostname drops the host: `[  245.528573] kernel: msg` (formats/journal-monotonic-*).
const MONO = compile(String.raw`^ \[ \s* (?<secs> \d+ \. \d+ ) (?: \s* < [^>]* > )? \s* \] \s (?= (?: \S+ \s )? ${PROGRAM} )`);
// journalctl --no-hostname: `1548758467.123456 kernel: msg`.
const UNIX = compile(String.raw`^ (?<secs> \d{9,11} \. \d{1,9} ) \s (?= \S+ \s \S+ : | ${PROGRAM} )`);
const FULL = compile(String.raw`
  ^ [A-Z][a-z]{2} \s (?<y> \d{4} ) - (?<mo> \d\d ) - (?<d> \d\d ) \s (?<h> \d\d ) : (?<mi> \d\d ) : (?<s> \d\d )
    (?: \. (?<frac> \d+ ) )? \s (?<tz> [A-Za-z][\w+\-/]* | [+-] \d\d (?: :? \d\d )? ) \s`);

export const journal: LineFormat = {
  name: 'journal',
  description: 'journalctl -o short-monotonic, short-delta, short-unix and short-full',
  samples: [
    '[ 6141.921740] app-prod-17 kernel: INFO: task java:181134 blocked for more than 120 seconds.',
    '[  245.528573] kernel: INFO: task khugepaged:136 blocked for more than 122 seconds.',
    '1548758467.123456 app-prod-17 kernel: Call Trace:',
    'Tue 2019-01-29 10:41:07 UTC app-prod-17 kernel: Call Trace:',
  ],
  decode(line) {
    const c0 = line.charCodeAt(0);
    let m: RegExpExecArray | null;
    if (c0 === 91 /* [ */) {
      if (!(m = MONO.exec(line))?.groups) return null;
      const ht = splitHostTag(line.slice(m[0].length));
      if (!ht) return null;
      const k = programLine('journal', ht.host, ht.tag, ht.msg, null);
      if (k.kernel && k.uptime === null) k.uptime = Number(m.groups.secs);
      return k;
    }
    if (c0 >= 48 && c0 <= 57) {
      if (!(m = UNIX.exec(line))?.groups) return null;
      const ht = splitHostTag(line.slice(m[0].length));
      if (!ht) return null;
      // Milliseconds cut, not rounded, as the other outputs of the same entry give them.
      const [whole, frac] = m.groups.secs.split('.');
      return programLine('journal', ht.host, ht.tag, ht.msg, Number(whole) * 1000 + fracMs(frac));
    }
    if (!(m = FULL.exec(line))?.groups) return null;
    const g = m.groups;
    const ms = fracMs(g.frac);
    // A zone that names one offset gives an instant; any other is read as local time.
    const offset = zoneOffset(g.tz);
    const time = offset !== null
      ? Date.UTC(+g.y, +g.mo - 1, +g.d, +g.h, +g.mi, +g.s, ms) - offset * 60000
      : new Date(+g.y, +g.mo - 1, +g.d, +g.h, +g.mi, +g.s, ms).getTime();
    const ht = splitHostTag(line.slice(m[0].length));
    if (!ht) return null;
    const kl = programLine('journal', ht.host, ht.tag, ht.msg, time);
    if (offset === null) kl.localTime = true;
    return kl;
  },
};
