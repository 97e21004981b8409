/**
 * The command line: argument parsing, commands, output sinks and exit codes. Errors a user can
 * act on print one line on stderr and exit 2; internal errors keep their stack only under --debug;
 * a closed stdout pipe ends the run quietly.
 *
 * Exit codes: 0 the command did its work (whether or not reports were found), 1 `rules test`
 * found failing samples, 2 usage errors, unreadable inputs or databases, bad rule files.
 */
import fs from 'node:fs';
import { parseArgs, type ParseArgsConfig } from 'node:util';
import { formatByName, FORMATS } from '../parsers/formats/index.js';
import { ChunkFeeder } from './input/feeder.js';
import { InputError, readInput } from './input/sources.js';
import { reportJson } from './output/json.js';
import { jsonLine, painter, safe } from './output/term.js';
import { renderReport } from './output/text.js';
import { checkRule } from './rules/harness.js';
import { loadRuleDir, loadRules, ruleSet, RuleFileError, type RuleSet } from './rules/loader.js';
import { Scanner, type AnalyzedReport } from './scan.js';

export const VERSION = JSON.parse(fs.readFileSync(new URL('../../package.json', import.meta.url), 'utf8')).version as string;

export class UsageError extends Error {}

/** Errors whose message is the whole story for the user. */
function isUserError(e: unknown): e is Error {
  return e instanceof UsageError || e instanceof InputError || e instanceof RuleFileError
    || (e instanceof Error && (e as { userFacing?: boolean }).userFacing === true);
}

const HELP = `klogscan ${VERSION} - find hung-task reports in kernel logs and name their cause

Usage:
  klogscan [options] [FILE...]        scan files (.gz too); no FILE or - reads stdin
  klogscan rules list                 the rule database
  klogscan rules show ID              one rule: meaning, advice, fixes, references
  klogscan rules test [DIR]           run the hit/miss samples of the rules (DIR: user rules)

Scan options:
  --json               one JSON object per line (reports, then a summary)
  --kernel RELEASE     judge reports against this release (the log's own is kept as
                       log_kernel); needed where the log names none (RHEL 7)
  --format NAME        decode every line as NAME instead of detecting it:
                       ${FORMATS.map((f) => f.name).join(', ')}
  --year YYYY          year for syslog dates that carry none (default: from the file's mtime)
  --rules DIR          add rules from DIR (repeatable; also /etc/klogscan/rules.d)
  --no-db              analyse without storing (accepted for forward compatibility)
  -v, --verbose        show the context lines rules looked at
  --stats              print time, throughput and peak memory on stderr at the end
  --color / --no-color force colours on or off (default: on a terminal, unless NO_COLOR)
  --debug              show stack traces of internal errors
  -h, --help           this help
  --version            print the version

Exit status: 0 done, 1 rules test failed, 2 usage error or unreadable input.
`;

const SCAN_OPTIONS = {
  json: { type: 'boolean' },
  kernel: { type: 'string' },
  format: { type: 'string' },
  year: { type: 'string' },
  rules: { type: 'string', multiple: true },
  'no-db': { type: 'boolean' },
  db: { type: 'string' },
  verbose: { type: 'boolean', short: 'v' },
  stats: { type: 'boolean' },
  color: { type: 'boolean' },
  'no-color': { type: 'boolean' },
  debug: { type: 'boolean' },
  help: { type: 'boolean', short: 'h' },
  version: { type: 'boolean' },
} satisfies ParseArgsConfig['options'];

function parse<T extends NonNullable<ParseArgsConfig['options']>>(args: string[], options: T) {
  try {
    return parseArgs({ args, options, allowPositionals: true, strict: true });
  } catch (e) {
    const msg = (e as Error).message.replace(/\. To specify a positional argument.*$/s, '');
    throw new UsageError(`${msg.replace(/^Unknown option/, 'unknown option')} (see klogscan --help)`);
  }
}

interface Output {
  write(s: string): void;
}

const stdout: Output = {
  write(s: string) {
    if (!stdoutClosed) process.stdout.write(s);
  },
};

let stdoutClosed = false;

function loadRuleSet(dirs: string[] | undefined): RuleSet {
  return loadRules(dirs ?? []);
}

function colorChoice(v: { color?: boolean; 'no-color'?: boolean }): boolean | undefined {
  if (v['no-color']) return false;
  if (v.color) return true;
  return undefined;
}

