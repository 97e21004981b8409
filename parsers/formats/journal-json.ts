/**
 * `journalctl -o json` (and json-seq, whose records start with an RS byte, and json-sse, whose
 * records follow `data: ` and a blank line): one JSON object a line. Kernel entries are those with `_TRANSPORT=kernel` (or, lacking a transport, the
 * `kernel` identifier). MESSAGE is a string, an array of byte values when it holds bytes that
 * are not printable UTF-8, or null when it was larger than journalctl's field limit.
 * Read: _HOSTNAME, __REALTIME_TIMESTAMP, _SOURCE_MONOTONIC_TIMESTAMP, _BOOT_ID, PRIORITY, __CURSOR.
 */
import type { KernelLine } from '../record.js';
import { kernelLine, type LineFormat } from './types.js';

type JournalValue = string | number | null | number[] | JournalValue[];

function str(v: JournalValue | undefined): string | null {
  if (typeof v === 'string') return v;
  if (typeof v === 'number') return String(v);
  if (Array.isArray(v) && v.length > 0 && v.every((b) => typeof b === 'number')) {
    return Buffer.from(v as number[]).toString('utf8');
  }
  // A field that occurs more than once in an entry comes as an array of values: take the first
  // (one level only; journald nests no deeper, and a forged deep nesting must not recurse).
  if (Array.isArray(v) && v.length > 0 && !Array.isArray(v[0])) return str(v[0]);
  if (Array.isArray(v) && v.length > 0 && Array.isArray(v[0]) && v[0].length > 0 && v[0].every((b) => typeof b === 'number')) {
    return Buffer.from(v[0] as number[]).toString('utf8');
  }
  return null;
}

function micros(v: JournalValue | undefined): number | null {
  const s = str(v);
  if (s === null || !/^\d+$/.test(s)) return null;
  return Number(s);
}

const SSE = 'data: ';

export const journalJson: LineFormat = {
  name: 'journal-json',
  description: 'journalctl -o json / json-seq / json-sse',
  samples: [
    '{"__CURSOR":"s=1;i=2","__REALTIME_TIMESTAMP":"1548758467000000","_BOOT_ID":"0a1b","_TRANSPORT":"kernel","PRIORITY":"3","_HOSTNAME":"app-prod-17","MESSAGE":"INFO: task java:181134 blocked for more than 120 seconds.","_SOURCE_MONOTONIC_TIMESTAMP":"6141921740"}',
    '\x1e{"_TRANSPORT":"kernel","MESSAGE":[67,97,108,108,32,84,114,97,99,101,58]}',
    'data: {"_TRANSPORT":"kernel","_HOSTNAME":"app-prod-17","MESSAGE":"Call Trace:"}',
  ],
  decode(line) {
    let s = line;
    if (s.charCodeAt(0) === 0x1e) s = s.slice(1);
    else if (s.startsWith(SSE)) s = s.slice(SSE.length);
    if (s.charCodeAt(0) !== 123 /* { */) return null;
    let o: Record<string, JournalValue>;
    try {
      const parsed: unknown = JSON.parse(s);
      if (parsed === null || typeof parsed !== 'object' || Array.isArray(parsed)) return null;
      o = parsed as Record<string, JournalValue>;
    } catch {
      return null;
    }
    const transport = str(o._TRANSPORT);
    const ident = str(o.SYSLOG_IDENTIFIER);
    const isKernel = transport === null ? ident === 'kernel' : transport === 'kernel';
    const real = micros(o.__REALTIME_TIMESTAMP);
    const mono = micros(o._SOURCE_MONOTONIC_TIMESTAMP);
    const prio = str(o.PRIORITY);
    const fields: Partial<KernelLine> = {
      host: str(o._HOSTNAME),
      time: real === null ? null : Math.floor(real / 1000),
      uptime: mono === null ? null : mono / 1e6,
      level: prio !== null && /^[0-7]$/.test(prio) ? Number(prio) : null,
      bootId: str(o._BOOT_ID),
      cursor: str(o.__CURSOR),
      kernel: isKernel,
    };
    return kernelLine(str(o.MESSAGE) ?? '', 'journal-json', fields);
  },
};
