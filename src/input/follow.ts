/**
 * Following files like `tail -F`, written for klogscan because the npm `tail` package loses lines
 * on rename+create rotation (it resumes at the old offset), on copytruncate (the first new line)
 * and with relative paths.
 *
 * Each followed name is polled: new bytes are read from the open descriptor, then the name is
 * stat'ed again. A different inode (rename+create, delete+recreate) moves the old descriptor to a
 * short drain period, in which whatever the writer still appends to the renamed file is read, and
 * opens the new file from its start. A file that shrank, or whose bytes before the read position
 * changed (copytruncate followed by new writes), is read again from its start. A name that does
 * not exist yet is waited for. Rotated siblings (`.1`, `-20190129`, `.gz`) are never opened as
 * new data.
 *
 * The read position (device, inode, offset, line, and a hash of the bytes before the offset) is
 * handed to the caller, who stores it with the reports it covers. The offset never passes the
 * start of a report that is still open, so a kill -9 at any moment loses nothing.
 */
import { createHash } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { rotatedName } from '../../parsers/record.js';
import { ChunkFeeder, type LineSink } from './feeder.js';
import { describeError } from './sources.js';

export interface Position {
  device: number | null;
  inode: number | null;
  offset: number;
  line: number;
  headHash: string | null;
}

/** What the follower needs from the scanner. */
export interface FollowSink extends LineSink {
  setSource(name: string): void;
  setScope(scope: string): void;
  earliestOpen(name: string): { line: number; offset: number } | null;
  openStarts(name: string): readonly OpenStart[];
  isOpen(start: OpenStart): boolean;
}

/** Where a report still open began (an object the sink can recognise later). */
export interface OpenStart {
  line: number;
  offset?: number;
}

const HASH_SPAN = 256;

/** Why a name cannot be followed right now, in a user's words. */
function openProblem(e: unknown): string {
  const code = (e as NodeJS.ErrnoException).code;
  if (code === 'ENOENT') return 'it does not exist yet';
  return describeError(e);
}

/**
 * Opens `name` if it is a regular file. Anything else (a directory, a FIFO, a device) and any
 * error (gone between stat and open, no permission, no descriptors left) is a reason to wait, not
 * to fail: a log directory being set up, or a rotation in progress, settles by itself. The open
 * is non-blocking, so that a FIFO put in a log's place cannot stall the poll loop.
 */
function openRegular(name: string): { fd: number; st: fs.Stats } | { problem: string } {
  let fd: number;
  try {
    fd = fs.openSync(name, fs.constants.O_RDONLY | fs.constants.O_NONBLOCK);
  } catch (e) {
    return { problem: openProblem(e) };
  }
  const st = fs.fstatSync(fd);
  if (st.isFile()) return { fd, st };
  fs.closeSync(fd);
  return { problem: st.isDirectory() ? 'it is a directory' : 'it is not a regular file' };
}
const READ_CAP = 64 << 20;

/**
 * Hash of the file's first bytes and of the bytes just before `offset`: tells a replaced or
 * rewritten file from the one that was read (log lines start with their time, so two files
 * differ at their head even where their tails look alike).
 */
export function hashBefore(fd: number, offset: number): string | null {
  if (offset <= 0) return null;
  const n = Math.min(HASH_SPAN, offset);
  const head = Buffer.alloc(n);
  const tail = Buffer.alloc(n);
  if (fs.readSync(fd, head, 0, n, 0) !== n || fs.readSync(fd, tail, 0, n, offset - n) !== n) return null;
  return createHash('sha1').update(head).update(tail).digest('hex').slice(0, 16);
}

interface Handle {
  fd: number;
  dev: number;
  ino: number;
  /** Next byte to read. */
  readPos: number;
  /** Hash of the bytes before readPos when they were read: a rewritten file no longer matches. */
  readHash: string | null;
  feeder: ChunkFeeder;
  /** Source name its lines are reported under. */
  source: string;
  /**
   * Where a report still open when the file was rotated away began (in this file): it was read
   * under the followed name, so the saved position must stay here until it is complete.
   */
  pinned: Set<OpenStart>;
  /** The followed name it belongs to: reports never join lines of another followed name. */
  scope: string;
}

interface Followed {
  /** Absolute path: positions and reports are keyed by it, whatever the working directory. */
  name: string;
  current: Handle | null;
  /** Renamed or replaced files still read for a moment: writers may append after a rename. */
  draining: { h: Handle; until: number }[];
  lastSize: number;
  lastMtime: number;
  /** Why the name could not be opened last time: said once, not at every poll. */
  problem: string | null;
}

