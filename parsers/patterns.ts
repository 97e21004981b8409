/**
 * The pattern registry: every regular expression the parsers use is authored here (or through
 * `compile()`/`build()` from here) with XRegExp, in free-spacing mode with comments, from shared
 * named parts such as {{FUNC}} and {{ADDR}} that are written once.
 *
 * XRegExp is used only to translate patterns. `compile()` turns its output into a plain native
 * RegExp (with native named groups restored), because XRegExp.exec is 2-3x slower per line than
 * RegExp.prototype.exec and the hot path runs these patterns millions of times. Loading XRegExp
 * itself takes 50 ms, a tenth of the time a gigabyte scan is allowed, so the build stores every
 * translation in dist/patterns.json (`npm run build` runs src/build-patterns.ts) and XRegExp is
 * loaded only for a pattern missing there (a user's rule, a pattern changed without a build).
 *
 * This module does not match anything itself and holds no state besides the compiled patterns.
 */
import fs from 'node:fs';
import { createRequire } from 'node:module';

type XRegExpFn = typeof import('xregexp');

let xregexp: XRegExpFn | null = null;
function X(): XRegExpFn {
  if (!xregexp) {
    const mod = createRequire(import.meta.url)('xregexp') as XRegExpFn & { default?: XRegExpFn };
    xregexp = mod.default ?? mod;
  }
  return xregexp;
}

/** Translations known from the build: key (flags, pattern) -> native source and flags. */
const CACHE_FILE = new URL('../patterns.json', import.meta.url);
const cache: Record<string, [string, string]> = (() => {
  if (process.env.KLOGSCAN_PATTERNS_BUILD === '1') return {};
  try {
    return JSON.parse(fs.readFileSync(CACHE_FILE, 'utf8')) as Record<string, [string, string]>;
  } catch {
    return {};
  }
})();
/** Translations made in this process (the build writes them out). */
export const translated: Record<string, [string, string]> = {};

function cached(key: string, make: () => RegExp): RegExp {
  const hit = cache[key];
  if (hit) return new RegExp(hit[0], hit[1]);
  const re = make();
  translated[key] = [re.source, re.flags];
  return re;
}

/** Shared sub-patterns, substituted by name as {{NAME}} in `build()`. */
export const PARTS: Record<string, string> = {
  // A kernel symbol as printed by %pS: C identifiers plus the compiler's clone suffixes
  // (.isra.0, .constprop.3, .part.1, .cold, .llvm.123456) and the odd `$` of some toolchains.
  FUNC: String.raw`[A-Za-z_$][\w$]*(?:\.[\w$]+)*`,
  // Hexadecimal offset or size in a frame: +0x29/0x70.
  HEX: String.raw`0x[0-9a-fA-F]+`,
  // A kernel address in a frame's brackets: [<ffffffff816a94c9>] (also [<0>] when kptr_restrict hides it).
  ADDR: String.raw`[0-9a-fA-F]{1,16}`,
  // A process id.
  PID: String.raw`\d+`,
};

/**
 * Rewrites XRegExp's native output so that capture groups carry their names again.
 * XRegExp emits plain `(` for named groups and records the names in order; native syntax is
 * simple enough here (escapes, character classes, `(?` constructs) to walk it once.
 */
function restoreNames(source: string, names: readonly (string | null)[]): string {
  if (names.length === 0 || names.every((n) => n === null)) return source;
  let out = '';
  let group = 0;
  let inClass = false;
  for (let i = 0; i < source.length; i++) {
    const c = source[i];
    if (c === '\\') {
      out += c + (source[i + 1] ?? '');
      i++;
      continue;
    }
    if (inClass) {
      if (c === ']') inClass = false;
      out += c;
      continue;
    }
    if (c === '[') {
      inClass = true;
      out += c;
      continue;
    }
    if (c === '(' && source[i + 1] !== '?') {
      const name = names[group++];
      out += name ? `(?<${name}>` : '(';
      continue;
    }
    out += c;
  }
  return out;
}

function toNative(x: RegExp, flags: string): RegExp {
  const data = (x as RegExp & { xregexp?: { captureNames?: (string | null)[] | null } }).xregexp;
  const names = data?.captureNames ?? [];
  return new RegExp(restoreNames(x.source, names), flags.replace(/[xnA]/g, ''));
}

/**
 * Compiles one pattern authored in XRegExp syntax. Free-spacing (`x`) is on unless `flags`
 * says otherwise through a leading `(?-x)`-free call with `plain = true`.
 */
export function compile(pattern: string, flags = ''): RegExp {
  const xflags = flags.includes('x') ? flags : flags + 'x';
  return cached(`c\0${xflags}\0${pattern}`, () => toNative(X()(pattern, xflags), xflags));
}

/**
 * Compiles a pattern that uses {{NAME}} parts from PARTS (plus `extra`), like syzkaller's
 * report table. The parts are themselves free-spacing patterns.
 */
export function build(pattern: string, flags = '', extra: Record<string, string> = {}): RegExp {
  const xflags = flags.includes('x') ? flags : flags + 'x';
  const parts = { ...PARTS, ...extra };
  return cached(`b\0${xflags}\0${pattern}\0${JSON.stringify(parts)}`, () => {
    const subs: Record<string, RegExp> = {};
    for (const [k, v] of Object.entries(parts)) subs[k] = X()(v, 'x');
    return toNative(X().build(pattern, subs, xflags), xflags);
  });
}

/**
 * Compiles a pattern written by a user or a rule file: XRegExp syntax; free-spacing only when the
 * pattern starts with the inline flag `(?x)`. Throws XRegExp's SyntaxError on a bad pattern.
 */
export function compileUser(pattern: string, flags = ''): RegExp {
  return cached(`u\0${flags}\0${pattern}`, () => toNative(X()(pattern, flags), flags));
}
