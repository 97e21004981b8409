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
import { InputError } from './input/sources.js';
import { safe } from './output/term.js';
import { RuleFileError } from './rules/loader.js';
import { out, UsageError } from './commands/common.js';
import { historyCommand, showCommand, statsCommand } from './commands/history.js';
import { psCommand } from './commands/ps.js';
import { rulesCommand } from './commands/rules.js';
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
  --year YYYY          year for syslog dates that carry none (default: from the file's mtime)
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
  --print-cursor (journal JSON on stdin: print the last __CURSOR on exit)

History filters: --since 7d|DATE  --until DATE  --host H  --rule ID  --kind K
  --fingerprint F  --limit N (default 50); --json on history, show and stats

Exit status: 0 done, 1 rules test failed, 2 usage error, unreadable input or database.
`;

export async function main(argv: string[]): Promise<number> {
  process.stdout.on('error', (e: NodeJS.ErrnoException) => {
    if (e.code === 'EPIPE' || e.code === 'ERR_STREAM_DESTROYED') {
      out.closed = true;
      return;
    }
    throw e;
  });
  const debug = argv.includes('--debug');
  try {
    const [cmd, ...rest] = argv;
    switch (cmd) {
      case 'rules': return await rulesCommand(rest, HELP);
      case 'history': return await historyCommand(rest, HELP);
      case 'show': return await showCommand(rest, HELP);
      case 'stats': return await statsCommand(rest, HELP);
      case 'ps': return await psCommand(rest);
      default: return await scanCommand(argv, HELP, VERSION);
    }
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
