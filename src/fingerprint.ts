/**
 * Frame normalisation, culprit selection, the human signature and the stable fingerprint of a
 * report. The fingerprint hashes only what names the problem (report kind, culprit function, wait
 * primitive), so it stays the same across hosts, pids, addresses, offsets, module-vs-built-in and
 * builds of one kernel series, and changes when the culprit does. Skip lists: frame-classes.ts.
 */
import { createHash } from 'node:crypto';
import { CAUGHT_KINDS, type CrashInfo, type Frame } from '../parsers/record.js';
import { CRASH_MACHINERY, CRASH_SPINS, ENTRY, INCIDENTAL, SCHEDULER, WAIT_PRIMITIVES } from './frame-classes.js';

// Compiler clone suffixes (gcc: .isra.N .constprop.N .part.N .cold .localalias; clang: .llvm.N),
// possibly stacked (`.constprop.0.isra.0`); `__pfx_` padding symbols (6.2+ with CFI/call depth
// tracking); the leading dot of powerpc64 ELFv1 symbols.
const CLONE_SUFFIXES = new Set(['isra', 'constprop', 'part', 'cold', 'llvm', 'lto_priv', 'localalias', 'clone', 'prop']);
const DIGITS = /^\d+$/;

const BASE62 = /[0-9a-zA-Z]/;

/**
 * The path of a Rust v0 symbol (`_RINvNtCs4gKlGRWyJ5S_4core3ptr13drop_in_place...`, as kallsyms
 * prints Rust functions): `core::ptr::drop_in_place`, without the crate hashes (which change with
 * every build) and without generic arguments. Null for shapes it does not follow (impl paths,
 * back references, punycode), which then stay as printed.
 */
function rustPath(sym: string): string | null {
  let pos = sym.charCodeAt(2) === 73 /* I */ ? 3 : 2;
  const skipDisambiguator = (): boolean => {
    if (sym[pos] !== 's') return true;
    pos++;
    while (pos < sym.length && BASE62.test(sym[pos])) pos++;
    return sym[pos++] === '_';
  };
  const ident = (): string | null => {
    let n = 0;
    const start = pos;
    while (pos < sym.length && sym.charCodeAt(pos) >= 48 && sym.charCodeAt(pos) <= 57) n = n * 10 + sym.charCodeAt(pos++) - 48;
    if (pos === start || n > sym.length) return null;
    if (sym[pos] === '_') pos++;
    const id = sym.slice(pos, pos + n);
    pos += n;
    return id.length === n ? id : null;
  };
  // Nested paths (`N` namespace, inner path, identifier) are read outside in, up to the crate root.
  const names: string[] = [];
  const kinds: string[] = [];
  while (sym[pos] === 'N') {
    kinds.push(sym[pos + 1] ?? '');
    pos += 2;
  }
  if (sym[pos++] !== 'C' || !skipDisambiguator()) return null;
  const root = ident();
  if (root === null) return null;
  names.push(root);
  for (let k = kinds.length - 1; k >= 0; k--) {
    if (!skipDisambiguator()) return null;
    const id = ident();
    if (id === null) return null;
    // Upper-case namespaces are the compiler's own: closures and shims.
    names.push(id !== '' ? id : kinds[k] === 'C' ? '{closure}' : `{${kinds[k]}}`);
  }
  return names.join('::');
}

export function normalizeFn(fn: string): string {
  let s = fn;
  if (s.startsWith('_R')) return rustPath(s) ?? s;
  if (s.charCodeAt(0) === 46 /* . */) s = s.slice(1);
  if (s.startsWith('__pfx_')) s = s.slice(6);
  if (!s.includes('.')) return s;
  // From the right: `.NAME` optionally followed by `.N` parts, as long as NAME is a clone suffix.
  // (A regex anchored at the end tried every dot as a start: quadratic on a hostile symbol.)
  const parts = s.split('.');
  let keep = parts.length;
  for (;;) {
    let k = keep;
    while (k > 1 && DIGITS.test(parts[k - 1])) k--;
    if (k > 1 && CLONE_SUFFIXES.has(parts[k - 1])) keep = k - 1;
    else break;
  }
  return keep === parts.length ? s : parts.slice(0, keep).join('.');
}

function listRegex(names: readonly string[]): RegExp {
  const alts = names.map((n) => n.replace(/[.+?^${}()|[\]\\]/g, '\\$&').replace(/\*/g, '.*'));
  return new RegExp(`^(?:${alts.join('|')})$`);
}

const SCHEDULER_RE = listRegex(SCHEDULER);
const ENTRY_RE = listRegex(ENTRY);
const INCIDENTAL_RE = listRegex(INCIDENTAL);
const PRIMITIVE_RES = WAIT_PRIMITIVES.map((p) => ({ label: p.label, re: listRegex(p.names) }));
const MACHINERY_RE = listRegex(CRASH_MACHINERY);
const SPIN_RES = CRASH_SPINS.map((p) => ({ label: p.label, re: listRegex(p.names) }));

