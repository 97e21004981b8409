/**
 * Loads rule files: the built-in database (rules/ in the package), then /etc/klogscan/rules.d
 * (or $KLOGSCAN_RULES_D) when it exists, then every --rules DIR; a later rule with the same id replaces an earlier one.
 * Every file is validated and its patterns compiled once, here; a bad file stops the load with
 * a RuleFileError naming the file and the problem.
 */
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { compileUser } from '../../parsers/patterns.js';
import { BLOCKED_KINDS, REPORT_KINDS } from '../../parsers/record.js';
import type { CompiledMatch, LogPatternSpec, MatchSpec, Rule, RuleFile, SampleRef, StreamBounds } from './types.js';

export class RuleFileError extends Error {
  constructor(readonly file: string, problem: string) {
    super(`${file}: ${problem}`);
  }
}

export const BUILTIN_RULES_DIR = fileURLToPath(new URL('../../../rules/', import.meta.url));
/** Site rules; KLOGSCAN_RULES_D points elsewhere (tests, or a host that keeps them in another place). */
export function systemRulesDir(): string {
  return process.env.KLOGSCAN_RULES_D || '/etc/klogscan/rules.d';
}

const ID = /^[a-z0-9]+(?:-[a-z0-9]+)*$/;
const VERDICTS = new Set(['affected', 'fixed', 'unknown']);

function globToRegExpSource(glob: string): string {
  return glob.replace(/[.+?^${}()|[\]\\]/g, '\\$&').replace(/\*/g, '.*');
}

/** `a|b|c*` -> /^(?:a|b|c.*)$/ */
function framePattern(spec: string): RegExp {
  return new RegExp(`^(?:${spec.split('|').map((s) => globToRegExpSource(s.trim())).join('|')})$`);
}

function isStringArray(v: unknown): v is string[] {
  return Array.isArray(v) && v.every((x) => typeof x === 'string' && x.length > 0);
}

function compileMatch(file: string, m: MatchSpec, i: number): CompiledMatch {
  const where = `match[${i}]`;
  const known = new Set(['frames_in_order', 'any_frames', 'no_frames', 'culprit', 'primitive', 'task_names', 'log_patterns', 'log_required', 'no_trace', 'kernel_family',
    'ip', 'oom_constraint', 'report_patterns', 'report_required']);
  for (const k of Object.keys(m)) if (!known.has(k)) throw new RuleFileError(file, `${where}: unknown key "${k}"`);
  for (const k of ['frames_in_order', 'any_frames', 'no_frames', 'culprit', 'primitive', 'task_names', 'ip', 'oom_constraint'] as const) {
    if (m[k] !== undefined && !isStringArray(m[k])) throw new RuleFileError(file, `${where}.${k} must be a list of non-empty strings`);
  }
  const inOrder = (m.frames_in_order ?? []).map(framePattern);
  const any = (m.any_frames ?? []).map(framePattern);
  const none = (m.no_frames ?? []).map(framePattern);
  const culprit = m.culprit ? framePattern(m.culprit.join('|')) : null;
  const ip = m.ip ? framePattern(m.ip.join('|')) : null;
  const logs = linePatterns(file, `${where}.log_patterns`, m.log_patterns);
  const reports = linePatterns(file, `${where}.report_patterns`, m.report_patterns);
  if (m.log_required && logs.length === 0) throw new RuleFileError(file, `${where}: log_required without log_patterns`);
  if (m.report_required && reports.length === 0) throw new RuleFileError(file, `${where}: report_required without report_patterns`);
  let family: RegExp | null = null;
  if (m.kernel_family !== undefined) {
    if (typeof m.kernel_family !== 'string') throw new RuleFileError(file, `${where}.kernel_family must be a string`);
    try {
      family = compileUser(m.kernel_family);
    } catch (e) {
      throw new RuleFileError(file, `${where}.kernel_family: bad pattern: ${(e as Error).message}`);
    }
  }
  if (inOrder.length === 0 && any.length === 0 && !culprit && logs.length === 0 && !ip && !m.oom_constraint && !m.report_required) {
    throw new RuleFileError(file, `${where} has no frames, culprit, ip, OOM constraint, required report pattern or log patterns: it would match every report`);
  }
  const tasks = m.task_names && !m.task_names.every((t) => t === '*')
    ? new RegExp(`^(?:${m.task_names.map(globToRegExpSource).join('|')})$`)
    : null;
  return {
    inOrder, any, none, culprit, tasks, logs, family,
    primitive: m.primitive ? new Set(m.primitive) : null,
    taskSpecific: tasks !== null,
    logRequired: m.log_required === true,
    noTrace: m.no_trace === true,
    ip,
    oomConstraint: m.oom_constraint ? new Set(m.oom_constraint) : null,
    reports,
    reportRequired: m.report_required === true,
  };
}

