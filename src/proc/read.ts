/**
 * Reading a /proc tree for `klogscan ps`, without ever blocking on another process.
 *
 * Read here, synchronously: the task directories, /proc/PID/task/TID/{stat,wchan,sched}, fd
 * symlinks (readlink), uptime, osrelease, version and boot_id. None of these takes a lock of
 * the task they describe beyond a spinlock (top reads stat and kept working in the seed
 * incident, while ps hung in cmdline). Every open is O_NONBLOCK and only regular files are
 * read, so even a FIFO put in place of one of them cannot hold klogscan.
 *
 * Never read here: cmdline, environ, maps, smaps, smaps_rollup, numa_maps, mem, pagemap, auxv
 * (they take the target's mmap_sem: a wedged mm puts the reader to sleep for good) and status
 * (not needed; kept out to be safe). `readSafe()` refuses them. The kernel stack and syscall
 * files wait (killably) for the target's exec lock, and cmdline for its mm: those go through
 * src/proc/bounded.ts, in a child process that may be abandoned.
 *
 * Parsing is src/proc/parse.ts.
 */
import fs from 'node:fs';
import path from 'node:path';
import { debianPackage, MM_FILES, parseBootId, parseExecStart, parseStat, parseUptime, parseWchan } from './parse.js';

export class ProcError extends Error {
  readonly userFacing = true;
}

export interface ProcTask {
  /** The process (thread group) id: /proc/PID. */
  pid: number;
  /** The task (thread) id: /proc/PID/task/TID; the kernel's own pid of the task. */
  tid: number;
  comm: string;
  state: string;
  ppid: number;
  flags: number;
  /** The stat line as read, for the stored report's raw lines. */
  stat: string;
  /** /proc/PID/task/TID in the tree read. */
  dir: string;
}

export interface TaskDetail {
  wchan: string | null;
  /** se.exec_start of the sched file in ms of the rq clock, null without CONFIG_SCHED_DEBUG. */
  execStart: number | null;
}

export interface ProcSystem {
  dir: string;
  release: string | null;
  kernelPackage: string | null;
  uptime: number | null;
  bootId: string | null;
  /** The scheduler clock now (ms), to set exec_start against; null when neither source exists. */
  clockMs: number | null;
  /**
   * Where clockMs comes from: our own exec_start (`self/sched`: the same rq clock tasks are
   * stamped with, and we are running while reading it), or /proc/uptime (a fake tree, or a
   * kernel without sched files; it runs ahead of the rq clock by any suspend and irq time).
   */
  clock: 'sched' | 'uptime' | null;
}

/** Files of a task that readSafe() refuses: they can sleep on the task's mm (status: to be safe). */
const FORBIDDEN = new Set<string>([...MM_FILES, 'status']);

const OPEN_FLAGS = fs.constants.O_RDONLY | fs.constants.O_NONBLOCK | fs.constants.O_NOCTTY;
const MAX_READ = 64 * 1024;
let scratch: Buffer | null = null;

/**
 * Reads a small file that cannot block: opened O_NONBLOCK, read only when it is a regular file
 * (a FIFO or device is left alone), at most 64 KiB. Null when it cannot be read.
 */
export function readSafe(file: string): string | null {
  if (FORBIDDEN.has(path.basename(file))) throw new Error(`refusing to read ${file}: it can block on the task's mm`);
  let fd: number;
  try {
    fd = fs.openSync(file, OPEN_FLAGS);
  } catch {
    return null;
  }
  try {
    if (!fs.fstatSync(fd).isFile()) return null;
    scratch ??= Buffer.allocUnsafe(MAX_READ);
    let n = 0;
    while (n < MAX_READ) {
      const r = fs.readSync(fd, scratch, n, MAX_READ - n, null);
      if (r === 0) break;
      n += r;
    }
    return scratch.toString('utf8', 0, n);
  } catch {
    return null;
  } finally {
    fs.closeSync(fd);
  }
}

function numericEntries(dir: string): number[] {
  let names: string[];
  try {
    names = fs.readdirSync(dir);
  } catch {
    return [];
  }
  return names.filter((n) => /^\d+$/.test(n)).map(Number).sort((a, b) => a - b);
}

/** Checks that `dir` can be read as a /proc tree at all (one-line error otherwise). */
export function checkProcDir(dir: string, flag: string | null): void {
  let st: fs.Stats;
  try {
    st = fs.statSync(dir);
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    throw new ProcError(`${flag ? `${flag} ${dir}` : dir}: ${code === 'ENOENT' ? 'no such directory' : code === 'EACCES' ? 'permission denied' : `cannot read (${code})`}`);
  }
  if (!st.isDirectory()) throw new ProcError(`${flag ? `${flag} ${dir}` : dir}: not a directory (a /proc tree is wanted)`);
}

export function readSystem(dir: string): ProcSystem {
  const release = readSafe(path.join(dir, 'sys/kernel/osrelease'))?.trim() || null;
  const version = readSafe(path.join(dir, 'sys/kernel/version'));
  const uptimeText = readSafe(path.join(dir, 'uptime'));
  const uptime = uptimeText !== null ? parseUptime(uptimeText) : null;
  const bootText = readSafe(path.join(dir, 'sys/kernel/random/boot_id'));
  const selfSched = readSafe(path.join(dir, 'self/sched'));
  const own = selfSched !== null ? parseExecStart(selfSched) : null;
  return {
    dir,
    release,
    kernelPackage: version !== null ? debianPackage(version) : null,
    uptime,
    bootId: bootText !== null ? parseBootId(bootText) : null,
    clockMs: own ?? (uptime !== null ? uptime * 1000 : null),
    clock: own !== null ? 'sched' : uptime !== null ? 'uptime' : null,
  };
}

/** Every task (thread) of the tree with its stat; tasks that vanish while being read are left out. */
export function listTasks(dir: string): ProcTask[] {
  const tasks: ProcTask[] = [];
  for (const pid of numericEntries(dir)) {
    for (const tid of numericEntries(path.join(dir, String(pid), 'task'))) {
      const tdir = path.join(dir, String(pid), 'task', String(tid));
      const text = readSafe(path.join(tdir, 'stat'));
      const st = text !== null ? parseStat(text) : null;
      if (!st) continue;
      tasks.push({ pid, tid, comm: st.comm, state: st.state, ppid: st.ppid, flags: st.flags, stat: text!.trim(), dir: tdir });
    }
  }
  return tasks;
}

export function readDetail(t: ProcTask): TaskDetail {
  const wchan = readSafe(path.join(t.dir, 'wchan'));
  const sched = readSafe(path.join(t.dir, 'sched'));
  return { wchan: wchan !== null ? parseWchan(wchan) : null, execStart: sched !== null ? parseExecStart(sched) : null };
}

/** Why this user cannot open a file (EACCES, ENOENT...), or null if it may: a permission check only, nothing is opened. */
export function accessError(file: string): string | null {
  try {
    fs.accessSync(file, fs.constants.R_OK);
    return null;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code ?? 'EIO';
  }
}

/**
 * Where a task's fd points (`/proc/181134/cmdline`): the thread's own fd table first, then the
 * process's. readlink of /proc/PID/fd/N looks at the file table only, never at the mm.
 */
export function readFdLink(dir: string, pid: number, tid: number, fd: number): string | null {
  for (const p of [path.join(dir, String(pid), 'task', String(tid), 'fd', String(fd)), path.join(dir, String(pid), 'fd', String(fd))]) {
    try {
      return fs.readlinkSync(p);
    } catch {
      // try the next
    }
  }
  return null;
}
