// MARK: - Reductions

extension Tensor {
    public func sum() throws(TorchError) -> Tensor { try op("aten::sum", [.tensor(self)]) }
    public func sum(dims: [Int], keepDim: Bool = false) throws(TorchError) -> Tensor {
        try op("aten::sum", "dim_IntList", [.tensor(self), .ints(dims), .bool(keepDim)])
    }
    public func mean() throws(TorchError) -> Tensor { try op("aten::mean", [.tensor(self)]) }
    public func mean(dims: [Int], keepDim: Bool = false) throws(TorchError) -> Tensor {
        try op("aten::mean", "dim", [.tensor(self), .ints(dims), .bool(keepDim)])
    }
    public func prod() throws(TorchError) -> Tensor { try op("aten::prod", [.tensor(self)]) }

    /// Variance with `correction` (1 = unbiased, as PyTorch's default; 0 = population).
    public func variance(dims: [Int]? = nil, correction: Double = 1, keepDim: Bool = false) throws(TorchError) -> Tensor {
        try op("aten::var", "correction", [.tensor(self), dims.map { .ints($0) } ?? .none, .double(correction), .bool(keepDim)])
    }
    public func std(dims: [Int]? = nil, correction: Double = 1, keepDim: Bool = false) throws(TorchError) -> Tensor {
        try op("aten::std", "correction", [.tensor(self), dims.map { .ints($0) } ?? .none, .double(correction), .bool(keepDim)])
    }

    public func max() throws(TorchError) -> Tensor { try op("aten::max", [.tensor(self)]) }
    public func min() throws(TorchError) -> Tensor { try op("aten::min", [.tensor(self)]) }
    /// Maximum along `dim` with the positions where it occurs.
    public func max(dim: Int, keepDim: Bool = false) throws(TorchError) -> (values: Tensor, indices: Tensor) {
        let r = try Torch.call("aten::max", "dim", [.tensor(self), .int(dim), .bool(keepDim)])
        return (r[0], r[1])
    }
    public func min(dim: Int, keepDim: Bool = false) throws(TorchError) -> (values: Tensor, indices: Tensor) {
        let r = try Torch.call("aten::min", "dim", [.tensor(self), .int(dim), .bool(keepDim)])
        return (r[0], r[1])
    }
    public func argmax(dim: Int? = nil, keepDim: Bool = false) throws(TorchError) -> Tensor {
        try op("aten::argmax", [.tensor(self), dim.map { .int($0) } ?? .none, .bool(keepDim)])
    }
    public func argmin(dim: Int? = nil, keepDim: Bool = false) throws(TorchError) -> Tensor {
        try op("aten::argmin", [.tensor(self), dim.map { .int($0) } ?? .none, .bool(keepDim)])
    }
    public func logsumexp(dims: [Int], keepDim: Bool = false) throws(TorchError) -> Tensor {
        try op("aten::logsumexp", [.tensor(self), .ints(dims), .bool(keepDim)])
    }
    /// The p-norm over `dims` (all elements when nil).
    public func norm(_ p: Double = 2, dims: [Int]? = nil, keepDim: Bool = false) throws(TorchError) -> Tensor {
        try op("aten::linalg_vector_norm", [.tensor(self), .double(p), dims.map { .ints($0) } ?? .none, .bool(keepDim)])
    }
    public func cumsum(_ dim: Int) throws(TorchError) -> Tensor { try op("aten::cumsum", [.tensor(self), .int(dim)]) }
    public func all() throws(TorchError) -> Tensor { try op("aten::all", [.tensor(self)]) }
    public func any() throws(TorchError) -> Tensor { try op("aten::any", [.tensor(self)]) }
}
