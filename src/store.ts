/**
 * The SQLite store: every SQL statement of klogscan lives in this module. Schema changes are
 * numbered migrations (PRAGMA user_version); tables are STRICT; the journal is WAL; writes are
 * batched in BEGIN IMMEDIATE transactions that also carry follow mode's read positions, so a
 * position is never saved without the reports it covers. Queries (history, show, stats) open
 * the file read-only.
 *
 * What identifies "the same report" (kept once, whichever file or journal it came from): the
 * host (first label of the name, lower case), the kind, task name, pid and blocked seconds, and a
 * time within 60 s (wall clock) or an uptime within 60 s when both copies carry one. The trace is
 * not part of it: one source may have lost lines that another kept, and the copy with the more
 * complete trace replaces the other. A report with neither time nor uptime also keeps the line it
 * started on in the same source, so two copies in one timestamp-less file are two reports.
 *
 * Errors: each report is written inside a SAVEPOINT, and any error rolls back the batch, so a
 * half-written report, or the reports before it whose read position was not saved, is never
 * committed. Only the success path commits (close() rolls back), and the first error is the one
 * reported. A batch is committed every COMMIT_REPORTS reports and at the latest COMMIT_MS after it
 * began, so no run holds the write lock for long; SQLITE_BUSY when a batch begins (or commits) is
 * a StoreError with `busy` set, after which the store is unchanged and the call can be retried.
 */
import type Database from 'better-sqlite3';
import { createHash } from 'node:crypto';
import { createRequire } from 'node:module';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { reportJson, type ReportJson } from './output/json.js';
import { jsonLine } from './output/term.js';
import { identify } from './fingerprint.js';
import { hostKey, type AnalyzedReport } from './scan.js';
import { INCIDENT_GAP_MS, INCIDENT_GAP_UPTIME, rootOf, waitEdges, type IncidentMember, type WaitEdge } from './incidents.js';
import { BLOCKED_KINDS, followedName, type Frame, type TaskReport } from '../parsers/record.js';

export class StoreError extends Error {
  readonly userFacing = true;
  /** SQLITE_BUSY where nothing was lost: the same call can be retried later. */
  readonly busy: boolean;
  constructor(message: string, opts: { busy?: boolean } = {}) {
    super(message);
    this.busy = opts.busy === true;
  }
}

// `file:` URIs are only needed for the immutable read-only fallback (Store.open); every other path
// is passed absolute, so it is never taken for a URI. better-sqlite3 reads this once, when its
// addon loads at the first open.
process.env.SQLITE_USE_URI = '1';

/** better-sqlite3, loaded at the first open: `--no-db` runs and `ps` do not pay for the addon. */
let sqlite: typeof Database | null = null;
function openDatabase(name: string, options: Database.Options): Database.Database {
  sqlite ??= createRequire(import.meta.url)('better-sqlite3') as typeof Database;
  return new sqlite(name, options);
}

/** A batch is committed after this many reports, or this long after it began. */
const COMMIT_REPORTS = 1000;
const COMMIT_MS = 250;

/**
 * An incident is closed to new reports once it spans this long or holds this many reports: a
 * storm that goes on for days is a series of incidents, each small enough to analyse and show.
 */
export const INCIDENT_MAX_SPAN_MS = 6 * 3600 * 1000;
export const INCIDENT_MAX_SPAN_UPTIME = 6 * 3600;
export const INCIDENT_MAX_REPORTS = 5000;

/** Two estimates of a boot time (wall clock minus uptime) this close are the same boot. */
const BOOT_TOLERANCE = 120;

/** Same-report tolerance in ms and in seconds of uptime. */
const SAME_MS = 60_000;
/**
 * The new time moved into the stored report's year is within SAME_MS of it, or, when the date
 * lies where daylight saving starts or ends on another day in other years (@dst), an hour off:
 * the guessed year may fall on the other side of the change.
 */
const GUESSED_YEAR_SAME = `(SELECT d <= ${SAME_MS} OR (@dst = 1 AND abs(d - 3600000) <= ${SAME_MS}) FROM (SELECT abs(time - (
    CAST(strftime('%s', @t / 1000, 'unixepoch', (CAST(strftime('%Y', time / 1000, 'unixepoch') AS INTEGER)
      - CAST(strftime('%Y', @t / 1000, 'unixepoch') AS INTEGER)) || ' years') AS INTEGER) * 1000 + @t % 1000)) AS d))`;
const SAME_UPTIME = 60;
/** Uptimes closer than this (half a microsecond, the precision printk prints) are one record's. */
const SAME_RECORD_UPTIME = 0.0000005;

/**
 * Copies of one of the other kinds: the same printk time to the millisecond, or (where a copy has
 * none) wall clocks a few seconds apart. Its reports repeat fast (a soft lockup every 26 s, OOM
 * kills of one invoker within a second, two WARNINGs of one task), unlike a hung task's, whose
 * blocked seconds tell its passes apart. Two OOM kills with victims of other pids are two, however
 * close (a pre-forking server killing its workers one after another; their names are all alike).
 */
const SAME_CRASH_UPTIME = 0.001;
const SAME_CRASH_MS = 5000;

// Statements of the per-report path, built once: a query text made anew for each report costs a
// string, its hash and its garbage every time (findSame, findIncident).
// An uptime equal to the microsecond is the same record, whatever wall time a copy was stamped
// with (a syslog clock off by minutes, a collector's time of reading), when the uptime is finer than
// a millisecond (@fine): a jiffies clock of old ARM and MIPS kernels steps by 10 ms and a task may
// hang at the same step in two boots, and a clock stuck at 0 repeats forever. Otherwise, where both copies
// carry a wall time, it agrees, and where both carry an uptime, it agrees too: the same task of
// the same machine hung at about the same uptime two boots apart is two reports.
// A hung task read without its header (blocked_seconds null: Debian's /var/log/messages) is the same
// report as the whole one read from another log of the machine (its syslog or kern.log).
const FIND_SAME = `SELECT id, nframes, truncated, incident_id, fingerprint, trace_id, wall, kernel, blocked_seconds FROM reports
      WHERE host_id = @host AND pid = @pid AND task = @task AND kind = @kind
        AND (blocked_seconds IS @secs OR (@kind = 'hung_task' AND (blocked_seconds IS NULL) <> (@secs IS NULL)))
        AND (@scope IS NULL OR source_id = @scope)
        AND (@victim IS NULL OR json_extract(json, '$.oom_victim.pid') IS NULL OR json_extract(json, '$.oom_victim.pid') = @victim)
        AND (@exact = 0 OR ((fingerprint = @fp OR (@fine = 1 AND uptime IS NOT NULL AND abs(uptime - @u) < ${SAME_RECORD_UPTIME})) AND (uptime IS NULL OR @u IS NULL OR abs(uptime - @u) < ${SAME_CRASH_UPTIME})
          AND ((uptime IS NOT NULL AND @u IS NOT NULL) OR time IS NULL OR @t IS NULL OR abs(time - @t) <= ${SAME_CRASH_MS})))
        AND ((@fine = 1 AND uptime IS NOT NULL AND abs(uptime - @u) < ${SAME_RECORD_UPTIME})
          OR (((time IS NOT NULL AND @t IS NOT NULL) OR (uptime IS NOT NULL AND @u IS NOT NULL))
            AND (time IS NULL OR @t IS NULL OR abs(time - @t) <= ${SAME_MS}
              OR (wall IS NOT NULL AND @w IS NOT NULL AND abs(wall - @w) <= ${SAME_MS})
              OR ((year_guessed = 1 OR @yg = 1) AND ${GUESSED_YEAR_SAME}))
            AND (uptime IS NULL OR @u IS NULL OR abs(uptime - @u) <= ${SAME_UPTIME}))
          OR (time IS NULL AND uptime IS NULL AND @t IS NULL AND @u IS NULL AND (source_id <> @source OR source_line = @line)))
      ORDER BY id LIMIT 1`;

/**
 * The seconds column of a report: a hung task's blocked time, or how long one of the other kinds
 * says it was stuck (a soft lockup's seconds tell its reports of one task apart, as a hung task's do).
 * Copies of one of the other kinds carry the same printk time to the microsecond, and two of its
 * reports a few seconds apart (two WARNINGs of one task) are two: `@exact` holds them to a second.
 */
function secondsKey(r: TaskReport): number | null {
  return r.blockedSeconds ?? r.crash?.seconds ?? null;
}

/**
 * Whether the local clock's offset from UTC at this moment differs in some year near it: the
 * date lies in the days where daylight saving begins or ends on another date in other years.
 * Asked per quarter of an hour (a change happens on the hour, or the half or quarter hour in a few
 * zones) and remembered.
 */
const dstSlots = new Map<number, boolean>();
function nearDstChange(t: number): boolean {
  const slot = Math.floor(t / 900_000);
  let v = dstSlots.get(slot);
  if (v === undefined) {
    const d = new Date(t);
    const offset = d.getTimezoneOffset();
    v = false;
    for (let k = -5; k <= 5 && !v; k++) {
      const other = new Date(t);
      other.setUTCFullYear(d.getUTCFullYear() + k);
      v = k !== 0 && other.getTimezoneOffset() !== offset;
    }
    if (dstSlots.size >= 4096) dstSlots.clear();
    dstSlots.set(slot, v);
  }
  return v;
}

// Same boot: no boot known on either side, the same key (journal boot id), or boot times that
// agree within the tolerance (syslog and printk times drift by seconds).
const SAME_BOOT = `(@bk IS NULL OR i.boot_key IS NULL OR i.boot_key = @bk OR abs(i.boot_time - @bt) <= ${BOOT_TOLERANCE})`;
const OPEN_INCIDENT = `i.reports < ${INCIDENT_MAX_REPORTS}
      AND (@t IS NULL OR i.first_time IS NULL OR max(i.last_time, @t) - min(i.first_time, @t) <= ${INCIDENT_MAX_SPAN_MS})
      AND (@u IS NULL OR i.first_uptime IS NULL OR max(i.last_uptime, @u) - min(i.first_uptime, @u) <= ${INCIDENT_MAX_SPAN_UPTIME})`;
const INCIDENT_OF_TASK = `SELECT r.incident_id AS id FROM reports r JOIN incidents i ON i.id = r.incident_id
      WHERE r.host_id = @host AND r.pid = @pid AND r.task = @task AND i.scope = @scope AND ${SAME_BOOT} AND ${OPEN_INCIDENT}
        AND ((r.time IS NOT NULL AND @t IS NOT NULL AND abs(r.time - @t) <= 86400000)
          OR (r.uptime IS NOT NULL AND @u IS NOT NULL AND abs(r.uptime - @u) <= 86400))
      ORDER BY r.id DESC LIMIT 1`;
const INCIDENT_BY_TIME = `SELECT i.id FROM incidents i WHERE i.host_id = @host AND i.scope = @scope AND i.last_time >= @t - ${INCIDENT_GAP_MS}
          AND i.first_time <= @t + ${INCIDENT_GAP_MS} AND ${SAME_BOOT} AND ${OPEN_INCIDENT}
        ORDER BY i.last_time DESC, i.id DESC LIMIT 1`;
