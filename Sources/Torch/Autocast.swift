import CTorch

/// The element type a network's convolutions and matrix products compute in: float32, or libtorch's autocast
/// (`torch.autocast`) to bfloat16 or float16, which keeps the parameters, reductions and losses in float32.
public enum Precision: String, Sendable, CaseIterable, CustomStringConvertible {
    case fp32, bf16, fp16

    /// The autocast dtype; nil for fp32 (no autocast).
    public var autocastDType: DType? {
        switch self {
        case .fp32: nil
        case .bf16: .bfloat16
        case .fp16: .float16
        }
    }

    public var description: String { rawValue }
}

/// Runs `body` with libtorch's autocast on for `device`'s type on this thread (nested scopes restore the outer
/// one's state, as `torch.autocast`); fp32 runs `body` as it is. Gradients flow back to the float32 parameters.
public func withAutocast<R>(_ device: Device, _ precision: Precision, _ body: () throws -> R) throws -> R {
    guard let dtype = precision.autocastDType else { return try body() }
    var enabled: Int32 = 0, previous: Int32 = 0
    try check(ct_autocast_enter(device.typeCode, dtype.rawValue, &enabled, &previous), "autocast")
    defer { _ = ct_autocast_exit(device.typeCode, enabled, previous) }
    return try body()
}
