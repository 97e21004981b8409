/**
 * Queries over the store (read-only): `klogscan history`, `klogscan show ID`, `klogscan stats`.
 * Text for people, `--json` (one object per line) for scripts.
 */
import { fitTerminal, jsonLine, safe, type Painter } from '../output/term.js';
import { fixText, formatTime, referenceText, noCause, renderReport, taskOf, VERDICT_STYLE, verdictWords, wrap } from '../output/text.js';
import type { RuleSet } from '../rules/loader.js';
import { REPORT_KINDS } from '../../parsers/record.js';
import type { IncidentRow, StatsBy } from '../store.js';
import { COMMON_OPTIONS, openStore, out, paintFor, parse, parseWhen, positiveInt, ruleSet, UsageError } from './common.js';

function when(i: IncidentRow): string {
  const t = formatTime(i.last_seen ?? i.first_seen);
  if (t) return t;
  if (i.first_uptime !== null) return `uptime ${i.first_uptime.toFixed(0)} s`;
  return `recorded ${formatTime(i.recorded)}`;
}

/** The kinds of report klogscan stores. */

function verdictText(paint: Painter, rule: string | null, verdict: string | null): string {
  if (!rule) return paint('gray', 'no known cause');
  return `${safe(rule)} (${paint(VERDICT_STYLE[verdict as keyof typeof VERDICT_STYLE] ?? 'yellow', verdict ?? 'unknown')})`;
}

function incidentJson(i: IncidentRow): Record<string, unknown> {
  return {
    type: 'incident',
    id: i.id,
    host: i.host,
    first_seen: i.first_seen,
    last_seen: i.last_seen,
    first_uptime: i.first_uptime,
    last_uptime: i.last_uptime,
    recorded: i.recorded,
    kind: i.kind,
    reports: i.reports,
    tasks: i.tasks,
    signature: i.signature,
    fingerprint: i.fingerprint,
    kernel: i.kernel,
    root_cause: i.root_cause,
  };
}

export async function historyCommand(args: string[], help: string): Promise<number> {
  const { values: v, positionals } = parse(args, {
    ...COMMON_OPTIONS,
    since: { type: 'string' },
    until: { type: 'string' },
    host: { type: 'string' },
    rule: { type: 'string' },
    kind: { type: 'string' },
    fingerprint: { type: 'string' },
    limit: { type: 'string' },
  });
  if (v.help) {
    out.write(help);
    return 0;
  }
  if (positionals.length > 0) throw new UsageError(`history takes no arguments, only options (got "${positionals[0]}")`);
  if (v.kind !== undefined && !(REPORT_KINDS as readonly string[]).includes(v.kind)) throw new UsageError(`--kind takes one of ${REPORT_KINDS.join(', ')}, not "${v.kind}"`);
  const filter = {
    since: v.since !== undefined ? parseWhen(v.since, '--since') : undefined,
    until: v.until !== undefined ? parseWhen(v.until, '--until') : undefined,
    host: v.host,
    rule: v.rule,
    kind: v.kind,
    // Fingerprints are printed in lower case; one pasted in capitals is the same one.
    fingerprint: v.fingerprint?.toLowerCase(),
    limit: v.limit !== undefined ? positiveInt(v.limit, '--limit') : 50,
  };
  const store = openStore(v.db, { readonly: true });
  try {
    const rows = store.history(filter);
    const paint = paintFor(v);
    for (const i of rows) {
      if (v.json) {
        out.write(jsonLine(incidentJson(i)) + '\n');
        continue;
      }
      const counts = `${i.reports} report${i.reports === 1 ? '' : 's'}, ${i.tasks} task${i.tasks === 1 ? '' : 's'}`;
      out.write(`${fitTerminal(`${paint('bold', `#${i.id}`)}  ${when(i)}  ${safe(i.host ?? '-')}  ${counts}  ${safe(i.signature ?? '')}  ${verdictText(paint, i.root_cause.rule, i.root_cause.verdict)}`)}\n`);
    }
    if (!v.json && rows.length === 0) out.write('no incidents match\n');
  } finally {
    store.close();
  }
  return 0;
}