const INCIDENT_BY_UPTIME = `SELECT i.id FROM incidents i WHERE i.host_id = @host AND i.scope = @scope AND i.first_time IS NULL
          AND i.last_uptime >= @u - ${INCIDENT_GAP_UPTIME} AND i.first_uptime <= @u + ${INCIDENT_GAP_UPTIME} AND ${SAME_BOOT} AND ${OPEN_INCIDENT}
        ORDER BY i.last_uptime DESC, i.id DESC LIMIT 1`;
const INCIDENT_UNTIMED = `SELECT i.id FROM incidents i WHERE i.host_id = @host AND i.scope = @scope AND i.first_time IS NULL
          AND i.first_uptime IS NULL AND ${SAME_BOOT} AND ${OPEN_INCIDENT}
        ORDER BY i.id DESC LIMIT 1`;

/**
 * A frame's columns, in schema 1's frames table and schema 4's trace_frames. Part of two
 * migrations: never changed (a new column is a new migration).
 */
const FRAME_COLUMNS = `fn TEXT NOT NULL, offset TEXT, size TEXT, module TEXT, unreliable INTEGER NOT NULL,
    context TEXT NOT NULL, inline INTEGER NOT NULL, source TEXT,`;

/** A schema step: SQL, or code for what SQL alone cannot do (a hash over rows). */
type Migration = string | ((db: Database.Database) => void);

const MIGRATIONS: Migration[] = [
  // 1: the first schema.
  `
  CREATE TABLE hosts (
    id INTEGER PRIMARY KEY,
    key TEXT NOT NULL UNIQUE,
    name TEXT NOT NULL
  ) STRICT;
  CREATE TABLE boots (
    id INTEGER PRIMARY KEY,
    host_id INTEGER NOT NULL REFERENCES hosts(id),
    boot_key TEXT NOT NULL,
    kernel TEXT,
    first_seen INTEGER,
    UNIQUE (host_id, boot_key)
  ) STRICT;
  CREATE TABLE sources (
    id INTEGER PRIMARY KEY,
    name TEXT NOT NULL UNIQUE,
    device INTEGER,
    inode INTEGER,
    offset INTEGER NOT NULL DEFAULT 0,
    line INTEGER NOT NULL DEFAULT 0,
    head_hash TEXT,
    cursor TEXT,
    updated INTEGER NOT NULL
  ) STRICT;
  CREATE TABLE incidents (
    id INTEGER PRIMARY KEY,
    host_id INTEGER NOT NULL REFERENCES hosts(id),
    scope TEXT NOT NULL,
    boot_key TEXT,
    first_time INTEGER,
    last_time INTEGER,
    first_uptime REAL,
    last_uptime REAL,
    reports INTEGER NOT NULL DEFAULT 0,
    tasks INTEGER NOT NULL DEFAULT 0,
    kind TEXT NOT NULL,
    signature TEXT,
    fingerprint TEXT,
    root_report INTEGER,
    root_rule TEXT,
    root_verdict TEXT,
    kernel TEXT,
    recorded INTEGER NOT NULL,
    updated INTEGER NOT NULL
  ) STRICT;
  CREATE INDEX incidents_host ON incidents (host_id, scope, last_time);
  CREATE TABLE reports (
    id INTEGER PRIMARY KEY,
    incident_id INTEGER NOT NULL REFERENCES incidents(id),
    host_id INTEGER NOT NULL REFERENCES hosts(id),
    boot_key TEXT,
    kind TEXT NOT NULL,
    time INTEGER,
    uptime REAL,
    task TEXT NOT NULL,
    pid INTEGER NOT NULL,
    blocked_seconds INTEGER,
    state TEXT,
    kernel TEXT,
    log_kernel TEXT,
    tainted TEXT,
    signature TEXT NOT NULL,
    fingerprint TEXT NOT NULL,
    culprit TEXT,
    wait TEXT,
    best_rule TEXT,
    best_verdict TEXT,
    best_kind TEXT,
    best_role TEXT,
    owner_task TEXT,
    owner_pid INTEGER,
    owner_lock TEXT,
    nframes INTEGER NOT NULL,
    truncated INTEGER NOT NULL,
    source_id INTEGER NOT NULL REFERENCES sources(id),
    source_line INTEGER NOT NULL,
    raw TEXT NOT NULL,
    json TEXT NOT NULL,
    recorded INTEGER NOT NULL
  ) STRICT;
  CREATE INDEX reports_identity ON reports (host_id, pid, task);
  CREATE INDEX reports_host_time ON reports (host_id, time);
  CREATE INDEX reports_host_uptime ON reports (host_id, uptime);
  CREATE INDEX reports_incident ON reports (incident_id);
  CREATE INDEX reports_fingerprint ON reports (fingerprint);
  CREATE TABLE frames (
    report_id INTEGER NOT NULL REFERENCES reports(id) ON DELETE CASCADE,
    stack TEXT NOT NULL,
    idx INTEGER NOT NULL,
    ${FRAME_COLUMNS}
    PRIMARY KEY (report_id, stack, idx)
  ) STRICT, WITHOUT ROWID;
  CREATE TABLE matches (
    report_id INTEGER NOT NULL REFERENCES reports(id) ON DELETE CASCADE,
    rank INTEGER NOT NULL,
    rule TEXT NOT NULL,
    verdict TEXT NOT NULL,
    fixed_in TEXT,
    kind TEXT NOT NULL,
    role TEXT NOT NULL,
    reason TEXT NOT NULL,
    PRIMARY KEY (report_id, rank)
  ) STRICT;
  CREATE INDEX matches_rule ON matches (rule);
  `,
  // 2: incidents keep their distinct tasks (one representative report each), so their root cause
  // is recomputed over tasks rather than over every report; boot times are numbers compared with
  // a tolerance instead of keys rounded to the minute.
  `
  CREATE TABLE incident_tasks (
    incident_id INTEGER NOT NULL REFERENCES incidents(id),
    task TEXT NOT NULL,
    pid INTEGER NOT NULL,
    report_id INTEGER NOT NULL REFERENCES reports(id),
    PRIMARY KEY (incident_id, task, pid)
  ) STRICT, WITHOUT ROWID;
  INSERT INTO incident_tasks (incident_id, task, pid, report_id)
    SELECT incident_id, task, pid, max(id) FROM reports GROUP BY incident_id, task, pid;
  ALTER TABLE reports ADD COLUMN boot_time REAL;
  ALTER TABLE incidents ADD COLUMN boot_time REAL;
  UPDATE reports SET boot_time = CAST(substr(boot_key, 2) AS INTEGER) * 60 WHERE boot_key GLOB 't[0-9]*';
  UPDATE incidents SET boot_time = CAST(substr(boot_key, 2) AS INTEGER) * 60 WHERE boot_key GLOB 't[0-9]*';
  CREATE INDEX incidents_uptime ON incidents (host_id, scope, last_uptime);
  `,
  // 3: whether the year of a report's time was guessed (a BSD syslog date): the same report in
  // the journal carries the real year.
  `
  ALTER TABLE reports ADD COLUMN year_guessed INTEGER NOT NULL DEFAULT 0;
  `,
  // 4: a trace is stored once and referenced by every report that printed it (a task reported
  // every two minutes, a hundred tasks in one trace); the frames view keeps the old table's rows.
  (db) => {
    db.exec(`
  CREATE TABLE traces (
    id INTEGER PRIMARY KEY,
    key TEXT NOT NULL UNIQUE,
    nframes INTEGER NOT NULL
  ) STRICT;
  CREATE TABLE trace_frames (
    trace_id INTEGER NOT NULL REFERENCES traces(id),
    idx INTEGER NOT NULL,
    ${FRAME_COLUMNS}
    PRIMARY KEY (trace_id, idx)
  ) STRICT, WITHOUT ROWID;
  ALTER TABLE reports ADD COLUMN trace_id INTEGER;
  ALTER TABLE reports ADD COLUMN owner_trace_id INTEGER;
  `);
    const traces = new TraceWriter(db);
    const set = {
      task: db.prepare('UPDATE reports SET trace_id = ? WHERE id = ?'),
      owner: db.prepare('UPDATE reports SET owner_trace_id = ? WHERE id = ?'),
    };
    const framesOf = db.prepare('SELECT * FROM frames WHERE report_id = ? AND stack = ? ORDER BY idx');
    // One report at a time (a statement cannot write while another one iterates).
    for (const report of db.prepare('SELECT DISTINCT report_id FROM frames ORDER BY report_id').pluck().all() as number[]) {
      for (const stack of ['task', 'owner'] as const) {
        const frames = (framesOf.all(report, stack) as Row[]).map(frameOfRow);
        if (frames.length > 0) set[stack].run(traces.id(frames), report);
      }
    }
    db.exec(`
  DROP TABLE frames;
  CREATE VIEW frames (report_id, stack, idx, fn, offset, size, module, unreliable, context, inline, source) AS
    SELECT r.id, 'task', f.idx, f.fn, f.offset, f.size, f.module, f.unreliable, f.context, f.inline, f.source
      FROM reports r JOIN trace_frames f ON f.trace_id = r.trace_id
    UNION ALL
    SELECT r.id, 'owner', f.idx, f.fn, f.offset, f.size, f.module, f.unreliable, f.context, f.inline, f.source
      FROM reports r JOIN trace_frames f ON f.trace_id = r.owner_trace_id;
  `);
  },
  // 5: reports whose frames name no caller were titled "(no call trace)" before: they get the title
  // and fingerprint a scan gives them now, so that a new copy of the problem is counted with them,
  // and their incidents take their root report's again. (Only those: a report for which today's
  // rules find a caller would need its culprit, wait and matches redone, which a rescan does.)
  (db) => {
    const retitle = db.prepare(`UPDATE reports SET signature = ?, fingerprint = ?,
      json = json_set(json, '$.signature', ?, '$.fingerprint', ?) WHERE id = ?`);
    const framesOf = db.prepare(TRACE_FRAMES);
    const rows = db.prepare(`SELECT id, kind, task, trace_id, signature FROM reports
      WHERE culprit IS NULL AND trace_id IS NOT NULL`).all() as { id: number; kind: string; task: string; trace_id: number; signature: string }[];
    for (const r of rows) {
      const id = identify(r.kind, r.task, framesOfTrace(framesOf, r.trace_id));
      if (id.culprit.fn === null && id.signature !== r.signature) retitle.run(id.signature, id.fingerprint, id.signature, id.fingerprint, r.id);
    }
    db.exec(`UPDATE incidents SET signature = r.signature, fingerprint = r.fingerprint FROM reports r
      WHERE r.id = incidents.root_report AND (incidents.signature IS NOT r.signature OR incidents.fingerprint IS NOT r.fingerprint)`);
  },
  // 6: no search looks reports up by host and uptime (they go by host, pid and task): one index
  // less to keep at every insert.
  `
  DROP INDEX IF EXISTS reports_host_uptime;
  `,
  // 7: the wait a report's culprit is reached through is named anew (a wait for writeback was a
  // "page lock"; a `?` word at a function's edge no longer names one): reports whose culprit stays
  // take today's title, wait and fingerprint, so a new copy of the problem counts with them.
  // (A report whose culprit changes needs its matches redone too: scanning its log again does
  // that, as a copy whose identity differs replaces the stored one.)
  (db) => {
    const rename = db.prepare(`UPDATE reports SET signature = ?, fingerprint = ?, wait = ?,
      json = json_set(json, '$.signature', ?, '$.fingerprint', ?, '$.wait', ?) WHERE id = ?`);
    const framesOf = db.prepare(TRACE_FRAMES);
    const rows = db.prepare(`SELECT id, kind, task, trace_id, signature, culprit FROM reports
      WHERE culprit IS NOT NULL AND trace_id IS NOT NULL`).all() as { id: number; kind: string; task: string; trace_id: number; signature: string; culprit: string }[];
    for (const r of rows) {
      const id = identify(r.kind, r.task, framesOfTrace(framesOf, r.trace_id));
      if (id.culprit.fn !== r.culprit || id.signature === r.signature) continue;
      rename.run(id.signature, id.fingerprint, id.culprit.primitive, id.signature, id.fingerprint, id.culprit.primitive, r.id);
    }
    db.exec(`UPDATE incidents SET signature = r.signature, fingerprint = r.fingerprint FROM reports r
      WHERE r.id = incidents.root_report AND (incidents.signature IS NOT r.signature OR incidents.fingerprint IS NOT r.fingerprint)`);
  },
  // 8: a time the log wrote without a zone, as written (its digits read as UTC): the same file
  // scanned again under another TZ gives another instant, and the same wall clock.
  // Reports stored with `time_local` (stop 17) get theirs from this machine's zone; older ones,
  // when a scan finds them again.
  (db) => {
    if (db.prepare("SELECT 1 AS x FROM pragma_table_info('reports') WHERE name = 'wall'").get() === undefined) {
      db.exec('ALTER TABLE reports ADD COLUMN wall INTEGER');
    }
    const set = db.prepare('UPDATE reports SET wall = ? WHERE id = ?');
    const rows = db.prepare(`SELECT id, time FROM reports WHERE wall IS NULL AND time IS NOT NULL
      AND json_extract(json, '$.time_local') = 1`).all() as { id: number; time: number }[];
    for (const x of rows) set.run(wallClock(x.time), x.id);
  },
];

