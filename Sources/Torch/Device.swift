import CTorch

/// Where a tensor lives: the CPU or a CUDA device.
public enum Device: Sendable, Equatable, Hashable, CustomStringConvertible {
    case cpu
    case cuda(Int)

    /// c10::DeviceType codes.
    var typeCode: Int32 {
        switch self {
        case .cpu: 0
        case .cuda: 1
        }
    }

    var index: Int32 {
        switch self {
        case .cpu: 0
        case .cuda(let i): Int32(i)
        }
    }

    init(typeCode: Int32, index: Int32) throws(TorchError) {
        switch typeCode {
        case 0: self = .cpu
        case 1: self = .cuda(Int(index))
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
        }
    }

    /// Throws a clear error when this device cannot be used on this machine.
    public func checkAvailable() throws(TorchError) {
        guard case .cuda(let i) = self else { return }
        let count = Runtime.cudaDeviceCount
        if count == 0 {
            throw TorchError(
                .unavailable, "CUDA is not available on this machine (no GPU or no CUDA libtorch); use --device cpu", op: "Device")
        }
        if i >= count {
            throw TorchError(.unavailable, "cuda:\(i) does not exist; this machine has \(count) CUDA device(s)", op: "Device")
        }
    }
}
