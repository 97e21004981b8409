/**
 * Test helpers: run the pipeline in-process on text (fed in awkward chunk sizes, so chunk
 * boundaries are exercised everywhere), and run the real CLI as a child process.
 */
import { spawnSync, type ChildProcess, type SpawnSyncReturns } from 'node:child_process';
import Database from 'better-sqlite3';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { ChunkFeeder } from '../src/input/feeder.js';
import { loadRules, type RuleSet } from '../src/rules/loader.js';
import { Scanner, type AnalyzedReport } from '../src/scan.js';
import { ROOT } from './fixtures/seed-formats.js';

export { ROOT };
export const BIN = path.join(ROOT, 'bin/klogscan.js');
/** A fixed reference time: year-less syslog dates fall in 2026. */
export const REFERENCE = Date.UTC(2026, 11, 31, 12);

let builtin: RuleSet | null = null;
export function rules(): RuleSet {
  builtin ??= loadRules([], { system: false });
  return builtin;
}

export interface ScanTextOptions {
  kernel?: string | null;
  chunk?: number;
  referenceTime?: number;
  rules?: RuleSet;
}

/** Scans text (or bytes) in-process and returns the analysed reports in emission order. */
export function scanText(input: string | Buffer, opts: ScanTextOptions = {}): AnalyzedReport[] {
  const out: AnalyzedReport[] = [];
  const scanner = new Scanner({ rules: opts.rules ?? rules(), kernel: opts.kernel ?? null }, (a) => out.push(a));
  scanner.beginSource('test', opts.referenceTime ?? REFERENCE);
  const feeder = new ChunkFeeder(scanner);
  const buf = typeof input === 'string' ? Buffer.from(input) : input;
  const step = opts.chunk ?? buf.length;
  for (let i = 0; i < buf.length; i += Math.max(1, step)) feeder.push(buf.subarray(i, i + Math.max(1, step)));
  feeder.end();
  scanner.endSource();
  return out;
}

export function sample(rel: string): string {
  return fs.readFileSync(path.join(ROOT, 'samples', rel), 'utf8');
}

export interface CliResult {
  status: number | null;
  stdout: string;
  stderr: string;
  json: Record<string, unknown>[];
}

/** A database for CLI runs that do not pass --db or KLOGSCAN_DB: never the real default one. */
let scratchDb: string | null = null;

export function cli(args: string[], opts: { input?: string | Buffer; env?: Record<string, string>; cwd?: string; timeout?: number } = {}): CliResult {
  scratchDb ??= path.join(tmpdir('klogscan-db-'), 'scratch.db');
  const r: SpawnSyncReturns<string> = spawnSync(process.execPath, [BIN, ...args], {
    input: opts.input,
    encoding: 'utf8',
    cwd: opts.cwd ?? ROOT,
    timeout: opts.timeout ?? 60000,
    killSignal: 'SIGKILL',
    maxBuffer: 256 * 1024 * 1024,
    env: { ...process.env, TZ: 'UTC', NO_COLOR: '1', KLOGSCAN_RULES_D: '/nonexistent/klogscan-rules.d', KLOGSCAN_DB: scratchDb, ...opts.env },
  });
  const json: Record<string, unknown>[] = [];
  if (args.includes('--json')) {
    for (const l of r.stdout.split('\n')) if (l.startsWith('{')) json.push(JSON.parse(l) as Record<string, unknown>);
  }
  return { status: r.status, stdout: r.stdout, stderr: r.stderr, json };
}

/**
 * Waits until a running child holds every one of `files` open (its /proc/PID/fd): a follower has
 * taken its starting position once it has opened what it follows. A fixed sleep alone is not
 * enough on a loaded machine, where node's start-up can take a second. Returns at once if the
 * child has exited (the test's own assertions then say what went wrong) or where there is no /proc.
 */
export async function holdsOpen(child: ChildProcess, files: string[], ms = 20000): Promise<void> {
  if (!fs.existsSync('/proc/self/fd')) return;
  const want = files.map((f) => fs.realpathSync(f));
  const end = Date.now() + ms;
  while (child.exitCode === null && child.signalCode === null) {
    const open = new Set<string>();
    try {
      for (const fd of fs.readdirSync(`/proc/${child.pid}/fd`)) {
        try {
          open.add(fs.readlinkSync(`/proc/${child.pid}/fd/${fd}`));
        } catch {
          // closed meanwhile
        }
      }
    } catch {
      // exited meanwhile
    }
    if (want.every((f) => open.has(f))) return;
    if (Date.now() > end) throw new Error(`pid ${child.pid} did not open ${files.join(', ')} within ${ms} ms`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

export function tmpdir(prefix = 'klogscan-test-'): string {
  return fs.mkdtempSync(path.join(os.tmpdir(), prefix));
}

/** Frames as the kernel printed them, for compact assertions. */
export function frameNames(a: AnalyzedReport, reliableOnly = false): string[] {
  return a.report.frames.filter((f) => !reliableOnly || !f.unreliable).map((f) => f.fn);
}

/** The `n` of a one-row query on a klogscan database, read-only. */
export function count(file: string, sql: string): number {
  const d = new Database(file, { readonly: true });
  try {
    return (d.prepare(sql).get() as { n: number }).n;
  } finally {
    d.close();
  }
}
