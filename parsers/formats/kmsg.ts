/**
 * /dev/kmsg records (`cat /dev/kmsg`, `dmesg -r`-less raw reads):
 *   `6,1234,5678901,-;message`  (priority, sequence, µs since boot, flags[, caller=T140]; text)
 * and the same records as extended netconsole sends them, with the release first when asked
 * (`+r`): `6.7.0,4,884,194882257,-,caller=T3523;text`.
 * Non-printable bytes in the text arrive as `\xNN`. Dictionary lines that follow a record
 * (` SUBSYSTEM=pci`, ` DEVICE=+pci:0000:00:1f.2`) carry no message; the decoder list skips them.
 */
import { compile } from '../patterns.js';
import { stripVendorTags } from './printk.js';
import { kernelLine, type LineFormat } from './types.js';

// The record ends at the line's first `;`: without one (checked first) every `caller=` of the line
// was followed to the end of it, and every split of the caller's digits too, n^2 steps.
// Extended netconsole (`netconsole=+r...`, 6.5+) sends the kernel release first: `6.7.0,4,884,194882257,-;`.
const RECORD = compile(String.raw`
  ^ (?= [^;]* ; ) (?: (?<release> \d{1,4} \. \d{1,4} [^,;\s]{0,100} ) , )? (?<prio> \d{1,4} ) , (?<seq> \d+ ) , (?<usec> \d+ ) , (?<flags> [^,;]* )
    (?: , [^;]*? caller= (?= (?<caller> [TC] \d+ ) ) \k<caller> )? [^;]* ;`);

/** Undoes kmsg's `\xNN` escaping. */
export function unescapeKmsg(s: string): string {
  if (!s.includes('\\x')) return s;
  return s.replace(/\\x([0-9a-fA-F]{2})/g, (_, h: string) => String.fromCharCode(parseInt(h, 16)));
}

export const kmsg: LineFormat = {
  name: 'kmsg',
  description: '/dev/kmsg records: prio,seq,usec,flags;text',
  samples: [
    '3,1234,6141921740,-;INFO: task java:181134 blocked for more than 120 seconds.',
    '6,1240,6141921890,-,caller=T140; schedule+0x29/0x70',
  ],
  decode(line) {
    const c0 = line.charCodeAt(0);
    if (c0 < 48 || c0 > 57) return null;
    const m = RECORD.exec(line);
    if (!m?.groups) return null;
    const g = m.groups;
    // MediaTek kernels tag each record's text with the CPU and task (` (1)[67:khungtaskd]INFO: ...`).
    const tagged = stripVendorTags(unescapeKmsg(line.slice(m[0].length)));
    return kernelLine(tagged.text, 'kmsg', {
      level: Number(g.prio) & 7,
      // Facility 0 is the kernel; user space (systemd, udev) writes to /dev/kmsg with others.
      kernel: Number(g.prio) < 8,
      uptime: Number(g.usec) / 1e6,
      caller: g.caller ?? tagged.caller,
      ...(g.release !== undefined ? { release: g.release } : {}),
      // `c`: the first piece of a line the kernel could not merge; `+`: the pieces after it.
      ...(g.flags === 'c' ? { piece: 'first' as const } : g.flags === '+' ? { piece: 'more' as const } : {}),
    });
  },
};