/** A block's log_patterns or report_patterns, compiled: each a plain needle and its pattern. */
function linePatterns(file: string, where: string, list: LogPatternSpec[] | undefined): { needle: string; re: RegExp }[] {
  if (list !== undefined && !Array.isArray(list)) throw new RuleFileError(file, `${where} must be a list`);
  return (list ?? []).map((lp, j) => {
    if (!lp || typeof lp.needle !== 'string' || lp.needle.length === 0 || typeof lp.pattern !== 'string') {
      throw new RuleFileError(file, `${where}[${j}] needs a non-empty "needle" and a "pattern"`);
    }
    try {
      return { needle: lp.needle, re: compileUser(lp.pattern) };
    } catch (e) {
      throw new RuleFileError(file, `${where}[${j}]: bad pattern: ${(e as Error).message}`);
    }
  });
}

function sampleRefs(file: string, list: unknown, which: string): SampleRef[] {
  if (!Array.isArray(list)) throw new RuleFileError(file, `samples.${which} must be a list`);
  return list.map((s, i) => {
    const ref: SampleRef | null = typeof s === 'string' ? { file: s } : (s && typeof s === 'object' ? (s as SampleRef) : null);
    if (!ref || typeof ref.file !== 'string') throw new RuleFileError(file, `samples.${which}[${i}] must be a path or {"file": ...}`);
    if (ref.verdict !== undefined && !VERDICTS.has(ref.verdict)) throw new RuleFileError(file, `samples.${which}[${i}].verdict must be affected, fixed or unknown`);
    return { ...ref, file: path.resolve(path.dirname(file), ref.file) };
  });
}

function validateVersions(file: string, v: unknown): void {
  if (v === undefined) return;
  if (!v || typeof v !== 'object' || Array.isArray(v)) throw new RuleFileError(file, 'versions must be an object of streams');
  for (const [stream, b] of Object.entries(v as Record<string, StreamBounds>)) {
    if (!b || typeof b !== 'object') throw new RuleFileError(file, `versions.${stream} must be an object`);
    for (const k of Object.keys(b)) {
      if (!['introduced', 'fixed', 'note'].includes(k)) throw new RuleFileError(file, `versions.${stream}: unknown key "${k}"`);
    }
    const f = b.fixed;
    if (f !== undefined && f !== null && typeof f !== 'string' && !isStringArray(f)) {
      throw new RuleFileError(file, `versions.${stream}.fixed must be a version or a list of versions`);
    }
  }
}