/**
 * The functions of a detector that caught a CPU: the watchdog's timer or NMI, RCU's stall check in
 * the tick, the NMI backtrace, the dump itself. Printed among the interrupt frames (reliable, not `?`)
 * only where the detector dumped its own stack (dump_stack(), an NMI sent to itself).
 */
const CATCHING = /^(?:watchdog_timer_fn|watchdog_overflow_callback|watchdog_hardlockup_check|watchdog_buddy_check_hardlockup|watchdog_check_hardlockup\w*|softlockup_tick|rcu_sched_clock_irq|rcu_pending|rcu_check_callbacks|print_cpu_stall\w*|print_other_cpu_stall|check_cpu_stall\w*|rcu_dump_cpu_stacks|nmi_cpu_backtrace\w*|nmi_trigger_cpumask_backtrace|arch_trigger_cpumask_backtrace|dump_stack\w*|show_stack|dump_backtrace|sched_show_task|dump_cpu_task|panic|nmi_panic)$/;

/** The idle loop (CRASH_SPINS' `idle`): a CPU in it runs any runnable thread, the watchdog's too, unless an interrupt holds it. */
const IDLE_RE = SPIN_RES.find((p) => p.label === 'idle')!.re;

/**
 * Whether a lockup's or a stall's interrupt frames are where the CPU is stuck, not the interrupt
 * that caught it: the interrupted task is the idle loop (which would have let the watchdog's
 * thread run: only an interrupt, a softirq, can hold an idle CPU), and the detector's own frames
 * are nowhere among the interrupt's (show_regs() of the interrupted context, 3.x and later; at
 * most stale `?` entries). Then the first RIP and the interrupt frames say where it spins.
 */
export function stuckInInterrupt(frames: readonly Frame[], hard = false): boolean {
  const name = (f: Frame): string => f.fn.replace(/\..*$/, '');
  const irq = frames.filter((f) => (f.context === 'irq' || f.context === 'softirq') && !f.unreliable);
  if (irq.length === 0 || irq.some((f) => CATCHING.test(name(f)))) return false;
  // A hard lockup is caught by an NMI (`<NMI>` frames, or none printed): an interrupt handler in its
  // trace is where the CPU spins with interrupts off (irq_work signalling a fence chain), not the catcher.
  if (hard) return true;
  return frames.some((f) => f.context === 'task' && !f.unreliable && IDLE_RE.test(name(f)));
}

export interface Culprit {
  /** Normalised name of the innermost frame that says what hung, or null without a usable trace. */
  fn: string | null;
  module: string | null;
  /** The wait the task was in: 'rwsem read', 'mutex', 'page lock', ... or null. */
  primitive: string | null;
  /** Index of the culprit in the report's frames, or -1. */
  index: number;
}

/** Primitive label of a normalised frame name, or null. */
export function primitiveOf(fn: string): string | null {
  for (const p of PRIMITIVE_RES) if (p.re.test(fn)) return p.label;
  return null;
}

export type FrameClass = 'scheduler' | 'primitive' | 'entry' | 'incidental' | 'other';

export function classify(fn: string): FrameClass {
  if (SCHEDULER_RE.test(fn)) return 'scheduler';
  if (primitiveOf(fn) !== null) return 'primitive';
  if (ENTRY_RE.test(fn)) return 'entry';
  if (INCIDENTAL_RE.test(fn)) return 'incidental';
  return 'other';
}

/**
 * Frames that count: reliable, and on the task's own stack (not an interrupt printed inside it).
 * When the unwinder marked every frame `?` (frame-pointer-less builds, some ZFS and Xen guests:
 * samples/eras/4.5-all-frames-questionmark-*.log), the `?` frames are all there is, and are used.
 */
export function reliableTaskFrames(frames: readonly Frame[]): { frame: Frame; index: number; norm: string }[] {
  const out: { frame: Frame; index: number; norm: string }[] = [];
  frames.forEach((frame, index) => {
    if (!frame.unreliable && frame.context === 'task') out.push({ frame, index, norm: normalizeFn(frame.fn) });
  });
  if (out.length === 0) {
    frames.forEach((frame, index) => {
      if (frame.context === 'task') out.push({ frame, index, norm: normalizeFn(frame.fn) });
    });
  }
  return out;
}

/**
 * A `?` word that is a function's first byte (`fn+0x0/0x70`) or the byte after its last
 * (`? call_srcu+0x70/0x70`, the next function's start) is a function pointer left on the stack,
 * never a return address: it names no caller.
 */
function pointsAtFunctionEdge(f: Frame): boolean {
  if (!f.unreliable || f.offset === null) return false;
  const off = Number(f.offset);
  return off === 0 || (f.size !== null && off === Number(f.size));
}

