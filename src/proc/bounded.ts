/**
 * Reads files that may never return, without ever waiting for them: in a separate child process
 * (src/proc/bounded-child.ts) that reads them one by one and reports each as it finishes.
 * Whatever has not finished by the deadline is marked timed out, and the child is abandoned:
 * killed (a read sleeping uninterruptibly ignores even SIGKILL, which is fine) and unreferenced,
 * with its pipes closed, so klogscan exits at once whatever the child is doing.
 *
 * Why a process and not a worker thread or the libuv thread pool: a thread stuck in an
 * uninterruptible read keeps its whole process from exiting, so klogscan itself would hang.
 *
 * When one read stalls (nothing reported for `stallMs`), it is given up and a fresh child goes on
 * with the next file, so one wedged process does not hide all the others; reads that share the
 * stalled one's `group` (the same process) are given up with it, since they would stall too.
 *
 * This module decides nothing about which files are safe; src/proc/read.ts does.
 */
import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';

export interface BoundedItem {
  path: string;
  /** Items of one group stall together (files of one process). */
  group?: string;
}

export type BoundedOutcome =
  | { status: 'read'; data: Buffer }
  | { status: 'error'; code: string }
  | { status: 'timed_out' };

export interface BoundedOptions {
  /** The whole run, from now, in ms. */
  deadlineMs: number;
  /** A single read that takes longer than this is given up, in ms. */
  stallMs: number;
}

const CHILD = fileURLToPath(new URL('./bounded-child.js', import.meta.url));

type RunEnd = { reason: 'done' } | { reason: 'stall'; index: number } | { reason: 'deadline' } | { reason: 'died'; index: number } | { reason: 'failed'; code: string };

/** One child over `order` (indexes into items); fills `results` as reports arrive. */
function runChild(items: readonly BoundedItem[], order: number[], results: (BoundedOutcome | undefined)[], until: number, stallMs: number): Promise<RunEnd> {
  return new Promise((resolve) => {
    let child: ReturnType<typeof spawn>;
    try {
      // Detached (its own session: no terminal signals, nobody waits for it) and unreferenced from
      // the start; NODE_OPTIONS is dropped so that a debugger flag meant for klogscan does not follow.
      child = spawn(process.execPath, [CHILD], { detached: true, stdio: ['pipe', 'pipe', 'ignore'], env: { ...process.env, NODE_OPTIONS: undefined } });
      child.unref();
    } catch (e) {
      resolve({ reason: 'failed', code: (e as NodeJS.ErrnoException).code ?? 'EIO' });
      return;
    }
    let next = 0; // position in `order` of the read in progress
    let ready = false;
    let ended = false;
    let stall: NodeJS.Timeout | null = null;
    const deadline = setTimeout(() => finish({ reason: 'deadline' }), Math.max(0, until - Date.now()));
    const armStall = (): void => {
      if (stall) clearTimeout(stall);
      stall = setTimeout(() => finish({ reason: 'stall', index: order[next] }), stallMs);
    };
    function finish(end: RunEnd): void {
      if (ended) return;
      ended = true;
      clearTimeout(deadline);
      if (stall) clearTimeout(stall);
      child.stdout?.removeAllListeners('data');
      child.stdout?.destroy();
      child.stdin?.destroy();
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
      child.unref();
      resolve(end);
    }
    child.on('error', (e: NodeJS.ErrnoException) => finish({ reason: 'failed', code: e.code ?? 'EIO' }));
    // 'close' comes after the last line the child wrote has been read.
    child.on('close', () => finish(next >= order.length ? { reason: 'done' }
      : ready ? { reason: 'died', index: order[next] } : { reason: 'failed', code: 'ECHILD' }));
    child.stdin?.on('error', () => {});
    child.stdout?.on('error', () => {});
    let buf = '';
    child.stdout?.setEncoding('utf8');
    child.stdout?.on('data', (chunk: string) => {
      buf += chunk;
      let nl: number;
      while ((nl = buf.indexOf('\n')) >= 0) {
        const line = buf.slice(0, nl);
        buf = buf.slice(nl + 1);
        if (line === 'ready') {
          ready = true;
          armStall();
          continue;
        }
        let msg: { i?: unknown; data?: unknown; error?: unknown };
        try {
          msg = JSON.parse(line) as typeof msg;
        } catch {
          continue;
        }
        if (typeof msg.i !== 'number' || msg.i !== next) continue;
        results[order[next]] = typeof msg.data === 'string'
          ? { status: 'read', data: Buffer.from(msg.data, 'base64') }
          : { status: 'error', code: String(msg.error ?? 'EIO') };
        next++;
        if (next >= order.length) {
          finish({ reason: 'done' });
          return;
        }
        armStall();
      }
    });
    child.stdin?.end(JSON.stringify(order.map((i) => items[i].path)));
  });
}

/** Reads every item's file within the deadline; the outcomes come back in the items' order. */
export async function readBounded(items: readonly BoundedItem[], opts: BoundedOptions): Promise<BoundedOutcome[]> {
  const results: (BoundedOutcome | undefined)[] = new Array(items.length).fill(undefined);
  const until = Date.now() + opts.deadlineMs;
  const giveUp = (index: number, outcome: BoundedOutcome): void => {
    results[index] = outcome;
    const g = items[index].group;
    if (g === undefined) return;
    items.forEach((it, i) => {
      if (results[i] === undefined && it.group === g) results[i] = outcome;
    });
  };
  while (Date.now() < until) {
    const order = items.map((_, i) => i).filter((i) => results[i] === undefined);
    if (order.length === 0) break;
    const end = await runChild(items, order, results, until, opts.stallMs);
    if (end.reason === 'stall') giveUp(end.index, { status: 'timed_out' });
    else if (end.reason === 'died') giveUp(end.index, { status: 'error', code: 'ECHILD' });
    else if (end.reason === 'failed') {
      for (const i of order) results[i] ??= { status: 'error', code: end.code };
    } else if (end.reason === 'deadline') break;
  }
  return results.map((r) => r ?? { status: 'timed_out' });
}
