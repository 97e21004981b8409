/**
 * The kernel's other problem reports, by the kinds SPEC.md names: soft and hard lockups, RCU
 * stalls, oopses, BUGs, WARNINGs, OOM kills and panics. Each opens with a line of its own, then
 * prints one or more stack dumps in the same shape:
 *
 *   watchdog: BUG: soft lockup - CPU#1 stuck for 26s! [ksoftirqd/1:23]      the first line (parseCrashStart)
 *   Modules linked in: ...                                                    (wrapped onto more lines)
 *   CPU: 1 PID: 23 Comm: ksoftirqd/1 Tainted: G  L  6.0.6-generic #2          a dump: CPU, task, release
 *   Hardware name: ...   RIP: 0010:fn+0x1/0x2 [mod]   RSP: ...  Code: ...     where the CPU was, registers
 *   Call Trace: / <IRQ> ... </IRQ> / frames / </TASK>                         the trace (frame.ts)
 *   ---[ end trace 0123456789abcdef ]---                                      the end, where printed
 *
 * An RCU stall or a hard lockup prints the dumps of several CPUs (`NMI backtrace for cpu 3`,
 * `Task dump for CPU 3:`): the report keeps the one of the CPU it names. An OOM kill prints the
 * invoking task's dump, memory tables and a task list, and ends with the `Killed process` line.
 *
 * None of them is a hung task (issue 2): `CrashBuilder` gives reports of their own kinds, with
 * `crash` saying what the first line and the body told. Pure and synchronous: no I/O, no clock.
 */
import { stuckInInterrupt } from '../src/fingerprint.js';
import { parseFrameLine } from './frame.js';
import {
  ARM_DUMP, CALL_TRACE, callTraceFrame, clip, CODE_PIECE, dumpTainted, ELISION, FrameCollector, isBottomFrame, LIMITS, parseTaskLine,
  REGISTERS, STACK_WORDS, type Builder, type LineVerdict,
} from './hung-task.js';
import { CAUGHT_KINDS, newReport, type CrashInfo, type CrashKind, type Frame, type KernelLine, type TaskRef, type TaskReport } from './record.js';

/**
 * Substrings of every first line parseCrashStart() reads: a line without one never opens a report
 * (the assembler dismisses it undecoded while nothing is open).
 */
export const CRASH_NEEDLES: readonly string[] = [
  'soft lockup', 'hard LOCKUP', 'detected stall', 'detected expedited stall', 'RCU detected CPU', 'invoked oom-killer',
  'Killed process', 'BUG: ', 'BUG at ', 'nable to handle kernel', 'general protection fault',
  'WARNING: CPU: ', 'WARNING: at ', ', CPU#', 'Kernel panic - not syncing', 'Oops', 'Internal error: ', 'invalid opcode: ',
  // s390 program checks (`illegal operation: 0001 ilc:1 [#1]`), LoongArch/MIPS die() (`Kernel ade access[#1]:`, `... in kernel code[#1]:`).
  ' ilc:', 'access[#', 'kernel code[#',
];

/** What a first line says. */
export interface CrashStart extends Pick<CrashInfo, 'what' | 'cpu' | 'seconds' | 'ip' | 'location' | 'address' | 'rcu'> {
  kind: CrashKind;
  /**
   * Opens a report only when none is open in the stream; otherwise a line of the open one
   * (`Oops: 0000 [#1] SMP` after `BUG: unable to handle kernel NULL pointer dereference`).
   */
  weak: boolean;
  task: string | null;
  pid: number | null;
  /** An OOM kill line alone (no `invoked oom-killer` line of its stream before it): a report of one line. */
  oomKill: { victim: TaskRef; memcg: boolean } | null;
  /** Told by a panic line (a lockup under hardlockup_panic up to 4.4): its dump is the panic's. */
  panicked?: boolean;
}

// What may stand before a first line: a subsystem's prefix (`watchdog: `, `NMI watchdog: `,
// `rcu: `), a quoting `>`. Nothing else: prose that mentions a report is no report.
// (6.13+ says which CPU noticed a hard lockup: `CPU3: Watchdog detected hard LOCKUP on cpu 5`.)
const PFX = String.raw`^[\s>]*(?:(?:NMI watchdog|watchdog|rcu|kernel|Oops):\s+)?(?:CPU\d+:\s+)?`;

