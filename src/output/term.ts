/**
 * Terminal safety and style. Log text is untrusted: `safe()` escapes every control character
 * (C0, DEL, C1, the line/paragraph separators and the bidi controls) as \xNN or \uNNNN before it reaches a terminal,
 * so an escape sequence hidden in a task name cannot move the cursor or retitle the window.
 * Colours come from util.styleText, only on a terminal, never under NO_COLOR.
 */
import { styleText } from 'node:util';

// Also the invisible direction marks and overrides (U+061C, U+200E/F, U+202A-202E, U+2066-2069):
// a task name holding U+202E would show the rest of the line reversed.
// eslint-disable-next-line no-control-regex
const CONTROL = /[\u0000-\u001f\u007f-\u009f\u061c\u200e\u200f\u2028-\u202e\u2066-\u2069]/g;

export function safe(s: string): string {
  return s.replace(CONTROL, (c) => {
    const code = c.charCodeAt(0);
    return code <= 0xff ? `\\x${code.toString(16).padStart(2, '0')}` : `\\u${code.toString(16).padStart(4, '0')}`;
  });
}

const JSON_UNSAFE = /[\u007f-\u009f\u2028\u2029]/g;

/** JSON.stringify plus escapes for DEL and C1 controls, which JSON leaves raw. */
export function jsonLine(value: unknown): string {
  return JSON.stringify(value).replace(JSON_UNSAFE, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`);
}

export type Style = 'bold' | 'dim' | 'red' | 'green' | 'yellow' | 'cyan' | 'magenta' | 'gray' | 'underline';

export interface Painter {
  (style: Style | Style[], text: string): string;
  enabled: boolean;
}

export function painter(stream: NodeJS.WriteStream | { isTTY?: boolean }, force?: boolean): Painter {
  let on: boolean;
  if (force !== undefined) on = force;
  else if (process.env.NO_COLOR !== undefined && process.env.NO_COLOR !== '') on = false;
  else if (process.env.FORCE_COLOR !== undefined && process.env.FORCE_COLOR !== '0') on = true;
  else on = stream.isTTY === true && process.env.TERM !== 'dumb';
  // Whether to colour is decided above (--color, NO_COLOR, FORCE_COLOR, a terminal); Node's own
  // stream check would undo --color on a pipe.
  const opts = { validateStream: false } as unknown as undefined;
  const p = ((style: Style | Style[], text: string) => (on ? styleText(style, text, opts) : text)) as Painter;
  p.enabled = on;
  return p;
}

/** ANSI style sequences (paint()'s), which take no room on a terminal. */
const STYLE_SEQ = new RegExp(`${String.fromCharCode(27)}\\[[0-9;]*m`, 'g');

/**
 * A one-line listing (history, stats) folded at the terminal's width, its further lines indented,
 * when stdout is a terminal; unchanged into a pipe or a file, which scripts read a line at a time.
 */
export function fitTerminal(line: string, columns = process.stdout.isTTY ? process.stdout.columns : 0): string {
  const width = columns ?? 0;
  if (width < 40 || line.replace(STYLE_SEQ, '').length <= width) return line;
  const out: string[] = [];
  let cur = '';
  let curLen = 0;
  let started = false;
  for (const word of line.split(' ')) {
    const len = word.replace(STYLE_SEQ, '').length;
    if (!started) {
      cur = word;
      curLen = len;
      started = true;
    } else if (len > 0 && curLen + 1 + len > width) {
      out.push(cur.trimEnd());
      cur = `    ${word}`;
      curLen = 4 + len;
    } else {
      cur += ` ${word}`;
      curLen += 1 + len;
    }
  }
  out.push(cur);
  return out.join('\n');
}
