/**
 * The shapes that flow out of the parsers: one decoded kernel log line (`KernelLine`), the frames
 * of a call trace (`Frame`) and the task report assembled from them (`TaskReport`).
 * Only types and tiny constructors live here; no parsing.
 */

/** One log line after its envelope (syslog, journal, kmsg, dmesg prefixes) has been removed. */
export interface KernelLine {
  /** The kernel's message text with one separator space removed; leading indentation kept. */
  text: string;
  /** Host name where the envelope carries one (syslog, journal), else null. */
  host: string | null;
  /** Wall-clock time in ms since the epoch where the line carries one, else null. */
  time: number | null;
  /** printk time: seconds since boot, where the line carries one, else null. */
  uptime: number | null;
  /** Console log level 0-7 where the line carries one. */
  level: number | null;
  /** printk caller id (`T140`, `C3`) where CONFIG_PRINTK_CALLER printed one. */
  caller: string | null;
  /** journald's boot id where the line carries one. */
  bootId: string | null;
  /** journald's cursor of this entry (journal JSON only). */
  cursor: string | null;
  /** False for lines of other programs in a syslog or journal stream: they never touch reports. */
  kernel: boolean;
  /** Name of the format module that decoded the line. */
  format: string;
  /** kmsg records flagged `c` (first piece of a line) and `+` (a further piece). */
  piece?: 'first' | 'more';
  /** The time's year was guessed (a BSD syslog date carries none). */
  yearGuessed?: boolean;
  /** The time was written without a zone (BSD syslog, `dmesg -T`): read in this machine's zone. */
  localTime?: boolean;
  /** The kernel release the line itself carries (extended netconsole's `+r`: `6.7.0,4,884,...;`). */
  release?: string;
}

/** Where a frame ran: the task's own stack, or an interrupt/exception stack printed inside it. */
export type FrameContext = 'task' | 'irq' | 'softirq' | 'nmi' | 'exception';

/** One call-trace entry, innermost first, exactly as printed (suffixes are kept in `fn`). */
export interface Frame {
  fn: string;
  offset: string | null;
  size: string | null;
  module: string | null;
  /** The kernel's `? ` mark (or powerpc's `(unreliable)`): a stale value found on the stack. */
  unreliable: boolean;
  context: FrameContext;
  /** syzbot-style symbolised frames: an inlined call with no address of its own. */
  inline?: boolean;
  /** Source location where the log was symbolised (`kernel/sched/core.c:5380`). */
  source?: string;
}

/** The task line printed by sched_show_task(): old (`java D ffff.. 0 181134 1 0x..`) or new (`task:java state:D ...`). */
export interface TaskInfo {
  comm: string;
  state: string | null;
  pid: number | null;
  tgid: number | null;
  ppid: number | null;
  flags: string | null;
}

/** `INFO: task X:N is blocked on a mutex likely owned by task Y:M.` and its siblings (6.15+). */
export interface Blocker {
  /** The hung task the line is about. */
  task: { task: string; pid: number };
  /** mutex | semaphore | rw-semaphore */
  lock: string;
  /** For rw-semaphores: how the hung task wanted it and how the owner holds it (reader/writer). */
  as: string | null;
  ownerAs: string | null;
  owner: { task: string; pid: number } | null;
  /** The owner's task line and trace when the kernel printed them (it skips owners that are hung too). */
  ownerTask: TaskInfo | null;
  ownerFrames: Frame[];
}

export type HungTaskVerb = 'blocked' | 'blocked in I/O wait' | "can't die";

/**
 * hung_task: khungtaskd's `INFO: task ... blocked for more than N seconds.` report.
 * blocked_state: a D-state task in a sysrq-w `Show Blocked State` (or sysrq-t `Show State`) dump,
 * or in a live /proc snapshot (`klogscan ps`).
 * The others (crash.ts): the kernel's other problem reports, by the names SPEC.md gives them.
 */
export type CrashKind = 'soft_lockup' | 'hard_lockup' | 'rcu_stall' | 'oops' | 'bug' | 'warning' | 'oom_kill' | 'panic';
export type ReportKind = 'hung_task' | 'blocked_state' | CrashKind;
/** Every kind of report, in the order the kernel's reports are usually told apart. */
export const REPORT_KINDS: readonly ReportKind[] = ['hung_task', 'blocked_state', 'soft_lockup', 'hard_lockup', 'rcu_stall', 'oops', 'bug',
  'warning', 'oom_kill', 'panic'];
/** The hung-task family: reports of a task that sleeps (the other kinds are crash reports). */
export const BLOCKED_KINDS: ReadonlySet<string> = new Set(['hung_task', 'blocked_state']);

/** The kinds an interrupt catches (the watchdog's timer, an NMI): their interrupt frames are the catching, not the stuck. */
export const CAUGHT_KINDS: ReadonlySet<string> = new Set(['soft_lockup', 'hard_lockup', 'rcu_stall']);

/** A task as a report names it: its name and pid. */
export interface TaskRef { task: string; pid: number }

