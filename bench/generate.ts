/**
 * The benchmark workload: a large multi-host /var/log/messages with daemon noise, kernel noise
 * and hung-task episodes (1-4 tasks each) of five real trace shapes, in syslog, dmesg or journal
 * JSON form. Same shape as ../shared/bench/gen-syslog.py, written for this project; seeded, so a
 * size and seed always give the same bytes. Also used by tests (small sizes) to check that every
 * input path finds every embedded report.
 *
 *   node dist/bench/generate.js OUT SIZE_MB [--seed N] [--format syslog|dmesg|journal-json]
 */
import fs from 'node:fs';

const TRACES: Record<string, { task: string; frames: string[]; newStyle?: boolean }> = {
  rwsem_exit: {
    task: 'java',
    frames: ['schedule+0x29/0x70', 'rwsem_down_read_failed+0x10d/0x1a0', 'call_rwsem_down_read_failed+0x18/0x30',
      'down_read+0x20/0x40', 'do_exit+0x189/0xa40', '? plist_del+0x46/0x70', 'do_group_exit+0x3f/0xa0',
      'get_signal_to_deliver+0x1ce/0x5e0', 'do_signal+0x57/0x6c0', 'do_notify_resume+0x5f/0xb0', 'int_signal+0x12/0x17'],
  },
  cmdline: {
    task: 'ps',
    frames: ['__schedule+0x250/0x730', 'schedule+0x36/0x80', 'rwsem_down_read_failed+0xf0/0x150',
      'call_rwsem_down_read_failed+0x18/0x30', 'down_read+0x20/0x40', 'proc_pid_cmdline_read+0xd9/0x4e0',
      '? do_filp_open+0xa5/0x100', '__vfs_read+0x37/0x150', 'vfs_read+0x96/0x130', 'SyS_read+0x55/0xc0',
      'entry_SYSCALL_64_fastpath+0x1a/0xc5'],
  },
  jbd2: {
    task: 'jbd2/sda1-8',
    frames: ['schedule+0x29/0x70', 'jbd2_journal_commit_transaction+0x23c/0x19b0 [jbd2]', '? __switch_to+0x15c/0x4c0',
      'kjournald2+0xb4/0x240 [jbd2]', '? wake_up_atomic_t+0x30/0x30', 'kthread+0xcf/0xe0', 'ret_from_fork+0x58/0x90'],
  },
  nfs: {
    task: 'rsync',
    frames: ['schedule+0x29/0x70', 'rpc_wait_bit_killable+0x24/0xb0 [sunrpc]', '__wait_on_bit+0x60/0x90',
      'out_of_line_wait_on_bit+0x86/0xb0', '__rpc_execute+0x159/0x460 [sunrpc]', 'rpc_execute+0x66/0xb0 [sunrpc]',
      'rpc_run_task+0x79/0xa0 [sunrpc]', 'nfs4_call_sync_sequence+0x63/0xa0 [nfsv4]', '_nfs4_proc_getattr+0xb9/0xd0 [nfsv4]',
      'nfs4_proc_getattr+0x5f/0x80 [nfsv4]', '__nfs_revalidate_inode+0x91/0x280 [nfs]', 'nfs_getattr+0x9b/0x260 [nfs]',
      'vfs_getattr+0x49/0x80', 'vfs_fstatat+0x75/0xc0', 'SYSC_newstat+0x2e/0x60', 'SyS_newstat+0xe/0x10',
      'system_call_fastpath+0x16/0x1b'],
  },
  xfs_new: {
    task: 'kworker/u16:2',
    newStyle: true,
    frames: ['__schedule+0x2c6/0x7d0', 'schedule+0x3f/0xa0', 'xlog_grant_head_wait+0xbf/0x1f0 [xfs]',
      'xlog_grant_head_check+0xd5/0x100 [xfs]', 'xfs_log_reserve+0xd3/0x1e0 [xfs]', 'xfs_trans_reserve+0x1a3/0x210 [xfs]',
      'xfs_trans_alloc+0xbd/0x170 [xfs]', 'xfs_iomap_write_unwritten+0xb1/0x2f0 [xfs]', 'xfs_end_ioend+0xcf/0x130 [xfs]',
      'xfs_end_io+0xa8/0xd0 [xfs]', 'process_one_work+0x1a7/0x360', 'worker_thread+0x30/0x390',
      '? create_worker+0x1a0/0x1a0', 'kthread+0x112/0x130', '? kthread_bind+0x30/0x30', 'ret_from_fork+0x35/0x40'],
  },
};

