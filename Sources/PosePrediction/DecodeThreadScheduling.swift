// Per-thread facts and settings of prediction's decode threads: their CPU time and Linux priority.
import Foundation

/// CPU time of the calling thread.
func threadCPUSeconds() -> Double {
    var t = timespec()
    clock_gettime(CLOCK_THREAD_CPUTIME_ID, &t)
    return Double(t.tv_sec) + Double(t.tv_nsec) / 1e9
}

/// Lowers the calling thread's scheduling priority (Linux applies nice and policy per thread).
func applyPriority(_ priority: DecodePriority) {
    #if os(Linux)
    // On Linux, who = 0 means the calling thread (not the whole process) for both calls.
    // SCHED_IDLE (5, fixed by the kernel ABI) is missing from Glibc's Swift overlay.
    let schedIdle: Int32 = 5
    switch priority {
    case .normal: break
    case .background: _ = setpriority(__priority_which_t(PRIO_PROCESS.rawValue), 0, 10)
    case .idle:
        var param = sched_param(sched_priority: 0)
        _ = sched_setscheduler(0, schedIdle, &param)
    }
    #endif
}
