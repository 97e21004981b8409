/**
 * `klogscan ps`: the tasks in D state (every task with --all) from a live /proc, with their
 * kernel stacks, fingerprinted and matched against the rules as `blocked_state` reports, and who
 * waits for whom: a reader stuck in /proc/PID/cmdline (a victim rule) is shown under the process
 * whose mm it reads, found from its syscall's fd. Text or NDJSON; --store records the D tasks.
 *
 * It must work on the host where `ps aux` hangs, so it never touches a file that can block on
 * another process (the rules are in src/proc/read.ts): names come from stat, kernel stacks and
 * syscalls are read in an abandonable child, and command lines (--cmdline) only of tasks not in
 * D and only in that child, within a deadline. It does not scan logs and keeps no state of its
 * own between runs.
 */
import os from 'node:os';
import path from 'node:path';
import type { Frame, TaskReport } from '../../parsers/record.js';
import { reportJson } from '../output/json.js';
import { jsonLine, safe, type Painter } from '../output/term.js';
import { traceLines, verdictWords, wrap } from '../output/text.js';
import { readBounded, type BoundedItem, type BoundedOutcome } from '../proc/bounded.js';
import { fdCandidates, isKernelThread, offCpuSeconds, parseCmdline, parseMmTarget, parseStack, parseSyscall, type SyscallState } from '../proc/parse.js';
import { accessError, checkProcDir, listTasks, ProcError, readDetail, readFdLink, readSystem, type ProcSystem, type ProcTask } from '../proc/read.js';
import type { RuleSet } from '../rules/loader.js';
import type { Store } from '../store.js';
import { analyze, type AnalyzedReport } from '../scan.js';
import { COMMON_OPTIONS, openStore, out, paintFor, parse, ruleSet, UsageError } from './common.js';

export const PS_HELP = `klogscan ps - tasks in D state from /proc, their kernel stacks and known causes; never hangs

Usage: klogscan ps [options]

  --all                every task, not only those in D state
  --cmdline            also the command lines of tasks NOT in D state (read in a child process
                       within about a second; a read that does not finish is marked timed out)
  --proc DIR           read another /proc tree (default /proc)
  --json               one JSON object per task, then a summary
  --store              record the D-state tasks in the incident database (klogscan history)
  --db PATH            the database for --store
  --rules DIR          add rules from DIR (repeatable)
  --color / --no-color force colours on or off
  -h, --help           this help

Never read for tasks in D state: cmdline, environ, maps, smaps, mem, pagemap, status: a process
whose mm is wedged puts every reader of those to sleep for good (that is how 'ps aux' hangs).
Kernel stacks need root; without them the causes cannot be named.
`;

const PS_OPTIONS = {
  ...COMMON_OPTIONS,
  all: { type: 'boolean' },
  cmdline: { type: 'boolean' },
  proc: { type: 'string' },
  store: { type: 'boolean' },
} as const;

/** Bounds of the child reads: each phase ends within DEADLINE_MS; one stuck read is given up after STALL_MS. */
const DEADLINE_MS = 1000;
const STALL_MS = 300;

/** The rules whose victims wait for the mm of the process whose /proc file they read. */
const MM_VICTIM_RULES = new Set(['proc-cmdline-mmap-sem']);

type ReadStatus = 'read' | 'denied' | 'absent' | 'timed_out' | 'error' | 'not_read';
type CmdlineStatus = 'read' | 'timed_out' | 'denied' | 'error' | 'skipped_d_state' | 'skipped_suspect_mm' | 'not_requested';

interface WaitsFor {
  /** The process whose mm the task waits for; null when it cannot be told. */
  pid: number | null;
  how: string;
  /** The /proc file the task reads and the fd it reads it through, when found. */
  file: string | null;
  fd: number | null;
}

interface PsTask {
  t: ProcTask;
  wchan: string | null;
  offCpu: number | null;
  frames: Frame[];
  stack: ReadStatus;
  stackText: string | null;
  syscall: SyscallState | null;
  analyzed: AnalyzedReport | null;
  waitsFor: WaitsFor | null;
  cmdline: string[] | null;
  cmdlineStatus: CmdlineStatus;
}

