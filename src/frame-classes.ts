/**
 * Which frames are not the culprit of a hang, as data. A hung task's stack always ends in the
 * scheduler, usually under a lock or wait primitive, and starts in an entry or worker frame; none
 * of those says *what* hung. The culprit is the innermost frame that is in none of these lists
 * (syzkaller's hang title extractor works the same way). The wait primitive that was skipped is
 * remembered, because it often tells known bugs apart (rwsem read vs write, page lock vs io).
 *
 * Names are matched after normalisation (fingerprint.ts: clone suffixes and `__pfx_` removed).
 * A trailing `*` matches any continuation.
 */

/** The scheduler itself: every sleeping task shows these. */
export const SCHEDULER: readonly string[] = [
  '__schedule', 'schedule', 'schedule_timeout', 'schedule_timeout_uninterruptible',
  'schedule_timeout_killable', 'schedule_timeout_interruptible', 'schedule_timeout_idle',
  'schedule_preempt_disabled', 'schedule_hrtimeout*', 'schedule_idle', 'preempt_schedule*',
  '_cond_resched', '__cond_resched*', 'freezable_schedule*', 'context_switch', '__switch_to',
  '__switch_to_asm', 'finish_task_switch', 'switch_to', 'resume', '_switch', '__switch_to_aux',
  'ret_from_switch', '__schedule_loop', 'should_resched',
  // x86's way back from an interrupt into a preemptible kernel: a task preempted there (an RCU stall's blocked reader).
  'trace_hardirqs_on_thunk', 'trace_hardirqs_off_thunk', 'retint_kernel', '___preempt_schedule*',
  // 2.6.18 x86_64: the label inside schedule() that traces of that era show (stress/54).
  'thread_return',
];

/**
 * Lock and wait primitives, by the kind of wait they name. Order matters: the first class that a
 * skipped frame falls in names the wait (an rwsem slowpath under `io_schedule` is an rwsem wait).
 */
