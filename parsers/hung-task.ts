/**
 * The hung-task report grammar: what khungtaskd prints for one blocked task, in every kernel era.
 *
 *   INFO: task java:181134 blocked for more than 120 seconds.            header (also "blocked in I/O
 *                                                                        wait for more than", "can't die")
 *         Tainted: G           OE  5.15.0-53-generic #59-Ubuntu          or "Not tainted"; absent on RHEL 7
 *   "echo 0 > /proc/sys/kernel/hung_task_timeout_secs" disables this message.
 *   java            D ffff881269bd7c00     0 181134      1 0x00000084    old task line (+ raw stack words)
 *   task:java state:D stack:0 pid:181134 tgid:181134 ppid:1 flags:0x..  5.x/6.x task line
 *   Workqueue: writeback wb_workfn (flush-8:0)
 *   Call Trace: / Call trace:  then frames (frame.ts), markers, user-space register lines
 *   INFO: task X:N is blocked on a mutex likely owned by task Y:M.       6.15+: the owner's task line
 *                                                                        and trace follow
 *   Future hung task reports are suppressed, see sysctl kernel.hung_task_warnings
 *
 * `HungTaskBuilder` consumes the lines of one report and says when a line is not part of it.
 * Pure and synchronous: no I/O, no clock.
 */
import { contextAfter, parseBareSymbol, parseFrameLine, type FrameLine, type ParsedFrame } from './frame.js';
import { compile } from './patterns.js';
import { newReport, type Blocker, type Frame, type FrameContext, type HungTaskVerb, type KernelLine, type ReportKind, type TaskInfo, type TaskReport } from './record.js';

// The header. The task name may hold colons, spaces and parentheses, so the pid is the last
// `:digits` before the verb (`kworker/u8:102:403349`). A name with an embedded newline splits
// the header over two lines; the second half still matches without the `INFO: task ` part,
// which parseHeader() removes from the name when it is there. Names are set by the task itself
// and may hold any character: journal JSON and kmsg carry a CR, LF or U+2028 in them raw.
export const HEADER = compile(String.raw`
  ^ (?<task> [\s\S]*? ) : (?<pid> \d+ ) \s
  (?<verb> blocked | blocked \s in \s I/O \s wait | can't \s die ) \s for \s more \s than \s
  (?<secs> \d+ ) \s? (?: seconds? | s ) (?: [.\s] [\s\S]* )? $   # a Huawei kernel prints "120 s."; pagers and blogs append text
`);

// The needle every header variant contains; a line without it can never open a report.
export const HEADER_NEEDLE = ' for more than ';

// `Tainted: G        W   E     4.19.0-6-amd64 #1 Debian 4.19.67-2+deb10u2` / `Not tainted 6.8.1-arch1-1 #1`.
// Flags are blank-separated runs without digits: no two parts of the pattern can take the same
// blanks. The release, the build and the rest are taken whole, never given back (a lookahead's
// capture matched again: JavaScript has no possessive quantifiers): giving back could never make
// the line match, but on a line that does not (a `\n` at its end) it tried the release's digits
// against the rest's blanks against the trailing blanks, n^4 ways (over 20 s for a 64 KiB line).
// Every line is matched in linear time (see "pathological lines" in the tests).
const TAINTED = compile(String.raw`
  ^ \s* (?: Not \s tainted \s+ | Tainted: \s+ (?<flags> (?: [^0-9\s]+ \s+ )* ) ) (?= (?<release> \d+ \. \d+ [^\s]* ) ) \k<release>
    (?: \s+ \# (?= (?<build> \S+ ) ) \k<build> (?: (?= (?<blanks> \s+ ) ) \k<blanks> (?= (?<rest> .* ) ) \k<rest> )? )? \s* $`);

// 5.x/6.x: `task:df state:D stack:    0 pid:1177107 tgid:1177107 ppid:  6953 task_flags:0x400000 flags:0x00004224`.
// The comm is printed with %-15.15s: at most 15 characters.
const TASK_NEW = compile(String.raw`
  ^ \s* task: (?<comm> [\s\S]{0,15}? ) \s+ state: (?<state> \S+ ) (?: \s+ running \s task )?   # state:R adds "running task"
    (?: \s+ stack: \s* \d+ )?
    \s+ pid: \s* (?<pid> \d+ ) (?: \s+ tgid: \s* (?<tgid> \d+ ) )?
    (?: \s+ ppid: \s* (?<ppid> \d+ )     # left out of an abridged quote ('task:UVCG state:D stack:0 pid:82')
      (?: \s+ task_flags: \s* 0x[0-9a-fA-F]+ )? (?: \s+ flags: \s* (?<flags> 0x[0-9a-fA-F]+ ) )?
      (?: \s+ [\w:]{1,24} )? )?           # the rest cut off at a terminal's width ('ppid:     1 f2')
    \s* $`);

// 2.6-4.x: `%-15.15s %c` then (thread pc | "running [task]") free-stack pid ppid flags; 2.6.18
// ends with sibling pids and (NOTLB)/(L-TLB) instead of flags.
const TASK_OLD = compile(String.raw`
  ^ \s* (?<comm> \S [\s\S]{0,14}? ) \s+ (?<state> [RSDTtXZPIWKNx?] )
    \s* (?: [0-9a-fA-F]{8} \s+ | [0-9a-fA-F]{16} \s+ | running (?: \s+ task )? \s+ )?   # a 5-digit free stack follows the state unspaced (ppc64 4.15)
    \d+ \s+ (?<pid> \d+ ) \s+ (?<ppid> \d+ )
    (?: (?: \s+ \d+ )* \s+ (?<flags> 0x[0-9a-fA-F]+ )                                   # CloudLinux prints its LVE id before the flags
      | \s+ (?: \d+ \s+ )* \( (?: NOTLB | L-TLB ) \) )? \s* $`);

