/**
 * Worker of the parallel file scan (parallel.ts): claims blocks of the file in order and searches
 * each for candidate lines (prefilter.ts), posting one result per block. Nothing else happens here.
 * When it has to wait for the main thread to catch up, it sleeps on the shared progress counter.
 */
import fs from 'node:fs';
import os from 'node:os';
import { parentPort, workerData } from 'node:worker_threads';
import { BlockSearcher, claim, DONE } from './prefilter.js';

/**
 * This thread yields to the main thread. The main thread's work (the reports, their analysis, the
 * store) is the run's critical path, and the main thread searches blocks itself whenever a worker
 * lags; what slowed runs was the main thread waiting for a core while this thread, V8's helpers
 * and the main thread were three threads on two cores (100-125 ms of 670 ms in the run queue, from
 * /proc/PID/task/TID/schedstat). A nicer worker gives way: with the store on, 1 GiB took 3-6% less
 * time, and --no-db no more. Linux sets a thread's priority by its id, which /proc/thread-self
 * names (Linux 3.17 and later); where it cannot, nothing changes.
 */
function yieldToMainThread(): void {
  try {
    const tid = Number(fs.readlinkSync('/proc/thread-self').split('/').pop());
    if (Number.isInteger(tid) && tid > 0 && tid !== process.pid) os.setPriority(tid, Math.min(19, os.getPriority(tid) + 10));
  } catch {
    // no /proc/thread-self (older kernels, other systems) or not permitted: the thread keeps its priority
  }
}

yieldToMainThread();

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