export const WAIT_PRIMITIVES: readonly { label: string; names: readonly string[] }[] = [
  {
    label: 'rwsem read',
    names: [
      'rwsem_down_read_failed*', 'rwsem_down_read_slowpath', 'call_rwsem_down_read_failed*',
      'down_read', 'down_read_killable', 'down_read_interruptible', 'down_read_nested',
      '__down_read*', 'mmap_read_lock*', 'rwsem_down_read_common', 'inode_lock_shared*',
      'filemap_invalidate_lock_shared', 'i_mmap_lock_read',
      // PREEMPT_RT: rwsems are built on an rtmutex (rwbase_rt.c), under rt_mutex_schedule.
      'rwbase_read_lock', '__rwbase_read_lock',
    ],
  },
  {
    label: 'rwsem write',
    names: [
      'rwsem_down_write_failed*', 'rwsem_down_write_slowpath', 'call_rwsem_down_write_failed*',
      'down_write', 'down_write_killable', 'down_write_nested', '__down_write*', 'mmap_write_lock*',
      'inode_lock', 'inode_lock_nested', 'filemap_invalidate_lock', 'i_mmap_lock_write',
      'rwbase_write_lock',
    ],
  },
  {
    // 2.6.3x-3.x: the slow path shared by readers and writers; the caller frame says which.
    label: 'rwsem',
    names: ['rwsem_down_failed_common', '__rwsem_down_failed_common', 'rwsem_down_failed_common*'],
  },
  {
    label: 'percpu rwsem',
    names: ['percpu_down_read*', 'percpu_down_write', '__percpu_down_read*', 'percpu_rwsem_wait*', 'percpu_rwsem_down_read'],
  },
  {
    label: 'mutex',
    names: [
      'mutex_lock', 'mutex_lock_nested', 'mutex_lock_killable*', 'mutex_lock_interruptible*',
      'mutex_lock_io*', '__mutex_lock*', '_mutex_lock', 'rt_mutex_*', '__rt_mutex_*', 'rtlock_slowlock*',
      'mutex_spin_on_owner', 'mutex_optimistic_spin',
      // Wound/wait mutexes (DRM modeset locks, dma-resv): the caller names what was wanted.
      'ww_mutex_lock*', '__ww_mutex_lock*',
      // A device's mutex (include/linux/device.h, inlined into syzbot's traces): the caller names why.
      'device_lock',
    ],
  },
  {
    label: 'semaphore',
    names: ['down', '__down', '__down_common', 'down_timeout', 'down_interruptible', 'down_killable', '__down_timeout', '__down_interruptible', '__down_killable'],
  },
  // Before the completion: synchronize_rcu() and flush_work() wait through wait_for_completion(),
  // and what the task waits for is the grace period or the work item, not a completion of its own.
  {
    label: 'rcu',
    names: [
      'synchronize_rcu*', 'synchronize_sched*', 'synchronize_srcu*', '__synchronize_srcu', '_synchronize_rcu*',
      'wait_rcu_gp', '__wait_rcu_gp', 'rcu_barrier*', 'synchronize_rcu_tasks*', 'synchronize_net',
    ],
  },
  {
    label: 'work flush',
    names: [
      'flush_work', '__flush_work', 'flush_workqueue', '__flush_workqueue', 'drain_workqueue',
      'cancel_work_sync', '__cancel_work_timer', '__cancel_work_sync', 'cancel_delayed_work_sync',
      'flush_delayed_work', 'flush_cpu_slab', 'kthread_flush_work',
    ],
  },
  {
    label: 'completion',
    names: [
      'wait_for_completion*', 'wait_for_common*', '__wait_for_common', 'do_wait_for_common',
      // bcache and bcachefs wait for a closure's refcount to drop the same way.
      'closure_sync', '__closure_sync', 'closure_sync_timeout', '__closure_sync_timeout',
    ],
  },
  {
    // A GPU (or other device) fence that is never signalled: the caller (drm_sched_stop,
    // ttm_bo_delayed_delete...) names what waited.
    label: 'dma fence',
    names: [
      'dma_fence_default_wait', 'dma_fence_wait_timeout', 'dma_fence_wait_any_timeout', 'dma_fence_wait',
      'dma_resv_wait_timeout', 'dma_resv_wait_timeout_rcu', 'reservation_object_wait_timeout_rcu', 'fence_wait_timeout',
      // (AMD's out-of-tree amdgpu-dkms carries its own copy in its amdkcl module.)
      'fence_default_wait', 'kcl_fence_default_wait',
    ],
  },
  {
    // Before the page lock: the same bit-wait frames under it wait for writeback I/O to end, not
    // for a lock someone holds.
    label: 'page writeback',
    names: ['wait_on_page_writeback', 'folio_wait_writeback', 'folio_wait_writeback_killable', 'wait_for_stable_page', 'folio_wait_stable'],
  },
  {
    label: 'page lock',
    names: [
      '__lock_page*', 'lock_page*', 'wait_on_page_bit*', 'wait_on_page_locked*',
      'folio_wait_bit*', '__folio_lock*', 'folio_lock*', 'sleep_on_page*',
      'migration_entry_wait_on_locked', '__migration_entry_wait*',
      // 2.6/3.x: the wait action of the page-lock bit (samples/eras/2.6-syslog-karmic-three-tasks.log).
      'sync_page', 'sync_page_killable',
    ],
  },
  {
    label: 'bit wait',
    names: [
      '__wait_on_bit*', 'out_of_line_wait_on_bit*', 'bit_wait*', 'wait_on_bit*', '__wait_on_buffer',
      'wait_on_buffer', '__lock_buffer', 'lock_buffer', 'out_of_line_wait_on_atomic_t', 'wait_on_atomic_one',
      'var_wait_*', 'wait_var_event*',
      // 2.6/3.x: the wait action of the buffer-lock bit (samples/eras/rhel6-*.log, 3.13-*.log).
      'sync_buffer', 'sleep_on_buffer',
    ],
  },
  {
    // Solaris-style condition variables of the SPL (ZFS on Linux): ZFS waits sleep here, and the
    // ZFS function above names the wait (zio_wait, txg_wait_synced, dmu_tx_wait...).
    label: 'cv wait',
    names: [
      'cv_wait_common', '__cv_wait', '__cv_wait_io', '__cv_wait_idle', '__cv_wait_sig', '__cv_wait_io_sig',
      '__cv_timedwait*', 'cv_timedwait_common', 'cv_timedwait_hires_common', '__cv_broadcast',
    ],
  },
  {
    label: 'sleep',
    names: ['usleep_range*', 'msleep', 'msleep_interruptible', 'ssleep', 'schedule_timeout_*sleep*'],
  },
  {
    label: 'socket lock',
    names: ['__lock_sock', 'lock_sock_nested', 'lock_sock'],
  },
  {
    label: 'io',
    names: ['io_schedule', 'io_schedule_timeout', 'io_wait_event*'],
  },
];

