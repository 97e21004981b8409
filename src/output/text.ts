/**
 * The terminal view of a report: one block per report with where and when, the task, how long it
 * was blocked and on which kernel; the signature and the best rule match with its verdict, fix and
 * advice; then the call trace with scheduler, lock and entry frames dimmed, unreliable frames
 * marked `?` and the culprit highlighted. It renders the NDJSON report object, so a fresh scan and
 * `klogscan show` look the same. Every string from the log goes through safe().
 */
import type { Frame } from '../../parsers/record.js';
import { classify, normalizeFn } from '../fingerprint.js';
import type { RuleSet } from '../rules/loader.js';
import type { FixRef, Reference } from '../rules/types.js';
import { isoTime, type ReportJson } from './json.js';
import { safe, type Painter } from './term.js';

export const VERDICT_STYLE = { affected: 'red', fixed: 'green', unknown: 'yellow' } as const;

/**
 * A verdict as the text output says it, with its style. An environmental cause is `affected` in
 * JSON (no kernel is immune) but said as what it is: no kernel bug that a release could fix.
 */
export function verdictWords(kind: string | null | undefined, verdict: string): { words: string; style: 'red' | 'green' | 'yellow' | 'magenta' } {
  if (kind === 'environment' && verdict === 'affected') return { words: 'ENVIRONMENT', style: 'magenta' };
  return { words: verdict.toUpperCase(), style: VERDICT_STYLE[verdict as keyof typeof VERDICT_STYLE] ?? 'yellow' };
}

/** What the text output calls the kernel's other reports (one, several). */
export const KIND_NAMES: Record<string, [string, string]> = {
  soft_lockup: ['soft lockup', 'soft lockups'], hard_lockup: ['hard lockup', 'hard lockups'], rcu_stall: ['RCU stall', 'RCU stalls'],
  oom_kill: ['OOM kill', 'OOM kills'], oops: ['oops', 'oopses'], bug: ['kernel BUG', 'kernel BUGs'], warning: ['WARNING', 'WARNINGs'],
  panic: ['kernel panic', 'kernel panics'],
};

/** What to say when no rule matched a report of `kind`: some kinds have no rule at all yet. */
export function noCause(kind: string, rules: RuleSet): string {
  const name = KIND_NAMES[kind];
  return name && rules.forKind(kind).length === 0 ? `no rule reads ${name[1]} yet` : 'no known rule matches';
}

/** A report's task as `name:pid`; `-` for one of the other kinds that names none (a panic, an RCU stall). */
export function taskOf(r: { task: string | null; pid: number | null }): string {
  if (r.task === null && r.pid === null) return '-';
  return `${safe(r.task ?? '?')}:${r.pid ?? '?'}`;
}

export function formatTime(ms: number | string | null): string | null {
  const iso = typeof ms === 'string' ? ms : isoTime(ms);
  return iso ? iso.replace('T', ' ').replace(/\.000Z$/, 'Z') : null;
}

/**
 * A time the log wrote without a zone, as it was written: it was read in this machine's zone, and
 * is shown back in it, without claiming a zone (the log's own is unknown).
 */
function localWallClock(ms: number | null): string | null {
  if (ms === null || !Number.isFinite(ms)) return null;
  const d = new Date(ms);
  if (Number.isNaN(d.getTime())) return null;
  const p = (n: number, w = 2): string => String(n).padStart(w, '0');
  const frac = d.getMilliseconds() !== 0 ? `.${p(d.getMilliseconds(), 3)}` : '';
  return `${p(d.getFullYear(), 4)}-${p(d.getMonth() + 1)}-${p(d.getDate())} ${p(d.getHours())}:${p(d.getMinutes())}:${p(d.getSeconds())}${frac}`;
}

export function wrap(text: string, width: number, indent: string): string {
  const words = text.split(/\s+/);
  const lines: string[] = [];
  let cur = '';
  for (const w of words) {
    if (cur && cur.length + 1 + w.length > width) {
      lines.push(cur);
      cur = w;
    } else {
      cur = cur ? `${cur} ${w}` : w;
    }
  }
  if (cur) lines.push(cur);
  return lines.map((l, i) => (i === 0 ? l : indent + l)).join('\n');
}

export function frameText(f: Frame): string {
  let s = f.fn;
  if (f.offset !== null) s += `+${f.offset}${f.size !== null ? `/${f.size}` : ''}`;
  if (f.module) s += ` [${f.module}]`;
  if (f.inline) s += ' [inline]';
  if (f.source) s += ` ${f.source}`;
  return safe(s);
}

