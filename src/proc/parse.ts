/**
 * Pure parsers of /proc file contents for `klogscan ps`: a task's stat line, the exec_start of
 * its sched file, its syscall line, its kernel stack (through the log's own frame grammar),
 * /proc/uptime, the Debian package in /proc/sys/kernel/version, and the /proc file an fd symlink
 * points at. Text in, values out: no fs, no clock. Reading the files, and deciding which ones
 * may be read at all, is src/proc/read.ts.
 */
import { contextAfter, parseFrameLine } from '../../parsers/frame.js';
import type { Frame, FrameContext } from '../../parsers/record.js';

export interface ProcStat {
  pid: number;
  /** The task name (TASK_COMM_LEN: at most 15 bytes), as the kernel keeps it. */
  comm: string;
  /** One letter: R S D T t X Z P I ... */
  state: string;
  ppid: number;
  /** PF_* flags of the task. */
  flags: number;
  numThreads: number | null;
}

/**
 * `181134 (java) D 1 181134 ...`. The name sits between the first '(' and the LAST ')': a
 * task may call itself `a) R (b` (prctl PR_SET_NAME takes any bytes but NUL), so neither the
 * first ')' nor splitting on spaces is safe.
 */
export function parseStat(text: string): ProcStat | null {
  const open = text.indexOf('(');
  const close = text.lastIndexOf(')');
  if (open < 1 || close < open) return null;
  const pid = Number(text.slice(0, open).trim());
  if (!Number.isInteger(pid) || pid < 0) return null;
  // Fields after the name, numbered from 3 as in proc(5): 3 state, 4 ppid, 9 flags, 20 num_threads.
  const rest = text.slice(close + 1).trim().split(/\s+/);
  const state = rest[0];
  const ppid = Number(rest[1]);
  if (!state || !/^[A-Za-z]$/.test(state) || !Number.isInteger(ppid)) return null;
  const flags = Number(rest[6]);
  const threads = Number(rest[17]);
  return {
    pid,
    comm: text.slice(open + 1, close),
    state,
    ppid,
    flags: Number.isFinite(flags) ? flags : 0,
    numThreads: Number.isInteger(threads) && threads > 0 ? threads : null,
  };
}

/** PF_KTHREAD: kernel threads have no mm, hence no command line to read. */
const PF_KTHREAD = 0x00200000;

export function isKernelThread(flags: number): boolean {
  return (flags & PF_KTHREAD) !== 0;
}

/**
 * `se.exec_start  :  3025993.909469` of /proc/PID/task/TID/sched (CONFIG_SCHED_DEBUG): the rq
 * clock in ms when the task last ran. Null when the file has no such line.
 */
export function parseExecStart(text: string): number | null {
  const m = /^se\.exec_start\s*:\s*(-?\d+(?:\.\d+)?)\s*$/m.exec(text);
  return m ? Number(m[1]) : null;
}

/** How long a task has been off the CPU, from its exec_start and a reading of the same clock (ms). */
export function offCpuSeconds(execStartMs: number | null, nowMs: number | null): number | null {
  if (execStartMs === null || nowMs === null) return null;
  // Per-CPU rq clocks drift apart a little: a task that just ran can look a few ms in the future.
  return Math.max(0, Math.round(nowMs - execStartMs) / 1000);
}

/** /proc/uptime: `3025.13 5162.00`, seconds since boot. */
export function parseUptime(text: string): number | null {
  const m = /^\s*(\d+(?:\.\d+)?)\s/.exec(text + ' ');
  return m ? Number(m[1]) : null;
}

export interface SyscallState {
  /** Syscall number (the architecture's own numbering); -1: blocked outside a syscall; null: running. */
  nr: number | null;
  /** The six arguments as the kernel printed them (hex), empty unless in a syscall. */
  args: string[];
}

/**
 * /proc/PID/task/TID/syscall: `0 0x3 0x7ffd5c1c 0x20000 0x0 0x0 0x0 0x7ffd5c0f8 0x7f5b1a`
 * (number, six args, sp, pc), `-1 SP PC` outside a syscall, or `running`.
 */