export interface FollowerOptions {
  fromStart: boolean;
  /** How long a rotated-away file is still read. */
  drainMs?: number;
  log?: (msg: string) => void;
}

export class Follower {
  private readonly files: Followed[];
  private readonly buf = Buffer.allocUnsafe(1 << 20);
  private readonly drainMs: number;
  private readonly log: (msg: string) => void;
  /** Complete lines read so far, all files together (for the summary). */
  lines = 0;

  constructor(
    names: string[],
    private readonly sink: FollowSink,
    private readonly stored: (name: string) => Position | null,
    private readonly opts: FollowerOptions,
  ) {
    this.files = names.map((n) => ({ name: path.resolve(n), current: null, draining: [], lastSize: -1, lastMtime: -1, problem: null }));
    this.drainMs = opts.drainMs ?? 1000;
    this.log = opts.log ?? (() => {});
  }

  get names(): string[] {
    return this.files.map((f) => f.name);
  }

  private handle(fd: number, st: fs.Stats, offset: number, line: number, source: string, scope: string): Handle {
    return {
      fd, dev: st.dev, ino: st.ino, readPos: offset, readHash: hashBefore(fd, offset),
      feeder: new ChunkFeeder(this.sink, undefined, offset, line), source, pinned: new Set(), scope,
    };
  }

  /** Opens every name at its stored position, at its end (first run) or at 0 (--from-start). */
  start(): void {
    for (const f of this.files) this.openFirst(f);
  }

  /** Opens the name if it is a regular file; otherwise says once why it is waited for. */
  private open(f: Followed): { fd: number; st: fs.Stats } | null {
    const o = openRegular(f.name);
    if ('fd' in o) {
      f.problem = null;
      return o;
    }
    if (o.problem !== f.problem) this.log(`waiting for ${f.name}: ${o.problem}`);
    f.problem = o.problem;
    return null;
  }

  private openFirst(f: Followed): void {
    const o = this.open(f);
    if (!o) return;
    const { fd, st } = o;
    const pos = this.stored(f.name);
    if (pos && pos.device === st.dev && pos.inode === st.ino && st.size >= pos.offset && hashBefore(fd, pos.offset) === pos.headHash) {
      f.current = this.handle(fd, st, pos.offset, pos.line, f.name, f.name);
      return;
    }
    if (pos && (pos.device !== st.dev || pos.inode !== st.ino)) {
      // Rotated while klogscan was down: finish the old file first if it is still next to us.
      const old = this.findRotated(f.name, pos);
      if (old) f.draining.push({ h: old, until: 0 });
      else if (pos.offset > 0) {
        // Compressed (logrotate `compress` without `delaycompress`) or deleted: say what is missed.
        this.log(`${f.name} was rotated while klogscan was not running and the rotated file is gone (compressed or deleted): what was written to it after the stored position is not read, and a report that began there comes out incomplete`);
      }
      f.current = this.handle(fd, st, 0, 0, f.name, f.name);
      return;
    }
    if (pos) {
      // copytruncate while klogscan was down: the copy (`messages.1`, `messages-20190129`) holds
      // what was written after the stored position; it begins with the same bytes.
      const copy = pos.offset > 0 ? this.findRotated(f.name, pos, true) : null;
      if (copy) f.draining.push({ h: copy, until: 0 });
      else this.log(`${f.name} was truncated or replaced while klogscan was not running: reading it from the start`);
      f.current = this.handle(fd, st, 0, 0, f.name, f.name);
      return;
    }
    if (this.opts.fromStart) {
      f.current = this.handle(fd, st, 0, 0, f.name, f.name);
      return;
    }
    // First run: start after the last complete line, counting lines so that reports say where they are.
    const { offset, lines } = endOfLastLine(fd, st.size);
    f.current = this.handle(fd, st, offset, lines, f.name, f.name);
  }

