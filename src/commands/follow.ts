/**
 * `klogscan -f FILE...`: follow files like `tail -F` (src/input/follow.ts), print and store each
 * report as soon as it is complete, or at the latest half a second after its last line when
 * nothing follows, and store the read positions with the reports they cover. SIGINT/SIGTERM end
 * the run cleanly (exit 0), SIGHUP makes every name be checked again at once. Reports the store
 * already holds (re-read after a restart) are not printed again.
 *
 * `klogscan --print-cursor` prints the journal cursor stored for stdin, for
 * `journalctl -k -o json -f --after-cursor=CURSOR | klogscan`.
 */
import fs from 'node:fs';
import { Follower } from '../input/follow.js';
import { safe } from '../output/term.js';
import { journalCursor, onStopSignals, openStore, out, stderr, UsageError } from './common.js';
import { StoreError } from '../store.js';
import { newTotals, setupScan, writeSummary, type ScanValues } from './scan.js';

/** How often followed files are polled, and how long a pause finishes the open reports. */
export const POLL_MS = 100;
export const IDLE_MS = 500;
/**
 * A report stopped in the middle of its trace waits this long for the rest: rsyslog's async
 * writing, syslog-ng's flush_lines and NFS-backed logs write a report in pieces.
 */
export const UNFINISHED_IDLE_MS = 10_000;
/** How long a stop waits for a database that another writer holds. */
const STOP_WAIT_MS = 10_000;

export async function followCommand(v: ScanValues, files: string[]): Promise<number> {
  if (v['print-cursor']) {
    if (files.length > 0 || v.follow) throw new UsageError('--print-cursor takes no files: it prints the journal cursor stored for stdin');
    if (v['no-db']) throw new UsageError('--print-cursor reads the cursor from the database: it cannot be used with --no-db');
    const store = openStore(v.db, { readonly: true });
    try {
      const cursor = store.getPosition('-')?.cursor ?? null;
      if (!cursor) {
        // On stderr: `$(klogscan --print-cursor)` captures stdout only.
        process.stderr.write('klogscan: no journal cursor stored yet (one is kept while `journalctl -o json` output is read from stdin)\n');
        return 1;
      }
      out.write(`${cursor}\n`);
      return 0;
    } finally {
      store.close();
    }
  }
  if (files.includes('-')) throw new UsageError('follow either files or stdin (-), not both');
  if (v.year !== undefined) throw new UsageError('--year is for scanning old files, not for following live ones');
  for (const f of files) {
    let st: fs.Stats | null = null;
    try {
      st = fs.statSync(f);
    } catch {
      // not there yet: waited for
    }
    if (st && !st.isFile() && !st.isDirectory()) {
      throw new UsageError(`cannot follow ${f}: it is not a regular file; read a pipe or device without -f (klogscan ${f})`);
    }
  }
  const setup = setupScan(v, { onlyNew: true });
  const { scanner, store, waiting, retry } = setup;
  const totals = newTotals();
  totals.inputs = files.length;
  const log = (m: string): void => { stderr(`klogscan: ${safe(m)}\n`); };
  const follower = new Follower(files, scanner, (name) => store?.getPosition(name) ?? null, { fromStart: v['from-start'] === true, log });
  scanner.beginSource(follower.names[0], Date.now());
  // A poll must not stall on another writer for the busy timeout: waits are short and retried.
  store?.busyTimeout(POLL_MS);
  follower.start();
  const signals = onStopSignals();
  let recheck = false;
  const onHup = (): void => { recheck = true; };
  process.on('SIGHUP', onHup);
  let lastData = Date.now();
  let lastSaved = '';
  let locked = false;
  let savedOnce = false;
  const save = (): void => {
    if (!store) return;
    // Another writer may hold the database longer than the busy timeout (a big one-off scan):
    // the reports wait in memory and the read positions are not saved ahead of them; both are
    // retried at the next poll. A stop while it is locked loses nothing: the positions were not saved.
    const held = (): void => {
      if (!locked) log(`${store.file} is locked by another process: keeping what is read in memory (unsaved read positions) and retrying at each poll`);
      locked = true;
    };
    if (waiting() > 0) held();
    try {
      if (retry()) {
        const positions = follower.positions();
        const key = JSON.stringify(positions);
        if (key !== lastSaved) {
          for (const p of positions) store.savePosition(p.name, p.pos);
          lastSaved = key;
        }
        store.commit();
        savedOnce = true;
        if (locked) log(`${store.file} is writable again: stored what waited`);
        locked = false;
        return;
      }
    } catch (e) {
      if (!(e instanceof StoreError && e.busy)) throw e;
    }
    held();
  };
  try {
    // The starting positions first: a restart after a kill -9 resumes from them, whatever was read.
    save();
    while (!signals.isStopped() && !out.closed) {
      const now = Date.now();
      // Lines are dated as they are read: a year-less syslog date is the latest one not after now.
      scanner.setReferenceTime(now);
      const got = follower.poll(now, recheck);
      totals.bytes += got;
      recheck = false;
      if (got > 0) {
        lastData = now;
        scanner.releaseWaiting();
      } else if (!scanner.settled() && now - lastData >= IDLE_MS) scanner.flush(now - lastData < UNFINISHED_IDLE_MS);
      save();
      // A slow reader of our output: wait for it rather than buffer without bound.
      const room = out.room();
      if (room) await Promise.race([room, signals.stopped]);
      else await Promise.race([new Promise((r) => setTimeout(r, POLL_MS)), signals.stopped]);
    }
    // Finish the current batch: what is in the files now, then every open report.
    totals.bytes += follower.poll(Date.now());
    scanner.flush();
    save();
    if (store && locked) {
      // Stopping while another writer holds the database: wait for it a while longer.
      store.busyTimeout(STOP_WAIT_MS);
      save();
      if (locked) {
        throw new StoreError(`${store.file} stayed locked by another process: what was read since the last stored position is not stored (${savedOnce
          ? 'a restart reads it again from there'
          : 'no position was ever stored: restart with -f --from-start to read the files again'})`);
      }
    }
  } catch (e) {
    totals.aborted = true;
    totals.lines = follower.lines;
    if (!out.closed) writeSummary(v, setup, totals);
    throw e;
  } finally {
    signals.dispose();
    process.off('SIGHUP', onHup);
    follower.close();
    store?.close();
  }
  totals.lines = follower.lines;
  if (!out.closed) writeSummary(v, setup, totals);
  return 0;
}

export { journalCursor };
