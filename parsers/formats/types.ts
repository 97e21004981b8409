/**
 * What a line-format module provides. Each module decodes one family of log envelopes into a
 * KernelLine, and carries sample lines that its own decoder must accept and that detection must
 * attribute to it and to no other module (the lnav idea: a format is data plus its samples).
 */
import type { KernelLine } from '../record.js';

export interface DecodeContext {
  /**
   * Reference time (ms) for envelopes without a year (BSD syslog, journalctl short): a timestamp
   * is placed in the year that puts it at or before the reference (plus a day of clock skew).
   */
  referenceTime: number;
  /** The user gave the year (--year): a date without one is then not a guess. */
  yearGiven?: boolean;
  /**
   * --year: the year of an input's first year-less date (`first`; later ones fall in it or the
   * next, see yearless()) and the time of the latest one placed. Reset at each input.
   */
  givenYear?: { first: number; latest: number | null };
}

export interface LineFormat {
  /** The `--format` value. */
  name: string;
  description: string;
  /** Lines this module must decode, and that auto-detection must give to this module. */
  samples: string[];
  /** Returns null when the line is not of this format. */
  decode(line: string, ctx: DecodeContext): KernelLine | null;
}

export function kernelLine(text: string, format: string, fields: Partial<KernelLine> = {}): KernelLine {
  return {
    text,
    host: null,
    time: null,
    uptime: null,
    level: null,
    caller: null,
    bootId: null,
    cursor: null,
    kernel: true,
    format,
    ...fields,
  };
}

/**
 * `k`, a line found inside another envelope (a JSON record, a container runtime's line), with the
 * envelope's time where `k` has none, or only a guessed year (a syslog date inside the record).
 */
export function withEnvelopeTime(k: KernelLine, time: number | null): KernelLine {
  if (time === null || (k.time !== null && !k.yearGuessed)) return k;
  return { ...k, time, yearGuessed: false, localTime: false };
}
