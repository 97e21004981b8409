/**
 * `journalctl -o json` (and json-seq, whose records start with an RS byte, and json-sse, whose
 * records follow `data: ` and a blank line): one JSON object a line. Records without a MESSAGE
 * are log shippers' (Docker, Fluent Bit, Elastic, Loki, ...): see shipperRecord().
 * Kernel entries are those with `_TRANSPORT=kernel` (or, lacking a transport, the
 * `kernel` identifier). MESSAGE is a string, an array of byte values when it holds bytes that
 * are not printable UTF-8, or null when it was larger than journalctl's field limit.
 * Read: _HOSTNAME, __REALTIME_TIMESTAMP, _SOURCE_MONOTONIC_TIMESTAMP, _BOOT_ID, PRIORITY, __CURSOR.
 */
import type { KernelLine } from '../record.js';
import { kernelLine, withEnvelopeTime, type DecodeContext, type LineFormat } from './types.js';

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

/** A decoder for the text inside a record (a whole log line of another format), set by the format registry. */
let innerDecode: ((line: string, ctx: DecodeContext) => KernelLine | null) | null = null;

export function setInnerDecoder(decode: (line: string, ctx: DecodeContext) => KernelLine | null): void {
  innerDecode = decode;
}

type Obj = Record<string, JournalValue | Record<string, unknown>>;

function isObj(v: unknown): v is Obj {
  return v !== null && typeof v === 'object' && !Array.isArray(v);
}

/** The first string (or number) found at one of `paths` (dotted for nested objects, as ECS nests them). */
function pick(o: Obj, paths: readonly string[]): string | null {
  for (const p of paths) {
    let v: unknown = o;
    for (const k of p.split('.')) v = isObj(v) ? v[k] : undefined;
    if (typeof v === 'string') return v;
    if (typeof v === 'number' && Number.isFinite(v)) return String(v);
  }
  return null;
}

// The fields log shippers and platforms put a line's text, host, program and time in: Docker's
// json-file (`log`), Fluent Bit (`log`, `msg`; its kmsg input: priority, sec, usec, msg), Elastic
// ECS (`message`, `host.name`, `process.name`, `log.syslog.appname`, `@timestamp`), Graylog GELF
// (`short_message`, `full_message`, `host`), Loki's logcli (`line`), Google Cloud Logging
// (`textPayload`, `jsonPayload.message`), Azure's Syslog table (`SyslogMessage`, `Computer`,
// `ProcessName`, `TimeGenerated`), Splunk (`_raw`, `_time`), rsyslog's JSON templates
// (`msg`, `hostname`, `programname`), Logstash's syslog input (`logsource`, `program`), journal
// entries as Vector and Filebeat ship them (`message`, `host`, `_TRANSPORT` / `systemd.transport`).
const TEXT = ['message', 'msg', 'log', 'full_message', 'short_message', 'line', 'textPayload', 'jsonPayload.message',
  'SyslogMessage', '_raw', 'MESSAGE'];
// Logstash's syslog input keeps the syslog host in `logsource` and the sender's address in `host`.
const HOST = ['_HOSTNAME', 'logsource', 'hostname', 'host', 'host.name', 'host.hostname', 'Computer', 'HOSTNAME', 'HOST', 'kubernetes.host',
  'labels.host', 'labels.hostname', 'syslog.hostname', 'log.syslog.hostname'];
const PROGRAM = ['SYSLOG_IDENTIFIER', 'programname', 'program', 'ident', 'appname', 'app_name', 'syslog_identifier',
  'syslog.identifier', 'ProcessName', 'process.name', 'log.syslog.appname', 'syslog.appname', 'syslogtag', 'tag',
  // syslog-ng's format-json macros, rsyslog's property names.
  'PROGRAM', 'syslog-tag', 'app-name'];
/** journald's transport, as shippers of journal entries keep it (Vector: `_TRANSPORT`; Filebeat: `systemd.transport`). */
const TRANSPORT = ['_TRANSPORT', 'systemd.transport'];
/** The syslog facility, where a record names no program (GELF's `_facility`, Graylog's `facility`, ECS's name). */
const FACILITY = ['facility', '_facility', 'Facility', 'log.syslog.facility.name', 'syslog.facility', 'FACILITY'];
const TIME = ['@timestamp', 'timestamp', 'time', 'TimeGenerated', '_time', 'date', 'ts', '__REALTIME_TIMESTAMP', 'ISODATE', 'timereported'];

/** A time as shippers write it: an ISO 8601 string, or a number of seconds, milliseconds, µs or ns since the epoch. */
function wallTime(v: string | null): number | null {
  if (v === null) return null;
  if (/^\d+(?:\.\d+)?$/.test(v)) {
    const n = Number(v);
    if (n < 1e11) return Math.round(n * 1000);
    if (n < 1e14) return Math.round(n);
    if (n < 1e17) return Math.round(n / 1000);
    return Math.round(n / 1e6);
  }
  if (!/^\d{4}-\d\d-\d\d[T ]\d\d:\d\d/.test(v)) return null;
  const t = Date.parse(v.replace(' ', 'T'));
  return Number.isFinite(t) ? t : null;
}

