// Memory layout (NCHW vs channels-last) and in-place activations, for networks that choose their layout.

/// How a 4-d (or 5-d) tensor's elements are ordered in memory, as `torch.memory_format`.
/// Raw values are c10's `MemoryFormat` codes, which the dispatcher takes as plain integers.
public enum MemoryFormat: Int, Sendable {
    /// Row-major in the logical dimension order (NCHW).
    case contiguous = 0
    /// Channels innermost (NHWC in memory, NCHW in shape); ATen's and oneDNN's CPU kernels vectorise over channels.
    case channelsLast = 2
    /// Channels innermost for 5-d tensors (NDHWC).
    case channelsLast3d = 3
}

extension Tensor {
    /// The same values laid out in `format` (self when already so), as `Tensor.contiguous(memory_format=...)`.
    public func contiguous(_ format: MemoryFormat) throws(TorchError) -> Tensor {
        try op("aten::contiguous", [.tensor(self), .int(format.rawValue)])
    }

    /// Whether the elements are dense in `format`'s order (strides of size-1 dimensions ignored, as in ATen).
    /// Channels-last formats need rank 4 (`channelsLast`) or 5 (`channelsLast3d`); otherwise false.
    public func isContiguous(_ format: MemoryFormat) -> Bool {
        let shape = self.shape, strides = self.strides
        if shape.contains(0) { return true }
        let order: [Int]  // dimensions from innermost to outermost
        switch format {
        case .contiguous: order = Array((0..<shape.count).reversed())
        case .channelsLast: guard shape.count == 4 else { return false }; order = [1, 3, 2, 0]
        case .channelsLast3d: guard shape.count == 5 else { return false }; order = [1, 4, 3, 2, 0]
        }
        var expected = 1
        for d in order where shape[d] != 1 {
            if strides[d] != expected { return false }
            expected *= shape[d]
        }
        return true
    }

    /// ReLU that overwrites self (`relu_`); autograd refuses it where a saved value would be clobbered.
    @discardableResult
    public func reluInPlace() throws(TorchError) -> Tensor { try op("aten::relu_", [.tensor(self)]) }
}
