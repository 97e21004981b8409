/**
 * Finding many needles in a chunk in one pass, fast enough that scanning a gigabyte of logs costs
 * little more than reading it. One `Buffer.indexOf` pass per needle costs about 0.35 s per GiB, and
 * the rule database brings dozens of needles, so the search runs in a small WebAssembly SIMD
 * function generated here at start-up for the needle set of the run:
 *
 * 1. Each needle gets an anchor: the four consecutive bytes of it that are least likely in log
 *    text (a static byte-frequency table; uppercase letters, digits and punctuation are rare).
 * 2. A Teddy-style filter (nibble lookup tables, `i8x16.swizzle`) flags every 16-byte block in
 *    which the four anchor bytes of some needle may start, 8 buckets of needles at a time.
 * 3. Each flagged lane is checked exactly: its four bytes are hashed into a bitset that holds the
 *    anchor words of all needles. Only a hit returns to JavaScript, which compares the whole
 *    needle (and keeps looking a few bytes further, since anchors sit at different offsets).
 *
 * `countNewlines` counts line ends 16 bytes at a time (`i8x16.eq` + `bitmask` + `popcnt`).
 * Where WebAssembly SIMD is missing, the same interface runs on Buffer.indexOf. Both are tested
 * against each other (test/needle-scan.test.ts).
 */

/**
 * Whether one line (its text, without its line end) holds a needle. A needle ending in a line end
 * (`\n` or `\r\n`) holds for a line whose text ends with the rest of it: the chunk search finds it
 * with the newline that ends the line, and a line handed over alone has to be judged alike.
 */
export function lineHasNeedle(text: string, needle: string): boolean {
  if (needle.charCodeAt(needle.length - 1) !== 10) return text.includes(needle);
  const cut = needle.charCodeAt(needle.length - 2) === 13 ? 2 : 1;
  return text.endsWith(needle.slice(0, -cut));
}

// ---- a minimal WebAssembly binary writer -------------------------------------------------------

function uleb(n: number): number[] {
  const out: number[] = [];
  let v = n >>> 0;
  do {
    let b = v & 0x7f;
    v >>>= 7;
    if (v !== 0) b |= 0x80;
    out.push(b);
  } while (v !== 0);
  return out;
}

function sleb(n: number): number[] {
  const out: number[] = [];
  let v = n | 0;
  for (;;) {
    const b = v & 0x7f;
    v >>= 7;
    if ((v === 0 && (b & 0x40) === 0) || (v === -1 && (b & 0x40) !== 0)) {
      out.push(b);
      return out;
    }
    out.push(b | 0x80);
  }
}

function section(id: number, body: number[]): number[] {
  return [id, ...uleb(body.length), ...body];
}

function name(s: string): number[] {
  const b = [...Buffer.from(s)];
  return [...uleb(b.length), ...b];
}

const I32 = 0x7f;
const V128 = 0x7b;

/** Opcodes used below (core and SIMD, the latter behind the 0xfd prefix). */
const op = {
  block: 0x02, loop: 0x03, if: 0x04, end: 0x0b, br: 0x0c, brIf: 0x0d, return: 0x0f, void: 0x40,
  localGet: 0x20, localSet: 0x21, localTee: 0x22,
  i32Load: 0x28, i32Load8u: 0x2d, i32Const: 0x41,
  i32Eqz: 0x45, i32Ne: 0x47, i32LtU: 0x49, i32GeU: 0x4f,
  i32Ctz: 0x68, i32Popcnt: 0x69, i32Add: 0x6a, i32Sub: 0x6b, i32Mul: 0x6c, i32And: 0x71, i32Shl: 0x74, i32ShrU: 0x76,
  simd: 0xfd,
};
const simd = {
  load: 0x00, shuffle: 0x0d, swizzle: 0x0e, splat8: 0x0f, eq8: 0x23, gtU8: 0x28, and: 0x4e, anyTrue: 0x53, bitmask8: 0x64, shrU8: 0x6d,
};

function s(opcode: number): number[] {
  return [op.simd, ...uleb(opcode)];
}

/** memarg: alignment exponent 0 (unaligned is fine for SIMD loads), then the offset. */
function mem(offset: number): number[] {
  return [0, ...uleb(offset)];
}

