/**
 * What every command shares: option parsing with one-line usage errors, stdout that goes quiet
 * when its reader leaves, colours, the rule set, and opening the store.
 */
import { parseArgs, type ParseArgsConfig } from 'node:util';
import { painter, type Painter } from '../output/term.js';
import { loadRules, type RuleSet } from '../rules/loader.js';
import { defaultDbPath, Store, type OpenOptions } from '../store.js';

export class UsageError extends Error {}

export const COMMON_OPTIONS = {
  json: { type: 'boolean' },
  db: { type: 'string' },
  rules: { type: 'string', multiple: true },
  color: { type: 'boolean' },
  'no-color': { type: 'boolean' },
  debug: { type: 'boolean' },
  help: { type: 'boolean', short: 'h' },
} satisfies ParseArgsConfig['options'];

export function parse<T extends NonNullable<ParseArgsConfig['options']>>(args: string[], options: T) {
  try {
    return parseArgs({ args, options, allowPositionals: true, strict: true });
  } catch (e) {
    // Node's messages run over several lines; an error is one line (a newline would be escaped).
    const msg = (e as Error).message.replace(/\. To specify a positional argument.*$/s, '')
      .replace(/^Option '(--?[\w-]+)' argument is ambiguous\..*$/s, "option '$1' needs a value; for a value that starts with a dash write $1=VALUE")
      // (From the first blank of a run only: tried from each, a long run took n^2 steps.)
      .replace(/(?<!\s)\s*\n\s*/g, ' ');
    throw new UsageError(`${msg.replace(/^Unknown option/, 'unknown option')} (see klogscan --help)`);
  }
}

/** Output gathered into writes of about this size when stdout is no terminal. */
const OUT_BATCH = 64 * 1024;

export const out = {
  closed: false,
  parts: [] as string[],
  size: 0,
  scheduled: false,
  /**
   * Writes `s` to stdout. Into a pipe or a file, output is gathered and written in larger pieces
   * (a write per report cost more than making the report's JSON); what is gathered goes out at
   * the next turn of the event loop at the latest, so a pause in the input never holds it back.
   * A terminal gets every piece at once.
   */
  write(s: string): void {
    if (this.closed) return;
    if (process.stdout.isTTY) {
      process.stdout.write(s);
      return;
    }
    this.parts.push(s);
    this.size += s.length;
    if (this.size >= OUT_BATCH) {
      this.flush();
    } else if (!this.scheduled) {
      this.scheduled = true;
      setImmediate(() => this.flush());
    }
  },
  /** Writes what was gathered (before anything goes to stderr, so that the order is kept). */
  flush(): void {
    this.scheduled = false;
    if (this.parts.length === 0) return;
    const s = this.parts.length === 1 ? this.parts[0] : this.parts.join('');
    this.parts = [];
    this.size = 0;
    if (!this.closed) process.stdout.write(s);
  },
  /**
   * A promise while written output is still held in memory beyond the stream's buffer size,
   * null otherwise. Readers wait on it between chunks. Node writes to pipes and files synchronously
   * but releases each write only on a later tick, so a reader that never yields would keep the
   * output of everything it read in memory; it also covers a consumer that really is slow (an
   * asynchronous stdout). Resolves as well when the consumer goes away.
   */
  room(): Promise<void> | null {
    const w = process.stdout;
    if (this.closed || w.destroyed || !w.writableNeedDrain) return null;
    return new Promise((resolve) => {
      const done = (): void => {
        w.off('drain', done);
        w.off('close', done);
        w.off('error', done);
        resolve();
      };
      w.on('drain', done);
      w.on('close', done);
      w.on('error', done);
    });
  },
};

/** A message on stderr, after the output gathered so far (so that `2>&1` keeps their order). */
export function stderr(s: string): void {
  out.flush();
  process.stderr.write(s);
}

export function paintFor(v: { color?: boolean; 'no-color'?: boolean }): Painter {
  return painter(process.stdout, v['no-color'] ? false : v.color ? true : undefined);
}

export function ruleSet(dirs: string[] | undefined): RuleSet {
  return loadRules(dirs ?? []);
}

/** Opens the database named by --db, else the default location (created on first use). */
export function openStore(db: string | undefined, opts: OpenOptions = {}): Store {
  if (db !== undefined) return Store.open(db, { ...opts, createDir: false });
  return Store.open(defaultDbPath(!opts.readonly), { ...opts, createDir: !opts.readonly });
}

/** `7d`, `24h`, `30m`, `2w`, or a date/time (`2019-01-29`, `2019-01-29T10:41`): ms since the epoch. */
export function parseWhen(s: string, flag: string, now = Date.now()): number {
  const rel = /^(\d+)\s*(s|m|h|d|w)$/.exec(s.trim());
  if (rel) {
    const unit = { s: 1e3, m: 6e4, h: 36e5, d: 864e5, w: 6048e5 }[rel[2] as 's' | 'm' | 'h' | 'd' | 'w'];
    return now - Number(rel[1]) * unit;
  }
  const date = /^(\d{4})-(\d\d)-(\d\d)(?:[T ](\d\d):(\d\d)(?::(\d\d)(?:\.\d+)?)?(?:Z|[+-]\d\d:?\d\d)?)?$/.exec(s.trim());
  if (date) {
    // Date.parse rolls 2019-02-30 over to March 2: a day or time that does not exist is an error.
    const [y, mo, d, h, mi, sec] = date.slice(1).map((x) => (x === undefined ? 0 : Number(x)));
    const days = new Date(Date.UTC(y, mo, 0)).getUTCDate();
    // In UTC unless a zone is given: history, show and stats print their times in UTC (`...Z`),
    // and a date copied from them must mean the same moment (helper-63).
    const iso = s.trim().replace(' ', 'T');
    const t = Date.parse(/(?:Z|[+-]\d\d:?\d\d)$/.test(iso) || !iso.includes('T') ? iso : `${iso}Z`);
    if (mo >= 1 && mo <= 12 && d >= 1 && d <= days && h <= 23 && mi <= 59 && sec <= 59 && !Number.isNaN(t)) return t;
  }
  throw new UsageError(`${flag} takes a duration (7d, 24h, 30m) or a date (2019-01-29, 2019-01-29T10:41), not "${s}"`);
}

/**
 * SIGINT/SIGTERM end a streaming run cleanly: the current batch is finished and stored with its
 * read position, then the command exits 0. `stopped` resolves on the first of them.
 */
export function onStopSignals(): { stopped: Promise<void>; isStopped: () => boolean; dispose: () => void } {
  let stop = false;
  let resolve: () => void = () => {};
  const stopped = new Promise<void>((r) => { resolve = r; });
  const handler = (): void => {
    stop = true;
    resolve();
  };
  process.once('SIGINT', handler);
  process.once('SIGTERM', handler);
  return {
    stopped,
    isStopped: () => stop,
    dispose: () => {
      process.off('SIGINT', handler);
      process.off('SIGTERM', handler);
    },
  };
}

/** The `__CURSOR` of a journal JSON line, if it is one. */
export function journalCursor(line: string | null): string | null {
  if (!line || !line.includes('__CURSOR')) return null;
  const m = /"__CURSOR"\s*:\s*"((?:[^"\\]|\\.)*)"/.exec(line);
  return m ? m[1] : null;
}

export function positiveInt(s: string, flag: string): number {
  if (!/^\d+$/.test(s) || Number(s) < 1 || !Number.isSafeInteger(Number(s))) {
    throw new UsageError(`${flag} takes a positive number up to ${Number.MAX_SAFE_INTEGER}, not "${s}"`);
  }
  return Number(s);
}
