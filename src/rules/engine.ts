/**
 * Matches one report against the rule set and gives each matching rule a kernel-version verdict.
 * Matching looks at the report's reliable task frames (normalised), its culprit and wait
 * primitive (fingerprint.ts), its task name, the host's recent context lines and the kernel
 * release. Matches come out best first: a rule whose frames pin the culprit beats one that only
 * names the wait primitive; then more ordered frames, log evidence, a specific task name; at equal
 * specificity a kernel bug comes before an environmental cause, and `supersedes` is honoured.
 */
import type { CrashInfo, Frame } from '../../parsers/record.js';
import { normalizeFn, reliableTaskFrames, type Culprit } from '../fingerprint.js';
import {
  compareInStream, isDistroStream, parseRelease, seriesOf, versionCompare, type KernelRelease,
} from './kernel-release.js';
import type { RuleSet } from './loader.js';
import type { CompiledMatch, Rule, RuleKind, StreamBounds, Verdict } from './types.js';

export interface RuleMatch {
  rule: string;
  title: string;
  kind: RuleKind;
  role: 'culprit' | 'victim';
  verdict: Verdict;
  /** The fix that applies to this kernel's stream, or every known fix when the kernel is unknown. */
  fixed_in: string | null;
  /** Why the verdict is what it is, in words. */
  reason: string;
  /** The host's log line (seen before the report) that matched one of the rule's log patterns; null: the trace alone. */
  evidence: string | null;
  specificity: number;
}

export interface Analyzable {
  kind: string;
  task: string;
  frames: readonly Frame[];
  kernel: string | null;
  kernelPackage: string | null;
  context: readonly string[];
  /** The report's own lines as read (for report_patterns). */
  lines: readonly string[];
  /** What the other kinds' first line and body said: where the CPU was, an OOM kill's constraint. */
  crash?: Pick<CrashInfo, 'ip' | 'oom'> | null;
}

/** What a block compares beyond the frames: computed once per report. */
interface Facts {
  /** The normalised function where the CPU was, or null. */
  ip: string | null;
  constraint: string | null;
  /** The first of the report's lines that each report pattern of the rules matches (null: none). */
  reportHits: Map<RegExp, string | null>;
}

export interface VersionVerdict {
  verdict: Verdict;
  fixed_in: string | null;
  reason: string;
}

function asList(f: string | string[] | null | undefined): string[] {
  if (f === null || f === undefined) return [];
  return Array.isArray(f) ? f : [f];
}

/** Every fix of a rule, for a report whose kernel is unknown: `5.0 (upstream), 3.10.0-957.12.1.el7 (rhel7)`. */
function allFixes(versions: Record<string, StreamBounds>): string | null {
  const parts: string[] = [];
  for (const [stream, b] of Object.entries(versions)) for (const f of asList(b.fixed)) parts.push(`${f} (${stream})`);
  return parts.length > 0 ? parts.join(', ') : null;
}

/** Upstream `fixed` lists hold the mainline release as `x.y` and stable fixes as `x.y.z`. */
function mainlineOf(fixed: string[]): string | null {
  let best: string | null = null;
  for (const f of fixed) if (f.split('.').length === 2 && (!best || versionCompare(f, best) > 0)) best = f;
  return best;
}

