/**
 * The call-trace frame grammar of every kernel era and architecture. `parseFrameLine()` takes one
 * message text (envelope already removed) and returns the stack-context markers and the frames on
 * it, or null when the line is not part of a trace. Shapes (see samples/README.md for the logs):
 *
 *   x86 and most arches   `[<ffffffff816a94c9>] schedule+0x29/0x70`, `[<...>] ? plist_del+0x46/0x70`
 *   4.x+ without addresses `schedule+0x36/0x80`, `? __schedule+0x250/0x730`
 *   modules, build ids    `jbd2_journal_commit_transaction+0x23c/0x19b0 [jbd2]`, `fn+0x1/0x2 [snd 852e...]`
 *   markers               `<TASK>`, `</TASK>`, `<IRQ>`, `</IRQ>`, `<NMI>`, `<EOI>`, `<<EOE>>`, also before a frame
 *   /proc/PID/stack       `[<0>] __schedule+0x2cd/0x890`; the `0xffffffffffffffff` end mark is dropped
 *   arm64                 `__switch_to+0xf8/0x168 (T)` (6.14+ marks which unwinder step found it)
 *   ARM                   `[<807762c0>] (__schedule) from [<80776938>] (schedule+0x50/0xa8)`,
 *                         5.x+ `__schedule from schedule+0x50/0xa8`
 *   powerpc               `[c0000000ffc0fb90] [c000000000016a3c] __switch_to+0x2dc/0x430 (unreliable)`,
 *                         old ppc64 `.__switch_to+0x1dc/0x380` (ELFv1 dot symbols)
 *   s390                  `([<000000000011c5f2>] __schedule+0x2ce/0x7a8)` (parenthesised: a guess)
 *   sparc64 (2.6-5.x)     `[00000000006d9f74] io_schedule+0x20/0x3c`
 *   syzbot symbolised     `__schedule+0x1110/0x1e60 kernel/sched/core.c:5380`,
 *                         `context_switch kernel/sched/core.c:5380 [inline]`
 *   decode_stacktrace.sh  `__schedule (kernel/sched/core.c:5354 kernel/sched/core.c:6954)`
 *   no kallsyms           `[<ffffffffc0123456>] 0xffffffffc0123456`
 * Suffixes such as `.isra.0` stay in `fn`; normalising them is the fingerprint's job.
 */
import { build, compile } from './patterns.js';

export interface ParsedFrame {
  fn: string;
  offset: string | null;
  size: string | null;
  module: string | null;
  unreliable: boolean;
  inline?: boolean;
  source?: string;
  /**
   * ARM prints `where from caller` pairs: the caller of one line is the `where` of the next. The
   * assembler drops a `where` frame that repeats the previous line's caller.
   */
  arm?: 'where' | 'from';
}

export interface FrameLine {
  markers: string[];
  frames: ParsedFrame[];
}

// Stack-context markers: <TASK> </TASK> <IRQ> </IRQ> <NMI> </NMI> <SOFTIRQ> <EOI> <<EOE>> <EOE> <#DF>.
const MARKER = compile(String.raw`^ < {1,2} [/\#]? [A-Z]{2,8} > {1,2}`);

// What follows the address part of a frame: the symbol with offset/size (or a bare address when
// the kernel had no symbol for it), then module, source location and unwinder marks.
const SYMBOL = build(String.raw`
  ^ (?<q> \? \s+ )?
    (?: : (?<pmod> [\w\-]+ ) : )?                                              # 2.6.18: ':jbd:log_wait_commit+0xa3/0xf5'
    (?: (?<fn> \.? {{FUNC}} ) \+ (?<off> {{HEX}} ) / (?<size> {{HEX}} )
      | (?<addr> 0x [0-9a-fA-F]+ ) )
    (?: \s* \[ (?<mod> [\w\-]+ ) (?: \s+ [0-9a-fA-F]{16,64} )? \]      # [module] or [module buildid] (a paste may lose the blank)
      | \s+ (?<bmod> [a-z_][\w\-]{0,55} ) (?= \s* $ ) )?                  # a module's name without brackets (decode_stacktrace output pasted)
    (?: \s+ (?<src> [\w./+\-]+ : -?\d+ (?: : \d+ )? ) )?                      # syzbot: path/file.c:123
    (?: \s+ \( (?<mark> unreliable | [A-Z] ) \) )?                         # ppc (unreliable), arm64 (T)
    \s* $`);

// syzbot inlined call: `context_switch kernel/sched/core.c:5380 [inline]`.
const INLINE = build(String.raw`^ (?<fn> {{FUNC}} ) \s+ (?<src> [\w./+\-]+ : -?\d+ (?: : \d+ )? ) \s+ \[inline\] \s* $`);

// scripts/decode_stacktrace.sh output (LKP, kernel test robot): `__schedule (kernel/sched/core.c:5354 ...) [module]`,
// the offset replaced by source lines (samples/eras/lkp-6.16-*.log); a line of an inlined chain
// may carry `(discriminator 2)`, one level of parentheses inside (the alternatives start with
// different characters, so the match stays linear).
const DECODED = build(String.raw`
  ^ (?<q> \? \s+ )? (?<fn> {{FUNC}} ) \s \( (?<src> (?: [^()] | \( [^()]* \) )* ) \) (?: \s+ (?<mod> [\w\-]+ ) )? \s* $`);