/** What may stand before an oops line found inside the text (`Oops: general protection fault`): a prefix of PFX, no prose (`Subject: Re: BUG: ...`). */
const LEAD = new RegExp(PFX + '$');
const SOFT = new RegExp(PFX + String.raw`BUG: soft lockup (?:- CPU#(\d+) stuck for (\d+)s!(?:\s+\[(.*):(\d+)\])?|detected on CPU#(\d+)!)`);
const HARD = new RegExp(PFX + String.raw`(?:Watchdog detected hard LOCKUP on cpu (\d+)|CPU (\d+) self-detected hard LOCKUP @ (\S+))`);
// (A mail client may wrap the line after `on`: `... detected expedited stalls on` / `CPUs/tasks: { 1-.... }`.)
const RCU = new RegExp(PFX + String.raw`INFO: (\S+) (?:self-detected stall|detected (?:expedited )?stalls?) on(?:\s+(?:CPUs/tasks|tasks|CPU)\b:?\s*(.*)|\s*)$`);
const RCU_OLD = new RegExp(PFX + String.raw`INFO: RCU detected CPU (\d+) stall`);
// (The leading blanks are taken whole, never given back to the name: the name tried from each of
// them took a line of blanks n^2 steps. The name is trimmed anyway.)
const OOM_INVOKE = /^(?=(\s*))\1(.+?) invoked oom-killer: gfp_mask=0x[0-9a-f]+/;
/** `Out of memory: Killed process 7788 (bash) total-vm:...`, 2.6.18 `Killed process 1234, UID 0, (java).`, 3.x/4.x `Kill process N (x) score S or sacrifice child`. */
const OOM_KILL = /^\s*(?:(Memory cgroup out of memory|Out of memory(?: \([^)]*\))?): )?(Kill(?:ed)?|kill) process (\d+),? (?:UID \d+, )?\((.{0,64}?)\)(?=[\s.,]|$)(.*)$/;
/** What follows the name (a task's, 15 bytes at most) on a kill line of 2.6.x-4.18, which says no `Out of memory:` first: its sizes, or nothing (2.6.18 `(java).`). */
const KILL_TAIL = /^(?:,? (?:total-vm|vsz):\d+kB|\.?\s*$)/;
const OOPS_STARTS: readonly [RegExp, string][] = [
  [/BUG: unable to handle kernel (NULL pointer dereference|paging request) at (\S+)/, ''],
  [/BUG: kernel NULL pointer dereference, address: (\S+)/, 'kernel NULL pointer dereference'],
  [/BUG: unable to handle page fault for address: (\S+)/, 'unable to handle page fault'],
  [/BUG: Kernel NULL pointer dereference (?:on (?:read|write) )?at (\S+)/, 'kernel NULL pointer dereference'],
  [/BUG: Unable to handle kernel (?:data|instruction) (?:access|fetch)(?: \(NULL pointer\?\))?(?: on (?:read|write))?(?: at (\S+))?/, 'unable to handle kernel access'],
  [/Unable to handle kernel (NULL pointer dereference|paging request|[\w -]{4,60}?) at virtual address (\S+)/, ''],
  [/Unable to handle kernel pointer dereference in virtual \w+ address space/, 'unable to handle kernel pointer dereference'],
  // sparc64 (fault_64.c) says no address: `Unable to handle kernel NULL pointer dereference`.
  [/Unable to handle kernel NULL pointer dereference\s*$/, 'kernel NULL pointer dereference'],
  // powerpc before 4.19 (bad_page_fault): `Unable to handle kernel paging request for data at address 0x00000000`.
  [/Unable to handle kernel paging request for (?:data|instruction fetch|unknown fault) at address (\S+)/, 'unable to handle kernel paging request'],
  [/general protection fault(?:, (?:probably|maybe) for (?:non-canonical )?address (0x[0-9a-f]+))?: [0-9a-f]{4,} \[#\d+\]/, 'general protection fault'],
];
/** Lines that only open an oops where nothing is open (they follow the first line of one). */
// sparc64 die_if_kernel() leads with the task: `systemd(1): Oops [#1]`; m68k prints no counter: `Oops: 00000000`.
const WEAK_OOPS = new RegExp(PFX + String.raw`(?:([^\s()][^()]{0,15})\((\d+)\): )?(Oops|Internal error: Oops(?: - BUG)?|invalid opcode)\b(?:[^\n]*\[#\d+\]|: [0-9a-f]{8}\s*$)`);
/**
 * Other die() strings, which only open an oops where nothing is open, as WEAK_OOPS: s390 program
 * checks `illegal operation: 0001 ilc:1 [#1]` (`specification exception`, `addressing exception`,
 * `translation specification exception`, `Kernel stack overflow`, ...: `%s: %04x ilc:%d [#%d]`),
 * LoongArch and MIPS `Kernel ade access[#1]:`, `Kernel ale access`, `Unhandled kernel unaligned access`,
 * `Reserved instruction in kernel code`, `Break instruction in kernel code`, `FP exception in kernel code`.
 */
const DIE_OOPS = new RegExp(PFX + String.raw`(?:[A-Za-z][\w -]{2,60}: [0-9a-f]{4} ilc:\d \[#\d+\]|(?:Kernel a[dl]e|Unhandled kernel unaligned) access\[#\d+\]:|[A-Za-z][\w ]{2,40} in kernel code\[#\d+\]:)`);
const KERNEL_BUG_AT = new RegExp(PFX + String.raw`[Kk]ernel BUG at (\S+?)!?\s*$`);
const SANITIZER = new RegExp(PFX + String.raw`BUG: (KASAN|KFENCE|KCSAN|KMSAN): (.+?) in (\S+)`);
// (Read after the first `BUG: ...` of the line only, by afterFirst(): what follows a later one
// also follows the first.)
const SCHED_ATOMIC = [/BUG: scheduling while atomic: /, /(.+)\/(\d+)\/0x[0-9a-f]+/y] as const;
const WQ_LOCKUP = [/BUG: workqueue lockup - pool /, /.* stuck for (\d+)s!/y] as const;
const BUG_GENERIC = new RegExp(PFX + String.raw`BUG: (.+)$`);
/** The task of `Bad page state in process NAME  pfn:...` / `Bad page map in process NAME  pte:... pmd:...` (a name may hold blanks). */
const BAD_PAGE_TASK = /^Bad page (?:state|map) in process (.{1,16}?) {1,2}(?:pfn|pte):/;
const WARN_CPU = new RegExp(PFX + String.raw`WARNING: CPU: (\d+) PID: (\d+) at (.*)$`);
const WARN_OLD = new RegExp(PFX + String.raw`WARNING: at (\S+:\d+ .*)$`);
/** 6.19+: `WARNING: kernel/foo.c:12 at fn+0x1/0x2, CPU#3: comm/123` (the comm may hold a `/`: the pid is after the last). */
const WARN_NEW = new RegExp(PFX + String.raw`WARNING: (\S+:\d+) at (\S+(?: \[[\w-]+\])?), CPU#(\d+): (.+)/(\d+)\s*$`);
const PANIC = new RegExp(PFX + String.raw`Kernel panic - not syncing:?\s*(.*)$`);

/**
 * `tail` (sticky) read from the end of the first `lead` in `text`: what `lead` followed by `tail`
 * finds, without trying again from every later `lead`. Tried from each, a tail that runs to the
 * end of the line (`.*`, `(.+)`) made a line of repeated leads n^2 steps; where the first lead is
 * not followed by a matching tail, no later lead of the line is either (a line break aside).
 */
function afterFirst(text: string, [lead, tail]: readonly [RegExp, RegExp]): RegExpExecArray | null {
  const l = lead.exec(text);
  if (!l) return null;
  tail.lastIndex = l.index + l[0].length;
  return tail.exec(text);
}

/** A count as printed, or null beyond what a kernel prints. */
function num(digits: string | undefined): number | null {
  if (digits === undefined || digits.length > 10) return null;
  return Number(digits);
}

/** A function as a first line or a register line names it (`dev_watchdog+0x248/0x250`, `bar()`, `fn+0x1/0x2 [mod]`). */
/**
 * A register line without the source location that decode_stacktrace.sh appends to its function
 * (`RIP: 0010:smp_call_function_many_cond (kernel/smp.c:351 (discriminator 5))`).
 */
function withoutSource(text: string): string {
  if (!text.endsWith(')') || text.length > 512) return text;
  const m = /\s\([\w./+-]+:\d+(?::\d+)?(?: \(discriminator \d+\))?\)$/.exec(text);
  return m ? text.slice(0, m.index) : text;
}

export function frameOf(text: string): Frame | null {
  const s = text.trim().replace(/\(\)$/, '');
  const fl = parseFrameLine(s);
  const p = fl?.frames[0];
  if (p) return { fn: p.fn, offset: p.offset, size: p.size, module: p.module, unreliable: false, context: 'task' };
  const bare = /^([A-Za-z_.$][\w.$]*)$/.exec(s);
  return bare ? { fn: bare[1], offset: null, size: null, module: null, unreliable: false, context: 'task' } : null;
}

/** `file.c:123 fn+0x1/0x2 [mod]` after a WARNING's `at`: the location and the function. */
function warnedAt(rest: string): { location: string | null; ip: Frame | null } {
  // (Blanks are tried from the first of a run only, here and below: the match never starts inside
  // a run, and trying from each blank of a long one took n^2 steps.)
  const s = rest.replace(/(?<!\s)\s+\((?:Tainted: [^)]*|Not tainted)\)\s*$/, '').trim();
  const sp = s.indexOf(' ');
  const loc = sp < 0 ? s : s.slice(0, sp);
  const location = /:\d+$/.test(loc) ? loc : null;
  let fnText = location === null ? s : s.slice(loc.length).trim();
  // syzbot symbolises the function too: `fn+0x1/0x2 net/core/dev.c:1234`; decode_stacktrace.sh
  // writes `fn (kernel/rcu/tree.c:2800)`.
  fnText = fnText.replace(/(?<!\s)\s+[\w./+-]+:\d+$/, '');
  return { location, ip: fnText ? frameOf(fnText) ?? frameOf(fnText.split(' ')[0]) : null };
}

/** The few words a BUG line's text starts with: what it is, without pointers and counts. */
function bugWhat(text: string): string {
  let s = text;
  for (const stop of [' at ', ': ', ' in ', ', ', ' on ', ' (', ' - ', '!']) {
    const at = s.indexOf(stop);
    if (at > 0) s = s.slice(0, at);
  }
  s = s.replace(/(?<!\s)\s+(?:at|in|on)\s*$/, '');
  return s.replace(/\b(?:0x)?[0-9a-f]{6,}\b/g, 'X').replace(/\d+/g, 'N').slice(0, 80).trim();
}

function start(kind: CrashKind, what: string, more: Partial<CrashStart> = {}): CrashStart {
  return {
    kind, what, weak: false, task: null, pid: null, cpu: null, seconds: null, ip: null, location: null, address: null,
    rcu: null, oomKill: null, ...more,
  };
}

/** The stalled CPUs of an RCU stall line: `{ 1 3}`, `{ 2-.... }`, `1-...!: (...)`. */
function stalledCpus(text: string): number[] {
  // (From the first `{` only: tried from each, a line of `{` took n^2 steps.)
  const m = /^[^{]*\{([^}]*)\}/.exec(text);
  if (!m) return [];
  const out: number[] = [];
  for (const t of m[1].matchAll(/(?:^|\s)(\d+)(?=-|\s|$)/g)) out.push(Number(t[1]));
  return out;
}

/** An oops's first line (OOPS_STARTS) at the start of the kernel's text, or null. */
function oopsStart(text: string): CrashStart | null {
  for (const [re, what] of OOPS_STARTS) {
    const m = re.exec(text);
    if (m && LEAD.test(text.slice(0, m.index))) {
      const said = what || (m[1] === 'NULL pointer dereference' ? 'kernel NULL pointer dereference' : `unable to handle kernel ${m[1]}`);
      return start('oops', said, { address: m[2] ?? m[1] ?? null });
    }
  }
  return null;
}

/**
 * Words of a person, not of the kernel: a line pasted without any envelope that holds them after
 * `BUG: ` or `Kernel panic - not syncing: ` is prose about a report (`BUG: I think this is a
 * regression`), not its first line.
 */
const PROSE = /\b(?:I|I'm|I've|we|you|my|our|think|seems?|anyone|please|help|why|how|what|says?|said|screen|here|there|regression)\b/i;

/**
 * What a line opens, or null when it opens none of the other reports. `pasted`: the line came
 * without any envelope (no time, host or caller), as text in a mail or a post does.
 */
export function parseCrashStart(text: string, pasted = false): CrashStart | null {
  if (text.length > 1024) return null;
  let m: RegExpExecArray | null;
  if (text.includes('BUG: ')) {
    if (text.includes('soft lockup') && (m = SOFT.exec(text))) {
      const cpu = num(m[1] ?? m[5]);
      return start('soft_lockup', 'soft lockup', { cpu, seconds: num(m[2]), task: m[3] ?? null, pid: num(m[4]) });
    }
    const oops = oopsStart(text);
    if (oops) return oops;
    if ((m = SANITIZER.exec(text))) return start('bug', `${m[1]}: ${bugWhat(m[2])}`, { ip: frameOf(m[3]) });
    if ((m = afterFirst(text, SCHED_ATOMIC)) && BUG_GENERIC.test(text)) return start('bug', 'scheduling while atomic', { task: m[1], pid: num(m[2]) });
    if ((m = afterFirst(text, WQ_LOCKUP)) && BUG_GENERIC.test(text)) return start('bug', 'workqueue lockup', { seconds: num(m[1]) });
    if ((m = BUG_GENERIC.exec(text)) && !(pasted && PROSE.test(m[1]))) {
      // A soft lockup's first line cut by a mail client before its CPU and seconds.
      if (m[1].startsWith('soft lockup')) return start('soft_lockup', 'soft lockup');
      // An oops's first line cut before its address (`BUG: unable to handle kernel NULL pointer`).
      if (/^(?:unable to handle (?:kernel|page fault)|kernel NULL pointer dereference)\b/.test(m[1])) {
        const what = /NULL pointer/.test(m[1]) ? 'kernel NULL pointer dereference' : m[1].startsWith('unable to handle page fault') ? 'unable to handle page fault'
          : m[1].startsWith('unable to handle kernel paging') ? 'unable to handle kernel paging request' : 'oops';
        return start('oops', what);
      }
      const loc = /\bat ([\w./+-]+:\d+)/.exec(m[1]);
      // mm's bad_page() and print_bad_pte() name the current task: `Bad page state in process fio  pfn:11e38c`.
      const proc = BAD_PAGE_TASK.exec(m[1]);
      return start('bug', bugWhat(m[1]), { location: loc ? loc[1] : null, task: proc ? proc[1] : null });
    }
  }
  if (text.includes('BUG at ') && (m = KERNEL_BUG_AT.exec(text))) return start('bug', 'kernel BUG', { location: m[1] });
  if (text.includes('nable to handle kernel') || text.includes('general protection fault')) {
    if (text.includes('traps: ')) return null;
    const oops = oopsStart(text);
    if (oops) return oops;
  }
  if (text.includes('hard LOCKUP') && (m = HARD.exec(text))) {
    // powerpc names where the CPU was: `CPU 3 self-detected hard LOCKUP @ fn+0x1/0x2`.
    return start('hard_lockup', 'hard lockup', { cpu: num(m[1] ?? m[2]), ip: m[3] ? frameOf(m[3]) : null });
  }
  if (text.includes('detected') && (m = RCU.exec(text))) {
    const flavour = m[1].replace(/_state$/, '');
    return start('rcu_stall', 'RCU stall', { rcu: { flavour, cpus: stalledCpus(m[2] ?? '') } });
  }
  if (text.includes('RCU detected CPU') && (m = RCU_OLD.exec(text))) {
    const cpu = Number(m[1]);
    return start('rcu_stall', 'RCU stall', { cpu, rcu: { flavour: null, cpus: [cpu] } });
  }
  if (text.includes('invoked oom-killer') && (m = OOM_INVOKE.exec(text))) {
    return start('oom_kill', 'OOM kill', { task: m[2].trim().replace(/^>\s*/, '') });
  }
  // A kill line alone (a priority filter kept only the KERN_ERR lines of an OOM; before 4.19 the
  // dump was printed only as often as a ratelimit let it, so a run of OOM kills left the choice
  // and the kill line alone): the kill, not the choice before it (`Kill process N (x) score S or
  // sacrifice child`, which a `Killed process` line follows, or nothing when the choice failed).
  // Before 4.19 the kill line has no `Out of memory:` of its own: whether a cgroup's, unknown.
  if (text.includes('Killed process') && (m = OOM_KILL.exec(text)) && m[2] === 'Killed' && (m[1] !== undefined || (m[4].length <= 16 && KILL_TAIL.test(m[5])))) {
    const pid = num(m[3]);
    // Weak: the kill line of an OOM report being read is its last line, not a report of its own.
    if (pid !== null) return start('oom_kill', 'OOM kill', { weak: true, oomKill: { victim: { task: m[4], pid }, memcg: m[1]?.startsWith('Memory cgroup') ?? false } });
  }
  if (text.includes('WARNING: ')) {
    if ((m = WARN_NEW.exec(text))) {
      return start('warning', 'WARNING', { location: m[1], ip: frameOf(m[2]), cpu: num(m[3]), task: m[4], pid: num(m[5]) });
    }
    if ((m = WARN_CPU.exec(text))) {
      const at = warnedAt(m[3]);
      return start('warning', 'WARNING', { cpu: num(m[1]), pid: num(m[2]), ...at });
    }
    if ((m = WARN_OLD.exec(text))) return start('warning', 'WARNING', warnedAt(m[1]));
  }
  if (text.includes('Kernel panic') && !text.includes('---[ end ') && (m = PANIC.exec(text)) && !(pasted && PROSE.test(m[1]))) {
    // Up to 4.4, hardlockup_panic made the lockup's own line a panic's reason (watchdog_overflow_callback):
    // the lockup, told only so (RHEL 7's default).
    const hard = /^Watchdog detected hard LOCKUP on cpu (\d+)/.exec(m[1]);
    if (hard) return start('hard_lockup', 'hard lockup', { cpu: num(hard[1]), panicked: true });
    return start('panic', `kernel panic: ${m[1].trim().slice(0, 120) || 'no reason given'}`);
  }
  if ((m = WEAK_OOPS.exec(text))) {
    const what = m[3] === 'invalid opcode' ? 'invalid opcode' : m[3].endsWith('BUG') ? 'kernel BUG' : 'oops';
    return start(m[3].endsWith('BUG') ? 'bug' : 'oops', what, { weak: true, task: m[1] ?? null, pid: num(m[2]) });
  }
  if ((text.includes(' ilc:') || text.includes('access[#') || text.includes('kernel code[#')) && DIE_OOPS.test(text)) return start('oops', 'oops', { weak: true });
  return null;
}

/** One stack dump in a report: the CPU and task it is of, where the CPU was, and its trace. */
interface Dump {
  cpu: number | null;
  task: string | null;
  pid: number | null;
  ip: Frame | null;
  /** The registers printed again after an interrupt's frames: where the interrupted task was (NMI backtraces). */
  taskIp: Frame | null;
  /** The link register's function: the caller of where the CPU was. */
  lr: Frame | null;
  frames: FrameCollector;
  sawTrace: boolean;
  /** `</TASK>` closed it, or it went down to its bottom frame. */
  ended: boolean;
  /** The RCU grace-period kthread's stack, printed after `RCU grace-period kthread stack dump:`: never the stalled task. */
  gpKthread: boolean;
}

function newDump(cpu: number | null = null): Dump {
  return { cpu, task: null, pid: null, ip: null, taskIp: null, lr: null, frames: new FrameCollector(), sawTrace: false, ended: false, gpKthread: false };
}

/** `CPU: 3 PID: 404 Comm: khungtaskd Not tainted 3.10.0-957.el7.x86_64 #1`, 6.x `CPU: 3 UID: 0 PID: ...`. */
// (A mail client may wrap it after `Not tainted`: the release is on the next line.)
const DUMP_CPU = /^\s*CPU: (\d+) (?:UID: \d+ )?PID: (\d+) Comm: (.{1,16}?)(?:\s+Kdump: loaded)?(?:\s+(?:Not tainted|Tainted:)(?:\s.*)?)?\s*$/;
/** 2.6: `Pid: 982, comm: kswapd1 Tainted: G  2.6.18-164.el5 #1`. */
const DUMP_PID = /^\s*Pid: (\d+), comm: +(.{1,16}?)(?:\s+(?:Not tainted|Tainted:)(?:\s.*)?)?\s*$/;
/** RHEL 5 prints the CPU alone before the registers: `CPU 1:`. */
const CPU_ALONE = /^\s*CPU(?: |:\s+)(\d+):?\s*$/;
const NEW_DUMP = /^\s*(?:NMI backtrace for cpu (\d+)|Task dump for CPU (\d+):|CPU: (\d+) PID: \d+ Comm: |Sending NMI from CPU \d+ to CPUs)/;
/** Where the CPU was. x86 `RIP: 0010:fn+0x1/0x2`, `RIP: 0010:[<ffffffff8101>]  [<ffffffff8101>] fn+...`, 3.x `IP: [<...>] fn`, i386 `EIP is at fn`, arm `PC is at fn`, arm64 `pc : fn`, ppc `NIP [c000...] fn`, s390 `Krnl PSW : ... (fn+0x2a/0x40)`, MIPS/RISC-V `epc : fn`, LoongArch `ERA: 9000... fn`, m68k `PC: [<001074c2>] fn`. */
/** The caller where the CPU's own address names nothing (powerpc `NIP [0000000000000000] 0x0`): ppc `LR [c000...] fn`, arm64 `lr : fn`, arm `LR is at fn`, MIPS/RISC-V/LoongArch `ra : fn`. */
// (One run of blanks before the function: two in a row took a line of blanks n^2 steps.)
const LR_LINE = /^\s*(?:LR \[[0-9a-f]+\]|lr : (?:\[<[0-9a-f]+>\])?|LR is at|ra\s*: (?:[0-9a-f]{8,16} )?)\s*(\S+)/;
/** sparc64 `TPC: <fn+0x204/0x2e0>` (where the CPU was), `I7: <fn+...>` (the caller), `RPC: <fn+...>` (the return address). */
const SPARC_PC = /^\s*(TPC|I7|RPC): <([^<>\s]+)>\s*$/;
// (After the function the blanks are taken whole, and not tried again from inside a run of them:
// `([^()]*?)\)?\s*(?:\s+lr : .*)?$` tried each blank of a long run against the two blank runs
// after it, n^3 steps. What follows a run is read the same from its first blank.)
const IP_LINE = /^\s*(?:R?IP: (?:[0-9a-f]{4}:)?|EIP: (?:[0-9a-f]{4}:)?|EIP is at |PC is at |pc : |NIP |epc\s*: |ERA: |PC: |Krnl PSW : .*\()\s*(?:\[<?[0-9a-f]+>?\]\s*)*(?:[0-9a-f]{8,16}\s+)?([^\s()][^()]*?)(?!(?<=\s)\s)\)?(?=(\s*))\2(?:SS:ESP.*|(?<=\s)lr : .*)?$/;
/** The release old i386 and powerpc print in parentheses (`EFLAGS: 00010246   (2.6.9-42.ELsmp)`, `REGS: ... Not tainted  (4.18.0-80.el8.ppc64le)`). */
// Read from the line's end by parenRelease(): the pattern `(?:EFLAGS:|REGS:).*\(\s*(\d+\.\d+\.\d+[^\s)]*)\s*\)\s*$`
// tried every `(` after every `REGS:`, n^3 steps for a line of them.
const REGS_NEEDLE = /EFLAGS:|REGS:/;
const RELEASE_START = /\d+\.\d+\.\d+/y;
const LINE_BREAK = /[\n\r\u2028\u2029]/;

/**
 * The release old i386 and powerpc print in parentheses at a register line's end, as that pattern
 * read it: the last `(` whose rest is `( release )` and blanks, after an `EFLAGS:` or `REGS:` with
 * no line break between them.
 */
function parenRelease(text: string): string | null {
  const t = text.trimEnd();
  if (!t.endsWith(')')) return null;
  const u = t.slice(0, -1).trimEnd();
  // The release is the end of the last run without blanks and `)`: after a `(` inside that run, or
  // at its start after `(` and blanks.
  let k = u.length;
  while (k > 0 && u[k - 1] !== ')' && !/\s/.test(u[k - 1])) k--;
  const valid = (j: number): boolean => {
    RELEASE_START.lastIndex = j;
    return RELEASE_START.test(u);
  };
  let inRun = -1;
  for (let j = u.length - 1; j > k; j--) {
    if (u[j - 1] === '(' && valid(j)) {
      inRun = j;
      break;
    }
  }
  const before = u.slice(0, k).trimEnd();
  const atStart = k < u.length && before.endsWith('(') && valid(k) ? k : -1;
  // Where a line break stands between the two, the earlier one is read first (its `REGS:` is).
  const order = LINE_BREAK.test(u.slice(before.length, k)) ? [atStart, inRun] : [inRun, atStart];
  for (const j of order) {
    if (j < 0) continue;
    const open = j === inRun ? j - 1 : before.length - 1;
    let from = open;
    while (from > 0 && !LINE_BREAK.test(text[from - 1])) from--;
    if (REGS_NEEDLE.test(text.slice(from, open))) return u.slice(j);
  }
  return null;
}
// (The panic's reason takes its own trailing blanks: `[^\]]*\s*` split a run of blanks n ways.)
const END_MARK = /^\s*---\[ end (?:trace(?: [0-9a-f]+)?\s*|Kernel panic[^\]]*)\]---/;
/** `BUG: KASAN: slab-use-after-free in ` of two title lines: the same up to the function. */
function sameTitlePrefix(headline: string, what: string): boolean {
  const cut = (t: string): string => t.replace(/^.*?(?=(?:KASAN|KMSAN|KCSAN|KFENCE|UBSAN):)/, '').replace(/ in .*$/, '');
  const a = cut(headline);
  return a.length > 0 && a.includes(' ') && a === cut(what);
}

