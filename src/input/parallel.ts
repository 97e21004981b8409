/**
 * The parallel scan of a large regular file. The file is cut into blocks at line starts. Worker
 * threads claim blocks in file order and search each for the lines that contain a needle, counting
 * the lines in between, which is nearly all of the work (prefilter.ts). The main thread takes the
 * blocks' candidate lines in file order: it jumps the feeder to each one, feeds from there while
 * the sink has a report open, and skips candidates its feeding already covered. The sink therefore
 * sees exactly the lines, with the same numbers and offsets, that a sequential ChunkFeeder would
 * give it (a test compares them).
 *
 * The work balances itself: whenever the main thread would have to wait for the next block in
 * order, it claims and searches an unclaimed block itself. A run whose reports cost much (the
 * store, dense reports) leaves the searching to the workers; a run with few reports has the main
 * thread search about as much as a worker.
 */
import fs from 'node:fs';
import os from 'node:os';
import { Worker } from 'node:worker_threads';
import { ChunkFeeder, DEFAULT_MAX_LINE, type LineSink } from './feeder.js';
import { BlockSearcher, claim, DONE, NEXT, type BlockResult } from './prefilter.js';
import type { StreamOptions } from './sources.js';

/** Files smaller than this are read sequentially: starting workers would cost more than it saves. */
export function parallelMinimum(): number {
  const env = Number(process.env.KLOGSCAN_PARALLEL_MIN);
  return Number.isFinite(env) && env > 0 ? env : 64 << 20;
}

export function threadCount(): number {
  const env = Number(process.env.KLOGSCAN_THREADS);
  if (Number.isFinite(env) && env >= 1) return Math.floor(env);
  return Math.min(4, os.availableParallelism());
}

/** Bytes per block: small enough to balance the threads, large enough that a block is cheap to hand over. */
function blockSize(): number {
  const env = Math.floor(Number(process.env.KLOGSCAN_BLOCK));
  return Number.isFinite(env) && env > 0 ? env : 8 << 20;
}

/** Blocks searched ahead of the one the main thread analyses, at most (bounds the memory held). */
const AHEAD = 16;

/** The main thread lets the event loop turn at least this often (signals, `| head`, output). */
const TURN_MS = 20;

/** A read of the file failed (in any thread): the input is unreadable, not klogscan broken. Its cause is the read's error. */
export class PartReadError extends Error {}

/** Offset just after the first newline at or after `at` (or the file size). */
function lineStartAfter(fd: number, at: number, size: number): number {
  const buf = Buffer.allocUnsafe(64 * 1024);
  let pos = at;
  while (pos < size) {
    const n = fs.readSync(fd, buf, 0, buf.length, pos);
    if (n <= 0) break;
    const nl = buf.subarray(0, n).indexOf(10);
    if (nl >= 0) return pos + nl + 1;
    pos += n;
  }
  return size;
}