const DAEMON = [
  'systemd[1]: Started Session {n} of user root.',
  'systemd-logind[812]: New session {n} of user deploy.',
  'sshd[{p}]: Accepted publickey for deploy from 10.0.{a}.{b} port {port} ssh2: RSA SHA256:abcdefghijklmnop',
  'CROND[{p}]: (root) CMD (/usr/lib64/sa/sa1 1 1)',
  'dockerd[1203]: time="2019-01-29T10:00:00.000000000Z" level=info msg="ignoring event" module=libcontainerd namespace=moby topic=/tasks/delete',
  'chronyd[701]: Selected source 10.0.0.{a}',
  'java[{p}]: GC pause (G1 Evacuation Pause) (young) 512M->128M(4096M) {n}ms',
];
const KERNEL = [
  'IPv6: ADDRCONF(NETDEV_UP): eth{a}: link is not ready',
  'e1000e: eth0 NIC Link is Up 1000 Mbps Full Duplex, Flow Control: Rx/Tx',
  'device veth{n}a entered promiscuous mode',
  'docker0: port {a}(veth{n}a) entered forwarding state',
  'XFS (dm-{a}): Mounting V5 Filesystem',
  'EXT4-fs (sda{a}): mounted filesystem with ordered data mode. Opts: (null)',
  'TCP: request_sock_TCP: Possible SYN flooding on port {port}. Sending cookies.  Check SNMP counters.',
  'nf_conntrack: table full, dropping packet',
  'Out of memory: Kill process {p} (java) score 912 or sacrifice child',
  'perf: interrupt took too long (2503 > 2500), lowering kernel.perf_event_max_sample_rate to 79750',
  'task {p} (ps) blocked? no: this line only mentions blocked words',
];
const MONTHS = 'Jan Feb Mar Apr May Jun Jul Aug Sep Oct Nov Dec'.split(' ');

/** A small seeded PRNG (mulberry32): the same seed always gives the same workload. */
function rng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

export interface Expected {
  bytes: number;
  reports: number;
  perHost: Record<string, number>;
  perTrace: Record<string, number>;
}

export type WorkloadFormat = 'syslog' | 'dmesg' | 'journal-json';

