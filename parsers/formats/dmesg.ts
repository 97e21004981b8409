/**
 * dmesg(1) output and console captures: `[ 1234.567890] msg`, `<3>[ 1234.567890][  T140] msg`,
 * `dmesg -T` (`[Tue Jan 29 10:41:07 2019] msg`, any locale), `dmesg -x` (`kern  :err   : ...`),
 * `dmesg --time-format=iso`, `dmesg -d`, `dmesg -e`, and `<3>msg` level-only lines. A line is
 * dmesg when at least one of those prefixes is present; the prefixes themselves are parsed in
 * printk.ts because syslog messages carry them too.
 */
import { stripPrintk } from './printk.js';
import { kernelLine, type LineFormat } from './types.js';

export const dmesg: LineFormat = {
  name: 'dmesg',
  description: 'dmesg output (raw, -T, -x, -r level prefixes, caller ids, iso times)',
  samples: [
    '[ 6141.921740] INFO: task java:181134 blocked for more than 120 seconds.',
    '<3>[  125.362363][  T140] INFO: task zsh:470 blocked for more than 120 seconds.',
    '[Tue Jan 29 10:41:07 2019] INFO: task java:181134 blocked for more than 120 seconds.',
    '[Di Jan 29 10:41:07 2019]  schedule+0x29/0x70',
    'kern  :err   : [ 251.950215] INFO: task java:181134 blocked for more than 120 seconds.',
    'kern  :info  : [ 251.950310]  schedule+0x29/0x70',
    '2019-01-29T10:41:07,123456+00:00 Call Trace:',
    '<6> schedule+0x29/0x70',
    '[2019-01-29 10:41:07] [ 6141.921740] INFO: task java:181134 blocked for more than 120 seconds.',
    '[36693.762505] CIFS VFS: \\\\10.0.0.5 sends on sock 0bcf5229 stuck for 15 seconds',
    '[ 7453.120000] usb 2-1: reset SuperSpeed USB device number 2 using xhci_hcd',
  ],
  decode(line) {
    const p = stripPrintk(line);
    if (!p.found) return null;
    return kernelLine(p.text, 'dmesg', { uptime: p.uptime, level: p.level, caller: p.caller, time: p.time, ...(p.localTime ? { localTime: true } : {}) });
  },
};
