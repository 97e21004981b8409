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
 */
export type ReportKind = 'hung_task' | 'blocked_state';

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
  kernelSource: 'tainted' | 'banner' | 'dump' | 'user' | 'proc' | null;
  /** The release the log itself names (Tainted line or boot banner), whatever --kernel says. */
  logKernel: string | null;
  /** Distribution package version printed after the build number (Debian: `#1 Debian 4.19.67-2+deb10u2`). */
  kernelPackage: string | null;
  tainted: string | null;
  frames: Frame[];
  blocker: Blocker | null;
  /** The kernel printed "Future hung task reports are suppressed" right after this report. */
  suppressesFurther: boolean;
  /** 6.15+ said `Blocked by coredump.`: the task dumped core and waits for the dump to be written. */
  coredump?: boolean;
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
