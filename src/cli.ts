/**
 * The command line: dispatch to the commands in src/commands/, one-line errors and exit codes.
 * Errors a user can act on print one line on stderr and exit 2; internal errors keep their stack
 * only under --debug; a closed stdout pipe ends the run quietly.
 *
 * Exit codes: 0 the command did its work (whether or not reports were found), 1 `rules test`
 * found failing samples, 2 usage errors, unreadable inputs or databases, bad rule files.
 */
import fs from 'node:fs';
import { FORMATS } from '../parsers/formats/index.js';
import { describeError, InputError } from './input/sources.js';
import { safe } from './output/term.js';
import { RuleFileError } from './rules/loader.js';
import { out, stderr, UsageError } from './commands/common.js';
import { scanCommand } from './commands/scan.js';

export const VERSION = (JSON.parse(fs.readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as { version: string }).version;
export { UsageError };

/** Errors whose message is the whole story for the user. */
function isUserError(e: unknown): e is Error {
  return e instanceof UsageError || e instanceof InputError || e instanceof RuleFileError
    || (e instanceof Error && (e as { userFacing?: boolean }).userFacing === true);
}

const HELP = `klogscan ${VERSION} - find hung-task reports in kernel logs, name their cause, keep their history

Usage:
  klogscan [options] [FILE...]        scan files (.gz too); no FILE or - reads stdin
  klogscan -f [options] FILE...       follow files like tail -F (survives rotation, resumes)
  klogscan history [filters]          incidents, newest first
  klogscan show ID                    one incident: reports, traces, who waits for whom, causes
  klogscan stats [--by KEY]           counts by fingerprint (default), rule, host or kernel
  klogscan ps [--all] [--cmdline]     tasks in D state from /proc: stacks, causes, who waits (ps --help)
  klogscan rules list                 the rule database
  klogscan rules show ID              one rule: meaning, advice, fixes, references
  klogscan rules test [DIR]           run the hit/miss samples of the rules (DIR: user rules)

Scan options:
  --json               one JSON object per line (reports, then a summary)
  --kernel RELEASE     judge reports against this release (the log's own is kept as
                       log_kernel); needed where the log names none (RHEL 7)
  --format NAME        decode every line as NAME instead of detecting it:
                       ${FORMATS.map((f) => f.name).join(', ')}
  --year YYYY          year of the first syslog date that carries none (default: from the file's mtime)
  --rules DIR          add rules from DIR (repeatable; also /etc/klogscan/rules.d)
  --db PATH            the incident database (default: $KLOGSCAN_DB, /var/lib/klogscan/klogscan.db
                       as root, else ~/.local/share/klogscan/klogscan.db)
  --no-db              analyse without storing
  -v, --verbose        show the context lines rules looked at
  --stats              print time, throughput and peak memory on stderr at the end
  --color / --no-color force colours on or off (default: on a terminal, unless NO_COLOR)
  --debug              show stack traces of internal errors
  -h, --help           this help
  --version            print the version

Follow options (-f): --from-start (first run reads the files from the beginning),
  --print-cursor (print the journal cursor that a run on journal JSON stdin stored, for journalctl --after-cursor)

History filters: --since 7d|DATE  --until DATE  --host H (- for none)  --rule ID  --kind K (hung_task, soft_lockup, oops, ...)
  --fingerprint F  --limit N (default 50); --json on history, show and stats

Exit status: 0 done, 1 rules test failed, 2 usage error, unreadable input or database.
`;

/** The subcommands: a lone word that is no file but close to one of them is a typo, not an input. */
const COMMANDS = ['rules', 'history', 'show', 'stats', 'ps'];

/** Edit distance with transpositions (optimal string alignment): `histroy` is one step from `history`. */
function distance(a: string, b: string): number {
  const d = Array.from({ length: a.length + 1 }, (_, i) => [i, ...new Array<number>(b.length).fill(0)]);
  for (let j = 1; j <= b.length; j++) d[0][j] = j;
  for (let i = 1; i <= a.length; i++) {
    for (let j = 1; j <= b.length; j++) {
      const cost = a[i - 1] === b[j - 1] ? 0 : 1;
      d[i][j] = Math.min(d[i - 1][j] + 1, d[i][j - 1] + 1, d[i - 1][j - 1] + cost);
      if (i > 1 && j > 1 && a[i - 1] === b[j - 2] && a[i - 2] === b[j - 1]) d[i][j] = Math.min(d[i][j], d[i - 2][j - 2] + 1);
    }
  }
  return d[a.length][b.length];
}

/** The subcommand `word` was probably meant to be, when it is not a path that exists. */
export function commandTypo(word: string | undefined): string | null {
  if (!word || word.startsWith('-') || /[/.]/.test(word) || word.length > 12 || fs.existsSync(word)) return null;
  const w = word.toLowerCase();
  let best: string | null = null;
  let bestDistance = Infinity;
  for (const c of COMMANDS) {
    const d = distance(w, c);
    if (d < bestDistance) {
      best = c;
      bestDistance = d;
    }
  }
  // One slip for short names (`p` is not `ps`), two for longer ones.
  return bestDistance <= (best!.length < 5 ? 1 : 2) && w.length > 1 ? best : null;
}

/**
 * A failed write to stdout ends the run: a reader that went away (EPIPE) quietly, anything else
 * (a full disk, an I/O error) with one line and exit 2. Failing to write to stderr as well must
 * neither crash nor change that.
 */
let outputFailed = false;

function watchOutput(): void {
  process.stderr.on('error', () => {});
  process.stdout.on('error', (e: NodeJS.ErrnoException) => {
    out.closed = true;
    if (e.code === 'EPIPE' || e.code === 'ERR_STREAM_DESTROYED' || outputFailed) return;
    outputFailed = true;
    process.stderr.write(`klogscan: cannot write output: ${safe(describeError(e))}\n`);
    // The error may come after main() has returned its status.
    process.exitCode = 2;
  });
}

export async function main(argv: string[]): Promise<number> {
  watchOutput();
  const code = await run(argv);
  return outputFailed ? 2 : code;
}

async function run(argv: string[]): Promise<number> {
  const debug = argv.includes('--debug');
  try {
    return await command(argv);
  } catch (e) {
    if (isUserError(e)) {
      stderr(`klogscan: ${safe(e.message)}\n`);
      if (debug && e.stack) process.stderr.write(e.stack + '\n');
      return 2;
    }
    stderr(`klogscan: internal error: ${safe((e as Error)?.message ?? String(e))}${debug ? '' : ' (run with --debug for details)'}\n`);
    if (debug && e instanceof Error && e.stack) process.stderr.write(e.stack + '\n');
    return 2;
  } finally {
    out.flush();
  }
}

function isFile(name: string): boolean {
  try {
    return fs.statSync(name).isFile();
  } catch {
    return false;
  }
}

/**
 * `klogscan --db FILE history`: options written before the subcommand. The subcommand (a word of
 * COMMANDS that names no file) is moved to the front; its options are read as usual.
 */
export function subcommandFirst(argv: string[]): string[] {
  if (!argv[0]?.startsWith('-')) return argv;
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    // An option's value is no subcommand (`--kernel history x.log` scans x.log).
    if (VALUE_OPTIONS.has(a)) {
      i++;
      continue;
    }
    if (COMMANDS.includes(a) && !isFile(a)) return i > 0 ? [a, ...argv.slice(0, i), ...argv.slice(i + 1)] : argv;
  }
  return argv;
}

