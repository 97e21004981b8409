/**
 * `klogscan [options] [FILE...]`: scan files or stdin, print each report as it completes
 * (terminal blocks or NDJSON), store it unless --no-db, and end with a summary.
 */
import { formatByName, FORMATS } from '../../parsers/formats/index.js';
import { ChunkFeeder } from '../input/feeder.js';
import { InputError, readInput } from '../input/sources.js';
import { reportJson } from '../output/json.js';
import { jsonLine, safe } from '../output/term.js';
import { KIND_NAMES, renderReport, type SeenReport } from '../output/text.js';
import { runningKernel, Scanner, type AnalyzedReport } from '../scan.js';
import { StoreError, type Store } from '../store.js';
import { COMMON_OPTIONS, journalCursor, onStopSignals, openStore, out, paintFor, parse, ruleSet, stderr, UsageError } from './common.js';

/** How many signatures and causes printed in full the text output remembers (then prints in full again). */
const SEEN_MAX = 4096;

export const SCAN_OPTIONS = {
  ...COMMON_OPTIONS,
  kernel: { type: 'string' },
  format: { type: 'string' },
  year: { type: 'string' },
  'no-db': { type: 'boolean' },
  verbose: { type: 'boolean', short: 'v' },
  stats: { type: 'boolean' },
  version: { type: 'boolean' },
  follow: { type: 'boolean', short: 'f' },
  'from-start': { type: 'boolean' },
  'print-cursor': { type: 'boolean' },
} as const;

export interface ScanSetup {
  scanner: Scanner;
  store: Store | null;
  stored: { fresh: number; duplicates: number; incidents: Set<number> };
  /** Writes held back while the database was locked (follow mode), and a retry: true once all are done. */
  waiting: () => number;
  retry: () => boolean;
}

export interface SetupOptions {
  /** Print only reports the store did not know yet (follow mode never repeats one). */
  onlyNew?: boolean;
  /** The name a report's input is shown and stored under, from the name the scanner was given. */
  sourceName?: (name: string) => string;
}

export type ScanValues = ReturnType<typeof parse<typeof SCAN_OPTIONS>>['values'];

/** Validates scan options and builds the scanner with its sinks (shared by scan and follow). */
export function setupScan(v: ScanValues, opts: SetupOptions = {}): ScanSetup {
  const format = v.format !== undefined ? formatByName(v.format) : undefined;
  if (v.format !== undefined && !format) {
    throw new UsageError(`unknown format "${v.format}"; formats: ${FORMATS.map((f) => f.name).join(', ')}`);
  }
  if (v.kernel !== undefined && !/^\d+\.\d+/.test(v.kernel)) {
    throw new UsageError(`--kernel takes a release such as 3.10.0-957.el7.x86_64 (uname -r), not "${v.kernel}"`);
  }
  if (v['no-db'] && v.db !== undefined) throw new UsageError('--db and --no-db contradict each other');
  const rules = ruleSet(v.rules);
  const store = v['no-db'] ? null : openStore(v.db);
  const paint = paintFor(v);
  const stored = { fresh: 0, duplicates: 0, incidents: new Set<number>() };
  let first = true;
  const seen = new Map<string, SeenReport>();
  const print = (json: ReturnType<typeof reportJson>, line?: string): void => {
    if (v.json) {
      out.write((line ?? jsonLine(json)) + '\n');
    } else {
      // Follow mode runs for months: the memory of reports printed in full stays bounded.
      if (seen.size >= SEEN_MAX) seen.clear();
      out.write((first ? '' : '\n') + renderReport(json, rules, paint, v.verbose, seen) + '\n');
      first = false;
    }
  };
  // Follow mode outlives other writers: while the database stays locked beyond the busy timeout,
  // its writes wait here in order (a locked begin wrote nothing) and the next poll retries them.
  const waiting: (() => void)[] = [];
  const write = (op: () => void): void => {
    if (waiting.length === 0) {
      try {
        op();
        return;
      } catch (e) {
        if (!opts.onlyNew || !(e instanceof StoreError && e.busy)) throw e;
      }
    }
    waiting.push(op);
  };
  const retry = (): boolean => {
    while (waiting.length > 0) {
      try {
        waiting[0]();
      } catch (e) {
        if (e instanceof StoreError && e.busy) return false;
        throw e;
      }
      waiting.shift();
    }
    return true;
  };
  const onReport = (a: AnalyzedReport): void => {
    if (opts.sourceName) a.report.source = { ...a.report.source, name: opts.sourceName(a.report.source.name) };
    const json = reportJson(a);
    if (!store) return print(json);
    write(() => {
      const res = store.record(a, json);
      json.incident = res.incident;
      if (res.duplicate) stored.duplicates++;
      else stored.fresh++;
      stored.incidents.add(res.incident);
      if (!res.duplicate || !opts.onlyNew) print(json, res.line);
    });
  };
  const scanner = new Scanner({ rules, kernel: v.kernel ?? null, running: v.kernel ? null : runningKernel(), format }, onReport, store ? {
    onBoot: (b) => write(() => store.recordBoot(b.host, b.bootKey, b.kernel, b.time)),
  } : undefined);
  return { scanner, store, stored, waiting: () => waiting.length, retry };
}

