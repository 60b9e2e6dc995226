import CTorch

/// Where a tensor lives: the CPU or a CUDA device.
public enum Device: Sendable, Equatable, Hashable, CustomStringConvertible {
    case cpu
    case cuda(Int)
    /// libtorch's data-less device: ops compute shapes only, and one that mixes a meta tensor with a CPU tensor fails
    /// ("expected all tensors to be on the same device"). For tests that a code path creates every tensor on its
    /// model's device, on machines without a GPU; not accepted by `Device(parsing:)`.
    case meta

    /// c10::DeviceType codes.
    var typeCode: Int32 {
        switch self {
        case .cpu: 0
        case .cuda: 1
        case .meta: 14
        }
    }

    var index: Int32 {
        switch self {
        case .cpu, .meta: 0
        case .cuda(let i): Int32(i)
        }
    }

    init(typeCode: Int32, index: Int32) throws(TorchError) {
        switch typeCode {
        case 0: self = .cpu
        case 1: self = .cuda(Int(index))
        case 14: self = .meta
        default: throw TorchError(.unavailable, "device type \(typeCode) is not supported by Kinema", op: "Device")
        }
    }

    /// Parses "cpu", "cuda", "cuda:1" or "gpu".
    public init(parsing text: String) throws(TorchError) {
        let lower = text.lowercased()
        if lower == "cpu" { self = .cpu; return }
        if lower == "cuda" || lower == "gpu" { self = .cuda(0); return }
        if lower.hasPrefix("cuda:"), let i = Int(lower.dropFirst(5)), i >= 0 { self = .cuda(i); return }
        throw TorchError(.invalidArgument, "'\(text)' is not a device; use cpu, cuda or cuda:N", op: "Device")
    }

    public var description: String {
        switch self {
        case .cpu: "cpu"
        case .cuda(let i): "cuda:\(i)"
        case .meta: "meta"
        }
    }

    /// Throws a clear error when this device cannot be used on this machine: "this libtorch (DIR, 2.15.0) has no CUDA
    /// (why)" or "only 1 CUDA device (cuda:0)". Loads libtorch, and for CUDA its backend.
    public func checkAvailable() throws(TorchError) {
        try Runtime.loadLibtorch()
        guard case .cuda(let i) = self else { return }
        let count = Runtime.cudaDeviceCount
        if count == 0 {
            let why = Runtime.loadCUDA() ?? "no CUDA device is visible"
            let torch = "\(Runtime.libtorchDirectory ?? "unknown location"), \(Runtime.torchVersion)"
            throw TorchError(.unavailable, "this libtorch (\(torch)) has no CUDA (\(why)); use --device cpu or auto", op: "Device")
        }
        if i >= count {
            let devices = (0..<count).map { "cuda:\($0)" }.joined(separator: ", ")
            throw TorchError(.unavailable, "only \(count) CUDA device\(count == 1 ? "" : "s") (\(devices))", op: "Device")
        }
    }
}
