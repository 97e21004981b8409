/** `klogscan rules list | show ID | test [DIR]`: the rule database and its harness. */
import { jsonLine } from '../output/term.js';
import { wrap } from '../output/text.js';
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
  const paint = paintFor(v);
  if (sub === 'list') {
    const set = ruleSet(v.rules);
    for (const r of set.rules) {
      if (v.json) out.write(jsonLine({ type: 'rule', id: r.spec.id, kind: r.spec.kind, title: r.spec.title, origin: r.origin }) + '\n');
      else out.write(`${paint('bold', r.spec.id.padEnd(40))} ${r.spec.kind.padEnd(11)} ${r.spec.title}\n`);
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
      `${paint('bold', s.id)}  (${s.kind}${s.role === 'victim' ? ', the reported task is a victim' : ''})`,
      s.title,
      '',
      `${paint('bold', 'meaning')}: ${wrap(s.meaning, 96, '  ')}`,
      `${paint('bold', 'advice')}: ${wrap(s.advice, 96, '  ')}`,
    ];
    if (s.versions) {
      lines.push(`${paint('bold', 'versions')}:`);
      for (const [stream, b] of Object.entries(s.versions)) {
        const fixed = Array.isArray(b.fixed) ? b.fixed.join(', ') : (b.fixed ?? 'no fix known');
        lines.push(`  ${stream}: ${b.introduced ? `introduced ${b.introduced}, ` : ''}fixed ${fixed}${b.note ? ` (${b.note})` : ''}`);
      }
    }
    if (s.fixes?.length) {
      lines.push(`${paint('bold', 'fixes')}:`);
      for (const f of s.fixes) lines.push(`  ${f.commit ? f.commit.slice(0, 12) + ' ' : ''}${f.title}${f.release ? ` (${f.release})` : ''}`);
    }
    lines.push(`${paint('bold', 'references')}:`);
    for (const ref of s.references) lines.push(`  ${typeof ref === 'string' ? ref : `${ref.title}${ref.url ? ` <${ref.url}>` : ''}`}`);
    out.write(lines.join('\n') + '\n');
    return 0;
  }
  if (sub === 'test') {
    const dir = rest[0];
    // The tested rules run together with the built-in ones, as in a scan.
    const base = loadRules(v.rules ?? []);
    const tested = dir ? loadRuleDir(dir, dir) : base.rules;
    const set = dir ? makeSet([...base.rules, ...tested]) : base;
    let failed = 0;
    let passed = 0;
    for (const r of tested) {
      for (const c of checkRule(r, set, dir ?? process.cwd())) {
        if (c.ok) passed++;
        else failed++;
        if (v.json) out.write(jsonLine({ type: 'case', ...c }) + '\n');
        else if (!c.ok) out.write(`${paint('red', 'FAIL')} ${c.rule} ${c.kind}${c.sample ? ` ${c.sample}` : ''}: ${c.problem}\n`);
      }
    }
    if (!v.json) out.write(`${passed} passed, ${failed} failed (${tested.length} rule${tested.length === 1 ? '' : 's'})\n`);
    return failed > 0 ? 1 : 0;
  }
  throw new UsageError(`unknown rules command "${sub}": list, show ID or test [DIR]`);
}
