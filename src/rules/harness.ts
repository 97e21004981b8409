/**
 * The rule harness (ESLint's RuleTester is the model): every rule proves itself on its samples.
 * - a rule needs at least one hit sample, one miss sample and one reference;
 * - each hit sample yields at least one report that the rule matches (with the verdict the sample
 *   names, under the sample's --kernel), and none of its reports of the kinds the rule reads matches
 *   another rule unless this rule says it supersedes that one (overlaps are declared, never silent);
 * - no report of a miss sample matches the rule.
 * Used by the mocha suite for the built-in rules and by `klogscan rules test DIR` for user rules.
 */
import fs from 'node:fs';
import path from 'node:path';
import { ChunkFeeder } from '../input/feeder.js';
import { Scanner, type AnalyzedReport } from '../scan.js';
import type { RuleSet } from './loader.js';
import type { Rule, SampleRef } from './types.js';

export interface HarnessCase {
  rule: string;
  kind: 'meta' | 'hit' | 'miss';
  sample: string;
  ok: boolean;
  problem: string | null;
}

/** Scans a sample file synchronously with the given rules (no store, fixed reference year). */
export function scanSample(file: string, rules: RuleSet, kernel: string | null = null): AnalyzedReport[] {
  const out: AnalyzedReport[] = [];
  const scanner = new Scanner({ rules, kernel }, (a) => out.push(a));
  scanner.beginSource(file, Date.UTC(2030, 0, 1));
  const feeder = new ChunkFeeder(scanner);
  feeder.push(fs.readFileSync(file));
  feeder.end();
  scanner.endSource();
  return out;
}

function label(ref: SampleRef, root: string): string {
  const rel = path.relative(root, ref.file);
  return ref.kernel ? `${rel} --kernel ${ref.kernel}` : rel;
}

export function checkRule(rule: Rule, set: RuleSet, root = process.cwd()): HarnessCase[] {
  const id = rule.spec.id;
  const cases: HarnessCase[] = [];
  const meta = (ok: boolean, problem: string): void => {
    cases.push({ rule: id, kind: 'meta', sample: '', ok, problem: ok ? null : problem });
  };
  meta(rule.samples.hit.length > 0, 'has no hit sample');
  meta(rule.samples.miss.length > 0, 'has no miss sample');
  meta(rule.spec.references.length > 0, 'has no reference');
  for (const s of [...rule.samples.hit, ...rule.samples.miss]) {
    if (!fs.existsSync(s.file)) meta(false, `sample ${path.relative(root, s.file)} does not exist`);
  }

  for (const ref of rule.samples.hit) {
    if (!fs.existsSync(ref.file)) continue;
    const reports = scanSample(ref.file, set, ref.kernel ?? null);
    let problem: string | null = null;
    const hits = reports.filter((a) => a.matches.some((m) => m.rule === id));
    if (reports.length === 0) problem = 'no report found in the sample';
    else if (hits.length === 0) problem = `the rule does not match (signatures: ${reports.map((a) => a.identity.signature).join('; ')})`;
    else if (ref.verdict) {
      const wrong = hits.find((a) => a.matches.find((m) => m.rule === id)!.verdict !== ref.verdict);
      if (wrong) problem = `verdict ${wrong.matches.find((m) => m.rule === id)!.verdict}, expected ${ref.verdict}`;
    }
    if (!problem) {
      // Another rule may match only where this rule declares that it supersedes it: in the reports
      // of the kinds this rule reads (an OOM kill before a hung task is another report, with causes of its own).
      for (const a of reports) {
        if (!rule.kinds.has(a.report.kind)) continue;
        const other = a.matches.find((m) => m.rule !== id && !(rule.spec.supersedes ?? []).includes(m.rule));
        if (other) {
          problem = `report ${a.report.task}:${a.report.pid} also matches ${other.rule} (add it to "supersedes" if this rule refines it)`;
          break;
        }
      }
    }
    cases.push({ rule: id, kind: 'hit', sample: label(ref, root), ok: problem === null, problem });
  }

  for (const ref of rule.samples.miss) {
    if (!fs.existsSync(ref.file)) continue;
    const reports = scanSample(ref.file, set, ref.kernel ?? null);
    const bad = reports.find((a) => a.matches.some((m) => m.rule === id));
    cases.push({
      rule: id,
      kind: 'miss',
      sample: label(ref, root),
      ok: !bad,
      problem: bad ? `matches report ${bad.report.task}:${bad.report.pid} (${bad.identity.signature})` : null,
    });
  }
  return cases;
}