/**
 * A hung task whose header the log does not have. The header and the echo line are KERN_ERR in
 * every era, the task line KERN_INFO (2.6.18: no level, so the default, warning) and the trace the
 * default level (info from 5.9): a syslog rule that keeps info, notice and warning and drops err
 * (Debian's and old Ubuntu's `*.=info;*.=notice;*.=warn` for /var/log/messages) keeps the task
 * line and the trace of every hung task and drops its header. A sysrq-w/t dump keeps its opening
 * line there (`SysRq : Show Blocked State` is KERN_INFO) and is read as one.
 * The task line of a D-state task is what these needles find, in each era's form: 5.9+
 * `task:%-15.15s state:%c stack:`; 2.6.24-4.8 `%-15.15s %c` then the saved pc, ` %016lx ` or
 * ` %08lx ` (2.6.18 `%-13.13s`); 4.9-5.8 the free stack `%5lu` right after the state, `    0`
 * unless CONFIG_DEBUG_STACK_USAGE. A name shorter than the padding leaves two blanks before the
 * `D`; a name of 15 characters (`systemd-journal`, `jbd2/nvme0n1p2-`) one, and then the pc's first
 * digit or the free stack's blanks follow. Not found: a 15-character name with a pc that starts
 * with another digit than 0, c or f, and a free stack of five digits (`D13432`, debug kernels).
 */
export const HEADERLESS_NEEDLES = ['state:D', '  D ', ' D  ', ' D 0', ' D f', ' D c'];

/** The task line of a D-state task, whole (its ppid too), of any era: the start of a hung task without its header. */
export function parseHeaderlessTask(text: string): (TaskInfo & { pid: number }) | null {
  if (!HEADERLESS_NEEDLES.some((n) => text.includes(n))) return null;
  const t = parseTaskLine(text);
  return t !== null && t.state === 'D' && t.pid !== null && t.ppid !== null ? { ...t, pid: t.pid } : null;
}

// lockdep's list of a task's locks (debug_show_held_locks()): `4 locks held by kmcheck/161:`
// (`1 lock held by`, `no locks held by`), then `#0: 0000033d922455d0 (crw_handler_mutex){+.+.}-{3:3},
// at: crw_collect_info+0x162/0x2f0` (before 5.x without the address: ` #0:  (&mm->mmap_sem){++++}, at: [<...>] ...`).
const HELD_LOCKS = /^\s*(?:\d+ locks? held|no locks held) by .{1,64}\/(\d+)[:.]?\s*$/;
const HELD_LOCK = /^\s*#\d+:\s/;

// Raw stack words printed by old kernels between the task line and the trace (`Stack:` and
// MIPS's `Stack : ...` with a `...` continuation, samples/eras/mips-*.log).
export const STACK_WORDS = compile(String.raw`
  ^ \s* (?: Stack \s? : \s* )?
    (?: (?: [0-9a-fA-F]{8} | [0-9a-fA-F]{16} ) (?: \s+ (?: [0-9a-fA-F]{8} | [0-9a-fA-F]{16} ) )* | \.\.\. ) \s* $`);

// ARM exception stack dumps: `Exception stack(0xc0b01f40 to 0xc0b01f88)` and `1f40: 00000001 ...`.
// (At most a few blanks may end it: a free run of blanks after the repeated group was quadratic.)
export const ARM_DUMP = compile(String.raw`^ \s* (?: Exception \s stack \( .* \) | [0-9a-f]{4}: (?: \s [0-9a-f]{8} | \s [ ]{8} )+ ) \s{0,8} $`);

// Register and code lines of the user-space frame printed after a trace (x86 5.x+), and of
// older kernels' register dumps: part of the report, never frames.
export const REGISTERS = compile(String.raw`
  ^ \s* (?: RIP | RSP | RAX | RBX | RCX | RDX | RSI | RDI | RBP | R\d{1,2} | EIP | ESP | EAX | EBX | ECX
          | EDX | ESI | EDI | EBP | EFLAGS | ORIG_RAX | FS | GS | CS | DS | ES | SS | CR[0-4] | DR[0-7]
          | Code | pc | lr | sp | x\d{1,2} | NIP | MSR | LR | CTR | XER | GPR\d\d
          | r\d{1,2} | fp | ip )        # ARM prints r10:... r4:... under each frame pair (stress/02)
    \s* :
  # MIPS '$ 0   : 00000000 ...', 'Hi    : 00000000'; RISC-V ' gp : ffff... tp : ...', ' s1 : ...';
  # sparc64 'TSTATE: 0000004411001602 TPC: ...', 'g0: ... g1: ...', 'o0:', 'l0:', 'i0:'; m68k 'd0: 00000001    d1: ...': a value follows.
  | ^ \s* (?: \$ \s? \d{1,2} | Hi | Lo | gp | tp | t[0-6] | s\d{1,2} | a[0-7] | [goli][0-7] | d[0-7] | TSTATE ) \s* : \s* [0-9a-f]{8}
  | ^ \s* status: \s [0-9a-f]{8,16} \s+ badaddr:      # RISC-V
  # LoongArch, without colons: 'pc 9000000001045fa4 ra ffff8000025331dc tp ...', 'a0 ... a1 ...'.
  | ^ \s* (?: pc | [atsu]\d ) \s [0-9a-f]{16} \s+ (?: ra | [atsu]\d ) \s [0-9a-f]{16}`);

// 6.15+ blocker lines. Mutex: `is blocked on a mutex likely owned by task Y:M.`; semaphore:
// `blocked on a semaphore likely last held by task Y:M`; rw-semaphore: `<reader> blocked on an
// rw-semaphore likely owned by task Y:M <writer>`; and the `..., but the owner is not found.` forms.
const BLOCKER = compile(String.raw`
  ^ \s* INFO: \s task \s (?<task> [\s\S]*? ) : (?<pid> \d+ ) \s (?: < (?<as> reader|writer ) > \s )?
    (?: is \s )? blocked \s on \s an? \s (?<lock> mutex | semaphore | rw-semaphore )
    (?: ,? \s but \s the \s (?: owner | last \s holder ) \s is \s not \s found
      | \s likely \s (?: owned | last \s held ) \s by \s task \s (?<owner> [\s\S]*? ) : (?<opid> \d+ )
        (?: \s < (?<oas> reader|writer ) > )? ) \.? \s* $`);