async function scanCommand(args: string[]): Promise<number> {
  const { values: v, positionals } = parse(args, SCAN_OPTIONS);
  if (v.help) {
    stdout.write(HELP);
    return 0;
  }
  if (v.version) {
    stdout.write(`klogscan ${VERSION}\n`);
    return 0;
  }
  const format = v.format !== undefined ? formatByName(v.format) : undefined;
  if (v.format !== undefined && !format) {
    throw new UsageError(`unknown format "${v.format}"; formats: ${FORMATS.map((f) => f.name).join(', ')}`);
  }
  let year: number | null = null;
  if (v.year !== undefined) {
    if (!/^\d{4}$/.test(v.year)) throw new UsageError(`--year takes a four-digit year, not "${v.year}"`);
    year = Number(v.year);
  }
  if (v.kernel !== undefined && !/^\d+\.\d+/.test(v.kernel)) {
    throw new UsageError(`--kernel takes a release such as 3.10.0-957.el7.x86_64 (uname -r), not "${v.kernel}"`);
  }
  const rules = loadRuleSet(v.rules);
  const paint = painter(process.stdout, colorChoice(v));
  const inputs = positionals.length > 0 ? positionals : ['-'];
  if (inputs.includes('-') && process.stdin.isTTY) {
    process.stderr.write('klogscan: reading kernel messages from the terminal; end with Ctrl-D (klogscan --help for more)\n');
  }

  const started = process.hrtime.bigint();
  let first = true;
  const onReport = (a: AnalyzedReport): void => {
    if (v.json) {
      stdout.write(jsonLine(reportJson(a)) + '\n');
    } else {
      stdout.write((first ? '' : '\n') + renderReport(a, rules, paint, v.verbose) + '\n');
      first = false;
    }
  };
  const scanner = new Scanner({ rules, kernel: v.kernel ?? null, format }, onReport);
  let status = 0;
  let lines = 0;
  let bytes = 0;
  let read = 0;
  const errors: string[] = [];
  for (const name of inputs) {
    if (stdoutClosed) break;
    let feeder: ChunkFeeder | null = null;
    try {
      const info = await readInput(name, (info) => {
        scanner.beginSource(info.name, year !== null ? new Date(year, 11, 31, 23, 59, 59).getTime() : info.referenceTime);
        feeder = new ChunkFeeder(scanner);
        return feeder;
      });
      bytes += info.bytes;
      read++;
    } catch (e) {
      if (!(e instanceof InputError)) throw e;
      process.stderr.write(`klogscan: ${safe(e.message)}\n`);
      errors.push(e.message);
      status = 2;
    } finally {
      scanner.endSource();
      lines += (feeder as ChunkFeeder | null)?.lineNo ?? 0;
    }
  }
  const c = scanner.counts;
  const suppressed = [...scanner.suppressed];
  if (v.stats) {
    const secs = Number(process.hrtime.bigint() - started) / 1e9;
    const mb = bytes / 1048576;
    const rss = process.resourceUsage().maxRSS / 1024;
    process.stderr.write(`klogscan: stats: ${secs.toFixed(3)} s, ${mb.toFixed(1)} MiB, ${(mb / Math.max(secs, 1e-9)).toFixed(1)} MiB/s, ${lines} lines, peak RSS ${rss.toFixed(1)} MiB\n`);
  }
  if (v.json) {
    stdout.write(jsonLine({
      type: 'summary',
      reports: c.reports,
      kinds: c.kinds,
      hosts: c.hosts.size,
      matched: c.matched,
      truncated: c.truncated,
      header_only: c.headerOnly,
      suppressed_hosts: suppressed,
      inputs: read,
      errors: errors.length,
      lines,
      bytes,
    }) + '\n');
  } else {
    const hung = c.kinds.hung_task ?? 0;
    const blocked = c.kinds.blocked_state ?? 0;
    const parts = [`${hung} hung-task report${hung === 1 ? '' : 's'}`];
    if (blocked) parts.push(`${blocked} blocked task${blocked === 1 ? '' : 's'} in sysrq-w dumps`);
    parts.push(
      `${c.hosts.size} host${c.hosts.size === 1 ? '' : 's'}`,
      `${c.matched} with a known cause`,
    );
    if (c.truncated) parts.push(`${c.truncated} cut short`);
    if (c.headerOnly) parts.push(`${c.headerOnly} without a trace`);
    const where = `${read} input${read === 1 ? '' : 's'}, ${lines} line${lines === 1 ? '' : 's'}`;
    stdout.write(`${c.reports > 0 ? '\n' : ''}${paint('bold', 'summary')}: ${parts.join(', ')} (${where}${errors.length ? `, ${errors.length} unreadable` : ''})\n`);
    if (suppressed.length > 0) {
      stdout.write(`${paint('yellow', 'note')}: the kernel suppressed further hung-task reports on ${suppressed.map((h) => (h === null ? 'this host' : safe(h))).join(', ')} (sysctl kernel.hung_task_warnings): later hangs are invisible in the log\n`);
    }
    if (c.headerOnly > 0) {
      stdout.write(`${paint('yellow', 'note')}: ${c.headerOnly} report${c.headerOnly === 1 ? ' has' : 's have'} no call trace: the log was probably filtered by priority (the trace is KERN_INFO); widen the filter to see the cause\n`);
    }
  }
  return status;
}

