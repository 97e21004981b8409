/**
 * The analysis pipeline for one run: lines -> assembler (parsers/) -> reports -> kernel release
 * fallback (--kernel) -> fingerprint and signature -> rule matches with verdicts -> the caller's
 * callback. The Scanner is the LineSink the input feeder drives; it does no I/O itself.
 */
import fs from 'node:fs';
import os from 'node:os';
import { Assembler, type BootEvent, type SourcePosition } from '../parsers/assembler.js';
import type { DecodeContext, LineFormat } from '../parsers/formats/index.js';
import { BLOCKED_KINDS, type TaskReport } from '../parsers/record.js';
import { identify, type Identity } from './fingerprint.js';
import { debianPackage } from './proc/parse.js';
import type { LineSink } from './input/feeder.js';
import { matchRules, type RuleMatch } from './rules/engine.js';
import type { RuleSet } from './rules/loader.js';

export interface AnalyzedReport {
  report: TaskReport;
  identity: Identity;
  matches: RuleMatch[];
  /** Incident id once the store has recorded the report. */
  incident: number | null;
}

/** Host identity: the first label of the name, lower case ('' when the log names no host). */
export function hostKey(name: string | null): string {
  if (!name) return '';
  if (/^\d+\.\d+\.\d+\.\d+$/.test(name) || name.includes(':')) return name.toLowerCase();
  return name.split('.')[0].toLowerCase();
}

/**
 * The kernel klogscan runs under: its release, the machine's name, when it booted (ms), and the
 * boot's id (/proc/sys/kernel/random/boot_id as 32 hex digits, the journal's `_BOOT_ID` form).
 */
export interface RunningKernel {
  release: string;
  host: string;
  bootTime: number;
  bootId: string | null;
  /** Debian's package version of it (`Debian 6.1.123-1` in /proc/sys/kernel/version), when it says. */
  kernelPackage?: string | null;
}

/** A boot id in the journal's form: 32 lower-case hex digits (the kernel's file has dashes). */
export function bootIdKey(id: string | null | undefined): string | null {
  const k = id?.trim().replace(/-/g, '').toLowerCase() ?? '';
  return /^[0-9a-f]{32}$/.test(k) ? k : null;
}

/** This machine's running kernel (uname -r, the host name, the boot time and id). */
export function runningKernel(): RunningKernel {
  let bootId: string | null = null;
  let kernelPackage: string | null = null;
  try {
    bootId = bootIdKey(fs.readFileSync('/proc/sys/kernel/random/boot_id', 'latin1'));
    kernelPackage = debianPackage(fs.readFileSync('/proc/sys/kernel/version', 'latin1'));
  } catch {
    // not Linux, or /proc is not mounted: the host name and the clock decide
  }
  return { release: os.release(), host: os.hostname(), bootTime: Date.now() - os.uptime() * 1000, bootId, kernelPackage };
}

/**
 * A boot's time is known to a second or so (now minus the uptime), and nothing is printed before
 * it: a report stamped earlier is of the boot before, however close.
 */
const BOOT_SLACK_MS = 5_000;

/**
 * Whether a report was printed by the kernel running now: its log names this machine (not a
 * `localhost` that every machine calls itself) and its wall clock falls after this boot, so that
 * RHEL 7's reports in the live /var/log/messages, which print no release, are judged against
 * the running one. A copied log of another machine, or of an earlier boot, is not. A journal's
 * entries carry their boot's id, which settles it.
 */
function printedByRunning(r: TaskReport, running: RunningKernel): boolean {
  // A journal names the boot of each entry: that is exact, whatever the host is called.
  const boot = bootIdKey(r.bootId);
  if (boot !== null && running.bootId !== null) return boot === running.bootId;
  const key = hostKey(r.host);
  // A year-less date read from a stream was placed in the year of now: an old log piped in is no proof.
  if (r.yearGuessed && r.source.name === '-') return false;
  return key !== '' && key !== 'localhost' && key === hostKey(running.host) && r.time !== null
    && r.time >= running.bootTime - BOOT_SLACK_MS && r.time <= Date.now() + 120_000;
}

export interface ScanOptions {
  rules: RuleSet;
  /**
   * The release to judge every report against (--kernel): the running kernel after an upgrade,
   * or the release of a log that does not name one. The log's own release stays in logKernel.
   */
  kernel?: string | null;
  /** The kernel running here: judges the reports of this machine's current boot that name no release. */
  running?: RunningKernel | null;
  format?: LineFormat;
  /** Closes reports whose stream has been silent this many lines. */
  gapLines?: number;
}

export interface ScanCounts {
  reports: number;
  kinds: Record<string, number>;
  truncated: number;
  headerOnly: number;
  /** Hung tasks read from their task line and trace, without a header in the log. */
  headerless: number;
  matched: number;
  hosts: Set<string | null>;
}

/** Runs the rules and the fingerprint on an assembled report. */
export function analyze(report: TaskReport, rules: RuleSet, kernel: string | null = null, running: RunningKernel | null = null): AnalyzedReport {
  if (kernel) {
    // The log's Debian package version (`#1 Debian 5.10.46-4`) is that of the log's release, not of
    // the one given: judged against it, 5.10.0-9-amd64 would look as old as 5.10.46.
    if (kernel !== report.kernel) report.kernelPackage = null;
    report.kernel = kernel;
    report.kernelSource = 'user';
  } else if (report.kernel === null && running && printedByRunning(report, running)) {
    report.kernel = running.release;
    report.kernelPackage = running.kernelPackage ?? null;
    report.kernelSource = 'running';
  }
  const identity = identify(report.kind, report.task, report.frames, report.crash);
  // (Each rule says which kinds of report it reads: hung tasks unless it names others.)
  const matches = matchRules(rules, report, identity.culprit);
  return { report, identity, matches, incident: null };
}