export function traceLines(frames: readonly Frame[], culpritIndex: number | null, paint: Painter, indent: string): string[] {
  const out: string[] = [];
  let context = 'task';
  frames.forEach((f, i) => {
    if (f.context !== context) {
      out.push(`${indent}${paint('gray', `<${f.context.toUpperCase()}>`)}`);
      context = f.context;
    }
    const text = frameText(f);
    if (i === culpritIndex) {
      out.push(`${indent}${paint('bold', '> ' + text)}`);
    } else if (f.unreliable) {
      out.push(`${indent}${paint('gray', '? ' + text)}`);
    } else {
      const cls = classify(normalizeFn(f.fn));
      out.push(`${indent}  ${cls === 'other' ? text : paint('dim', text)}`);
    }
  });
  return out;
}

interface Blocker {
  lock: string;
  as: string | null;
  owner: { task: string; pid: number } | null;
  owner_as: string | null;
  owner_state: string | null;
  owner_frames: Frame[];
}

/** A report printed in full, that later ones like it point at. */
export interface SeenReport { who: string; name: string; line: number }

/**
 * `seen`: the reports printed before in this run, by fingerprint and cause. A report like one of
 * them (a storm: a hundred tasks blocked in one place) is printed in short, pointing at the first;
 * `-v` prints every one in full.
 */
