/**
 * Golden files: every sample in samples/ paired with its expected analysis in test/golden/.
 * KLOGSCAN_UPDATE_GOLDEN=1 npm test rewrites them from the current output; review the diff.
 */
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import type { Frame } from '../parsers/record.js';
import type { AnalyzedReport } from '../src/scan.js';
import { ROOT, scanText } from './helpers.js';

const SAMPLES = path.join(ROOT, 'samples');
const GOLDEN = path.join(ROOT, 'test/golden');
const UPDATE = process.env.KLOGSCAN_UPDATE_GOLDEN === '1';

function sampleFiles(dir: string): string[] {
  const out: string[] = [];
  for (const e of fs.readdirSync(dir, { withFileTypes: true })) {
    const p = path.join(dir, e.name);
    if (e.isDirectory()) out.push(...sampleFiles(p));
    else if (!e.name.endsWith('.md')) out.push(p);
  }
  return out.sort();
}

function frame(f: Frame): string {
  let s = `${f.unreliable ? '? ' : ''}${f.fn}`;
  if (f.offset) s += `+${f.offset}${f.size ? `/${f.size}` : ''}`;
  if (f.module) s += ` [${f.module}]`;
  if (f.inline) s += ' [inline]';
  if (f.context !== 'task') s += ` {${f.context}}`;
  return s;
}

/** What a golden file pins down, compact enough to review as a diff. */
function golden(reports: AnalyzedReport[]): unknown {
  return reports.map((a) => {
    const r = a.report;
    return {
      line: r.source.line,
      kind: r.kind,
      host: r.host,
      time: r.time === null ? null : new Date(r.time).toISOString(),
      uptime: r.uptime,
      task: r.task,
      pid: r.pid,
      blocked_seconds: r.blockedSeconds,
      state: r.state,
      kernel: r.kernel,
      tainted: r.tainted,
      signature: a.identity.signature,
      fingerprint: a.identity.fingerprint,
      matches: a.matches.map((m) => `${m.rule}: ${m.verdict}`),
      truncated: r.truncated,
      blocker: r.blocker && { lock: r.blocker.lock, owner: r.blocker.owner, owner_frames: r.blocker.ownerFrames.map(frame) },
      frames: r.frames.map(frame),
      ...(r.crash ? {
        crash: {
          what: r.crash.what, cpu: r.crash.cpu, seconds: r.crash.seconds, ip: r.crash.ip && frame(r.crash.ip), location: r.crash.location,
          address: r.crash.address, rcu: r.crash.rcu, oom: r.crash.oom, message: r.crash.message,
        },
      } : {}),
    };
  });
}

describe('golden analyses of samples/', () => {
  for (const file of sampleFiles(SAMPLES)) {
    const rel = path.relative(SAMPLES, file);
    it(rel, () => {
      const got = golden(scanText(fs.readFileSync(file)));
      const gfile = path.join(GOLDEN, `${rel}.json`);
      if (UPDATE) {
        fs.mkdirSync(path.dirname(gfile), { recursive: true });
        fs.writeFileSync(gfile, JSON.stringify(got, null, 1) + '\n');
        return;
      }
      assert.ok(fs.existsSync(gfile), `no golden file ${path.relative(ROOT, gfile)}: run KLOGSCAN_UPDATE_GOLDEN=1 npm test and review it`);
      assert.deepEqual(got, JSON.parse(fs.readFileSync(gfile, 'utf8')));
    });
  }

  it('has no golden file without its sample', () => {
    const orphans = sampleFiles(GOLDEN).map((g) => path.relative(GOLDEN, g).replace(/\.json$/, ''))
      .filter((rel) => !fs.existsSync(path.join(SAMPLES, rel)));
    if (UPDATE) for (const o of orphans) fs.rmSync(path.join(GOLDEN, `${o}.json`));
    else assert.deepEqual(orphans, []);
  });
});