const WORKQUEUE_HEAD = /^\s*Workqueue:/;
/** What `.` does not take. */
const LINE_BREAK = /[\n\r\u2028\u2029]/;
/**
 * `Workqueue: events_freezable_power_ disk_events_workfn`: what follows, without the blanks around
 * it, or null when the line is none. String code where a pattern was (`Workqueue:\s*(.+?)\s*$`):
 * the lazy name and the blanks after it took each blank of a long run n^2 times, n^3 for a line
 * that does not end the way the pattern wants. Same result: the text between the blanks, none
 * when a line break (`.` takes none) is inside it; a line of blanks only gives its last blank that
 * is no line break.
 */
function workqueue(text: string): string | null {
  const head = WORKQUEUE_HEAD.exec(text);
  if (!head) return null;
  const t = text.slice(head[0].length);
  const end = t.trimEnd().length;
  if (end === 0) {
    for (let i = t.length - 1; i >= 0; i--) if (!LINE_BREAK.test(t[i])) return t[i];
    return null;
  }
  const name = t.slice(t.length - t.trimStart().length, end);
  return LINE_BREAK.test(name) ? null : name;
}
const FRAGMENT_KEY = /^(?:task|state|stack|pid|tgid|ppid|task_flags|flags):/;
const WRAPPED_FLAGS = /^\s*flags:\s*(0x[0-9a-fA-F]+)\s*$/;

/**
 * A piece of a 5.x/6.x task line (`stack:0 pid:181134 ppid:1`, maybe after a free-stack count):
 * `key:value` words, or `key:` followed by its value. Checked word by word: the pattern this
 * replaces (`(?:key:\s*\S*\s*)+`) could read `task:` as a key or as a value, and a line of
 * repeated `task: ` took minutes.
 */
export function isTaskFragment(text: string): boolean {
  const words = text.trim().split(/\s+/);
  let i = words.length > 1 && /^\d+$/.test(words[0]) ? 1 : 0;
  if (i >= words.length || !FRAGMENT_KEY.test(words[i])) return false;
  for (; i < words.length; i++) {
    if (!FRAGMENT_KEY.test(words[i])) return false;
    // `stack:    0`: the value is the next word.
    if (words[i].endsWith(':') && i + 1 < words.length && !FRAGMENT_KEY.test(words[i + 1])) i++;
  }
  return true;
}
// Pieces of the first lines that a mail client wrapped: `"echo 0 > ` and `Tainted: G     U `.
const ECHO_PIECE = /^\s*"echo 0 >/;
const TAINTED_PIECE = /^\s*Tainted: [A-Z\s-]*$/;
/**
 * A blocker line cut at a blank by a mail client (`INFO: task systemd-udevd:2268 is blocked on a`,
 * the rest `mutex likely owned by task systemd-udevd:2258.` on the next line).
 */
const BLOCKER_CUT_TAIL = String.raw`an?(?: (?:mutex|semaphore|rw-semaphore)(?: likely(?: owned(?: by(?: task)?)?| last(?: held(?: by(?: task)?)?)?)?`
  + String.raw`|,? but(?: the(?: (?:owner|last holder)(?: is(?: not)?)?)?)?)?)?`;
// (The semaphore forms print no `is`.)
const BLOCKER_CUT = new RegExp(String.raw`^\s*INFO: task \S[^\n]*?:\d+ (?:<(?:reader|writer)> )?`
  + String.raw`(?:is(?: blocked(?: on(?: ${BLOCKER_CUT_TAIL})?)?)?|blocked on(?: ${BLOCKER_CUT_TAIL})?)\s*$`);

/**
 * A cut line joined with a piece of its rest and still cut short (a third piece may follow). Not
 * the echo line: `"echo 0 >` followed by anything would pass for one.
 */
function isStillCut(text: string): boolean {
  return isTaskFragment(text) || TAINTED_PIECE.test(text) || BLOCKER_CUT.test(text);
}

/** Whether a cut line joined with its rest is whole. */
function isWhole(text: string): boolean {
  return parseTaskLine(text) !== null || parseBlocker(text) !== null || parseTainted(text) !== null || text.includes('hung_task_timeout_secs');
}
export const CALL_TRACE = /^\s*(?:Call [Tt]race|Backtrace):?\s*$/;
/** m68k prints the first frame on the `Call Trace:` line itself: `Call Trace: [<00222a58>] nubus_proc_rsrc_show+0x18/0xa0`. */
const CALL_TRACE_FRAME = /^\s*Call [Tt]race: ?(\s*\[<[0-9a-fA-F]{1,16}>\].*)$/;
/** The frame on a `Call Trace:` line, or null. */
export function callTraceFrame(text: string): FrameLine | null {
  const m = CALL_TRACE_FRAME.exec(text);
  const fl = m ? parseFrameLine(m[1]) : null;
  return fl && fl.frames.length > 0 ? fl : null;
}
/** A printk time inside a line, not at its start, and the frame text after it. */
const GLUED_STAMP = /\S\[\s*\d{1,8}\.\d{6}\](?: |\t)(\s*\S.*)$/;
/** Code bytes (`0f 01 ca <f3> a4`) or words (`e5933000 (e3530000)`), nothing else. */
export const CODE_PIECE = /^\s*(?:[<(]?(?:[0-9a-f]{2}|[0-9a-f]{4}|[0-9a-f]{8})[>)]?\s+){3,}[<(]?(?:[0-9a-f]{2}|[0-9a-f]{4}|[0-9a-f]{8})[>)]?\s*$/i;
/** The address part of a frame line, nothing after it: x86 `[<ffffffff8132cb66>] ?`, ppc `[e78cdad0] [c0088584]`. */
// (The blanks before the `?` go with it: `\s*\??\s*` split a run of blanks n ways.)
const FRAME_ADDRESSES = /^\s*(?:\[<[0-9a-f]{8,16}>\](?:\s*\?)?|\[[0-9a-f]{8,16}\]\s+\[[0-9a-f]{8,16}\])\s*$/i;