export class Scanner implements LineSink {
  readonly needles: readonly string[];
  readonly counts: ScanCounts = { reports: 0, kinds: {}, truncated: 0, headerOnly: 0, headerless: 0, matched: 0, hosts: new Set() };
  private readonly ctx: DecodeContext = { referenceTime: Date.now() };
  private readonly assembler: Assembler;
  private sourceName = '-';

  constructor(
    private readonly opts: ScanOptions,
    private readonly onReport: (a: AnalyzedReport) => void,
    hooks: { onBoot?: (b: BootEvent & { bootKey: string }) => void } = {},
  ) {
    const onBoot = hooks.onBoot;
    this.assembler = new Assembler(this.ctx, (r) => this.report(r), {
      onBoot: onBoot ? (b) => { if (b.bootKey) onBoot({ ...b, bootKey: b.bootKey }); } : undefined,
      contextNeedles: opts.rules.needles,
      contextKeep: opts.rules.keeps,
      format: opts.format,
      gapLines: opts.gapLines,
    });
    this.needles = this.assembler.needles;
  }

  /** The kernel's other problem reports given (soft lockups, RCU stalls, oopses...), by kind. */
  get others(): Readonly<Record<string, number>> {
    const out: Record<string, number> = {};
    for (const [k, n] of Object.entries(this.counts.kinds)) if (!BLOCKED_KINDS.has(k)) out[k] = n;
    return out;
  }

  /** Hosts whose kernel said further hung-task reports are suppressed. */
  get suppressed(): Set<string | null> {
    return this.assembler.suppressed;
  }

  /** Starts a new input; `referenceTime` places syslog dates that carry no year. */
  beginSource(name: string, referenceTime: number): void {
    this.sourceName = name;
    this.ctx.referenceTime = referenceTime;
    if (this.ctx.givenYear) this.ctx.givenYear.latest = null;
  }

  /** Ends the current input: reports never span two inputs. */
  endSource(): void {
    this.assembler.flush();
  }

  /**
   * The user gave the year of year-less dates (--year): they are no guesses. It is the year of
   * each input's first such date; later ones fall in it or the next (a log into January).
   */
  yearGiven(year: number): void {
    this.ctx.yearGiven = true;
    this.ctx.givenYear = { first: year, latest: null };
  }

  /** Moves the reference for year-less dates on (a stream is dated when it is read). */
  setReferenceTime(referenceTime: number): void {
    this.ctx.referenceTime = referenceTime;
  }

  /** Hands on the reports that wait for a stack dump naming their release (follow mode after each read; before an input's error). */
  releaseWaiting(): void {
    this.assembler.releaseWaiting();
  }

  /** Finishes every open report now (end of input or an idle stream). */
  /** Finishes what is open; `keepUnfinished`: not a report in the middle of its trace (see Assembler.flush). */
  flush(keepUnfinished = false): void {
    this.assembler.flush(keepUnfinished);
  }

  /** No report open: lines without needles may be skipped. */
  idle(): boolean {
    return this.assembler.openCount === 0;
  }

  /** Idle, and no report held back either (a header-less hung task waits for flush()). */
  settled(): boolean {
    return this.assembler.openCount === 0 && this.assembler.heldCount === 0;
  }

  line(text: string, lineNo: number, start?: number): void {
    this.assembler.push(text, { name: this.sourceName, line: lineNo, offset: start });
  }

  /** Where the earliest report still open in an input began (follow mode must not save past it). */
  earliestOpen(name: string): { line: number; offset: number } | null {
    const p = this.assembler.earliestOpen(name);
    return p && p.offset !== undefined ? { line: p.line, offset: p.offset } : null;
  }

  /** Where each report still open in an input began; pass one to isOpen() later. */
  openStarts(name: string): readonly { line: number; offset?: number }[] {
    return this.assembler.openStarts(name);
  }

  /** Whether the report that began at `start` (from openStarts) is still open. */
  isOpen(start: { line: number; offset?: number }): boolean {
    return this.assembler.isOpen(start as SourcePosition);
  }

  /** Reports never span two scopes (follow mode: one per followed name). */
  setScope(scope: string): void {
    this.assembler.setScope(scope);
  }

  /** The input lines are attributed to from now on (follow mode switches between files). */
  setSource(name: string): void {
    this.sourceName = name;
  }

  private report(r: TaskReport): void {
    const a = analyze(r, this.opts.rules, this.opts.kernel ?? null, this.opts.running ?? null);
    const c = this.counts;
    c.reports++;
    c.kinds[r.kind] = (c.kinds[r.kind] ?? 0) + 1;
    if (r.truncated) c.truncated++;
    // (A panic, a lone OOM kill line or a workqueue lockup print no trace of their own.)
    if (r.frames.length === 0 && !r.truncated && !r.crash) c.headerOnly++;
    if (r.headerless) c.headerless++;
    // A rule whose bug this kernel has the fix for (or predates) names no cause of this hang.
    if (a.matches.some((m) => m.verdict !== 'fixed')) c.matched++;
    c.hosts.add(r.host);
    this.onReport(a);
  }
}
