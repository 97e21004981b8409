/**
 * Opening inputs: files (plain or gzip, recognised by their magic bytes, not their name), `-` and
 * stdin, and streams named like files (`klogscan <(cmd)`, /dev/stdin, a FIFO, a device). Each input
 * is read in large chunks into a ChunkFeeder. Errors a user can act on become InputError with a
 * one-line message; the caller goes on with the next input.
 */
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import net from 'node:net';
import { Readable } from 'node:stream';
import tty from 'node:tty';
import type { ChunkFeeder } from './feeder.js';
import { gunzipMembers } from './gunzip.js';
import { parallelMinimum, PartReadError, scanFileParallel, threadCount } from './parallel.js';

export const CHUNK_SIZE = 1 << 20;

export class InputError extends Error {}

const REASONS: Record<string, string> = {
  ENOENT: 'no such file',
  EACCES: 'permission denied',
  EPERM: 'permission denied',
  EISDIR: 'is a directory',
  ENOTDIR: 'a part of the path is not a directory',
  ELOOP: 'too many symbolic links',
  EMFILE: 'too many open files',
  ENFILE: 'too many open files in the system',
  EIO: 'input/output error',
  ENOSPC: 'no space left on device',
  ENXIO: 'no such device or address (a socket?)',
};

export function describeError(e: unknown): string {
  const err = e as NodeJS.ErrnoException;
  if (err && typeof err.code === 'string' && REASONS[err.code]) return REASONS[err.code];
  if (err && err.code === 'Z_DATA_ERROR') return `not valid gzip data (${err.message})`;
  if (err && err.code === 'Z_BUF_ERROR') return 'gzip data ends early (truncated file)';
  return err?.message ?? String(e);
}

export interface InputInfo {
  name: string;
  /**
   * Modification time of a file (ms), or now for a stream: the reference for year-less dates.
   * Streams move it on as they are read (StreamOptions.beforeChunk).
   */
  referenceTime: number;
  /** Bytes of log text read (decompressed, for gzip). */
  bytes: number;
  /** Bytes of gzip data read, null when the input is not gzip. */
  compressed: number | null;
  /** Size of a file in bytes (the compressed size for gzip), null for streams. */
  size: number | null;
  /** Lines read (set when the lines were counted elsewhere than in the feeder). */
  lines?: number;
}


/**
 * An error of the input itself (a read, the gzip data), as opposed to one of the pipeline it feeds
 * (the store, say), which must not be reported as an unreadable input.
 */
class InputFailure extends Error {
  constructor(readonly reason: unknown) {
    super(describeError(reason));
  }
}

async function drain(chunks: AsyncIterable<Buffer>, feeder: ChunkFeeder, onBytes: (n: number) => void, opts: StreamOptions): Promise<void> {
  const it = chunks[Symbol.asyncIterator]();
  try {
    while (!opts.shouldStop?.()) {
      let r: IteratorResult<Buffer>;
      try {
        r = await it.next();
      } catch (e) {
        throw new InputFailure(e);
      }
      if (r.done) return;
      onBytes(r.value.length);
      feeder.push(r.value);
      const room = opts.outputRoom?.();
      if (room) await room;
    }
  } finally {
    await it.return?.();
  }
}

/** Streams that may never end (journalctl -f, dmesg -w): after `idleMs` without data, `onIdle`. */
export interface StreamOptions {
  idleMs?: number;
  onIdle?: () => void;
  /** Called after every chunk has been fed. */
  onChunk?: () => void;
  /**
   * Called before each chunk of a stream (stdin, a pipe) is fed: its lines are being read now, so
   * it is the reference for their year-less dates, however long the stream has been running.
   */
  beforeChunk?: () => void;
  /** Resolves the read early (SIGTERM): what was read so far is kept. */
  stop?: Promise<void>;
  /** Checked between chunks: true ends the read early (a stop signal, a reader that went away). */
  shouldStop?: () => boolean;
  /** Between chunks: a promise to wait on before reading more (the output is backed up). */
  outputRoom?: () => Promise<void> | null;
  /** A problem that leaves the input readable (bytes after the gzip data): one line for the user. */
  warn?: (message: string) => void;
}

