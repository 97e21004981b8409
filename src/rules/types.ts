/**
 * The rule file format (rules/<id>.json), validated by loader.ts, and the compiled form the engine
 * runs. A rule is data: what it is, what it means for the operator, how to recognise it, which
 * kernels have it, what fixes it, where that is documented, and the samples that prove it.
 */

export type RuleKind = 'kernel-bug' | 'environment';
export type Verdict = 'affected' | 'fixed' | 'unknown';

export interface LogPatternSpec {
  /** A plain substring every matching line contains: lets the scanner find candidates cheaply. */
  needle: string;
  /** XRegExp pattern; free-spacing when it starts with `(?x)`. */
  pattern: string;
}

export interface MatchSpec {
  /** Frame names innermost first, matched as an ordered subsequence with gaps; `a|b` = either; `*` globs. */
  frames_in_order?: string[];
  /** At least one of these frames must be present too. */
  any_frames?: string[];
  /** None of these frames may be present (another architecture's entry code, say). */
  no_frames?: string[];
  /** The report's culprit frame (fingerprint.ts) must be one of these. */
  culprit?: string[];
  /** The wait primitive must be one of these labels (`rwsem read`, `mutex`, `page lock`, ...). */
  primitive?: string[];
  /** Shell-style globs of the blocked task's name. */
  task_names?: string[];
  /** Lines of the same host seen before the report that raise confidence. */
  log_patterns?: LogPatternSpec[];
  /** When true, one of log_patterns must have been seen for the rule to match at all. */
  log_required?: boolean;
  /** The block matches only a report printed without a call trace (a header or a task line alone). */
  no_trace?: boolean;
  /** XRegExp pattern the kernel release must match when the release is known. */
  kernel_family?: string;
  /** Where the CPU was (the RIP/IP/pc function of a lockup, oops or WARNING): one of these, as frames are named. */
  ip?: string[];
  /** An OOM kill's constraint is one of these (`memcg`, `global`, `cpuset`, `memory_policy`). */
  oom_constraint?: string[];
  /** Lines of the report itself (its raw lines, envelope included: do not anchor) that raise confidence. */
  report_patterns?: LogPatternSpec[];
  /** When true, one of report_patterns must be among the report's lines for the block to match. */
  report_required?: boolean;
}

export interface StreamBounds {
  /** First affected release of the stream (null or absent: not known, treat all earlier as affected). */
  introduced?: string | null;
  /** First fixed release; a list holds one entry per series (stable branches, Ubuntu series). */
  fixed?: string | string[] | null;
  note?: string;
}

export interface FixRef {
  title: string;
  commit?: string;
  release?: string;
}

export interface Reference {
  title: string;
  url?: string;
}

export interface SampleRef {
  file: string;
  /** --kernel to analyse the sample with. */
  kernel?: string;
  /** The verdict this rule must give on it (with `kernel`, or the log's own release). */
  verdict?: Verdict;
}

export interface RuleFile {
  id: string;
  title: string;
  kind: RuleKind;
  /** What it means for the operator, in a sentence or two. */
  meaning: string;
  advice: string;
  /** `victim`: the reported task waits for another task, which is where to look. */
  role?: 'culprit' | 'victim';
  /** The kinds of report the rule is about (`soft_lockup`, `oom_kill`...); absent: hung tasks and sysrq-w dumps. */
  kinds?: string[];
  match: MatchSpec | MatchSpec[];
  versions?: Record<string, StreamBounds>;
  fixes?: FixRef[];
  references: (Reference | string)[];
  /** Rules this one refines: both may match, this one ranks first. */
  supersedes?: string[];
  samples: { hit: (SampleRef | string)[]; miss: (SampleRef | string)[] };
  verification?: Record<string, string>;
}

export interface CompiledMatch {
  inOrder: RegExp[];
  any: RegExp[];
  none: RegExp[];
  culprit: RegExp | null;
  primitive: Set<string> | null;
  tasks: RegExp | null;
  taskSpecific: boolean;
  logs: { needle: string; re: RegExp }[];
  logRequired: boolean;
  noTrace: boolean;
  family: RegExp | null;
  ip: RegExp | null;
  oomConstraint: Set<string> | null;
  reports: { needle: string; re: RegExp }[];
  reportRequired: boolean;
}

export interface Rule {
  file: string;
  /** Where the rule came from: 'builtin' or the directory given with --rules / rules.d. */
  origin: string;
  spec: RuleFile;
  /** The report kinds it applies to. */
  kinds: ReadonlySet<string>;
  matches: CompiledMatch[];
  samples: { hit: SampleRef[]; miss: SampleRef[] };
}
