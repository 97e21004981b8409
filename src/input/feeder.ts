/**
 * Turns byte chunks into lines for a LineSink, skipping whole stretches of input that cannot
 * matter. While the sink is idle (no report open), the feeder does not split lines at all: it
 * searches the chunk for the sink's needles and only counts the newlines it jumps over, so line
 * numbers stay exact. While a report is open, every line is handed over.
 *
 * Files, gzip streams, stdin and follow mode all go through this one class, so every input gives
 * the same reports. Lines are capped at `maxLine` bytes (the rest of an over-long line is dropped,
 * never buffered); a trailing CR is removed; invalid UTF-8 becomes U+FFFD. `offset` is the exact
 * byte position after the last complete line, which follow mode stores as its read position.
 */
import { lineHasNeedle, needleScanner, type NeedleScanner } from './needle-scan.js';

export interface LineSink {
  /** Substrings that make a line worth handing over while the sink is idle (see lineHasNeedle: a needle may end in a line end). */
  readonly needles: readonly string[];
  /** True while lines without needles may be skipped. */
  idle(): boolean;
  /** One complete line (without terminator); `lineNo` counts from 1; `start` is its byte offset. */
  line(text: string, lineNo: number, start: number): void;
}

export const DEFAULT_MAX_LINE = 64 * 1024;


function decode(buf: Buffer, start: number, end: number, maxLine: number): string {
  let e = end;
  if (e > start && buf[e - 1] === 13) e--;
  if (e - start > maxLine) e = start + maxLine;
  return buf.toString('utf8', start, e);
}

export class ChunkFeeder {
  /** Lines completed so far. */
  lineNo = 0;
  /** Byte offset just after the last complete line. */
  offset = 0;
  private pending: Buffer[] = [];
  private pendingLength = 0;
  private pendingDropped = false;
  private readonly scanner: NeedleScanner;

  /** The last complete line seen (journal JSON: where its __CURSOR is read from). */
  lastLine: string | null = null;

  constructor(readonly sink: LineSink, private readonly maxLine = DEFAULT_MAX_LINE, startOffset = 0, startLine = 0) {
    this.scanner = needleScanner(sink.needles);
    this.offset = startOffset;
    this.lineNo = startLine;
  }

  /** A buffer to read the next chunks into, which the needle search uses without a copy. */
  inputBuffer(size: number): Buffer {
    return this.scanner.inputBuffer(size);
  }

  /** Bytes of an unterminated last line held back, waiting for its newline. */
  get pendingBytes(): number {
    return this.pendingLength + (this.pendingDropped ? 1 : 0);
  }

  private emit(text: string, length: number): void {
    const start = this.offset;
    this.lineNo++;
    this.offset += length;
    this.lastLine = text;
    if (!this.sink.idle() || this.hasNeedle(text)) this.sink.line(text, this.lineNo, start);
  }

  private hasNeedle(text: string): boolean {
    for (const n of this.sink.needles) if (lineHasNeedle(text, n)) return true;
    return false;
  }

  private holdBack(chunk: Buffer, from: number): void {
    const room = this.maxLine + 1 - this.pendingLength;
    const take = Math.min(room, chunk.length - from);
    if (take > 0) {
      this.pending.push(Buffer.from(chunk.subarray(from, from + take)));
      this.pendingLength += take;
    }
    if (take < chunk.length - from) this.pendingDropped = true;
    this.pendingTotal += chunk.length - from;
  }

  /** Total bytes of the pending line including any dropped part. */
  private pendingTotal = 0;

  push(chunk: Buffer): void {
    let pos = 0;
    if (this.pendingTotal > 0) {
      const nl = chunk.indexOf(10);
      if (nl === -1) {
        this.holdBack(chunk, 0);
        return;
      }
      this.holdBack(chunk.subarray(0, nl), 0);
      const head = Buffer.concat(this.pending, this.pendingLength);
      const total = this.pendingTotal + 1;
      this.pending = [];
      this.pendingLength = 0;
      this.pendingDropped = false;
      this.pendingTotal = 0;
      this.emit(decode(head, 0, head.length, this.maxLine), total);
      pos = nl + 1;
    }
    const last = chunk.lastIndexOf(10);
    if (last >= pos) {
      this.region(chunk, pos, last + 1);
      const prev = chunk.lastIndexOf(10, last - 1);
      if (prev + 1 >= pos) this.lastLine = decode(chunk, prev + 1, last, this.maxLine);
    }
    if (last + 1 < chunk.length) this.holdBack(chunk, Math.max(pos, last + 1));
  }

  /** Lines [from, end) of a chunk; `end` is just past a newline. */
  private region(buf: Buffer, from: number, end: number): void {
    let pos = from;
    let loaded = false;
    const scanner = this.scanner;
    while (pos < end) {
      if (this.sink.idle()) {
        if (!loaded) {
          scanner.load(buf);
          loaded = true;
        }
        const hit = scanner.find(pos, end);
        if (hit === -1) {
          this.lineNo += scanner.countNewlines(pos, end);
          this.offset += end - pos;
          return;
        }
        const after = buf.lastIndexOf(10, hit) + 1;
        const lineStart = after > pos ? after : pos;
        if (lineStart > pos) {
          this.lineNo += scanner.countNewlines(pos, lineStart);
          this.offset += lineStart - pos;
        }
        pos = this.handOver(buf, lineStart);
      } else {
        pos = this.handOver(buf, pos);
      }
    }
  }

  /** Gives the sink the line starting at `start` of a chunk; returns where the next one starts. */
  private handOver(buf: Buffer, start: number): number {
    const nl = buf.indexOf(10, start);
    const lineOffset = this.offset;
    this.lineNo++;
    this.offset += nl + 1 - start;
    this.sink.line(decode(buf, start, nl, this.maxLine), this.lineNo, lineOffset);
    return nl + 1;
  }

  /**
   * Jumps to a line start at `offset`, with `lineNo` lines before it, dropping any held-back
   * partial line (the parallel file scan uses this to go from one candidate line to the next).
   */
  seek(offset: number, lineNo: number): void {
    this.pending = [];
    this.pendingLength = 0;
    this.pendingDropped = false;
    this.pendingTotal = 0;
    this.offset = offset;
    this.lineNo = lineNo;
  }

  /** End of input: a last line without a newline still counts. */
  end(): void {
    if (this.pendingTotal > 0) {
      const head = Buffer.concat(this.pending, this.pendingLength);
      const total = this.pendingTotal;
      this.pending = [];
      this.pendingLength = 0;
      this.pendingDropped = false;
      this.pendingTotal = 0;
      this.emit(decode(head, 0, head.length, this.maxLine), total);
    }
  }
}