/**
 * The head of a stack the kernel recorded earlier and prints as evidence: KASAN's and KFENCE's
 * `Allocated by task 14184:` / `Freed by task 14179:` and work-creation stacks, KMSAN's `Uninit was
 * created at:`, page_owner's `page last allocated via order 0, ...` and `page last free pid 5810
 * tgid 5810 stack trace:`. Its frames are another task's past, not the report's trace.
 */
const RECORDED_STACK = /^\s*(?:(?:Allocated|Freed|allocated|freed) by task \d+(?: on cpu \d+ at [\d.]+s)?(?: \(.*\))?:|(?:Second to l|L)ast potentially related work creation:|(?:Second to l|L)ast call_rcu\(\):|Uninit was (?:created|stored to memory) at:|Local variable \S+ created at:|page (?:last )?allocated via |page last free (?:pid \d+ tgid \d+ )?stack trace:)/;
const MODULES = /^\s*Modules linked in:/;
/** A line of module names alone: the rest of a `Modules linked in:` line that was wrapped. */
// (Names separated by blanks, one way only: `(?:name\s*)+` split a word in exponentially many ways.
// No two blank runs in a row either: `\s*(?:[last unloaded: ...])?\s*$` split a run n ways.)
const MODULE_NAMES = /^\s*[\w-]+(?:\([A-Z+-]+\))?(?:\s+[\w-]+(?:\([A-Z+-]+\))?)*\s*(?:\[last unloaded: [^\]]*(?:\]\s*)?)?$/;
/** `Process java (pid: 1234, threadinfo ...)`, arm `Process swapper/0 (pid: 1, stack limit = 0x...)`. */
const PROCESS = /^\s*Process (.{1,16}) \(pid: (\d+),/;
/** The task a sanitizer or a might_sleep() check names: `Read of size 8 at addr ... by task java/1234`, `in_atomic(): 1, ..., pid: 12, name: java`. */
const BY_TASK = [/\bby task /, /(.+)\/(\d+)\s*$/y] as const;
const NAMED_PID = /\bpid: (\d+), name: (.{1,16})\s*$/;
/** RCU stall lines: `rcu: 	1-...!: (0 ticks this GP) ...`, `	(detected by 0, t=10502 jiffies, g=...)`. */
const RCU_CPU = /^\s*(?:rcu:\s+)?(\d+)-[^\s:]*:\s+\(/;
const OOM_CONSTRAINT = /oom-kill:constraint=CONSTRAINT_(\w+),/;
const TASK_MEMCG = /,(?:oom_memcg|task_memcg)=([^,]*),/;
const TASK_IN_MEMCG = /^\s*Task in (\S+) killed as a result of limit of (\S+)/;
const OOM_VICTIM = [/,task=/, /(.*),pid=(\d+),uid=\d+\s*$/y] as const;
/** What starts the line that sums an OOM kill up (4.19+), printed right before its kill line. */
export const OOM_CONSTRAINT_NEEDLE = 'oom-kill:constraint=';
/** The line's whole text: `oom-kill:constraint=CONSTRAINT_MEMCG,...,task=java,pid=4242,uid=1000`. */
const OOM_CONSTRAINT_LINE = /^\s*oom-kill:constraint=CONSTRAINT_\w+,/;

interface OomConstraint { constraint: string; memcg: string | null; victim: TaskRef | null }

/** What an `oom-kill:constraint=CONSTRAINT_X,...` text says: the constraint, the task's cgroup and the victim (`task=bash,pid=7788`). */
function readConstraint(text: string): OomConstraint | null {
  const m = OOM_CONSTRAINT.exec(text);
  if (!m) return null;
  const c = m[1].toLowerCase();
  const mg = TASK_MEMCG.exec(text);
  const v = afterFirst(text, OOM_VICTIM);
  return { constraint: c === 'none' ? 'global' : c, memcg: mg && mg[1] !== '(null)' ? mg[1] : null, victim: v ? { task: v[1], pid: Number(v[2]) } : null };
}

/** The OOM kill summed up by an `oom-kill:constraint=` line, or null when the line is none. */
export function parseOomConstraint(text: string): OomConstraint | null {
  return OOM_CONSTRAINT_LINE.test(text) ? readConstraint(text) : null;
}

/**
 * Lines of a report's body that are neither frames nor registers, by how they start: page table
 * walks, exception and abort details, the lockdep, KASAN and workqueue lines, the RCU stall lines,
 * trailers (`Kernel Offset:`, `note: ... exited with irqs disabled`).
 */
const BODY = new RegExp('^\\s*(?:\\\\x09)*(?:' + [
  'Modules linked in', 'Hardware name:', 'Workqueue:', 'task: [0-9a-f]', 'Process ', '#PF: ', 'PGD ', 'P4D ', 'PUD ', 'PMD ',
  String.raw`\*(?:pde|pdpt|pgd|pud|pmd|pte) = `, 'pgd = [0-9a-f]', String.raw`\[[0-9a-f]+\] \*pgd=`, 'last sysfs file:',
  String.raw`(?:(?:PREEMPT|SMP|DEBUG_PAGEALLOC)\s*)+$`, 'Oops', 'Internal error:', 'invalid opcode:', 'Mem abort info:', 'Data abort info:',
  String.raw`(?:ESR|EC|SET|EA|FSC|IL|FnV|S1PTW|ISV|ISS|ISS2|CM|WnR|TnD|TagAccess|GCS|Overlay|DirtyBit|Xs|LST) = `, 'Access size',
  'user pgtable:', 'swapper pgtable:', String.raw`\[[0-9a-f]+\] (?:pgd=|user address|address between)`, 'Kernel Offset:', 'CR2:',
  'Thread overran stack', 'Dumping ftrace buffer:', String.raw`\(ftrace buffer empty\)`, 'irq event stamp:', 'hardirqs last', 'softirqs last',
  'pstate:', 'Flags: ', 'Control: ', 'Stack:', 'PKRU:', '->state=', String.raw`\d+-\S*: \(`, 'Instruction dump:', 'Faulting instruction address:', 'REGS: ', 'MSR: ', 'CFAR: ', 'DAR: ',
  'DSISR: ', 'IRQMASK: ', 'eax: ', 'esi: ', 'ds: ', 'printing eip:', '[0-9a-f]{8}\\s*$', '(?:LE|BE) PAGE_SIZE=', 'SMP NR_CPUS=', 'Krnl GPRS:', 'Krnl Code:', String.raw`[>#]?[0-9a-f]{8,16}: [0-9a-f]`,
  // MIPS `Status: 1000fc03 KERNEL EXL IE`, `Cause : 5080801c (ExcCode 07)`, `BadVA : ...`, `PrId  : 00019374 (MIPS 24Kc)`;
  // LoongArch `CRMD: 000000b0 (...)`, `ESTAT: 000c0000 [BRK] (...)`, `BADV: ...`, `PRID: 0014d000 (...)`; sparc64 `Caller[...]: fn`.
  String.raw`(?:Status|Cause|BadVA|PrId|CRMD|PRMD|EUEN|ECFG|ESTAT|BADV|PRID)\s*: [0-9a-f]{8}`, String.raw`Caller\[[0-9a-f]+\]: `,
  // sparc64: `tsk->{mm,active_mm}->context = ...`, the die_if_kernel() picture, `systemd(1): Oops [#1]`.
  String.raw`tsk->\{mm,active_mm\}`, String.raw`\\\|/ ____ \\\|/`, String.raw`"@'/ \.\. \\\x60@"`, String.raw`/_\| \\__/ \|_\\`, String.raw`\\__U_/`,
  String.raw`[^\s()][^()]{0,15}\(\d+\): Oops`,
  // m68k `SR: 2010  SP: 38284958  a2: ...`, `Frame format=B ssw=...`, `baddr=...`, `Stack from 01199e48:`; z/VM CP messages (`01: HCPGSP2629I ...`).
  String.raw`SR: [0-9a-f]{4} +SP: `, 'Frame format=', String.raw`baddr=[0-9a-f]`, String.raw`Stack from [0-9a-f]{8}:`, String.raw`\d\d: HCP[A-Z]{3}\d{4}[A-Z] `,
  'Last Breaking-Event-Address:', 'Failing address:', 'Fault in ', 'AS:[0-9a-f]', String.raw`R:\d T:\d`, 'preempt_count:', String.raw`in_atomic\(\)`,
  'Preemption disabled at:', 'INFO: lockdep is turned off', String.raw`\d+ locks? held by `, String.raw`#\d+: [0-9a-f]{8,16} \(`, 'RCU nest depth:',
  'note: ', 'Fixing recursive fault', 'Shutting down cpus', 'Rebooting in ', 'Rebooting...', '(?:Read|Write) of size ', 'Allocated by task ', 'Freed by task ',
  'Last potentially related', 'Second to last potentially', 'The buggy address', 'page:[0-9a-f]', 'page: refcount', 'flags: 0x', 'raw: ', 'head: ',
  'page dumped because', 'page_owner ', 'Memory state around', String.raw`[>\s]?(?:0x)?[0-9a-f]{8,16}: (?:[0-9a-f]{2}|fc|fa|fb|fd|fe|00)(?: |$)`, String.raw`\^\s*$`,
  '={20,}', 'Disabling lock debugging', 'Showing busy workqueues', 'Showing backtraces', 'workqueue ', 'pwq ', 'in-flight: ', 'pending: ', 'delayed: ',
  'inactive: ', String.raw`pool \d+:`, 'rcu: ', String.raw`CPUs/tasks: \{`, String.raw`l=\d+:\d+-\d+:0x`, String.raw`\(detected by `, String.raw`\(t=\d+ jiffies`, 'Tasks blocked on ', 'blocking rcu_node',
  String.raw`\S+ kthread starved for `, 'Unless rcu_', 'RCU grace-period kthread stack dump', 'Stack dump where RCU', 'INFO: Stall ended',
  'All QSes seen', String.raw`\S+ kthread timer wakeup`, 'Possible timer handling issue', String.raw`\d+: \(\d+ (?:ticks|GPs)`, 'NMI backtrace for cpus',
  'Sending NMI from CPU', 'Task dump for CPU', 'NMI backtrace for cpu', 'lowmem_reserve', 'Mem-Info:', 'Kernel panic', 'softirqs', 'RSP <', 'EIP: \\[<',
  String.raw`RIP\s+\[<`, 'LR \\[', 'NIP \\[', 'PC is at', 'LR is at', 'Exception stack', 'Backtrace:', 'Function entered at', 'Call Trace', 'Call trace',
  'CPU: ', 'Tainted: ', 'Not tainted', 'Unable to handle kernel', 'Unable to handle', 'The following tasks', 'Showing all locks held',
  'NMI watchdog', 'watchdog: ', String.raw`CPU#\d+ Utilization every`, 'Detect HardIRQ Time exceeds', String.raw`#\d+:\s+\d+`, 'sched: RT throttling', 'clocksource:', 'Sched_ext:', 'Scheduler tracepoint', String.raw`\[\s*pid\s*\]`,
].join('|') + ')');

/**
 * An OOM report's lines between the dump and the kill line: memory counters, zones, free lists,
 * the task table, the cgroup's usage and stats. Printed in one go by the kernel, and long (a task
 * table has a row per process), so any line is taken there up to OOM_LINES, unless it is a boot
 * banner.
 */
const OOM_LINES = 100_000;

export class CrashBuilder implements Builder {
  private readonly report: TaskReport;
  private readonly info: CrashInfo;
  private readonly dumps: Dump[] = [];
  /** Its own panic came before its dump (setsOff): the one dump printed is its only if its CPU or task agrees. */
  private panicked = false;
  private readonly startLine: CrashStart;
  private cur: Dump | null = null;
  /** An end mark came, or an OOM kill line and what follows it: nothing more of it comes. */
  private closed = false;
  private killed = false;
  /** memory.oom.group's `Tasks in /x are going to be killed`: the kills of the rest of the group follow. */
  private groupKill = false;
  private lastModules = false;
  private inCode = false;
  /** s390's `Last Breaking-Event-Address:` came alone: the frame line after it is the branch source, not a frame of the trace. */
  private breakingEvent = false;
  /** Inside a recorded stack (RECORDED_STACK): its frames are not the report's. */
  private recorded = false;
  private taken = 0;
  private sawEndMark = false;
  /** A WARNING that turned out to be a hard lockup (turnsInto): its message line is taken. */
  private asLockup = false;
  /** Title lines still to take: the kernel's own after syzbot's `[inline]` ones (turnsInto). */
  private titleLines = 0;
  lastWasFrame = false;

  constructor(s: CrashStart, line: KernelLine, raw: string, source: { name: string; line: number }) {
    this.startLine = s;
    this.panicked = s.panicked === true;
    this.info = {
      headline: line.text.trim().slice(0, 240),
      what: s.what,
      cpu: s.cpu,
      ip: s.ip,
      location: s.location,
      address: s.address,
      rcu: s.rcu ? { flavour: s.rcu.flavour, cpus: [...s.rcu.cpus] } : null,
      oom: s.kind === 'oom_kill' ? { victim: s.oomKill?.victim ?? null, more: [], constraint: s.oomKill?.memcg ? 'memcg' : null, memcg: null } : null,
      seconds: s.seconds,
      message: [],
    };
    this.report = {
      ...newReport(s.kind, { task: s.task ?? '', pid: s.pid ?? -1, blockedSeconds: null, verb: null }, line, clip(raw), source, []),
      crash: this.info,
    };
    // A kill line alone is the whole report.
    if (s.oomKill) {
      this.killed = true;
      this.closed = true;
    }
  }

  beforeTrace(): boolean {
    return !this.closed && !this.dumps.some((d) => d.sawTrace);
  }

  /** The WARN()'s own message, printed before its `WARNING:` line (4.12+: see the assembler's CUT_HERE). */
  messageBefore(text: string, raw: string): void {
    if (this.info.message.length >= 4) return;
    this.info.message.unshift(text.trim().slice(0, 240));
    if (this.report.lines.length < LIMITS.lines) this.report.lines.unshift(clip(raw));
  }

  /** An OOM kill being read, before its kill line: its lines (the constraint line too) are its own. */
  awaitsKill(): boolean {
    return this.info.oom !== null && !this.killed;
  }

  /**
   * A kill line alone (a report of one line) takes the `oom-kill:constraint=` line printed right
   * before it when that line names the same victim: its constraint and memory cgroup.
   */
  constraintBefore(text: string, raw: string): boolean {
    const oom = this.info.oom;
    const c = parseOomConstraint(text);
    if (!oom || this.report.lines.length !== 1 || !c || c.victim === null || c.victim.pid !== oom.victim?.pid) return false;
    // The kill line says a memory cgroup's OOM itself (`Memory cgroup out of memory:`).
    if (oom.constraint === null) oom.constraint = c.constraint;
    oom.memcg = c.memcg;
    this.report.lines.unshift(clip(raw));
    return true;
  }

  /**
   * Whether `next` is the panic this lockup or stall sets off (softlockup_panic, hardlockup_panic,
   * panic_on_rcu_stall) before any dump of its own: the kernel then prints one dump, after the
   * panic line, and it is the dump of the CPU this report is about.
   */
  setsOff(next: CrashStart): boolean {
    const kind = this.report.kind;
    const ours = kind === 'soft_lockup' ? /soft ?lockup/i : kind === 'hard_lockup' ? /hard ?lockup/i : kind === 'rcu_stall' ? /RCU Stall/i : null;
    if (next.kind !== 'panic' || ours === null || this.closed || this.dumps.length > 0 || !ours.test(next.what)) return false;
    this.panicked = true;
    return true;
  }

  /**
   * Whether `next` is the message of this WARNING, which is then the hard lockup: from 2.6.36 to
   * 4.4 (RHEL 6 and 7, Ubuntu 14.04 and 16.04) watchdog_overflow_callback() told a hard lockup with
   * WARN(1, "Watchdog detected hard LOCKUP on cpu %d", cpu), so the WARNING line comes first and the
   * lockup's line is its message. The report becomes the hard lockup; its dump is the lockup's.
   */
  turnsInto(next: CrashStart): boolean {
    const info = this.info;
    // syzbot's symbolised reports put the inlined functions' title lines before the kernel's own
    // (`BUG: KASAN: slab-use-after-free in br_switchdev_fdb_populate net/bridge/br_switchdev.c:141
    // [inline]`, maybe more, then `... in br_switchdev_fdb_notify+0x30b/0x3e0 ...`): one report,
    // named by the kernel's line, as the same bug is without syzbot's.
    if (next.kind === this.report.kind && !this.closed && this.dumps.length === 0 && this.titleLines === 0
      && /\s\[inline\]\s*$/.test(info.headline) && sameTitlePrefix(info.headline, next.what)) {
      info.what = next.what;
      info.location = next.location;
      info.ip = next.ip ?? info.ip;
      info.address = next.address ?? info.address;
      this.titleLines++;
      return true;
    }
    if (next.kind !== 'hard_lockup' || this.report.kind !== 'warning' || this.closed || this.dumps.length > 0) return false;
    const atWatchdog = info.ip?.fn === 'watchdog_overflow_callback' || /(?:^|\/)kernel\/watchdog(?:_hld)?\.c:\d+$/.test(info.location ?? '');
    if (!atWatchdog) return false;
    this.report.kind = 'hard_lockup';
    info.what = next.what;
    if (next.cpu !== null) info.cpu = next.cpu;
    info.ip = null;
    info.location = null;
    info.message = [];
    this.asLockup = true;
    return true;
  }

  midTrace(): boolean {
    // An OOM kill before its kill line: follow mode waits for the rest of it as for a trace.
    if (this.info.oom && !this.killed) return true;
    const d = this.cur;
    if (this.closed || !d || !d.sawTrace || d.ended) return false;
    const f = d.frames.frames;
    return f.length > 0 && !isBottomFrame(f[f.length - 1].fn);
  }

  completeTrace(): boolean {
    return this.closed || (this.cur !== null && this.cur.frames.frames.length > 0 && !this.midTrace());
  }

  blank(): void {
    this.lastModules = false;
  }

  /**
   * A line passed over before the line taken last. Before the body, it is what a WARN() or BUG()
   * printed about itself (`NETDEV WATCHDOG: eth0 (e1000e): transmit queue 0 timed out`): the
   * assembler passes over one such line when the body follows it, and a line that nothing of the
   * report follows (the next boot's banner, another message) ends the report instead.
   */
  absorb(raw: string, text?: string): void {
    if (this.report.lines.length < LIMITS.lines) this.report.lines.splice(this.report.lines.length - 1, 0, clip(raw));
    // Only right after the first line of a WARNING, BUG or oops, before any of its dump.
    const asserts = this.report.kind === 'warning' || this.report.kind === 'bug' || this.report.kind === 'oops';
    if (text !== undefined && asserts && this.dumps.length === 0 && this.info.message.length < 4) this.info.message.push(text.trim().slice(0, 240));
  }

  push(text: string, raw: string): LineVerdict {
    this.lastWasFrame = false;
    const verdict = this.classify(text);
    if (verdict === 'taken') {
      this.taken++;
      if (this.report.lines.length < LIMITS.lines) this.report.lines.push(clip(raw));
    }
    return verdict;
  }

  private dump(): Dump {
    if (!this.cur) {
      this.cur = newDump();
      this.dumps.push(this.cur);
    }
    return this.cur;
  }

  /** A new dump begins (another CPU's, another task's), unless the current one has nothing yet. */
  private nextDump(cpu: number | null): Dump {
    const d = this.cur;
    if (d && !d.sawTrace && d.frames.frames.length === 0 && d.task === null && (d.cpu === null || d.cpu === cpu || cpu === null)) {
      if (cpu !== null) d.cpu = cpu;
      return d;
    }
    if (this.dumps.length >= 64) return this.dump();
    this.cur = newDump(cpu);
    this.dumps.push(this.cur);
    return this.cur;
  }

  private release(text: string): void {
    const r = this.report;
    if (r.kernel !== null) return;
    const t = dumpTainted(text);
    if (t) {
      r.kernel = t.release;
      r.logKernel = t.release;
      r.kernelSource = 'tainted';
      r.tainted = t.tainted;
      r.kernelPackage = t.pkg;
      return;
    }
    const p = parenRelease(text);
    if (p !== null) {
      r.kernel = p;
      r.logKernel = p;
      r.kernelSource = 'tainted';
    }
  }

  private classify(text: string): LineVerdict {
    const lastModules = this.lastModules;
    this.lastModules = false;
    const inCode = this.inCode;
    this.inCode = false;
    const breakingEvent = this.breakingEvent;
    this.breakingEvent = false;
    const info = this.info;
    if (this.closed) {
      // After an OOM kill line: the further kills of the same OOM (memory.oom.group) and the reaper's line.
      if (this.killed && this.oomLine(text)) return 'taken';
      return 'ended';
    }
    if (END_MARK.test(text)) {
      this.closed = true;
      this.sawEndMark = true;
      return 'taken';
    }
    if (info.oom && this.oomLine(text)) return 'taken';
    if (this.asLockup && this.dumps.length === 0 && HARD.test(text)) return 'taken';
    if (this.titleLines > 0) {
      this.titleLines--;
      info.headline = text.trim().slice(0, 240);
      return 'taken';
    }
    if (text.includes('RCU grace-period kthread stack dump')) {
      this.nextDump(null).gpKthread = true;
      return 'taken';
    }
    const fl = parseFrameLine(text) ?? callTraceFrame(text);
    // (Taken like a register line: where the CPU last branched from, which need not be a caller.)
    if (fl && breakingEvent && fl.frames.length === 1) return 'taken';
    if (fl && this.recorded && fl.frames.length > 0) return 'taken';
    this.recorded = RECORDED_STACK.test(text);
    if (this.recorded) return 'taken';
    if (fl) {
      const d = this.dump();
      d.frames.add(fl.markers, fl.frames);
      if (fl.frames.length > 0) {
        d.sawTrace = true;
        this.lastWasFrame = true;
        d.ended = isBottomFrame(fl.frames[fl.frames.length - 1].fn);
      }
      if (fl.markers.includes('</TASK>')) d.ended = true;
      return 'taken';
    }
    if (CALL_TRACE.test(text)) {
      this.dump().sawTrace = true;
      return 'taken';
    }
    let m: RegExpExecArray | null;
    if ((m = DUMP_CPU.exec(text)) || (m = DUMP_PID.exec(text))) {
      const cpuLine = m[0].trimStart().startsWith('CPU');
      const d = this.nextDump(cpuLine ? Number(m[1]) : null);
      d.pid = num(cpuLine ? m[2] : m[1]);
      d.task = (cpuLine ? m[3] : m[2]).trim();
      this.release(text);
      return 'taken';
    }
    if ((m = CPU_ALONE.exec(text))) {
      this.nextDump(Number(m[1]));
      return 'taken';
    }
    if ((m = NEW_DUMP.exec(text))) {
      const cpu = m[1] ?? m[2];
      if (cpu !== undefined) this.nextDump(Number(cpu));
      return 'taken';
    }
    const task = parseTaskLine(text);
    if (task) {
      const d = this.cur && this.cur.task === null && this.cur.frames.frames.length === 0 ? this.cur : this.nextDump(null);
      d.task = task.comm;
      d.pid = task.pid;
      return 'taken';
    }
    if ((m = SPARC_PC.exec(text))) {
      const d = this.dump();
      const f = frameOf(m[2]);
      if (m[1] === 'TPC' && f && d.ip === null) d.ip = f;
      else if (m[1] === 'I7' && f && d.lr === null) d.lr = f;
      return 'taken';
    }
    if ((m = LR_LINE.exec(text)) && this.cur && this.cur.lr === null) {
      this.cur.lr = frameOf(m[1]);
      return 'taken';
    }
    if ((m = IP_LINE.exec(withoutSource(text))) && !/^\s*RIP: 0033:/.test(text)) {
      const d = this.dump();
      const f = frameOf(m[1]);
      if (f && d.ip === null) d.ip = f;
      else if (f && d.taskIp === null && d.frames.frames.some((x) => x.context !== 'task')) d.taskIp = f;
      this.release(text);
      return 'taken';
    }
    if (REGISTERS.test(text)) {
      this.release(text);
      this.inCode = /^\s*Code:/.test(text);
      return 'taken';
    }
    if (inCode && CODE_PIECE.test(text)) {
      this.inCode = true;
      return 'taken';
    }
    if (MODULES.test(text)) {
      this.lastModules = true;
      return 'taken';
    }
    if (lastModules && MODULE_NAMES.test(text)) {
      this.lastModules = true;
      return 'taken';
    }
    if (BODY.test(text) || STACK_WORDS.test(text) || ARM_DUMP.test(text) || (this.cur?.sawTrace && ELISION.test(text))) {
      this.breakingEvent = /^\s*Last Breaking-Event-Address:\s*$/.test(text);
      this.notice(text);
      this.release(text);
      return 'taken';
    }
    return 'ended';
  }

  /** Body lines that name the task or the stalled CPUs. */
  private notice(text: string): void {
    const r = this.report;
    let m: RegExpExecArray | null;
    if (r.pid < 0) {
      if ((m = PROCESS.exec(text)) || (m = afterFirst(text, BY_TASK))) {
        r.task = m[1].trim();
        r.pid = Number(m[2]);
      } else if ((m = NAMED_PID.exec(text))) {
        r.task = m[2].trim();
        r.pid = Number(m[1]);
      }
    }
    const rcu = this.info.rcu;
    if (rcu && (m = RCU_CPU.exec(text)) && rcu.cpus.length < 256 && !rcu.cpus.includes(Number(m[1]))) rcu.cpus.push(Number(m[1]));
    // The first line's CPU list, wrapped onto a line of its own by a mail client.
    if (rcu && rcu.cpus.length === 0 && this.dumps.length === 0 && /^\s*CPUs\/tasks: \{/.test(text)) rcu.cpus.push(...stalledCpus(text.replace(/^\s*CPUs\/tasks:/, '')).slice(0, 256));
  }

  /**
   * A line of an OOM kill's body before its kill line, or the kill lines themselves: the
   * constraint and cgroup, the victim. Before the kill line any line is one of its tables.
   */
  private oomLine(text: string): boolean {
    const oom = this.info.oom!;
    let m: RegExpExecArray | null;
    if ((m = OOM_KILL.exec(text))) {
      const victim = { task: m[4], pid: Number(m[3]) };
      // `Kill process N (x) score S or sacrifice child` picks; `Killed process M (y)` (the child) is the kill.
      // After the kill, only a group's further kills are this OOM's: another kill line, or a
      // choice, is the next OOM's (whose dump a ratelimit dropped), and says nothing of this one.
      if (this.killed && (m[2] !== 'Killed' || !this.groupKill)) return false;
      if (m[1]?.startsWith('Memory cgroup')) oom.constraint = 'memcg';
      if (m[2] === 'Killed') {
        if (!this.killed) oom.victim = victim;
        else if (oom.more.length < 32 && (oom.victim?.pid !== victim.pid)) oom.more.push(victim);
        this.killed = true;
        this.closed = true;
      } else {
        oom.victim = victim;
      }
      return true;
    }
    // The reaper's line, and memory.oom.group's note before the kills of the rest of its group.
    if (/^\s*Tasks in \S+ are going to be killed/.test(text) && this.killed) {
      this.groupKill = true;
      return true;
    }
    if (/^\s*oom_reaper: reaped process/.test(text)) return this.killed;
    if (this.killed) return false;
    const c = readConstraint(text);
    if (c) {
      oom.constraint = c.constraint;
      if (c.memcg !== null) oom.memcg = c.memcg;
      // The victim is named here too (`task=bash,pid=7788,uid=0`): the kill line may be filtered out.
      if (c.victim && !oom.victim) oom.victim = c.victim;
      return true;
    }
    if ((m = TASK_IN_MEMCG.exec(text))) {
      oom.constraint = 'memcg';
      oom.memcg = m[2];
      return true;
    }
    // Frames, the dump and registers are read by classify(); the rest up to the kill line is the OOM's.
    if (parseFrameLine(text) || CALL_TRACE.test(text) || callTraceFrame(text) || DUMP_CPU.test(text) || DUMP_PID.test(text) || IP_LINE.test(withoutSource(text)) || REGISTERS.test(text)) return false;
    if (text.includes('Linux version ') || this.taken > OOM_LINES) return false;
    return true;
  }

  /** The dump the report is about: the CPU or task its first line names, else the first with a trace. */
  private primary(): Dump | null {
    const s = this.startLine;
    // An RCU stall prints its grace-period kthread's stack too (`rcu_preempt kthread starved`): not
    // the stalled CPU's, and when it is the only dump (`All QSes seen`), the stall names no task.
    const dumps = this.dumps.filter((d) => !d.gpKthread);
    let withTrace = dumps.filter((d) => d.frames.frames.length > 0 || d.ip !== null);
    const notKthread = withTrace.filter((d) => !/^rcu_/.test(d.task ?? ''));
    if (s.kind === 'rcu_stall' && notKthread.length > 0) withTrace = notKthread;
    const pool = withTrace.length > 0 ? withTrace : dumps;
    if (pool.length === 0) return null;
    if (s.pid !== null) {
      const byPid = pool.find((d) => d.pid === s.pid);
      if (byPid) return byPid;
    }
    const cpus = s.cpu !== null ? [s.cpu] : (this.info.rcu?.cpus ?? []);
    for (const cpu of cpus) {
      const byCpu = pool.find((d) => d.cpu === cpu);
      if (byCpu) return byCpu;
    }
    // A first line that names no CPU or task of a dump (a stall of tasks, a CPU that printed
    // nothing): the first dump with a trace. After a panic, only a dump of the CPU or task named.
    if (this.panicked && (s.pid !== null || cpus.length > 0)) return null;
    return pool[0];
  }

  finish(): TaskReport[] {
    const r = this.report;
    const info = this.info;
    const d = this.primary();
    if (d) {
      r.frames = d.frames.frames;
      if (r.pid < 0 && d.pid !== null && (r.task === '' || r.task === d.task)) {
        r.pid = d.pid;
        r.task = d.task ?? '';
      } else if (r.pid >= 0 && d.pid === r.pid && d.task && r.task === '') {
        // A WARNING's first line has the pid, its dump the name.
        r.task = d.task;
      }
      if (info.cpu === null) info.cpu = d.cpu;
      // A WARNING's or a sanitizer's first line names the function already. A lockup or a stall
      // caught the CPU in an interrupt: where the interrupted task was says more.
      if (info.ip === null) info.ip = (CAUGHT_KINDS.has(r.kind) && !stuckInInterrupt(d.frames.frames, r.kind === 'hard_lockup') ? d.taskIp : null) ?? d.ip;
      // A jump to address 0 (a NULL function pointer): the link register names who jumped. s390
      // prints it as the unreliable entry after the `0x0` one: `([<...>] full_proxy_read+0x4a/0xc0)`.
      if (info.ip !== null && /^0x0*$/.test(info.ip.fn)) {
        const fs = d.frames.frames;
        const at = fs.findIndex((f) => !f.unreliable && /^0x0*$/.test(f.fn));
        const caller = at >= 0 && at + 1 < fs.length && fs[at + 1].unreliable ? fs[at + 1] : null;
        if (d.lr !== null) info.ip = d.lr;
        else if (caller !== null) info.ip = { ...caller, unreliable: false };
      }
      const sawTrace = d.sawTrace && d.frames.frames.length > 0;
      // (An OOM's dump is followed by its tables: a kill line or a victim says it was whole.)
      r.truncated = sawTrace && !d.ended && !this.sawEndMark && !info.oom?.victim && !tailIsBottom(d.frames.frames);
    }
    return [r];
  }
}

function tailIsBottom(frames: readonly Frame[]): boolean {
  const task = frames.filter((f) => f.context === 'task');
  return task.slice(-2).some((f) => isBottomFrame(f.fn));
}