async function rulesCommand(args: string[]): Promise<number> {
  const { values: v, positionals } = parse(args, {
    rules: { type: 'string', multiple: true },
    json: { type: 'boolean' },
    color: { type: 'boolean' },
    'no-color': { type: 'boolean' },
    debug: { type: 'boolean' },
    help: { type: 'boolean', short: 'h' },
  });
  const [sub, ...rest] = positionals;
  if (v.help || !sub) {
    stdout.write(HELP);
    return sub ? 0 : 2;
  }
  const paint = painter(process.stdout, colorChoice(v));
  if (sub === 'list') {
    const set = loadRuleSet(v.rules);
    for (const r of set.rules) {
      if (v.json) {
        stdout.write(jsonLine({ type: 'rule', id: r.spec.id, kind: r.spec.kind, title: r.spec.title, origin: r.origin }) + '\n');
      } else {
        stdout.write(`${paint('bold', r.spec.id.padEnd(40))} ${r.spec.kind.padEnd(11)} ${r.spec.title}\n`);
      }
    }
    return 0;
  }
  if (sub === 'show') {
    const id = rest[0];
    if (!id) throw new UsageError('rules show needs a rule id (see klogscan rules list)');
    const set = loadRuleSet(v.rules);
    const r = set.byId.get(id);
    if (!r) throw new UsageError(`no rule "${id}" (see klogscan rules list)`);
    if (v.json) {
      stdout.write(jsonLine({ type: 'rule', origin: r.origin, file: r.file, ...r.spec }) + '\n');
      return 0;
    }
    const s = r.spec;
    const out = [
      `${paint('bold', s.id)}  (${s.kind}${s.role === 'victim' ? ', the reported task is a victim' : ''})`,
      s.title,
      '',
      `${paint('bold', 'meaning')}: ${s.meaning}`,
      `${paint('bold', 'advice')}: ${s.advice}`,
    ];
    if (s.versions) {
      out.push(`${paint('bold', 'versions')}:`);
      for (const [stream, b] of Object.entries(s.versions)) {
        const fixed = Array.isArray(b.fixed) ? b.fixed.join(', ') : (b.fixed ?? 'no fix known');
        out.push(`  ${stream}: ${b.introduced ? `introduced ${b.introduced}, ` : ''}fixed ${fixed}${b.note ? ` (${b.note})` : ''}`);
      }
    }
    if (s.fixes?.length) {
      out.push(`${paint('bold', 'fixes')}:`);
      for (const f of s.fixes) out.push(`  ${f.commit ? f.commit.slice(0, 12) + ' ' : ''}${f.title}${f.release ? ` (${f.release})` : ''}`);
    }
    out.push(`${paint('bold', 'references')}:`);
    for (const ref of s.references) out.push(`  ${typeof ref === 'string' ? ref : `${ref.title}${ref.url ? ` <${ref.url}>` : ''}`}`);
    stdout.write(out.join('\n') + '\n');
    return 0;
  }
  if (sub === 'test') {
    const dir = rest[0];
    // The harness runs the tested rules together with the built-in ones, as a scan would.
    const base = loadRules(v.rules ?? []);
    const tested = dir ? loadRuleDir(dir, dir) : base.rules;
    const set = dir ? ruleSet([...base.rules, ...tested]) : base;
    let failed = 0;
    let passed = 0;
    for (const r of tested) {
      for (const c of checkRule(r, set)) {
        if (c.ok) passed++;
        else failed++;
        if (v.json) stdout.write(jsonLine({ type: 'case', ...c }) + '\n');
        else if (!c.ok) stdout.write(`${paint('red', 'FAIL')} ${c.rule} ${c.kind}${c.sample ? ` ${c.sample}` : ''}: ${c.problem}\n`);
      }
    }
    if (!v.json) stdout.write(`${passed} passed, ${failed} failed (${tested.length} rule${tested.length === 1 ? '' : 's'})\n`);
    return failed > 0 ? 1 : 0;
  }
  throw new UsageError(`unknown rules command "${sub}": list, show ID or test [DIR]`);
}

export async function main(argv: string[]): Promise<number> {
  process.stdout.on('error', (e: NodeJS.ErrnoException) => {
    if (e.code === 'EPIPE' || e.code === 'ERR_STREAM_DESTROYED') {
      stdoutClosed = true;
      return;
    }
    throw e;
  });
  const debug = argv.includes('--debug');
  try {
    const [cmd, ...rest] = argv;
    if (cmd === 'rules') return await rulesCommand(rest);
    return await scanCommand(argv);
  } catch (e) {
    if (isUserError(e)) {
      process.stderr.write(`klogscan: ${safe(e.message)}\n`);
      if (debug && e.stack) process.stderr.write(e.stack + '\n');
      return 2;
    }
    process.stderr.write(`klogscan: internal error: ${safe((e as Error)?.message ?? String(e))}${debug ? '' : ' (run with --debug for details)'}\n`);
    if (debug && e instanceof Error && e.stack) process.stderr.write(e.stack + '\n');
    return 2;
  }
}