function statusOf(o: BoundedOutcome | undefined): ReadStatus {
  if (!o) return 'not_read';
  if (o.status === 'read') return 'read';
  if (o.status === 'timed_out') return 'timed_out';
  if (o.code === 'EACCES' || o.code === 'EPERM') return 'denied';
  if (o.code === 'ENOENT' || o.code === 'ESRCH') return 'absent';
  return 'error';
}

const isD = (t: ProcTask): boolean => t.state === 'D';

/** A blocked_state report of a D task, as a log's sysrq-w dump would give one. */
function taskReport(p: PsTask, sys: ProcSystem, host: string, time: number, source: string): TaskReport {
  const t = p.t;
  const lines = [`${path.join(t.dir, 'stat')}: ${t.stat}`];
  if (p.wchan) lines.push(`${path.join(t.dir, 'wchan')}: ${p.wchan}`);
  if (p.stackText !== null) {
    lines.push(`${path.join(t.dir, 'stack')}:`);
    for (const l of p.stackText.split('\n')) if (l.trim()) lines.push(l);
  } else {
    lines.push(`${path.join(t.dir, 'stack')}: ${p.stack.replace('_', ' ')}`);
  }
  return {
    kind: 'blocked_state',
    host,
    time,
    uptime: sys.uptime,
    bootId: sys.bootId,
    caller: null,
    task: t.comm,
    pid: t.tid,
    blockedSeconds: null,
    verb: null,
    state: t.state,
    ppid: t.ppid,
    tgid: t.pid,
    flags: `0x${t.flags.toString(16).padStart(8, '0')}`,
    workqueue: null,
    kernel: sys.release,
    kernelSource: sys.release ? 'proc' : null,
    logKernel: sys.release,
    kernelPackage: sys.kernelPackage,
    tainted: null,
    frames: p.frames,
    blocker: null,
    suppressesFurther: false,
    truncated: false,
    context: [],
    lines,
    source: { name: source, line: 0 },
  };
}

/**
 * Which process's mm a victim waits for: the fd of its read (first or second syscall argument)
 * names the /proc file it reads. Neither the syscall file nor the fd symlink takes that mm.
 */
function waitsFor(p: PsTask, dir: string): WaitsFor | null {
  const best = p.analyzed?.matches[0];
  if (!best || best.role !== 'victim') return null;
  const mmRule = MM_VICTIM_RULES.has(best.rule);
  for (const fd of fdCandidates(p.syscall)) {
    const link = readFdLink(dir, p.t.pid, p.t.tid, fd);
    const target = link !== null ? parseMmTarget(link) : null;
    if (link !== null && target) return { pid: target.pid, how: `reads ${link} (fd ${fd})`, file: link, fd };
  }
  const why = p.syscall === null ? 'its syscall file could not be read'
    : p.syscall.nr === null || p.syscall.nr < 0 ? 'it is not in a syscall now'
      : 'no fd of its syscall names a /proc file';
  return {
    pid: null,
    how: mmRule ? `waits for an mm held by another task (${why})` : `waits for another task (${best.rule} is a victim rule; ${why})`,
    file: null,
    fd: null,
  };
}

interface Group {
  /** The holder's shown tasks, or none when the holder is not shown. */
  head: PsTask | null;
  /** A heading for a holder that is not shown (a process not in D, gone, or unknown). */
  title: string | null;
  victims: PsTask[];
}

/**
 * Output order, incidents-style: each task that waits for no shown task, followed by the tasks
 * waiting for it (victims under the first shown task of the process whose mm they read), then
 * groups for holders that are not shown, then victims whose holder could not be found.
 */
