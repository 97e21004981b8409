/**
 * Opening inputs: files (plain or gzip, recognised by their magic bytes, not their name), `-` and
 * stdin. Each input is read in large chunks into a ChunkFeeder. Errors a user can act on become
 * InputError with a one-line message; the caller goes on with the next input.
 */
import fs from 'node:fs';
import type { Readable } from 'node:stream';
import zlib from 'node:zlib';
import type { ChunkFeeder } from './feeder.js';
import { parallelMinimum, scanFileParallel, threadCount } from './parallel.js';

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
  EIO: 'input/output error',
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
  /** Modification time of a file (ms), or now for stdin: the reference for year-less dates. */
  referenceTime: number;
  bytes: number;
  /** Size of a file in bytes (the compressed size for gzip), null for stdin. */
  size: number | null;
  /** Lines read (set when the lines were counted elsewhere than in the feeder). */
  lines?: number;
}

async function drain(stream: Readable, feeder: ChunkFeeder, onBytes: (n: number) => void, opts: StreamOptions): Promise<void> {
  for await (const chunk of stream) {
    if (opts.shouldStop?.()) break;
    const b = chunk as Buffer;
    onBytes(b.length);
    feeder.push(b);
    const room = opts.outputRoom?.();
    if (room) await room;
  }
}

/** Streams that may never end (journalctl -f, dmesg -w): after `idleMs` without data, `onIdle`. */
export interface StreamOptions {
  idleMs?: number;
  onIdle?: () => void;
  /** Called after every chunk has been fed. */
  onChunk?: () => void;
  /** Resolves the read early (SIGTERM): what was read so far is kept. */
  stop?: Promise<void>;
  /** Checked between chunks of files: true ends the read early. */
  shouldStop?: () => boolean;
  /** Between chunks: a promise to wait on before reading more (the output is backed up). */
  outputRoom?: () => Promise<void> | null;
}

function drainWithIdle(stream: Readable, feeder: ChunkFeeder, onBytes: (n: number) => void, opts: StreamOptions): Promise<void> {
  return new Promise((resolve, reject) => {
    let timer: NodeJS.Timeout | null = null;
    const arm = (): void => {
      if (timer) clearTimeout(timer);
      if (opts.onIdle) timer = setTimeout(opts.onIdle, opts.idleMs ?? 500);
    };
    const done = (): void => {
      if (timer) clearTimeout(timer);
      stream.off('data', onData);
      resolve();
    };
    const onData = (chunk: Buffer): void => {
      onBytes(chunk.length);
      feeder.push(chunk);
      opts.onChunk?.();
      arm();
      const room = opts.outputRoom?.();
      if (room) {
        stream.pause();
        void room.then(() => stream.resume());
      }
    };
    stream.on('data', onData);
    stream.once('end', done);
    stream.once('error', (e) => {
      if (timer) clearTimeout(timer);
      reject(e);
    });
    opts.stop?.then(done, done);
  });
}

/** Reads a whole input into the feeder. `makeFeeder` is called once the input is open. */
export async function readInput(
  name: string,
  makeFeeder: (info: InputInfo) => ChunkFeeder,
  onBytes: (n: number) => void = () => {},
  stream: StreamOptions = {},
): Promise<InputInfo> {
  if (name === '-') {
    const info: InputInfo = { name: '-', referenceTime: Date.now(), bytes: 0, size: null };
    const feeder = makeFeeder(info);
    try {
      await drainWithIdle(process.stdin, feeder, (n) => { info.bytes += n; onBytes(n); }, stream);
    } catch (e) {
      feeder.end();
      throw new InputError(`cannot read standard input: ${describeError(e)}`);
    }
    feeder.end();
    return info;
  }
  let fh: fs.promises.FileHandle;
  try {
    fh = await fs.promises.open(name, 'r');
  } catch (e) {
    throw new InputError(`cannot read ${name}: ${describeError(e)}`);
  }
  try {
    const st = await fh.stat();
    if (st.isDirectory()) throw new InputError(`cannot read ${name}: is a directory`);
    const info: InputInfo = { name, referenceTime: st.mtimeMs || Date.now(), bytes: 0, size: st.size };
    const magic = Buffer.alloc(2);
    const { bytesRead } = await fh.read(magic, 0, 2, 0);
    const feeder = makeFeeder(info);
    if (bytesRead === 2 && magic[0] === 0x1f && magic[1] === 0x8b) {
      const gunzip = zlib.createGunzip();
      const raw = fh.createReadStream({ start: 0, highWaterMark: CHUNK_SIZE, autoClose: false });
      raw.on('data', (c: string | Buffer) => { info.bytes += c.length; onBytes(c.length); });
      raw.pipe(gunzip);
      try {
        await drain(gunzip, feeder, () => {}, stream);
      } catch (e) {
        feeder.end();
        throw new InputError(`${name}: ${describeError(e)}`);
      }
      feeder.end();
      return info;
    }
    // Plain files are read synchronously: from the page cache a read is a copy, and a trip through
    // the thread pool per chunk costs more than the copy. The loop yields now and then so that
    // signals and output keep flowing.
    const threads = threadCount();
    if (st.size >= parallelMinimum() && threads >= 2) {
      const { lines } = await scanFileParallel(name, fh.fd, st.size, feeder.sink, threads, (n) => {
        info.bytes += n;
        onBytes(n);
      }, stream);
      info.lines = lines;
      return info;
    }
    const buf = Buffer.allocUnsafe(CHUNK_SIZE);
    let pos = 0;
    for (let i = 1; ; i++) {
      const room = stream.outputRoom?.();
      if (room) await room;
      else if (i % 32 === 0) await new Promise((r) => setImmediate(r));
      if (stream.shouldStop?.()) break;
      let n: number;
      try {
        n = fs.readSync(fh.fd, buf, 0, CHUNK_SIZE, pos);
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
    await fh.close().catch(() => {});
  }
}
