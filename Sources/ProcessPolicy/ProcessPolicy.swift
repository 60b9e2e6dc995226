// How a Kinema process runs on a shared CPU machine, decided in one place: libtorch's thread count,
// glibc's allocator and libgomp's wait policy. No libtorch here, so `kinema-smooth` can use it.
import Foundation

/// The process-wide settings Kinema's executables apply **once, first thing in `main`**:
///
/// | setting | where it is applied | why |
/// |---|---|---|
/// | libtorch threads (`threadCount()`) | `kinema`'s `main`: `Runtime.threads = ProcessPolicy.threadCount()` | spinning OpenMP threads on a busy machine |
/// | allocator (`Allocator.apply()`) | both executables' `main` | freed buffers stay in the heap instead of being unmapped |
/// | OpenMP wait policy | `Sources/CProcessStart` (before libgomp loads), then `adoptWaitPolicyChosenAtStart()` | idle threads sleep instead of spinning |
///
/// Library users embedding Kinema (tests, other executables) get libtorch's defaults — one thread per
/// core, glibc's allocator, libgomp's spinning wait — which work; to get Kinema's behaviour on a shared
/// machine, call `Runtime.threads = ProcessPolicy.threadCount()` (and `Allocator.tensorWorkloads.apply()`)
/// once before the first network runs. Nothing in the libraries sets these behind the caller's back.
public enum ProcessPolicy {
    /// libtorch intra-op threads: `KINEMA_THREADS` if set; otherwise one per core on a quiet machine,
    /// and a single thread when other processes already keep the cores busy (1-minute load ≥ cores − 0.5).
    /// OpenMP threads spin while they wait for each other; on an oversubscribed machine that made a
    /// training epoch 4× slower with 2 threads than with 1 (measured on mirror-mouse-example).
    public static func threadCount() -> Int {
        let loadText = try? String(contentsOfFile: "/proc/loadavg", encoding: .utf8)
        return threadCount(
            setting: ProcessInfo.processInfo.environment["KINEMA_THREADS"],
            loadAverage: loadText?.split(separator: " ").first.flatMap { Double($0) },
            cores: ProcessInfo.processInfo.activeProcessorCount)
    }

    /// The rule of `threadCount()` on given inputs: `setting` is `KINEMA_THREADS` (used when it is a
    /// positive integer), `loadAverage` the 1-minute load (nil when unknown).
    public static func threadCount(setting: String?, loadAverage: Double?, cores: Int) -> Int {
        if let setting, let n = Int(setting), n > 0 { return n }
        if let loadAverage, loadAverage >= Double(cores) - 0.5 { return 1 }
        return cores
    }
}