export const SUPPRESSED_NEEDLE = 'Future hung task reports are suppressed';

/** Last frames of a complete trace: the entry from user space or the start of a kernel thread. */
const TRACE_BOTTOM = new RegExp('^(?:' + [
  String.raw`(?=\w*$)\w*ret_from_fork\w*`, 'ret_from_kernel_thread', 'ret_from_kernel_user_thread', 'start_kernel_thread', 'kthread',
  String.raw`entry_SYSCALL\w*`, String.raw`entry_SYSENTER\w*`, String.raw`entry_INT80\w*`, String.raw`(?=\w*$)\w*system_call\w*`,
  'syscall_call', String.raw`sysenter_\w+`, String.raw`ia32_sysenter\w*`, 'int_signal', 'int_ret_from_sys_call',
  'ret_fast_syscall', 'ret_from_syscall', String.raw`el0t?_\w+`, 'ret_to_user', 'syscall_exit', 'do_syscall_64',
  'child_rip', 'kernel_thread_helper', 'kernel_thread', 'kernel_thread_exit', 'gs_change', 'work_pending',
  'error_code', String.raw`ptregs_\w+`,
  String.raw`_*do_fast_syscall_32`, 'handle_exception', 'ret_from_exception', 'handle_syscall',
  'start_kernel', String.raw`secondary_startup\w*`, 'cpu_startup_entry', 'rest_init',
  // MIPS: the system call entry (o32 `stack_done`, later `syscall_common`; n64/n32 `handle_sys*`).
  'stack_done', 'syscall_common', 'handle_sys', 'handle_sys64', 'handle_sysn32',
].join('|') + ')$');

/** Whether a frame is one that ends a complete trace (a trace's first frame never is). */
export function isBottomFrame(fn: string): boolean {
  return TRACE_BOTTOM.test(fn.replace(/^\./, ''));
}

/** Lines left out of a quoted trace. */
export const ELISION = /^\s*(?:\.{3,}|…|\[\.\.\.\])\s*$/;
/** The last frame of a complete 5.x+ trace (the ones with <TASK> markers). */
// (`(?=\w*$)`: a name of word characters only, else the search for `ret_from_fork` inside it went
// on from each copy of it to the end of the name, n^2 steps. Same for TRACE_BOTTOM.)
const TASK_BOTTOM = /^(?:entry_SYSCALL\w*|entry_SYSENTER\w*|entry_INT80\w*|(?=\w*$)\w*ret_from_fork\w*|el0t?_\w+|ret_to_user)$/;

/** Lines that belong to a task block whatever its state: frames, markers, trace header, stack words, registers. */
export function isTaskBodyLine(text: string): boolean {
  return parseFrameLine(text) !== null || CALL_TRACE.test(text) || callTraceFrame(text) !== null || STACK_WORDS.test(text) || ARM_DUMP.test(text)
    || REGISTERS.test(text) || workqueue(text) !== null;
}

// `"echo 0 > /proc/sys/kernel/hung_task_timeout_secs" disables this message.`; a CSV export doubles the quotes.
const ECHO_LINE = /^\s*"+echo 0 > \/proc\/sys\/kernel\/hung_task_timeout_secs"+ disables this message/;

/**
 * Text that, read on its own, can only be a line of a kernel task report: the header, the Tainted
 * and echo lines, the task line, the blocker line and the task body. Collectors that stamp raw
 * console output with a time and nothing else (`2025-01-16T17:24:58.365Z INFO: task ...`) leave
 * such text where a syslog line has its host and program. A program's message that quotes a report
 * (a monitoring agent's) starts with its own words, so the header must be the line's start.
 */
export function isReportText(text: string): boolean {
  // printk stops at 1 KiB: a longer text is no kernel line (and no pattern has to read it).
  if (text.length > 1024) return false;
  return (text.startsWith('INFO: task ') && parseHeader(text) !== null) || parseTainted(text) !== null
    || ECHO_LINE.test(text) || parseTaskLine(text) !== null || parseBlocker(text) !== null || isTaskBodyLine(text);
}

/**
 * A pid or count as printed: null when it is beyond what a kernel prints (pids stop at 2^22,
 * and the store keeps 64-bit integers), so a forged 20-digit value cannot poison anything.
 */
function count(digits: string | undefined): number | null {
  if (digits === undefined || digits.length > 15) return null;
  return Number(digits);
}

/**
 * Whether what stands before `INFO: task` makes the header someone's quotation of one rather than
 * the kernel's line: a mail's subject (`Subject: Re: INFO: task ...`), a sentence (`we saw INFO:
 * task ...`), a string in code or a command (`logs.append(f'... INFO: task`, `grep -c 'INFO: task`).
 * Envelopes klogscan does not know stay readable (`vagrant login: [ 840.06] `, kubectl's event
 * columns, rsyslog's debug `msg: '`, a markdown backtick). `tail`: the header from ` for more than` on.
 */
