/**
 * Worker of the parallel file scan (parallel.ts): reads one byte range of a file, which starts and
 * ends at line boundaries, through the same ChunkFeeder and needle scanner as a sequential scan,
 * with a sink that is always idle, and reports every line the feeder hands over (the lines that
 * contain a needle) as (byte offset, line number within the range). Nothing else happens here.
 */
import fs from 'node:fs';
import { parentPort, workerData } from 'node:worker_threads';
import { ChunkFeeder, DEFAULT_MAX_LINE } from './feeder.js';

interface Job {
  path: string;
  start: number;
  end: number;
  needles: string[];
  maxLine: number;
}

const job = workerData as Job;
const port = parentPort!;
let hits: number[] = [];
const flush = (): void => {
  if (hits.length === 0) return;
  const arr = Float64Array.from(hits);
  port.postMessage({ type: 'hits', hits: arr }, [arr.buffer]);
  hits = [];
};
const feeder = new ChunkFeeder({
  needles: job.needles,
  idle: () => true,
  line: (_text, lineNo, start) => { hits.push(start, lineNo); },
}, job.maxLine ?? DEFAULT_MAX_LINE, job.start, 0);
const fd = fs.openSync(job.path, 'r');
const buf = Buffer.allocUnsafe(1 << 20);
let pos = job.start;
let chunks = 0;
while (pos < job.end) {
  const n = fs.readSync(fd, buf, 0, Math.min(buf.length, job.end - pos), pos);
  if (n <= 0) break;
  pos += n;
  feeder.push(n === buf.length ? buf : buf.subarray(0, n));
  if (++chunks % 16 === 0) flush();
}
fs.closeSync(fd);
flush();
port.postMessage({ type: 'done', lines: feeder.lineNo, end: pos });
