// MARK: - Slicing and indexing

extension Tensor {
    /// The sub-tensor at `index` along `dim` (that dimension disappears). Negative indices count from the end.
    public func select(_ dim: Int, _ index: Int) throws(TorchError) -> Tensor {
        try op("aten::select", "int", [.tensor(self), .int(dim), .int(index)])
    }

    /// Elements `start..<end` (stepping by `step`) along `dim`, as a view.
    public func slice(_ dim: Int, _ start: Int? = nil, _ end: Int? = nil, step: Int = 1) throws(TorchError) -> Tensor {
        try op(
            "aten::slice", "Tensor", [.tensor(self), .int(dim), start.map { .int($0) } ?? .none, end.map { .int($0) } ?? .none, .int(step)])
    }

    public func narrow(_ dim: Int, start: Int, length: Int) throws(TorchError) -> Tensor {
        try op("aten::narrow", [.tensor(self), .int(dim), .int(start), .int(length)])
    }

    /// `self[i]` along the first dimension.
    public subscript(_ index: Int) -> Tensor {
        get throws(TorchError) { try select(0, index) }
    }

    /// `self[range]` along the first dimension.
    public subscript(_ range: Range<Int>) -> Tensor {
        get throws(TorchError) { try slice(0, range.lowerBound, range.upperBound) }
    }

    /// Advanced indexing (`x[idx0, idx1, ...]` with index tensors; nil leaves a dimension whole).
    public func index(_ indices: [Tensor?]) throws(TorchError) -> Tensor {
        try op("aten::index", "Tensor", [.tensor(self), .optionalTensors(indices)])
    }

    /// Writes `values` at `indices` (accumulating if asked), in place.
    public func indexPutInPlace(_ indices: [Tensor?], _ values: Tensor, accumulate: Bool = false) throws(TorchError) {
        _ = try op("aten::index_put_", [.tensor(self), .optionalTensors(indices), .tensor(values), .bool(accumulate)])
    }

    public func indexSelect(_ dim: Int, _ index: Tensor) throws(TorchError) -> Tensor {
        try op("aten::index_select", [.tensor(self), .int(dim), .tensor(index)])
    }

    public func gather(_ dim: Int, _ index: Tensor) throws(TorchError) -> Tensor {
        try op("aten::gather", [.tensor(self), .int(dim), .tensor(index)])
    }

    /// A copy with `source` values written at `index` along `dim`.
    public func scatter(_ dim: Int, _ index: Tensor, _ source: Tensor) throws(TorchError) -> Tensor {
        try op("aten::scatter", "src", [.tensor(self), .int(dim), .tensor(index), .tensor(source)])
    }

    /// A copy with `value` where `mask` is true.
    public func maskedFill(_ mask: Tensor, _ value: Double) throws(TorchError) -> Tensor {
        try op("aten::masked_fill", "Scalar", [.tensor(self), .tensor(mask), .double(value)])
    }

    /// The elements where `mask` is true, as a 1-D tensor.
    public func maskedSelect(_ mask: Tensor) throws(TorchError) -> Tensor {
        try op("aten::masked_select", [.tensor(self), .tensor(mask)])
    }
}