// Memory layout shared by the generated code and the JS side.
const TABLES = 16; // eight 16-byte nibble tables: low and high nibble for each of 4 anchor bytes
const BITSET = 256; // 2^16 bits: anchor words of the needles
const POSITIONS = 4;
const HASH_SHIFT = 16;
const HASH_MUL = 0x9e3779b1 | 0;
export const DATA = 16384; // the chunk being searched
const PAD = 64; // readable bytes past the chunk: loads look ahead

/** The module: `scan(from, end) -> anchor | -1` and `count(from, to) -> newlines`. */
function moduleBytes(): Uint8Array<ArrayBuffer> {
  // scan: params 0 from, 1 end; locals from 2: v128 lo/hi tables per anchor byte, v128 nib, r, v,
  // lo, hi (nibbles of the block at p), loN, hiN (of the block after it); then i32 mask, a, h
  const P = 0, END = 1, NIB = 2 + 2 * POSITIONS, R = NIB + 1, V = NIB + 2, LO = NIB + 3, HI = NIB + 4, LON = NIB + 5, HIN = NIB + 6;
  const MASK = NIB + 7, A = NIB + 8, H = NIB + 9;
  const tbl = (i: number): number => 2 + i;
  const scan: number[] = [];
  for (let i = 0; i < 2 * POSITIONS; i++) scan.push(op.i32Const, 0, ...s(simd.load), ...mem(TABLES + 16 * i), op.localSet, tbl(i));
  scan.push(op.i32Const, 0x0f, ...s(simd.splat8), op.localSet, NIB);
  // Nibbles of the block loaded at p + offset into two locals.
  const nibbles = (offset: number, lo: number, hi: number): number[] => [
    op.localGet, P, ...s(simd.load), ...mem(DATA + offset), op.localTee, V,
    op.localGet, NIB, ...s(simd.and), op.localSet, lo,
    op.localGet, V, op.i32Const, 4, ...s(simd.shrU8), op.localSet, hi,
  ];
  // The nibbles of the 16 bytes from p + j: lanes j.. of the block at p, then of the next one.
  // Each block is loaded and split into nibbles once; the shifted views are byte shuffles
  // (palignr on x86) instead of three more loads and nibble splits per block (1 GiB on one
  // thread: 0.76 s -> 0.71 s). Two blocks a round were slower: 18 live vectors spill registers.
  const shifted = (cur: number, next: number, j: number): number[] =>
    j === 0 ? [op.localGet, cur] : [op.localGet, cur, op.localGet, next, ...s(simd.shuffle), ...Array.from({ length: 16 }, (_, k) => j + k)];
  // One anchor byte j: r (&)= swizzle(lo table, lo nibbles) & swizzle(hi table, hi nibbles).
  const position = (j: number, first: boolean): number[] => [
    op.localGet, tbl(2 * j), ...shifted(LO, LON, j), ...s(simd.swizzle),
    op.localGet, tbl(2 * j + 1), ...shifted(HI, HIN, j), ...s(simd.swizzle),
    ...s(simd.and),
    ...(first ? [] : [op.localGet, R, ...s(simd.and)]),
    op.localSet, R,
  ];
  scan.push(
    ...nibbles(0, LO, HI),
    op.block, op.void,
    op.loop, op.void,
    op.localGet, P, op.localGet, END, op.i32GeU, op.brIf, 1,
    ...nibbles(16, LON, HIN),
    ...Array.from({ length: POSITIONS }, (_, j) => position(j, j === 0)).flat(),
    op.localGet, R, ...s(simd.anyTrue),
    op.if, op.void,
    // mask of lanes with any bucket bit: r > 0 per lane, then the lanes' high bits
    op.localGet, R, op.i32Const, 0, ...s(simd.splat8), ...s(simd.gtU8), ...s(simd.bitmask8), op.localSet, MASK,
    op.loop, op.void,
    op.localGet, P, op.localGet, MASK, op.i32Ctz, op.i32Add, op.localTee, A,
    op.localGet, END, op.i32GeU,
    op.if, op.void, op.i32Const, ...sleb(-1), op.return, op.end,
    // h = (word at a) * K >>> 16; test bit h of the bitset
    op.localGet, A, op.i32Load, ...mem(DATA), op.i32Const, ...sleb(HASH_MUL), op.i32Mul, op.i32Const, HASH_SHIFT, op.i32ShrU, op.localSet, H,
    op.localGet, H, op.i32Const, 3, op.i32ShrU, op.i32Load8u, ...mem(BITSET),
    op.i32Const, 1, op.localGet, H, op.i32Const, 7, op.i32And, op.i32Shl, op.i32And,
    op.if, op.void, op.localGet, A, op.return, op.end,
    op.localGet, MASK, op.localGet, MASK, op.i32Const, 1, op.i32Sub, op.i32And, op.localTee, MASK,
    op.brIf, 0,
    op.end,
    op.end,
    op.localGet, P, op.i32Const, 16, op.i32Add, op.localSet, P,
    op.localGet, LON, op.localSet, LO,
    op.localGet, HIN, op.localSet, HI,
    op.br, 0,
    op.end,
    op.end,
    op.i32Const, ...sleb(-1),
    op.end,
  );
  const scanBody = [...uleb(2), ...uleb(2 * POSITIONS + 7), V128, ...uleb(3), I32, ...scan];

  // count: params 0 from, 1 to; locals 2 i32 n, 3 v128 nl
  const count: number[] = [
    op.i32Const, 10, ...s(simd.splat8), op.localSet, 3,
    op.block, op.void, op.loop, op.void,
    op.localGet, 0, op.i32Const, 16, op.i32Add, op.localGet, 1, op.i32GeU, op.brIf, 1,
    op.localGet, 2, op.localGet, 0, ...s(simd.load), ...mem(DATA), op.localGet, 3, ...s(simd.eq8), ...s(simd.bitmask8), op.i32Popcnt, op.i32Add, op.localSet, 2,
    op.localGet, 0, op.i32Const, 16, op.i32Add, op.localSet, 0,
    op.br, 0,
    op.end, op.end,
    op.block, op.void, op.loop, op.void,
    op.localGet, 0, op.localGet, 1, op.i32GeU, op.brIf, 1,
    op.localGet, 2, op.localGet, 0, op.i32Load8u, ...mem(DATA), op.i32Const, 10, 0x46 /* i32.eq */, op.i32Add, op.localSet, 2,
    op.localGet, 0, op.i32Const, 1, op.i32Add, op.localSet, 0,
    op.br, 0,
    op.end, op.end,
    op.localGet, 2,
    op.end,
  ];
  const countBody = [...uleb(2), 1, I32, 1, V128, ...count];

  const type = [0x60, 2, I32, I32, 1, I32];
  const bytes = [
    0x00, 0x61, 0x73, 0x6d, 0x01, 0x00, 0x00, 0x00,
    ...section(1, [1, ...type]),
    ...section(2, [1, ...name('m'), ...name('mem'), 0x02, 0x00, ...uleb(1)]),
    ...section(3, [2, 0, 0]),
    ...section(7, [2, ...name('scan'), 0x00, 0, ...name('count'), 0x00, 1]),
    ...section(10, [2, ...uleb(scanBody.length), ...scanBody, ...uleb(countBody.length), ...countBody]),
  ];
  return new Uint8Array(bytes);
}

