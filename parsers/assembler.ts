/**
 * The per-stream report assembler. Lines arrive in input order, from any number of hosts and printk
 * callers interleaved; each stream (host x caller id) has at most one open report, and a line only
 * ever touches the report of its own stream. A report ends at the next header of its stream, at a
 * line of its stream that belongs to no report grammar, when its stream has been silent for
 * `gapLines` lines, or at `flush()`.
 *
 * Cost model: while no report is open, a line that contains none of the needles is dismissed with
 * a few `includes()` calls and is never decoded. The fast file path relies on this: it may skip
 * such lines without calling `push()` at all and must get the same reports, so nothing here may
 * depend on lines that were dismissed.
 *
 * Also tracked per host: the kernel release of the latest boot banner (`Linux version ...`), and a
 * short list of recent lines that contain a context needle (evidence for rules).
 * Pure and synchronous: no I/O, no clock.
 */
import { decodeLine, type DecodeContext, type LineFormat } from './formats/index.js';
import { surelyNotKernel } from './formats/syslog.js';
import { BlockedStateSection, FREEZE_NEEDLE, parseSection, SYSRQ_NEEDLE } from './blocked-state.js';
import { CrashBuilder, CRASH_NEEDLES, OOM_CONSTRAINT_NEEDLE, parseCrashStart, parseOomConstraint, type CrashStart } from './crash.js';
import { parseFrameLine } from './frame.js';
import {
  dumpTainted, HEADER_NEEDLE, HEADERLESS_NEEDLES, HungTaskBuilder, isBottomFrame, LIMITS, parseBlocker, parseHeader, parseHeaderlessTask, parseTaskLine,
  SUPPRESSED_NEEDLE, type Builder,
} from './hung-task.js';
import { followedName, printedWithin, type TaskReport, type KernelLine } from './record.js';
import { lineHasNeedle } from '../src/input/needle-scan.js';

export const BANNER_NEEDLE = 'Linux version ';
/**
 * journalctl's line between two boots in its text output (`-- Boot 1f2e3d4c5b6a79880796a5b4c3d2e1f0 --`,
 * before systemd 246 `-- Reboot --`): the only sign of a new boot there when the capture misses
 * the next boot's banner, which must then not name the release of the reports that follow.
 */
export const BOOT_SEPARATOR_NEEDLES = ['-- Boot ', '-- Reboot --'];
const BOOT_SEPARATOR = /^-- (?:Boot [0-9a-f]{32}|Reboot) --$/;
/** How many stamped reports complete() remembers to know a header quoted again. */
const RECENT_REPORTS = 1024;
/**
 * How many lines of its machine a report without a release waits for one: a panic on a hung task
 * (kernel.hung_task_panic) or the NMI backtraces of all CPUs print `CPU: 3 PID: 404 Comm:
 * khungtaskd Not tainted 3.10.0-957.el7.x86_64 #1` right after it (RHEL 7 prints no release in
 * the report itself).
 */
const TRAIL_LINES = 16;
/** How many lines of all machines such a report waits at most (a central syslog interleaves hosts). */
const TRAIL_ALL = 400;
/**
 * Keeps `key` among the RECENT_REPORTS latest of `set` (the oldest is forgotten); returns whether
 * it was there already.
 */
function remember(set: Set<string>, key: string): boolean {
  const had = set.delete(key);
  set.add(key);
  if (set.size > RECENT_REPORTS) set.delete(set.values().next().value as string);
  return had;
}

/**
 * The lines a WARN() prints before its `WARNING:` line. `__warn_printk()` (4.15+) prints
 * `------------[ cut here ]------------`, then the WARN()'s own message, then the trap prints the
 * `WARNING:` line; x86 4.12-4.14 printed the message before the `cut here` line; kernels before
 * printed the message after the `WARNING:` line (CrashBuilder.absorb()). dev_watchdog()'s
 * `NETDEV WATCHDOG: eth0 (e1000e): transmit queue 0 timed out` is only ever such a message: right
 * before the `WARNING:` line or its `cut here` line (a grep that kept both), it is the WARNING's.
 */
export const CUT_HERE_NEEDLE = '[ cut here ]';
const CUT_HERE = /^\s*-+\[ cut here \]-+\s*$/;
export const NETDEV_WATCHDOG_NEEDLE = 'NETDEV WATCHDOG: ';
/** Lines of other streams of the input that may come between a WARNING's held lines and their stream's next one. */
const PRELUDE_OTHERS = 8;
const NETDEV_WATCHDOG = /^\s*NETDEV WATCHDOG: .*\btransmit (?:queue \d+ )?timed out/;

/** A dump whose clock is earlier than a report's by more than this was printed before it (another boot's). */
const DUMP_CLOCK_SLACK_MS = 1000;
/** A dump printed this long after a report is of a later event, maybe of a later boot (seconds). */
const DUMP_WITHIN_S = 300;
/** A stack dump's first line (dump_stack_print_info()): 3.x+ `CPU: N [UID: N ]PID: N Comm: `, 2.6 `Pid: N, comm: `. */
const DUMP_INFO = /^\s*(?:CPU: \d+ (?:UID: \d+ )?PID: \d+ Comm: |Pid: \d+, comm: )/;
/**
 * journald writes MESSAGE as an array of byte values when it is not printable UTF-8; older
 * journalctl versions space their JSON (`"MESSAGE" : [`), other JSON writers `"MESSAGE": [`.
 */
export const JSON_BYTES_NEEDLES = ['"MESSAGE":[', '"MESSAGE" : [', '"MESSAGE": ['];

/** The latest time a Date can hold, in ms. */
const MAX_TIME = 8.64e15;

/** A pasted line quoted with `>` (a mail reply). */
const QUOTED = /^\s*>/;

const BANNER = /^Linux version (\d+\.\d+\S*)/;
/** The start of a header cut short: the name and pid are there, the rest is on the next line. */
const HEADER_START_NEEDLE = 'INFO: task ';
/**
 * A header a mail client broke right after `INFO:` (`... kernel: [387258.853460] INFO:`, then
 * `task kworker/u8:4:9259 blocked for more than 600 seconds.`): the line holds no other needle,
 * yet it is the one with the host and the times. As needles these match a line that ends in
 * `INFO:` or `INFO: ` (a mail client may keep the blank) (lineHasNeedle), in the chunk search and
 * per line alike.
 */