function upstreamVerdict(k: KernelRelease, up: StreamBounds | undefined): VersionVerdict {
  if (!up) return { verdict: 'unknown', fixed_in: null, reason: `no bounds are known for ${k.stream} kernels or upstream` };
  const fixed = asList(up.fixed);
  const mainline = mainlineOf(fixed);
  const series = `${k.base[0]}.${k.base[1]}`;
  // Only a kernel whose number tells its history predates a bug: a distribution or vendor kernel
  // may have taken it in with a backport. A release given as `x.y` predates a bug of a later series.
  // (A candidate x.y-rcN compares as x.y: before a bug that a stable x.y.z brought, not before one of x.y.)
  const plain = !isDistroStream(k.stream) && !k.backports;
  const before = up.introduced && (k.exactSublevel ? versionCompare(k.base, up.introduced) : versionCompare(series, seriesOf(up.introduced))) < 0;
  if (plain && before) {
    return { verdict: 'fixed', fixed_in: mainline, reason: `kernel ${k.raw} predates the bug (introduced in ${up.introduced}): a different cause` };
  }
  if (k.prerelease && mainline && series === seriesOf(mainline)) {
    return { verdict: 'unknown', fixed_in: mainline, reason: `${k.raw} is a release candidate of ${series}, whose release has the fix; which candidate got it is not known` };
  }
  if (mainline && versionCompare(series, mainline) >= 0) {
    return { verdict: 'fixed', fixed_in: mainline, reason: `${seriesOf(mainline)} and later contain the fix: signature of a fixed bug, a regression or a different cause` };
  }
  const stable = fixed.find((f) => f.split('.').length > 2 && seriesOf(f) === series);
  if (stable) {
    if (!k.exactSublevel) {
      return { verdict: 'unknown', fixed_in: stable, reason: `fixed in ${stable} on the ${series} branch; the sublevel of ${k.raw} is not visible in its release string` };
    }
    if (versionCompare(k.base, stable) >= 0) {
      return { verdict: 'fixed', fixed_in: stable, reason: `${k.raw} is at or past the ${series} fix ${stable}: signature of a fixed bug, a regression or a different cause` };
    }
    return k.backports
      ? { verdict: 'unknown', fixed_in: stable, reason: `${k.raw} is based on a ${series} release older than the fix ${stable}; whether its vendor took the fix in is not known` }
      : { verdict: 'affected', fixed_in: stable, reason: `${k.raw} is older than the ${series} fix ${stable}` };
  }
  if (isDistroStream(k.stream) || k.backports) {
    return { verdict: 'unknown', fixed_in: mainline, reason: `${isDistroStream(k.stream) ? `${k.stream} kernel ${k.raw}` : `${k.raw}, a distribution or vendor build,`}: whether it carries the upstream fix${mainline ? ` (${mainline})` : ''} is not known` };
  }
  if (!mainline) {
    return fixed.length > 0
      ? { verdict: 'unknown', fixed_in: fixed.join(', '), reason: `fixed on other branches (${fixed.join(', ')}); nothing is known for ${series}` }
      : { verdict: 'affected', fixed_in: null, reason: 'no fix is known' };
  }
  return { verdict: 'affected', fixed_in: mainline, reason: `${k.raw} is older than ${mainline}${fixed.length > 1 ? ` and no ${series} stable fix is known` : ''}` };
}

function streamVerdict(k: KernelRelease, stream: string, b: StreamBounds): VersionVerdict | null {
  let fixed = asList(b.fixed);
  if (fixed.length > 1) {
    // One entry per series (Ubuntu 4.15 / 5.4 ...): take the one of this kernel's base version.
    const base = k.compareKey.split('-')[0];
    fixed = fixed.filter((f) => f.split('-')[0] === base);
    if (fixed.length === 0) return null;
  }
  const f = fixed[0] ?? null;
  if (f && compareInStream(stream, k.compareKey, f) >= 0) {
    return { verdict: 'fixed', fixed_in: f, reason: `${k.raw} is at or past the fix ${f}: signature of a fixed bug, a regression or a different cause` };
  }
  if (b.introduced && compareInStream(stream, k.compareKey, b.introduced) < 0) {
    return { verdict: 'fixed', fixed_in: f, reason: `${k.raw} predates the bug (introduced in ${b.introduced}): a different cause` };
  }
  return { verdict: 'affected', fixed_in: f, reason: f ? `${k.raw} is older than the fix ${f}` : `no ${stream} fix is known` };
}