function drainWithIdle(stream: Readable, feeder: ChunkFeeder, onBytes: (n: number) => void, opts: StreamOptions): Promise<void> {
  return new Promise((resolve, reject) => {
    let timer: NodeJS.Timeout | null = null;
    let settled = false;
    const settle = (e?: unknown): void => {
      if (settled) return;
      settled = true;
      if (timer) clearTimeout(timer);
      stream.off('data', onData);
      if (e === undefined) resolve();
      else reject(e);
    };
    // The pipeline runs inside these callbacks: what it throws (the store failing) ends the read.
    const guard = (f: () => void) => (): void => {
      try {
        f();
      } catch (e) {
        settle(e);
      }
    };
    const arm = (): void => {
      if (timer) clearTimeout(timer);
      if (opts.onIdle) timer = setTimeout(guard(opts.onIdle), opts.idleMs ?? 500);
    };
    const onData = (chunk: Buffer): void => guard(() => {
      if (opts.shouldStop?.()) {
        settle();
        return;
      }
      opts.beforeChunk?.();
      onBytes(chunk.length);
      feeder.push(chunk);
      opts.onChunk?.();
      arm();
      const room = opts.outputRoom?.();
      if (room) {
        stream.pause();
        void room.then(() => stream.resume());
      }
    })();
    stream.on('data', onData);
    stream.once('end', () => settle());
    stream.once('error', (e) => settle(new InputFailure(e)));
    opts.stop?.then(() => settle(), () => settle());
  });
}

/**
 * Waits for the first bytes of a stream (whether it is gzip) and leaves them in it. Null when the
 * stream ends first, or the run is stopped first: a FIFO nobody writes to waits for ever.
 */
function firstBytes(stream: Readable, stop?: Promise<void>): Promise<Buffer | null> {
  return new Promise((resolve, reject) => {
    const finish = (b: Buffer | null, e?: unknown): void => {
      stream.off('readable', onReadable);
      stream.off('end', onEnd);
      stream.off('error', finish);
      if (e) reject(e);
      else resolve(b);
    };
    const onReadable = (): void => {
      const b = stream.read() as Buffer | null;
      if (b === null) return;
      stream.unshift(b);
      finish(b);
    };
    const onEnd = (): void => finish(null);
    stream.on('readable', onReadable);
    stream.once('end', onEnd);
    stream.once('error', (e) => finish(null, new InputFailure(e)));
    stop?.then(onEnd, onEnd);
  });
}

function isGzip(b: Buffer): boolean {
  return b.length >= 2 && b[0] === 0x1f && b[1] === 0x8b;
}

/** The first bytes of a systemd journal file (`LPKSHHRH`). */
const JOURNAL_MAGIC = Buffer.from('LPKSHHRH');

/**
 * A systemd journal file (`/var/log/journal/ID/system.journal`, a `.journal~` kept after a
 * crash) is read through journalctl, whose format it is: its kernel entries as JSON lines, which
 * carry the host, the times and the boot id. Without journalctl it is one clear error.
 */
async function readJournalFile(name: string, info: InputInfo, feeder: ChunkFeeder, opts: StreamOptions): Promise<void> {
  info.size = null;
  const child = spawn('journalctl', ['--file', name, '--output', 'json', '--no-pager', '_TRANSPORT=kernel'], {
    stdio: ['ignore', 'pipe', 'pipe'],
    env: { ...process.env, SYSTEMD_COLORS: '0', SYSTEMD_PAGER: '' },
  });
  let stderr = '';
  child.stderr.on('data', (d: Buffer) => {
    if (stderr.length < 4096) stderr += d.toString('utf8');
  });
  const closed = new Promise<{ code: number | null; failed?: NodeJS.ErrnoException }>((resolve) => {
    child.once('error', (e: NodeJS.ErrnoException) => resolve({ code: null, failed: e }));
    child.once('close', (code) => resolve({ code }));
  });
  try {
    await drain(child.stdout, feeder, (n) => { info.bytes += n; }, opts);
  } finally {
    child.kill();
  }
  const { code, failed } = await closed;
  if (failed) {
    throw new InputError(failed.code === 'ENOENT'
      ? `${name}: a systemd journal file, and journalctl, which reads it, is not installed`
      : `${name}: a systemd journal file, and journalctl cannot be run (${describeError(failed)})`);
  }
  // Stopped early (SIGTERM, | head): journalctl ends by our signal, which is no error of the file.
  if (code !== 0 && !opts.shouldStop?.()) {
    const why = stderr.split('\n').map((l) => l.trim()).find((l) => l.length > 0) ?? `exit status ${code}`;
    throw new InputError(`cannot read ${name}: journalctl: ${why}`);
  }
}

const printable = (c: number): boolean => c === 9 || (c >= 32 && c < 127);

/**
 * UTF-16 text (a log saved on Windows: PowerShell's `>` and `Out-File`, Notepad's "Unicode"): by
 * its byte order mark, or, without one, by ASCII text whose every other byte is NUL.
 */