function groupTasks(shown: PsTask[], all: ProcTask[]): { top: PsTask[]; under: Map<PsTask, PsTask[]>; groups: Group[] } {
  const byPid = new Map<number, PsTask[]>();
  for (const p of shown) byPid.set(p.t.pid, [...(byPid.get(p.t.pid) ?? []), p]);
  const under = new Map<PsTask, PsTask[]>();
  const elsewhere = new Map<number, PsTask[]>();
  const unresolved: PsTask[] = [];
  const attached = new Set<PsTask>();
  for (const p of shown) {
    const w = p.waitsFor;
    if (!w) continue;
    if (w.pid === null) {
      unresolved.push(p);
      continue;
    }
    const candidates = (byPid.get(w.pid) ?? []).filter((h) => h !== p);
    // Prefer a holder task that is not itself a victim, and never make a cycle.
    const head = candidates.find((h) => !h.waitsFor) ?? candidates.find((h) => !waitsOn(h, p, byPid));
    if (head) {
      under.set(head, [...(under.get(head) ?? []), p]);
    } else {
      elsewhere.set(w.pid, [...(elsewhere.get(w.pid) ?? []), p]);
    }
    attached.add(p);
  }
  for (const v of unresolved) attached.add(v);
  const top = shown.filter((p) => !attached.has(p));
  const groups: Group[] = [];
  for (const [pid, victims] of elsewhere) {
    const tasks = all.filter((t) => t.pid === pid);
    const lead = tasks.find((t) => t.tid === pid) ?? tasks[0];
    const title = lead
      ? `process ${safe(lead.comm)}:${pid} (state ${safe(lead.state)}${lead.state === 'D' ? '' : ', not in D'}): its mm is held or wedged; see what its threads do with klogscan ps --all`
      : `process ${pid} (gone, or hidden from this user)`;
    groups.push({ head: null, title, victims });
  }
  if (unresolved.length > 0) {
    const mm = unresolved.every((v) => v.waitsFor!.how.startsWith('waits for an mm'));
    groups.push({ head: null, title: `waits for ${mm ? 'an mm held by ' : ''}another task (which one is not visible)`, victims: unresolved });
  }
  return { top, under, groups };
}

/** Whether `h` (transitively) waits for a task of `p`'s process: attaching p under h would loop. */
function waitsOn(h: PsTask, p: PsTask, byPid: Map<number, PsTask[]>, seen = new Set<PsTask>()): boolean {
  if (seen.has(h)) return false;
  seen.add(h);
  const pid = h.waitsFor?.pid;
  if (pid === null || pid === undefined) return false;
  if (pid === p.t.pid) return true;
  return (byPid.get(pid) ?? []).some((x) => waitsOn(x, p, byPid, seen));
}

function taskJson(p: PsTask, sys: ProcSystem): Record<string, unknown> {
  const t = p.t;
  const a = p.analyzed;
  const r = a ? reportJson(a) : null;
  return {
    type: 'task',
    pid: t.pid,
    tid: t.tid,
    comm: t.comm,
    state: t.state,
    ppid: t.ppid,
    wchan: p.wchan,
    off_cpu_seconds: p.offCpu,
    kernel: sys.release,
    kernel_source: sys.release ? 'proc' : null,
    frames: p.frames,
    stack_status: p.stack,
    signature: r?.signature ?? null,
    fingerprint: r?.fingerprint ?? null,
    culprit: r?.culprit ?? null,
    culprit_frame: r?.culprit_frame ?? null,
    wait: r?.wait ?? null,
    matches: r?.matches ?? [],
    waits_for: p.waitsFor,
    syscall: p.syscall,
    cmdline: p.cmdline,
    cmdline_timed_out: p.cmdlineStatus === 'timed_out',
    cmdline_status: p.cmdlineStatus,
    incident: a?.incident ?? null,
  };
}

function offCpuText(s: number | null): string {
  if (s === null) return '';
  if (s < 120) return `off CPU ${s.toFixed(1)} s`;
  if (s < 7200) return `off CPU ${(s / 60).toFixed(1)} min`;
  return `off CPU ${(s / 3600).toFixed(1)} h`;
}

function cmdlineText(p: PsTask): string {
  switch (p.cmdlineStatus) {
    case 'read':
      if (p.cmdline && p.cmdline.length > 0) return safe(p.cmdline.join(' '));
      return isKernelThread(p.t.flags) ? '[kernel thread]' : '(empty command line: exiting or a zombie)';
    case 'timed_out': return '(command line: read timed out)';
    case 'denied': return '(command line: permission denied)';
    case 'error': return '(command line: unreadable)';
    case 'skipped_d_state': return '(command line: not read, a thread is in D state)';
    case 'skipped_suspect_mm': return '(command line: not read, tasks wait for its mm)';
    case 'not_requested': return '';
  }
}