/**
 * A progress line on stderr for runs that take more than a second, only when stderr is a
 * terminal (never in a pipe or a log file), rewritten in place and erased at the end.
 */
class Progress {
  private readonly tty = process.stderr.isTTY === true;
  private readonly start = Date.now();
  private timer: NodeJS.Timeout | null = null;
  private shown = false;
  private name = '';
  private size: number | null = null;
  private bytes = 0;
  private total = 0;

  input(name: string, size: number | null): void {
    this.name = name;
    this.size = size;
    this.bytes = 0;
    if (this.tty && !this.timer) {
      this.timer = setInterval(() => this.draw(), 250);
      this.timer.unref();
    }
  }

  add(n: number): void {
    this.bytes += n;
    this.total += n;
  }

  private draw(): void {
    const secs = (Date.now() - this.start) / 1000;
    if (secs < 1) return;
    const mib = (x: number): string => (x / 1048576).toFixed(0);
    const of = this.size ? ` of ${mib(this.size)} MiB (${Math.min(100, (100 * this.bytes) / this.size).toFixed(0)}%)` : ' MiB';
    const rate = (this.total / 1048576 / secs).toFixed(0);
    process.stderr.write(`\r\x1b[Kklogscan: ${safe(this.name)}: ${mib(this.bytes)}${of}, ${rate} MiB/s`);
    this.shown = true;
  }

  done(): void {
    if (this.timer) clearInterval(this.timer);
    this.timer = null;
    if (this.shown) process.stderr.write('\r\x1b[K');
  }
}

/** What a run read, for --stats and the summary. */
export interface RunTotals {
  /** Inputs read (files, stdin; followed names). */
  inputs: number;
  /** Inputs that could not be read. */
  errors: number;
  /** An error (of the store, say) ended the run. */
  aborted: boolean;
  lines: number;
  /** Bytes of log text (decompressed). */
  bytes: number;
  /** Bytes of gzip data, null when no input was gzip. */
  compressed: number | null;
  started: bigint;
}

export function newTotals(): RunTotals {
  return { inputs: 0, errors: 0, aborted: false, lines: 0, bytes: 0, compressed: null, started: process.hrtime.bigint() };
}


/**
 * The end of a run, scan or follow: --stats on stderr, then the summary, which is the last line
 * of --json output (SPEC), also when an error ends the run after reports were printed.
 */
