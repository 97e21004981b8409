// The needle scanner: the WebAssembly SIMD search and the plain one find exactly the same lines.
import assert from 'node:assert/strict';
import { needleScanner } from '../src/input/needle-scan.js';
import { rules } from './helpers.js';

function rng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = Math.imul(a ^ (a >>> 15), a | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

describe('needle scanner', () => {
  const needles = [' for more than ', 'Linux version ', ': Show ', '"MESSAGE":[', ...rules().needles];

  it('uses WebAssembly SIMD on this Node', () => {
    assert.equal(needleScanner(needles).kind, 'wasm');
  });

  it('finds every planted needle, at every alignment, as the plain search does', () => {
    const rnd = rng(5);
    const alphabet = 'abcdefghijklmnopqrstuvwxyz      .:[]()0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ_-/\n';
    for (let round = 0; round < 20; round++) {
      const parts: string[] = [];
      for (let i = 0; i < 400; i++) {
        let s = '';
        const n = Math.floor(rnd() * 120);
        for (let j = 0; j < n; j++) s += alphabet[Math.floor(rnd() * alphabet.length)];
        parts.push(s);
        if (rnd() < 0.2) parts.push(needles[Math.floor(rnd() * needles.length)]);
        // near misses: a needle with one byte changed
        if (rnd() < 0.1) {
          const nd = needles[Math.floor(rnd() * needles.length)];
          const k = Math.floor(rnd() * nd.length);
          parts.push(nd.slice(0, k) + '#' + nd.slice(k + 1));
        }
      }
      const buf = Buffer.from(parts.join(''));
      const w = needleScanner(needles);
      const j = needleScanner(needles, 'js');
      w.load(buf);
      j.load(buf);
      const all = (sc: typeof w): number[] => {
        const out: number[] = [];
        for (let p = 0; (p = sc.find(p, buf.length)) >= 0; p++) out.push(p);
        return out;
      };
      assert.deepEqual(all(w), all(j), `round ${round}`);
      for (let k = 0; k < 20; k++) {
        const a = Math.floor(rnd() * buf.length);
        const b = a + Math.floor(rnd() * (buf.length - a));
        assert.equal(w.countNewlines(a, b), j.countNewlines(a, b));
        assert.equal(w.find(a, b), j.find(a, b), `find in [${a}, ${b})`);
      }
    }
  });

  it('reloads: a second chunk replaces the first, also when it is larger than the first', () => {
    const w = needleScanner(needles);
    w.load(Buffer.from('x Linux version 1\n'));
    assert.equal(w.find(0, 18), 2);
    const big = Buffer.alloc(3 << 20, 0x61);
    big.write(' for more than ', 2 << 20);
    w.load(big);
    assert.equal(w.find(0, big.length), 2 << 20);
    assert.equal(w.find(0, 10), -1);
  });
});