function taskLine(p: PsTask, paint: Painter): string {
  const t = p.t;
  const parts = [paint('bold', `${safe(t.comm)}:${t.tid}`)];
  if (t.tid !== t.pid) parts.push(`thread of pid ${t.pid}`);
  parts.push(`state ${t.state === 'D' ? paint('red', 'D') : safe(t.state)}`);
  const off = offCpuText(p.offCpu);
  if (off) parts.push(off);
  if (p.wchan) parts.push(`wchan ${safe(p.wchan)}`);
  parts.push(`ppid ${t.ppid}`);
  return parts.join('  ');
}

function stackLines(p: PsTask, paint: Painter, indent: string): string[] {
  if (p.frames.length > 0) {
    return [`${indent}kernel stack:`, ...traceLines(p.frames, p.analyzed?.identity.culprit.index ?? null, paint, `${indent}  `)];
  }
  const why: Record<ReadStatus, string> = {
    read: 'empty',
    denied: 'not readable (kernel stacks need root)',
    absent: 'not available (no /proc/PID/stack on this kernel, or the task is gone)',
    timed_out: 'not read: the read did not finish in time (the task may be in exec)',
    error: 'not readable',
    not_read: 'not read',
  };
  return [`${indent}${paint('yellow', `kernel stack ${why[p.stack]}`)}`];
}

function causeLines(p: PsTask, rules: RuleSet, paint: Painter, indent: string, advice: boolean): string[] {
  const a = p.analyzed;
  if (!a) return [];
  const outL = [`${indent}${paint('bold', safe(a.identity.signature))}   ${paint('gray', `fingerprint ${a.identity.fingerprint}`)}`];
  const best = a.matches[0];
  if (!best) {
    outL.push(`${indent}cause ${paint('yellow', 'no known rule matches')}`);
    return outL;
  }
  const fix = best.fixed_in ? `   fixed in ${safe(best.fixed_in)}` : '';
  const said = verdictWords(best.kind, best.verdict);
  outL.push(`${indent}cause ${paint('bold', safe(best.rule))}  ${paint(['bold', said.style], said.words)}${fix}`);
  outL.push(`${indent}      ${wrap(safe(best.title), 88, `${indent}      `)}`);
  const rule = rules.byId.get(best.rule);
  if (advice && rule) outL.push(`${indent}advice ${wrap(safe(rule.spec.advice), 88, `${indent}       `)}`);
  return outL;
}

function renderTask(p: PsTask, under: Map<PsTask, PsTask[]>, rules: RuleSet, paint: Painter, indent: string, seen: Map<string, PsTask>, done: Set<PsTask>): string[] {
  done.add(p);
  const lines = [`${indent}${taskLine(p, paint)}`];
  const inner = `${indent}  `;
  if (p.waitsFor) lines.push(`${inner}${paint('yellow', safe(p.waitsFor.how))}`);
  if (p.cmdlineStatus !== 'not_requested' && p.cmdlineStatus !== 'skipped_d_state') lines.push(`${inner}${cmdlineText(p)}`);
  lines.push(...causeLines(p, rules, paint, inner, !p.waitsFor));
  const fp = p.analyzed?.identity.fingerprint;
  const twin = fp && p.waitsFor ? seen.get(fp) : undefined;
  if (twin && p.frames.length > 0) {
    lines.push(`${inner}${paint('gray', `kernel stack like ${safe(twin.t.comm)}:${twin.t.tid}`)}`);
  } else {
    lines.push(...stackLines(p, paint, inner));
    if (fp && p.waitsFor && p.frames.length > 0) seen.set(fp, p);
  }
  const victims = (under.get(p) ?? []).filter((v) => !done.has(v));
  if (victims.length > 0) {
    lines.push(`${inner}${paint('bold', `${victims.length} task${victims.length === 1 ? ' waits' : 's wait'} for the mm of ${safe(p.t.comm)}:${p.t.pid}:`)}`);
    for (const v of victims) lines.push(...renderTask(v, under, rules, paint, `${inner}  `, seen, done));
  }
  return lines;
}