export function renderReport(r: ReportJson, rules: RuleSet, paint: Painter, verbose = false, seen?: Map<string, SeenReport>): string {
  const out: string[] = [];
  const who = paint('bold', taskOf(r));
  const crash = r.headline !== undefined;
  if (crash) out.push(crashTitle(r, paint));
  else {
    out.push(r.kind === 'hung_task' && r.headerless === true
      ? `${paint(['bold', 'red'], 'hung task')} ${who} in D state (its 'blocked for more than' line is not in the log)`
      : r.kind === 'hung_task'
      ? `${paint(['bold', 'red'], 'hung task')} ${who} ${String(r.header ?? 'blocked')} for more than ${r.blocked_seconds} s`
      : `${paint(['bold', 'red'], 'blocked task')} ${who} in D state${r.kind === 'blocked_state' ? ' (sysrq-w dump or live snapshot)' : ''}`);
  }
  const where: string[] = [];
  where.push(`host ${r.host !== null ? safe(r.host) : '-'}`);
  const t = r.time_local === true && r.time !== null ? localWallClock(Date.parse(r.time)) : formatTime(r.time);
  if (t) {
    const notes = [r.time_local === true ? 'local time' : '', r.year_guessed === true ? 'year guessed' : ''].filter(Boolean);
    where.push(`time ${t}${notes.length > 0 ? ` (${notes.join(', ')})` : ''}`);
  }
  if (r.uptime !== null) where.push(`uptime ${r.uptime.toFixed(3)} s`);
  const logKernel = r.log_kernel as string | null;
  const src = r.kernel_source;
  const ksrc = src === 'banner' ? ' (boot banner)' : src === 'dump' ? ' (a stack dump right after)' : src === 'record' ? ' (the log line itself)'
    : src === 'user' ? (logKernel && logKernel !== r.kernel ? ` (--kernel; the log says ${safe(logKernel)})` : ' (--kernel)')
      : src === 'proc' ? ' (/proc)' : src === 'running' ? ' (running here: the log names this host, in this boot)' : '';
  where.push(`kernel ${r.kernel !== null ? safe(r.kernel) + ksrc : paint('yellow', 'unknown (pass --kernel)')}`);
  if (r.state) where.push(`state ${safe(r.state)}`);
  if (r.tainted) where.push(`tainted ${safe(r.tainted)}`);
  out.push(`  ${where.join('   ')}`);
  if (r.workqueue) out.push(`  workqueue ${safe(String(r.workqueue))}`);
  if (crash) out.push(...crashDetails(r, paint));
  out.push(`  ${paint('bold', safe(r.signature))}   ${paint('gray', `fingerprint ${r.fingerprint}`)}`);

  const best = r.matches[0];
  const key = `${r.fingerprint}\0${best?.rule ?? ''}\0${best?.verdict ?? ''}`;
  const first = verbose ? undefined : seen?.get(key);
  if (first !== undefined) {
    const cause = best ? `${safe(best.rule)} (${verdictWords(best.kind, best.verdict).words.toLowerCase()})` : noCause(r.kind, rules);
    const at = first.name === r.source.name ? `line ${first.line}` : `${safe(first.name)}:${first.line}`;
    out.push(`  ${paint('gray', `same signature and cause as ${first.who === '-' ? 'the report' : first.who} above (${at}): ${cause}; -v prints it in full`)}`);
    const b = blockerLine(r, paint);
    if (b && (r.blocker as Blocker).owner) out.push(b);
    if (r.truncated) out.push(`  ${paint('yellow', '(trace cut short)')}`);
    if (r.suppresses_further) out.push(suppressedNote(paint));
    out.push(sourceLine(r, paint));
    return out.join('\n');
  }
  seen?.set(key, { who: taskOf(r), name: r.source.name, line: r.source.line });
  if (best) {
    const rule = rules.byId.get(best.rule);
    const fix = best.fixed_in ? `   fixed in ${safe(best.fixed_in)}` : '';
    const verdict = best.verdict as keyof typeof VERDICT_STYLE;
    const said = verdictWords(best.kind, verdict);
    out.push(`  cause ${paint('bold', safe(best.rule))}  ${paint(['bold', said.style], said.words)}${fix}`);
    out.push(`        ${wrap(safe(best.title), 90, '        ')}`);
    out.push(`        ${paint('gray', wrap(safe(best.reason), 90, '        '))}`);
    // Only where a log line could confirm the cause: the rule has log patterns (or looks at the report's own lines).
    if (best.kind === 'environment' && rule?.matches.some((m) => m.logs.length > 0 || m.reports.length > 0)) {
      out.push(`        ${evidenceNote(best.evidence ?? null, paint)}`);
    }
    if (best.role === 'victim') out.push(`        ${paint('yellow', 'this task is a victim: it waits for another task, which is the one to look at')}`);
    if (verdict === 'fixed') {
      // The rule's advice (update to the fixed kernel) is for affected kernels.
      out.push(`  advice ${paint('yellow', wrap('this kernel already has the fix for this bug (or predates it): look for a regression or another cause (the rule\'s advice: klogscan rules show ' + safe(best.rule) + ')', 90, '         '))}`);
    } else if (rule) {
      out.push(`  advice ${wrap(safe(rule.spec.advice), 90, '         ')}`);
    }
    const others = r.matches.slice(1);
    if (others.length > 0) out.push(`  also ${others.map((m) => `${safe(m.rule)} (${verdictWords(m.kind, m.verdict).words.toLowerCase()})`).join(', ')}`);
  } else {
    out.push(`  cause ${paint('yellow', noCause(r.kind, rules))} (the signature above is still stable across hosts)`);
  }
  const b = r.blocker as Blocker | null;
  const blocked = blockerLine(r, paint);
  if (blocked) out.push(blocked);
  if (r.frames.length === 0 && crash) {
    if (r.kind !== 'panic' && r.kind !== 'oom_kill') out.push(`  ${paint('gray', 'no call trace of it in the log')}`);
  } else if (r.frames.length === 0) {
    out.push(`  ${paint('yellow', 'no call trace found after the report')} (the log may not hold it: a priority filter such as journalctl -p warning drops the KERN_INFO trace lines, and a grep keeps only the lines it matched)`);
  } else {
    out.push('  Call Trace:');
    out.push(...traceLines(r.frames, r.culprit_frame as number | null, paint, '    '));
    if (r.truncated) out.push(`    ${paint('yellow', '(trace cut short)')}`);
  }
  if (b && b.owner_frames.length > 0) {
    out.push(`  Owner ${safe(b.owner?.task ?? '?')}:${b.owner?.pid ?? '?'}${b.owner_state ? ` state ${safe(b.owner_state)}` : ''}:`);
    out.push(...traceLines(b.owner_frames, null, paint, '    '));
  }
  if (r.blocked_by_coredump) {
    out.push(`  ${paint('yellow', wrap('the kernel says it is blocked by a core dump: the process dumped core and waits until the dump is written (a large core piped to a slow handler such as systemd-coredump, or a full disk under it)', 90, '    '))}`);
  }
  if (r.suppresses_further) out.push(suppressedNote(paint));
  const context = (r.context as string[] | undefined) ?? [];
  if (verbose && context.length > 0) {
    out.push('  context:');
    for (const c of context) out.push(`    ${safe(c)}`);
  }
  out.push(sourceLine(r, paint));
  return out.join('\n');
}

