// The call-trace frame grammar, one case per shape the kernel prints.
import assert from 'node:assert/strict';
import { parseFrameLine } from '../parsers/frame.js';
import { frameNames, scanText } from './helpers.js';

function one(text: string): Record<string, unknown> {
  const fl = parseFrameLine(text);
  assert.ok(fl, `a frame line: ${text}`);
  assert.equal(fl.frames.length, 1, text);
  const { fn, offset, size, module, unreliable, inline, source } = fl.frames[0];
  const out: Record<string, unknown> = { fn, offset, size, module, unreliable };
  if (inline) out.inline = inline;
  if (source) out.source = source;
  return out;
}

describe('frame grammar', () => {
  it('x86 with addresses, reliable and unreliable', () => {
    assert.deepEqual(one(' [<ffffffff816a94c9>] schedule+0x29/0x70'), { fn: 'schedule', offset: '0x29', size: '0x70', module: null, unreliable: false });
    assert.deepEqual(one('[<ffffffff81327a16>] ? plist_del+0x46/0x70'), { fn: 'plist_del', offset: '0x46', size: '0x70', module: null, unreliable: true });
  });

  it('4.x+ without addresses, with modules and build ids, compiler suffixes kept', () => {
    assert.deepEqual(one('  jbd2_journal_commit_transaction+0x23c/0x19b0 [jbd2]'), { fn: 'jbd2_journal_commit_transaction', offset: '0x23c', size: '0x19b0', module: 'jbd2', unreliable: false });
    assert.deepEqual(one(' snd_ctl_elem_write+0x1a/0x80 [snd 852e63996474051c57bcd1a86ebfd81083073853]').module, 'snd');
    assert.equal(one(' __mutex_lock.isra.2+0x18c/0x4d0').fn, '__mutex_lock.isra.2');
    assert.equal(one(' ? __pfx_kthread+0x10/0x10').fn, '__pfx_kthread');
  });

  it('stack markers alone and before a frame', () => {
    assert.deepEqual(parseFrameLine(' <TASK>'), { markers: ['<TASK>'], frames: [] });
    const fl = parseFrameLine(' <IRQ>  [<ffffffff816038f7>] dump_stack+0x19/0x1b')!;
    assert.deepEqual(fl.markers, ['<IRQ>']);
    assert.equal(fl.frames[0].fn, 'dump_stack');
    assert.deepEqual(parseFrameLine('<<EOE>>')!.markers, ['<<EOE>>']);
  });

  it('/proc/PID/stack lines, and the end-of-stack sentinel adds nothing', () => {
    assert.equal(one('[<0>] __schedule+0x2cd/0x890').fn, '__schedule');
    assert.deepEqual(parseFrameLine('[<ffffffffffffffff>] 0xffffffffffffffff'), { markers: [], frames: [] });
  });

  it('arm64 unwinder marks', () => {
    assert.deepEqual(one(' __switch_to+0xf8/0x168 (T)'), { fn: '__switch_to', offset: '0xf8', size: '0x168', module: null, unreliable: false });
  });

  it('ARM `where from caller` pairs, old and new', () => {
    const old = parseFrameLine('[<807762c0>] (__schedule) from [<80776938>] (schedule+0x50/0xa8)')!;
    assert.deepEqual(old.frames.map((f) => [f.fn, f.offset, f.arm]), [['__schedule', null, 'where'], ['schedule', '0x50', 'from']]);
    const older = parseFrameLine('[<c0398690>] (__schedule+0x2c4/0x5b0) from [<c03973d0>] (schedule_timeout+0x158/0x1e0)')!;
    assert.deepEqual(older.frames.map((f) => f.fn), ['__schedule', 'schedule_timeout']);
    // Before 3.15 the first symbol is printed in full, module included; a web page may eat the blanks.
    const full = parseFrameLine('[<bf0b7480>](cv_wait_common+0x150/0x1ec [spl]) from [<bf51a24c>](txg_quiesce_thread+0x1bc/0x360 [zfs])')!;
    assert.deepEqual(full.frames.map((f) => [f.fn, f.offset, f.size, f.module, f.arm]), [
      ['cv_wait_common', '0x150', '0x1ec', 'spl', 'where'], ['txg_quiesce_thread', '0x1bc', '0x360', 'zfs', 'from']]);
    const neu = parseFrameLine(' __schedule from schedule+0x4c/0xcc')!;
    assert.deepEqual(neu.frames.map((f) => f.fn), ['__schedule', 'schedule']);
    // 5.x+ names the module of the first function too (`%ps`), with or without a build id.
    for (const [line, mods] of [
      ['  smb2_reconnect [cifs] from SMB2_open_init+0x54/0x9f4 [cifs]', ['cifs', 'cifs']],
      ['cv_wait_common [spl] from __cv_wait+0x2c/0x30 [spl]', ['spl', 'spl']],
      ['nfs_wait_bit_killable [nfs 0123456789abcdef0123456789abcdef01234567] from __wait_on_bit+0x5c/0xb0', ['nfs', null]],
      ['SMB2_open_init [cifs] from smb2_query_info_compound+0x1a0/0x500[cifs]', ['cifs', 'cifs']],
    ] as const) {
      const got = parseFrameLine(line);
      assert.deepEqual(got?.frames.map((f) => f.module), mods, line);
    }
  });

  it("syzbot's symbolised ARM pairs: an inlined caller is a pair of its own, and the trace names each function once", () => {
    const inl = parseFrameLine('[<819be41c>] (__schedule) from [<819bf3a4>] (__schedule_loop kernel/sched/core.c:6864 [inline])')!;
    assert.deepEqual(inl.frames.map((f) => [f.fn, f.inline ?? false, f.source ?? null, f.arm]), [
      ['__schedule', false, null, 'where'], ['__schedule_loop', true, 'kernel/sched/core.c:6864', 'from']]);
    const neu = parseFrameLine(' __schedule from __schedule_loop kernel/sched/core.c:6864 [inline]')!;
    assert.deepEqual(neu.frames.map((f) => [f.fn, f.inline ?? false]), [['__schedule', false], ['__schedule_loop', true]]);
    const text = [
      'INFO: task kworker/0:0:9 blocked for more than 430 seconds.',
      'Call trace: ',
      '[<819be41c>] (__schedule) from [<819bf3a4>] (__schedule_loop kernel/sched/core.c:6864 [inline])',
      '[<819be41c>] (__schedule) from [<819bf3a4>] (schedule+0x2c/0x130 kernel/sched/core.c:6879)',
      '[<819bf378>] (schedule) from [<819bf78c>] (schedule_preempt_disabled+0x18/0x24 kernel/sched/core.c:6936)',
      '[<819bf774>] (schedule_preempt_disabled) from [<819c1e70>] (__mutex_lock_common kernel/locking/mutex.c:679 [inline])',
      '[<819bf774>] (schedule_preempt_disabled) from [<819c1e70>] (__mutex_lock_slowpath kernel/locking/mutex.c:700 [inline])',
      '[<819bf774>] (schedule_preempt_disabled) from [<819c1e70>] (__mutex_lock.constprop.0+0x300/0x6f8 kernel/locking/mutex.c:747)',
      '[<819c1b70>] (__mutex_lock.constprop.0) from [<819c233c>] (mutex_lock+0x3c/0x40 kernel/locking/mutex.c:278)',
      '',
    ].join('\n');
    assert.deepEqual(frameNames(scanText(text)[0]), ['__schedule', '__schedule_loop', 'schedule', 'schedule_preempt_disabled',
      '__mutex_lock_common', '__mutex_lock_slowpath', '__mutex_lock.constprop.0', 'mutex_lock']);
  });

  it('an ARM pair wrapped before its caller goes on with the caller from the next line, `+(` or `(`, with or without a prefix (armv7 PREEMPT_RT mail)', () => {
    const head = ['INFO: task kworker/u8:0:8 blocked for more than 491 seconds.', '      Not tainted 5.15.49-rt46 #1',
      'task:kworker/u8:0    state:D stack:    0 pid:    8 ppid:     2 flags:0x00000000'];
    const tail = ['[<c08a6708>] (rt_mutex_slowlock.constprop.0) from [<c0374d60>] (fat_write_inode+0x34/0x54)',
      '[<c0374d60>] (fat_write_inode) from [<c0297304>] (__writeback_single_inode+0x354/0x3ec)', ''];
    const want = ['schedule', 'rt_mutex_slowlock_block.constprop.0', 'rt_mutex_slowlock.constprop.0', 'fat_write_inode', '__writeback_single_inode'];
    for (const [cut, rest] of [['[<c08a65a0>] (rt_mutex_slowlock_block.constprop.0) from [<c08a6708>]', '+(rt_mutex_slowlock.constprop.0+0xac/0x174)'],
      ['[<c08a65a0>] (rt_mutex_slowlock_block.constprop.0) from [<c08a6708>]', '\t(rt_mutex_slowlock.constprop.0+0xac/0x174)'],
      ['[<c08a65a0>] (rt_mutex_slowlock_block.constprop.0) from', '[<c08a6708>] (rt_mutex_slowlock.constprop.0+0xac/0x174)']]) {
      const lines = [...head, '[<c08a3d84>] (schedule) from [<c08a65a0>] (rt_mutex_slowlock_block.constprop.0+0xb8/0x174)', cut, rest, ...tail];
      for (const chunk of [undefined, 5]) {
        const [r] = scanText(lines.join('\n'), { chunk });
        assert.deepEqual([frameNames(r), r.report.truncated, r.identity.signature], [want, true, 'hung task in fat_write_inode (mutex)'], `${rest} ${chunk}`);
      }
      // Every line of a syslog file broken by a mail client after the prefix of the cut line.
      const p = (i: number): string => `Jan 12 00:16:11 pi kernel: [  722.80${i}] `;
      const [r] = scanText([...head, lines[3], cut, rest, ...tail.slice(0, 2)].map((l, i) => (l === rest ? l : p(i) + l)).join('\n') + '\n');
      assert.deepEqual([frameNames(r), r.report.host], [want, 'pi'], rest);
    }
    // The next line is no caller: the cut pair is a line of its own, and the report reads on as before.
    const [r] = scanText([...head, '[<c08a65a0>] (rt_mutex_slowlock_block.constprop.0) from [<c08a6708>]', ...tail].join('\n'));
    assert.equal(frameNames(r)[0], 'rt_mutex_slowlock.constprop.0');
    // Another kind's trace alike (an RCU stall, ARM 3.10 form).
    const stall = ['[86808.091437] INFO: rcu_sched self-detected stall on CPU { 0}  (t=6000 jiffies g=195730 c=195729 q=1744)',
      '[86808.100829] CPU: 0 PID: 3338 Comm: miniupnpd Tainted: P             3.10.32 #1', '[86808.108070] Backtrace:',
      '[86808.124728] [<c001a154>](show_stack+0x0/0x1c) from [<c0190574>](dump_stack+0x24/0x28)',
      '[86808.132759] [<c0190550>](dump_stack+0x0/0x28) from [<c00705e0>]', '(rcu_check_callbacks+0x230/0x6e8)',
      '[86808.141751] [<c00703b0>](rcu_check_callbacks+0x0/0x6e8) from [<c0030fac>](update_process_times+0x48/0x74)', ''];
    const [o] = scanText(stall.join('\n'));
    assert.deepEqual([o.report.kind, frameNames(o)], ['rcu_stall', ['show_stack', 'dump_stack', 'rcu_check_callbacks', 'update_process_times']]);
  });

  it('powerpc two-address frames and (unreliable), ELFv1 dot symbols', () => {
    assert.deepEqual(one('[c0000000ffc0fb90] [c000000000016a3c] __switch_to+0x2dc/0x430 (unreliable)'), { fn: '__switch_to', offset: '0x2dc', size: '0x430', module: null, unreliable: true });
    assert.equal(one('[c00000000e5f3b30] [c000000000020c0c] .__switch_to+0x1dc/0x380').fn, '.__switch_to');
  });

  it('sparc64 one-address frames, without the x86 <> (2.6-5.x), leave the x86 and powerpc forms as they were (helper-44 #6)', () => {
    assert.deepEqual(one(' [00000000006d9f74] io_schedule+0x20/0x3c'), { fn: 'io_schedule', offset: '0x20', size: '0x3c', module: null, unreliable: false });
    assert.equal(one('[0000000000440e84] schedule+0x1c/0x80').fn, 'schedule');
    assert.equal(one(' [000000000045c8a4] journal_start+0xb8/0x118 [jbd]').module, 'jbd');
    assert.deepEqual(one('[c0000000ffc0fb90] [c000000000016a3c] __switch_to+0x2dc/0x430 (unreliable)'), { fn: '__switch_to', offset: '0x2dc', size: '0x430', module: null, unreliable: true });
    assert.equal(one(' [<ffffffff816a94c9>] schedule+0x29/0x70').fn, 'schedule');
    for (const t of ['[00000000] *pgd=00000000', '[0000000000440e84] some text', '[00000000006d9f74]']) assert.equal(parseFrameLine(t), null, t);
    // A SysRq-w dump of a 2.6.28 sparc64 (linux-next mail, Alexander Beregalov): each task keeps its trace.
    const dump = ['SysRq : Show Blocked State', '  task                        PC stack   pid father',
      'pdflush       D 00000000004878c8     0   163      2', 'Call Trace:', ' [00000000006d9f74] io_schedule+0x20/0x3c',
      ' [00000000004878c8] sync_page+0x84/0x94', ' [00000000006da2f8] __wait_on_bit+0x64/0xc0',
      'kjournald     D 00000000005443d4     0   405      2', 'Call Trace:', ' [000000000053f394] journal_commit_transaction+0x1c4/0x1648',
      ' [00000000005443d4] kjournald+0x134/0x2fc', ' [00000000004655e4] kthread+0x48/0x7c', ' [00000000004271a0] kernel_thread+0x3c/0x54',
      ' [0000000000465450] kthreadd+0xe0/0x184', ''].join('\n');
    const got = scanText(dump);
    assert.deepEqual(got.map((a) => [a.report.task, frameNames(a)[0], a.report.frames.length]), [['pdflush', 'io_schedule', 3], ['kjournald', 'journal_commit_transaction', 5]]);
  });

  it('s390 parenthesised first entry is a guess', () => {
    assert.equal(one('([<000000000011c5f2>] __schedule+0x2ce/0x7a8)').unreliable, true);
  });

  it('syzbot symbolised frames and inlined calls', () => {
    assert.deepEqual(one(' __schedule+0x189f/0x4c80 kernel/sched/core.c:6758'), { fn: '__schedule', offset: '0x189f', size: '0x4c80', module: null, unreliable: false, source: 'kernel/sched/core.c:6758' });
    assert.deepEqual(one(' context_switch kernel/sched/core.c:5371 [inline]'), { fn: 'context_switch', offset: null, size: null, module: null, unreliable: false, inline: true, source: 'kernel/sched/core.c:5371' });
  });

  it('decode_stacktrace.sh output', () => {
    assert.deepEqual(one('__schedule (kernel/sched/core.c:5354 kernel/sched/core.c:6954) '), { fn: '__schedule', offset: null, size: null, module: null, unreliable: false, source: 'kernel/sched/core.c:5354 kernel/sched/core.c:6954' });
    // An inlined chain with discriminators (LKP, 6.17): parentheses inside the source list.
    const d = one('? __kmalloc_noprof (include/trace/events/kmem.h:54 (discriminator 2) mm/slub.c:4366 (discriminator 2) mm/slub.c:4377 (discriminator 2)) ');
    assert.equal(d.fn, '__kmalloc_noprof');
    assert.equal(d.unreliable, true);
    assert.equal(d.source, 'include/trace/events/kmem.h:54 (discriminator 2) mm/slub.c:4366 (discriminator 2) mm/slub.c:4377 (discriminator 2)');
    assert.equal(parseFrameLine('drm_client_modeset_probe (drivers/gpu/drm/drm_client_modeset.c:869 ((discriminator 1))) '), null, 'one level of parentheses only');
  });

  it('addresses without a symbol', () => {
    assert.equal(one(' [<ffffffffc0123456>] 0xffffffffc0123456').fn, '0xffffffffc0123456');
    assert.equal(one(' ? 0xffffffffc0a1b2c3').unreliable, true);
  });

  it('is not fooled by lines that are not frames', () => {
    for (const t of [
      'Call Trace:', 'RIP: 0033:0x7f7004c274ba', 'Workqueue: writeback wb_workfn (flush-8:0)',
      ' ffff881269bd7bd8 0000000000000082 ffff882037e04f10 ffff881269bd7fd8',
      'java            D ffff881269bd7c00     0 181134      1 0x00000084', 'e1000e: eth0 NIC Link is Up 1000 Mbps',
      '2 locks held by getty/5951:', '',
    ]) {
      assert.equal(parseFrameLine(t), null, JSON.stringify(t));
    }
  });
});
