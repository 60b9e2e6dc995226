import CTorch
import Foundation
import Synchronization

/// Process-wide libtorch facts and settings: loading, version, threads, CUDA, seeds.
///
/// libtorch is loaded by the first tensor operation of the process (CTorch's loader, `ctorch_loader.h`), so code that
/// never makes a tensor never pays for it; `loadLibtorch()` loads it on purpose, to report a missing libtorch early.
public enum Runtime {
    /// Loads libtorch and Kinema's shim if not done yet; throws the loader's one line (what is missing, and that
    /// `make setup` or `KINEMA_LIBTORCH=<dir>` fixes it) when they cannot be loaded. `op` is "libtorch".
    public static func loadLibtorch() throws(TorchError) {
        if ct_loader_load() != Int32(CT_LOADER_LOADED.rawValue) {
            throw TorchError(.unavailable, String(cString: ct_loader_error()), op: "libtorch")
        }
    }

    /// Whether libtorch is loaded in this process yet (asking does not load it).
    public static var isLibtorchLoaded: Bool { ct_loader_state_now() == Int32(CT_LOADER_LOADED.rawValue) }

    /// The shim the loader opened ("" before loading or when it failed).
    public static var shimPath: String { String(cString: ct_loader_shim_path()) }

    /// The libtorch version this binary runs on, e.g. "2.15.0".
    public static var torchVersion: String { String(cString: ct_torch_version()) }

    /// Intra-op threads libtorch uses for CPU kernels. Setting it before libtorch is loaded does not load it: the count
    /// is applied when libtorch loads. Reading it loads libtorch (0 when it cannot be loaded).
    public static var threads: Int {
        get { Int(ct_threads_get()) }
        set { ct_threads_set(Int32(newValue)) }
    }

    /// Runs `body` on `0..<count` split into one contiguous chunk per intra-op thread, on libtorch's
    /// own threads (the caller's included), and returns when every chunk is done. Host work between
    /// network passes runs here on the cores libtorch owns instead of competing with them; with one
    /// thread it is a plain call. `body` must be safe to run concurrently on disjoint chunks.
    public static func parallelFor(_ count: Int, _ body: (Range<Int>) -> Void) throws(TorchError) {
        try withoutActuallyEscaping(body) { (escaping: @escaping (Range<Int>) -> Void) throws(TorchError) in
            let box = Unmanaged.passRetained(ParallelBody(escaping))
            defer { box.release() }
            try check(
                ct_parallel_for(
                    Int64(count),
                    { context, begin, end in
                        Unmanaged<ParallelBody>.fromOpaque(context!).takeUnretainedValue().body(Int(begin)..<Int(end))
                    }, box.toOpaque()), "parallel_for")
        }
    }

    private static let cudaLoad = Mutex<String?>(nil)

    /// Loads libtorch's CUDA backend (once) from the folder that holds libtorch, if it is there.
    /// Returns nil on success, or why CUDA cannot be used.
    @discardableResult
    public static func loadCUDA() -> String? {
        cudaLoad.withLock { state in
            if let state { return state.isEmpty ? nil : state }
            guard let dir = libtorchDirectory else {
                state = "libtorch's folder is unknown"
                return state
            }
            guard FileManager.default.fileExists(atPath: dir + "/libtorch_cuda.so") else {
                state = "this libtorch has no CUDA backend (\(dir))"
                return state
            }
            if ct_cuda_load(dir) != 0 {
                state = String(cString: ct_last_error())
                return state
            }
            state = ""
            return nil
        }
    }

    /// Number of CUDA devices (loads the CUDA backend on first use).
    public static var cudaDeviceCount: Int {
        loadCUDA()
        return Int(ct_cuda_device_count())
    }

    /// Waits for all queued work on a CUDA device (for timing).
    public static func synchronize(_ device: Device) throws(TorchError) {
        if case .cuda(let i) = device { try check(ct_cuda_synchronize(Int32(i)), "synchronize") }
    }

    /// Seeds every libtorch generator (CPU and CUDA).
    public static func manualSeed(_ seed: UInt64) throws(TorchError) {
        try check(ct_manual_seed(seed), "manual_seed")
    }

    /// The default CPU generator's state (for checkpoints).
    public static func rngState() throws(TorchError) -> Tensor {
        try adopt(ct_rng_get_state(), "rng_state")
    }

    public static func setRNGState(_ state: Tensor) throws(TorchError) {
        try check(ct_rng_set_state(state.raw), "set_rng_state")
    }

    /// Number of live tensor handles in the process.
    public static var liveTensorCount: Int { Int(ct_tensor_live_count()) }

    /// Tensor handles created minus freed on this thread: tests use it to prove a synchronous block leaks
    /// nothing, even while other tests run in parallel.
    public static var threadLiveTensorCount: Int { Int(ct_tensor_live_count_thread()) }

    /// The folder holding the loaded libtorch_cpu.so.
    public static var libtorchDirectory: String? {
        let path = String(cString: ct_libtorch_path())
        return path.isEmpty ? nil : (path as NSString).deletingLastPathComponent
    }
}

/// A closure passed through `ct_parallel_for`'s context pointer.
private final class ParallelBody {
    let body: (Range<Int>) -> Void
    init(_ body: @escaping (Range<Int>) -> Void) { self.body = body }
}

/// Runs `body` with autograd recording off on this thread (PyTorch's `torch.no_grad()`).
/// The body is synchronous because grad mode is thread-local in libtorch.
public func withNoGrad<R>(_ body: () throws -> R) rethrows -> R {
    let previous = ct_autograd_set_enabled(0)
    defer { _ = ct_autograd_set_enabled(previous) }
    return try body()
}

/// Whether autograd records operations on this thread (`torch.is_grad_enabled()`).
public var isGradEnabled: Bool { ct_autograd_is_enabled() != 0 }

/// Runs `body` with autograd recording on (inside a no-grad scope, for example).
public func withGrad<R>(_ body: () throws -> R) rethrows -> R {
    let previous = ct_autograd_set_enabled(1)
    defer { _ = ct_autograd_set_enabled(previous) }
    return try body()
}