function ordered(top: PsTask[], under: Map<PsTask, PsTask[]>, groups: Group[]): PsTask[] {
  const outL: PsTask[] = [];
  const seen = new Set<PsTask>();
  const visit = (p: PsTask): void => {
    if (seen.has(p)) return;
    seen.add(p);
    outL.push(p);
    for (const v of under.get(p) ?? []) visit(v);
  };
  for (const p of top) visit(p);
  for (const g of groups) for (const v of g.victims) visit(v);
  for (const p of under.keys()) visit(p);
  return outL;
}

/**
 * Kernel stacks (and the syscalls of D tasks) through the bounded child: both files wait,
 * killably, for the task's exec lock, which a task stuck in execve holds for good.
 */
async function readStacks(shown: PsTask[]): Promise<void> {
  const items: BoundedItem[] = [];
  const slots: { p: PsTask; what: 'stack' | 'syscall' }[] = [];
  // D tasks first: if the deadline cuts the run short, it is the healthy tasks' stacks that are missing.
  for (const p of [...shown.filter((x) => isD(x.t)), ...shown.filter((x) => !isD(x.t))]) {
    for (const what of isD(p.t) ? ['stack', 'syscall'] as const : ['stack'] as const) {
      const file = path.join(p.t.dir, what);
      // Not readable at all (not root, or no such file on this kernel): no child needed for it.
      const denied = accessError(file);
      if (denied !== null) {
        if (what === 'stack') p.stack = statusOf({ status: 'error', code: denied });
        continue;
      }
      items.push({ path: file, group: String(p.t.pid) });
      slots.push({ p, what });
    }
  }
  if (items.length === 0) return;
  const outcomes = await readBounded(items, { deadlineMs: DEADLINE_MS, stallMs: STALL_MS });
  outcomes.forEach((o, i) => {
    const { p, what } = slots[i];
    const text = o.status === 'read' ? o.data.toString('utf8') : null;
    if (what === 'stack') {
      p.stack = statusOf(o);
      p.stackText = text;
      if (text !== null) p.frames = parseStack(text);
    } else if (text !== null) {
      p.syscall = parseSyscall(text);
    }
  });
}

/**
 * --cmdline: command lines of shown tasks not in D, once per process, through the bounded child.
 * Left out besides D tasks: every thread of a process with a task in D, and processes whose mm a
 * blocked reader waits for; their mm is the one likely wedged.
 */
async function readCmdlines(shown: PsTask[], all: ProcTask[], dir: string): Promise<void> {
  const hasD = new Set(all.filter(isD).map((t) => t.pid));
  const waitedFor = new Set<number>();
  for (const p of shown) if (p.waitsFor && p.waitsFor.pid !== null) waitedFor.add(p.waitsFor.pid);
  const want = new Map<number, PsTask[]>();
  for (const p of shown) {
    if (hasD.has(p.t.pid)) p.cmdlineStatus = 'skipped_d_state';
    else if (waitedFor.has(p.t.pid)) p.cmdlineStatus = 'skipped_suspect_mm';
    else if (isKernelThread(p.t.flags)) {
      p.cmdline = [];
      p.cmdlineStatus = 'read';
    } else want.set(p.t.pid, [...(want.get(p.t.pid) ?? []), p]);
  }
  const pids = [...want.keys()];
  if (pids.length === 0) return;
  const res = await readBounded(pids.map((pid) => ({ path: path.join(dir, String(pid), 'cmdline') })), { deadlineMs: DEADLINE_MS, stallMs: STALL_MS });
  res.forEach((o, i) => {
    const s = statusOf(o);
    for (const p of want.get(pids[i])!) {
      p.cmdlineStatus = s === 'read' ? 'read' : s === 'timed_out' ? 'timed_out' : s === 'denied' ? 'denied' : 'error';
      p.cmdline = o.status === 'read' ? parseCmdline(o.data) : null;
    }
  });
}

interface Stored { db: string; new: number; duplicates: number; incidents: number }