export async function scanFileParallel(
  fd: number,
  size: number,
  sink: LineSink,
  threads: number,
  onBytes: (n: number) => void,
  pace: StreamOptions = {},
): Promise<{ lines: number }> {
  const { shouldStop, outputRoom } = pace;
  const bounds = [0];
  try {
    for (let at = blockSize(); at < size;) {
      const b = lineStartAfter(fd, at - 1, size);
      if (b >= size) break;
      bounds.push(b);
      at = b + blockSize();
    }
  } catch (e) {
    throw new PartReadError((e as Error).message, { cause: e });
  }
  bounds.push(size);
  const blocks = bounds.length - 1;
  const shared = new Int32Array(new SharedArrayBuffer(8));
  const results: (BlockResult | undefined)[] = new Array(blocks);
  let failure: Error | null = null;
  let wake: (() => void) | null = null;
  const notify = (): void => {
    const w = wake;
    wake = null;
    w?.();
  };
  const workers: Worker[] = [];
  for (let i = 1; i < threads && i < blocks; i++) {
    // Workers read through this thread's descriptor (threads share them): the file opened here,
    // even when its name is rotated to another file meanwhile.
    const w = new Worker(new URL('./prefilter-worker.js', import.meta.url), {
      workerData: { fd, bounds, shared, ahead: AHEAD, needles: [...sink.needles], maxLine: DEFAULT_MAX_LINE },
    });
    w.on('message', (m: BlockResult) => {
      results[m.block] = m;
      notify();
    });
    w.on('error', (e) => {
      failure ??= new PartReadError(e.message, { cause: e });
      notify();
    });
    workers.push(w);
  }
  let searcher: BlockSearcher | null = null;

  const feeder = new ChunkFeeder(sink);
  const buf = Buffer.allocUnsafe(1 << 20);
  const read = (length: number, pos: number): number => {
    try {
      return fs.readSync(fd, buf, 0, length, pos);
    } catch (e) {
      throw new PartReadError((e as Error).message, { cause: e });
    }
  };
  let position = 0;
  let base = 0;
  let lastTurn = performance.now();
  const turn = async (): Promise<void> => {
    await new Promise((r) => setImmediate(r));
    lastTurn = performance.now();
  };
  /** Feeds from `offset` (a line start) while a report is open, in growing reads; to the end with `all`. */
  const pump = async (offset: number, lineNo: number, all = false): Promise<void> => {
    feeder.seek(offset, lineNo);
    let pos = offset;
    let want = 16 * 1024;
    do {
      // Dense reports keep the sink busy for the rest of the file: let the output drain.
      const room = outputRoom?.();
      if (room) await room;
      if (performance.now() - lastTurn >= TURN_MS) await turn();
      if (shouldStop?.()) break;
      const n = read(Math.min(want, buf.length, size - pos), pos);
      if (n <= 0) break;
      pos += n;
      feeder.push(buf.subarray(0, n));
      want *= 2;
    } while ((all || !sink.idle()) && pos < size);
    if (pos >= size) {
      feeder.end();
      position = size;
    } else {
      position = feeder.offset;
    }
  };
  /** Waits for block `k`'s result, searching blocks itself rather than waiting idle. */
  const resultOf = async (k: number): Promise<BlockResult> => {
    let yielded = false;
    for (;;) {
      const r = results[k];
      if (r) return r;
      if (failure) throw failure;
      // Results that arrived while this thread was busy are delivered at the next turn.
      if (!yielded) {
        await turn();
        yielded = true;
        continue;
      }
      const b = claim(shared, blocks, AHEAD);
      if (b >= 0) {
        searcher ??= new BlockSearcher(fd, sink.needles, DEFAULT_MAX_LINE);
        try {
          results[b] = searcher.search(b, bounds[b], bounds[b + 1]);
        } catch (e) {
          throw new PartReadError((e as Error).message, { cause: e });
        }
        yielded = false;
        continue;
      }
      await new Promise<void>((r) => { wake = r; });
    }
  };

  try {
    let complete = 0;
    for (let k = 0; k < blocks; k++) {
      if (shouldStop?.()) return { lines: feeder.lineNo };
      const r = await resultOf(k);
      results[k] = undefined;
      const hits = r.hits;
      for (let i = 0; i < hits.length; i += 2) {
        if (performance.now() - lastTurn >= TURN_MS) await turn();
        if (shouldStop?.()) return { lines: feeder.lineNo };
        const offset = hits[i];
        if (offset < position) continue;
        await pump(offset, base + hits[i + 1] - 1);
      }
      onBytes(r.bytes);
      // A report that ran to the end of the file: its feeding counted every line there is.
      if (position >= size) {
        onBytes(size - bounds[k + 1]);
        return { lines: feeder.lineNo };
      }
      base += r.lines;
      complete = r.complete;
      Atomics.store(shared, DONE, k + 1);
      Atomics.notify(shared, DONE);
    }
    // A last line without a newline (however long) is held back by the searches: its turn now.
    // (Unless the file was truncated meanwhile and there is nothing more to read.)
    if (complete < size) {
      await pump(complete, base, true);
      return { lines: position > complete ? base + 1 : base };
    }
    return { lines: base };
  } finally {
    // Workers waiting for progress wake up and find nothing left to claim; they are gone before
    // the caller closes the descriptor they read through.
    Atomics.store(shared, NEXT, blocks);
    Atomics.store(shared, DONE, blocks);
    Atomics.notify(shared, DONE);
    await Promise.all(workers.map((w) => w.terminate()));
  }
}