/** The verdict of a kernel-bug rule for a kernel release (null: unknown kernel). */
export function versionVerdict(rule: Rule, release: string | null, pkg: string | null = null): VersionVerdict {
  if (rule.spec.kind === 'environment') {
    return { verdict: 'affected', fixed_in: null, reason: 'an environmental cause: no kernel version is immune' };
  }
  const versions = rule.spec.versions ?? {};
  if (Object.keys(versions).length === 0) {
    return { verdict: 'unknown', fixed_in: null, reason: 'a family of kernel bugs with no single fixing release: a current kernel of your distribution has the known fixes' };
  }
  if (!release) {
    return { verdict: 'unknown', fixed_in: allFixes(versions), reason: 'the kernel release is not in the log: pass --kernel RELEASE' };
  }
  const k = parseRelease(release, pkg);
  if (!k) return { verdict: 'unknown', fixed_in: allFixes(versions), reason: `cannot read a version in "${release}"` };
  const own = versions[k.stream];
  if (own && k.stream !== 'upstream') {
    const v = streamVerdict(k, k.stream, own);
    if (v) return v;
  }
  return upstreamVerdict(k, versions.upstream);
}

interface BlockResult { specificity: number; evidence: string | null }

function matchBlock(m: CompiledMatch, a: Analyzable, norms: { norm: string; index: number }[], culprit: Culprit, facts: Facts): BlockResult | null {
  if (m.family && a.kernel && !m.family.test(a.kernel)) return null;
  if (m.tasks && !m.tasks.test(a.task)) return null;
  if (m.noTrace && a.frames.length > 0) return null;
  if (m.primitive && (!culprit.primitive || !m.primitive.has(culprit.primitive))) return null;
  if (m.ip && (facts.ip === null || !m.ip.test(facts.ip))) return null;
  if (m.oomConstraint && (facts.constraint === null || !m.oomConstraint.has(facts.constraint))) return null;
  let reportLine: string | null = null;
  for (const p of m.reports) {
    reportLine = facts.reportHits.get(p.re) ?? null;
    if (reportLine !== null) break;
  }
  if (m.reportRequired && reportLine === null) return null;
  const matched = new Set<number>();
  let pos = 0;
  for (const re of m.inOrder) {
    while (pos < norms.length && !re.test(norms[pos].norm)) pos++;
    if (pos >= norms.length) return null;
    matched.add(norms[pos].index);
    pos++;
  }
  if (m.none.length > 0 && norms.some((n) => m.none.some((re) => re.test(n.norm)))) return null;
  let anyHit = false;
  if (m.any.length > 0) {
    for (const n of norms) {
      if (m.any.some((re) => re.test(n.norm))) {
        matched.add(n.index);
        anyHit = true;
      }
    }
    if (!anyHit) return null;
  }
  let culpritHit = false;
  if (m.culprit) {
    if (!culprit.fn || !m.culprit.test(culprit.fn)) return null;
    culpritHit = true;
  }
  let evidence: string | null = null;
  if (m.logs.length > 0) {
    evidence = latestLogHit(m.logs, a.context);
    if (m.logRequired && evidence === null) return null;
  }
  const logHit = evidence !== null || reportLine !== null;
  const pins = culpritHit || m.ip !== null || (culprit.index >= 0 && matched.has(culprit.index));
  const specificity = (pins ? 1000 : 0) + m.inOrder.length * 100 + (logHit ? 50 : 0) + (m.oomConstraint ? 30 : 0)
    + (m.taskSpecific ? 20 : 0) + (anyHit ? 10 : 0) + (m.family ? 5 : 0) + (m.primitive ? 2 : 0);
  return { specificity, evidence: evidence ?? reportLine };
}

/**
 * The report's first line that `p` matches, or null. Patterns read a line's first 512 characters,
 * as they read the evidence lines before a report: a rule's pattern need not be linear on a
 * crafted line of kilobytes.
 */
function reportHit(p: { needle: string; re: RegExp }, lines: readonly string[]): string | null {
  for (const line of lines) {
    const s = line.length > 512 ? line.slice(0, 512) : line;
    if (s.includes(p.needle) && p.re.test(s)) return s;
  }
  return null;
}

/** The latest context line that one of `logs` matches: the one nearest the report. */
function latestLogHit(logs: CompiledMatch['logs'], context: readonly string[]): string | null {
  for (let i = context.length - 1; i >= 0; i--) {
    const line = context[i];
    if (logs.some((l) => line.includes(l.needle) && l.re.test(line))) return line;
  }
  return null;
}

const VERDICT_RANK: Record<Verdict, number> = { affected: 0, unknown: 1, fixed: 2 };