  /**
   * A rotated sibling with the stored inode (`messages.1`, `messages-20190129`), or (`copied`) any
   * sibling whose first bytes up to the stored offset are those read before (a copytruncate
   * copy), opened at the stored offset.
   */
  private findRotated(name: string, pos: Position, copied = false): Handle | null {
    const dir = path.dirname(name);
    const base = path.basename(name);
    let entries: string[];
    try {
      entries = fs.readdirSync(dir).filter((e) => e !== base && e.startsWith(base) && !/\.(gz|xz|bz2|zst)$/.test(e));
    } catch {
      return null;
    }
    for (const e of entries) {
      const p = path.join(dir, e);
      try {
        const o = openRegular(p);
        if (!('fd' in o)) continue;
        const { fd, st } = o;
        if ((!copied && (st.dev !== pos.device || st.ino !== pos.inode)) || st.size < pos.offset) {
          fs.closeSync(fd);
          continue;
        }
        if (hashBefore(fd, pos.offset) !== pos.headHash) {
          fs.closeSync(fd);
          continue;
        }
        this.log(`${name} was ${copied ? 'copied and truncated' : 'rotated'} while klogscan was not running: reading the rest of ${p} first`);
        return this.handle(fd, st, pos.offset, pos.line, rotatedName(name), name);
      } catch {
        continue;
      }
    }
    return null;
  }

  /** Reads what is new; returns the number of bytes read. */
  private drain(h: Handle): number {
    let total = 0;
    this.sink.setSource(h.source);
    this.sink.setScope(h.scope);
    while (total < READ_CAP) {
      const n = fs.readSync(h.fd, this.buf, 0, this.buf.length, h.readPos);
      if (n <= 0) break;
      h.readPos += n;
      total += n;
      const before = h.feeder.lineNo;
      h.feeder.push(n === this.buf.length ? this.buf : this.buf.subarray(0, n));
      this.lines += h.feeder.lineNo - before;
    }
    if (total > 0) h.readHash = hashBefore(h.fd, h.readPos);
    return total;
  }

  private retire(h: Handle): void {
    this.sink.setSource(h.source);
    this.sink.setScope(h.scope);
    h.feeder.end();
    try {
      fs.closeSync(h.fd);
    } catch {
      // already closed
    }
  }

  /** One polling round: read new data, follow rotations. Returns the bytes read. */
  poll(now: number, forceCheck = false): number {
    let total = 0;
    for (const f of this.files) {
      // Old files first: their lines were written before the new file's.
      for (const d of [...f.draining]) {
        total += this.drain(d.h);
        // A report that began in the old file keeps it (and the saved position) until it is complete.
        if (now >= d.until && !this.holdsOpen(d.h, d.until === 0)) {
          this.retire(d.h);
          f.draining.splice(f.draining.indexOf(d), 1);
        }
      }
      if (!f.current) this.openFirstAppeared(f);
      // Rotation and truncation are checked before reading: after a copytruncate the old offset
      // points into new data, which must be read from its start instead.
      if (f.current) total += this.checkName(f, now, forceCheck);
      if (f.current) total += this.drain(f.current);
    }
    return total;
  }

  /** A file that did not exist (or went away) and is back: it is all new data. */
  private openFirstAppeared(f: Followed): void {
    const o = this.open(f);
    if (!o) return;
    const { fd, st } = o;
    this.log(`${f.name} appeared: following it from the start`);
    f.current = this.handle(fd, st, 0, 0, f.name, f.name);
    f.lastSize = -1;
  }

  /** The current file was renamed or replaced: what it still gets is read as the rotated file's. */
  private rotateAway(f: Followed, h: Handle): void {
    // Nothing of the new file has been read yet: every report open under the name began here
    // (or in an older rotated file, which holds it already).
    const older = new Set(f.draining.flatMap((d) => [...d.h.pinned]));
    for (const start of this.sink.openStarts(f.name)) {
      if (!older.has(start) && start.offset !== undefined && start.offset < h.feeder.offset) h.pinned.add(start);
    }
    // Each rotated file gets a name of its own while it is read, so that what begins in it is
    // told from what begins in another one; nearly always there is only one.
    const taken = new Set(f.draining.map((d) => d.h.source));
    let name = rotatedName(f.name);
    for (let n = 2; taken.has(name); n++) name = rotatedName(f.name, n);
    h.source = name;
  }

  /** The earliest start of a report still open that began in a rotated-away file, or null. */
  private heldStart(h: Handle): OpenStart | null {
    let best: OpenStart | null = null;
    for (const start of [...h.pinned]) {
      if (!this.sink.isOpen(start)) h.pinned.delete(start);
      else if (!best || start.offset! < best.offset!) best = start;
    }
    const own = this.sink.earliestOpen(h.source);
    return own && (!best || own.offset < best.offset!) ? own : best;
  }