/**
 * A record of a log shipper or platform, which is not journald's: its text, host, time and
 * program are taken from the usual fields. The text may be a whole log line (a syslog line, a
 * dmesg line): it is decoded as such, and the record fills in what that line lacks. A record that
 * names its program is kernel text only when the program is the kernel; one that names none, only
 * when its text is a kernel line of some envelope, or the record is a kmsg record.
 */
function shipperRecord(o: Obj, ctx: DecodeContext): KernelLine | null {
  const src = isObj(o._source) ? o._source : o;
  const raw = pick(src, TEXT);
  if (raw === null) return null;
  const text = raw.replace(/\r?\n$/, '');
  const host = pick(src, HOST) || null;
  const transport = pick(src, TRANSPORT) || null;
  // An empty program is none (Filebeat leaves process.name empty for kernel entries).
  const program = transport === null ? pick(src, PROGRAM) || null : null;
  const time = wallTime(pick(src, TIME));
  const prio = pick(src, ['priority', 'PRIORITY', 'level', 'severity']);
  const level = prio !== null && /^[0-7]$/.test(prio) ? Number(prio) : null;
  // Fluent Bit's kmsg input: the printk time as seconds and microseconds.
  const sec = pick(src, ['sec']);
  const usec = pick(src, ['usec']);
  const kmsgUptime = sec !== null && usec !== null && /^\d+$/.test(sec) && /^\d+$/.test(usec) ? Number(sec) + Number(usec) / 1e6 : null;
  const mono = micros(src._SOURCE_MONOTONIC_TIMESTAMP as JournalValue | undefined);
  const uptime = kmsgUptime ?? (mono === null ? null : mono / 1e6);
  const unnamed = transport === null && program === null;
  const facility = unnamed ? pick(src, FACILITY) : null;
  const named = transport !== null ? transport === 'kernel'
    : program !== null ? /^kernel(?:\[\d*\])?:?$/.test(program.trim()) : facility !== null && /^(?:kern|kernel|0)$/.test(facility);
  const inner = named || unnamed ? innerDecode?.(text, ctx) ?? null : null;
  if (inner && inner.format !== 'bare') {
    return withEnvelopeTime({ ...inner, format: 'journal-json', host: inner.host ?? host, level: inner.level ?? level }, time);
  }
  // A record that names no program (a container's output in Docker's json-file, say) is kernel
  // text only when its line says so (above: a syslog, dmesg or kmsg line) or it is a kmsg record
  // (Fluent Bit's kmsg input: its printk time): any program can print `INFO: task ...`.
  const kernel = named || (unnamed && kmsgUptime !== null);
  const t = inner ?? kernelLine(text, 'journal-json');
  return {
    ...t, format: 'journal-json', host: host ?? t.host, time: time ?? t.time, uptime: t.uptime ?? uptime, level: t.level ?? level, kernel,
    // The envelope's time is an instant; a zone-less time of the inner line is kept only without one.
    localTime: time === null ? t.localTime : false,
  };
}

const SSE = 'data: ';
/** Fields only journald's records have (one of them at least). */
const JOURNAL_FIELDS = ['__CURSOR', '__REALTIME_TIMESTAMP', '__MONOTONIC_TIMESTAMP', '_TRANSPORT', '_BOOT_ID', '_HOSTNAME', 'SYSLOG_IDENTIFIER', '_SOURCE_MONOTONIC_TIMESTAMP'];

export const journalJson: LineFormat = {
  name: 'journal-json',
  description: 'journalctl -o json / json-seq / json-sse, and JSON records of log shippers (message, msg, log, ... fields)',
  samples: [
    '{"__CURSOR":"s=1;i=2","__REALTIME_TIMESTAMP":"1548758467000000","_BOOT_ID":"0a1b","_TRANSPORT":"kernel","PRIORITY":"3","_HOSTNAME":"app-prod-17","MESSAGE":"INFO: task java:181134 blocked for more than 120 seconds.","_SOURCE_MONOTONIC_TIMESTAMP":"6141921740"}',
    '\x1e{"_TRANSPORT":"kernel","MESSAGE":[67,97,108,108,32,84,114,97,99,101,58]}',
    'data: {"_TRANSPORT":"kernel","_HOSTNAME":"app-prod-17","MESSAGE":"Call Trace:"}',
    '{"log":"[ 6141.922340] Call Trace:\\n","stream":"stdout","time":"2019-01-29T10:41:07.123456789Z"}',
    '{"priority":6,"sequence":1006,"sec":6141,"usec":922340,"msg":"Call Trace:"}',
  ],
  decode(line, ctx) {
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
    // journald's own records carry its fields; others are a shipper's (see shipperRecord), also
    // syslog-ng's format-json ones, whose MESSAGE comes with PROGRAM, HOST and ISODATE.
    if (!('MESSAGE' in o) || !JOURNAL_FIELDS.some((k) => k in o)) {
      return shipperRecord(o as Obj, ctx);
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