/**
 * Frames at the bottom of every trace (syscall entry, worker and thread start): reaching one of
 * them means the trace had nothing more specific to say.
 */
export const ENTRY: readonly string[] = [
  'entry_SYSCALL*', 'entry_SYSENTER*', 'entry_INT80*', 'do_syscall_64', 'do_syscall_32*', 'do_fast_syscall_32',
  '__do_fast_syscall_32', 'system_call*', 'syscall_call', 'sysenter_do_call', 'int_signal', 'int_ret_from_sys_call',
  'ret_from_fork*', 'ret_from_kernel_thread', 'kthread', 'worker_thread', 'process_one_work', 'process_scheduled_works',
  'smpboot_thread_fn', 'ret_fast_syscall', 'el0_svc*', 'el0t_64_sync*', 'el0_sync*', 'el0_da', 'el1_*',
  'invoke_syscall', 'do_el0_svc', 'el0_svc_common*', 'ret_to_user',
  'x64_sys_call', 'do_syscall_x64', 'do_int80_syscall_32', 'child_rip', 'kernel_thread_helper', 'run_workqueue',
  'thread_generic_wrapper', 'taskq_thread', 'kernel_thread_exit', 'gs_change', 'work_pending', 'ret_from_syscall', 'system_call_exception', 'handle_exception',
];

/** Stale helpers that appear as real frames in some traces but never name the hang. */
export const INCIDENTAL: readonly string[] = [
  'prepare_to_wait*', 'finish_wait', 'autoremove_wake_function', 'wake_bit_function', 'wait_woken',
  'woken_wake_function', 'add_wait_queue*', 'remove_wait_queue', '__refrigerator',
  // 2.6.18 lock-section stubs (`.text.lock.mutex`): a mutex wait, named by its caller.
  'text.lock.*',
  // Wake-up helpers: stale words in `?` traces, never what a task waits in.
  'wake_up_bit', 'wake_up_*', '__wake_up*', 'default_wake_function', 'try_to_wake_up', 'wake_up_process',
  'wake_atomic_t_function', 'var_wake_function',
  // The block plug flushed by io_schedule() before it sleeps: stale words in `?` traces of I/O waits
  // (`? blk_flush_plug_list` under `schedule_timeout`, 4.4), a step on the way and never the wait.
  'blk_flush_plug_list', 'blk_flush_plug', '__blk_flush_plug', 'blk_schedule_flush_plug', 'blk_finish_plug',
  // Clock reads: stale words of the timed sleep (`? ktime_get` in an all-`?` 4.9 trace).
  'ktime_get', 'ktime_get_ts*', 'ktime_get_mono_fast_ns', 'read_tsc', 'native_sched_clock', 'sched_clock*', 'local_clock',
  // The scheduler's own helpers: 2.6.18 traces start after schedule() with no `?` marks, and a
  // stale load-balancing frame may come first (RHEL 5's `find_busiest_group`).
  'find_busiest_group', 'find_busiest_queue', 'load_balance*', 'pick_next_task*', 'put_prev_task*',
  'dequeue_task*', 'enqueue_task*', 'deactivate_task', 'activate_task', 'update_curr*', 'set_next_entity',
];

/**
 * Frames of the other reports (soft lockups, oopses, WARNINGs...) that never name what went wrong:
 * the report's own machinery (dump_stack, the WARN and BUG traps, the page fault and exception
 * paths), the timer and watchdog interrupts a lockup is caught in, NMI backtraces, the RCU stall
 * check, the sanitizers' and the page allocator's reporting, and the OOM killer's own path (crash
 * titles: fingerprint.ts).
 */