export const INFO_WRAP_NEEDLES = ['INFO:\n', 'INFO:\r\n', 'INFO: \n', 'INFO: \r\n'];
const INFO_WRAPPED = /^\S*INFO:$/;
/** What may follow `NAME:PID ` in a cut header: the first words of the rest, every word whole but the first. */
const HEADER_CUT_TAIL = /:\d+(?: (?:b(?:l(?:o(?:c(?:k(?:e(?:d)?)?)?)?)?)?|c(?:a(?:n(?:'(?:t)?)?)?)?)?(?:\s+(?:for|in|I\/O|wait|die|more|than|\d+))*)?\s*$/;

/**
 * The kernel stores a report's lines within a second or so (a slow serial console flushing a
 * backlog from inside a printk can spread them over seconds): printk times a minute apart mean
 * another print, such as khungtaskd's next pass (120 s later by default). Wall clocks say nothing
 * here: syslog stamps a line when it reads it, and a syslog daemon stalled by the same storage
 * hang stamps one trace minutes apart (stress/54).
 */
const PRINT_GAP_UPTIME = 60;

/** A frame line whose first frame is no trace's bottom: the top of a trace, not the rest of a whole one. */
function startsAnotherTrace(text: string): boolean {
  const f = parseFrameLine(text)?.frames[0];
  return f !== undefined && !isBottomFrame(f.fn);
}

/**
 * Whether a line of a report's stream is stamped too far from the report's latest line to belong to
 * it. A wall clock may run late (a stalled syslog daemon) but not back: a line stamped a minute
 * before the report's latest is of an earlier print, read newest first (`journalctl -r`).
 */
function printedApart(o: Open, line: KernelLine): boolean {
  if (line.uptime !== null && o.uptime !== null) return Math.abs(line.uptime - o.uptime) > PRINT_GAP_UPTIME;
  return line.time !== null && o.time !== null && o.time - line.time > PRINT_GAP_UPTIME * 1000;
}

/**
 * `INFO: task NAME:PID` followed by nothing but the first words of the rest. Only the last 64
 * characters can hold that tail, so long hostile lines cost no more than short ones.
 */
function headerCutShort(text: string): boolean {
  // `INFO:` alone (glued to what came before it at most), the rest on the next line.
  if (text.length < 64 && INFO_WRAPPED.test(text.trim())) return true;
  const at = text.indexOf(HEADER_START_NEEDLE);
  if (at < 0) return false;
  // Glued to what came before it or alone, never inside prose (`... keeps printing INFO: task a:1`).
  if (/\s/.test(text.slice(0, at).trimStart())) return false;
  const from = Math.max(at + HEADER_START_NEEDLE.length, text.length - 64);
  return HEADER_CUT_TAIL.test(text.slice(from));
}

/** A line without anything around its text (no host, caller id or time): text of a paste, a mail, a console. */
function isPasted(line: KernelLine): boolean {
  return line.host === null && line.caller === null && line.time === null && line.uptime === null;
}

/** A boot seen in the log: a `Linux version` banner. */
export interface BootEvent {
  host: string | null;
  kernel: string;
  time: number | null;
  /** journald's boot id, else the boot time to the minute (`t` + minutes since the epoch), else null. */
  bootKey: string | null;
}

export interface AssemblerOptions {
  /** Called for every boot banner. */
  onBoot?: (b: BootEvent) => void;
  /** Substrings of lines worth keeping per host as evidence for rules. */
  contextNeedles?: readonly string[];
  /**
   * Whether a line holding a needle is worth keeping (a rule's pattern for it matches): a common
   * needle (` abort`) must not push a host's real evidence out with lines no rule looks for.
   */
  contextKeep?: (needle: string, text: string) => boolean;
  /** A report whose stream printed nothing for this many lines is finished. */
  gapLines?: number;
  /** Most reports open at once (one per stream); the stalest is finished beyond it. */
  maxOpen?: number;
  /** Decode every line with this format instead of detecting it. */
  format?: LineFormat;
}

/** Where a line is: its input, line number and (when known) byte offset. */
export interface SourcePosition { name: string; line: number; offset?: number }

interface Open {
  builder: Builder;
  host: string | null;
  lastSeen: number;
  /** Whose banner and evidence apply (see machine()). */
  machine: string;
  /** The host's boot banner release when the header arrived ("earlier in the input"). */
  banner: { kernel: string; bootId: string | null } | null;
  /** The release the report's first line carried itself (KernelLine.release). */
  record: string | null;
  /** Where what is open began: a read position saved before it would lose it. */
  start: SourcePosition;
  /**
   * A line of the stream that did not fit, in the middle of a trace. If frames of the trace
   * follow it was a stray line (a message of another subsystem, a typo in a paste, stress/43) and
   * the report goes on; otherwise the report ended before it and it is handled as a line of its own.
   */
  held: { raw: string; text: string; line: KernelLine; pos: SourcePosition } | null;
  /** The header was pasted quoted (`> INFO: task ...`): the mail's own unquoted text may interrupt its trace. */
  quoted: boolean;
  /** The printk time of the report's latest line, when its lines have one. */
  uptime: number | null;
  /** The wall clock of the report's latest line, when its lines have one. */
  time: number | null;
  /** Its input ended after a whole trace: the next input's first line tells whether it goes on (endOfInput()). */
  crossed: boolean;
}

interface HostState {
  kernel: string | null;
  bootId: string | null;
  /** The input whose banner gave `kernel` (a journalctl boot separator there ends that boot). */
  input: string;
}

/** Recent evidence lines of a host, oldest first, with the needle that kept each. */
type Evidence = { needle: string; text: string }[];

/**
 * A kmsg record flagged `c`: the first piece of a line whose `+` pieces follow; or (`soft`) a
 * pasted line whose quoted-printable soft break says that the next line continues it; or, for
 * the next kernel line only (`next`): an ARM frame pair cut before its caller, whose caller may
 * come on the next line (`arm`), or an OOM kill's `oom-kill:constraint=` line outside a report,
 * whose kill line may come alone right after it (`oom`).
 */
interface PendingPiece { line: KernelLine; text: string; raw: string; pos: SourcePosition; soft?: boolean; next?: 'arm' | 'oom' }

/**
 * An ARM `where from caller` pair that a mail client or its writer wrapped before the caller:
 * `[<c08a65a0>] (rt_mutex_slowlock_block.constprop.0) from [<c08a6708>]` (or `... from`), the
 * caller on the next line, `(rt_mutex_slowlock.constprop.0+0xac/0x174)` or marked as a
 * continuation, `+(...)`.
 */
const ARM_PAIR_CUT = /^\s*\[<[0-9a-f]{8,16}>\]\s*\([^()]*\)\s+from(?:\s+\[<[0-9a-f]{8,16}>\])?\s*$/i;
const ARM_CALLER_REST = /^\s*\+?\s*(?:\[<[0-9a-f]{8,16}>\]\s*)?\([^()]*\)\s*$/i;

/**
 * A quoted-printable soft line break: mail that was not decoded ends a wrapped line with `=`
 * (not `==`, which ends base64 padding and the like; a lone `=` is no wrapped text).
 */
function softBreak(text: string): boolean {
  const n = text.length;
  return n > 1 && text.charCodeAt(n - 1) === 61 && text.charCodeAt(n - 2) !== 61;
}

/**
 * Evidence kept per host and needle: a line that repeats every second (`unregister_netdevice:
 * waiting for lo`, `nfs: server X not responding`) cannot push out the one OOM or resync line
 * another rule needs.
 */
const CONTEXT_PER_NEEDLE = 4;
/** Evidence lines are cut to this length: rules look for words near their start. */
const CONTEXT_LINE = 512;
/** Hosts whose evidence is kept (the most recently active ones): bounds memory on huge fleets. */
const CONTEXT_HOSTS = 2048;
/** A cut-short header waits this many lines for its rest, then is dropped. */
const PARTIAL_LINES = 256;

export class Assembler {
  /** Every substring that can make a line matter while no report is open. */
  readonly needles: readonly string[];
  private readonly contextNeedles: readonly string[];
  private readonly contextKeep: ((needle: string, text: string) => boolean) | null;
  private readonly gapLines: number;
  private readonly maxOpen: number;
  private readonly format: LineFormat | undefined;
  private readonly onBoot: ((b: BootEvent) => void) | undefined;
  /** Lines of other programs in a syslog file are dismissed without decoding. */
  private readonly quickReject: boolean;
  private readonly open = new Map<string, Open>();
  private readonly hosts = new Map<string, HostState>();
  /** Evidence per host, in order of last use (a Map keeps insertion order: re-inserted on use). */
  private readonly evidence = new Map<string, Evidence>();
  private readonly pieces = new Map<string, PendingPiece>();
  /**
   * The stream of the last kernel line when it ended in a soft line break: the mail broke a line
   * of any form (`[  244.059129][   T40] INFO: task ... more than 121=`), and its rest (` seconds.`)
   * comes on the next line, without the prefix that names the stream.
   */
  private softKey: string | null = null;
  /** The stream of the last kernel line when it waits for the next one (PendingPiece.next). */
  private nextKey: string | null = null;
  /**
   * Lines of one stream held back to see whether a `WARNING:` line follows them (see CUT_HERE):
   * `cut here` and the line after it, or a NETDEV WATCHDOG line and a `cut here` after it. They
   * are taken in order all the same; the message goes to the WARNING (warnMessage, start()).
   */
  private prelude: { key: string; lines: { line: KernelLine; text: string; raw: string; pos: SourcePosition }[]; others: number } | null = null;
  private warnMessage: { text: string; raw: string } | null = null;
  /** The constraint line right before the kill line being read (PendingPiece.next 'oom'): start() gives it to the report. */
  private oomBefore: PendingPiece | null = null;
  /**
   * The stream of the last whole line when it had a prefix: a line without one right after it may
   * be its rest, which a mail client wrapped (Builder.rest).
   */
  private lastStream: string | null = null;
  /**
   * The last line when it was a prefix alone (`Jan 12 00:16:11 host kernel: [387258.858240]`,
   * no message) in a stream with a report open: a line without a prefix right after it is its
   * message, which a mail client wrapped (`schedule+0x2f/0x90`).
   */
  private prefixAlone: { key: string; line: KernelLine; raw: string } | null = null;
  private counter = 0;
  /**
   * Per stream (isCopy()): its last line, that line's printk time and the one before it, whether
   * the last line and the one before it came twice, how many lines in a row came once, and whether
   * the stream writes every line twice.
   */
  private readonly echoes = new Map<string, {
    raw: string; copied: boolean; pairedBefore: boolean; singles: number; doubled: boolean; uptime: number | null; before: number | null;
  }>();
  /**
   * Stamped reports completed lately (machine, task, pid, printk time, seconds), oldest first: a
   * header quoted again later in a paste, alone, is no second report (stress/101).
   */
  private readonly recent = new Set<string>();
  /**
   * Machines whose reports came without a release, waiting up to TRAIL_LINES of their lines for a
   * stack dump that names it: the wait's id (see `queue`), lines of theirs left, and the counter
   * when the wait began and when a line of theirs came last.
   */
  private readonly waiting = new Map<string, { id: number; left: number; began: number; since: number }>();
  private waits = 0;
  /**
   * Reports completed while some machine waits, in the order they completed: handed on in that
   * order. `wait`: the wait its release may end (the id of its machine's wait when it came).
   */
  private readonly queue: { r: TaskReport; machine: string; start: SourcePosition; wait: number | null }[] = [];
  /**
   * The printk time and wall clock of the latest hung-task headers, per machine and pid (the
   * RECENT_REPORTS latest): a task line of that task printed with one is of that report, even out
   * of its place (a log whose lines came out of order), never a header-less report of its own.
   */
  private readonly headers = new Map<string, { uptime: number | null; time: number | null }>();
  /** Hosts (null: no host name) whose kernel said further hung-task reports are suppressed. */
  private readonly suppressedOn = new Set<string | null>();
  /**
   * Of those, hosts that reported a hung task after saying so: with kernel.hung_task_panic set the
   * kernel prints the line after every report of its pass (6.x) and then panics; a reboot or a
   * sysctl also starts the count again. Later hangs there were not hidden.
   */
  private readonly reportedSince = new Set<string | null>();

  /** Hosts whose kernel said further hung-task reports are suppressed, and reported none after. */
  get suppressed(): Set<string | null> {
    return new Set([...this.suppressedOn].filter((h) => !this.reportedSince.has(h)));
  }
  /** Lines that carried a kernel message and were looked at (not merely dismissed). */
  decoded = 0;

  constructor(
    private readonly ctx: DecodeContext,
    private readonly emit: (r: TaskReport) => void,
    opts: AssemblerOptions = {},
  ) {
    this.contextNeedles = opts.contextNeedles ?? [];
    this.contextKeep = opts.contextKeep ?? null;
    this.gapLines = opts.gapLines ?? 1000;
    this.maxOpen = opts.maxOpen ?? 8192;
    this.format = opts.format;
    this.onBoot = opts.onBoot;
    this.quickReject = !opts.format || opts.format.name === 'syslog';
    this.needles = [HEADER_NEEDLE, HEADER_START_NEEDLE, ...INFO_WRAP_NEEDLES, BANNER_NEEDLE, SYSRQ_NEEDLE, ...JSON_BYTES_NEEDLES, ...this.contextNeedles,
      ...CRASH_NEEDLES, OOM_CONSTRAINT_NEEDLE, CUT_HERE_NEEDLE, NETDEV_WATCHDOG_NEEDLE, ...HEADERLESS_NEEDLES, FREEZE_NEEDLE, ...BOOT_SEPARATOR_NEEDLES,
      FREEZING_NEEDLE, COLUMNS_NEEDLE];
  }

  /** Number of reports still open: while it is 0, lines without needles may be skipped. */
  get openCount(): number {
    return this.open.size + this.partials.size + this.pieces.size + this.waiting.size + (this.prelude ? 1 : 0);
  }

  /** Header-less hung tasks read and held until flush() (see `headerless`): not open, but not out yet. */
  get heldCount(): number {
    return this.headerless.length;
  }

  /**
   * A header a mail client broke in two (`... blocked for more than 120 ` / `seconds.`,
   * stress/51, 55, 57): its first part waits for the next line of its stream.
   */
  private readonly partials = new Map<string, { text: string; raw: string; joins: number; line: KernelLine; since: number; pos: SourcePosition }>();

  /** True when the line could matter while no report is open. */
  hasNeedle(raw: string): boolean {
    for (const n of this.needles) if (lineHasNeedle(raw, n)) return true;
    return false;
  }

  /**
   * Lines of different scopes never join one report, whatever their host: follow mode gives each
   * followed name its own (`-f messages kern.log` carries the same kernel lines twice), while the
   * inputs of one scan share one, so that a report cut by a rotation is joined again.
   */
  private scope = '';

  setScope(scope: string): void {
    this.scope = scope;
  }

  /** The input of the line being read: lines without a host name are one machine per input. */
  private input = '';
  private inputName = '';

  /**
   * Whose boot banner and evidence a line is: its host, or for a line without one, its input (two
   * host-less files may come from two machines; a banner or an NFS line of one says nothing of the other).
   */
  private setInput(name: string): void {
    if (name === this.inputName) return;
    this.inputName = name;
    // The rest of a rotated file read in follow mode is still the followed file's machine.
    this.input = followedName(name);
  }

  /**
   * The scan moves on to its next input. A report of the last one whose trace went down to its
   * bottom frame is marked: if the next input goes on with the top of another trace (a
   * /proc/PID/stack of another machine after a dmesg, samples/seed), that is not its own and it
   * ends. What may follow a whole trace (`</TASK>`, registers, a blocker line and its owner's
   * trace) and anything cut inside a trace (a rotated file's successor) still joins it. Follow
   * mode gives each file a scope of its own and is not concerned.
   */
  private endOfInput(name: string): void {
    for (const o of this.open.values()) if (o.start.name === name && !o.held && o.builder.completeTrace?.()) o.crossed = true;
  }

  private machine(host: string | null): string {
    return host ?? `\u0000${this.input}`;
  }

  /**
   * A kernel line written twice in a row in its stream (rsyslog taking the kernel's lines both from
   * the journal and from /dev/kmsg, a console capture that echoes). A line may repeat for real
   * (`? srso_return_thunk+0x5/0x5f` twice, also within one microsecond, or after a panic, when the
   * clock stands still), so a copy is dropped only once the stream shows that it writes every line
   * twice: a header or a sysrq dump's opening line with a time came twice (the kernel never prints
   * that), or a line with a printk time came twice right after a line that also came twice, the
   * clock having moved in between. The stream is taken to write lines once again after two lines in
   * a row came once.
   */
  private isCopy(key: string, raw: string, line: KernelLine): boolean {
    let e = this.echoes.get(key);
    if (!e) {
      if (this.echoes.size >= this.maxOpen) this.echoes.clear();
      e = { raw: '', copied: false, pairedBefore: false, singles: 0, doubled: false, uptime: null, before: null };
      this.echoes.set(key, e);
    }
    if (raw === e.raw && !e.copied) {
      e.copied = true;
      if (!e.doubled) {
        const timed = line.time !== null || line.uptime !== null;
        const clockMoved = line.uptime !== null && e.before !== null && e.before !== line.uptime;
        e.doubled = (timed && (parseHeader(line.text) !== null || parseSection(line.text) !== null || parseCrashStart(line.text)?.weak === false))
          || (clockMoved && e.pairedBefore);
      }
      return e.doubled;
    }
    // A new line: the last one is complete, with or without its copy.
    if (e.raw !== '') e.singles = e.copied ? 0 : e.singles + 1;
    if (e.singles >= 2) e.doubled = false;
    e.pairedBefore = e.copied;
    e.copied = false;
    e.before = e.uptime;
    e.uptime = line.uptime;
    e.raw = raw;
    return false;
  }

  push(raw: string, pos: SourcePosition): void {
    if (pos.name !== this.inputName && this.inputName !== '' && this.scope === '') this.endOfInput(this.inputName);
    this.setInput(pos.name);
    if (this.openCount === 0 && !this.hasNeedle(raw)) return;
    if (raw.startsWith('-- ') && BOOT_SEPARATOR.test(raw.trimEnd())) {
      this.bootEnded();
      return;
    }
    const line = this.quickReject && surelyNotKernel(raw) ? null : decodeLine(raw, this.ctx, this.format);
    this.counter++;
    if (this.openCount > 0 && (this.counter & 63) === 0) this.closeStale();
    if (!line || !line.kernel) return;
    // 400 digits of a time are a number JavaScript holds as Infinity: no time at all.
    if (line.uptime !== null && !Number.isFinite(line.uptime)) line.uptime = null;
    if (line.time !== null && !(Math.abs(line.time) <= MAX_TIME)) line.time = null;
    const stream = line.caller === null ? (line.host ?? '') : `${line.host ?? ''}\u0000${line.caller}`;
    const key = this.scope === '' ? stream : `${this.scope}\u0001${stream}`;
    if (this.isCopy(key, raw, line)) return;
    this.decoded++;
    // kmsg pieces of one line (kernels before 4.9 could not always merge KERN_CONT output), and
    // lines of pasted mail that end in a quoted-printable soft line break (`=`): the next line
    // continues them (`... disables this message=` / `.`).
    const soft = softBreak(line.text);
    const softKey = this.softKey;
    this.softKey = null;
    const rest = line.format === 'bare' && softKey !== null && this.inScope(softKey) ? this.pieces.get(softKey) : undefined;
    if (rest?.soft) {
      rest.text += soft ? line.text.slice(0, -1) : line.text;
      rest.raw += `\n${raw}`;
      rest.soft = soft;
      if (soft) this.softKey = softKey;
      return;
    }
    // A line held for the next kernel line (PendingPiece.next) meets it.
    const nextKey = this.nextKey;
    this.nextKey = null;
    const waiting = nextKey !== null ? this.pieces.get(nextKey) : undefined;
    if (nextKey !== null && waiting?.next !== undefined) {
      this.pieces.delete(nextKey);
      // The caller of an ARM pair cut before it, on a line of its own (or without the prefix: a
      // mail client wrapped it): joined when that makes a frame pair.
      if (waiting.next === 'arm' && (nextKey === key || (line.format === 'bare' && this.inScope(nextKey))) && ARM_CALLER_REST.test(line.text)) {
        const joined = `${waiting.text.trimEnd()} ${line.text.trim().replace(/^\+\s*/, '')}`;
        if ((parseFrameLine(joined)?.frames.length ?? 0) === 2) {
          this.take(waiting.line, nextKey, joined, `${waiting.raw}\n${raw}`, waiting.pos);
          return;
        }
      }
      // Its kill line alone, of the same stream and victim: one report of both.
      const kill = waiting.next === 'oom' && nextKey === key ? parseCrashStart(line.text, isPasted(line))?.oomKill : undefined;
      if (kill && parseOomConstraint(waiting.text)?.victim?.pid === kill.victim.pid) {
        this.oomBefore = waiting;
        try {
          this.take(line, key, line.text, raw, pos);
        } finally {
          this.oomBefore = null;
        }
        return;
      }
      // Else the held line is a line of its own.
      this.take(waiting.line, nextKey, waiting.text, waiting.raw, waiting.pos);
    }
    const piece = this.pieces.get(key);
    if (piece && line.piece === 'more') {
      piece.text += line.text;
      piece.raw += `\n${raw}`;
      return;
    }
    if (piece) {
      this.pieces.delete(key);
      this.take(piece.line, key, piece.text, piece.raw, piece.pos);
    }
    if (line.piece === 'first' || soft) {
      this.pieces.set(key, { line, text: soft ? line.text.slice(0, -1) : line.text, raw, pos, soft });
      if (soft) this.softKey = key;
      return;
    }
    const next = ARM_PAIR_CUT.test(line.text) ? 'arm'
      : line.text.includes(OOM_CONSTRAINT_NEEDLE) && !this.oomOpen(key) && parseOomConstraint(line.text) ? 'oom' : null;
    if (next) {
      this.pieces.set(key, { line, text: line.text, raw, pos, next });
      this.nextKey = key;
      return;
    }
    this.take(line, key, line.text, raw, pos);
  }

  /** Whether the stream reads an OOM kill that awaits its kill line (the constraint line is one of its lines). */
  private oomOpen(key: string): boolean {
    const b = this.open.get(key)?.builder;
    return b instanceof CrashBuilder && b.awaitsKill();
  }

  /** Whether a stream key belongs to the input being read (follow mode reads several, each a scope). */
  private inScope(key: string): boolean {
    return this.scope === '' ? !key.includes('\u0001') : key.startsWith(`${this.scope}\u0001`);
  }

  /** A whole kernel message of stream `key`. */
  private take(first: KernelLine, stream: string, whole: string, raw: string, pos: SourcePosition): void {
    const p = this.prelude;
    // A line of another stream of the input (another printk caller, another host of a central
    // syslog) goes its way: the held lines wait for their own stream's next line, a few lines long.
    if (p && p.key !== stream && p.lines[0].pos.name === pos.name && p.others < PRELUDE_OTHERS && !this.holds(whole)) {
      p.others++;
      this.takeNow(first, stream, whole, raw, pos);
      return;
    }
    if (p) {
      this.prelude = null;
      const next = p.key === stream && p.lines[0].pos.name === pos.name ? this.afterPrelude(p.lines.map((l) => l.text), whole, first) : null;
      if (next === 'held') {
        p.lines.push({ line: first, text: whole, raw, pos });
        this.prelude = p;
        return;
      }
      this.takePrelude(p);
      if (next !== null) {
        const m = next === 'warning' ? null : p.lines[next];
        this.warnMessage = m ? { text: m.text, raw: m.raw } : null;
        try {
          this.takeNow(first, stream, whole, raw, pos);
        } finally {
          this.warnMessage = null;
        }
        return;
      }
    }
    if (this.holds(whole)) {
      this.prelude = { key: stream, lines: [{ line: first, text: whole, raw, pos }], others: 0 };
      return;
    }
    this.takeNow(first, stream, whole, raw, pos);
  }

  /** Whether a line is held back to see whether a WARNING follows it (see CUT_HERE). */
  private holds(whole: string): boolean {
    return CUT_HERE.test(whole) || (whole.includes(NETDEV_WATCHDOG_NEEDLE) && NETDEV_WATCHDOG.test(whole));
  }

  /**
   * What the line after held prelude lines makes of them: 'held' (one more may come), the index of
   * the WARNING's message when it is the `WARNING:` line, 'warning' when it is one without a message
   * before it, else null (no WARNING follows: they are lines of their own).
   */
  private afterPrelude(held: string[], text: string, line: KernelLine): 'held' | 'warning' | number | null {
    const cut = CUT_HERE.test(held[0]);
    const start = parseCrashStart(text, isPasted(line));
    if (start?.kind === 'warning' && !start.weak) {
      if (!cut) return 0;
      return held.length === 2 ? 1 : 'warning';
    }
    if (held.length > 1) return null;
    // After `cut here`: a line that starts nothing may be the message; after the NETDEV WATCHDOG line, `cut here`.
    if (!cut) return CUT_HERE.test(text) ? 'held' : null;
    const plain = text.trim().length > 0 && start === null && !CUT_HERE.test(text) && parseHeader(text) === null && parseSection(text) === null;
    return plain ? 'held' : null;
  }

  /** Takes held prelude lines as the lines of their own they are (each of its own input). */
  private takePrelude(p: NonNullable<Assembler['prelude']>): void {
    const now = this.inputName;
    for (const l of p.lines) {
      this.setInput(l.pos.name);
      this.takeNow(l.line, p.key, l.text, l.raw, l.pos);
    }
    this.setInput(now);
  }

  private takeNow(first: KernelLine, stream: string, whole: string, raw: string, pos: SourcePosition): void {
    this.takeLine(first, stream, whole, raw, pos);
    if (this.waiting.size > 0 && whole.trim().length > 0) this.trail(first, whole);
  }

  /**
   * A line of a machine whose reports wait for their release: a stack dump's first line of the
   * same boot gives it; after TRAIL_LINES of its lines they go on without.
   */
  private trail(line: KernelLine, text: string): void {
    const who = this.machine(line.host);
    const w = this.waiting.get(who);
    if (!w) return;
    w.since = this.counter;
    if (DUMP_INFO.test(text)) {
      const t = dumpTainted(text);
      if (t) {
        // Only reports of this wait that the dump followed within a few minutes: by printk times
        // (a smaller uptime is another boot's), else by wall clocks (RHEL's /var/log/messages has
        // no printk times); without either, nothing says it is the same boot.
        for (const { r, machine, wait } of this.queue) {
          if (machine !== who || wait !== w.id || r.kernel !== null) continue;
          if (line.uptime !== null && r.uptime !== null) {
            if (r.uptime > line.uptime || line.uptime - r.uptime > DUMP_WITHIN_S) continue;
          } else if (line.time === null || r.time === null || r.time > line.time + DUMP_CLOCK_SLACK_MS
            || line.time - r.time > DUMP_WITHIN_S * 1000) continue;
          r.kernel = t.release;
          r.logKernel = t.release;
          r.kernelSource = 'dump';
          r.kernelPackage = t.pkg;
        }
        this.release(who);
        return;
      }
    }
    if (--w.left <= 0) this.release(who);
  }

  /** A machine waits no more: the reports queued before the next waiting machine's go on. */
  private release(who: string): void {
    this.waiting.delete(who);
    this.drain();
  }

  /** Hands on the queued reports up to the first of a machine still waiting. */
  private drain(): void {
    while (this.queue.length > 0 && !this.waiting.has(this.queue[0].machine)) {
      const q = this.queue.shift()!;
      this.hand(q.r, q.machine, q.start);
    }
  }

  private takeLine(first: KernelLine, stream: string, whole: string, raw: string, pos: SourcePosition): void {
    let line = first;
    let key = stream;
    let text = whole;
    // An empty message (a blank line in a paste, printk("\n")) neither continues nor ends a report.
    const wrapped = this.prefixAlone;
    this.prefixAlone = null;
    if (whole.trim().length === 0) {
      const o = this.open.get(stream);
      o?.builder.blank?.();
      if (o && !isPasted(line)) this.prefixAlone = { key: stream, line, raw };
      return;
    }
    // The message of a prefix alone, which a mail client wrapped onto the next line: a line of the prefix's stream.
    if (wrapped && isPasted(line) && wrapped.key !== key && this.inScope(wrapped.key) && this.open.has(wrapped.key) && !this.open.has(key)) {
      key = wrapped.key;
      line = { ...wrapped.line, text };
      raw = `${wrapped.raw}\n${raw}`;
    }
    // The kernel never prints a line this long (printk's limit is 1024 bytes): not a kernel
    // message, whatever it looks like, and no grammar has to read it.
    if (whole.length > LIMITS.lineLength) return;

    // The rest of a wrapped syslog line carries no prefix: it belongs to the one header waiting.
    // (Only within the scope: another followed file's header is no header of this one.)
    let partialKey = key;
    if (!this.partials.has(key) && line.format === 'bare') {
      const candidates = [...this.partials.keys()].filter((k) => this.inScope(k));
      if (candidates.length === 1) partialKey = candidates[0];
    }
    const partial = this.partials.get(partialKey);
    if (partial) {
      this.partials.delete(partialKey);
      key = partialKey;
      const joined = `${partial.text.trimEnd()} ${text.trim()}`;
      // A whole header of its own is no rest: the cut one is dropped, the new one read.
      if (!text.includes(HEADER_START_NEEDLE) && (parseHeader(joined) || (partial.joins < 2 && headerCutShort(joined) && !parseBlocker(joined)))) {
        text = joined;
        raw = `${partial.raw}\n${raw}`;
        if (!parseHeader(text)) {
          this.partials.set(key, { text, raw, joins: partial.joins + 1, line: partial.line, since: partial.since, pos: partial.pos });
          return;
        }
        line = partial.line;
        // The report begins where its header began, on the first of the wrapped lines.
        pos = partial.pos;
      }
    } else if (headerCutShort(text) && !parseHeader(text) && !parseBlocker(text)) {
      this.partials.set(key, { text, raw, joins: 0, line, since: this.counter, pos });
      return;
    }

    // (A quoted line is read as pasted, but its prefix still names its stream.)
    const unprefixed = isPasted(line);
    const lastStream = this.lastStream;
    this.lastStream = unprefixed ? null : key;
    if (unprefixed && lastStream !== null && lastStream !== key && this.inScope(lastStream) && !this.open.has(key)) {
      const o = this.open.get(lastStream);
      if (o?.builder.rest?.(text, raw)) {
        o.lastSeen = this.counter;
        this.lastStream = lastStream;
        return;
      }
    }

    const header = parseHeader(text);
    const section = header ? null : parseSection(text);
    const current = this.open.get(key);
    let crash = header || section ? null : parseCrashStart(text, unprefixed);
    // A hard lockup told as a WARNING (2.6.36-4.4): its line is the open WARNING's message, and the WARNING the lockup.
    if (crash !== null && current !== undefined && !current.held && current.builder instanceof CrashBuilder && current.builder.turnsInto(crash)) crash = null;
    // A line that opens a report only where none is open (`Oops: 0000 [#1]`) is offered to the open one first.
    // So is the first line of any other kind inside a task's trace: another CPU's WARNING printed
    // between two frames, passed over as a stray line when the trace goes on after it (it is
    // then a report of its own without a body), else the start of its report.
    // (A lockup's own panic comes before the one dump printed for both: the lockup keeps the dump.)
    const straying = crash !== null && !crash.weak && current !== undefined && !current.held
      && (current.builder instanceof CrashBuilder ? current.builder.setsOff(crash)
        : current.builder.midTrace() || current.builder.beforeTrace() || (current.builder.betweenTasks?.() ?? false)
          || (current.builder.awaitsBlocker?.() ?? false));
    const opens = header !== null || section !== null || (crash !== null && !crash.weak && !straying);
    if (current && !opens && current.crossed && startsAnotherTrace(text)) {
      this.finish(key, current);
    } else if (current && !opens && printedApart(current, line) && !(current.quoted && !QUOTED.test(raw))) {
      // The kernel prints a report in one go: a line stamped long after the report's last one is
      // of a later print (a trace whose header a paste left out), never of this report.
      this.finish(key, current);
    } else if (current && !opens) {
      // A reply written between the quoted lines of a trace (`> ... usb_kill_urb`, two paragraphs
      // of prose, `> ... usb_hcd_flush_endpoint`): its lines, even frames of the writer's own
      // trace, neither end nor join the quoted report, which ends as usual when its stream falls
      // silent or a quoted line fits no grammar.
      // (A line the report does not take leaves its state as it was: this holds after the push too.)
      current.crossed = false;
      const inside = current.builder.midTrace() || current.builder.beforeTrace();
      if (current.quoted && inside && line.format === 'bare' && !QUOTED.test(raw)) return;
      const held = current.held;
      const between = current.builder.betweenTasks?.() ?? false;
      const awaits = !inside && !between && (current.builder.awaitsBlocker?.() ?? false);
      // After a held line only more frames say the trace goes on (before the trace, or between
      // the tasks of a dump, any line of the report; after a whole trace, its blocker line);
      // anything else ends it there.
      const goesOn = !held ? !(straying && current.builder instanceof CrashBuilder)
        : awaits ? current.builder.blockerOf?.(text) ?? false
          : (parseFrameLine(text)?.frames.length ?? 0) > 0 || current.builder.beforeTrace() || between;
      if (goesOn && current.builder.push(text, raw, line, pos) === 'taken') {
        // An OOM's or a panic's lines are evidence for the hung tasks around them (a memory cgroup out of memory).
        if (current.builder instanceof CrashBuilder) this.evidenceOf(line, text);
        current.lastSeen = this.counter;
        current.uptime = line.uptime ?? current.uptime;
        current.time = line.time ?? current.time;
        if (held) {
          current.held = null;
          current.builder.absorb(held.raw, held.text);
          // Passed over, it still tells what it tells (a rule's evidence: an NFS server not responding),
          // or is a report of its own (another CPU's first line of a WARNING).
          const stray = parseCrashStart(held.text, isPasted(held.line));
          if (stray && !stray.weak) {
            const b = new CrashBuilder(stray, held.line, held.raw, { name: held.pos.name, line: held.pos.line });
            this.evidenceOf(held.line, held.text);
            for (const r of b.finish()) this.complete(r, current);
          } else {
            this.observe(held.line, held.text);
          }
        }
        return;
      }
      if (!held && (inside || between || awaits)) {
        current.held = { raw, text, line, pos };
        current.lastSeen = this.counter;
        return;
      }
      this.finish(key, current);
    } else if (current && header && current.builder.repeatedBy?.(header, line)) {
      // Its first lines printed twice (stress/90): the second copy goes on, the first is dropped.
      this.open.delete(key);
    } else if (current) {
      this.finish(key, current);
    }
    // The held line opened a report (the first line of another kind): this line comes after it.
    if (current && this.open.has(key)) {
      this.takeLine(line, key, text, raw, pos);
      return;
    }
    this.start(key, line, text, raw, pos, header, section, crash);
  }

  /** A decoded line that continues no report: it may start one, or tell something about its host. */
  private route(key: string, line: KernelLine, text: string, raw: string, pos: SourcePosition): void {
    const header = parseHeader(text);
    const section = header ? null : parseSection(text);
    this.start(key, line, text, raw, pos, header, section, header || section ? null : parseCrashStart(text, isPasted(line)));
  }

  private start(key: string, line: KernelLine, text: string, raw: string, pos: SourcePosition,
    header: ReturnType<typeof parseHeader>, dumpOpener: ReturnType<typeof parseSection>, crash: CrashStart | null): void {
    let section = dumpOpener;
    // A D-state task line that no header, dump or report of its stream came before: a hung task
    // whose header the log dropped (HEADERLESS_NEEDLES), if a trace follows it.
    // (Not one printed by the idle task or from an interrupt, caller ids `T0` and `C3`: khungtaskd
    // is a task of its own; a powerpc boot's dump of init from T0 is no hung task.)
    let task = header || section || crash || line.caller === 'T0' || line.caller?.startsWith('C') ? null : parseHeaderlessTask(text);
    if (task && this.headerOf(this.machine(line.host), task.pid, line)) {
      this.observe(line, text);
      return;
    }
    // A task dump whose opening line the log lacks (see dumpWithout()): a dump, not hung tasks.
    const dump = header || section || crash ? null : this.dumpWithout(key, line, text, task !== null);
    let confirm: (() => void) | null = null;
    if (dump) {
      task = null;
      section = typeof dump === 'string' ? dump : 'all';
      if (typeof dump !== 'string') confirm = dump.confirm;
    }
    if (header) this.markHeader(this.machine(line.host), header.pid, line);
    if (header || section || crash || task) {
      const h = this.hosts.get(this.machine(line.host));
      const open: Open = {
        builder: null as unknown as Builder,
        host: line.host,
        machine: this.machine(line.host),
        lastSeen: this.counter,
        banner: h?.kernel ? { kernel: h.kernel, bootId: h.bootId } : null,
        record: line.release ?? null,
        start: pos,
        held: null,
        quoted: line.format === 'bare' && QUOTED.test(raw),
        uptime: line.uptime,
        time: line.time,
        crossed: false,
      };
      if (task) {
        const b = new HungTaskBuilder({ kind: 'hung_task', task: task.comm, pid: task.pid, blockedSeconds: null, verb: null }, line, raw,
          { name: pos.name, line: pos.line }, true);
        b.openedBy(text);
        open.builder = b;
      } else {
        open.builder = header
          ? new HungTaskBuilder(header, line, raw, { name: pos.name, line: pos.line })
          : section ? new BlockedStateSection(section, (r) => this.complete(r, open), confirm)
            : new CrashBuilder(crash!, line, raw, { name: pos.name, line: pos.line });
      }
      this.open.set(key, open);
      // A dump without its opener begins at this line, one of its own (a task line, the columns).
      if (section && !dumpOpener) open.builder.push(text, raw, line, pos);
      const message = this.warnMessage;
      if (crash?.kind === 'warning' && message && open.builder instanceof CrashBuilder) {
        this.warnMessage = null;
        open.builder.messageBefore(message.text, message.raw);
      }
      const before = this.oomBefore;
      if (crash?.oomKill && before && open.builder instanceof CrashBuilder && open.builder.constraintBefore(before.text, before.raw)) {
        this.oomBefore = null;
        this.evidenceOf(before.line, before.text);
      }
      if (crash) this.evidenceOf(line, text);
      // (Not while making room: a report finished then may open one from its held line.)
      if (this.open.size > this.maxOpen && !this.evicting) this.closeOldest(key);
      return;
    }
    this.observe(line, text);
  }

  /**
   * What kind of task dump a line begins whose opening line the log lacks, or null:
   * - the column header of a 2.6-5.8 sysrq-t/w dump (`  task                        PC stack   pid
   *   father`) without its `SysRq : Show State` line (a log cut or rotated in the middle of it): 'all';
   * - a task line not in D state that ends a header-less report of its stream: khungtaskd prints
   *   only D-state tasks, show_state() all of them, so the header-less reports read in that print
   *   may be a state dump's D-state tasks. Not yet: 6.15+ khungtaskd prints the task that likely
   *   owns the lock a hung task waits for right after it, in any state (`INFO: task cat:1234 is
   *   blocked on a mutex likely owned by task cat:1233.`, KERN_ERR, dropped with the header). On
   *   a task line with `task_flags:` (6.14+) the dump reads on from here as 'all' with a `confirm`:
   *   a second task line not in D state right after (a show_state() goes on task after task) makes
   *   the header-less reports `blocked_state` ones; a D-state task line first (the next hung task),
   *   or one printed seconds later, ends it and they stay hung tasks. Older task lines are a dump at once;
   * - a D-state task line (`taskLine`) printed within a minute after the freezer began (`Freezing
   *   user space processes ...`, KERN_INFO): the list of the tasks that refused to freeze, whose
   *   own KERN_ERR line a syslog rule dropped: 'freeze'.
   */
  private dumpWithout(key: string, line: KernelLine, text: string, taskLine: boolean): 'all' | 'freeze' | { confirm: () => void } | null {
    if (text.includes(COLUMNS_NEEDLE) && DUMP_COLUMNS.test(text)) return 'all';
    const who = this.machine(line.host);
    if (taskLine) {
      const f = this.freezing.get(who);
      return f && samePrint(f, line) ? 'freeze' : null;
    }
    const ended = this.ended;
    if (ended === null || ended.key !== key || ended.counter !== this.counter) return null;
    const t = parseTaskLine(text);
    if (t === null || t.pid === null || t.ppid === null || t.state === 'D') return null;
    const dumped = (r: TaskReport): boolean => r.headerless === true && samePrint(r, ended.r);
    const confirm = (): void => {
      for (const q of this.queue) if (q.machine === who && dumped(q.r)) toDump(q.r);
      for (const h of this.headerless.filter((x) => x.machine === who && dumped(x.r))) {
        this.headerless.splice(this.headerless.indexOf(h), 1);
        toDump(h.r);
        this.emit(h.r);
      }
    };
    // Kernels before 6.14 print no `task_flags:`, and none before 6.15 names a lock owner: one
    // task not in D state is a dump there, if printed with it (not an RCU stall's kthread 20 s later).
    if (!text.includes('task_flags:')) {
      if (printedWithin(ended.r, line, DUMP_TASK_GAP) === false) return null;
      confirm();
      return 'all';
    }
    return { confirm };
  }

  /** The header-less report the current line ended (finish()), to see whether it was a dump's. */
  private ended: { key: string; r: TaskReport; counter: number } | null = null;
  /** Per machine, when the freezer last began to freeze tasks (a `Freezing ...` line). */
  private readonly freezing = new Map<string, { uptime: number | null; time: number | null }>();

  /** A hung-task header of this machine and pid (or its blocker line's owner) printed at this time. */
  private markHeader(machine: string, pid: number, at: { uptime: number | null; time: number | null }): void {
    const k = `${machine}\u0000${pid}`;
    this.headers.delete(k);
    this.headers.set(k, { uptime: at.uptime, time: at.time });
    if (this.headers.size > RECENT_REPORTS) this.headers.delete(this.headers.keys().next().value as string);
  }

  /** Whether a hung-task header of this machine and pid was printed with the line (PRINT_GAP_UPTIME). */
  private headerOf(machine: string, pid: number, at: { uptime: number | null; time: number | null }): boolean {
    const h = this.headers.get(`${machine}\u0000${pid}`);
    return h !== undefined && samePrint(h, at);
  }

  /**
   * A journalctl boot separator: the reports open in this input end with their boot, and the
   * banners its machines printed name no later report (their next banner will, if it is there).
   */
  private bootEnded(): void {
    for (const [key, o] of [...this.open]) if (this.open.get(key) === o && followedName(o.start.name) === this.input) this.finish(key, o);
    for (const h of this.hosts.values()) {
      if (h.input !== this.input) continue;
      h.kernel = null;
      h.bootId = null;
    }
    // Nor does a stack dump after it name the release of the reports waiting for one.
    for (const q of [...this.queue]) if (followedName(q.start.name) === this.input && this.waiting.has(q.machine)) this.release(q.machine);
  }

  /** Lines outside reports that still tell something: boot banners, suppression notes, evidence. */
  private observe(line: KernelLine, text: string): void {
    if (text.includes(BANNER_NEEDLE)) {
      const m = BANNER.exec(text.trimStart());
      if (m) {
        const who = this.machine(line.host);
        const h = this.host(who);
        h.kernel = m[1];
        h.bootId = line.bootId;
        h.input = this.input;
        // A new boot: a stack dump after it names its release, not that of the reports waiting.
        if (this.waiting.has(who)) this.release(who);
        this.evidence.delete(who);
        if (this.onBoot) {
          const t = line.time;
          const start = t === null ? null : t / 1000 - (line.uptime ?? 0);
          const bootKey = line.bootId ?? (start === null ? null : `t${Math.round(start / 60)}`);
          this.onBoot({ host: line.host, kernel: m[1], time: t, bootKey });
        }
        return;
      }
    }
    if (text.includes(SUPPRESSED_NEEDLE)) {
      this.suppressedOn.add(line.host);
      return;
    }
    if (text.includes(FREEZING_NEEDLE) && FREEZING.test(text)) {
      const who = this.machine(line.host);
      this.freezing.delete(who);
      // Frozen (`... (elapsed 0.002 seconds) done.`, 6.x `... completed (elapsed ...)`): no list follows.
      if (FROZEN.test(text)) return;
      this.freezing.set(who, { uptime: line.uptime, time: line.time });
      if (this.freezing.size > CONTEXT_HOSTS) this.freezing.delete(this.freezing.keys().next().value as string);
      return;
    }
    this.evidenceOf(line, text);
  }

  /** Keeps a line that holds a context needle as evidence of its machine. */
  private evidenceOf(line: KernelLine, text: string): void {
    for (const n of this.contextNeedles) {
      if (text.includes(n)) {
        if (this.contextKeep && !this.contextKeep(n, text.trim().slice(0, CONTEXT_LINE))) continue;
        const who = this.machine(line.host);
        let c = this.evidence.get(who);
        if (c) this.evidence.delete(who);
        else c = [];
        this.evidence.set(who, c);
        if (this.evidence.size > CONTEXT_HOSTS) this.evidence.delete(this.evidence.keys().next().value as string);
        const t = text.trim();
        c.push({ needle: n, text: t.length > CONTEXT_LINE ? t.slice(0, CONTEXT_LINE) : t });
        let same = 0;
        for (const e of c) if (e.needle === n) same++;
        if (same > CONTEXT_PER_NEEDLE) c.splice(c.findIndex((e) => e.needle === n), 1);
        return;
      }
    }
  }

  private host(name: string): HostState {
    let h = this.hosts.get(name);
    if (!h) {
      h = { kernel: null, bootId: null, input: '' };
      this.hosts.set(name, h);
    }
    return h;
  }

  /** `forced`: ended only because too many reports were open, not by anything in its stream. */
  private finish(key: string, o: Open, forced = false): void {
    this.open.delete(key);
    for (const r of o.builder.finish()) {
      if (r.headerless) this.ended = { key, r, counter: this.counter };
      if (forced && r.frames.length === 0 && !r.crash) r.truncated = true;
      this.complete(r, o);
    }
    const held = o.held;
    o.held = null;
    if (held) {
      // The held line is of its own input, which may not be the one being read now.
      const now = this.inputName;
      this.setInput(held.pos.name);
      this.route(key, held.line, held.text, held.raw, held.pos);
      // It may be the stack dump that names the release the report just completed lacks.
      if (this.waiting.size > 0) this.trail(held.line, held.text);
      this.setInput(now);
    }
  }

  /** Adds what the stream knew (boot banner release, context lines) and hands the report on. */
  private complete(r: TaskReport, o: Open): void {
    // The kernel never prints one header twice with the same printk time (a time with its fraction:
    // whole seconds of a console capture may repeat). A copy of one that brings nothing is dropped.
    if (r.uptime !== null && !Number.isInteger(r.uptime)) {
      const key = `${o.machine}\u0000${r.kind}\u0000${r.task}\u0000${r.pid}\u0000${r.uptime}\u0000${r.blockedSeconds}`;
      if (remember(this.recent, key) && r.frames.length === 0 && r.state === null && r.blocker === null) return;
    }
    if (r.kernel === null && o.record !== null) {
      r.kernel = o.record;
      r.logKernel = o.record;
      r.kernelSource = 'record';
    }
    const b = o.banner;
    if (r.kernel === null && b && (b.bootId === null || r.bootId === null || b.bootId === r.bootId)) {
      r.kernel = b.kernel;
      r.logKernel = b.kernel;
      r.kernelSource = 'banner';
    }
    const ev = this.evidence.get(o.machine);
    if (ev) r.context = ev.map((e) => e.text);
    if (r.kind === 'hung_task' && this.suppressedOn.has(r.host)) this.reportedSince.add(r.host);
    if (r.suppressesFurther) this.suppressedOn.add(r.host);
    if (r.kernel === null) {
      const w = this.waiting.get(o.machine);
      // (One of the other kinds waits too, but does not make the hung tasks before it wait longer.)
      if (w) {
        if (!r.crash) w.left = TRAIL_LINES;
      } else this.waiting.set(o.machine, { id: ++this.waits, left: TRAIL_LINES, began: this.counter, since: this.counter });
    }
    if (this.waiting.size > 0) {
      this.queue.push({ r, machine: o.machine, start: o.start, wait: this.waiting.get(o.machine)?.id ?? null });
      return;
    }
    this.hand(r, o.machine, o.start);
  }

  /**
   * Hung tasks read without their header (HungTaskBuilder's `headerless`), held until flush():
   * another input of the run may hold the same hang whole (Debian's /var/log/messages read before
   * /var/log/syslog or kern.log), and then only that one comes out. (headerOf() covers the
   * header read first.)
   */
  private readonly headerless: { r: TaskReport; machine: string; start: SourcePosition }[] = [];

  private hand(r: TaskReport, machine: string, start: SourcePosition): void {
    if (r.headerless) {
      // Its whole copy (or that of the hang whose lock it held) came out while it was read.
      if (this.headerOf(machine, r.pid, r)) return;
      this.headerless.push({ r, machine, start });
      if (this.headerless.length > HELD_HEADERLESS) this.emit(this.headerless.shift()!.r);
      return;
    }
    // Its header-less copies: its own task line, and (6.15+) that of the lock owner the kernel
    // printed after it, which a log without KERN_ERR lines shows as a hung task of its own when
    // the owner is in D state. (6.15-6.16 print an owner that is hung too twice: all copies go.)
    const owner = r.kind === 'hung_task' && r.blocker?.ownerTask ? r.blocker.owner?.pid ?? null : null;
    // (Read first, the whole report leaves a mark that the owner's copy, read later, finds: headerOf().)
    if (owner !== null) this.markHeader(machine, owner, r);
    if (r.kind === 'hung_task' && this.headerless.length > 0) {
      const copies = this.headerless.filter((h) => h.machine === machine && (h.r.pid === r.pid || h.r.pid === owner) && samePrint(h.r, r));
      for (const h of copies) this.headerless.splice(this.headerless.indexOf(h), 1);
    }
    this.emit(r);
  }

  private closeStale(): void {
    // Silence is counted in lines of all streams: with N streams interleaved line by line, each
    // is heard from only every N lines, so the allowance grows with the reports open.
    const gap = this.gapLines + 4 * this.open.size;
    for (const [key, o] of this.open) {
      if (this.counter - o.lastSeen > gap) this.finish(key, o);
    }
    for (const [key, p] of this.partials) {
      if (this.counter - p.since > PARTIAL_LINES) this.partials.delete(key);
    }
    // A machine that fell silent, or waited long among other machines' lines: its reports go on without a release.
    for (const [who, w] of this.waiting) if (this.counter - w.since > gap || this.counter - w.began > TRAIL_ALL) this.release(who);
  }

  /** closeOldest() is finishing reports (which may open one each from a held line). */
  private evicting = false;

  /**
   * Finishes the stalest open reports to make room: a 64th of them at once, so that a flood of
   * streams (a central syslog of 200 000 hosts, each with one first line) costs one sort per
   * hundred new reports rather than a scan of every open report per line.
   */
  private closeOldest(except: string): void {
    const stale = [...this.open].filter((e) => e[0] !== except).sort((a, b) => a[1].lastSeen - b[1].lastSeen);
    this.evicting = true;
    try {
      for (const [key, o] of stale.slice(0, Math.max(1, this.maxOpen >> 6))) if (this.open.get(key) === o) this.finish(key, o, true);
    } finally {
      this.evicting = false;
    }
  }

  /** The earliest start of anything still open for an input (null: nothing open there). */
  earliestOpen(name: string): SourcePosition | null {
    let best: SourcePosition | null = null;
    // A header cut short and waiting for its rest counts: a read position saved past it loses it.
    // So does a report completed and still queued (waiting for a release), and a line held back to
    // see what follows it (a kmsg piece, an ARM pair cut before its caller, an OOM constraint line,
    // a WARNING's `cut here` and message), and a header-less report held until flush().
    const starts = [...[...this.open.values()].map((o) => o.start), ...[...this.partials.values()].map((p) => p.pos),
      ...this.queue.map((q) => q.start), ...this.headerless.map((h) => h.start), ...[...this.pieces.values()].map((p) => p.pos), ...(this.prelude?.lines.map((l) => l.pos) ?? [])];
    for (const start of starts) {
      if (start.name !== name || start.offset === undefined) continue;
      if (!best || start.offset < best.offset!) best = start;
    }
    return best;
  }

  /** Where each report still open for an input began (the objects themselves: see isOpen). */
  openStarts(name: string): SourcePosition[] {
    const out: SourcePosition[] = [];
    for (const o of this.open.values()) if (o.start.name === name && o.start.offset !== undefined) out.push(o.start);
    for (const q of this.queue) if (q.start.name === name && q.start.offset !== undefined) out.push(q.start);
    for (const h of this.headerless) if (h.start.name === name && h.start.offset !== undefined) out.push(h.start);
    return out;
  }

  /** Whether the report that began at `start` (an object from openStarts) is still open. */
  isOpen(start: SourcePosition): boolean {
    for (const o of this.open.values()) if (o.start === start) return true;
    for (const q of this.queue) if (q.start === start) return true;
    for (const h of this.headerless) if (h.start === start) return true;
    return false;
  }

  /**
   * Hands on the reports waiting for a release, leaving open reports open: follow mode calls it
   * when it has read all there is, as the stack dump that names the release comes in the same burst.
   */
  releaseWaiting(): void {
    this.waiting.clear();
    this.drain();
  }

  /** Finishes every open report (end of input, or an idle stream in follow mode). */
  /**
   * Finishes everything open. `keepUnfinished`: a report in the middle of its trace stays open
   * (follow mode, after a short silence: a syslog daemon that writes in batches, or a writer on a
   * network file system, may pause inside a report; its next lines still join it).
   */
  flush(keepUnfinished = false): void {
    for (const [key, p] of [...this.pieces]) {
      this.pieces.delete(key);
      this.take(p.line, key, p.text, p.raw, p.pos);
    }
    const prelude = this.prelude;
    this.prelude = null;
    if (prelude) this.takePrelude(prelude);
    this.partials.clear();
    this.echoes.clear();
    this.softKey = null;
    this.nextKey = null;
    this.lastStream = null;
    this.prefixAlone = null;
    // Twice: a report finished here may open one from the line it held (another kind's first line).
    for (let pass = 0; pass < 2; pass++) {
      for (const [key, o] of [...this.open]) if (this.open.get(key) === o && (!keepUnfinished || !o.builder.midTrace())) this.finish(key, o);
    }
    this.releaseWaiting();
    for (const h of this.headerless.splice(0)) this.emit(h.r);
  }
}

/** Seconds from a header-less report's first line to a dump's next task line, at most (a slow console's long trace). */
const DUMP_TASK_GAP = 10;

/** A state dump's header-less report is a `blocked_state` one (Assembler.dumpWithout()). */
function toDump(r: TaskReport): void {
  r.kind = 'blocked_state';
  delete r.headerless;
}

/**
 * The freezer's first line, KERN_INFO (`Freezing user space processes ... `, 6.x `Freezing user
 * space processes`, `Freezing remaining freezable tasks ... `, with `PM: ` before it on some).
 */
export const FREEZING_NEEDLE = 'Freezing ';
const FREEZING = /^\s*(?:PM: )?Freezing (?:user space processes|remaining freezable tasks)\b/;
const FROZEN = /\(elapsed [\d.]+ seconds\)|\bcompleted\b|\bdone\.\s*$/;
/** The column header of a 2.6-5.8 show_state() dump, whole (blocked-state.ts reads it inside a dump). */
export const COLUMNS_NEEDLE = 'pid father';
const DUMP_COLUMNS = /^\s*task\s+(?:PC\s+)?(?:stack\s+)?pid\s+father(?:\s+child\s+younger\s+older)?\s*$/;

/** Header-less reports held at most (HELD_HEADERLESS): the oldest goes on beyond. */
const HELD_HEADERLESS = 4096;

/** Two lines or reports were printed within PRINT_GAP_UPTIME of each other (by printk time, else by wall clock). */
function samePrint(a: { uptime: number | null; time: number | null }, b: { uptime: number | null; time: number | null }): boolean {
  return printedWithin(a, b, PRINT_GAP_UPTIME) ?? (a.uptime === null && b.uptime === null && a.time === null && b.time === null);
}