/** Writes the workload through `write` (called with ~64 KiB strings) and returns what it holds. */
export function generate(sizeBytes: number, write: (s: string) => void, opts: { seed?: number; format?: WorkloadFormat; hosts?: number } = {}): Expected {
  const rnd = rng(opts.seed ?? 7);
  const fmt = opts.format ?? 'syslog';
  const hosts = Array.from({ length: opts.hosts ?? 8 }, (_, i) => `web${String(i + 1).padStart(2, '0')}`);
  let t = 1548756000;
  const uptime = new Map(hosts.map((h) => [h, 1000 + rnd() * 1e6]));
  const exp: Expected = { bytes: 0, reports: 0, perHost: Object.fromEntries(hosts.map((h) => [h, 0])), perTrace: Object.fromEntries(Object.keys(TRACES).map((k) => [k, 0])) };
  const int = (lo: number, hi: number): number => lo + Math.floor(rnd() * (hi - lo + 1));
  const pick = <T>(xs: readonly T[]): T => xs[Math.floor(rnd() * xs.length)];
  const fill = (s: string): string => s.replace(/\{(\w+)\}/g, (_, k: string) => String(
    k === 'n' ? int(1, 99999) : k === 'p' ? int(300, 99999) : k === 'a' ? int(0, 9) : k === 'b' ? int(1, 254) : int(1024, 65535)));
  let buf = '';
  let pid = 100000;
  const emit = (host: string, prog: string, msg: string, kernel: boolean): void => {
    const d = new Date(t * 1000);
    let line: string;
    if (fmt === 'syslog') {
      const day = String(d.getUTCDate()).padStart(2, ' ');
      const hms = [d.getUTCHours(), d.getUTCMinutes(), d.getUTCSeconds()].map((x) => String(x).padStart(2, '0')).join(':');
      line = `${MONTHS[d.getUTCMonth()]} ${day} ${hms} ${host} ${prog}: ${msg}\n`;
    } else if (fmt === 'dmesg') {
      if (!kernel) return;
      line = `[${uptime.get(host)!.toFixed(6).padStart(12, ' ')}] ${msg}\n`;
    } else {
      const rec: Record<string, string> = { __REALTIME_TIMESTAMP: String(Math.floor(t * 1e6)), _HOSTNAME: host, MESSAGE: msg, SYSLOG_IDENTIFIER: kernel ? 'kernel' : prog.split('[')[0], PRIORITY: '6' };
      if (kernel) rec._TRANSPORT = 'kernel';
      line = JSON.stringify(rec) + '\n';
    }
    buf += line;
    exp.bytes += Buffer.byteLength(line);
    if (buf.length > 65536) {
      write(buf);
      buf = '';
    }
  };
  while (exp.bytes < sizeBytes) {
    t += rnd() * 0.05;
    const host = pick(hosts);
    uptime.set(host, uptime.get(host)! + rnd() * 0.05);
    const r = rnd();
    if (r < 0.00012) {
      const kinds = Array.from({ length: int(1, 4) }, () => pick(Object.keys(TRACES)));
      const secs = pick([120, 120, 120, 122, 241, 480]);
      for (const k of kinds) {
        pid += int(1, 500);
        const { task, frames, newStyle } = TRACES[k];
        const kp = (m: string): void => emit(host, 'kernel', m, true);
        kp(`INFO: task ${task}:${pid} blocked for more than ${secs} seconds.`);
        kp(k === 'cmdline' ? '      Not tainted 4.9.79-009.ali3000.alios7.x86_64 #1' : '      Tainted: G           OE  ------------   3.10.0-693.el7.x86_64 #1');
        kp('"echo 0 > /proc/sys/kernel/hung_task_timeout_secs" disables this message.');
        kp(`${task.slice(0, 15).padEnd(15)} D ffff881269bd7c00     0 ${String(pid).padStart(6)}      1 0x00000084`);
        kp(' ffff881269bd7bd8 0000000000000082 ffff882037e04f10 ffff881269bd7fd8');
        kp('Call Trace:');
        for (const f of frames) {
          const addr = `ffffffff${Math.floor(rnd() * 0xffffffff).toString(16).padStart(8, '0')}`;
          if (newStyle) kp(` ${f}`);
          else kp(f.startsWith('? ') ? ` [<${addr}>] ? ${f.slice(2)}` : ` [<${addr}>] ${f}`);
        }
        exp.reports++;
        exp.perHost[host]++;
        exp.perTrace[k]++;
      }
    } else if (r < 0.35) {
      let m = fill(pick(KERNEL));
      if (fmt === 'syslog' && rnd() < 0.3) m = `[${uptime.get(host)!.toFixed(6).padStart(12, ' ')}] ${m}`;
      emit(host, 'kernel', m, true);
    } else {
      const m = pick(DAEMON);
      const i = m.indexOf(': ');
      emit(host, fill(m.slice(0, i)), fill(m.slice(i + 2)), false);
    }
  }
  if (buf) write(buf);
  return exp;
}

if (process.argv[1] && process.argv[1].endsWith('generate.js') && process.argv.length >= 4) {
  const [out, mb, ...rest] = process.argv.slice(2);
  const seed = rest.includes('--seed') ? Number(rest[rest.indexOf('--seed') + 1]) : 7;
  const format = (rest.includes('--format') ? rest[rest.indexOf('--format') + 1] : 'syslog') as WorkloadFormat;
  const fd = fs.openSync(out, 'w');
  const exp = generate(Number(mb) * 1024 * 1024, (s) => fs.writeSync(fd, s), { seed, format });
  fs.closeSync(fd);
  fs.writeFileSync(`${out}.expected.json`, JSON.stringify(exp, null, 1));
  process.stdout.write(JSON.stringify({ bytes: exp.bytes, reports: exp.reports }) + '\n');
}