export function findCulprit(frames: readonly Frame[]): Culprit {
  // A `?` word at a function's first byte or just past its end is never a return address.
  let usable = reliableTaskFrames(frames).filter((u) => !pointsAtFunctionEdge(u.frame));
  // A sleeping task's stack starts in the scheduler: anything printed above the first scheduler
  // or wait frame is a stale word of the stack (2.6 traces carry no `?`: stress/35), and in an
  // all-`?` trace the same holds for the guesses above the first wait.
  const firstWait = usable.findIndex((u) => { const c = classify(u.norm); return c === 'scheduler' || c === 'primitive'; });
  if (firstWait > 0) usable = usable.slice(firstWait);
  let primitiveRank = Infinity;
  let primitive: string | null = null;
  let fallback: (typeof usable)[number] | null = null;
  for (const u of usable) {
    const cls = classify(u.norm);
    if (cls === 'other') {
      return { fn: u.norm, module: u.frame.module, primitive, index: u.index };
    }
    if (cls === 'primitive') {
      const label = primitiveOf(u.norm)!;
      const rank = WAIT_PRIMITIVES.findIndex((p) => p.label === label);
      if (rank < primitiveRank) {
        primitiveRank = rank;
        primitive = label;
      }
    }
    if (cls !== 'scheduler' && fallback === null) fallback = u;
  }
  // Nothing specific among the reliable frames (a trace cut after the wait): a `?` frame below
  // the last reliable one may still name the caller.
  const lastReliable = usable.length > 0 ? usable[usable.length - 1].index : -1;
  for (let i = lastReliable + 1; i < frames.length; i++) {
    const f = frames[i];
    if (f.context !== 'task' || pointsAtFunctionEdge(f)) continue;
    const norm = normalizeFn(f.fn);
    if (classify(norm) === 'other') return { fn: norm, module: f.module, primitive, index: i };
  }
  // Nothing specific: name the innermost frame past the scheduler (often the primitive itself).
  if (fallback) return { fn: fallback.norm, module: fallback.frame.module, primitive, index: fallback.index };
  return { fn: null, module: null, primitive, index: -1 };
}

// Task names without instance numbers: "kworker/u8:102" becomes "kworker/u*:*", "jbd2/sda1-8" becomes "jbd*/sda*-*".
export function taskPattern(task: string): string {
  return task.replace(/\d+/g, '*');
}

export interface Identity {
  signature: string;
  fingerprint: string;
  culprit: Culprit;
}

const KIND_TITLE: Record<string, string> = {
  hung_task: 'hung task',
  blocked_state: 'blocked task',
};

/**
 * A task seen in D state by `klogscan ps` (blocked_state) and one reported by khungtaskd
 * (hung_task) in the same place are the same problem: they share fingerprints.
 */
const FAMILY: Record<string, string> = { hung_task: 'blocked', blocked_state: 'blocked' };

/**
 * The function one of the other reports is "in": where the CPU was (its RIP, or the function a
 * WARNING or a sanitizer names), else the innermost frame of its trace, passing over the report's
 * own machinery (dump_stack, traps, fault paths, the timer interrupt a lockup is caught in, NMI
 * frames) and over spinning, busy waits and library routines, whose caller says more (the
 * spinning is kept as the wait, as for a hung task).
 */
export function crashCulprit(frames: readonly Frame[], ip: Frame | null, lockup = false, ipNames = false, hard = false): Culprit {
  let label: string | null = null;
  const reliable = frames.some((f) => !f.unreliable && f.context !== 'nmi');
  // A lockup or a stall is caught by an interrupt: its frames are the catching, the task's are the stuck.
  const skipIrq = lockup && frames.some((f) => f.context === 'task' && !f.unreliable) && !stuckInInterrupt(frames, hard);
  const candidates: { frame: Frame; index: number }[] = ip ? [{ frame: ip, index: -1 }] : [];
  frames.forEach((frame, index) => {
    if (frame.context === 'nmi' || (skipIrq && frame.context !== 'task') || (reliable && frame.unreliable) || pointsAtFunctionEdge(frame)) return;
    candidates.push({ frame, index });
  });
  for (const c of candidates) {
    const norm = normalizeFn(c.frame.fn);
    // A WARNING or a BUG() names the function that asserted: that one, whatever it is (`WARNING in ktime_get`).
    if (ipNames && c.index < 0 && !norm.startsWith('0x')) {
      return { fn: norm, module: c.frame.module, primitive: null, index: frames.findIndex((f) => normalizeFn(f.fn) === norm) };
    }
    if (norm.startsWith('0x') || MACHINERY_RE.test(norm)) continue;
    const spin = SPIN_RES.find((p) => p.re.test(norm));
    if (spin) {
      label ??= spin.label;
      continue;
    }
    const cls = classify(norm);
    if (cls === 'primitive') {
      // A sleeping lock taken where sleeping is not allowed, or spun on: its caller is the one.
      label ??= primitiveOf(norm);
      continue;
    }
    if (cls === 'scheduler' || cls === 'entry' || cls === 'incidental') continue;
    // The RIP's function is also the trace's first frame on most kernels: highlight that one.
    const index = c.index >= 0 ? c.index : frames.findIndex((f) => f.context !== 'nmi' && normalizeFn(f.fn) === norm);
    return { fn: norm, module: c.frame.module, primitive: label, index };
  }
  return { fn: null, module: null, primitive: label, index: -1 };
}