export function writeSummary(v: ScanValues, setup: ScanSetup, t: RunTotals): void {
  const { scanner, store, stored } = setup;
  const c = scanner.counts;
  const suppressed = [...scanner.suppressed];
  if (v.stats) {
    const secs = Number(process.hrtime.bigint() - t.started) / 1e9;
    const mb = t.bytes / 1048576;
    const gz = t.compressed !== null ? ` (${(t.compressed / 1048576).toFixed(1)} MiB of gzip)` : '';
    const rss = process.resourceUsage().maxRSS / 1024;
    stderr(`klogscan: stats: ${secs.toFixed(3)} s, ${mb.toFixed(1)} MiB${gz}, ${(mb / Math.max(secs, 1e-9)).toFixed(1)} MiB/s, ${t.lines} lines, peak RSS ${rss.toFixed(1)} MiB\n`);
  }
  if (v.json) {
    out.write(jsonLine({
      type: 'summary',
      reports: c.reports,
      kinds: c.kinds,
      hosts: c.hosts.size,
      matched: c.matched,
      truncated: c.truncated,
      header_only: c.headerOnly,
      headerless: c.headerless,
      suppressed_hosts: suppressed,
      other_reports: { ...scanner.others },
      inputs: t.inputs,
      errors: t.errors + (t.aborted ? 1 : 0),
      lines: t.lines,
      bytes: t.bytes,
      compressed_bytes: t.compressed,
      stored: store ? { db: store.file, new: stored.fresh, duplicates: stored.duplicates, incidents: stored.incidents.size } : null,
    }) + '\n');
    return;
  }
  const paint = paintFor(v);
  const hung = c.kinds.hung_task ?? 0;
  const blocked = c.kinds.blocked_state ?? 0;
  const parts = [`${hung} hung-task report${hung === 1 ? '' : 's'}`];
  if (blocked) parts.push(`${blocked} blocked task${blocked === 1 ? '' : 's'} in sysrq-w dumps`);
  for (const [k, n] of Object.entries(scanner.others)) parts.push(`${n} ${KIND_NAMES[k]?.[n === 1 ? 0 : 1] ?? k}`);
  // Reports without a host name (dmesg, pastes) may come from any number of machines: not counted as one.
  const named = c.hosts.size - (c.hosts.has(null) ? 1 : 0);
  const hosts = named === 0 && c.hosts.has(null) ? 'no host names' : `${named} host${named === 1 ? '' : 's'}${c.hosts.has(null) ? ' and reports without a host name' : ''}`;
  parts.push(hosts, `${c.matched} with a known cause`);
  if (c.truncated) parts.push(`${c.truncated} cut short`);
  if (c.headerOnly) parts.push(`${c.headerOnly} without a trace`);
  const where = `${t.inputs} input${t.inputs === 1 ? '' : 's'}, ${t.lines} line${t.lines === 1 ? '' : 's'}`;
  out.write(`${c.reports > 0 ? '\n' : ''}${paint('bold', 'summary')}: ${parts.join(', ')} (${where}${t.errors ? `, ${t.errors} unreadable` : ''}${t.aborted ? ', stopped by an error' : ''})\n`);
  if (store) {
    const inc = stored.incidents.size;
    out.write(`${paint('bold', 'stored')}: ${stored.fresh} new report${stored.fresh === 1 ? '' : 's'}${stored.duplicates ? `, ${stored.duplicates} already known` : ''}, ${inc} incident${inc === 1 ? '' : 's'}, in ${safe(store.file)} (klogscan history)\n`);
  }
  if (suppressed.length > 0) {
    out.write(`${paint('yellow', 'note')}: the kernel suppressed further hung-task reports on ${suppressed.map((h) => (h === null ? 'this host' : safe(h))).join(', ')} (sysctl kernel.hung_task_warnings): later hangs are invisible in the log\n`);
  }
  // A forced format that is not the log's decodes nothing, and says nothing (helper-63).
  if (v.format !== undefined && c.reports === 0 && t.lines > 0) {
    out.write(`${paint('yellow', 'note')}: no report was found with --format ${safe(v.format)}; if the log is in another format, leave --format out and klogscan detects it line by line\n`);
  }
  if (c.headerless > 0) {
    out.write(`${paint('yellow', 'note')}: ${c.headerless} hung task${c.headerless === 1 ? ' was' : 's were'} read from ${c.headerless === 1 ? 'its' : 'their'} task line and trace alone: the log has no 'INFO: task ... blocked for more than' line for ${c.headerless === 1 ? 'it' : 'them'}, which a syslog rule that drops KERN_ERR lines leaves out (Debian's /var/log/messages keeps only info, notice and warn): kern.log or syslog has the whole reports, with how long each task was blocked\n`);
  }
  if (c.headerOnly > 0) {
    out.write(`${paint('yellow', 'note')}: ${c.headerOnly} report${c.headerOnly === 1 ? ' has' : 's have'} no call trace in the log: a priority filter drops it (the trace is KERN_INFO: widen journalctl -p or the syslog rule), as does a grep or a paste that left it out\n`);
  }
}