/** Parses and validates one rule file. */
export function loadRuleFile(file: string, origin: string): Rule {
  let text: string;
  try {
    text = fs.readFileSync(file, 'utf8');
  } catch (e) {
    throw new RuleFileError(file, `cannot read: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}`);
  }
  let spec: RuleFile;
  try {
    spec = JSON.parse(text) as RuleFile;
  } catch (e) {
    throw new RuleFileError(file, `not valid JSON: ${(e as Error).message}`);
  }
  if (!spec || typeof spec !== 'object' || Array.isArray(spec)) throw new RuleFileError(file, 'must hold one JSON object');
  const base = path.basename(file, '.json');
  if (typeof spec.id !== 'string' || !ID.test(spec.id)) throw new RuleFileError(file, '"id" must be kebab-case');
  if (spec.id !== base) throw new RuleFileError(file, `"id" is "${spec.id}" but the file is named ${base}.json`);
  for (const k of ['title', 'meaning', 'advice'] as const) {
    if (typeof spec[k] !== 'string' || spec[k].length === 0) throw new RuleFileError(file, `"${k}" must be a non-empty string`);
  }
  if (spec.kind !== 'kernel-bug' && spec.kind !== 'environment') throw new RuleFileError(file, '"kind" must be "kernel-bug" or "environment"');
  if (spec.role !== undefined && spec.role !== 'culprit' && spec.role !== 'victim') throw new RuleFileError(file, '"role" must be "culprit" or "victim"');
  if (!Array.isArray(spec.references) || spec.references.length === 0) throw new RuleFileError(file, 'needs at least one reference');
  if (spec.supersedes !== undefined && !isStringArray(spec.supersedes)) throw new RuleFileError(file, '"supersedes" must be a list of rule ids');
  validateVersions(file, spec.versions);
  if (!spec.match || typeof spec.match !== 'object') throw new RuleFileError(file, '"match" must be an object or a list of objects');
  const blocks = Array.isArray(spec.match) ? spec.match : [spec.match];
  if (blocks.length === 0) throw new RuleFileError(file, '"match" is empty');
  const matches = blocks.map((m, i) => compileMatch(file, m, i));
  if (!spec.samples || typeof spec.samples !== 'object') throw new RuleFileError(file, 'needs "samples": {"hit": [...], "miss": [...]}');
  const samples = { hit: sampleRefs(file, spec.samples.hit, 'hit'), miss: sampleRefs(file, spec.samples.miss, 'miss') };
  if (spec.kinds !== undefined && (!isStringArray(spec.kinds) || spec.kinds.length === 0 || !spec.kinds.every((k) => (REPORT_KINDS as readonly string[]).includes(k)))) {
    throw new RuleFileError(file, `"kinds" must be a list of report kinds (${REPORT_KINDS.join(', ')})`);
  }
  return { file, origin, spec, kinds: new Set(spec.kinds ?? BLOCKED_KINDS), matches, samples };
}

/** Loads every *.json rule file of a directory, sorted by name. */
export function loadRuleDir(dir: string, origin: string): Rule[] {
  let names: string[];
  try {
    names = fs.readdirSync(dir).filter((n) => n.endsWith('.json')).sort();
  } catch (e) {
    throw new RuleFileError(dir, `cannot read rule directory: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}`);
  }
  return names.map((n) => loadRuleFile(path.join(dir, n), origin));
}

export interface RuleSet {
  rules: Rule[];
  byId: Map<string, Rule>;
  /** Log needles of all rules, for the assembler's context lines. */
  needles: string[];
  /** Whether a line holding a needle matches one of the patterns that come with it. */
  keeps(needle: string, text: string): boolean;
  /** The rules that read reports of a kind (`kinds` in their file). */
  forKind(kind: string): readonly Rule[];
}

export function ruleSet(rules: Rule[]): RuleSet {
  const byId = new Map<string, Rule>();
  for (const r of rules) byId.set(r.spec.id, r);
  const list = [...byId.values()];
  const patterns = new Map<string, RegExp[]>();
  for (const l of list.flatMap((r) => r.matches.flatMap((m) => m.logs))) {
    const res = patterns.get(l.needle) ?? [];
    if (!res.some((re) => re.source === l.re.source && re.flags === l.re.flags)) res.push(l.re);
    patterns.set(l.needle, res);
  }
  const keeps = (needle: string, text: string): boolean => patterns.get(needle)?.some((re) => re.test(text)) ?? false;
  const byKind = new Map(REPORT_KINDS.map((k) => [k as string, list.filter((r) => r.kinds.has(k))]));
  const forKind = (kind: string): readonly Rule[] => byKind.get(kind) ?? [];
  return { rules: list, byId, needles: [...patterns.keys()], keeps, forKind };
}

/** Built-in rules, then rules.d, then each extra directory; later ids replace earlier ones. */
export function loadRules(extraDirs: string[] = [], opts: { builtin?: boolean; system?: boolean } = {}): RuleSet {
  const all: Rule[] = [];
  if (opts.builtin !== false) all.push(...loadRuleDir(BUILTIN_RULES_DIR, 'builtin'));
  const sys = systemRulesDir();
  if (opts.system !== false && fs.existsSync(sys)) all.push(...loadRuleDir(sys, sys));
  for (const d of extraDirs) all.push(...loadRuleDir(d, d));
  return ruleSet(all);
}
