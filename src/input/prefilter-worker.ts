/**
 * Worker of the parallel file scan (parallel.ts): claims blocks of the file in order and searches
 * each for candidate lines (prefilter.ts), posting one result per block. Nothing else happens here.
 * When it has to wait for the main thread to catch up, it sleeps on the shared progress counter.
 */
import { parentPort, workerData } from 'node:worker_threads';
import { BlockSearcher, claim, DONE } from './prefilter.js';

interface Job {
  /** The main thread's descriptor of the file. */
  fd: number;
  bounds: number[];
  shared: Int32Array;
  ahead: number;
  needles: string[];
  maxLine: number;
}

const job = workerData as Job;
const port = parentPort!;
const searcher = new BlockSearcher(job.fd, job.needles, job.maxLine);
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