/** A time read in this machine's zone, as its log wrote it: its digits read as UTC. */
function wallClock(time: number): number {
  return time - new Date(time).getTimezoneOffset() * 60_000;
}

/** A report's time as its log wrote it, when written without a zone (read in this machine's zone). */
function wallOf(r: TaskReport): number | null {
  return r.localTime && r.time !== null ? wallClock(r.time) : null;
}

/** The frames of a stored trace, in order (run with the trace's id). */
const TRACE_FRAMES = 'SELECT * FROM trace_frames WHERE trace_id = ? ORDER BY idx';

/** A stored trace's frames, read with a statement of TRACE_FRAMES. */
function framesOfTrace(stmt: Database.Statement, traceId: unknown): Frame[] {
  return (stmt.all(traceId) as Row[]).map(frameOfRow);
}

/** A frame as the frames of a trace store it. */
function frameOfRow(x: Row): Frame {
  const f: Frame = {
    fn: x.fn as string, offset: x.offset as string | null, size: x.size as string | null, module: x.module as string | null,
    unreliable: x.unreliable === 1, context: x.context as Frame['context'],
  };
  if (x.inline === 1) f.inline = true;
  if (x.source !== null && x.source !== undefined) f.source = x.source as string;
  return f;
}

/**
 * What makes two traces one: every stored field of every frame, in order, each with its length
 * before it (or `-` for none), so no text in a field can pass for a field boundary.
 */
function traceText(frames: readonly Frame[]): string {
  // (sameTrace compares the same fields; traceHash reads all of them but the text of a source.)
  const field = (x: string | null | undefined): string => (x === null || x === undefined ? '-' : `${x.length}.${x}`);
  let s = '';
  for (const f of frames) {
    s += field(f.fn) + field(f.offset) + field(f.size) + field(f.module) + field(f.context) + field(f.source)
      + (f.unreliable ? 'u' : 'r') + (f.inline ? 'i' : 'o');
  }
  return s;
}

/**
 * Finds or stores traces, each once. Ids it has seen are remembered by their text (up to
 * TRACE_CACHE of them), which is cheaper than hashing it again; forget() drops them when the batch
 * that stored some is rolled back.
 */
class TraceWriter {
  /** Traces seen, by traceHash(): their frames and id. */
  private readonly ids = new Map<number, { frames: readonly Frame[]; id: number }[]>();
  private remembered = 0;
  private readonly find: Database.Statement;
  private readonly add: Database.Statement;
  /** Statements inserting 1..16 frames at once: one call per 16 frames, not one per frame. */
  private readonly inserts: Database.Statement[] = [];

  constructor(private readonly db: Database.Database) {
    this.find = db.prepare('SELECT id FROM traces WHERE key = ?');
    this.add = db.prepare('INSERT INTO traces (key, nframes) VALUES (?, ?)');
  }

  /** The trace of these frames; null for none. */
  id(frames: readonly Frame[]): number | null {
    if (frames.length === 0) return null;
    const hash = traceHash(frames);
    const seen = this.ids.get(hash);
    const known = seen?.find((t) => sameTrace(t.frames, frames));
    if (known) return known.id;
    let id: number;
    const key = createHash('sha256').update(traceText(frames)).digest('base64url');
    const row = this.find.get(key) as { id: number } | undefined;
    if (row) {
      id = row.id;
    } else {
      id = Number(this.add.run(key, frames.length).lastInsertRowid);
      this.insertFrames(id, frames);
    }
    if (this.remembered + frames.length > TRACE_CACHE_FRAMES) this.forget();
    // A copy: the caller's frames are its own. Traces beyond a few of one hash are looked up in
    // the database (they differ only in the text of a source location).
    const kept = { frames: frames.map((f) => ({ ...f })), id };
    const list = this.ids.get(hash);
    if (!list) this.ids.set(hash, [kept]);
    else if (list.length < 4) list.push(kept);
    else return id;
    this.remembered += frames.length;
    return id;
  }

  forget(): void {
    this.ids.clear();
    this.remembered = 0;
  }

  private insertFrames(id: number, frames: readonly Frame[]): void {
    for (let i = 0; i < frames.length; i += 16) {
      const n = Math.min(16, frames.length - i);
      let ins = this.inserts[n];
      if (!ins) {
        ins = this.db.prepare(`INSERT INTO trace_frames (trace_id, idx, fn, offset, size, module, unreliable, context, inline, source)
          VALUES ${Array.from({ length: n }, () => '(?, ?, ?, ?, ?, ?, ?, ?, ?, ?)').join(', ')}`);
        this.inserts[n] = ins;
      }
      const args: unknown[] = new Array(n * 10);
      for (let k = 0; k < n; k++) {
        const f = frames[i + k];
        const o = k * 10;
        args[o] = id; args[o + 1] = i + k; args[o + 2] = f.fn; args[o + 3] = f.offset; args[o + 4] = f.size;
        args[o + 5] = f.module; args[o + 6] = f.unreliable ? 1 : 0; args[o + 7] = f.context;
        args[o + 8] = f.inline ? 1 : 0; args[o + 9] = f.source ?? null;
      }
      ins.run(...args);
    }
  }
}

/** An incident's task with the kernel of its report. */
type Member = IncidentMember & { kernel: string | null };

/** An incident's columns that the incident searches look at, kept by the connection that made it. */
interface FreshIncident {
  id: number;
  scope: string;
  bootKey: string | null;
  bootTime: number | null;
  firstTime: number | null;
  lastTime: number | null;
  firstUptime: number | null;
  lastUptime: number | null;
  reports: number;
}

interface FreshHost {
  tasks: Set<string>;
  /** By id, in id order. */
  incidents: Map<number, FreshIncident>;
}

/**
 * What INCIDENT_BY_TIME, INCIDENT_BY_UPTIME or INCIDENT_UNTIMED (whichever the report's times
 * call for) find among a host's incidents, with SQL's NULL rules: a comparison with NULL is false.
 */
function pickIncident(incidents: Iterable<FreshIncident>, scope: string, bk: string | null, bt: number | null,
  t: number | null, u: number | null): number | null {
  let best: FreshIncident | null = null;
  let bestKey = -Infinity;
  for (const i of incidents) {
    if (i.scope !== scope || i.reports >= INCIDENT_MAX_REPORTS) continue;
    const sameBoot = bk === null || i.bootKey === null || i.bootKey === bk || (i.bootTime !== null && bt !== null && Math.abs(i.bootTime - bt) <= BOOT_TOLERANCE);
    if (!sameBoot) continue;
    // (Negated: a span that is not a number is no span within bounds, as SQL's NULL is not.)
    if (t !== null && i.firstTime !== null && !(Math.max(i.lastTime!, t) - Math.min(i.firstTime, t) <= INCIDENT_MAX_SPAN_MS)) continue;
    if (u !== null && i.firstUptime !== null && !(Math.max(i.lastUptime!, u) - Math.min(i.firstUptime, u) <= INCIDENT_MAX_SPAN_UPTIME)) continue;
    let key: number;
    if (t !== null) {
      if (i.firstTime === null || i.lastTime! < t - INCIDENT_GAP_MS || i.firstTime > t + INCIDENT_GAP_MS) continue;
      key = i.lastTime!;
    } else if (u !== null) {
      if (i.firstTime !== null || i.firstUptime === null || i.lastUptime! < u - INCIDENT_GAP_UPTIME || i.firstUptime > u + INCIDENT_GAP_UPTIME) continue;
      key = i.lastUptime!;
    } else {
      if (i.firstTime !== null || i.firstUptime !== null) continue;
      key = 0;
    }
    // ORDER BY last_time (or last_uptime) DESC, id DESC: ids come in ascending order.
    if (key >= bestKey) {
      best = i;
      bestKey = key;
    }
  }
  return best?.id ?? null;
}

/** Tasks remembered as stored by this connection (Store.freshHosts, Store.freshMembers): a bound on memory. */
const FRESH_TASKS = 50_000;

/** Whether two traces have the same traceText(), field by field. */
function sameTrace(a: readonly Frame[], b: readonly Frame[]): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) {
    const x = a[i];
    const y = b[i];
    if (x.fn !== y.fn || x.offset !== y.offset || x.size !== y.size || x.module !== y.module || x.context !== y.context
      || (x.source ?? null) !== (y.source ?? null) || x.unreliable !== y.unreliable || (x.inline ?? false) !== (y.inline ?? false)) return false;
  }
  return true;
}

/**
 * A 32-bit FNV-1a hash of a trace (all of traceText but the text of syzbot's source locations,
 * whose length only counts), cheaper than spelling traceText to look it up; sameTrace tells apart
 * traces that share one.
 */
function traceHash(frames: readonly Frame[]): number {
  let h = 0x811c9dc5;
  const mix = (x: string | null): void => {
    if (x !== null) for (let i = 0; i < x.length; i++) h = Math.imul(h ^ x.charCodeAt(i), 16777619);
    h = Math.imul(h ^ 0xff, 16777619);
  };
  for (const f of frames) {
    mix(f.fn);
    mix(f.offset);
    mix(f.size);
    mix(f.module);
    h = Math.imul(h ^ (f.context.charCodeAt(0) + (f.unreliable ? 256 : 0) + (f.inline ? 512 : 0) + (f.source?.length ?? 0) * 1024), 16777619);
  }
  return h;
}