/** The source of a decoded frame names a line; checked apart (a lazy `[^()]*? : \d+` was quadratic). */
const SOURCE_LINE = /:\d/;

// `[<ffffffff816a94c9>] ` (most architectures) and powerpc's `[c0000000ffc0fb90] [c000000000016a3c] `.
// A web page may have eaten `<ffffffff...>` as an HTML tag, leaving `[] ` (stress/54).
// No blank after it where kmsg pieces (`c`/`+` records) were joined back together.
const X86_ADDR = build(String.raw`^ \[ (?: < {{ADDR}} > )? \] \s*`);
// i386 kernels of 2004-2005 print the return address as a symbol with decimal offsets before the
// frame: `[pci_device_remove+59/64] pci_device_remove+0x3b/0x40`, `[__crc_rtattr_parse+678121/4765576] fn+0x52/0xe0 [mod]`.
const SYMBOLIC_ADDR = /^\[[\w.]{1,128}\+\d{1,10}\/\d{1,10}\]\s+/;
const PPC_ADDR = compile(String.raw`^ \[ [0-9a-fA-F]{8,16} \] \s+ \[ [0-9a-fA-F]{8,16} \] \s+`);
// sparc64 before 6.x prints one bracketed address without `<>`: ` [00000000006d9f74] io_schedule+0x20/0x3c`
// (tried after PPC_ADDR, whose first address has the same shape).
const SPARC_ADDR = compile(String.raw`^ \[ [0-9a-fA-F]{8,16} \] \s+`);

// ARM: `[<807762c0>] (__schedule) from [<80776938>] (schedule+0x50/0xa8)`. Kernels before 3.15
// print the first symbol as fully as the second, module included:
// `[<bf0b7480>] (cv_wait_common+0x150/0x1ec [spl]) from [<bf51a24c>] (txg_quiesce_thread+0x1bc/0x360 [zfs])`;
// a web page may have eaten the blank before each parenthesis.
const ARM_PAIR = build(String.raw`
  ^ \[< {{ADDR}} >\] \s* \( (?<where> [^)]* ) \) \s+ from \s+
    \[< {{ADDR}} >\] \s* \( (?<from> [^)]* ) \)`);
const ARM_WHERE = build(String.raw`^ (?<fn> {{FUNC}} ) $`);
// ARM 5.x+: `__schedule from schedule+0x50/0xa8` (the caller may carry a source line, below);
// `%ps` names the module of a function in one: `smb2_reconnect [cifs] from SMB2_open_init+0x54/0x9f4 [cifs]`.
const ARM_NEW = build(String.raw`
  ^ (?<fn> {{FUNC}} ) (?: \s+ \[ (?<wmod> [\w\-]+ ) (?: \s+ [0-9a-fA-F]{16,64} )? \] )? \s+ from \s+ (?<from> \S (?: .* \S )? ) \s* $`);

// ARM without kallsyms: `Function entered at [<806244a8>] from [<80624708>]`, the same pair as
// above with addresses only.
const ARM_NOSYMS = build(String.raw`^ Function \s entered \s at \s \[< (?<where> {{ADDR}} ) >\] \s+ from \s+ \[< (?<from> {{ADDR}} ) >\] \s* $`);

// A function name alone, with its module: a trace whose offsets the writer of a commit message
// or an issue left out (` __schedule`, ` nvkms_ioctl_from_kapi_try_pmlock [nvidia_modeset]`).
const BARE_SYMBOL = build(String.raw`^ \s* (?<q> \? \s+ )? (?<fn> {{FUNC}} ) (?: \s+ \[ (?<mod> [\w\-]+ ) \] )? \s* $`);

/** The end-of-stack sentinel of /proc/PID/stack on old kernels. */
const SENTINEL = '0xffffffffffffffff';

function symbol(s: string, unreliable: boolean): ParsedFrame | null {
  const m = SYMBOL.exec(s);
  if (!m?.groups) return null;
  const g = m.groups;
  const fn = g.fn ?? g.addr;
  if (fn === SENTINEL) return null;
  const f: ParsedFrame = {
    fn,
    offset: g.off ?? null,
    size: g.size ?? null,
    module: g.mod ?? g.bmod ?? g.pmod ?? null,
    unreliable: unreliable || g.q !== undefined || g.mark === 'unreliable',
  };
  if (g.src) f.source = g.src;
  return f;
}

/** The first symbol of an ARM pair: a bare name (3.15+) or a whole symbol (older kernels). */
function armWhere(text: string): ParsedFrame | null {
  const f = symbol(text, false);
  if (f) {
    f.arm = 'where';
    return f;
  }
  const m = ARM_WHERE.exec(text);
  return m?.groups ? { fn: m.groups.fn, offset: null, size: null, module: null, unreliable: false, arm: 'where' } : null;
}

