/**
 * Kernel release strings as `uname -r` and the Tainted line print them, sorted into release
 * streams so that a rule's affected/fixed bounds are compared the way that stream numbers its
 * kernels:
 *   rhelN / uek   `3.10.0-957.12.1.el7.x86_64`, `4.18.0-372.9.1.el8_6`, `5.4.17-2136.300.7.el8uek`:
 *                 RPM version-release order (rpmvercmp), CentOS/Alma/Rocky/Oracle RHCK alike
 *   suse          `5.14.21-150400.24.18-default`: RPM order
 *   ubuntu        `4.15.0-112-generic`: base version plus ABI number; the real sublevel is hidden
 *   debian        `4.19.0-6-amd64` (sublevel hidden; the package version `4.19.67-2+deb10u2`
 *                 printed after `#1 Debian` reveals it)
 *   upstream      everything else with a real x.y.z: mainline, stable, Fedora, Arch, Amazon Linux,
 *                 ELRepo's `.el7.elrepo` builds (vanilla kernels despite the `.el7`)...
 * Two kinds of upstream-looking releases are not what their numbers say: a `.0` sublevel followed
 * by a build suffix (`5.15.0-1027-mtk`, `6.1.0-rpi7-rpi-v8`, `5.10.0-60.18.0.50.oe2203`) hides the
 * real one, like Ubuntu's and Debian's, on a distribution's build; and vendor kernels that keep one
 * base version for years while taking later fixes (openEuler, Kylin, Virtuozzo, Anolis and Alibaba
 * Cloud Linux). Both may carry a fix, or a bug, that their base version predates.
 */

export type Stream = string;

export interface KernelRelease {
  raw: string;
  /** x.y.z as numbers (z = 0 when absent or hidden). */
  base: [number, number, number];
  stream: Stream;
  /** True when `base` holds the real upstream sublevel (so stable bounds can be compared). */
  exactSublevel: boolean;
  /** What distribution bounds are compared with (release without the architecture suffix). */
  compareKey: string;
  /** A release candidate (`6.11.0-rc3`, `6.12.0-rc1-next-20241001`): before the x.y release. */
  prerelease: boolean;
  /** An upstream-looking vendor kernel that may carry fixes and bugs from after its base version. */
  backports: boolean;
}

const ARCH = /\.(?:x86_64|aarch64|ppc64le|ppc64|s390x|i686|i586|i386|noarch|armv7hl|armv7l)(?:\+\w+)?$/;
const EL = /^(\d+\.\d+\.\d+)-([\w.]+?)\.el(\d+)(?:_\d+)?(uek|a)?(?:\.|$)/;
const UBUNTU = /^(\d+)\.(\d+)\.(\d+)-(\d+)-(generic(?:-lpae|-64k|-pae)?|lowlatency(?:-64k)?|aws|azure(?:-fde)?|gcp|gke|gkeop|oracle|kvm|raspi2?|raspi-nolpae|ibm|nvidia(?:-64k)?|intel(?:-iotg)?|oem|virtual|server|realtime|bluefield|xilinx-zynqmp|lts-\w+|fips)$/;
const DEBIAN = /^(\d+)\.(\d+)\.0-(?:0\.(?:bpo|deb\d+)\.)?(\d+)(?:\.\d+)?-(amd64|arm64|686(?:-pae)?|armmp(?:-lpae)?|cloud-amd64|cloud-arm64|rt-amd64|rt-arm64|rt-686-pae|powerpc64le|s390x|marvell|rpi|armel|loong64|riscv64|4kc-malta|5kc-malta|octeon|mips32r2el|mips64r2el|loongson-3)$/;
const SUSE = /^(\d+)\.(\d+)\.(\d+)-([\d.]+)-(default|azure|rt|kvmsmall|preempt|64kb|vanilla|pae|xen|ec2|trace|lpae|zfcpdump|obs_default)$/;
const BASE = /^(\d+)\.(\d+)(?:\.(\d+))?/;
/** A candidate for the x.y release; a stable candidate (`5.19.1-rc1`) comes after x.y and is not one. */
const PRERELEASE = /^\d+\.\d+(?:\.0)?-rc\d/;
/** `.0` then a build suffix other than a release candidate: the sublevel is not the real one. */
const HIDDEN_SUBLEVEL = /^\d+\.\d+\.0[-+_~](?!rc\d)/;
/** openEuler, Kylin, Virtuozzo, Anolis, Alibaba Cloud Linux: a fixed base with later fixes taken in. */
const VENDOR_BACKPORTS = /\.(?:oe\d|ky\d|vz\d|an\d|al\d)/;
const ELREPO = /\.el\d+\.elrepo\b/;
/** The base version every kernel of a RHEL major release carries. */
const RHEL_BASE: Record<string, string> = { 5: '2.6.18', 6: '2.6.32', 7: '3.10.0', 8: '4.18.0', 9: '5.14.0', 10: '6.12.0' };

/**
 * Classifies a release. `pkg` is the Debian package version from the Tainted line, when the log
 * printed one. Returns null for strings that do not start with a version number.
 */