  /**
   * Whether a rotated-away file must keep the saved position: it holds the start of a report that
   * is still open, or (after a restart) bytes not read yet.
   */
  private holdsOpen(h: Handle, restarted: boolean): boolean {
    if (this.heldStart(h) !== null) return true;
    if (!restarted) return false;
    try {
      return fs.fstatSync(h.fd).size > h.readPos;
    } catch {
      return false;
    }
  }

  /** Follows a rotation or truncation of the name; returns the bytes read from a rotated-away file. */
  private checkName(f: Followed, now: number, force: boolean): number {
    const h = f.current;
    if (!h) return 0;
    let st: fs.Stats;
    try {
      st = fs.statSync(f.name);
    } catch {
      // Renamed away or deleted: keep reading the old file for a moment, then wait for the name.
      this.rotateAway(f, h);
      f.draining.push({ h, until: now + this.drainMs });
      f.current = null;
      return 0;
    }
    if (st.dev !== h.dev || st.ino !== h.ino) {
      this.rotateAway(f, h);
      f.draining.push({ h, until: now + this.drainMs });
      // The old file is read first, on this very round (and counts as data: no idle flush now).
      const read = this.drain(h);
      f.current = null;
      f.lastSize = -1;
      // The new name may be gone again or be no file; then it is waited for like a missing one.
      const o = this.open(f);
      if (!o) return read;
      f.current = this.handle(o.fd, o.st, 0, 0, f.name, f.name);
      this.log(`${f.name} was rotated: following the new file`);
      return read;
    }
    // A changed size or modification time means new writes: check that the bytes before our
    // position are still ours (a copytruncate followed by as many new bytes keeps the size).
    const grew = st.size !== f.lastSize || st.mtimeMs !== f.lastMtime;
    f.lastSize = st.size;
    f.lastMtime = st.mtimeMs;
    if (st.size < h.readPos || ((force || grew) && h.readPos > 0 && hashBefore(h.fd, h.readPos) !== h.readHash)) {
      // copytruncate (or a rewrite): everything in the file now is new.
      this.log(`${f.name} was truncated: reading it again from the start`);
      this.sink.setSource(h.source);
      this.sink.setScope(h.scope);
      h.readPos = 0;
      h.readHash = null;
      h.feeder = new ChunkFeeder(this.sink, undefined, 0, 0);
    }
    return 0;
  }

  /**
   * Positions to store: never past the start of a report still open, never inside a line. While
   * a report that began in a rotated-away file is open, the position stays in that file: after a
   * kill -9 the restart finds it by its inode (findRotated) and reads the report again from its
   * start, then the new file from its start (its reports are known to the store, not repeated).
   */
  positions(): { name: string; pos: Position }[] {
    const out: { name: string; pos: Position }[] = [];
    for (const f of this.files) {
      // The newest rotated file that still matters: two rotations within the life of one report
      // are too rare to keep an older file (and every file between) for.
      const held = [...f.draining].reverse().find((d) => this.holdsOpen(d.h, d.until === 0))?.h;
      const h = held ?? f.current;
      if (!h) continue;
      const open = held ? this.heldStart(held) : this.sink.earliestOpen(h.source);
      const before = open && open.offset !== undefined && open.offset < h.feeder.offset ? open.offset : null;
      const offset = before ?? h.feeder.offset;
      const line = before !== null ? open!.line - 1 : h.feeder.lineNo;
      out.push({ name: f.name, pos: { device: h.dev, inode: h.ino, offset, line, headHash: hashBefore(h.fd, offset) } });
    }
    return out;
  }

  close(): void {
    for (const f of this.files) {
      for (const d of f.draining) this.retire(d.h);
      f.draining = [];
      if (f.current) this.retire(f.current);
      f.current = null;
    }
  }
}

/** The offset just after the last newline before `size`, and how many lines come before it. */
function endOfLastLine(fd: number, size: number): { offset: number; lines: number } {
  const buf = Buffer.allocUnsafe(1 << 20);
  let pos = 0;
  let lines = 0;
  let lastNl = -1;
  while (pos < size) {
    const n = fs.readSync(fd, buf, 0, Math.min(buf.length, size - pos), pos);
    if (n <= 0) break;
    let p = 0;
    while ((p = buf.indexOf(10, p)) !== -1 && p < n) {
      lines++;
      lastNl = pos + p;
      p++;
    }
    pos += n;
  }
  return { offset: lastNl + 1, lines };
}