// ---- anchors, buckets, tables ---------------------------------------------------------------------

/** Rough odds of a byte in log text: lowercase and spaces are common, the rest is rarer. */
function byteOdds(c: number): number {
  if (c === 32) return 0.15;
  if (c >= 97 && c <= 122) return 'etaoinshrdlcu'.includes(String.fromCharCode(c)) ? 0.06 : 0.015;
  if (c >= 48 && c <= 57) return 0.03;
  if (c >= 65 && c <= 90) return 0.008;
  if (c === 46 || c === 44 || c === 58 || c === 45 || c === 47 || c === 91 || c === 93 || c === 61) return 0.012;
  return 0.004;
}

interface Needle {
  bytes: Buffer;
  /** Offset of the anchor word inside the needle. */
  anchor: number;
  word: number;
}

/**
 * Chooses each needle's anchor: the 4-byte window seen least often in `sample` (the first chunk of
 * the input: common words of this very log make bad anchors), ties broken by the static odds.
 */
function prepare(needles: readonly string[], sample: Buffer): Needle[] {
  const list = [...new Set(needles)].map((n) => Buffer.from(n, 'utf8'));
  const counts = new Map<number, number>();
  for (const b of list) {
    if (b.length < 4) throw new Error(`needle "${b.toString()}" is shorter than 4 bytes`);
    for (let o = 0; o + 4 <= b.length; o++) counts.set(b.readInt32LE(o), 0);
  }
  // A hashed filter of the needles' words spares the map lookup at nearly every position.
  const filter = new Uint8Array(1 << (32 - HASH_SHIFT));
  for (const w of counts.keys()) filter[hashWord(w)] = 1;
  let w = sample.length >= 4 ? sample.readInt32LE(0) : 0;
  for (let i = 0; i + 4 <= sample.length; i++) {
    if (i > 0) w = (w >>> 8) | (sample[i + 3] << 24);
    if (filter[hashWord(w)] === 0) continue;
    const c = counts.get(w | 0);
    if (c !== undefined) counts.set(w | 0, c + 1);
  }
  return list.map((bytes) => {
    let best = 0;
    let bestScore = Infinity;
    for (let o = 0; o + 4 <= bytes.length; o++) {
      const odds = byteOdds(bytes[o]) * byteOdds(bytes[o + 1]) * byteOdds(bytes[o + 2]) * byteOdds(bytes[o + 3]);
      const score = counts.get(bytes.readInt32LE(o))! + odds;
      if (score < bestScore) {
        bestScore = score;
        best = o;
      }
    }
    return { bytes, anchor: best, word: bytes.readInt32LE(best) };
  });
}

