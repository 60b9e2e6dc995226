// MARK: - Shape and layout

extension Tensor {
    /// Same elements in a new shape (one dimension may be -1); a view where possible.
    public func reshape(_ shape: [Int]) throws(TorchError) -> Tensor { try op("aten::reshape", [.tensor(self), .ints(shape)]) }
    public func view(_ shape: [Int]) throws(TorchError) -> Tensor { try op("aten::view", [.tensor(self), .ints(shape)]) }
    public func flatten(from start: Int = 0, to end: Int = -1) throws(TorchError) -> Tensor {
        try op("aten::flatten", "using_ints", [.tensor(self), .int(start), .int(end)])
    }
    public func squeeze(_ dim: Int) throws(TorchError) -> Tensor { try op("aten::squeeze", "dim", [.tensor(self), .int(dim)]) }
    public func unsqueeze(_ dim: Int) throws(TorchError) -> Tensor { try op("aten::unsqueeze", [.tensor(self), .int(dim)]) }
    public func permute(_ dims: [Int]) throws(TorchError) -> Tensor { try op("aten::permute", [.tensor(self), .ints(dims)]) }
    public func transpose(_ dim0: Int, _ dim1: Int) throws(TorchError) -> Tensor {
        try op("aten::transpose", "int", [.tensor(self), .int(dim0), .int(dim1)])
    }
    /// Broadcasts to `shape` without copying (-1 keeps a dimension).
    public func expand(_ shape: [Int]) throws(TorchError) -> Tensor { try op("aten::expand", [.tensor(self), .ints(shape)]) }
    public func contiguous() throws(TorchError) -> Tensor { try op("aten::contiguous", [.tensor(self)]) }
    public func clone() throws(TorchError) -> Tensor { try op("aten::clone", [.tensor(self)]) }
    /// Tiles the tensor `repeats[i]` times along each dimension.
    public func repeated(_ repeats: [Int]) throws(TorchError) -> Tensor { try op("aten::repeat", [.tensor(self), .ints(repeats)]) }
    public func flip(_ dims: [Int]) throws(TorchError) -> Tensor { try op("aten::flip", [.tensor(self), .ints(dims)]) }
    public func roll(_ shifts: [Int], dims: [Int]) throws(TorchError) -> Tensor {
        try op("aten::roll", [.tensor(self), .ints(shifts), .ints(dims)])
    }
    /// Pads the last dimensions: `padding` is (left, right, top, bottom, ...) as in `F.pad`.
    public func padded(_ padding: [Int], value: Double = 0) throws(TorchError) -> Tensor {
        try op("aten::constant_pad_nd", [.tensor(self), .ints(padding), .double(value)])
    }
    public func split(size: Int, dim: Int = 0) throws(TorchError) -> [Tensor] {
        try Torch.call(
            "aten::split", "Tensor", [.tensor(self), .int(size), .int(dim)],
            maxOutputs: Swift.max(1, self.size(dim) / Swift.max(size, 1) + 1))
    }
    public func chunk(_ chunks: Int, dim: Int = 0) throws(TorchError) -> [Tensor] {
        try Torch.call("aten::chunk", [.tensor(self), .int(chunks), .int(dim)], maxOutputs: Swift.max(chunks, 1))
    }
    public func unbind(_ dim: Int = 0) throws(TorchError) -> [Tensor] {
        try Torch.call("aten::unbind", "int", [.tensor(self), .int(dim)], maxOutputs: Swift.max(self.size(dim), 1))
    }
}

/// Joins tensors along an existing dimension.
public func cat(_ tensors: [Tensor], dim: Int = 0) throws(TorchError) -> Tensor {
    try op("aten::cat", [.tensors(tensors), .int(dim)])
}

/// Joins tensors along a new dimension.
public func stack(_ tensors: [Tensor], dim: Int = 0) throws(TorchError) -> Tensor {
    try op("aten::stack", [.tensors(tensors), .int(dim)])
}
