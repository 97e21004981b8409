/**
 * The parallel scan of a large regular file. The file is split at line starts. The main thread
 * reads the first part the ordinary way; meanwhile worker threads (prefilter-worker.ts) each read
 * one of the other parts and find the lines that contain a needle, counting the lines in between,
 * which is nearly all of the work. The main thread then takes those candidate lines in file
 * order: it jumps the feeder to each one, feeds from there while the sink has a report open, and
 * skips candidates its feeding already covered. The sink therefore sees exactly the lines, with the
 * same numbers and offsets, that a sequential ChunkFeeder would give it (a test compares them).
 *
 * The main thread's share is smaller than a worker's: besides reading it analyses every report.
 */
import fs from 'node:fs';
import os from 'node:os';
import { Worker } from 'node:worker_threads';
import { ChunkFeeder, DEFAULT_MAX_LINE, type LineSink } from './feeder.js';
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

interface Part {
  start: number;
  end: number;
  /** Candidate lines: offset, line number within the part (1-based), in order. */
  hits: number[];
  done: boolean;
  lines: number;
  error: Error | null;
}

export async function scanFileParallel(
  path: string,
  fd: number,
  size: number,
  sink: LineSink,
  threads: number,
  onBytes: (n: number) => void,
  pace: StreamOptions = {},
): Promise<{ lines: number }> {
  const { shouldStop, outputRoom } = pace;
  // Main part: about 0.35 of a worker's share (it decodes and analyses; workers only search).
  const workersN = threads - 1;
  const mainShare = 0.35 / (0.35 + workersN);
  const cuts = [mainShare];
  for (let i = 1; i < workersN; i++) cuts.push(mainShare + ((1 - mainShare) * i) / workersN);
  const bounds = [0];
  for (const c of cuts) {
    const b = lineStartAfter(fd, Math.floor(size * c), size);
    if (b > bounds[bounds.length - 1] && b < size) bounds.push(b);
  }
  bounds.push(size);
  const parts: Part[] = [];
  let wake: (() => void) | null = null;
  const notify = (): void => {
    const w = wake;
    wake = null;
    w?.();
  };
  const workers: Worker[] = [];
  for (let i = 1; i + 1 < bounds.length; i++) {
    const part: Part = { start: bounds[i], end: bounds[i + 1], hits: [], done: false, lines: 0, error: null };
    parts.push(part);
    const w = new Worker(new URL('./prefilter-worker.js', import.meta.url), {
      workerData: { path, start: part.start, end: part.end, needles: [...sink.needles], maxLine: DEFAULT_MAX_LINE },
    });
    w.on('message', (m: { type: string; hits?: Float64Array; lines?: number }) => {
      if (m.type === 'hits') for (const x of m.hits!) part.hits.push(x);
      else if (m.type === 'done') {
        part.done = true;
        part.lines = m.lines!;
        onBytes(part.end - part.start);
      }
      notify();
    });
    w.on('error', (e) => {
      part.error = e;
      part.done = true;
      notify();
    });
    workers.push(w);
  }

  const feeder = new ChunkFeeder(sink);
  const buf = Buffer.allocUnsafe(1 << 20);
  let position = 0;
  let base = 0;
  /** Feeds from `offset` (a line start) while a report is open, in growing reads. */
  const pump = async (offset: number, lineNo: number): Promise<void> => {
    feeder.seek(offset, lineNo);
    let pos = offset;
    let want = 16 * 1024;
    do {
      // Dense reports keep the sink busy for the rest of the file: let the output drain.
      const room = outputRoom?.();
      if (room) await room;
      const n = fs.readSync(fd, buf, 0, Math.min(want, buf.length, size - pos), pos);
      if (n <= 0) break;
      pos += n;
      feeder.push(buf.subarray(0, n));
      want *= 2;
    } while (!sink.idle() && pos < size);
    if (pos >= size) {
      feeder.end();
      position = size;
    } else {
      position = feeder.offset;
    }
  };

  try {
    // The first part, read here like any file while the workers search theirs.
    const first = bounds[1];
    for (let pos = 0, i = 1; pos < first; i++) {
      const room = outputRoom?.();
      if (room) await room;
      else if (i % 32 === 0) await new Promise((r) => setImmediate(r));
      if (shouldStop?.()) return { lines: feeder.lineNo };
      const n = fs.readSync(fd, buf, 0, Math.min(buf.length, first - pos), pos);
      if (n <= 0) break;
      pos += n;
      onBytes(n);
      feeder.push(buf.subarray(0, n));
    }
    base = feeder.lineNo;
    position = first;
    if (first >= size) {
      feeder.end();
      return { lines: feeder.lineNo };
    }
    if (!sink.idle()) await pump(first, base);
    for (const part of parts) {
      let i = 0;
      for (;;) {
        while (i < part.hits.length) {
          if (shouldStop?.()) return { lines: feeder.lineNo };
          const offset = part.hits[i];
          const line = part.hits[i + 1];
          i += 2;
          if (offset < position) continue;
          await pump(offset, base + line - 1);
        }
        if (part.error) throw part.error;
        if (part.done && i >= part.hits.length) break;
        await new Promise<void>((r) => { wake = r; });
      }
      base += part.lines;
    }
    // A last line without a newline is held back by the workers: give it its chance.
    const tail = lineStartOfLast(fd, size);
    if (tail < size && tail >= position) await pump(tail, base);
    return { lines: base + (tail < size ? 1 : 0) };
  } finally {
    for (const w of workers) void w.terminate();
  }
}

/** Start of the file's last line when it has no newline at its end, else the size. */
function lineStartOfLast(fd: number, size: number): number {
  const b = Buffer.alloc(1);
  if (size === 0 || (fs.readSync(fd, b, 0, 1, size - 1) === 1 && b[0] === 10)) return size;
  const span = Math.min(size, DEFAULT_MAX_LINE * 4);
  const buf = Buffer.allocUnsafe(span);
  const n = fs.readSync(fd, buf, 0, span, size - span);
  const nl = buf.subarray(0, n).lastIndexOf(10);
  if (nl >= 0) return size - span + nl + 1;
  // No line end in the last quarter megabyte: the whole file is one line, or the last line is
  // longer than any line klogscan keeps (the workers saw its start already).
  return span === size ? 0 : size;
}
