/** `klogscan rules list | show ID | test [DIR]`: the rule database and its harness. */
import { jsonLine, safe } from '../output/term.js';
import { fixText, referenceText, wrap } from '../output/text.js';
import { checkRule } from '../rules/harness.js';
import { loadRuleDir, loadRules, ruleSet as makeSet } from '../rules/loader.js';
import { COMMON_OPTIONS, out, paintFor, parse, ruleSet, UsageError } from './common.js';

export async function rulesCommand(args: string[], help: string): Promise<number> {
  const { values: v, positionals } = parse(args, COMMON_OPTIONS);
  const [sub, ...rest] = positionals;
  if (v.help) {
    out.write(help);
    return 0;
  }
  if (!sub) throw new UsageError('rules needs a command: list, show ID or test [DIR]');
  const most = { list: 0, show: 1, test: 1 }[sub];
  if (most === undefined) throw new UsageError(`unknown rules command "${sub}": list, show ID or test [DIR]`);
  if (rest.length > most) throw new UsageError(`rules ${sub} takes ${most === 0 ? 'no arguments' : 'one argument'}, not "${rest.slice(most).join(' ')}"`);
  const paint = paintFor(v);
  if (sub === 'list') {
    const set = ruleSet(v.rules);
    for (const r of set.rules) {
      if (v.json) out.write(jsonLine({ type: 'rule', id: r.spec.id, kind: r.spec.kind, title: r.spec.title, origin: r.origin }) + '\n');
      else out.write(`${paint('bold', safe(r.spec.id).padEnd(40))} ${safe(r.spec.kind).padEnd(11)} ${safe(r.spec.title)}\n`);
    }
    return 0;
  }
  if (sub === 'show') {
    const id = rest[0];
    if (!id) throw new UsageError('rules show needs a rule id (see klogscan rules list)');
    const r = ruleSet(v.rules).byId.get(id);
    if (!r) throw new UsageError(`no rule "${id}" (see klogscan rules list)`);
    if (v.json) {
      out.write(jsonLine({ type: 'rule', origin: r.origin, file: r.file, ...r.spec }) + '\n');
      return 0;
    }
    const s = r.spec;
    const lines = [
      `${paint('bold', safe(s.id))}  (${safe(s.kind)}${s.role === 'victim' ? ', the reported task is a victim' : ''})`,
      safe(s.title),
      '',
      `${paint('bold', 'meaning')}: ${wrap(safe(s.meaning), 96, '  ')}`,
      `${paint('bold', 'advice')}: ${wrap(safe(s.advice), 96, '  ')}`,
    ];
    if (s.versions) {
      lines.push(`${paint('bold', 'versions')}:`);
      for (const [stream, b] of Object.entries(s.versions)) {
        const fixed = Array.isArray(b.fixed) ? b.fixed.join(', ') : (b.fixed ?? 'no fix known');
        lines.push(safe(`  ${stream}: ${b.introduced ? `introduced ${b.introduced}, ` : ''}fixed ${fixed}${b.note ? ` (${b.note})` : ''}`));
      }
    }
    if (s.fixes?.length) {
      lines.push(`${paint('bold', 'fixes')}:`);
      for (const f of s.fixes) lines.push(`  ${safe(fixText(f))}`);
    }
    lines.push(`${paint('bold', 'references')}:`);
    for (const ref of s.references) lines.push(`  ${safe(referenceText(ref))}`);
    out.write(lines.join('\n') + '\n');
    return 0;
  }
  if (sub === 'test') {
    const dir = rest[0];
    // The tested rules run together with the built-in ones, as in a scan.
    const base = loadRules(v.rules ?? []);
    const tested = dir ? loadRuleDir(dir, dir) : base.rules;
    // Nothing to test is a mistake (a wrong directory), not a pass.
    if (tested.length === 0) throw new UsageError(`no rule files in ${dir ?? 'the rule database'}`);
    const set = dir ? makeSet([...base.rules, ...tested]) : base;
    let failed = 0;
    let passed = 0;
    for (const r of tested) {
      for (const c of checkRule(r, set, dir ?? process.cwd())) {
        if (c.ok) passed++;
        else failed++;
        if (v.json) out.write(jsonLine({ type: 'case', ...c }) + '\n');
        else if (!c.ok) out.write(`${paint('red', 'FAIL')} ${safe(`${c.rule} ${c.kind}${c.sample ? ` ${c.sample}` : ''}: ${c.problem}`)}\n`);
      }
    }
    if (!v.json) out.write(`${passed} passed, ${failed} failed (${tested.length} rule${tested.length === 1 ? '' : 's'})\n`);
    return failed > 0 ? 1 : 0;
  }
  throw new UsageError(`unknown rules command "${sub}": list, show ID or test [DIR]`);
}
