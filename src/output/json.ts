/**
 * The `--json` NDJSON contract (../shared/SPEC.md): report objects and the closing summary.
 * Field names are public interface: add fields freely, never rename or drop one.
 */
import type { CrashInfo, Frame } from '../../parsers/record.js';
import type { AnalyzedReport } from '../scan.js';

export interface ReportJson {
  type: 'report';
  kind: string;
  host: string | null;
  time: string | null;
  uptime: number | null;
  /** null for the other kinds when the log names no task (a panic, an RCU stall without a backtrace). */
  task: string | null;
  pid: number | null;
  blocked_seconds: number | null;
  state: string | null;
  kernel: string | null;
  tainted: string | null;
  frames: Frame[];
  signature: string;
  fingerprint: string;
  matches: { rule: string; verdict: string; fixed_in: string | null; kind: string; title: string; role: string; reason: string; evidence?: string | null }[];
  source: { name: string; line: number };
  incident: number | null;
  [extra: string]: unknown;
}

export function isoTime(ms: number | null): string | null {
  if (ms === null || !Number.isFinite(ms)) return null;
  const d = new Date(ms);
  return Number.isNaN(d.getTime()) ? null : d.toISOString();
}

/** The other kinds' own fields (parsers/crash.ts): what their first line and body said. */
function crashJson(c: CrashInfo): Record<string, unknown> {
  return {
    headline: c.headline,
    what: c.what,
    cpu: c.cpu,
    stuck_seconds: c.seconds,
    ip: c.ip,
    location: c.location,
    address: c.address,
    ...(c.rcu ? { rcu_flavour: c.rcu.flavour, stalled_cpus: c.rcu.cpus } : {}),
    ...(c.oom ? { oom_victim: c.oom.victim, oom_killed_more: c.oom.more, oom_constraint: c.oom.constraint, memcg: c.oom.memcg } : {}),
    message: c.message,
  };
}

export function reportJson(a: AnalyzedReport): ReportJson {
  const r = a.report;
  return {
    type: 'report',
    kind: r.kind,
    host: r.host,
    time: isoTime(r.time),
    uptime: r.uptime,
    task: r.crash && r.task === '' ? null : r.task,
    pid: r.crash && r.pid < 0 ? null : r.pid,
    blocked_seconds: r.blockedSeconds,
    state: r.state,
    kernel: r.kernel,
    tainted: r.tainted,
    frames: r.frames,
    signature: a.identity.signature,
    fingerprint: a.identity.fingerprint,
    matches: a.matches.map((m) => ({
      rule: m.rule, verdict: m.verdict, fixed_in: m.fixed_in, kind: m.kind, title: m.title, role: m.role, reason: m.reason,
      evidence: m.evidence,
    })),
    source: r.source,
    incident: a.incident,
    // Beyond the minimum of the contract:
    // `time` without a zone in the log (BSD syslog, dmesg -T) was read in this machine's zone.
    time_local: r.localTime === true,
    year_guessed: r.yearGuessed === true,
    header: r.verb,
    kernel_source: r.kernelSource,
    log_kernel: r.logKernel,
    kernel_package: r.kernelPackage,
    ppid: r.ppid,
    tgid: r.tgid,
    flags: r.flags,
    workqueue: r.workqueue,
    boot_id: r.bootId,
    caller: r.caller,
    culprit: a.identity.culprit.fn,
    culprit_frame: a.identity.culprit.index >= 0 ? a.identity.culprit.index : null,
    wait: a.identity.culprit.primitive,
    blocker: r.blocker && {
      lock: r.blocker.lock,
      as: r.blocker.as,
      owner: r.blocker.owner,
      owner_as: r.blocker.ownerAs,
      owner_state: r.blocker.ownerTask?.state ?? null,
      owner_frames: r.blocker.ownerFrames,
    },
    truncated: r.truncated,
    suppresses_further: r.suppressesFurther,
    ...(r.coredump ? { blocked_by_coredump: true } : {}),
    // A hung task read from its task line and trace: no header in the log (blocked_seconds null).
    ...(r.headerless ? { headerless: true } : {}),
    ...(r.crash ? crashJson(r.crash) : {}),
    context: r.context,
  };
}