function quotesHeader(lead: string, tail: string): boolean {
  return /^\W*(?:Subject|Betreff|Objet|Asunto|Onderwerp|Oggetto|Assunto|Temat|Ämne|Emne|Aihe|Re|Fwd?|AW|WG|SV|VS|TR|Odp)\s?:\s/i.test(lead)
    || /(?:^|\s)[A-Za-z][a-z']*\s+[a-z][a-z']*\s+$/.test(lead)
    // (Not after `,`, `[` or `{`: a CSV or JSON export's field holds the kernel's line.)
    || /(?:[=(]\s*|\b[frbu]|\s-[A-Za-z]+\s+|\b(?:grep|egrep|zgrep|rg|echo|printf|awk|sed)\s+)['"`][^'"`]*$/.test(lead)
    // A line of a list in code (`    'INFO: task ... seconds.',`); a markdown backtick is no string,
    // nor is a double-quoted line of a JSON array or a CSV file.
    || (/^\s*'[^'"`]*$/.test(lead) && /'\s*[,;)\]+]/.test(tail));
}

export function parseHeader(text: string): ReportStart | null {
  if (!text.includes(HEADER_NEEDLE)) return null;
  const m = HEADER.exec(text);
  if (!m?.groups) return null;
  const pid = count(m.groups.pid);
  const secs = count(m.groups.secs);
  if (pid === null || pid > 0xffffffff || secs === null) return null;
  const v = m.groups.verb;
  let task = m.groups.task;
  const info = task.indexOf('INFO: task ');
  if (info >= 0) {
    // A program's own field glued before the header quotes it (node-problem-detector's
    // `Reason:TaskHung Message:INFO: task ...`): that is no report of the kernel's.
    if (info >= 2 && task.charCodeAt(info - 1) === 58 /* : */ && /[A-Za-z]/.test(task[info - 2])) return null;
    const tail = text.indexOf(HEADER_NEEDLE);
    if (info > 0 && quotesHeader(task.slice(Math.max(0, info - 256), info), text.slice(tail, tail + 256))) return null;
    task = task.slice(info + 11);
  } else {
    // Without `INFO: `: a mail client broke the line after it (`task NAME:PID blocked ...` at the
    // margin), or a name holding a newline split the header (its second half alone). Anything
    // else before the name is someone's words about a report (`* kernel-rt: task x:1 blocked
    // ...` in an advisory, klogscan's own `hung task x:1 blocked for more than 120 s`).
    const t = /^[\s>|]*task (?=\S)/.exec(task);
    if (t) task = task.slice(t[0].length);
    else if (/\s/.test(task.trim())) return null;
  }
  // An Android vendor's khungtaskd quotes the name (`INFO: task "f2fs_ckpt-254:5":769 blocked ...`).
  if (task.length > 2 && task.charCodeAt(0) === 34 && task.charCodeAt(task.length - 1) === 34) task = task.slice(1, -1);
  const verb: HungTaskVerb = v === 'blocked' ? 'blocked' : v.startsWith("can't") ? "can't die" : 'blocked in I/O wait';
  return { kind: 'hung_task', task, pid, blockedSeconds: secs, verb };
}

export interface TaintedLine { release: string; tainted: string | null; pkg: string | null }

export function parseTainted(text: string): TaintedLine | null {
  if (!text.includes('ainted')) return null;
  const m = TAINTED.exec(text);
  if (!m?.groups) return null;
  const g = m.groups;
  let tainted: string | null = null;
  if (g.flags !== undefined) {
    // Flags print one character per position with spaces in between; RHEL adds a dash run.
    tainted = g.flags.replace(/-{2,}/g, ' ').trim().split(/\s+/).join(' ') || null;
  }
  const deb = g.rest ? /^Debian\s+(\S+)/.exec(g.rest) : null;
  return { release: g.release, tainted, pkg: deb ? deb[1] : null };
}

/** A tainted-or-not part on a stack dump's line (`CPU: 3 PID: 404 Comm: x Not tainted 3.10.0-957.el7.x86_64 #1`). */
const TAINT_PART = / (?:Not tainted|Tainted:) /;

/** The release (and taint flags) a stack dump's first line names after its task, or null. */
export function dumpTainted(text: string): TaintedLine | null {
  const at = text.search(TAINT_PART);
  return at < 0 ? null : parseTainted(text.slice(at + 1));
}

export function parseTaskLine(text: string): TaskInfo | null {
  let m = TASK_NEW.exec(text);
  let comm: string;
  if (m?.groups) {
    comm = m.groups.comm;
  } else {
    m = TASK_OLD.exec(text);
    if (!m?.groups) return null;
    comm = m.groups.comm.trim();
  }
  const g = m.groups!;
  const pid = count(g.pid);
  const ppid = g.ppid === undefined ? null : count(g.ppid);
  const tgid = g.tgid === undefined ? null : count(g.tgid);
  if (pid === null || (g.ppid !== undefined && ppid === null) || (g.tgid !== undefined && tgid === null)) return null;
  return { comm, state: g.state, pid, tgid, ppid, flags: g.flags ?? null };
}

export function parseBlocker(text: string): Blocker | null {
  if (!text.includes('blocked on a')) return null;
  const m = BLOCKER.exec(text);
  if (!m?.groups) return null;
  const g = m.groups;
  const pid = count(g.pid);
  const opid = count(g.opid);
  if (pid === null || (g.owner !== undefined && opid === null)) return null;
  return {
    task: { task: g.task, pid },
    lock: g.lock,
    as: g.as ?? null,
    ownerAs: g.oas ?? null,
    owner: g.owner !== undefined ? { task: g.owner, pid: opid! } : null,
    ownerTask: null,
    ownerFrames: [],
  };
}

/** Bounds that keep one report's memory small whatever the input does. */
export const LIMITS = { frames: 512, lines: 1200, lineLength: 4096 };

/** A line of a reader's notes: `// ...`, `<-- ...`, `<---`, or an elision `..`. */
const NOTE_LINE = /^[\s>]*(?:\/\/|<-{1,3}(?:\s|$)|\.{2,}\s*$)/;

/** A frame line with a reader's note after it (`fn+0x1/0x2\t// why`, `fn+0x1/0x2 [mod]   <-- why`). */
function annotatedFrame(text: string): ReturnType<typeof parseFrameLine> {
  if (!text.includes('//') && !text.includes('<-')) return null;
  const at = text.search(/\s(?:\/\/|<-{1,3})(?:\s|$)/);
  if (at <= 0) return null;
  const fl = parseFrameLine(text.slice(0, at));
  return fl && fl.frames.length > 0 ? fl : null;
}

/** Collects frames, handling stack-context markers and ARM's `where from caller` pairs. */
export class FrameCollector {
  readonly frames: Frame[] = [];
  private context: FrameContext = 'task';
  private lastArmFrom: string | null = null;
  /** The first symbol of the last ARM pair when its caller was an inlined one (see armFrom). */
  private inlinedInto: string | null = null;

  add(markers: string[], parsed: ParsedFrame[]): void {
    for (const mk of markers) {
      const c = contextAfter(mk);
      if (c) this.context = c;
    }
    for (const p of parsed) {
      // A pair's first symbol was its predecessor's caller, or (after an inlined caller) is the
      // predecessor's first symbol again.
      if (p.arm === 'where') {
        const seen = this.lastArmFrom === p.fn || this.inlinedInto === p.fn;
        this.inlinedInto = p.fn;
        this.lastArmFrom = null;
        if (seen) continue;
      } else {
        if (p.arm !== 'from' || !p.inline) this.inlinedInto = null;
        this.lastArmFrom = p.arm === 'from' ? p.fn : null;
      }
      if (this.frames.length >= LIMITS.frames) return;
      const f: Frame = {
        fn: p.fn, offset: p.offset, size: p.size, module: p.module, unreliable: p.unreliable, context: this.context,
      };
      if (p.inline) f.inline = true;
      if (p.source) f.source = p.source;
      this.frames.push(f);
    }
  }
}

export type LineVerdict = 'taken' | 'ended';

/** What starts a report: a hung-task header, or (blocked_state) a task line in a sysrq-w dump. */
export interface ReportStart {
  kind: ReportKind;
  task: string;
  pid: number;
  blockedSeconds: number | null;
  verb: HungTaskVerb | null;
}

/** Everything that consumes the lines of one stream while it has something open. */
export interface Builder {
  /** Offers the next line of the stream. 'ended' means the line is not part of what is open. */
  push(text: string, raw: string, line: KernelLine, pos: { name: string; line: number }): LineVerdict;
  /** Finishes and returns the reports still being built. */
  finish(): TaskReport[];
  /** In the middle of a trace: one stray line may be followed by more frames of it. */
  midTrace(): boolean;
  /** A report begun whose trace has not: one stray line (another CPU's message) may come before the rest of it. */
  beforeTrace(): boolean;
  /** The last line taken was a frame. */
  readonly lastWasFrame: boolean;
  /** Keeps a stray line that more of the report followed (`text`: the message of the line). */
  absorb(raw: string, text?: string): void;
  /**
   * Offers a line without a prefix that came right after this report's last line: the rest of
   * that line when a mail client wrapped it (true: taken as such).
   */
  rest?(text: string, raw: string): boolean;
  /**
   * The same header again, stamped with the same time, while nothing but header lines were taken:
   * the report's first lines printed (or pasted) twice, not a report of their own.
   */
  repeatedBy?(header: ReportStart, line: KernelLine): boolean;
  /** An empty line of the stream came (it neither continues nor ends anything, but breaks a run). */
  blank?(): void;
  /** The task's trace went down to its bottom frame and no lock owner's trace is awaited. */
  completeTrace?(): boolean;
  /** A sysrq dump between two tasks: one foreign line may come before the next task. */
  betweenTasks?(): boolean;
  /**
   * The trace is complete and no blocker line came yet: one foreign line (another CPU's message)
   * may come before the line that names the lock owner (6.15+).
   */
  awaitsBlocker?(): boolean;
  /** The line is the blocker line of this report's task. */
  blockerOf?(text: string): boolean;
}

/** A release of 6.0 or later. */
const MODERN_RELEASE = /^(?:[6-9]|\d{2,})\./;

/** Builds one report from its first line onwards (the header, or a sysrq-w task line). */
export class HungTaskBuilder implements Builder {
  private readonly report: TaskReport;
  private main = new FrameCollector();
  private owner: FrameCollector | null = null;
  /** The lock owner's trace ended (its `</TASK>`). */
  private ownerEnded = false;
  private sawTrace = false;
  private sawEnd = false;
  private sawTaskMarker = false;
  private sawUserRegs = false;

  /**
   * `headerless`: opened by a D-state task line with no header before it (parseHeaderlessTask): a
   * hung task only if a trace follows; alone, the line is no report.
   */
  constructor(header: ReportStart, line: KernelLine, raw: string, source: { name: string; line: number }, private readonly headerless = false) {
    this.report = newReport(header.kind, header, line, clip(raw), source, this.main.frames);
    if (headerless) this.report.headerless = true;
  }

  lastWasFrame = false;
  /** The last line taken was `Call Trace:` or a frame written as a bare function name (parseBareSymbol()). */
  private bareRun = false;
  /** The last line taken, when it was cut short (a task, echo, Tainted or blocker piece), and how many rests it took already. */
  private cut: { text: string; joins: number; frame?: true } | null = null;
  /** The last line taken was a `Code:` line or a piece of one that a mail client wrapped. */
  private inCode = false;
  /** The last line taken was the task's `N locks held by NAME/PID:` line or one of its locks. */
  private inLocks = false;

  beforeTrace(): boolean {
    return !this.sawTrace && !this.sawEnd && !this.sawUserRegs;
  }

  blank(): void {
    this.bareRun = false;
  }

  completeTrace(): boolean {
    return this.sawTrace && this.report.frames.length > 0 && !this.midTrace() && this.owner === null;
  }

  repeatedBy(header: ReportStart, line: KernelLine): boolean {
    const r = this.report;
    const stamped = line.uptime !== null || line.time !== null;
    return stamped && line.uptime === r.uptime && line.time === r.time && header.kind === r.kind && header.task === r.task
      && header.pid === r.pid && header.blockedSeconds === r.blockedSeconds && this.beforeTrace()
      && r.state === null && r.blocker === null && r.frames.length === 0;
  }

  midTrace(): boolean {
    // Once the lock owner's trace began, it is the one a stray line may interrupt.
    if (this.owner !== null) {
      const own = this.owner.frames;
      return own.length > 0 && !this.ownerEnded && !isBottomFrame(own[own.length - 1].fn);
    }
    const task = this.report.frames;
    if (!this.sawTrace || this.sawEnd || this.sawUserRegs || task.length === 0) return false;
    return !isBottomFrame(task[task.length - 1].fn);
  }

  awaitsBlocker(): boolean {
    // Only kernels that can print one (6.15+): a trace that ended with `</TASK>` (x86 since 5.x)
    // or a release of 6 or later (arm64 prints no markers).
    const r = this.report;
    if (this.owner !== null || r.blocker !== null || r.frames.length === 0 || !this.sawTrace || this.midTrace()) return false;
    return this.sawEnd || (r.kernel !== null && MODERN_RELEASE.test(r.kernel));
  }

  blockerOf(text: string): boolean {
    return parseBlocker(text)?.task.pid === this.report.pid;
  }

  /** Offers the next line of the same stream. 'ended' means the line is not part of this report. */
  push(text: string, raw: string): LineVerdict {
    this.lastWasFrame = false;
    const verdict = this.joinRest(text) ?? this.classify(text);
    if (verdict === 'ended') return verdict;
    this.keep(raw);
    return verdict;
  }

  /** Reads the task line the report was opened by (a dump's, or a header-less one): kept once, as its first line. */
  openedBy(text: string): void {
    this.classify(text);
  }

  rest(text: string, raw: string): boolean {
    this.lastWasFrame = false;
    const verdict = this.joinRest(text);
    if (verdict === null || verdict === 'ended') return false;
    this.keep(raw);
    return true;
  }

  /** Keeps a raw line taken, up to LIMITS.lines. */
  private keep(raw: string): void {
    if (this.report.lines.length < LIMITS.lines) this.report.lines.push(clip(raw));
  }

  /**
   * The line cut short before this one joined with it, when that makes it whole (or still a cut
   * line, up to three pieces): null when it does not.
   */
  private joinRest(text: string): LineVerdict | null {
    const cut = this.cut;
    this.cut = null;
    if (cut === null) return null;
    const joined = `${cut.text.trimEnd()} ${text.trim()}`;
    if (cut.frame) return (parseFrameLine(joined)?.frames.length ?? 0) > 0 ? this.classify(joined) : null;
    if (!isWhole(joined) && !(cut.joins < 2 && isStillCut(joined))) return null;
    const verdict = this.classify(joined);
    // classify() may have found the joined line still cut short.
    const again = this.cut as { text: string; joins: number } | null;
    if (again !== null) again.joins = cut.joins + 1;
    return verdict;
  }

  private classify(text: string): LineVerdict {
    // A reader's notes in a trace pasted into a mail (`// try_split_folio (mm/migrate.c:1486:2)`,
    // `<-- folio mapping ...`, `..`): a line of notes alone is passed over, leaving the state as it
    // was; a frame keeps its notes out (annotatedFrame).
    if (this.sawTrace && NOTE_LINE.test(text)) return 'taken';
    const r = this.report;
    const collector = this.owner ?? this.main;
    const bareRun = this.bareRun;
    this.bareRun = false;
    const inCode = this.inCode;
    this.inCode = false;
    const fl = parseFrameLine(text) ?? annotatedFrame(text) ?? callTraceFrame(text);
    if (fl) {
      this.lastWasFrame = fl.frames.length > 0;
      collector.add(fl.markers, fl.frames);
      if (fl.markers.includes('</TASK>')) {
        if (this.owner !== null && this.owner.frames.length > 0) this.ownerEnded = true;
        this.sawEnd = true;
      }
      if (fl.markers.includes('<TASK>')) this.sawTaskMarker = true;
      if (fl.frames.length > 0) this.sawTrace = true;
      return 'taken';
    }
    if (CALL_TRACE.test(text)) {
      this.sawTrace = true;
      this.bareRun = true;
      return 'taken';
    }
    if (bareRun) {
      // Function names alone (offsets left out by whoever quoted the trace), and `...` where lines were.
      const bare = parseBareSymbol(text);
      if (bare || ELISION.test(text)) {
        if (bare) collector.add([], [bare]);
        this.lastWasFrame = bare !== null;
        this.bareRun = true;
        return 'taken';
      }
    }
    const t = parseTainted(text);
    if (t) {
      if (r.kernel === null) {
        r.kernel = t.release;
        r.logKernel = t.release;
        r.kernelSource = 'tainted';
        r.tainted = t.tainted;
        r.kernelPackage = t.pkg;
      }
      return 'taken';
    }
    // 6.15+ between the Tainted and echo lines (PF_POSTCOREDUMP); not the lock owner's.
    if (text.includes('Blocked by coredump')) {
      if (!this.owner) r.coredump = true;
      return 'taken';
    }
    // "disables this message." alone: the echo line wrapped by a mail client. `Sched_ext:` follows
    // the task line when a BPF scheduler runs (6.12+).
    if (text.includes('hung_task_timeout_secs') || /^\s*disables this message\.\s*$/.test(text) || /^\s*Sched_ext: /.test(text)) return 'taken';
    if (REGISTERS.test(text)) {
      if (/^\s*RIP:\s*0033:/.test(text)) this.sawUserRegs = true;
      this.inCode = /^\s*Code:/.test(text);
      return 'taken';
    }
    // The rest of a `Code:` line that a mail client wrapped: code bytes or words alone.
    if (inCode && CODE_PIECE.test(text)) {
      this.inCode = true;
      return 'taken';
    }
    // A frame's addresses alone, its symbol wrapped onto the next line (a mail client, ppc32: stress/99).
    // So is a frame's `?` mark (`[387258.857368]  ?` / `__schedule+0x290/0x8a0`): the frame stays unreliable.
    if (this.sawTrace && (FRAME_ADDRESSES.test(text) || text.trim() === '?')) {
      this.cut = { text, joins: 0, frame: true };
      return 'taken';
    }
    if (STACK_WORDS.test(text) || ARM_DUMP.test(text)) return 'taken';
    const task = parseTaskLine(text);
    if (task) {
      const verdict = this.takeTask(task);
      // Without ppid it may be a line a mail client wrapped after `pid:N`: its rest may follow.
      if (verdict === 'taken' && task.ppid === null && !this.sawTrace) this.cut = { text, joins: 0 };
      return verdict;
    }
    // The flags of a whole task line that a mail client wrapped before them (`... task_flags:0x0140` / `flags:0x00000010`).
    const fl2 = !this.sawTrace && r.state !== null && r.flags === null && !this.owner ? WRAPPED_FLAGS.exec(text) : null;
    if (fl2) {
      r.flags = fl2[1];
      return 'taken';
    }
    // A task line broken in two by a mail client or a narrow console (the lock owner's too): its
    // rest may follow (joinRest).
    if ((!this.sawTrace || (this.owner !== null && this.owner.frames.length === 0)) && (isTaskFragment(text) || ECHO_PIECE.test(text) || TAINTED_PIECE.test(text))) {
      this.cut = { text, joins: 0 };
      return 'taken';
    }
    const wq = workqueue(text);
    if (wq !== null) {
      if (!this.owner) r.workqueue = wq;
      return 'taken';
    }
    // The locks the task holds, which a LOCKDEP kernel prints after its trace (before the 6.15+
    // blocker line): `4 locks held by kmcheck/161:`, then one `#0: ... (lock){+.+.}-{3:3}, at:
    // fn+0x162/0x2f0` line each. (Another task's list belongs to another print.)
    const held = HELD_LOCKS.exec(text);
    if (held && this.sawTrace && Number(held[1]) === (this.owner !== null ? r.blocker?.owner?.pid : r.pid)) {
      this.inLocks = true;
      return 'taken';
    }
    if (this.inLocks && HELD_LOCK.test(text)) return 'taken';
    this.inLocks = false;
    const b = parseBlocker(text);
    // A blocker line names its hung task; one about another task belongs to another report.
    if (b && b.task.pid !== r.pid) return 'ended';
    if (b && b.owner !== null && r.blocker === null) {
      r.blocker = b;
      this.owner = new FrameCollector();
      b.ownerFrames = this.owner.frames;
      return 'taken';
    }
    if (b && r.blocker === null) {
      r.blocker = b;
      return 'taken';
    }
    if (text.includes(SUPPRESSED_NEEDLE)) {
      r.suppressesFurther = true;
      return 'taken';
    }
    if (r.blocker === null && BLOCKER_CUT.test(text)) {
      this.cut = { text, joins: 0 };
      return 'taken';
    }
    // Inside a trace, a frame glued after the start of another message that a console or a
    // collector interleaved (`uam-tv-1 kernel:[34315.166784]  io_schedule+0x42/0x70`): the printk
    // time says where the kernel's own line begins.
    if (this.sawTrace && !this.sawEnd) {
      const glued = GLUED_STAMP.exec(text);
      if (glued && glued.index > 0) {
        const fl = parseFrameLine(glued[1]);
        if (fl && fl.frames.length > 0) return this.classify(glued[1]);
      }
    }
    return 'ended';
  }

  private takeTask(task: TaskInfo): LineVerdict {
    const r = this.report;
    if (this.owner && r.blocker && r.blocker.ownerTask === null) {
      r.blocker.ownerTask = task;
      return 'taken';
    }
    // A task line without ppid (abridged, or wrapped after pid:N) gives way to its whole form.
    const partial = r.state !== null && r.ppid === null && r.tgid === null && r.flags === null;
    if ((r.state === null || partial) && !this.sawTrace) {
      r.state = task.state;
      r.ppid = task.ppid;
      r.tgid = task.tgid;
      r.flags = task.flags;
      return 'taken';
    }
    // A second task line with no blocker line before it starts something else (a sysrq-w dump).
    return 'ended';
  }

  /** Finishes the report. */
  finish(): TaskReport[] {
    if (this.headerless && this.report.frames.length === 0) return [];
    return [this.finishOne()];
  }

  finishOne(): TaskReport {
    const r = this.report;
    const frames = r.frames;
    if (this.sawTaskMarker && !this.sawEnd) {
      // <TASK> opened and never closed: cut, unless it got as far as the entry from user space or
      // the start of the thread (only the register lines after it are missing).
      const last = [...frames].reverse().find((f) => f.context === 'task' && !f.unreliable);
      r.truncated = !last || !TASK_BOTTOM.test(last.fn);
    } else if (this.sawTrace && !this.sawEnd && !this.sawUserRegs) {
      const task = frames.filter((f) => f.context === 'task');
      const reliable = task.filter((f) => !f.unreliable);
      // The bottom frame may carry a `?` (2.6 i386, all-`?` traces): the last two frames count.
      const tail = (reliable.length > 0 ? [...reliable.slice(-1), ...task.slice(-2)] : task.slice(-2));
      r.truncated = !tail.some((f) => isBottomFrame(f.fn));
    }
    return r;
  }

  /** Stray lines absorbed inside the trace (an unrelated message, a typo in a paste). */
  strays = 0;

  /** Records a stray line that more frames followed. */
  absorb(raw: string): void {
    this.strays++;
    if (this.report.lines.length < LIMITS.lines) this.report.lines.splice(this.report.lines.length - 1, 0, clip(raw));
  }
}

export function clip(raw: string): string {
  return raw.length > LIMITS.lineLength ? raw.slice(0, LIMITS.lineLength) : raw;
}