export function parseSyscall(text: string): SyscallState | null {
  const t = text.trim();
  if (t === 'running') return { nr: null, args: [] };
  const parts = t.split(/\s+/);
  if (parts.length < 3 || !/^-?\d+$/.test(parts[0])) return null;
  if (!parts.slice(1).every((p) => /^0x[0-9a-f]+$/i.test(p))) return null;
  const nr = Number(parts[0]);
  return { nr, args: nr >= 0 ? parts.slice(1, 7) : [] };
}

/** The largest number taken for a file descriptor: bigger arguments are pointers or sizes. */
const MAX_FD = 1 << 20;

/**
 * The descriptors a blocked reader may be reading from. read, pread64, readv, preadv(2), splice
 * and copy_file_range take the fd first on every architecture; sendfile takes it second. The
 * syscall number is not used, because its meaning differs between architectures; the caller
 * keeps the candidate whose symlink names a /proc file.
 */
export function fdCandidates(s: SyscallState | null): number[] {
  if (!s || s.nr === null || s.nr < 0) return [];
  const out: number[] = [];
  for (const a of s.args.slice(0, 2)) {
    const n = Number.parseInt(a, 16);
    if (Number.isInteger(n) && n >= 0 && n < MAX_FD && !out.includes(n)) out.push(n);
  }
  return out;
}

/** /proc files whose readers take the target's mmap_sem (mmap_lock) for reading. */
export const MM_FILES = ['cmdline', 'environ', 'maps', 'smaps', 'smaps_rollup', 'numa_maps', 'mem', 'pagemap', 'auxv', 'clear_refs', 'map_files'] as const;

const MM_TARGET = new RegExp(`/(\\d+)(?:/task/(\\d+))?/(${MM_FILES.join('|')})(?:/[^/]*)?$`);

export interface MmTarget {
  /** The process whose mm the file belongs to (a thread's file is its process's mm). */
  pid: number;
  tid: number | null;
  file: string;
}

/** What an fd symlink such as `/proc/181134/cmdline` points at, when it is an mm-reading /proc file. */
export function parseMmTarget(link: string): MmTarget | null {
  const m = MM_TARGET.exec(link);
  if (!m) return null;
  return { pid: Number(m[1]), tid: m[2] !== undefined ? Number(m[2]) : null, file: m[3] };
}

/**
 * /proc/PID/task/TID/stack: `[<0>] __schedule+0x2cd/0x890` (4.15+ hides addresses) or
 * `[<ffffffff81331ad8>] call_rwsem_down_read_failed+0x18/0x30`, ending in the sentinel
 * `[<ffffffffffffffff>] 0xffffffffffffffff` on old kernels, which the frame grammar drops.
 * Lines the grammar does not know are skipped.
 */
export function parseStack(text: string): Frame[] {
  const frames: Frame[] = [];
  let context: FrameContext = 'task';
  for (const line of text.split('\n')) {
    const fl = parseFrameLine(line);
    if (!fl) continue;
    for (const m of fl.markers) context = contextAfter(m) ?? context;
    for (const f of fl.frames) {
      const frame: Frame = { fn: f.fn, offset: f.offset, size: f.size, module: f.module, unreliable: f.unreliable, context };
      if (f.inline) frame.inline = true;
      if (f.source) frame.source = f.source;
      frames.push(frame);
    }
  }
  return frames;
}

/** /proc/PID/wchan: a symbol, or `0` (or nothing) for a task that is running. */
export function parseWchan(text: string): string | null {
  const t = text.trim();
  return t === '' || t === '0' ? null : t;
}

/** /proc/PID/cmdline: arguments separated (and ended) by NUL. Empty for kernel threads. */
export function parseCmdline(buf: Buffer): string[] {
  const s = buf.toString('utf8');
  const parts = s.split('\0');
  if (parts.length > 0 && parts[parts.length - 1] === '') parts.pop();
  return parts;
}

/** The Debian package version of the running kernel, from /proc/sys/kernel/version (`#1 SMP Debian 4.19.67-2+deb10u2 (2019-08-05)`). */
export function debianPackage(version: string): string | null {
  const m = /\bDebian\s+(\d\S*)/.exec(version);
  return m ? m[1] : null;
}

/** /proc/sys/kernel/random/boot_id in the form journald prints _BOOT_ID (no dashes), so both give one boot key. */
export function parseBootId(text: string): string | null {
  const t = text.trim().toLowerCase().replace(/-/g, '');
  return /^[0-9a-f]{32}$/.test(t) ? t : null;
}