/** Frames of the traces remembered per run: a bound on memory, not on what is stored. */
const TRACE_CACHE_FRAMES = 100_000;

export const SCHEMA_VERSION = MIGRATIONS.length;

/** The database to use when --db is not given, and whether its directory may be created. */
export function defaultDbPath(create = false): string {
  if (process.env.KLOGSCAN_DB) return process.env.KLOGSCAN_DB;
  if (process.getuid && process.getuid() === 0) {
    const dir = '/var/lib/klogscan';
    const file = path.join(dir, 'klogscan.db');
    // Only a run that stores creates the directory; a query looks where a scan would store.
    if (!create && !fs.existsSync(dir)) return file;
    try {
      if (create) fs.mkdirSync(dir, { recursive: true, mode: 0o700 });
      fs.accessSync(dir, fs.constants.W_OK);
      return file;
    } catch {
      // fall through to the per-user location
    }
  }
  const data = process.env.XDG_DATA_HOME || path.join(os.homedir(), '.local/share');
  return path.join(data, 'klogscan', 'klogscan.db');
}

/** One line for an SQLite error; extended codes (SQLITE_READONLY_DIRECTORY, SQLITE_IOERR_WRITE, ...) by their primary code. */
function describeSqlite(e: unknown, file: string): string {
  const err = e as { code?: string; message?: string };
  const primary = err.code?.split('_').slice(0, 2).join('_');
  const why = err.message ? ` (${err.message})` : '';
  // SQLite says "unable to open database file" or "disk I/O error" for what the file system can tell better.
  if (primary === 'SQLITE_CANTOPEN' || primary === 'SQLITE_IOERR') {
    const plain = fileProblem(file);
    if (plain) return plain;
  }
  switch (primary) {
    case 'SQLITE_NOTADB': return `${file} is not a klogscan database (not an SQLite file)`;
    case 'SQLITE_CORRUPT': return `${file} is corrupt${why}; move it aside and start a new one`;
    case 'SQLITE_BUSY':
    case 'SQLITE_LOCKED': return `${file} is locked by another process (another klogscan?); try again when it is done`;
    case 'SQLITE_READONLY': return `${file} is read-only for this user${why}; use --db to pick another database`;
    case 'SQLITE_CANTOPEN': return `cannot open ${file}${why}`;
    case 'SQLITE_FULL': return `no space left for ${file}${why}`;
    case 'SQLITE_IOERR': return `input/output error on ${file}${why}`;
    case 'SQLITE_PERM': return `permission denied on ${file}${why}`;
    default: return `${file}: ${err.message ?? String(e)}`;
  }
}

/** What is wrong with a database path that SQLite could not open, when the file system says: a directory, no permission. */
function fileProblem(file: string): string | null {
  try {
    if (fs.statSync(file).isDirectory()) return `${file} is a directory, not a database file; use --db FILE`;
  } catch {
    // Not there (yet): its directory may be the problem.
  }
  for (const [p, mode] of [[file, fs.constants.R_OK | fs.constants.W_OK], [path.dirname(file), fs.constants.W_OK | fs.constants.X_OK]] as const) {
    try {
      if (fs.existsSync(p)) fs.accessSync(p, mode);
    } catch {
      return `permission denied on ${p} for this user; use --db to pick another database`;
    }
  }
  return null;
}

function isSqlite(e: unknown): boolean {
  return (e as { code?: unknown }).code !== undefined && String((e as { code?: unknown }).code).startsWith('SQLITE_');
}

function isBusy(e: unknown): boolean {
  return /^SQLITE_(BUSY|LOCKED)(_|$)/.test(String((e as { code?: unknown }).code));
}

export interface OpenOptions {
  readonly?: boolean;
  /** Create missing directories (default locations); an explicit --db path must exist already. */
  createDir?: boolean;
}

export interface RecordResult {
  report: number;
  incident: number;
  /** The report was already stored (from this or another source). */
  duplicate: boolean;
  /** The NDJSON line of the caller's report object, when storing it made one (a new report, or a better copy). */
  line?: string;
}

export interface HistoryFilter {
  since?: number;
  until?: number;
  host?: string;
  rule?: string;
  kind?: string;
  fingerprint?: string;
  limit?: number;
}

export interface IncidentRow {
  id: number;
  host: string | null;
  first_seen: string | null;
  last_seen: string | null;
  first_uptime: number | null;
  last_uptime: number | null;
  recorded: string;
  kind: string;
  reports: number;
  tasks: number;
  signature: string | null;
  fingerprint: string | null;
  kernel: string | null;
  root_cause: { rule: string | null; verdict: string | null };
}

export interface IncidentDetail {
  incident: IncidentRow;
  reports: (ReportJson & { id: number; raw: string })[];
  /** Who waits for whom between tasks: the first MAX_EDGES of `edges_total`. */
  edges: WaitEdge[];
  edges_total: number;
  groups: { fingerprint: string; signature: string; reports: number[] }[];
  root_report: number | null;
}

export type StatsBy = 'fingerprint' | 'rule' | 'host' | 'kernel';

export interface StatsRow {
  key: string | null;
  signature?: string | null;
  reports: number;
  incidents: number;
  hosts: number;
  first_seen: string | null;
  last_seen: string | null;
  kernels: string[];
  probable_fix?: string | null;
}

type Row = Record<string, unknown>;

function iso(ms: unknown): string | null {
  return typeof ms === 'number' && Number.isFinite(ms) ? new Date(ms).toISOString() : null;
}


export class Store {
  private readonly db: Database.Database;
  private inTx = false;
  private txStarted = 0;
  private pending = 0;
  /** Commits a batch COMMIT_MS after it began even when no report follows (a long quiet read). */
  private timer: NodeJS.Timeout | null = null;
  /** An error of a commit made by the timer, reported by the next call. */
  private failed: StoreError | null = null;
  /** Incidents whose root cause is recomputed once, at commit (spans and counts are kept per insert). */
  private readonly dirty = new Set<number>();
  private readonly hostIds = new Map<string, number>();
  private readonly sourceIds = new Map<string, number>();
  private readonly stmts = new Map<string, Database.Statement>();
  /** Made once the schema has its traces table (after prepare()). */
  private traceWriter: TraceWriter | null = null;
  /** Streams are sources of their own in each run: see reportSource(). */
  private readonly runStarted = new Date().toISOString();
  /**
   * A stream source found to repeat records of an earlier run (the same machine's dmesg read
   * again) takes that run's incident scope, so its new reports join the same episode.
   */
  private readonly streamScopes = new Map<number, string>();
  /**
   * Hosts whose stored reports and incidents were all written by this connection since it last
   * looked, each with the tasks (pid and name) stored for it and its incidents' spans; null: the
   * host had some already. A task not listed under its host has no stored report, so the searches
   * for the same report and for the task's open incident would find nothing and are skipped, and
   * the incident a report joins is picked from the host's list (in a first scan, three statements
   * of about eight a report). Forgotten when another connection commits (data_version), on
   * rollback and beyond FRESH_TASKS tasks: forgetting only brings the searches back.
   */
  private readonly freshHosts = new Map<number, FreshHost | null>();
  private freshTasks = 0;
  /**
   * The distinct tasks of incidents made by this connection since it last looked, each by its
   * latest report (what incident_tasks holds, in report order), so that a root cause is
   * recomputed at commit without reading them back. Incidents not listed are read from the
   * database; forgotten with freshHosts and beyond FRESH_TASKS members.
   */
  private readonly freshMembers = new Map<number, Map<string, Member>>();
  private freshMemberCount = 0;
  private dataVersion: number | null = null;
  /**
   * KLOGSCAN_STORE_CHECK=1: every search the caches above skip or answer is run as well, and a
   * different answer stops the scan (the tests scan every sample so).
   */
  private readonly selfCheck = process.env.KLOGSCAN_STORE_CHECK === '1';
  /** FRESH_TASKS; small under the self-check, so that its runs forget often. */
  private readonly freshCap = this.selfCheck ? 50 : FRESH_TASKS;

  private constructor(db: Database.Database, readonly file: string) {
    this.db = db;
  }

  static open(file: string, opts: OpenOptions = {}): Store {
    const dir = path.dirname(path.resolve(file));
    if (!fs.existsSync(dir)) {
      if (opts.readonly) throw new StoreError(`no database at ${file} yet: scan some logs first (klogscan FILE), or pass --db`);
      if (!opts.createDir) throw new StoreError(`cannot open database ${file}: directory ${dir} does not exist`);
      try {
        fs.mkdirSync(dir, { recursive: true, mode: 0o700 });
      } catch (e) {
        throw new StoreError(`cannot create ${dir} for the database: ${(e as Error).message}`);
      }
    }
    if (opts.readonly && !fs.existsSync(file)) {
      throw new StoreError(`no database at ${file} yet: scan some logs first (klogscan FILE), or pass --db`);
    }
    const existed = fs.existsSync(file) && fs.statSync(file).size > 0;
    const readonly = opts.readonly === true;
    const attempt = (name: string): Store => {
      let db: Database.Database;
      try {
        db = openDatabase(name, { readonly, fileMustExist: readonly, timeout: 5000 });
      } catch (e) {
        throw Object.assign(new StoreError(describeSqlite(e, file)), { cause: e });
      }
      const store = new Store(db, file);
      try {
        // Logs can hold sensitive data: a new (or still empty) database is private to its owner.
        if (!readonly && (!existed || fs.statSync(file).size === 0)) fs.chmodSync(file, 0o600);
        store.prepare(readonly);
      } catch (e) {
        db.close();
        if (e instanceof StoreError) throw e;
        throw Object.assign(new StoreError(describeSqlite(e, file)), { cause: e });
      }
      return store;
    };
    try {
      return attempt(path.resolve(file));
    } catch (e) {
      // A reader who may read the file but not write its directory cannot create the WAL index
      // (-shm) next to it: read it as an immutable file instead. Queries see what was committed
      // and checkpointed; a writer that is running at that moment holds the directory anyway.
      const code = String(((e as Error).cause as { code?: string } | undefined)?.code ?? '');
      if (!readonly || !/^SQLITE_(READONLY|CANTOPEN|PERM)/.test(code)) throw e;
      const uri = 'file:' + path.resolve(file).split('/').map(encodeURIComponent).join('/') + '?immutable=1';
      return attempt(uri);
    }
  }