/**
 * The same problem is reported again and again (every khungtaskd pass, every host of a fleet):
 * results are remembered per rule set for everything matching looks at, so a repeat costs one
 * lookup. Bounded: the memo is cleared when it grows past MEMO_MAX entries.
 */
const MEMO_MAX = 4096;
const memos = new WeakMap<RuleSet, Map<string, RuleMatch[]>>();

export function matchRules(set: RuleSet, a: Analyzable, culprit: Culprit): RuleMatch[] {
  const rules = set.forKind(a.kind);
  if (rules.length === 0) return [];
  const norms = reliableTaskFrames(a.frames).map((u) => ({ norm: u.norm, index: u.index }));
  const reportHits = new Map<RegExp, string | null>();
  for (const r of rules) for (const m of r.matches) for (const p of m.reports) if (!reportHits.has(p.re)) reportHits.set(p.re, reportHit(p, a.lines));
  const facts: Facts = { ip: a.crash?.ip ? normalizeFn(a.crash.ip.fn) : null, constraint: a.crash?.oom?.constraint ?? null, reportHits };
  // (The key holds the reliable task frames; whether there are frames at all is no_trace's question.)
  const key = [a.kind, a.task, a.frames.length > 0 ? 'traced' : '', a.kernel ?? '', a.kernelPackage ?? '', culprit.fn ?? '', culprit.primitive ?? '', culprit.index,
    facts.ip ?? '', facts.constraint ?? '', [...reportHits.values()].map((l) => l ?? '').join('\u0001'),
    norms.map((n) => `${n.index}:${n.norm}`).join(','), ...a.context].join('\u0000');
  let memo = memos.get(set);
  if (!memo) {
    memo = new Map();
    memos.set(set, memo);
  }
  const known = memo.get(key);
  if (known) return known.map((m) => ({ ...m }));
  const result = matchUncached(rules, a, norms, culprit, facts);
  if (memo.size >= MEMO_MAX) memo.clear();
  memo.set(key, result);
  return result.map((m) => ({ ...m }));
}

function matchUncached(rules: readonly Rule[], a: Analyzable, norms: { norm: string; index: number }[], culprit: Culprit, facts: Facts): RuleMatch[] {
  const found: (RuleMatch & { r: Rule })[] = [];
  for (const r of rules) {
    let best: BlockResult | null = null;
    for (const m of r.matches) {
      const res = matchBlock(m, a, norms, culprit, facts);
      if (res && (!best || res.specificity > best.specificity)) best = res;
    }
    if (!best) continue;
    const v = versionVerdict(r, a.kernel, a.kernelPackage);
    // A block matched on frames alone: a line that another block of the rule looks for still
    // confirms the cause (a USB reset before a scsi_eh task's report).
    const evidence = best.evidence ?? latestLogHit(r.matches.flatMap((m) => m.logs), a.context);
    found.push({
      r,
      rule: r.spec.id,
      title: r.spec.title,
      kind: r.spec.kind,
      role: r.spec.role ?? 'culprit',
      verdict: v.verdict,
      fixed_in: v.fixed_in,
      reason: v.reason,
      evidence,
      specificity: best.specificity,
    });
  }
  found.sort((x, y) =>
    y.specificity - x.specificity
    || (x.kind === y.kind ? 0 : x.kind === 'kernel-bug' ? -1 : 1)
    || VERDICT_RANK[x.verdict] - VERDICT_RANK[y.verdict]
    || (x.rule < y.rule ? -1 : x.rule > y.rule ? 1 : 0));
  // A rule that supersedes another ranks before it, whatever the scores said.
  for (let moved = true, guard = 0; moved && guard < found.length * found.length; guard++) {
    moved = false;
    for (let i = 0; i < found.length && !moved; i++) {
      for (let j = i + 1; j < found.length; j++) {
        if (found[j].r.spec.supersedes?.includes(found[i].rule)) {
          found.splice(i, 0, ...found.splice(j, 1));
          moved = true;
          break;
        }
      }
    }
  }
  return found.map(({ r: _r, ...m }) => m);
}