function hashWord(w: number): number {
  return Math.imul(w, HASH_MUL) >>> HASH_SHIFT;
}

/**
 * Spreads needles over the 8 buckets so that the lanes flagged by accident stay few: each needle
 * goes where it adds the least to the chance (from the sample's byte frequencies) that a random
 * position passes its bucket's nibble masks; then single needles move to another bucket while
 * that lowers the sum of the buckets' chances. The first pass alone depends on the order of the
 * needles: one needle more could put the sum up by half, and the moves take it down to about half
 * of what the first pass left, for inputs of a chunk or more (the team's needles on the reference workload: the lanes flagged
 * by accident went from 2.3% to 1.3% of the positions, the search of a GiB from 0.87 s to 0.72 s).
 */
function tables(needles: readonly Needle[], sample: Buffer): Uint8Array {
  const freq = new Float64Array(256);
  for (let i = 0; i < sample.length; i++) freq[sample[i]]++;
  for (let c = 0; c < 256; c++) freq[c] = (freq[c] + 1) / (sample.length + 256);
  const buckets: Needle[][] = Array.from({ length: 8 }, () => []);
  // A bucket as bit masks: per anchor byte, the low and the high nibbles its needles have there.
  const masks = (list: readonly Needle[]): Uint16Array => {
    const m = new Uint16Array(2 * POSITIONS);
    for (const n of list) {
      for (let j = 0; j < POSITIONS; j++) {
        const c = n.bytes[n.anchor + j];
        m[2 * j] |= 1 << (c & 15);
        m[2 * j + 1] |= 1 << (c >> 4);
      }
    }
    return m;
  };
  /** Chance that a random position of the log passes these masks at every anchor byte. */
  const chance = (m: Uint16Array): number => {
    if (m[0] === 0) return 0;
    let p = 1;
    for (let j = 0; j < POSITIONS; j++) {
      const lo = m[2 * j];
      const hi = m[2 * j + 1];
      let pj = 0;
      for (let c = 0; c < 256; c++) if ((lo >> (c & 15)) & (hi >> (c >> 4)) & 1) pj += freq[c];
      p *= pj;
    }
    return p;
  };
  const bucketMasks = buckets.map((b) => masks(b));
  const bucketChance = bucketMasks.map((m) => chance(m));
  const order = [...needles].sort((a, b) => a.word - b.word);
  for (const n of order) {
    const own = masks([n]);
    let bi = 0;
    let cost = Infinity;
    let bestMasks = own;
    bucketMasks.forEach((m, i) => {
      const merged = m.map((x, k) => x | own[k]);
      const c = chance(merged) - bucketChance[i];
      if (c < cost) {
        cost = c;
        bi = i;
        bestMasks = merged;
      }
    });
    buckets[bi].push(n);
    bucketMasks[bi] = bestMasks;
    bucketChance[bi] = chance(bestMasks);
  }
  // (Some milliseconds: worth it only where there is much to search, an input of a chunk or more.)
  for (let round = 0, moved = sample.length >= 1 << 20; moved && round < 20; round++) {
    moved = false;
    for (let from = 0; from < buckets.length; from++) {
      for (const n of [...buckets[from]]) {
        const rest = buckets[from].filter((x) => x !== n);
        const restChance = chance(masks(rest));
        let to = -1;
        let gain = 1e-12;
        for (let i = 0; i < buckets.length; i++) {
          if (i === from) continue;
          const g = bucketChance[from] + bucketChance[i] - restChance - chance(masks([...buckets[i], n]));
          if (g > gain) {
            gain = g;
            to = i;
          }
        }
        if (to < 0) continue;
        buckets[from] = rest;
        buckets[to].push(n);
        bucketChance[from] = restChance;
        bucketChance[to] = chance(masks(buckets[to]));
        moved = true;
      }
    }
  }
  const t = new Uint8Array(32 * POSITIONS);
  buckets.forEach((b, i) => {
    for (const n of b) {
      for (let j = 0; j < POSITIONS; j++) {
        const c = n.bytes[n.anchor + j];
        t[32 * j + (c & 15)] |= 1 << i;
        t[32 * j + 16 + (c >> 4)] |= 1 << i;
      }
    }
  });
  return t;
}