  /** Checks the schema version, migrates a writable database, sets the pragmas. */
  private prepare(readonly: boolean): void {
    const version = this.db.pragma('user_version', { simple: true }) as number;
    if (version > SCHEMA_VERSION) {
      throw new StoreError(`${this.file} was written by a newer klogscan (schema ${version}; this one knows ${SCHEMA_VERSION}): upgrade klogscan`);
    }
    if (version === 0) {
      const tables = this.db.prepare("SELECT count(*) AS n FROM sqlite_master WHERE type = 'table'").get() as { n: number };
      if (tables.n > 0) throw new StoreError(`${this.file} is an SQLite database of another program, not klogscan's: pass --db with another path`);
      // A report row (its raw text and JSON) takes about 2.6 KB: 4 KiB pages hold one, 8 KiB
      // pages three, which writes a third fewer pages. Only a new, empty database takes it.
      if (!readonly) this.db.pragma('page_size = 8192');
    }
    if (readonly) {
      if (version < SCHEMA_VERSION) throw new StoreError(`${this.file} has an older schema (${version}): run a scan with this klogscan once to upgrade it`);
      return;
    }
    this.db.pragma('journal_mode = WAL');
    this.db.pragma('synchronous = NORMAL');
    this.db.pragma('foreign_keys = ON');
    for (let v = version; v < SCHEMA_VERSION; v++) {
      this.db.transaction(() => {
        // Another klogscan may have migrated the file between the first look and this lock.
        if ((this.db.pragma('user_version', { simple: true }) as number) > v) return;
        // Test builds of this version put migration 3's column into migration 2: not again.
        const done = v === 2 && (this.db.prepare("SELECT 1 AS x FROM pragma_table_info('reports') WHERE name = 'year_guessed'").get() !== undefined);
        const step = MIGRATIONS[v];
        if (!done) {
          if (typeof step === 'string') this.db.exec(step);
          else step(this.db);
        }
        this.db.pragma(`user_version = ${v + 1}`);
      }).immediate();
    }
  }

  private stmt(sql: string): Database.Statement {
    let s = this.stmts.get(sql);
    if (!s) {
      s = this.db.prepare(sql);
      this.stmts.set(sql, s);
    }
    return s;
  }

  /** Runs `fn`, turning SQLite errors into one-line StoreErrors. */
  private guard<T>(fn: () => T): T {
    try {
      return fn();
    } catch (e) {
      if (e instanceof StoreError) throw e;
      if (isSqlite(e)) throw Object.assign(new StoreError(describeSqlite(e, this.file)), { cause: e });
      throw e;
    }
  }

  /**
   * Runs a write of the open batch. Any error rolls the whole batch back (SQLite may have done so
   * already: SQLITE_FULL, SQLITE_IOERR) and is rethrown as it was, so it is the one reported.
   */
  private write<T>(fn: () => T): T {
    this.check();
    this.begin();
    try {
      return this.guard(fn);
    } catch (e) {
      this.abort();
      throw e;
    }
  }

  /** Reports the failure of a commit the timer made, once. */
  private check(): void {
    const f = this.failed;
    if (f) {
      this.failed = null;
      throw f;
    }
  }

  /** Rolls back the open batch, if any; what was cached about rows of it is forgotten too. */
  abort(): void {
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
    try {
      if (this.db.inTransaction) this.db.exec('ROLLBACK');
    } catch {
      // the connection is gone or the transaction already ended: nothing is left to undo
    }
    this.inTx = false;
    this.pending = 0;
    this.dirty.clear();
    this.hostIds.clear();
    this.sourceIds.clear();
    this.traceWriter?.forget();
    this.forgetFresh();
  }

  private checkFailed(what: string): never {
    throw new Error(`store self-check: ${what}`);
  }

  private forgetFresh(): void {
    this.freshHosts.clear();
    this.freshTasks = 0;
    this.freshMembers.clear();
    this.freshMemberCount = 0;
  }

  /** Notes a task's latest report in an incident this connection made (see freshMembers). */
  private memberStored(incident: number, m: Member): void {
    const tasks = this.freshMembers.get(incident);
    if (!tasks) return;
    if (this.freshMemberCount >= this.freshCap) {
      this.freshMembers.clear();
      this.freshMemberCount = 0;
      return;
    }
    const key = `${m.pid} ${m.task}`;
    // A later report of a task replaces its earlier one and comes last, as ORDER BY id puts it.
    if (!tasks.delete(key)) this.freshMemberCount++;
    tasks.set(key, m);
  }

  /** What this connection knows of a host it alone has written (see freshHosts), or null. */
  private freshHost(hostId: number): FreshHost | null {
    let host = this.freshHosts.get(hostId);
    if (host === undefined) {
      // Every report has its incident: a host without incidents has no reports.
      host = this.stmt('SELECT 1 AS x FROM incidents WHERE host_id = ? LIMIT 1').get(hostId) ? null : { tasks: new Set(), incidents: new Map() };
      this.freshHosts.set(hostId, host);
    }
    return host;
  }

  /** Whether a report of this task may be stored for this host (false: certainly none is). */
  private mayHaveTask(hostId: number, pid: number, task: string): boolean {
    const host = this.freshHost(hostId);
    return host === null || host.tasks.has(`${pid} ${task}`);
  }

  /** Notes a task stored for a host (see freshHosts). */
  private storedTask(hostId: number, pid: number, task: string): void {
    const host = this.freshHosts.get(hostId);
    if (!host) return;
    if (this.freshTasks >= this.freshCap) {
      this.forgetFresh();
      return;
    }
    host.tasks.add(`${pid} ${task}`);
    this.freshTasks++;
  }

  /** How long a write waits for another writer's lock before it fails as busy. */
  busyTimeout(ms: number): void {
    this.db.pragma(`busy_timeout = ${Math.max(0, Math.floor(ms))}`);
  }

  /** Closes the database. A batch still open was not committed by its caller: it is rolled back. */
  close(): void {
    this.abort();
    this.db.close();
  }

  // ---- writing -------------------------------------------------------------------------------

  private begin(): void {
    if (this.inTx) return;
    try {
      this.db.exec('BEGIN IMMEDIATE');
    } catch (e) {
      if (!isSqlite(e)) throw e;
      // Nothing was written: another writer holding the lock is worth waiting for (busy).
      throw Object.assign(new StoreError(describeSqlite(e, this.file), { busy: isBusy(e) }), { cause: e });
    }
    this.inTx = true;
    // Another connection's commit may have stored reports of hosts this one thought fresh.
    const version = this.db.pragma('data_version', { simple: true }) as number;
    if (version !== this.dataVersion) {
      this.forgetFresh();
      this.dataVersion = version;
    }
    this.txStarted = Date.now();
    this.timer = setTimeout(() => this.commitByTimer(), COMMIT_MS);
    this.timer.unref();
  }

  private commitByTimer(): void {
    this.timer = null;
    try {
      this.commit();
    } catch (e) {
      if (!(e instanceof StoreError)) throw e;
      if (e.busy && this.inTx) {
        this.timer = setTimeout(() => this.commitByTimer(), COMMIT_MS);
        this.timer.unref();
      } else {
        this.failed ??= e;
      }
    }
  }

  /**
   * Commits the open batch (reports and any read position saved with them). SQLITE_BUSY on COMMIT
   * leaves the batch open for a later commit (a StoreError with `busy`); any other error rolls it
   * back.
   */
  commit(): void {
    this.check();
    if (!this.inTx) return;
    try {
      for (const id of this.dirty) this.refreshIncident(id);
      this.db.exec('COMMIT');
    } catch (e) {
      if (isBusy(e) && this.db.inTransaction) throw Object.assign(new StoreError(describeSqlite(e, this.file), { busy: true }), { cause: e });
      this.abort();
      if (isSqlite(e)) throw Object.assign(new StoreError(describeSqlite(e, this.file)), { cause: e });
      throw e;
    }
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
    this.dirty.clear();
    this.inTx = false;
    this.pending = 0;
  }

  private host(name: string | null): number {
    const key = hostKey(name);
    let id = this.hostIds.get(key);
    if (id === undefined) {
      const row = this.stmt('SELECT id FROM hosts WHERE key = ?').get(key) as { id: number } | undefined;
      id = row ? row.id : Number(this.stmt('INSERT INTO hosts (key, name) VALUES (?, ?)').run(key, name ?? '').lastInsertRowid);
      this.hostIds.set(key, id);
    }
    return id;
  }

  /** The sources row of a name as given (follow mode's read positions). */
  private source(name: string): number {
    let id = this.sourceIds.get(name);
    if (id === undefined) {
      const row = this.stmt('SELECT id FROM sources WHERE name = ?').get(name) as { id: number } | undefined;
      id = row ? row.id : Number(this.stmt('INSERT INTO sources (name, updated) VALUES (?, ?)').run(name, Date.now()).lastInsertRowid);
      this.sourceIds.set(name, id);
    }
    return id;
  }

  /**
   * The source a report came from. A file is named by its real path, so `f.log`, `./f.log` and
   * `/abs/f.log` are one source (a rotated or vanished file keeps its absolute name). A stream
   * (stdin, a FIFO, `<(cmd)`) is a source of its own in each run: host-less dmesg of two machines
   * piped one after the other must not be deduplicated against each other or merged into one
   * incident (findSameStream() recognises the same machine's records read again).
   */
  private reportSource(name: string): number {
    const cached = this.sourceIds.get(`\0${name}`);
    if (cached !== undefined) return cached;
    let id: number;
    if (isStreamName(name)) {
      id = this.source(`${name} (${name === '-' ? 'stdin' : 'stream'} ${this.runStarted} pid ${process.pid})`);
    } else {
      // Follow mode reads a renamed file under "NAME (rotated)": it is the followed file's data.
      const file = fs.existsSync(name) ? name : followedName(name);
      let key: string;
      try {
        key = fs.realpathSync(file);
      } catch {
        key = path.resolve(file);
      }
      // Databases of schema 1 named files as they were typed: a re-scan under the same spelling
      // finds its old row instead of storing every report again.
      // (A row that only holds follow mode's read position, named by the path as given, is not one.)
      const legacy = key === name ? undefined
        : this.stmt('SELECT s.id FROM sources s WHERE s.name = ? AND EXISTS (SELECT 1 FROM reports r WHERE r.source_id = s.id)').get(name) as { id: number } | undefined;
      id = legacy && !this.stmt('SELECT 1 AS x FROM sources WHERE name = ?').get(key) ? legacy.id : this.source(key);
    }
    this.sourceIds.set(`\0${name}`, id);
    return id;
  }

  /** A boot of a host seen in the log (banner, journal boot id), for the kernel timeline. */
  recordBoot(host: string | null, bootKey: string, kernel: string | null, time: number | null): void {
    this.write(() => this.bootRow(host, bootKey, kernel, time));
  }

  private bootRow(host: string | null, bootKey: string, kernel: string | null, time: number | null): void {
    {
      const hostId = this.host(host);
      this.stmt(`INSERT INTO boots (host_id, boot_key, kernel, first_seen) VALUES (?, ?, ?, ?)
        ON CONFLICT (host_id, boot_key) DO UPDATE SET kernel = coalesce(excluded.kernel, kernel),
        first_seen = coalesce(min(first_seen, excluded.first_seen), first_seen, excluded.first_seen)`).run(hostId, bootKey, kernel, time);
    }
  }

