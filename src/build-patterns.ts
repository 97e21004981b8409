/**
 * Build step (`npm run build`, after tsc): loads every module that defines patterns and the
 * built-in rules, so that each pattern is translated by XRegExp once, and writes the translations
 * to dist/patterns.json. At run time klogscan then starts without loading XRegExp at all.
 */
import fs from 'node:fs';
import { fileURLToPath } from 'node:url';

const CACHE = fileURLToPath(new URL('../patterns.json', import.meta.url));
// Translate everything afresh: a stale entry must never hide a changed pattern.
process.env.KLOGSCAN_PATTERNS_BUILD = '1';
const { translated } = await import('../parsers/patterns.js');
await import('../parsers/formats/index.js');
await import('../parsers/assembler.js');
await import('../parsers/frame.js');
await import('../parsers/hung-task.js');
const { loadRules } = await import('./rules/loader.js');
loadRules([], { system: false });
fs.writeFileSync(CACHE, JSON.stringify(translated));
process.stdout.write(`patterns: ${Object.keys(translated).length} translated into ${CACHE}\n`);