// ---- the scanner --------------------------------------------------------------------------------

export interface NeedleScanner {
  /**
   * A buffer to read input into: load() of (the start of) it copies nothing. It stays valid while
   * no larger buffer is asked for and no larger chunk is loaded.
   */
  inputBuffer(size: number): Buffer;
  /** Makes `chunk` the data that find/countNewlines look at. */
  load(chunk: Buffer): void;
  /** Start of the earliest needle occurrence inside [from, end), or -1. */
  find(from: number, end: number): number;
  /** Number of `\n` in [from, to). */
  countNewlines(from: number, to: number): number;
  readonly kind: 'wasm' | 'js';
}

let compiled: WebAssembly.Module | null | undefined;
const tuned = new Map<string, { needles: Needle[]; table: Uint8Array }>();

function wasmModule(): WebAssembly.Module | null {
  if (compiled === undefined) {
    try {
      const bytes = moduleBytes();
      compiled = WebAssembly.validate(bytes) ? new WebAssembly.Module(bytes) : null;
    } catch {
      compiled = null;
    }
  }
  return compiled;
}

class WasmScanner implements NeedleScanner {
  readonly kind = 'wasm' as const;
  private readonly memory: WebAssembly.Memory;
  private heap: Uint8Array;
  private readonly scanFn: (from: number, end: number) => number;
  private readonly countFn: (from: number, to: number) => number;
  private readonly byWord = new Map<number, Needle[]>();
  private maxAnchor = 0;
  private length = 0;
  private ready = false;

  constructor(module: WebAssembly.Module, private readonly needles: readonly string[]) {
    this.memory = new WebAssembly.Memory({ initial: Math.ceil((DATA + (1 << 20) + PAD) / 65536) });
    const inst = new WebAssembly.Instance(module, { m: { mem: this.memory } });
    this.scanFn = inst.exports.scan as (from: number, end: number) => number;
    this.countFn = inst.exports.count as (from: number, to: number) => number;
    this.heap = new Uint8Array(this.memory.buffer);
  }