  /**
   * Stores one analysed report; returns its id, its incident and whether it was known already.
   * `json`: the report's NDJSON object when the caller made it already (its incident is set here).
   */
  record(a: AnalyzedReport, json?: ReportJson): RecordResult {
    // No savepoint per report: any error in it rolls the whole batch back (write()), so a half
    // written report can never be committed, and a savepoint would cost two statements a report.
    const res = this.write(() => this.recordInTx(a, json));
    if (++this.pending >= COMMIT_REPORTS || Date.now() - this.txStarted >= COMMIT_MS) {
      try {
        this.commit();
      } catch (e) {
        // The report is in the batch, which stays open: the timer or the caller commits it later.
        if (!(e instanceof StoreError && e.busy)) throw e;
      }
    }
    return res;
  }

  private findSame(hostId: number, scopeSource: number | null, sourceId: number, a: AnalyzedReport): SameRow | undefined {
    const r = a.report;
    // Without time or uptime, two copies of a report in one file are only told apart by where they
    // are: the line is part of the identity within a source (not across sources, which may differ).
    return this.stmt(FIND_SAME).get({
      host: hostId, pid: r.pid, task: r.task, kind: r.kind, secs: secondsKey(r), scope: scopeSource, victim: r.crash?.oom?.victim?.pid ?? null, exact: r.crash ? 1 : 0, fp: a.identity.fingerprint, t: r.time, u: r.uptime, w: wallOf(r),
      yg: r.yearGuessed ? 1 : 0, dst: r.time !== null && nearDstChange(r.time) ? 1 : 0, source: sourceId, line: r.source.line,
      fine: r.uptime !== null && Math.abs(r.uptime * 1000 - Math.round(r.uptime * 1000)) > 0.001 ? 1 : 0,
    }) as SameRow | undefined;
  }

  /**
   * A host-less report read from a stream in an earlier run: `dmesg | klogscan` run again on the
   * same machine must add nothing, while dmesg of other machines piped one after another must not
   * be taken for it. The ring buffer prints a record with the same printk time every time it is
   * read, to the microsecond, so an equal uptime makes two runs' reports one; another machine's
   * report of the same task has another. Wall times alone (`dmesg -T`) are no such proof: they are
   * derived anew at each call, to the second, and identical machines hit by one storage stall
   * report the same kernel thread in the same second; such reports are stored again.
   */
  private findSameStream(hostId: number, a: AnalyzedReport): (SameRow & { scope: string }) | undefined {
    const r = a.report;
    if (r.uptime === null) return undefined;
    return this.stmt(`SELECT r.id, r.nframes, r.truncated, r.incident_id, r.fingerprint, r.trace_id, r.wall, r.kernel, r.blocked_seconds, i.scope FROM reports r
        JOIN sources s ON s.id = r.source_id JOIN incidents i ON i.id = r.incident_id
      WHERE r.host_id = ? AND r.pid = ? AND r.task = ? AND r.kind = ? AND r.blocked_seconds IS ?
        AND (s.name = '-' OR instr(s.name, ' (stdin ') > 0 OR instr(s.name, ' (stream ') > 0)
        AND r.uptime IS NOT NULL AND abs(r.uptime - ?) < ${SAME_RECORD_UPTIME}
      ORDER BY r.id LIMIT 1`).get(hostId, r.pid, r.task, r.kind, secondsKey(r), r.uptime) as (SameRow & { scope: string }) | undefined;
  }

  /** Whether a stored report's own frames give another fingerprint today than the one it has. */
  private outdated(kind: string, task: string, same: SameRow): boolean {
    // The other kinds are named by more than their frames (their first line): not told from the row.
    if (same.trace_id === null || !BLOCKED_KINDS.has(kind)) return false;
    return identify(kind, task, framesOfTrace(this.stmt(TRACE_FRAMES), same.trace_id)).fingerprint !== same.fingerprint;
  }

  /** `made`: the report object the caller made (reportJson()), whose NDJSON line is made here. */
  private recordInTx(a: AnalyzedReport, made?: ReportJson): RecordResult {
    const r = a.report;
    const hostId = this.host(r.host);
    const sourceId = this.reportSource(r.source.name);
    // Without a host name, two logs cannot be told apart as machines: keep them per source.
    const scopeSource = r.host ? null : sourceId;
    const known = this.mayHaveTask(hostId, r.pid, r.task);
    let same: SameRow | undefined = known || this.selfCheck ? this.findSame(hostId, scopeSource, sourceId, a) : undefined;
    if (same && !known) this.checkFailed(`a search skipped for task ${r.task}:${r.pid} finds report ${same.id}`);
    if (!same && (known || this.selfCheck) && r.host === null && isStreamName(r.source.name)) {
      const earlier = this.findSameStream(hostId, a);
      if (earlier && !known) this.checkFailed(`a search skipped for task ${r.task}:${r.pid} finds report ${earlier.id} of a stream`);
      if (earlier && !this.streamScopes.has(sourceId)) this.streamScopes.set(sourceId, earlier.scope);
      same = earlier;
    }
    if (same) {
      // A more complete copy replaces the stored report. So does a copy as complete that knows the
      // kernel release the stored one lacked (a stack dump named it, or --kernel was given this
      // time: it brings the verdicts that need it), and one of a stored report that today's
      // klogscan names otherwise (an older one stored it), so new copies of the problem count with
      // it. (Two copies named otherwise today, a `?` mark apart, keep the first: neither is outdated.)
      const asComplete = r.frames.length >= same.nframes && (!r.truncated || same.truncated === 1);
      const better = r.frames.length > same.nframes || (same.truncated === 1 && !r.truncated && r.frames.length >= same.nframes)
        || (asComplete && !same.kernel && r.kernel !== null)
        || (asComplete && same.fingerprint !== a.identity.fingerprint && this.outdated(r.kind, r.task, same))
        || (asComplete && r.kind === 'hung_task' && same.blocked_seconds === null && r.blockedSeconds !== null);
      // A report stored before its wall clock was kept (schema 7 and older) gets it now.
      const wall = wallOf(r);
      if (same.wall === null && wall !== null) this.stmt('UPDATE reports SET wall = ? WHERE id = ?').run(wall, same.id);
      let line: string | undefined;
      if (better) {
        const stored = this.jsonToStore(a, same.incident_id, made);
        line = stored.line;
        this.writeDetails(same.id, a, { json: stored.json, sourceId });
        // Its member (if it is one) changed in the database: read it back at commit.
        this.freshMembers.delete(same.incident_id);
        this.dirty.add(same.incident_id);
      }
      a.incident = same.incident_id;
      return { report: same.id, incident: same.incident_id, duplicate: true, line };
    }
    const bootKey = bootKeyOf(a);
    const bootTime = bootTimeOf(a);
    const scope = scopeSource === null ? 'host' : (this.streamScopes.get(sourceId) ?? `source:${sourceId}`);
    const incident = this.findIncident(hostId, scope, bootKey, bootTime, a, known) ?? this.newIncident(hostId, scope, bootKey, bootTime, a);
    const best = a.matches[0];
    const { json, line } = this.jsonToStore(a, incident, made);
    const id = Number(this.stmt(`INSERT INTO reports (incident_id, host_id, boot_key, boot_time, kind, time, uptime, task, pid,
        blocked_seconds, state, kernel, log_kernel, tainted, signature, fingerprint, culprit, wait, best_rule,
        best_verdict, best_kind, best_role, owner_task, owner_pid, owner_lock, nframes, truncated, source_id,
        source_line, raw, json, recorded, year_guessed, trace_id, owner_trace_id, wall)
      VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`).run(
      incident, hostId, bootKey, bootTime, r.kind, r.time, r.uptime, r.task, r.pid, secondsKey(r), r.state, r.kernel,
      r.logKernel, r.tainted, a.identity.signature, a.identity.fingerprint, a.identity.culprit.fn,
      a.identity.culprit.primitive, best?.rule ?? null, best?.verdict ?? null, best?.kind ?? null, best?.role ?? null,
      r.blocker?.owner?.task ?? null, r.blocker?.owner?.pid ?? null, r.blocker?.lock ?? null, r.frames.length,
      r.truncated ? 1 : 0, sourceId, r.source.line, r.lines.join('\n'), json, Date.now(), r.yearGuessed ? 1 : 0,
      ...this.traceIds(r), wallOf(r),
    ).lastInsertRowid);
    this.storedTask(hostId, r.pid, r.task);
    this.writeDetails(id, a, null);
    if (bootKey) this.bootRow(r.host, bootKey, r.logKernel, r.time);
    // The incident's span and counts follow each insert; its distinct tasks are kept with their
    // latest report, over which the root cause is recomputed once per batch.
    // A task new to the incident is one statement; a known one moves on to its latest report,
    // unless that has no trace (a header repeated, a priority filter): the earlier report with its
    // trace and cause still stands for the task (helper-63).
    const fresh = this.stmt('INSERT INTO incident_tasks (incident_id, task, pid, report_id) VALUES (?, ?, ?, ?) ON CONFLICT DO NOTHING')
      .run(incident, r.task, r.pid, id).changes === 1;
    const stands = fresh || r.frames.length > 0;
    if (!fresh && stands) this.stmt('UPDATE incident_tasks SET report_id = ? WHERE incident_id = ? AND task = ? AND pid = ?').run(id, incident, r.task, r.pid);
    if (stands) this.memberStored(incident, {
      id, task: r.task, pid: r.pid, kind: r.kind, blockedSeconds: secondsKey(r), signature: a.identity.signature,
      fingerprint: a.identity.fingerprint, rule: best?.rule ?? null, verdict: best?.verdict ?? null, ruleKind: best?.kind ?? null,
      role: best?.role ?? null, ownerTask: r.blocker?.owner?.task ?? null, ownerPid: r.blocker?.owner?.pid ?? null, kernel: r.kernel,
    });
    this.stmt(`UPDATE incidents SET first_time = coalesce(min(first_time, @t), first_time, @t), last_time = coalesce(max(last_time, @t), last_time, @t),
        first_uptime = coalesce(min(first_uptime, @u), first_uptime, @u), last_uptime = coalesce(max(last_uptime, @u), last_uptime, @u),
        boot_time = coalesce(boot_time, @bt), reports = reports + 1, tasks = tasks + @fresh, updated = @now WHERE id = @id`).run(
      { t: r.time, u: r.uptime, bt: bootTime, fresh: fresh ? 1 : 0, now: Date.now(), id: incident });
    const span = this.freshHosts.get(hostId)?.incidents.get(incident);
    if (span) {
      if (r.time !== null) {
        span.firstTime = span.firstTime === null ? r.time : Math.min(span.firstTime, r.time);
        span.lastTime = span.lastTime === null ? r.time : Math.max(span.lastTime, r.time);
      }
      if (r.uptime !== null) {
        span.firstUptime = span.firstUptime === null ? r.uptime : Math.min(span.firstUptime, r.uptime);
        span.lastUptime = span.lastUptime === null ? r.uptime : Math.max(span.lastUptime, r.uptime);
      }
      span.bootTime ??= bootTime;
      span.reports++;
    }
    this.dirty.add(incident);
    a.incident = incident;
    return { report: id, incident, duplicate: false, line };
  }

  /**
   * The JSON stored with a report in `incident`, and the caller's NDJSON line when the store made
   * it: the line is made once, with its incident, and the stored JSON is cut from it (one
   * serialisation of the report instead of two).
   */
  private jsonToStore(a: AnalyzedReport, incident: number, made?: ReportJson): { json: string; line?: string } {
    if (!made) return { json: storedJson(reportJson({ ...a, incident })) };
    made.incident = incident;
    const line = jsonLine(made);
    return { json: withoutFrames(line) ?? storedJson(made), line };
  }