/** What the first line and the body of one of the other reports (crash.ts) say beyond the task and trace. */
export interface CrashInfo {
  /** The report's first line as printed (trimmed, at most 240 characters). */
  headline: string;
  /**
   * What the report is, in a few words the title starts with: `soft lockup`, `kernel NULL
   * pointer dereference`, `KASAN: use-after-free`, `sleeping function called from invalid
   * context`, a panic's reason.
   */
  what: string;
  /** The CPU the report is about (the stuck or faulting one), when printed. */
  cpu: number | null;
  /** How long the first line says it was stuck (a soft lockup's CPU, a workqueue pool). */
  seconds: number | null;
  /** Where the CPU was when the report was made: RIP / IP / pc / EIP / NIP, or the function a WARNING or KASAN line names. */
  ip: Frame | null;
  /** The source location the first line names (`kernel BUG at fs/ext4/inode.c:2677`, a WARNING's `file.c:461`). */
  location: string | null;
  /** The address an oops could not access. */
  address: string | null;
  /** RCU stalls: the flavour (`rcu_sched`, `rcu_preempt`) and the CPUs it names as stalled. */
  rcu: { flavour: string | null; cpus: number[] } | null;
  /** OOM kills: the task killed (and further ones of the same kill), the constraint, the memory cgroup. */
  oom: { victim: TaskRef | null; more: TaskRef[]; constraint: string | null; memcg: string | null } | null;
  /** Lines the kernel printed with it that say what went wrong (a WARN's or a BUG's message). */
  message: string[];
}

export interface TaskReport {
  kind: ReportKind;
  host: string | null;
  time: number | null;
  /** The year of `time` was guessed: the same report elsewhere may carry another year. */
  yearGuessed?: boolean;
  /** `time` was written without a zone and read in the zone of the machine running klogscan. */
  localTime?: boolean;
  uptime: number | null;
  bootId: string | null;
  caller: string | null;
  task: string;
  pid: number;
  /** Seconds blocked as the header said; null for blocked_state (sysrq-w prints no duration). */
  blockedSeconds: number | null;
  /** The header's wording; null for blocked_state. */
  verb: HungTaskVerb | null;
  state: string | null;
  ppid: number | null;
  tgid: number | null;
  flags: string | null;
  workqueue: string | null;
  /** The release verdicts are judged against: --kernel when given, else the log's own. */
  kernel: string | null;
  /** Where `kernel` came from: the report's own Tainted line, a boot banner earlier in the input, --kernel, or /proc. */
  kernelSource: 'tainted' | 'banner' | 'dump' | 'record' | 'user' | 'proc' | 'running' | null;
  /** The release the log itself names (Tainted line or boot banner), whatever --kernel says. */
  logKernel: string | null;
  /** Distribution package version printed after the build number (Debian: `#1 Debian 4.19.67-2+deb10u2`). */
  kernelPackage: string | null;
  tainted: string | null;
  frames: Frame[];
  blocker: Blocker | null;
  /** The kernel printed "Future hung task reports are suppressed" right after this report. */
  suppressesFurther: boolean;
  /** The other report kinds only (soft lockups, oopses, OOM kills...): see CrashInfo. */
  crash?: CrashInfo;
  /** 6.15+ said `Blocked by coredump.`: the task dumped core and waits for the dump to be written. */
  coredump?: boolean;
  /**
   * A hung task read from its task line and trace alone: the log has no `INFO: task ... blocked`
   * line for it (a syslog rule that drops KERN_ERR lines, parsers/hung-task.ts HEADERLESS_NEEDLES).
   */
  headerless?: boolean;
  /** The trace was cut short: input ended or was interrupted before the report looked complete. */
  truncated: boolean;
  /**
   * Earlier lines of the same host that rules may use as evidence (`nfs: server X not responding`),
   * most recent last; only lines containing one of the assembler's context needles are kept.
   */
  context: string[];
  /** The report's own log lines as they were read (bounded), for the store and `show`. */
  lines: string[];
  source: { name: string; line: number };
}

/**
 * A report as its first line makes it: where and when it was printed, its task, nothing else yet
 * (the builders fill in the rest). `firstLine` is the raw line, already clipped.
 */
export function newReport(kind: ReportKind, who: { task: string; pid: number; blockedSeconds: number | null; verb: HungTaskVerb | null },
  line: KernelLine, firstLine: string, source: { name: string; line: number }, frames: Frame[]): TaskReport {
  return {
    kind,
    host: line.host,
    time: line.time,
    ...(line.yearGuessed ? { yearGuessed: true } : {}),
    ...(line.localTime && line.time !== null ? { localTime: true } : {}),
    uptime: line.uptime,
    bootId: line.bootId,
    caller: line.caller,
    task: who.task,
    pid: who.pid,
    blockedSeconds: who.blockedSeconds,
    verb: who.verb,
    state: null,
    ppid: null,
    tgid: null,
    flags: null,
    workqueue: null,
    kernel: null,
    kernelSource: null,
    logKernel: null,
    kernelPackage: null,
    tainted: null,
    frames,
    blocker: null,
    suppressesFurther: false,
    truncated: false,
    context: [],
    lines: [firstLine],
    source,
  };
}

/**
 * Follow mode reads the rest of a renamed (rotated) file under a source name of its own:
 * "NAME (rotated)", or "NAME (rotated N)" while several are read at once. Its lines are still the
 * followed file NAME's: followedName() gives NAME back.
 */
export function rotatedName(name: string, n = 1): string {
  return n === 1 ? `${name} (rotated)` : `${name} (rotated ${n})`;
}

const ROTATED_SUFFIX = / \(rotated(?: \d+)?\)$/;

/** The followed file a source name of rotatedName() belongs to (any other name: itself). */
export function followedName(source: string): string {
  return source.replace(ROTATED_SUFFIX, '');
}

/**
 * Whether two lines or reports were printed within `seconds` of each other: by printk time where
 * both have one, else by wall clock; null when no clock is on both.
 */
export function printedWithin(a: { uptime: number | null; time: number | null }, b: { uptime: number | null; time: number | null }, seconds: number): boolean | null {
  if (a.uptime !== null && b.uptime !== null) return Math.abs(a.uptime - b.uptime) <= seconds;
  if (a.time !== null && b.time !== null) return Math.abs(a.time - b.time) <= seconds * 1000;
  return null;
}
