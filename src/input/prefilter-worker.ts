/**
 * Worker of the parallel file scan (parallel.ts): claims blocks of the file in order and searches
 * each for candidate lines (prefilter.ts), posting one result per block. Nothing else happens here.
 * When it has to wait for the main thread to catch up, it sleeps on the shared progress counter.
 */
import fs from 'node:fs';
import { parentPort, workerData } from 'node:worker_threads';
import { BlockSearcher, claim, DONE } from './prefilter.js';

interface Job {
  path: string;
  bounds: number[];
  shared: Int32Array;
  ahead: number;
  needles: string[];
  maxLine: number;
}

const job = workerData as Job;
const port = parentPort!;
const fd = fs.openSync(job.path, 'r');
const searcher = new BlockSearcher(fd, job.needles, job.maxLine);
const blocks = job.bounds.length - 1;
for (;;) {
  const done = Atomics.load(job.shared, DONE);
  const b = claim(job.shared, blocks, job.ahead);
  if (b === -1) break;
  if (b === -2) {
    Atomics.wait(job.shared, DONE, done, 1000);
    continue;
  }
  const result = searcher.search(b, job.bounds[b], job.bounds[b + 1]);
  port.postMessage(result, [result.hits.buffer as ArrayBuffer]);
}
fs.closeSync(fd);