  /** Anchors and tables, tuned on the first chunk of the input. */
  private setup(sample: Buffer): void {
    // Scanners of one thread for the same needles (the parallel scan has two) share one tuning.
    const key = this.needles.join('\n');
    let t = tuned.get(key);
    if (!t) {
      const needles = prepare(this.needles, sample.subarray(0, 1 << 20));
      t = { needles, table: tables(needles, sample.subarray(0, 1 << 20)) };
      tuned.set(key, t);
    }
    const { needles } = t;
    this.heap.set(t.table, TABLES);
    for (const n of needles) {
      const h = hashWord(n.word);
      this.heap[BITSET + (h >> 3)] |= 1 << (h & 7);
      const list = this.byWord.get(n.word) ?? [];
      list.push(n);
      this.byWord.set(n.word, list);
    }
    this.maxAnchor = Math.max(0, ...needles.map((n) => n.anchor));
    this.ready = true;
  }

  private reserve(size: number): void {
    const need = DATA + size + PAD;
    if (need > this.memory.buffer.byteLength) {
      this.memory.grow(Math.ceil((need - this.memory.buffer.byteLength) / 65536));
      this.heap = new Uint8Array(this.memory.buffer);
    }
  }

  inputBuffer(size: number): Buffer {
    this.reserve(size);
    return Buffer.from(this.memory.buffer, DATA, size);
  }

  load(chunk: Buffer): void {
    if (!this.ready) this.setup(chunk);
    // Read straight into the scanner's memory (inputBuffer): nothing to copy (0.03 s per GiB).
    if (chunk.buffer !== this.memory.buffer || chunk.byteOffset !== DATA) {
      this.reserve(chunk.length);
      this.heap.set(chunk, DATA);
    }
    this.heap.fill(0, DATA + chunk.length, DATA + chunk.length + PAD);
    this.length = chunk.length;
  }

  private matchAt(start: number, n: Needle): boolean {
    const h = this.heap;
    const b = n.bytes;
    const at = DATA + start;
    for (let i = 0; i < b.length; i++) if (h[at + i] !== b[i]) return false;
    return true;
  }

  find(from: number, end: number): number {
    let best = -1;
    let q = from;
    // Anchors sit at different offsets in their needles: keep looking until no later anchor can
    // belong to a needle that starts before the best one found.
    const limit = Math.min(this.length, end + this.maxAnchor);
    while (q < limit) {
      const a = this.scanFn(q, limit);
      if (a < 0) break;
      if (best >= 0 && a > best + this.maxAnchor) break;
      const word = (this.heap[DATA + a] | (this.heap[DATA + a + 1] << 8) | (this.heap[DATA + a + 2] << 16) | (this.heap[DATA + a + 3] << 24));
      for (const n of this.byWord.get(word) ?? []) {
        const start = a - n.anchor;
        if (start >= from && start + n.bytes.length <= end && (best < 0 || start < best) && this.matchAt(start, n)) best = start;
      }
      q = a + 1;
    }
    return best;
  }

  countNewlines(from: number, to: number): number {
    return from >= to ? 0 : this.countFn(from, to);
  }
}

class JsScanner implements NeedleScanner {
  readonly kind = 'js' as const;
  private buf: Buffer = Buffer.alloc(0);
  private readonly needles: Buffer[];

  constructor(needles: readonly string[]) {
    this.needles = [...new Set(needles)].map((n) => Buffer.from(n, 'utf8'));
  }

  inputBuffer(size: number): Buffer {
    return Buffer.allocUnsafe(size);
  }

  load(chunk: Buffer): void {
    this.buf = chunk;
  }

  find(from: number, end: number): number {
    let best = -1;
    for (const n of this.needles) {
      const p = this.buf.indexOf(n, from);
      if (p >= 0 && p + n.length <= end && (best < 0 || p < best)) best = p;
    }
    return best;
  }

  countNewlines(from: number, to: number): number {
    let n = 0;
    let p = from;
    while ((p = this.buf.indexOf(10, p)) !== -1 && p < to) {
      n++;
      p++;
    }
    return n;
  }
}

/** A scanner for a needle set: WebAssembly SIMD where available, else Buffer.indexOf. */
export function needleScanner(needles: readonly string[], prefer: 'wasm' | 'js' = 'wasm'): NeedleScanner {
  const mod = prefer === 'wasm' && process.env.KLOGSCAN_NO_WASM !== '1' ? wasmModule() : null;
  return mod ? new WasmScanner(mod, needles) : new JsScanner(needles);
}