function renderShow(d: NonNullable<ReturnType<ReturnType<typeof openStore>['incident']>>, rules: RuleSet, paint: Painter): string {
  const i = d.incident;
  const lines: string[] = [];
  lines.push(`${paint('bold', `incident #${i.id}`)}  ${safe(i.host ?? '-')}  ${when(i)}${i.first_seen && i.last_seen && i.first_seen !== i.last_seen ? ` (from ${formatTime(i.first_seen)})` : ''}`);
  lines.push(`  ${i.reports} report${i.reports === 1 ? '' : 's'} of ${i.tasks} task${i.tasks === 1 ? '' : 's'}, kernel ${safe(i.kernel ?? 'unknown')}`);
  // Reports by id: edges name them, and an incident can hold thousands.
  const byId = new Map(d.reports.map((r) => [r.id, r]));
  const root = d.root_report === null ? undefined : byId.get(d.root_report);
  if (root) {
    // A lock owner that blocker lines name but that is not reported as hung itself (it sleeps
    // interruptibly, or runs) is the one to look at, unless a reported task is waited for.
    const owners = new Map<string, { task: string; pid: number; waiters: number }>();
    for (const e of d.edges) {
      if (e.holder !== null || e.holderTask === null || e.holderPid === null) continue;
      const k = `${e.holderTask}\0${e.holderPid}`;
      const o = owners.get(k) ?? { task: e.holderTask, pid: e.holderPid, waiters: 0 };
      o.waiters++;
      owners.set(k, o);
    }
    const owner = d.edges.some((e) => e.holder !== null) ? undefined : [...owners.values()].sort((a, b) => b.waiters - a.waiters)[0];
    if (owner) {
      const waiters = owner.waiters;
      lines.push(`  ${paint('bold', 'look at')} ${safe(owner.task)}:${owner.pid} (not reported as hung: ${waiters} reported task${waiters === 1 ? ' waits' : 's wait'} for it, and its stack follows the blocker line)`);
      lines.push(`  ${paint('bold', 'first hung')} ${taskOf(root)}: ${safe(root.signature)}`);
    } else {
      lines.push(`  ${paint('bold', 'look at')} ${taskOf(root)}: ${safe(root.signature)}`);
    }
    const best = root.matches[0];
    if (best) {
      const rule = rules.byId.get(best.rule);
      const said = verdictWords(best.kind, best.verdict);
      lines.push(`  ${paint('bold', 'root cause')} ${safe(best.rule)}  ${paint(['bold', said.style], said.words)}${best.fixed_in ? `   fixed in ${safe(best.fixed_in)}` : ''}`);
      lines.push(`    ${wrap(safe(best.title), 92, '    ')}`);
      if (rule) {
        lines.push(`    ${paint('bold', 'meaning')}: ${wrap(safe(rule.spec.meaning), 90, '      ')}`);
        lines.push(`    ${paint('bold', 'advice')}: ${wrap(safe(rule.spec.advice), 90, '      ')}`);
        for (const f of rule.spec.fixes ?? []) lines.push(`    fix: ${safe(fixText(f))}`);
        for (const ref of rule.spec.references) lines.push(`    see: ${safe(referenceText(ref))}`);
      }
    } else {
      lines.push(`  ${paint('bold', 'root cause')} ${noCause(root.kind, rules)}`);
    }
  }
  if (d.edges.length > 0) {
    lines.push(`  ${paint('bold', 'who waits for whom')}:`);
    const name = (id: number | null, task: string | null, pid: number | null): string => {
      const r = id === null ? undefined : byId.get(id);
      return r ? taskOf(r) : `${safe(task ?? '?')}:${pid ?? '?'} (not reported)`;
    };
    for (const e of d.edges) {
      const w = byId.get(e.waiter)!;
      lines.push(`    ${taskOf(w)} waits for ${name(e.holder, e.holderTask, e.holderPid)}  (${safe(`${e.how}${e.lock ? `, ${e.lock}` : ''}`)})`);
    }
    if (d.edges_total > d.edges.length) lines.push(`    ... and ${d.edges_total - d.edges.length} more`);
  }
  for (const g of d.groups) {
    lines.push(`  ${g.reports.length} reports share ${safe(g.signature)}`);
  }
  for (const r of d.reports) {
    lines.push('');
    lines.push(renderReport(r, rules, paint, true).split('\n').map((l) => `  ${l}`).join('\n'));
    lines.push(`    ${paint('gray', 'log lines:')}`);
    for (const l of r.raw.split('\n')) lines.push(`    ${paint('gray', safe(l))}`);
  }
  return lines.join('\n') + '\n';
}

export async function showCommand(args: string[], help: string): Promise<number> {
  const { values: v, positionals } = parse(args, COMMON_OPTIONS);
  if (v.help) {
    out.write(help);
    return 0;
  }
  const idText = positionals[0];
  if (!idText) throw new UsageError('show needs an incident id (see klogscan history)');
  if (positionals.length > 1) throw new UsageError('show takes one incident id');
  const id = positiveInt(idText.replace(/^#/, ''), 'show');
  const store = openStore(v.db, { readonly: true });
  try {
    const d = store.incident(id);
    if (!d) throw new UsageError(`no incident #${id} in ${store.file} (see klogscan history)`);
    if (v.json) {
      out.write(jsonLine({ ...incidentJson(d.incident), root_report: d.root_report, edges: d.edges, edges_total: d.edges_total, groups: d.groups }) + '\n');
      for (const r of d.reports) out.write(jsonLine({ ...r, raw: r.raw.split('\n') }) + '\n');
    } else {
      out.write(renderShow(d, ruleSet(v.rules), paintFor(v)));
    }
  } finally {
    store.close();
  }
  return 0;
}

export async function statsCommand(args: string[], help: string): Promise<number> {
  const { values: v, positionals } = parse(args, { ...COMMON_OPTIONS, by: { type: 'string' } });
  if (v.help) {
    out.write(help);
    return 0;
  }
  if (positionals.length > 0) throw new UsageError(`stats takes no arguments, only options (got "${positionals[0]}")`);
  const by = (v.by ?? 'fingerprint') as StatsBy;
  if (!['fingerprint', 'rule', 'host', 'kernel'].includes(by)) throw new UsageError(`--by takes fingerprint, rule, host or kernel, not "${v.by}"`);
  const store = openStore(v.db, { readonly: true });
  try {
    const rows = store.stats(by);
    const paint = paintFor(v);
    for (const s of rows) {
      if (v.json) {
        out.write(jsonLine({ type: 'stat', by, ...s }) + '\n');
        continue;
      }
      const hostless = by === 'host' && s.key === null;
      const key = s.key === null ? (hostless ? '(no host name)' : '(none)') : safe(s.key);
      // Reports without a host name are kept per input: each may be another machine.
      const hostWord = hostless ? 'input' : 'host';
      const span = `${formatTime(s.first_seen) ?? '?'} .. ${formatTime(s.last_seen) ?? '?'}`;
      const extra = by === 'fingerprint'
        ? `  ${safe(s.signature ?? '')}${s.probable_fix ? `  probable fix: ${safe(s.probable_fix)}` : ''}`
        : '';
      out.write(`${fitTerminal(`${paint('bold', key)}  ${s.reports} report${s.reports === 1 ? '' : 's'}, ${s.incidents} incident${s.incidents === 1 ? '' : 's'}, ${s.hosts} ${hostWord}${s.hosts === 1 ? '' : 's'}  ${span}  kernels: ${s.kernels.map(safe).join(', ') || '-'}${extra}`)}\n`);
    }
    if (!v.json && rows.length === 0) out.write('no reports stored yet\n');
  } finally {
    store.close();
  }
  return 0;
}
