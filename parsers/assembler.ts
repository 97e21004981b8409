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
import { BlockedStateSection, parseSection, SYSRQ_NEEDLE } from './blocked-state.js';
import { parseFrameLine } from './frame.js';
import { HEADER_NEEDLE, HungTaskBuilder, parseBlocker, parseHeader, SUPPRESSED_NEEDLE, type Builder } from './hung-task.js';
import type { TaskReport, KernelLine } from './record.js';

export const BANNER_NEEDLE = 'Linux version ';
/** journald writes MESSAGE as an array of byte values when it is not printable UTF-8. */
export const JSON_BYTES_NEEDLE = '"MESSAGE":[';

const BANNER = /^Linux version (\d+\.\d+\S*)/;
/** The start of a header cut short: the name and pid are there, the rest is on the next line. */
const HEADER_START_NEEDLE = 'INFO: task ';
/** What may follow `NAME:PID ` in a cut header: the first words of the rest, every word whole but the first. */
const HEADER_CUT_TAIL = /:\d+ (?:b(?:l(?:o(?:c(?:k(?:e(?:d)?)?)?)?)?)?|c(?:a(?:n(?:'(?:t)?)?)?)?)?(?:\s+(?:for|in|I\/O|wait|die|more|than|\d+))*\s*$/;

/**
 * `INFO: task NAME:PID` followed by nothing but the first words of the rest. Only the last 64
 * characters can hold that tail, so long hostile lines cost no more than short ones.
 */
function headerCutShort(text: string): boolean {
  const at = text.indexOf(HEADER_START_NEEDLE);
  if (at < 0) return false;
  const from = Math.max(at + HEADER_START_NEEDLE.length, text.length - 64);
  return HEADER_CUT_TAIL.test(text.slice(from));
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
  /** The host's boot banner release when the header arrived ("earlier in the input"). */
  banner: { kernel: string; bootId: string | null } | null;
  /** Where what is open began: a read position saved before it would lose it. */
  start: SourcePosition;
  /**
   * A line of the stream that did not fit, in the middle of a trace. If frames of the trace
   * follow it was a stray line (a message of another subsystem, a typo in a paste, stress/43) and
   * the report goes on; otherwise the report ended before it and it is handled as a line of its own.
   */
  held: { raw: string; text: string; line: KernelLine; pos: SourcePosition } | null;
}

interface HostState {
  kernel: string | null;
  bootId: string | null;
  /** Recent evidence lines, oldest first, with the needle that kept each. */
  context: { needle: string; text: string }[];
}

/**
 * Evidence kept per host and needle: a line that repeats every second (`unregister_netdevice:
 * waiting for lo`, `nfs: server X not responding`) cannot push out the one OOM or resync line
 * another rule needs.
 */
const CONTEXT_PER_NEEDLE = 4;

export class Assembler {
  /** Every substring that can make a line matter while no report is open. */
  readonly needles: readonly string[];
  private readonly contextNeedles: readonly string[];
  private readonly gapLines: number;
  private readonly maxOpen: number;
  private readonly format: LineFormat | undefined;
  private readonly onBoot: ((b: BootEvent) => void) | undefined;
  /** Lines of other programs in a syslog file are dismissed without decoding. */
  private readonly quickReject: boolean;
  private readonly open = new Map<string, Open>();
  private readonly hosts = new Map<string | null, HostState>();
  private counter = 0;
  /** Hosts (null: no host name) whose kernel said further hung-task reports are suppressed. */
  readonly suppressed = new Set<string | null>();
  /** Lines that carried a kernel message and were looked at (not merely dismissed). */
  decoded = 0;

  constructor(
    private readonly ctx: DecodeContext,
    private readonly emit: (r: TaskReport) => void,
    opts: AssemblerOptions = {},
  ) {
    this.contextNeedles = opts.contextNeedles ?? [];
    this.gapLines = opts.gapLines ?? 1000;
    this.maxOpen = opts.maxOpen ?? 1024;
    this.format = opts.format;
    this.onBoot = opts.onBoot;
    this.quickReject = !opts.format || opts.format.name === 'syslog';
    this.needles = [HEADER_NEEDLE, HEADER_START_NEEDLE, BANNER_NEEDLE, SYSRQ_NEEDLE, JSON_BYTES_NEEDLE, ...this.contextNeedles];
  }

  /** Number of reports still open: while it is 0, lines without needles may be skipped. */
  get openCount(): number {
    return this.open.size + this.partials.size;
  }

  /**
   * A header a mail client broke in two (`... blocked for more than 120 ` / `seconds.`,
   * stress/51, 55, 57): its first part waits for the next line of its stream.
   */
  private readonly partials = new Map<string, { text: string; raw: string; joins: number; line: KernelLine }>();

  /** True when the line could matter while no report is open. */
  hasNeedle(raw: string): boolean {
    for (const n of this.needles) if (raw.includes(n)) return true;
    return false;
  }

  push(raw: string, pos: SourcePosition): void {
    if (this.open.size === 0 && this.partials.size === 0 && !this.hasNeedle(raw)) return;
    let line = this.quickReject && surelyNotKernel(raw) ? null : decodeLine(raw, this.ctx, this.format);
    this.counter++;
    if (this.open.size > 0 && (this.counter & 63) === 0) this.closeStale();
    if (!line || !line.kernel) return;
    this.decoded++;
    // An empty message (a blank line in a paste, printk("\n")) neither continues nor ends a report.
    if (line.text.trim().length === 0) return;
    let key = line.caller === null ? (line.host ?? '') : `${line.host ?? ''}\u0000${line.caller}`;
    let text = line.text;

    // The rest of a wrapped syslog line carries no prefix: it belongs to the one header waiting.
    let partialKey = key;
    if (!this.partials.has(key) && line.format === 'bare' && this.partials.size === 1) partialKey = [...this.partials.keys()][0];
    const partial = this.partials.get(partialKey);
    if (partial) {
      this.partials.delete(partialKey);
      key = partialKey;
      const joined = `${partial.text.trimEnd()} ${text.trim()}`;
      if (parseHeader(joined) || (partial.joins < 2 && headerCutShort(joined) && !parseBlocker(joined))) {
        text = joined;
        raw = `${partial.raw}\n${raw}`;
        if (!parseHeader(text)) {
          this.partials.set(key, { text, raw, joins: partial.joins + 1, line: partial.line });
          return;
        }
        line = partial.line;
      }
    } else if (headerCutShort(text) && !parseHeader(text) && !parseBlocker(text)) {
      this.partials.set(key, { text, raw, joins: 0, line });
      return;
    }

    const header = parseHeader(text);
    const section = header ? null : parseSection(text);
    const current = this.open.get(key);
    if (current && !header && !section) {
      const held = current.held;
      // After a held line only more frames say the trace goes on; anything else ends it there.
      const goesOn = held ? (parseFrameLine(text)?.frames.length ?? 0) > 0 : true;
      if (goesOn && current.builder.push(text, raw, line, pos) === 'taken') {
        current.lastSeen = this.counter;
        if (held) {
          current.held = null;
          current.builder.absorb(held.raw);
        }
        return;
      }
      if (!held && current.builder.midTrace()) {
        current.held = { raw, text, line, pos };
        current.lastSeen = this.counter;
        return;
      }
      this.finish(key, current);
    } else if (current) {
      this.finish(key, current);
    }
    this.start(key, line, text, raw, pos, header, section);
  }

  /** A decoded line that continues no report: it may start one, or tell something about its host. */
  private route(key: string, line: KernelLine, text: string, raw: string, pos: SourcePosition): void {
    const header = parseHeader(text);
    this.start(key, line, text, raw, pos, header, header ? null : parseSection(text));
  }

  private start(key: string, line: KernelLine, text: string, raw: string, pos: SourcePosition,
    header: ReturnType<typeof parseHeader>, section: ReturnType<typeof parseSection>): void {
    if (header || section) {
      const h = this.hosts.get(line.host);
      const open: Open = {
        builder: null as unknown as Builder,
        host: line.host,
        lastSeen: this.counter,
        banner: h?.kernel ? { kernel: h.kernel, bootId: h.bootId } : null,
        start: pos,
        held: null,
      };
      open.builder = header
        ? new HungTaskBuilder(header, line, raw, { name: pos.name, line: pos.line })
        : new BlockedStateSection(section!, (r) => this.complete(r, open));
      this.open.set(key, open);
      if (this.open.size > this.maxOpen) this.closeOldest();
      return;
    }
    this.observe(line, text);
  }

  /** Lines outside reports that still tell something: boot banners, suppression notes, evidence. */
  private observe(line: KernelLine, text: string): void {
    if (text.includes(BANNER_NEEDLE)) {
      const m = BANNER.exec(text.trimStart());
      if (m) {
        const h = this.host(line.host);
        h.kernel = m[1];
        h.bootId = line.bootId;
        h.context.length = 0;
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
      this.suppressed.add(line.host);
      return;
    }
    for (const n of this.contextNeedles) {
      if (text.includes(n)) {
        const c = this.host(line.host).context;
        c.push({ needle: n, text: text.trim() });
        let same = 0;
        for (const e of c) if (e.needle === n) same++;
        if (same > CONTEXT_PER_NEEDLE) c.splice(c.findIndex((e) => e.needle === n), 1);
        return;
      }
    }
  }

  private host(name: string | null): HostState {
    let h = this.hosts.get(name);
    if (!h) {
      h = { kernel: null, bootId: null, context: [] };
      this.hosts.set(name, h);
    }
    return h;
  }

  private finish(key: string, o: Open): void {
    this.open.delete(key);
    for (const r of o.builder.finish()) this.complete(r, o);
    const held = o.held;
    o.held = null;
    if (held) this.route(key, held.line, held.text, held.raw, held.pos);
  }

  /** Adds what the stream knew (boot banner release, context lines) and hands the report on. */
  private complete(r: TaskReport, o: Open): void {
    const b = o.banner;
    if (r.kernel === null && b && (b.bootId === null || r.bootId === null || b.bootId === r.bootId)) {
      r.kernel = b.kernel;
      r.logKernel = b.kernel;
      r.kernelSource = 'banner';
    }
    const h = this.hosts.get(o.host);
    if (h) r.context = h.context.map((e) => e.text);
    if (r.suppressesFurther) this.suppressed.add(r.host);
    this.emit(r);
  }

  private closeStale(): void {
    for (const [key, o] of this.open) {
      if (this.counter - o.lastSeen > this.gapLines) this.finish(key, o);
    }
  }

  private closeOldest(): void {
    let oldest: [string, Open] | null = null;
    for (const e of this.open) if (!oldest || e[1].lastSeen < oldest[1].lastSeen) oldest = e;
    if (oldest) this.finish(oldest[0], oldest[1]);
  }

  /** The earliest start of anything still open for an input (null: nothing open there). */
  earliestOpen(name: string): SourcePosition | null {
    let best: SourcePosition | null = null;
    for (const o of this.open.values()) {
      if (o.start.name !== name || o.start.offset === undefined) continue;
      if (!best || o.start.offset < best.offset!) best = o.start;
    }
    return best;
  }

  /** Finishes every open report (end of input, or an idle stream in follow mode). */
  flush(): void {
    this.partials.clear();
    for (const [key, o] of [...this.open]) this.finish(key, o);
  }
}