  /**
   * Frames and matches of a report; `replace`: the JSON of a better copy and the source it was read
   * from, replacing the older one's rows.
   */
  private writeDetails(id: number, a: AnalyzedReport, replace: { json: string; sourceId: number } | null): void {
    const r = a.report;
    if (replace !== null) {
      this.stmt('DELETE FROM matches WHERE report_id = ?').run(id);
      const best = a.matches[0];
      // What the more complete copy knows replaces what the other lacked (the Tainted line, the
      // task line, the blocker line may all be among the lines it lost). Its raw lines and JSON are
      // the new copy's, so its source and line are too. Its time is the more exact of the two: a
      // journal's instant over a syslog copy's local or guessed time, whichever came first; the
      // wall clock stays, so the syslog copy read again under another TZ is still found.
      this.stmt(`UPDATE reports SET nframes = ?, truncated = ?, signature = ?, fingerprint = ?, culprit = ?, wait = ?,
        best_rule = ?, best_verdict = ?, best_kind = ?, best_role = ?, raw = ?, json = ?,
        state = coalesce(?, state), blocked_seconds = coalesce(@secs, blocked_seconds), kernel = coalesce(?, kernel), log_kernel = coalesce(?, log_kernel),
        tainted = coalesce(?, tainted), owner_task = coalesce(?, owner_task), owner_pid = coalesce(?, owner_pid),
        owner_lock = coalesce(?, owner_lock), trace_id = ?, owner_trace_id = ?, source_id = ?, source_line = ?,
        time = CASE WHEN time IS NULL OR (@exact = 1 AND (year_guessed = 1 OR wall IS NOT NULL)) THEN coalesce(@t, time) ELSE time END,
        year_guessed = CASE WHEN time IS NULL THEN @yg WHEN @exact = 1 THEN 0 ELSE year_guessed END,
        uptime = coalesce(uptime, @u), wall = coalesce(wall, @w) WHERE id = ?`).run(
        r.frames.length, r.truncated ? 1 : 0, a.identity.signature, a.identity.fingerprint, a.identity.culprit.fn,
        a.identity.culprit.primitive, best?.rule ?? null, best?.verdict ?? null, best?.kind ?? null, best?.role ?? null,
        r.lines.join('\n'), replace.json, r.state, r.kernel, r.logKernel, r.tainted,
        r.blocker?.owner?.task ?? null, r.blocker?.owner?.pid ?? null, r.blocker?.lock ?? null, ...this.traceIds(r),
        replace.sourceId, r.source.line, id,
        { t: r.time, u: r.uptime, secs: secondsKey(r), yg: r.yearGuessed ? 1 : 0, w: wallOf(r), exact: r.time !== null && !r.localTime && !r.yearGuessed ? 1 : 0 });
    }
    const match = this.stmt(`INSERT INTO matches (report_id, rank, rule, verdict, fixed_in, kind, role, reason)
      VALUES (?, ?, ?, ?, ?, ?, ?, ?)`);
    a.matches.forEach((m, i) => match.run(id, i, m.rule, m.verdict, m.fixed_in, m.kind, m.role, m.reason));
  }

  /** The report's trace and its lock owner's (trace_id, owner_trace_id), stored if new. */
  private traceIds(r: AnalyzedReport['report']): [number | null, number | null] {
    this.traceWriter ??= new TraceWriter(this.db);
    return [this.traceWriter.id(r.frames), r.blocker ? this.traceWriter.id(r.blocker.ownerFrames) : null];
  }

  /**
   * The open incident a new report belongs to. Incidents keep their span per insert, so this looks
   * at incidents, not at their reports: a report within INCIDENT_GAP of an incident's span, in the
   * same boot, joins it, unless the incident is full (INCIDENT_MAX_*); then a newer one is used or
   * made. The same task reported again joins its incident even after a longer gap (within a day).
   */
  private findIncident(hostId: number, scope: string, bootKey: string | null, bootTime: number | null, a: AnalyzedReport,
    known: boolean): number | null {
    const r = a.report;
    const t = r.time;
    const u = r.uptime;
    const args = { bk: bootKey, bt: bootTime, t, u, host: hostId, scope };
    // The same task still hung belongs to its episode, however long it lasts (up to the bounds).
    const sameTask = known || this.selfCheck ? this.stmt(INCIDENT_OF_TASK).get({ ...args, pid: r.pid, task: r.task }) as { id: number } | undefined : undefined;
    if (sameTask && !known) this.checkFailed(`a search skipped for task ${r.task}:${r.pid} finds incident ${sameTask.id}`);
    if (sameTask) return sameTask.id;
    const fresh = this.freshHosts.get(hostId);
    const picked = fresh ? pickIncident(fresh.incidents.values(), scope, bootKey, bootTime, t, u) : null;
    if (fresh && !this.selfCheck) return picked;
    let row: { id: number } | undefined;
    if (t !== null) {
      row = this.stmt(INCIDENT_BY_TIME).get(args) as { id: number } | undefined;
    } else if (u !== null) {
      row = this.stmt(INCIDENT_BY_UPTIME).get(args) as { id: number } | undefined;
    } else {
      row = this.stmt(INCIDENT_UNTIMED).get(args) as { id: number } | undefined;
    }
    if (fresh && picked !== (row?.id ?? null)) this.checkFailed(`incident picked in memory ${picked}, by the database ${row?.id ?? null}`);
    return row?.id ?? null;
  }

  private newIncident(hostId: number, scope: string, bootKey: string | null, bootTime: number | null, a: AnalyzedReport): number {
    const now = Date.now();
    const id = Number(this.stmt(`INSERT INTO incidents (host_id, scope, boot_key, boot_time, kind, recorded, updated)
      VALUES (?, ?, ?, ?, ?, ?, ?)`).run(hostId, scope, bootKey, bootTime, a.report.kind, now, now).lastInsertRowid);
    this.freshMembers.set(id, new Map());
    this.freshHosts.get(hostId)?.incidents.set(id, {
      id, scope, bootKey, bootTime, firstTime: null, lastTime: null, firstUptime: null, lastUptime: null, reports: 0,
    });
    return id;
  }

  /** The incident's distinct tasks, each by its latest report: what who-waits-for-whom and the root cause look at. */
  private members(incident: number): { members: IncidentMember[]; locks: Map<number, string | null>; kernels: Map<number, string | null> } {
    const rows = this.stmt(`SELECT r.id, r.task, r.pid, r.kind, r.blocked_seconds, r.signature, r.fingerprint, r.best_rule, r.best_verdict,
        r.best_kind, r.best_role, r.owner_task, r.owner_pid, r.owner_lock, r.kernel
      FROM incident_tasks t JOIN reports r ON r.id = t.report_id WHERE t.incident_id = ? ORDER BY r.id`).all(incident) as Row[];
    const locks = new Map<number, string | null>();
    const kernels = new Map<number, string | null>();
    const members = rows.map((x) => {
      locks.set(x.id as number, x.owner_lock as string | null);
      kernels.set(x.id as number, x.kernel as string | null);
      return {
        id: x.id as number,
        task: x.task as string,
        pid: x.pid as number,
        kind: x.kind as string,
        blockedSeconds: x.blocked_seconds as number | null,
        signature: x.signature as string,
        fingerprint: x.fingerprint as string,
        rule: x.best_rule as string | null,
        verdict: x.best_verdict as string | null,
        ruleKind: x.best_kind as string | null,
        role: x.best_role as 'culprit' | 'victim' | null,
        ownerTask: x.owner_task as string | null,
        ownerPid: x.owner_pid as number | null,
      };
    });
    return { members, locks, kernels };
  }

  /** Recomputes an incident's root cause over its distinct tasks (span and counts are kept per insert). */
  private refreshIncident(incident: number): void {
    const fresh = this.freshMembers.get(incident);
    const { members, kernels } = fresh ? { members: [...fresh.values()], kernels: null } : this.members(incident);
    if (members.length === 0) return;
    const root = rootOf(members);
    if (fresh && this.selfCheck) {
      const stored = this.members(incident);
      const want = rootOf(stored.members);
      const ids = (list: IncidentMember[]): string => list.map((m) => m.id).join(',');
      if (ids(stored.members) !== ids(members) || want.id !== root.id || stored.kernels.get(want.id) !== (root as Member).kernel) {
        this.checkFailed(`incident ${incident}: tasks ${ids(members)} in memory, ${ids(stored.members)} stored`);
      }
    }
    this.stmt(`UPDATE incidents SET tasks = ?, kind = ?, signature = ?, fingerprint = ?, root_report = ?, root_rule = ?, root_verdict = ?,
        kernel = ?, updated = ? WHERE id = ?`).run(members.length, root.kind, root.signature, root.fingerprint, root.id, root.rule,
      root.verdict, (kernels ? kernels.get(root.id) : (root as Member).kernel) ?? null, Date.now(), incident);
  }

  /** A stored report object (its row: json, trace_id, owner_trace_id) with its frames put back from its traces. */
  private loadedJson(row: Row): ReportJson {
    const o = JSON.parse(row.json as string) as ReportJson & { blocker: { owner_frames?: Frame[] } | null };
    const frames = (trace: unknown): Frame[] => trace === null ? [] : framesOfTrace(this.stmt(TRACE_FRAMES), trace);
    o.frames = frames(row.trace_id);
    if (o.blocker) o.blocker.owner_frames = frames(row.owner_trace_id);
    return o;
  }

  // ---- follow mode read positions -------------------------------------------------------------

  getPosition(name: string): { device: number | null; inode: number | null; offset: number; line: number; headHash: string | null; cursor: string | null } | null {
    const row = this.guard(() => this.stmt('SELECT device, inode, offset, line, head_hash, cursor FROM sources WHERE name = ?').get(name)) as Row | undefined;
    if (!row) return null;
    return {
      device: row.device as number | null, inode: row.inode as number | null, offset: row.offset as number,
      line: row.line as number, headHash: row.head_hash as string | null, cursor: row.cursor as string | null,
    };
  }

  /** Saves a read position in the current batch: it commits together with the reports before it. */
  savePosition(name: string, pos: { device: number | null; inode: number | null; offset: number; line: number; headHash: string | null; cursor?: string | null }): void {
    this.write(() => {
      this.source(name);
      this.stmt(`UPDATE sources SET device = ?, inode = ?, offset = ?, line = ?, head_hash = ?, cursor = coalesce(?, cursor), updated = ?
        WHERE name = ?`).run(pos.device, pos.inode, pos.offset, pos.line, pos.headHash, pos.cursor ?? null, Date.now(), name);
    });
  }

  // ---- queries ---------------------------------------------------------------------------------