/** The first line of one of the other kinds: what it is, the task, and what its first line said. */
function crashTitle(r: ReportJson, paint: Painter): string {
  const name = paint(['bold', 'red'], KIND_NAMES[r.kind]?.[0] ?? r.kind.replace(/_/g, ' '));
  const who = taskOf(r);
  const task = who === '-' ? '' : ` ${paint('bold', who)}`;
  const cpu = typeof r.cpu === 'number' ? ` on CPU ${r.cpu}` : '';
  switch (r.kind) {
    case 'soft_lockup':
      return `${name}${cpu}:${task}${typeof r.stuck_seconds === 'number' ? `, stuck for ${r.stuck_seconds} s` : ''}`;
    case 'oom_kill': {
      const v = r.oom_victim as { task: string; pid: number } | null | undefined;
      const killed = v ? `${paint('bold', taskOf(v))} killed` : 'no kill line in the log';
      const scope = [r.oom_constraint, r.memcg].filter((x) => typeof x === 'string').map((x) => safe(String(x))).join(' ');
      return `${name}: ${killed}${scope ? ` (${scope})` : ''}${who === '-' ? '' : `, invoked by ${paint('bold', who)}`}`;
    }
    case 'rcu_stall': {
      const cpus = Array.isArray(r.stalled_cpus) && r.stalled_cpus.length > 0 ? ` stalled CPUs ${r.stalled_cpus.slice(0, 16).join(', ')}${r.stalled_cpus.length > 16 ? ', ...' : ''}` : '';
      return `${name}${typeof r.rcu_flavour === 'string' ? ` (${safe(r.rcu_flavour)})` : ''}${cpus}${task ? `:${task}` : ''}`;
    }
    default:
      return `${name}${cpu}${task ? `:${task}` : ''}`;
  }
}

/** What the other kinds said beyond the task: their first line, where the CPU was, their message. */
function crashDetails(r: ReportJson, paint: Painter): string[] {
  const out: string[] = [];
  out.push(`  ${paint('gray', 'first line')} ${safe(String(r.headline))}`);
  const ip = r.ip as Frame | null | undefined;
  if (ip) out.push(`  ${paint('gray', r.kind === 'warning' ? 'warned in' : 'CPU was in')} ${frameText(ip)}`);
  const message = Array.isArray(r.message) ? (r.message as string[]) : [];
  for (const m of message) out.push(`  ${paint('gray', 'message')} ${safe(m)}`);
  const more = Array.isArray(r.oom_killed_more) ? (r.oom_killed_more as { task: string; pid: number }[]) : [];
  if (more.length > 0) out.push(`  also killed ${more.map(taskOf).join(', ')}`);
  return out;
}

/** The 6.15+ blocker line of a hung task (`INFO: task ... is blocked on a mutex likely owned by ...`), told, or null. */
function blockerLine(r: ReportJson, paint: Painter): string | null {
  const b = r.blocker as Blocker | null;
  if (!b) return null;
  // A mutex, or an rwsem a writer holds, names its holder; a semaphore or a reader-held rwsem names
  // the last one to take it, which may have let it go.
  const sure = b.lock === 'mutex' || b.owner_as === 'writer';
  const self = b.owner?.pid === r.pid ? (sure ? ' itself (it waits for a lock it holds)' : ' itself (the last to take it: this may be stale)') : '';
  const owner = b.owner ? `${safe(b.owner.task)}:${b.owner.pid}${self}` : 'an owner the kernel did not find';
  return `  blocked on a ${b.lock}${b.as ? ` as ${b.as}` : ''}, likely held by ${paint('bold', owner)}${b.owner_as ? ` (${b.owner_as})` : ''}`;
}

/** The last line of a report in text: where it was read, and its incident. */
function sourceLine(r: ReportJson, paint: Painter): string {
  return `  ${paint('gray', `source ${safe(r.source.name)}:${r.source.line}${r.incident !== null ? `   incident ${r.incident}` : ''}`)}`;
}

/**
 * How strong an environmental cause is: a line of the host's own log before the report (an NFS
 * server not responding, an I/O error) confirms it; frames alone only say where the task waits,
 * and a kernel deadlock can leave the same frames.
 */
function evidenceNote(evidence: string | null, paint: Painter): string {
  if (evidence !== null) {
    const shown = evidence.length > 110 ? `${evidence.slice(0, 109)}…` : evidence;
    return `${paint('green', 'confirmed by this line of the host\'s log:')}\n          ${paint('gray', safe(shown))}`;
  }
  return paint('yellow', wrap('from the trace alone: no line of this host\'s log before the report confirms it, and a kernel deadlock can leave the same frames', 90, '        '));
}

function suppressedNote(paint: Painter): string {
  return `  ${paint('yellow', 'the kernel suppresses further hung-task reports after this one (sysctl kernel.hung_task_warnings)')}`;
}

/** A rule's fix as one line: commit, title, release. */
export function fixText(f: FixRef): string {
  return `${f.commit ? f.commit.slice(0, 12) + ' ' : ''}${f.title}${f.release ? ` (${f.release})` : ''}`;
}

/** A rule's reference as one line: title and address. */
export function referenceText(ref: Reference | string): string {
  return typeof ref === 'string' ? ref : `${ref.title}${ref.url ? ` <${ref.url}>` : ''}`;
}
