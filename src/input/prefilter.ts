/**
 * The search half of the parallel file scan (parallel.ts), shared by its worker threads and the
 * main thread: blocks of a file (byte ranges that start and end at line starts) are claimed one at
 * a time, in file order, from a counter in shared memory, and each claimed block is searched for
 * the lines that contain a needle. A block's result is its candidate lines, as (byte offset, line
 * number within the block) pairs, and its number of lines.
 *
 * Claims stay at most `ahead` blocks beyond the block the main thread analyses, so that the
 * results waiting for it stay bounded whatever the input (a log made only of candidate lines).
 */
import fs from 'node:fs';
import { ChunkFeeder } from './feeder.js';

/** Slots of the shared Int32Array. */
export const NEXT = 0;
export const DONE = 1;

export interface BlockResult {
  block: number;
  hits: Float64Array;
  /** Complete lines in the block. */
  lines: number;
  /** Offset just after the block's last complete line (short of its end only at the end of the file). */
  complete: number;
  /** Bytes read: the block's length, or less when the file was cut short (truncated) meanwhile. */
  bytes: number;
}

/** Searches blocks of one file; keeps one needle scanner (its tables are tuned once). */
export class BlockSearcher {
  private readonly feeder: ChunkFeeder;
  private hits: number[] = [];
  private readonly buf: Buffer;

  constructor(private readonly fd: number, needles: readonly string[], maxLine: number) {
    this.feeder = new ChunkFeeder({
      needles,
      idle: () => true,
      line: (_text, lineNo, start) => { this.hits.push(start, lineNo); },
    }, maxLine);
    this.buf = this.feeder.inputBuffer(1 << 20);
  }

  search(block: number, start: number, end: number): BlockResult {
    this.hits = [];
    this.feeder.seek(start, 0);
    let pos = start;
    while (pos < end) {
      const n = fs.readSync(this.fd, this.buf, 0, Math.min(this.buf.length, end - pos), pos);
      if (n <= 0) break;
      pos += n;
      this.feeder.push(n === this.buf.length ? this.buf : this.buf.subarray(0, n));
    }
    return { block, hits: Float64Array.from(this.hits), lines: this.feeder.lineNo, complete: this.feeder.offset, bytes: pos - start };
  }
}

/**
 * Claims the next block if there is one and it is within reach of the main thread's progress;
 * returns its index, -1 when all blocks are claimed, or -2 when it has to wait for the main thread.
 */
export function claim(shared: Int32Array, blocks: number, ahead: number): number {
  for (;;) {
    const b = Atomics.load(shared, NEXT);
    if (b >= blocks) return -1;
    if (b >= Atomics.load(shared, DONE) + ahead) return -2;
    if (Atomics.compareExchange(shared, NEXT, b, b + 1) === b) return b;
  }
}