  private incidentRow(x: Row): IncidentRow {
    return {
      id: x.id as number,
      host: (x.host as string) || null,
      first_seen: iso(x.first_time),
      last_seen: iso(x.last_time),
      first_uptime: x.first_uptime as number | null,
      last_uptime: x.last_uptime as number | null,
      recorded: iso(x.recorded)!,
      kind: x.kind as string,
      reports: x.reports as number,
      tasks: x.tasks as number,
      signature: x.signature as string | null,
      fingerprint: x.fingerprint as string | null,
      kernel: x.kernel as string | null,
      root_cause: { rule: x.root_rule as string | null, verdict: x.root_verdict as string | null },
    };
  }

  history(f: HistoryFilter = {}): IncidentRow[] {
    const where: string[] = [];
    const args: unknown[] = [];
    // Incidents from logs without wall-clock times are dated by when they were recorded.
    const when = 'coalesce(i.last_time, i.recorded)';
    if (f.since !== undefined) { where.push(`${when} >= ?`); args.push(f.since); }
    if (f.until !== undefined) { where.push(`coalesce(i.first_time, i.recorded) <= ?`); args.push(f.until); }
    // `-` is how history prints reports without a host name (dmesg, pastes): it finds them.
    if (f.host !== undefined) { where.push('(h.key = ? OR h.name = ?)'); args.push(f.host === '-' ? '' : hostKey(f.host), f.host === '-' ? '' : f.host); }
    if (f.kind !== undefined) { where.push('EXISTS (SELECT 1 FROM reports r WHERE r.incident_id = i.id AND r.kind = ?)'); args.push(f.kind); }
    if (f.fingerprint !== undefined) {
      // A prefix, compared as text: LIKE would take % and _ in it as wildcards.
      where.push('EXISTS (SELECT 1 FROM reports r WHERE r.incident_id = i.id AND substr(r.fingerprint, 1, length(?)) = ?)');
      args.push(f.fingerprint, f.fingerprint);
    }
    if (f.rule !== undefined) {
      where.push('EXISTS (SELECT 1 FROM reports r JOIN matches m ON m.report_id = r.id WHERE r.incident_id = i.id AND m.rule = ?)');
      args.push(f.rule);
    }
    const sql = `SELECT i.*, h.name AS host FROM incidents i JOIN hosts h ON h.id = i.host_id
      ${where.length ? `WHERE ${where.join(' AND ')}` : ''}
      ORDER BY ${when} DESC, i.id DESC LIMIT ?`;
    args.push(f.limit ?? 50);
    return this.guard(() => (this.db.prepare(sql).all(...args) as Row[]).map((x) => this.incidentRow(x)));
  }

  incident(id: number): IncidentDetail | null {
    return this.guard(() => {
      const x = this.stmt('SELECT i.*, h.name AS host FROM incidents i JOIN hosts h ON h.id = i.host_id WHERE i.id = ?').get(id) as Row | undefined;
      if (!x) return null;
      const rows = this.stmt(`SELECT id, json, raw, fingerprint, signature, trace_id, owner_trace_id FROM reports WHERE incident_id = ?
        ORDER BY coalesce(time, 0), coalesce(uptime, 0), id`).all(id) as Row[];
      const reports = rows.map((r) => ({ ...this.loadedJson(r), incident: id, id: r.id as number, raw: r.raw as string }));
      // Reports sharing a fingerprint: tasks blocked in the same place behind one cause.
      const byFp = new Map<string, { fingerprint: string; signature: string; reports: number[] }>();
      for (const r of [...rows].sort((p, q) => (p.id as number) - (q.id as number))) {
        const fp = r.fingerprint as string;
        let g = byFp.get(fp);
        if (!g) byFp.set(fp, g = { fingerprint: fp, signature: r.signature as string, reports: [] });
        g.reports.push(r.id as number);
      }
      const { members, locks } = this.members(id);
      const { edges, total } = waitEdges(members, locks);
      const root = members.length > 0 ? rootOf(members).id : null;
      return {
        incident: this.incidentRow(x), reports, edges, edges_total: total,
        groups: [...byFp.values()].filter((g) => g.reports.length > 1), root_report: root,
      };
    });
  }

  stats(by: StatsBy): StatsRow[] {
    return this.guard(() => {
      const keyExpr: Record<StatsBy, string> = {
        fingerprint: 'r.fingerprint',
        rule: 'r.best_rule',
        host: "NULLIF(h.name, '')",
        kernel: 'r.kernel',
      };
      const k = keyExpr[by];
      const rows = this.db.prepare(`SELECT ${k} AS key, count(*) AS reports, count(DISTINCT r.incident_id) AS incidents,
          count(DISTINCT CASE WHEN h.name <> '' THEN 'h' || r.host_id ELSE 's' || r.source_id END) AS hosts, min(r.time) AS first, max(r.time) AS last,
          json_group_array(DISTINCT r.kernel) AS kernels, max(r.signature) AS signature
        FROM reports r JOIN hosts h ON h.id = r.host_id GROUP BY ${k} ORDER BY reports DESC, key`).all() as Row[];
      return rows.map((x) => {
        const row: StatsRow = {
          key: (x.key as string | null) ?? null,
          reports: x.reports as number,
          incidents: x.incidents as number,
          hosts: x.hosts as number,
          first_seen: iso(x.first),
          last_seen: iso(x.last),
          // A JSON array: a release may hold any character, a comma too.
          kernels: (JSON.parse(x.kernels as string) as (string | null)[]).filter((k): k is string => k !== null).sort(),
        };
        if (by === 'fingerprint') {
          row.signature = x.signature as string | null;
          row.probable_fix = this.probableFix(x.key as string);
        }
        return row;
      });
    });
  }

  /**
   * The first kernel release after which a fingerprint no longer appeared: among the releases its
   * hosts ran later (from boot banners and later reports) and never showed it on, the lowest.
   */
  private probableFix(fingerprint: string): string | null {
    // Only named hosts have a kernel timeline: reports without a host name may come from any
    // number of machines, and another machine's later kernel is no fix.
    const seen = this.db.prepare(`SELECT r.host_id, max(coalesce(r.time, 0)) AS last FROM reports r JOIN hosts h ON h.id = r.host_id
      WHERE r.fingerprint = ? AND h.key <> '' GROUP BY r.host_id`).all(fingerprint) as { host_id: number; last: number }[];
    const withIt = new Set((this.db.prepare('SELECT DISTINCT kernel FROM reports WHERE fingerprint = ? AND kernel IS NOT NULL').all(fingerprint) as { kernel: string }[]).map((r) => r.kernel));
    if (withIt.size === 0) return null;
    const newest = [...withIt].sort(compareReleases).at(-1)!;
    const later = new Set<string>();
    for (const s of seen) {
      if (!s.last) continue;
      // The host's kernel timeline after the last sighting: from boot banners and later reports.
      const timeline = this.db.prepare(`SELECT kernel, first_seen AS t FROM boots WHERE host_id = ? AND kernel IS NOT NULL AND first_seen > ?
          UNION ALL SELECT kernel, time AS t FROM reports WHERE host_id = ? AND kernel IS NOT NULL AND time > ? ORDER BY t`).all(s.host_id, s.last, s.host_id, s.last) as { kernel: string; t: number }[];
      for (const [i, r] of timeline.entries()) {
        // A newer release the fingerprint never showed on, after which the host never went back
        // to a release that had it (a host switching back and forth proves nothing).
        if (withIt.has(r.kernel) || compareReleases(r.kernel, newest) <= 0) continue;
        if (timeline.slice(i + 1).some((x) => withIt.has(x.kernel))) continue;
        later.add(r.kernel);
      }
    }
    const list = [...later].sort(compareReleases);
    return list[0] ?? null;
  }
}

/** The JSON kept with a report: everything but the frames, which the frames table holds. */
export function storedJson(o: ReportJson): string {
  const { frames: _frames, ...rest } = o;
  const b = rest.blocker as { owner_frames?: unknown } | null;
  if (b) {
    const { owner_frames: _owner, ...blocker } = b;
    return JSON.stringify({ ...rest, blocker });
  }
  return JSON.stringify(rest);
}

/**
 * storedJson() of a report from its NDJSON line (jsonLine() of the same object), or null when the
 * line is not shaped as expected. The cuts are safe on structure alone: inside a JSON string every
 * quote is escaped, so `,"frames":[` and `],"signature":` can only be the top-level key and the end
 * of its array (frame objects hold no arrays), and owner_frames is the blocker's last key.
 */
export function withoutFrames(line: string): string | null {
  const start = line.indexOf(',"frames":[');
  const end = start < 0 ? -1 : line.indexOf('],"signature":', start);
  if (end < 0) return null;
  let s = line.slice(0, start) + line.slice(end + 1);
  const owner = s.indexOf(',"owner_frames":[');
  if (owner >= 0) {
    const close = s.indexOf(']},"truncated":', owner);
    if (close < 0) return null;
    s = s.slice(0, owner) + s.slice(close + 1);
  }
  return s;
}

/** Orders kernel releases for "probable fix": numeric segments numerically. */
function compareReleases(a: string, b: string): number {
  const pa = a.split(/[.-]/);
  const pb = b.split(/[.-]/);
  for (let i = 0; i < Math.max(pa.length, pb.length); i++) {
    const x = pa[i] ?? '';
    const y = pb[i] ?? '';
    if (x === y) continue;
    const nx = /^\d+$/.test(x) ? Number(x) : NaN;
    const ny = /^\d+$/.test(y) ? Number(y) : NaN;
    if (!Number.isNaN(nx) && !Number.isNaN(ny)) return nx - ny;
    return x < y ? -1 : 1;
  }
  return 0;
}

/** The estimated boot time in seconds since the epoch (wall clock minus uptime), when both are known. */
export function bootTimeOf(a: AnalyzedReport): number | null {
  const r = a.report;
  return r.time !== null && r.uptime !== null ? Math.round(r.time / 1000 - r.uptime) : null;
}

/**
 * journald's boot id, or the boot time (wall clock minus uptime, to the minute) when both are known:
 * a label for the boots table. Whether two reports are of one boot is decided on bootTimeOf() with a
 * tolerance, since the minute can flip between two reports of one boot.
 */
export function bootKeyOf(a: AnalyzedReport): string | null {
  const r = a.report;
  if (r.bootId) return r.bootId;
  if (r.time !== null && r.uptime !== null) return `t${Math.round((r.time / 1000 - r.uptime) / 60)}`;
  return null;
}

/** A stored report that may be the same as a new one. */
interface SameRow {
  id: number;
  nframes: number;
  truncated: number;
  incident_id: number;
  fingerprint: string;
  trace_id: number | null;
  wall: number | null;
  kernel: string | null;
  blocked_seconds: number | null;
}

const streamNames = new Map<string, boolean>();

/**
 * Whether an input name is a stream rather than a file: stdin, /dev/stdin and /dev/fd/N, a
 * process substitution (`<(cmd)`, /proc/self/fd/N), a FIFO, a socket or a device. A stream has no
 * identity across runs; a file does (its real path).
 */
export function isStreamName(name: string): boolean {
  let v = streamNames.get(name);
  if (v === undefined) {
    if (name === '-' || /^\/(?:dev\/(?:stdin|fd\/)|proc\/(?:self|\d+)\/fd\/)/.test(name)) v = true;
    else {
      try {
        v = !fs.statSync(name).isFile();
      } catch {
        v = false;
      }
    }
    streamNames.set(name, v);
  }
  return v;
}