/** Options that take the next word as their value (written `--db FILE`, not `--db=FILE`). */
const VALUE_OPTIONS = new Set(['--db', '--rules', '--kernel', '--format', '--year', '--since', '--until', '--host',
  '--rule', '--kind', '--fingerprint', '--limit', '--by', '--proc']);

async function command(args: string[]): Promise<number> {
  const argv = subcommandFirst(args);
  const [cmd, ...rest] = argv;
  switch (cmd) {
    // Loaded when used: a scan does not pay for the other commands' modules.
    case 'rules': return await (await import('./commands/rules.js')).rulesCommand(rest, HELP);
    case 'history': return await (await import('./commands/history.js')).historyCommand(rest, HELP);
    case 'show': return await (await import('./commands/history.js')).showCommand(rest, HELP);
    case 'stats': return await (await import('./commands/history.js')).statsCommand(rest, HELP);
    case 'ps': return await (await import('./commands/ps.js')).psCommand(rest);
    default: {
      // Before anything is opened: `klogscan histroy` would otherwise create the default database.
      const meant = commandTypo(cmd);
      if (meant) throw new UsageError(`unknown command '${cmd}'; did you mean ${meant}? (see klogscan --help)`);
      return await scanCommand(argv, HELP, VERSION);
    }
  }
}