function storeSnapshot(store: Store, shown: PsTask[]): Stored {
  const s: Stored = { db: store.file, new: 0, duplicates: 0, incidents: 0 };
  const incidents = new Set<number>();
  for (const p of shown) {
    if (!p.analyzed) continue;
    const res = store.record(p.analyzed);
    if (res.duplicate) s.duplicates++;
    else s.new++;
    incidents.add(res.incident);
  }
  store.commit();
  s.incidents = incidents.size;
  return s;
}

interface Snapshot {
  dir: string;
  host: string;
  sys: ProcSystem;
  all: ProcTask[];
  shown: PsTask[];
  cmdline: boolean;
  stored: Stored | null;
}

function summaryJson(s: Snapshot): Record<string, unknown> {
  const count = (pred: (p: PsTask) => boolean): number => s.shown.filter(pred).length;
  const known = (st: ReadStatus): boolean => st === 'read' || st === 'denied' || st === 'timed_out';
  return {
    type: 'summary',
    proc: s.dir,
    host: s.host,
    kernel: s.sys.release,
    clock: s.sys.clock,
    tasks: s.all.length,
    processes: new Set(s.all.map((t) => t.pid)).size,
    d_state: count((p) => isD(p.t)),
    shown: s.shown.length,
    stacks: {
      read: count((p) => p.stack === 'read'),
      denied: count((p) => p.stack === 'denied'),
      timed_out: count((p) => p.stack === 'timed_out'),
      other: count((p) => !known(p.stack)),
    },
    matched: count((p) => (p.analyzed?.matches.length ?? 0) > 0),
    waiting: {
      found: count((p) => p.waitsFor !== null && p.waitsFor.pid !== null),
      not_found: count((p) => p.waitsFor !== null && p.waitsFor.pid === null),
    },
    cmdline: s.cmdline ? {
      read: count((p) => p.cmdlineStatus === 'read'),
      timed_out: count((p) => p.cmdlineStatus === 'timed_out'),
      skipped: count((p) => p.cmdlineStatus.startsWith('skipped')),
      unreadable: count((p) => p.cmdlineStatus === 'denied' || p.cmdlineStatus === 'error'),
    } : null,
    stored: s.stored,
  };
}

function renderText(s: Snapshot, rules: RuleSet, paint: Painter): string {
  const dTasks = s.shown.filter((p) => isD(p.t));
  const { top, under, groups } = groupTasks(dTasks, s.all);
  const lines: string[] = [];
  const kernel = s.sys.release ? `kernel ${safe(s.sys.release)}` : paint('yellow', 'kernel unknown (no sys/kernel/osrelease)');
  lines.push(`${paint('bold', `${dTasks.length} task${dTasks.length === 1 ? '' : 's'} in D state`)} of ${s.all.length} on ${safe(s.host)}, ${kernel}, from ${safe(s.dir)}`);
  const seen = new Map<string, PsTask>();
  const done = new Set<PsTask>();
  for (const p of top) lines.push('', ...renderTask(p, under, rules, paint, '', seen, done));
  for (const g of groups) {
    lines.push('', paint('bold', g.title ?? ''));
    for (const victim of g.victims) if (!done.has(victim)) lines.push(...renderTask(victim, under, rules, paint, '  ', seen, done));
  }
  // Tasks only reachable through a cycle of waits (each reads the other's cmdline).
  for (const p of dTasks) if (!done.has(p)) lines.push('', ...renderTask(p, under, rules, paint, '', seen, done));
  const others = s.shown.filter((p) => !isD(p.t));
  if (others.length > 0) {
    lines.push('', paint('bold', `${others.length} other task${others.length === 1 ? '' : 's'}:`));
    lines.push(paint('gray', `  ${'PID'.padStart(7)} ${'TID'.padStart(7)} S ${'OFF CPU'.padStart(9)}  ${'WCHAN'.padEnd(24)} COMM`));
    for (const p of others) {
      const off = p.offCpu === null ? '-' : `${p.offCpu.toFixed(1)}s`;
      const cmd = cmdlineText(p);
      lines.push(`  ${String(p.t.pid).padStart(7)} ${String(p.t.tid).padStart(7)} ${safe(p.t.state)} ${off.padStart(9)}  ${safe(p.wchan ?? '-').padEnd(24)} ${safe(p.t.comm)}${cmd ? `  ${cmd}` : ''}`);
    }
  }
  const matched = dTasks.filter((p) => (p.analyzed?.matches.length ?? 0) > 0).length;
  const waiting = dTasks.filter((p) => p.waitsFor !== null).length;
  const timedOut = s.shown.filter((p) => p.cmdlineStatus === 'timed_out').length;
  const parts = [`${dTasks.length} in D state`, `${matched} with a known cause`];
  if (waiting > 0) parts.push(`${waiting} waiting for another task`);
  if (timedOut > 0) parts.push(`${timedOut} command line${timedOut === 1 ? '' : 's'} timed out`);
  lines.push('', `${paint('bold', 'summary')}: ${parts.join(', ')} (${s.all.length} tasks, ${new Set(s.all.map((t) => t.pid)).size} processes)`);
  if (s.stored) {
    const st = s.stored;
    lines.push(`${paint('bold', 'stored')}: ${st.new} new report${st.new === 1 ? '' : 's'}${st.duplicates ? `, ${st.duplicates} already known` : ''}, ${st.incidents} incident${st.incidents === 1 ? '' : 's'}, in ${safe(st.db)} (klogscan history --kind blocked_state)`);
  }
  if (dTasks.some((p) => p.stack === 'denied')) {
    lines.push(`${paint('yellow', 'note')}: kernel stacks are readable only by root: run klogscan ps as root to see where the tasks wait and why`);
  }
  return lines.join('\n') + '\n';
}

