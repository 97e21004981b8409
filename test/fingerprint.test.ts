// Fingerprints and signatures: the same problem everywhere, a different one when the culprit differs.
import assert from 'node:assert/strict';
import { normalizeFn } from '../src/fingerprint.js';
import { sample, scanText } from './helpers.js';

const JAVA = sample('seed/centos7-java-rwsem.messages');

function fp(text: string): { fingerprint: string; signature: string } {
  const [a] = scanText(text);
  return { fingerprint: a.identity.fingerprint, signature: a.identity.signature };
}

describe('fingerprint and signature', () => {
  it('strips compiler clone suffixes, padding prefixes and ppc64 dots', () => {
    assert.equal(normalizeFn('__mutex_lock.isra.2'), '__mutex_lock');
    assert.equal(normalizeFn('__mutex_lock.constprop.0'), '__mutex_lock');
    assert.equal(normalizeFn('foo.part.0'), 'foo');
    assert.equal(normalizeFn('bar.cold'), 'bar');
    assert.equal(normalizeFn('baz.llvm.123456789'), 'baz');
    assert.equal(normalizeFn('qux.constprop.0.isra.0'), 'qux');
    assert.equal(normalizeFn('__pfx_kthread'), 'kthread');
    assert.equal(normalizeFn('.__switch_to'), '__switch_to');
  });

  it('is the same across hosts, pids, addresses, offsets, timeouts and module-vs-built-in', () => {
    const base = fp(JAVA);
    const other = JAVA
      .replace(/app-prod-17/g, 'db-9')
      .replace(/181134/g, '4242')
      .replace(/blocked for more than 120/, 'blocked for more than 600')
      .replace(/ffffffff8108d8b9/g, 'ffffffffa0001234')
      .replace('do_exit+0x189/0xa40', 'do_exit+0x1c2/0xb10')
      .replace('down_read+0x20/0x40', 'down_read+0x24/0x40 [kernel]');
    assert.deepEqual(fp(other), base);
  });

  it('is the same for the 5.x spelling of the same wait (rwsem_down_read_slowpath)', () => {
    const newer = JAVA.split('\n').filter((l) => !l.includes('call_rwsem_down_read_failed')).join('\n')
      .replace(/rwsem_down_read_failed/g, 'rwsem_down_read_slowpath');
    assert.deepEqual(fp(newer), fp(JAVA));
  });

  it('differs when the culprit or the wait differs', () => {
    const base = fp(JAVA);
    assert.notEqual(fp(JAVA.replace('do_exit+0x189/0xa40', 'exit_mm+0x11/0x20')).fingerprint, base.fingerprint);
    const write = fp(JAVA.replace(/rwsem_down_read_failed/g, 'rwsem_down_write_failed').replace(/down_read\+/, 'down_write+'));
    assert.notEqual(write.fingerprint, base.fingerprint);
    assert.equal(write.signature, 'hung task in do_exit (rwsem write)');
  });

  it('ignores unreliable and interrupt-context frames when choosing the culprit', () => {
    const text = [
      'INFO: task x:1 blocked for more than 120 seconds.',
      'Call Trace:',
      ' <IRQ>',
      ' handle_irq_event+0x1/0x2',
      ' </IRQ>',
      ' ? bogus_helper+0x1/0x2',
      ' __schedule+0x1/0x2',
      ' io_schedule+0x1/0x2',
      ' bit_wait_io+0x1/0x2',
      ' __wait_on_bit+0x1/0x2',
      ' out_of_line_wait_on_bit+0x1/0x2',
      ' jbd2_journal_commit_transaction+0x1/0x2 [jbd2]',
      ' kjournald2+0x1/0x2 [jbd2]',
      ' kthread+0x1/0x2',
      ' ret_from_fork+0x1/0x2',
    ].join('\n');
    const [a] = scanText(text);
    assert.equal(a.identity.signature, 'hung task in jbd2_journal_commit_transaction (bit wait)');
    assert.equal(a.report.frames[0].context, 'irq');
  });

  it('a `?` word at a function\'s first byte or just past its end names no caller of a cut trace (a function pointer on the stack)', () => {
    const cut = (tail: string): string => scanText(['INFO: task dmsetup:9 blocked for more than 120 seconds.', 'Call Trace:',
      ' [<ffffffff814fbd9e>] schedule+0x3e/0x60', ' [<ffffffff814fcd14>] __wait_for_common+0xf0/0x12f', tail, ''].join('\n'))[0].identity.signature;
    assert.equal(cut(' [<ffffffff814fe018>] ? console_conditional_schedule+0x19/0x19'), 'hung task in __wait_for_common (completion)');
    assert.equal(cut(' [<ffffffff814fe018>] ? dm_wait_for_completion+0x0/0x40'), 'hung task in __wait_for_common (completion)');
    // A return address inside a function still may.
    assert.equal(cut(' [<ffffffff814fe018>] ? dm_suspend+0x19/0x80'), 'hung task in dm_suspend (completion)');
  });

  it('passes over `?` words at a function\'s edge in an all-`?` sysrq-w trace (stress/97: not lru_deactivate_fn+0x16b/0x16b)', () => {
    const [a] = scanText(sample('stress/97-3.x-sysrq-w-all-question-frames-edge-words-dmesg-c.log'));
    assert.equal(a.identity.signature, 'blocked task in generic_file_aio_read (page lock)');
  });

  it('names a wait for writeback as such, not as a page lock (stress/98, stress/33)', () => {
    const reports = scanText(sample('stress/98-5.4-kswapd-page-writeback-dmesg-two-reports.log'));
    assert.equal(reports[0].identity.signature, 'hung task in shrink_page_list (page writeback)');
    const folio = scanText(sample('stress/33-qubes-6.5-dm-crypt-sysrq-w-quoted-indented-qp-breaks.log'));
    assert.equal(folio[0].identity.signature, 'blocked task in mpage_prepare_extent_to_map (page writeback)');
    // A page lock stays one: the seed's 2.6 trace locks a page (sync_page under __lock_page).
    assert.ok(scanText(sample('eras/2.6-syslog-karmic-three-tasks.log')).some((r) => r.identity.signature.endsWith('(page lock)')));
  });

  it('passes over the block plug flush that io_schedule leaves on the stack (`? blk_flush_plug_list`, stress/67)', () => {
    const reports = scanText(sample('stress/67-5.6-names-with-spaces-mail-wrapped-page-fault-bottom.log'));
    assert.equal(reports[1].identity.signature, 'hung task in bh_submit_read (bit wait)');
  });

  it('passes over a stale scheduler helper at the top of a 2.6.18 trace (no `?` marks then)', () => {
    const [a] = scanText(sample('eras/rhel5.6-2.6.18-x86_64-L-TLB-stale-find-busiest-group-panic.log'));
    assert.equal(a.report.frames[0].fn, 'find_busiest_group');
    assert.equal(a.identity.signature, 'hung task in jbd2_journal_commit_transaction');
  });

  it('names a Rust function by its path, without crate hashes or generic arguments, so builds share a fingerprint', () => {
    assert.equal(normalizeFn('_RINvNtCs4gKlGRWyJ5S_4core3ptr13drop_in_placeINtNtNtCsgzhNYVB7wSz_6kernel4sync3arc3ArcEECsRdyc7Hyps3_3foo'),
      'core::ptr::drop_in_place');
    assert.equal(normalizeFn('_RNCNvCs1a_3foo3bar0'), 'foo::bar::{closure}');
    // A shape the reader does not follow (an impl path) stays as printed.
    assert.equal(normalizeFn('_RNvXs_NtCs1a_3foo3barNtB4_3BazNtB4_5Trait4call'), '_RNvXs_NtCs1a_3foo3barNtB4_3BazNtB4_5Trait4call');
    const text = sample('stress/70-arm64-6.x-sysrq-w-rust-v0-mangled-frames-tab-indented.log');
    const [a] = scanText(text);
    assert.equal(a.identity.signature, 'blocked task in core::ptr::drop_in_place (completion)');
    // Another build of the same driver: other crate hashes, same fingerprint.
    const [b] = scanText(text.replaceAll('Cs4gKlGRWyJ5S_', 'Cs9XzQ2mLp7Wb_').replaceAll('CsgzhNYVB7wSz_', 'CsQm3Lk8Vh1Tn_'));
    assert.notEqual(b.report.frames[6].fn, a.report.frames[6].fn);
    assert.equal(b.identity.fingerprint, a.identity.fingerprint);
  });

  it('passes over clock reads in an all-`?` trace (4.9: `? ktime_get` above the journal commit)', () => {
    const [a] = scanText(sample('stress/27-debian9-univention-placeholder-header-stack-words.log').replace('$NAME:$PID', 'jbd2/vdt-8:390'));
    assert.ok(a.report.frames.some((f) => f.fn === 'ktime_get'));
    assert.equal(a.identity.signature, 'hung task in jbd2_journal_commit_transaction (bit wait)');
  });

  it('takes a wound/wait mutex for a mutex wait: the culprit is the lock\'s caller (DRM modeset locks)', () => {
    const [a] = scanText([
      'INFO: task kworker/1:1:47 blocked for more than 122 seconds.',
      'Call Trace:',
      ' __schedule+0x4c9/0x1810',
      ' schedule+0x49/0x150',
      ' schedule_preempt_disabled+0x18/0x30',
      ' __ww_mutex_lock.constprop.0+0x51b/0x9b0',
      ' modeset_lock+0x1c5/0x240',
      ' drm_helper_probe_detect_ctx+0x8e/0x130',
      ' process_one_work+0x20e/0x5e0',
      ' worker_thread+0x1ce/0x3c0',
      ' kthread+0xee/0x120',
      ' ret_from_fork+0x2d/0x50',
    ].join('\n'));
    assert.equal(a.identity.signature, 'hung task in modeset_lock (mutex)');
  });

  it('names the caller of a dma fence wait, a PREEMPT_RT rwsem, a closure and a device lock, not the wait itself (helper-57)', () => {
    const sig = (...frames: string[]): string => scanText(['INFO: task kworker/2:0:99 blocked for more than 122 seconds.', 'Call Trace:', ' <TASK>',
      ' __schedule+0x4c9/0x1810', ' schedule+0x49/0x150', ...frames.map((f) => ` ${f}+0x10/0x100`), ' kthread+0xee/0x120', ' </TASK>'].join('\n'))[0].identity.signature;
    assert.equal(sig('schedule_timeout', 'dma_fence_default_wait', 'dma_fence_wait_timeout', 'drm_sched_stop'), 'hung task in drm_sched_stop (dma fence)');
    assert.equal(sig('schedule_timeout', 'dma_resv_wait_timeout', 'ttm_bo_delayed_delete'), 'hung task in ttm_bo_delayed_delete (dma fence)');
    // AMD's amdgpu-dkms waits in its own copy (helper-70, a ROCm 4.15 report).
    assert.equal(sig('schedule_timeout', 'kcl_fence_default_wait', 'dma_fence_wait_timeout', 'amdgpu_bo_do_create'), 'hung task in amdgpu_bo_do_create (dma fence)');
    assert.equal(sig('rt_mutex_schedule', '__rt_mutex_slowlock_locked', 'rwbase_write_lock', 'down_write', 'f2fs_balance_fs'), 'hung task in f2fs_balance_fs (rwsem write)');
    assert.equal(sig('rt_mutex_schedule', 'rwbase_read_lock', 'down_read', 'f2fs_lookup'), 'hung task in f2fs_lookup (rwsem read)');
    assert.equal(sig('__closure_sync', 'bch2_btree_update_start'), 'hung task in bch2_btree_update_start (completion)');
    assert.equal(sig('schedule_preempt_disabled', '__mutex_lock', 'device_lock', 'usbdev_ioctl'), 'hung task in usbdev_ioctl (mutex)');
  });

  it('says when a trace was printed but none of its frames names a caller', () => {
    const cut = fp('INFO: task TaskSchedulerFo:28445 blocked for more than 120 seconds.\nCall Trace:\n __schedule+0x2c4/0x5b0\n schedule+0x50/0xa8\n');
    assert.equal(cut.signature, 'hung task of TaskSchedulerFo (trace names no caller)');
    assert.notEqual(cut.fingerprint, fp('INFO: task TaskSchedulerFo:28445 blocked for more than 120 seconds.\n').fingerprint);
  });

  it('names a report without a trace by its task, numbers left out', () => {
    assert.equal(fp('INFO: task kworker/u8:102:403349 blocked for more than 1228 seconds.\n').signature, 'hung task of kworker/u*:* (no call trace)');
    assert.equal(fp('INFO: task kworker/u8:7:1 blocked for more than 120 seconds.\n').fingerprint,
      fp('INFO: task kworker/u16:30:9 blocked for more than 120 seconds.\n').fingerprint);
  });
});