/** Pointers and offsets out of a panic's reason (`stack-protector: ... in: fn+0x12/0x34`): the same panic reads the same. */
function steadyReason(what: string): string {
  return what.replace(/\+0x[0-9a-f]+\/0x[0-9a-f]+/g, '').replace(/\b(?:0x)?[0-9a-f]{12,}\b/g, 'X').replace(/\s+/g, ' ').trim();
}

function crashIdentity(kind: string, task: string, frames: readonly Frame[], crash: CrashInfo): Identity {
  const hash = (key: string): string => createHash('sha1').update(key).digest('hex').slice(0, 16);
  if (kind === 'oom_kill') {
    const oom = crash.oom;
    const constraint = oom?.constraint ?? '';
    const culprit: Culprit = { fn: null, module: null, primitive: null, index: -1 };
    if (oom?.victim) {
      const v = taskPattern(oom.victim.task);
      return { signature: `OOM kill of ${v}${constraint ? ` (${constraint})` : ''}`, fingerprint: hash(`oom_kill\0${constraint}\0${v}`), culprit };
    }
    const t = task ? taskPattern(task) : '?';
    return { signature: `OOM kill invoked by ${t} (${constraint ? `${constraint}, ` : ''}no kill line)`, fingerprint: hash(`oom_kill\0${constraint}\0invoker\0${t}`), culprit };
  }
  if (kind === 'panic') {
    const what = steadyReason(crash.what);
    return { signature: what, fingerprint: hash(`panic\0${what}`), culprit: { fn: null, module: null, primitive: null, index: -1 } };
  }
  const culprit = crashCulprit(frames, crash.ip, CAUGHT_KINDS.has(kind),
    kind === 'warning' || crash.what === 'kernel BUG', kind === 'hard_lockup');
  const what = crash.what;
  if (culprit.fn) {
    return {
      signature: `${what} in ${culprit.fn}${culprit.primitive ? ` (${culprit.primitive})` : ''}`,
      fingerprint: hash(`${kind}\0${what}\0${culprit.primitive ?? ''}\0${culprit.fn}`),
      culprit,
    };
  }
  // Named by where the first line says it happened, else by its task.
  const where = crash.location ? crash.location.replace(/:\d+$/, '') : null;
  if (where) return { signature: `${what} at ${where}`, fingerprint: hash(`${kind}\0${what}\0at\0${where}`), culprit };
  const t = task ? taskPattern(task) : null;
  const none = frames.length === 0;
  // A CPU caught idle, or only spinning in frames that name no caller, says so.
  const signature = `${what}${t ? ` of ${t}` : ''} (${none ? 'no call trace' : culprit.primitive ?? 'trace names no caller'})`;
  return { signature, fingerprint: hash(`${kind}\0${what}\0${none ? 'notrace' : `nocaller${culprit.primitive ?? ''}`}\0${t ?? ''}`), culprit };
}

export function identify(kind: string, task: string, frames: readonly Frame[], crash?: CrashInfo): Identity {
  if (crash) return crashIdentity(kind, task, frames, crash);
  const culprit = findCulprit(frames);
  const title = KIND_TITLE[kind] ?? kind.replace(/_/g, ' ');
  let signature: string;
  let key: string;
  if (culprit.fn) {
    signature = `${title} in ${culprit.fn}${culprit.primitive ? ` (${culprit.primitive})` : ''}`;
    key = `${FAMILY[kind] ?? kind}\0${culprit.primitive ?? ''}\0${culprit.fn}`;
  } else {
    // Named by its task: no frame was printed, or none of them says what the task waited in (a
    // trace cut short after the scheduler's frames, or one of nothing but unreliable guesses).
    const t = taskPattern(task);
    const none = frames.length === 0;
    signature = `${title} of ${t} (${none ? 'no call trace' : 'trace names no caller'})`;
    key = `${FAMILY[kind] ?? kind}\0${none ? 'notrace' : 'nocaller'}\0${t}`;
  }
  const fingerprint = createHash('sha1').update(key).digest('hex').slice(0, 16);
  return { signature, fingerprint, culprit };
}