/**
 * The caller of an ARM pair. syzbot's symbolised ARM traces give it a source line, and list each
 * inlined caller as a pair of its own with the same addresses:
 * `[<819be41c>] (__schedule) from [<819bf3a4>] (__schedule_loop kernel/sched/core.c:6864 [inline])`
 * then `[<819be41c>] (__schedule) from [<819bf3a4>] (schedule+0x2c/0x130 kernel/sched/core.c:6879)`.
 */
function armFrom(from: string): ParsedFrame | null {
  const f = symbol(from, false) ?? inlineFrame(from);
  if (f) f.arm = 'from';
  return f;
}

/** syzbot's `fn file.c:123 [inline]` line. */
function inlineFrame(s: string): ParsedFrame | null {
  const m = INLINE.exec(s);
  return m?.groups ? { fn: m.groups.fn, offset: null, size: null, module: null, unreliable: false, inline: true, source: m.groups.src } : null;
}

/**
 * Parses one trace line. Returns null when the text is not a frame or marker line; a line with
 * only the sentinel returns an empty frame list (it belongs to the trace but adds nothing).
 */
export function parseFrameLine(text: string): FrameLine | null {
  let s = text.trim();
  const markers: string[] = [];
  while (s.charCodeAt(0) === 60 /* < */) {
    const m = MARKER.exec(s);
    if (!m) break;
    markers.push(m[0]);
    s = s.slice(m[0].length).trimStart();
  }
  if (s.length === 0) return markers.length > 0 ? { markers, frames: [] } : null;

  const c0 = s.charCodeAt(0);
  if (c0 === 91 /* [ */) {
    let m = X86_ADDR.exec(s);
    if (m) {
      const rest = s.slice(m[0].length);
      if (rest.charCodeAt(0) === 40 /* ( */) {
        const a = ARM_PAIR.exec(s);
        if (!a?.groups) return null;
        const where = armWhere(a.groups.where);
        if (!where) return null;
        const from = armFrom(a.groups.from);
        return { markers, frames: from ? [where, from] : [where] };
      }
      if (rest.trim() === SENTINEL) return { markers, frames: [] };
      const f = symbol(rest, false);
      return f ? { markers, frames: [f] } : null;
    }
    m = PPC_ADDR.exec(s) ?? SYMBOLIC_ADDR.exec(s) ?? SPARC_ADDR.exec(s);
    if (m) {
      const f = symbol(s.slice(m[0].length), false);
      return f ? { markers, frames: [f] } : null;
    }
    return null;
  }
  if (c0 === 40 /* ( */ && s.endsWith(')')) {
    // s390 prints the first, guessed entry in parentheses.
    const inner = s.slice(1, -1);
    const m = X86_ADDR.exec(inner);
    if (!m) return null;
    const f = symbol(inner.slice(m[0].length), true);
    return f ? { markers, frames: [f] } : null;
  }
  const f = symbol(s, false);
  if (f) return { markers, frames: [f] };
  const inline = inlineFrame(s);
  if (inline) return { markers, frames: [inline] };
  let m = DECODED.exec(s);
  if (m?.groups && SOURCE_LINE.test(m.groups.src)) {
    const g = m.groups;
    return { markers, frames: [{ fn: g.fn, offset: null, size: null, module: g.mod ?? null, unreliable: g.q !== undefined, source: g.src.trim() }] };
  }
  m = ARM_NOSYMS.exec(s);
  if (m?.groups) {
    const bare = (addr: string, arm: 'where' | 'from'): ParsedFrame => ({ fn: `0x${addr}`, offset: null, size: null, module: null, unreliable: false, arm });
    return { markers, frames: [bare(m.groups.where, 'where'), bare(m.groups.from, 'from')] };
  }
  m = ARM_NEW.exec(s);
  if (m?.groups) {
    const where = armWhere(m.groups.fn);
    const from = armFrom(m.groups.from);
    if (where && m.groups.wmod) where.module = m.groups.wmod;
    return where && from ? { markers, frames: [where, from] } : null;
  }
  return null;
}

/** Stack context after a marker, or null when the marker does not change it. */
export function contextAfter(marker: string): 'task' | 'irq' | 'softirq' | 'nmi' | 'exception' | null {
  switch (marker) {
    case '<IRQ>': return 'irq';
    case '<SOFTIRQ>': return 'softirq';
    case '<NMI>': return 'nmi';
    case '<TASK>': case '</TASK>': case '</IRQ>': case '</SOFTIRQ>': case '</NMI>':
    case '<EOI>': case '<<EOE>>': case '<EOE>':
      return 'task';
    default:
      return marker.startsWith('<#') ? 'exception' : null;
  }
}

/**
 * A frame written as a function name alone. Any word would fit, so the report grammar takes it
 * only in an unbroken run of such lines right after `Call Trace:`.
 */
export function parseBareSymbol(text: string): ParsedFrame | null {
  const m = BARE_SYMBOL.exec(text);
  if (!m?.groups) return null;
  return { fn: m.groups.fn, offset: null, size: null, module: m.groups.mod ?? null, unreliable: m.groups.q !== undefined };
}