export async function scanCommand(args: string[], help: string, version: string): Promise<number> {
  const { values: v, positionals } = parse(args, SCAN_OPTIONS);
  if (v.help) {
    out.write(help);
    return 0;
  }
  if (v.version) {
    out.write(`klogscan ${version}\n`);
    return 0;
  }
  let year: number | null = null;
  if (v.year !== undefined) {
    if (!/^\d{4}$/.test(v.year)) throw new UsageError(`--year takes a four-digit year, not "${v.year}"`);
    year = Number(v.year);
  }
  if (v['from-start'] && !v.follow) throw new UsageError('--from-start is for follow mode: klogscan -f --from-start FILE...');
  // A second `-` would wait on a stream that has ended.
  if (positionals.filter((p) => p === '-').length > 1) throw new UsageError('standard input (-) can be read only once');
  // -f on stdin is an ordinary read: a stream that pauses has its open reports finished anyway.
  const stdinOnly = positionals.length === 0 || (positionals.length === 1 && positionals[0] === '-');
  if (v['print-cursor'] || (v.follow && !stdinOnly)) {
    const { followCommand } = await import('./follow.js');
    return followCommand(v, positionals);
  }
  const setup = setupScan(v);
  const { scanner, store } = setup;
  if (year !== null) scanner.yearGiven(year);
  const inputs = positionals.length > 0 ? positionals : ['-'];
  const signals = onStopSignals();
  if (inputs.includes('-') && process.stdin.isTTY) {
    process.stderr.write('klogscan: reading kernel messages from the terminal; end with Ctrl-D (klogscan --help for more)\n');
  }
  const totals = newTotals();
  const progress = new Progress();
  let status = 0;
  let stdinFeeder: ChunkFeeder | null = null;
  // A journal JSON stream on stdin: its cursor is stored while no report is open (--print-cursor).
  const saveCursor = (): void => {
    const cursor = journalCursor(stdinFeeder?.lastLine ?? null);
    if (store && cursor && scanner.settled()) store.savePosition('-', { device: null, inode: null, offset: 0, line: 0, headHash: null, cursor });
  };
  try {
    for (const name of inputs) {
      if (out.closed || signals.isStopped()) break;
      let feeder: ChunkFeeder | null = null;
      try {
        const info = await readInput(name, (info) => {
          scanner.beginSource(info.name, year !== null ? new Date(year, 11, 31, 23, 59, 59).getTime() : info.referenceTime);
          progress.input(info.name, info.size);
          feeder = new ChunkFeeder(scanner);
          if (name === '-') stdinFeeder = feeder;
          return feeder;
        }, (n) => progress.add(n), {
          // A stream may never end (journalctl -f): reports are finished and stored when it pauses.
          idleMs: 500,
          onIdle: () => {
            scanner.flush();
            saveCursor();
            store?.commit();
          },
          onChunk: () => store?.commit(),
          beforeChunk: year === null ? () => scanner.setReferenceTime(Date.now()) : undefined,
          stop: signals.stopped,
          shouldStop: () => signals.isStopped() || out.closed,
          outputRoom: () => out.room(),
          warn: (m) => stderr(`klogscan: ${safe(m)}\n`),
        });
        totals.bytes += info.bytes;
        if (info.compressed !== null) totals.compressed = (totals.compressed ?? 0) + info.compressed;
        totals.inputs++;
        if (info.lines !== undefined) totals.lines += info.lines - ((feeder as ChunkFeeder | null)?.lineNo ?? 0);
      } catch (e) {
        if (!(e instanceof InputError)) throw e;
        // A report done but waiting for a stack dump to name its release comes out before the
        // message about this input, which is said after the reports of the inputs before it.
        scanner.releaseWaiting();
        stderr(`klogscan: ${safe(e.message)}\n`);
        totals.errors++;
        status = 2;
      } finally {
        totals.lines += (feeder as ChunkFeeder | null)?.lineNo ?? 0;
      }
      // Reports stay open from one input to the next: `klogscan messages-20190129 messages` has
      // the report that the rotation cut in two whole (and its release, from a stack dump at the
      // start of the next file). The end of the run finishes them.
      store?.commit();
    }
    // Stopped (SIGTERM) in the middle of a report: the stream was cut, not ended. The cursor stays
    // where no report was open, so that a restart with --after-cursor reads that report whole.
    const cut = signals.isStopped() && !scanner.idle();
    scanner.flush();
    if (!cut) saveCursor();
    store?.commit();
  } catch (e) {
    progress.done();
    totals.aborted = true;
    if (!out.closed) writeSummary(v, setup, totals);
    throw e;
  } finally {
    progress.done();
    signals.dispose();
    store?.close();
  }
  writeSummary(v, setup, totals);
  return status;
}