function utf16Of(b: Buffer): 'utf-16le' | 'utf-16be' | null {
  if (b.length >= 2 && b[0] === 0xff && b[1] === 0xfe) return 'utf-16le';
  if (b.length >= 2 && b[0] === 0xfe && b[1] === 0xff) return 'utf-16be';
  if (b.length < 4) return null;
  if (b[1] === 0 && b[3] === 0 && printable(b[0]) && printable(b[2])) return 'utf-16le';
  if (b[0] === 0 && b[2] === 0 && printable(b[1]) && printable(b[3])) return 'utf-16be';
  return null;
}

/** UTF-16 chunks as UTF-8 (the byte order mark dropped, a character split between chunks kept whole). */
async function* toUtf8(source: AsyncIterable<Buffer>, encoding: 'utf-16le' | 'utf-16be'): AsyncGenerator<Buffer> {
  const decoder = new TextDecoder(encoding);
  for await (const c of source) {
    const text = decoder.decode(c, { stream: true });
    if (text.length > 0) yield Buffer.from(text, 'utf8');
  }
  const rest = decoder.decode();
  if (rest.length > 0) yield Buffer.from(rest, 'utf8');
}

/** Chunks of text (decompressed or not), turned into UTF-8 when their first bytes say UTF-16. */
async function* asUtf8(source: AsyncIterable<Buffer>): AsyncGenerator<Buffer> {
  const it = source[Symbol.asyncIterator]();
  const first = await it.next();
  if (first.done) return;
  const rest: AsyncIterable<Buffer> = { [Symbol.asyncIterator]: () => it };
  const encoding = utf16Of(first.value);
  if (!encoding) {
    yield first.value;
    yield* rest;
    return;
  }
  yield* toUtf8((async function* () {
    yield first.value;
    yield* rest;
  })(), encoding);
}

/** The chunks of `source`, counted on the way (compressed bytes, for --stats and progress). */
async function* counted(source: AsyncIterable<Buffer>, count: (n: number) => void): AsyncGenerator<Buffer> {
  for await (const c of source) {
    count(c.length);
    yield c;
  }
}

function gunzip(name: string, source: AsyncIterable<Buffer>, info: InputInfo, onCompressed: (n: number) => void, opts: StreamOptions): AsyncGenerator<Buffer> {
  info.compressed = 0;
  return gunzipMembers(counted(source, (n) => {
    info.compressed! += n;
    onCompressed(n);
  }), () => opts.warn?.(`${name}: trailing garbage ignored (after the gzip data)`));
}

/**
 * stdin, a pipe or a device: read as it comes, gzip recognised by its first bytes, the open
 * reports finished whenever it pauses. The stream is destroyed at the end: a writer that keeps a
 * pipe open (`tail -f x | klogscan`) must not keep klogscan alive after SIGTERM.
 */
async function readStream(stream: Readable, name: string, what: string, makeFeeder: (info: InputInfo) => ChunkFeeder,
  onBytes: (n: number) => void, opts: StreamOptions): Promise<InputInfo> {
  const info: InputInfo = { name, referenceTime: Date.now(), bytes: 0, compressed: null, size: null };
  const feeder = makeFeeder(info);
  let data = stream;
  try {
    const first = await firstBytes(stream, opts.stop);
    if (first && first.length >= 8 && first.subarray(0, 8).equals(JOURNAL_MAGIC)) {
      throw new InputError(`${what} is a systemd journal file: give its name, or pipe \`journalctl --file FILE -o json\``);
    }
    if (first && isGzip(first)) data = Readable.from(asUtf8(gunzip(name, stream, info, () => {}, opts)), { objectMode: false });
    else if (first && utf16Of(first)) data = Readable.from(asUtf8(stream), { objectMode: false });
    if (first) await drainWithIdle(data, feeder, (n) => { info.bytes += n; onBytes(n); }, opts);
  } catch (e) {
    if (e instanceof InputFailure) throw new InputError(`cannot read ${what}: ${e.message}`);
    throw e;
  } finally {
    feeder.end();
    data.destroy();
    stream.destroy();
  }
  return info;
}

function openAsync(name: string, flags: number): Promise<number> {
  return new Promise((resolve, reject) => fs.open(name, flags, (e, fd) => (e ? reject(e) : resolve(fd))));
}

/** A stream over a pipe, socket or character device, which cannot be read at positions. Takes `fd` over. */
async function deviceStream(name: string, fd: number, st: fs.Stats): Promise<Readable> {
  if (st.isFIFO() || st.isSocket()) return new net.Socket({ fd, readable: true, writable: false });
  if (tty.isatty(fd)) return new tty.ReadStream(fd);
  // Other devices get a blocking descriptor: /dev/kmsg answers a non-blocking read with EAGAIN.
  const blocking = await openAsync(name, fs.constants.O_RDONLY);
  fs.closeSync(fd);
  return fs.createReadStream(name, { fd: blocking, highWaterMark: CHUNK_SIZE });
}