export async function psCommand(args: string[]): Promise<number> {
  const { values: v, positionals } = parse(args, PS_OPTIONS);
  if (v.help) {
    out.write(PS_HELP);
    return 0;
  }
  if (positionals.length > 0) throw new UsageError(`ps takes no arguments, only options (got "${positionals[0]}"; see klogscan ps --help)`);
  if (v.db !== undefined && !v.store) throw new UsageError('--db is for --store: add --store to record the snapshot');
  const dir = path.resolve(v.proc ?? '/proc');
  checkProcDir(dir, v.proc !== undefined ? '--proc' : null);
  const rules = ruleSet(v.rules);
  // Opened before /proc is read, so that a bad --db fails before the snapshot is taken for nothing.
  const store = v.store ? openStore(v.db) : null;
  try {
    const sys = readSystem(dir);
    const all = listTasks(dir);
    if (all.length === 0) throw new ProcError(`${dir}: no /proc/PID/task/TID/stat found: not a /proc tree, or nothing is visible to this user`);
    const time = Date.now();
    const host = os.hostname();
    const shown: PsTask[] = all.filter((t) => v.all || isD(t)).map((t) => {
      const d = readDetail(t);
      return {
        t, wchan: d.wchan, offCpu: offCpuSeconds(d.execStart, sys.clockMs), frames: [], stack: 'not_read', stackText: null,
        syscall: null, analyzed: null, waitsFor: null, cmdline: null, cmdlineStatus: 'not_requested',
      };
    });
    await readStacks(shown);
    for (const p of shown) {
      if (!isD(p.t)) continue;
      p.analyzed = analyze(taskReport(p, sys, host, time, v.proc !== undefined ? dir : '/proc'), rules);
      p.waitsFor = waitsFor(p, dir);
    }
    if (v.cmdline) await readCmdlines(shown, all, dir);
    const snap: Snapshot = { dir, host, sys, all, shown, cmdline: v.cmdline === true, stored: store ? storeSnapshot(store, shown) : null };

    if (v.json) {
      const dTasks = shown.filter((p) => isD(p.t));
      const { top, under, groups } = groupTasks(dTasks, all);
      for (const p of [...ordered(top, under, groups), ...shown.filter((p) => !isD(p.t))]) out.write(jsonLine(taskJson(p, sys)) + '\n');
      out.write(jsonLine(summaryJson(snap)) + '\n');
    } else {
      out.write(renderText(snap, rules, paintFor(v)));
    }
    return 0;
  } finally {
    store?.close();
  }
}
