// MARK: - Factories and random numbers (seed with `Runtime.manualSeed`)

extension Tensor {
    private static func factory(_ name: String, _ leading: [OpArg], dtype: DType, device: Device) throws(TorchError) -> Tensor {
        try factory(name, "", leading, dtype: dtype, device: device)
    }

    private static func factory(_ name: String, _ overload: String, _ leading: [OpArg], dtype: DType, device: Device)
        throws(TorchError) -> Tensor
    {
        try device.checkAvailable()
        return try op(name, overload, leading + [.dtype(dtype), .default, .device(device)])
    }

    public static func zeros(_ shape: [Int], dtype: DType = .float32, device: Device = .cpu) throws(TorchError) -> Tensor {
        try factory("aten::zeros", [.ints(shape)], dtype: dtype, device: device)
    }
    public static func ones(_ shape: [Int], dtype: DType = .float32, device: Device = .cpu) throws(TorchError) -> Tensor {
        try factory("aten::ones", [.ints(shape)], dtype: dtype, device: device)
    }
    public static func full(_ shape: [Int], _ value: Double, dtype: DType = .float32, device: Device = .cpu) throws(TorchError) -> Tensor {
        try factory("aten::full", [.ints(shape), .double(value)], dtype: dtype, device: device)
    }
    /// start, start+step, ... below end.
    public static func arange(_ start: Double, _ end: Double, step: Double = 1, dtype: DType = .float32, device: Device = .cpu)
        throws(TorchError) -> Tensor
    {
        try factory("aten::arange", "start_step", [.double(start), .double(end), .double(step)], dtype: dtype, device: device)
    }
    public static func linspace(_ start: Double, _ end: Double, steps: Int, dtype: DType = .float32, device: Device = .cpu)
        throws(TorchError) -> Tensor
    {
        try factory("aten::linspace", [.double(start), .double(end), .int(steps)], dtype: dtype, device: device)
    }
    public static func eye(_ n: Int, dtype: DType = .float32, device: Device = .cpu) throws(TorchError) -> Tensor {
        try factory("aten::eye", [.int(n)], dtype: dtype, device: device)
    }
    /// Samples from U[0, 1).
    public static func rand(_ shape: [Int], dtype: DType = .float32, device: Device = .cpu) throws(TorchError) -> Tensor {
        try factory("aten::rand", [.ints(shape)], dtype: dtype, device: device)
    }
    /// Samples from N(0, 1).
    public static func randn(_ shape: [Int], dtype: DType = .float32, device: Device = .cpu) throws(TorchError) -> Tensor {
        try factory("aten::randn", [.ints(shape)], dtype: dtype, device: device)
    }
    /// Integers uniformly in [low, high).
    public static func randint(_ low: Int, _ high: Int, _ shape: [Int], device: Device = .cpu) throws(TorchError) -> Tensor {
        try factory("aten::randint", "low", [.int(low), .int(high), .ints(shape)], dtype: .int64, device: device)
    }
    /// A random permutation of 0..<n.
    public static func randperm(_ n: Int, device: Device = .cpu) throws(TorchError) -> Tensor {
        try factory("aten::randperm", [.int(n)], dtype: .int64, device: device)
    }

    public func zerosLike() throws(TorchError) -> Tensor { try op("aten::zeros_like", [.tensor(self)]) }
    public func onesLike() throws(TorchError) -> Tensor { try op("aten::ones_like", [.tensor(self)]) }
    public func randnLike() throws(TorchError) -> Tensor { try op("aten::randn_like", [.tensor(self)]) }
}
