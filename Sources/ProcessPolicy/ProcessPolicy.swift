// How a Kinema process runs on a shared CPU machine, decided in one place: libtorch's thread count,
// glibc's allocator and libgomp's wait policy. No libtorch here, so `kinema-smooth` can use it.
import Foundation

/// The process-wide settings Kinema's executables apply **once, first thing in `main`**:
///
/// | setting | where it is applied | why |
/// |---|---|---|
/// | libtorch threads (`threadCount()`) | `kinema`'s `main`: `Runtime.threads = ProcessPolicy.threadCount()` | the same count on a quiet or busy machine, so the same results |
/// | allocator (`Allocator.apply()`) | both executables' `main` | freed buffers stay in the heap instead of being unmapped |
/// | OpenMP wait policy | `kinema`'s `main`: `chooseWaitPolicy()` (Sources/CProcessStart), before libgomp can load | idle threads sleep instead of spinning |
///
/// Library users embedding Kinema (tests, other executables) get libtorch's defaults — one thread per
/// core, glibc's allocator, libgomp's spinning wait — which work; to get Kinema's behaviour on a shared
/// machine, call `Runtime.threads = ProcessPolicy.threadCount()` (and `Allocator.tensorWorkloads.apply()`)
/// once before the first network runs. Nothing in the libraries sets these behind the caller's back.
public enum ProcessPolicy {
    /// libtorch intra-op threads: `KINEMA_THREADS` if set, otherwise the cores this process may run on
    /// (`availableCores()`). Deterministic on purpose: libtorch's CPU reductions depend on the thread count, so
    /// a count that followed the machine's load gave different weights for the same command on a busy
    /// machine. The count a training run used is recorded in its checkpoints and reused on `--resume`.
    /// (Idle OpenMP threads sleep rather than spin — `CProcessStart`'s wait policy — which is what made the
    /// old drop to 1 thread on a busy machine worth its cost; `KINEMA_THREADS=1` still chooses it.)
    public static func threadCount() -> Int {
        threadCount(setting: environment("KINEMA_THREADS"), available: availableCores())
    }

    /// `KINEMA_THREADS` when it is a positive integer (the user's choice), else nil.
    public static func threadSetting() -> Int? {
        environment("KINEMA_THREADS").flatMap { Int($0) }.flatMap { $0 > 0 ? $0 : nil }
    }

    /// The rule of `threadCount()` on given inputs: `setting` is `KINEMA_THREADS` (used when it is a
    /// positive integer), `available` the cores the process may use.
    public static func threadCount(setting: String?, available: Int) -> Int {
        if let setting, let n = Int(setting), n > 0 { return n }
        return max(1, available)
    }

    /// Cores this process may use: its CPU affinity (`taskset`, container cpusets: `Cpus_allowed_list` in
    /// /proc/self/status), capped by a cgroup v2 CPU quota (`cpu.max`, rounded up). Neither follows the load.
    /// Runs first thing in every `kinema` process, so it asks the system directly (sysconf, plain `read(2)`, trimming
    /// in Swift): ProcessInfo's, Foundation's file reading's and character sets' first-use set-up cost ~1 ms, a sixth
    /// of `kinema smooth --help`.
    public static func availableCores() -> Int {
        var cores = sysconf(Int32(_SC_NPROCESSORS_CONF))
        if let status = smallFile("/proc/self/status"),
            let line = status.split(separator: "\n").first(where: { $0.hasPrefix("Cpus_allowed_list:") }),
            let allowed = cpuListCount(String(line.dropFirst("Cpus_allowed_list:".count)))
        {
            cores = allowed
        }
        if let text = smallFile("/sys/fs/cgroup/cpu.max"), let quota = cgroupQuota(text) {
            cores = min(cores, quota)
        }
        return max(1, cores)
    }

    /// An environment variable, without building ProcessInfo's dictionary of all of them.
    static func environment(_ name: String) -> String? {
        getenv(name).map { String(cString: $0) }
    }

    /// A file of at most 64 KiB (/proc and /sys files), nil when it cannot be read.
    static func smallFile(_ path: String) -> String? {
        let fd = open(path, O_RDONLY | O_CLOEXEC)
        guard fd >= 0 else { return nil }
        defer { close(fd) }
        var bytes = [UInt8](repeating: 0, count: 1 << 16)
        var count = 0
        while count < bytes.count {
            let n = bytes[count...].withUnsafeMutableBytes { read(fd, $0.baseAddress, $0.count) }
            if n <= 0 { break }
            count += n
        }
        return String(decoding: bytes[..<count], as: UTF8.self)
    }

    /// The number of CPUs in a kernel CPU list (`"0-3,8,10-11"` → 7); nil when it cannot be read.
    public static func cpuListCount(_ text: String) -> Int? {
        var count = 0
        for part in trimmed(Substring(text)).split(separator: ",") {
            let bounds = part.split(separator: "-").map { Int(trimmed($0)) }
            switch bounds.count {
            case 1: guard bounds[0] != nil else { return nil }; count += 1
            case 2:
                guard let low = bounds[0], let high = bounds[1], high >= low else { return nil }
                count += high - low + 1
            default: return nil
            }
        }
        return count > 0 ? count : nil
    }

    /// `text` without the white space at either end.
    static func trimmed(_ text: Substring) -> Substring {
        var text = text
        while text.first?.isWhitespace == true { text.removeFirst() }
        while text.last?.isWhitespace == true { text.removeLast() }
        return text
    }

    /// Cores allowed by a cgroup v2 `cpu.max` line (`"200000 100000"` → 2, `"150000 100000"` → 2); nil for `max`.
    public static func cgroupQuota(_ text: String) -> Int? {
        let parts = text.split(whereSeparator: \.isWhitespace)
        guard parts.count >= 2, let quota = Double(parts[0]), let period = Double(parts[1]), quota > 0, period > 0 else { return nil }
        return max(1, Int((quota / period).rounded(.up)))
    }
}