export const CRASH_MACHINERY: readonly string[] = [
  'dump_stack*', '__dump_stack', 'show_stack*', 'show_trace*', 'show_regs', '__show_regs', 'show_regs_print_info', 'dump_backtrace*',
  'print_trace_address', 'print_context_stack', 'dump_trace', 'panic', 'nmi_panic', 'vpanic', '__warn*', 'warn_slowpath*', 'report_bug',
  'handle_bug', 'do_error_trap', 'do_trap', 'do_invalid_op', 'invalid_op', 'exc_invalid_op', 'asm_exc_*', 'do_int3*', 'die', '__die*',
  'oops_end', 'no_context', '__bad_area*', 'bad_area*', 'do_page_fault', '__do_page_fault', 'page_fault', 'exc_page_fault',
  'do_user_addr_fault', 'do_kern_addr_fault', 'kernelmode_fixup_or_oops', 'page_fault_oops', 'async_page_fault', 'do_general_protection',
  'general_protection', 'exc_general_protection', 'do_mem_abort', 'el1_*', 'el1h_64_*', '__do_kernel_fault', 'die_kernel_fault',
  'do_translation_fault', 'do_bad_area', '__dabt_svc', 'do_DataAbort', 'bug_handler', 'brk_handler', 'do_debug_exception', 'call_break_hook',
  'do_undefinstr', 'arm64_*_fault*', 'watchdog*', 'softlockup_*', 'run_local_timers', 'update_process_times', 'tick_sched_*',
  'tick_nohz_*', 'tick_periodic', 'tick_handle_periodic', '__hrtimer_run_queues', 'hrtimer_interrupt', '__run_hrtimer', '*timer_interrupt', 'decrementer_common*', 'ret_from_except*',
  '__sysvec_apic_timer_interrupt', 'sysvec_apic_timer_interrupt', 'local_apic_timer_interrupt', 'smp_local_timer_interrupt',
  'timer_interrupt', 'do_timer', 'irq_exit*', '__irq_exit_rcu', '__do_softirq', 'handle_softirqs', 'do_softirq*', 'invoke_softirq',
  'call_softirq', 'run_ksoftirqd', 'nmi_*', 'do_nmi', 'default_do_nmi', 'exc_nmi', 'end_repeat_nmi', 'perf_event_nmi_handler',
  'arch_trigger_*', 'nmi_cpu_backtrace*', 'nmi_trigger_cpumask_backtrace', 'trigger_*_backtrace', 'rcu_dump_cpu_stacks', 'print_cpu_stall*',
  'print_other_cpu_stall', 'check_cpu_stall*', 'rcu_pending', 'rcu_check_callbacks', 'rcu_sched_clock_irq', 'rcu_*stall*',
  'dump_cpu_task', 'sched_show_task', 'show_stack_log_lvl', '__might_sleep', '___might_sleep', '__might_resched', '__might_fault',
  'might_fault', '__schedule_bug', 'schedule_debug', 'kasan_report*', '__asan_*', 'check_memory_region*', 'kasan_check_range',
  '__kasan_check*', 'print_report', 'print_address_description*', 'kasan_*', 'kfence_*', 'ubsan_*', '__ubsan_*', 'printk*', 'vprintk*',
  '_printk', 'oom_kill_process', 'out_of_memory', 'dump_header', 'oom_*', 'mem_cgroup_out_of_memory', 'mem_cgroup_oom*',
  'rewind_stack*', 'make_task_dead', 'handle_irq', 'handle_edge_irq', 'generic_handle_irq*', 'do_IRQ', 'common_interrupt', 'ret_from_intr',
  'irq_enter*', 'gic_handle_irq', 'el1_irq', 'call_on_irq_stack', 'do_interrupt_handler', 'handle_domain_irq', '__handle_domain_irq',
  'sysvec_*', 'asm_sysvec_*', 'asm_common_interrupt', 'lockdep_*', 'debug_lockdep_*', 'print_usage_bug', 'mark_lock*', 'lock_acquire*',
  'lock_release', '__lock_acquire', 'lock_is_held*', 'rcu_lock_acquire', 'rcu_lock_release', '__rcu_read_lock', '__rcu_read_unlock',
  'rcu_read_lock*', 'rcu_read_unlock*', 'kmsg_dump', 'crash_kexec', '__crash_kexec', 'sysrq_handle_crash',
  // mm's bad page reports (`BUG: Bad page state`, `Bad page map`), across their renames.
  'bad_page', 'free_pages_check_bad', 'check_free_page_bad', 'free_page_bad_report', 'free_page_is_bad_report', 'check_new_page_bad',
  'print_bad_pte',
];