export function parseRelease(raw: string, pkg: string | null = null): KernelRelease | null {
  const r = raw.trim();
  const b = BASE.exec(r);
  if (!b) return null;
  const base: [number, number, number] = [Number(b[1]), Number(b[2]), Number(b[3] ?? 0)];
  const noArch = r.replace(ARCH, '');
  const prerelease = PRERELEASE.test(r);
  const distro = (stream: Stream, exactSublevel: boolean, compareKey: string): KernelRelease =>
    ({ raw: r, base, stream, exactSublevel, compareKey, prerelease, backports: false });

  let m = ELREPO.test(r) ? null : EL.exec(r);
  // A `.elN` build of another version (`5.18.6-2.gdc.el8`, a mainline kernel packaged for EL8) is no RHEL kernel.
  if (m && !m[4] && RHEL_BASE[m[3]] !== undefined && RHEL_BASE[m[3]] !== m[1]) m = null;
  if (m) {
    return distro(m[4] === 'uek' ? 'uek' : m[4] === 'a' ? `rhel${m[3]}-alt` : `rhel${m[3]}`, false, noArch);
  }
  if ((m = UBUNTU.exec(r))) {
    return { ...distro('ubuntu', false, `${m[1]}.${m[2]}.${m[3]}-${m[4]}`), base: [base[0], base[1], 0] };
  }
  if ((m = DEBIAN.exec(r))) {
    const p = pkg ? BASE.exec(pkg) : null;
    if (p && Number(p[1]) === base[0] && Number(p[2]) === base[1] && p[3] !== undefined) {
      return { ...distro('debian', true, pkg!), base: [base[0], base[1], Number(p[3])] };
    }
    return { ...distro('debian', false, r), base: [base[0], base[1], 0] };
  }
  if ((m = SUSE.exec(r))) {
    return distro('suse', true, `${m[1]}.${m[2]}.${m[3]}-${m[4]}`);
  }
  // A hidden sublevel is a distribution's build (an Ubuntu flavour, Raspberry Pi OS, openEuler):
  // judged like the distributions' own streams, with backports.
  const hidden = HIDDEN_SUBLEVEL.test(r);
  return {
    ...distro('upstream', b[3] !== undefined && !hidden, noArch),
    backports: hidden || VENDOR_BACKPORTS.test(r),
  };
}

/** Distribution streams: their kernels carry backports, so upstream's "introduced" bound does not apply. */
export function isDistroStream(s: Stream): boolean {
  return s !== 'upstream';
}

/**
 * rpmvercmp: compares two version strings segment by segment; numeric segments numerically,
 * alphabetic ones as strings, numeric beats alphabetic, `~` sorts before anything (pre-releases),
 * `^` after the base but before anything else appended.
 */
export function rpmvercmp(a: string, b: string): number {
  if (a === b) return 0;
  let i = 0;
  let j = 0;
  const sep = (c: string): boolean => !/[A-Za-z0-9~^]/.test(c);
  while (i < a.length || j < b.length) {
    while (i < a.length && sep(a[i])) i++;
    while (j < b.length && sep(b[j])) j++;
    if (a[i] === '~' || b[j] === '~') {
      if (a[i] !== '~') return 1;
      if (b[j] !== '~') return -1;
      i++; j++;
      continue;
    }
    if (a[i] === '^' || b[j] === '^') {
      if (i >= a.length) return -1;
      if (j >= b.length) return 1;
      if (a[i] !== '^') return 1;
      if (b[j] !== '^') return -1;
      i++; j++;
      continue;
    }
    if (i >= a.length || j >= b.length) break;
    const numeric = /[0-9]/.test(a[i]);
    const re = numeric ? /^[0-9]+/ : /^[A-Za-z]+/;
    const sa = re.exec(a.slice(i))?.[0] ?? '';
    const sb = re.exec(b.slice(j))?.[0] ?? '';
    if (sb === '') return numeric ? 1 : -1;
    i += sa.length;
    j += sb.length;
    if (numeric) {
      const na = sa.replace(/^0+/, '');
      const nb = sb.replace(/^0+/, '');
      if (na.length !== nb.length) return na.length > nb.length ? 1 : -1;
      if (na !== nb) return na > nb ? 1 : -1;
    } else if (sa !== sb) {
      return sa > sb ? 1 : -1;
    }
  }
  if (i >= a.length && j >= b.length) return 0;
  return i >= a.length ? -1 : 1;
}

/** Compares RPM `version-release` strings: version first, then release. */
export function rpmCompare(a: string, b: string): number {
  const [va, ra = ''] = splitVR(a);
  const [vb, rb = ''] = splitVR(b);
  return rpmvercmp(va, vb) || rpmvercmp(ra, rb);
}

function splitVR(s: string): [string, string?] {
  const i = s.indexOf('-');
  return i < 0 ? [s] : [s.slice(0, i), s.slice(i + 1)];
}

/** Compares dotted numeric versions (`5.0`, `4.19.63`); missing parts count as 0. */
export function versionCompare(a: string | readonly number[], b: string | readonly number[]): number {
  const pa = typeof a === 'string' ? a.split(/[.-]/).map(Number) : a;
  const pb = typeof b === 'string' ? b.split(/[.-]/).map(Number) : b;
  for (let k = 0; k < Math.max(pa.length, pb.length); k++) {
    const x = Number.isFinite(pa[k]) ? pa[k] : 0;
    const y = Number.isFinite(pb[k]) ? pb[k] : 0;
    if (x !== y) return x > y ? 1 : -1;
  }
  return 0;
}

/** `4.19.63` -> `4.19`. */
export function seriesOf(v: string | readonly number[]): string {
  const p = typeof v === 'string' ? v.split('.') : v.map(String);
  return `${p[0]}.${p[1] ?? 0}`;
}

/** Ubuntu keys `5.4.0-42`: base version, then ABI number. */
export function abiCompare(a: string, b: string): number {
  const [va, aa = '0'] = a.split('-');
  const [vb, ab = '0'] = b.split('-');
  return versionCompare(va, vb) || versionCompare(aa, ab);
}

/** The comparator a stream's bounds use. */
export function compareInStream(stream: Stream, a: string, b: string): number {
  if (stream === 'ubuntu') return abiCompare(a, b);
  if (stream === 'upstream') return versionCompare(a, b);
  if (stream === 'debian') return rpmCompare(a, b);
  return rpmCompare(a, b);
}