/** Reads a whole input into the feeder. `makeFeeder` is called once the input is open. */
export async function readInput(
  name: string,
  makeFeeder: (info: InputInfo) => ChunkFeeder,
  onBytes: (n: number) => void = () => {},
  stream: StreamOptions = {},
): Promise<InputInfo> {
  // Names of klogscan's own stdin: opened again they fail when stdin is a socket (ENXIO), as it
  // is under systemd or a parent that talks over a socket pair; read as `-`, they always work.
  if (name === '-' || name === '/dev/stdin' || name === '/dev/fd/0' || name === '/proc/self/fd/0') {
    // Node reads a directory on fd 0 as an empty stream.
    let dir = false;
    try {
      dir = fs.fstatSync(0).isDirectory();
    } catch {
      // no stdin at all: Node gives an empty stream
    }
    if (dir) throw new InputError('cannot read standard input: is a directory');
    return readStream(process.stdin, name, 'standard input', makeFeeder, onBytes, stream);
  }
  let fd: number;
  try {
    // Non-blocking: opening a FIFO nobody writes to would wait for a writer in a thread that no
    // signal can stop. On regular files the flag changes nothing.
    fd = await openAsync(name, fs.constants.O_RDONLY | fs.constants.O_NONBLOCK);
  } catch (e) {
    throw new InputError(`cannot read ${name}: ${describeError(e)}`);
  }
  /** Closed here unless a stream took the descriptor over (it closes it after its last read). */
  let owned = true;
  try {
    const st = fs.fstatSync(fd);
    if (st.isDirectory()) throw new InputError(`cannot read ${name}: is a directory`);
    if (!st.isFile()) {
      const s = await deviceStream(name, fd, st);
      owned = false;
      return await readStream(s, name, name, makeFeeder, onBytes, stream);
    }
    const info: InputInfo = { name, referenceTime: st.mtimeMs || Date.now(), bytes: 0, compressed: null, size: st.size };
    const magic = Buffer.alloc(8);
    const bytesRead = fs.readSync(fd, magic, 0, 8, 0);
    const feeder = makeFeeder(info);
    if (bytesRead === 8 && magic.equals(JOURNAL_MAGIC)) {
      try {
        await readJournalFile(name, info, feeder, stream);
      } finally {
        feeder.end();
      }
      return info;
    }
    const gzip = isGzip(magic.subarray(0, bytesRead));
    if (gzip || utf16Of(magic.subarray(0, bytesRead))) {
      owned = false;
      const raw = fs.createReadStream(name, { fd, start: 0, highWaterMark: CHUNK_SIZE });
      try {
        const text = asUtf8(gzip ? gunzip(name, raw, info, onBytes, stream) : counted(raw, onBytes));
        await drain(text, feeder, (n) => { info.bytes += n; }, stream);
      } catch (e) {
        if (e instanceof InputFailure) throw new InputError(`${name}: ${e.message}`);
        throw e;
      } finally {
        feeder.end();
        raw.destroy();
      }
      return info;
    }
    // Plain files are read synchronously: from the page cache a read is a copy, and a trip through
    // the thread pool per chunk costs more than the copy. The loop yields now and then so that
    // signals, output and a reader that went away (| head) are noticed.
    const threads = threadCount();
    if (st.size >= parallelMinimum() && threads >= 2) {
      try {
        const { lines } = await scanFileParallel(fd, st.size, feeder.sink, threads, (n) => {
          info.bytes += n;
          onBytes(n);
        }, stream);
        info.lines = lines;
      } catch (e) {
        if (e instanceof PartReadError) throw new InputError(`cannot read ${name}: ${describeError(e.cause ?? e)}`);
        throw e;
      }
      return info;
    }
    const buf = feeder.inputBuffer(CHUNK_SIZE);
    let pos = 0;
    for (let i = 1; ; i++) {
      const room = stream.outputRoom?.();
      if (room) await room;
      else if (i % 32 === 0) await new Promise((r) => setImmediate(r));
      if (stream.shouldStop?.()) break;
      let n: number;
      try {
        n = fs.readSync(fd, buf, 0, CHUNK_SIZE, pos);
      } catch (e) {
        feeder.end();
        throw new InputError(`cannot read ${name}: ${describeError(e)}`);
      }
      if (n === 0) break;
      pos += n;
      info.bytes += n;
      onBytes(n);
      feeder.push(n === CHUNK_SIZE ? buf : buf.subarray(0, n));
    }
    feeder.end();
    return info;
  } finally {
    if (owned) fs.closeSync(fd);
  }
}