/**
 * Where a CPU spins or a fault lands without saying why: locks taken spinning, busy waits, the
 * string and copy routines. The frame that called them is the one that names the problem; the
 * label (as a hung task's wait) is kept in the title.
 */
export const CRASH_SPINS: readonly { label: string; names: readonly string[] }[] = [
  {
    label: 'spinlock',
    names: ['native_queued_spin_lock_slowpath', 'queued_spin_lock_slowpath', '__pv_queued_spin_lock_slowpath', 'pv_wait_head*',
      '_raw_spin_lock*', 'do_raw_spin_lock', '_spin_lock*', '__spin_lock*', '__raw_spin_lock*', 'arch_spin_lock', '__ticket_spin_lock',
      'spin_lock*', '_raw_spin_unlock*', 'spin_unlock*', '__raw_spin_unlock*', '_raw_read_unlock*', '_raw_write_unlock*', '_spin_unlock*', 'queued_read_lock_slowpath', 'queued_write_lock_slowpath', '_raw_read_lock*', '_raw_write_lock*', 'queued_write_lock', 'queued_read_lock', '_read_lock*',
      '_write_lock*', 'do_raw_read_lock', 'do_raw_write_lock', 'rt_spin_lock*', 'virt_spin_lock', 'queued_spin_lock', 'raw_spin_rq_lock*', '_raw_spin_rq_lock*',
      // powerpc shared-processor LPARs yield to the hypervisor while spinning.
      'plpar_hcall*', 'yield_to_preempted', 'splpar_spin_yield', 'splpar_rw_yield', '__spin_yield', '__rw_yield'],
  },
  {
    label: 'cross-CPU call',
    names: ['smp_call_function_many_cond', 'smp_call_function_many', 'smp_call_function_single', 'smp_call_function', 'csd_lock_wait*',
      'on_each_cpu*', 'smp_call_function_any', 'native_flush_tlb_others', 'flush_tlb_others', 'flush_tlb_mm_range', 'stop_machine*',
      'multi_cpu_stop', 'cpu_stopper_thread'],
  },
  {
    label: 'busy wait',
    names: ['delay_tsc', '__const_udelay', '__delay', '__udelay', 'udelay', 'mdelay', 'cpu_relax', 'delay_halt*', 'read_tsc', 'ktime_get*'],
  },
  {
    // A CPU caught idle: nothing of its own is running (the stall or lockup is elsewhere, or in firmware).
    label: 'idle',
    names: ['native_safe_halt', 'safe_halt', 'halt', 'cpuidle_enter*', 'default_idle*', 'arch_cpu_idle*', 'cpu_idle_poll', 'do_idle', 'poll_idle',
      'mwait_idle*', 'intel_idle*', 'acpi_idle*', 'io_idle', 'amd_e400_idle', 'cpu_idle', 'cpu_startup_entry', 'start_secondary', 'common_startup_64',
      'secondary_startup*', 'rest_init', 'start_kernel', 'x86_64_start_*', 'arch_call_rest_init', 'cpu_bringup_and_idle', 'default_idle_call',
      'cpuidle_idle_call', 'xen_safe_halt', 'pv_native_safe_halt', 'arch_safe_halt', 'psci_*', 'cpu_do_idle', 'wfi',
      'rcu_eqs_*', 'rcu_idle_*', 'start_cpu', 'cpu_bringup*', 'rcu_enter_idle', 'tick_nohz_idle_*', 'play_dead*', 'hlt_play_dead'],
  },
  {
    label: 'library',
    names: ['memcpy*', '__memcpy*', 'memset*', '__memset*', 'memmove*', '__memmove*', 'memcmp', '__memcmp', 'strlen', 'strnlen', 'strcmp',
      'strncmp', 'strcpy', 'strncpy', 'strscpy*', 'strchr', 'strstr', 'copy_user*', '_copy_to_user', '_copy_from_user', '__copy_*', 'copy_page*',
      'clear_page*', 'rep_movs*', '__get_user*', '__put_user*', 'csum_partial*', '__list_add*', '__list_del*', 'list_del*', 'list_add*',
      'memchr*', 'lockref_*', 'sprintf', 'vsnprintf', 'snprintf', 'scnprintf', 'format_decode'],
  },
];
