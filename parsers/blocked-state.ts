/**
 * sysrq-w and sysrq-t dumps: `sysrq: Show Blocked State` (older kernels `SysRq : Show Blocked
 * State` and a `  task    PC stack   pid father` column header), then one block per task: the task
 * line of sched_show_task() and its trace, with no `INFO: task` header. Each D-state task becomes
 * a `blocked_state` report (never a hung_task one). For `Show State` (sysrq-t, every task) only
 * tasks in D state are kept. Pure and synchronous, like the hung-task grammar it reuses.
 */
import { HungTaskBuilder, isTaskBodyLine, parseTaskLine, type Builder, type LineVerdict } from './hung-task.js';
import { printedWithin, type KernelLine, type TaskReport } from './record.js';

/** What every dump opener contains (`sysrq: Show Blocked State`, `SysRq : Show State`). */
export const SYSRQ_NEEDLE = ': Show ';
const SECTION = /(?:sysrq|SysRq)\s*:\s*Show (Blocked State|State)\b/;
// The column header: `  task    PC stack   pid father`; 2.6 kernels before 2.6.25 print
// `  task             PC      pid father child younger older` under a line of its own, `sibling`.
// A mail client may wrap it: `  task                        PC stack` / `  pid father`.
const COLUMNS = /^\s*(?:task\s+(?:PC\s+)?(?:stack\s+)?pid\s+father(?:\s+child\s+younger\s+older)?|sibling|task\s+PC\s+stack|pid\s+father)\s*$/;

/**
 * The freezer's list of the tasks that did not freeze for a suspend (`Freezing of tasks failed
 * after 20.008 seconds (3 tasks refusing to freeze, wq_busy=0):`, 6.x `Freezing user space
 * processes failed after ...`), each a task line and trace: tasks that would not stop for 20
 * seconds, not hung tasks, though some are in D state. Read as a dump that reports none of them
 * (its task lines are not header-less hung tasks).
 */
export const FREEZE_NEEDLE = 'refusing to freeze';
const FREEZE = /\bfailed after [\d.]+ seconds \(\d+ tasks refusing to freeze\b/;

/** 'blocked' for sysrq-w, 'all' for sysrq-t, 'freeze' for the freezer's list, null when the text does not open a dump. */
export function parseSection(text: string): 'blocked' | 'all' | 'freeze' | null {
  if (text.includes(FREEZE_NEEDLE)) return FREEZE.test(text) ? 'freeze' : null;
  if (!text.includes(SYSRQ_NEEDLE)) return null;
  const m = SECTION.exec(text);
  if (!m) return null;
  return m[1] === 'State' ? 'all' : 'blocked';
}

/** The most a dump's task lines stand apart (a slow serial console prints a few hundred a second). */
const DUMP_GAP_SECONDS = 2;

export class BlockedStateSection implements Builder {
  private current: HungTaskBuilder | null = null;
  /** In a sysrq-t dump: inside the block of a task that is not in D state. */
  private skipping = false;

  /** A tentative dump's tasks so far (see `confirm`). */
  private tasks = 0;
  /** A tentative dump that a D-state task line ended before it was confirmed. */
  private given = false;

  /**
   * `confirm`: the dump is only a guess until a second task line not in D state follows its first
   * (Assembler.dumpWithout()): then it is called, once. A D-state task line before that ends the
   * section, whose first task was then not a dump's (a hung task's blocker owner, 6.15+).
   */
  constructor(private readonly which: 'blocked' | 'all' | 'freeze', private readonly emit: (r: TaskReport) => void,
    private confirm: (() => void) | null = null) {}

  push(text: string, raw: string, line: KernelLine, pos: { name: string; line: number }): LineVerdict {
    const verdict = this.take(text, raw, line, pos);
    if (verdict === 'taken') this.last = line;
    return verdict;
  }

  /** The last line taken: a tentative dump's next task must be printed right after it. */
  private last: KernelLine | null = null;

  private near(line: KernelLine): boolean {
    return this.last === null || (printedWithin(this.last, line, DUMP_GAP_SECONDS) ?? true);
  }

  private take(text: string, raw: string, line: KernelLine, pos: { name: string; line: number }): LineVerdict {
    if (COLUMNS.test(text)) return 'taken';
    const task = parseTaskLine(text);
    if (task && task.pid !== null) {
      if (this.confirm && ++this.tasks > 1) {
        // Not a dump's next task: a D-state one (the next hung task), or one printed apart (an RCU
        // stall's `task:rcu_preempt state:I` line seconds later; a dump prints its tasks back to back).
        if (task.state === 'D' || !this.near(line)) {
          this.given = true;
          // (ARM32 prints no `Call Trace:` line: the next frames are the next report's, not this skipped block's.)
          this.skipping = false;
          return 'ended';
        }
        this.confirm();
        this.confirm = null;
      }
      this.close();
      // sysrq-t lists every task: only uninterruptible ones are of interest here. The freezer's list: none.
      if ((this.which === 'all' && task.state !== 'D') || this.which === 'freeze') {
        this.current = null;
        this.skipping = true;
        return 'taken';
      }
      this.skipping = false;
      this.current = new HungTaskBuilder(
        { kind: 'blocked_state', task: task.comm, pid: task.pid, blockedSeconds: null, verb: null }, line, raw, pos,
      );
      this.current.openedBy(text);
      return 'taken';
    }
    if (this.current) {
      const v = this.current.push(text, raw);
      if (v === 'taken') return v;
    } else if (this.skipping && isTaskBodyLine(text)) {
      return 'taken';
    }
    return 'ended';
  }

  midTrace(): boolean {
    return this.current?.midTrace() ?? false;
  }

  beforeTrace(): boolean {
    return this.current?.beforeTrace() ?? false;
  }

  /**
   * Between two tasks (or before the first): another subsystem's message printed there (a SCSI
   * timeout, a filesystem note) is passed over when the next task follows it, as one inside a trace
   * is; a dump does not end at the first foreign line.
   */
  betweenTasks(): boolean {
    if (this.given) return false;
    return this.current ? !this.current.midTrace() && !this.current.beforeTrace() : true;
  }

  completeTrace(): boolean {
    return this.current?.completeTrace() ?? false;
  }

  get lastWasFrame(): boolean {
    return this.current?.lastWasFrame ?? false;
  }

  absorb(raw: string): void {
    this.current?.absorb(raw);
  }

  private close(): void {
    if (this.current) this.emit(this.current.finishOne());
    this.current = null;
  }

  finish(): TaskReport[] {
    const out = this.current ? [this.current.finishOne()] : [];
    this.current = null;
    return out;
  }
}
