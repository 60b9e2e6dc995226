import CTorch

/// An n-dimensional array whose storage, kernels and autograd are libtorch's.
///
/// A `Tensor` is a reference, as in PyTorch: views (`reshape`, `slice`, `permute`, ...) share storage with
/// their base. Its libtorch handle is freed when the last Swift reference goes away (ARC). Every operation
/// throws a ``TorchError`` naming the operator when libtorch refuses it; one `try` covers a whole expression.
///
/// ```swift
/// let x = try Tensor([1, 2, 3, 4] as [Float], shape: [2, 2])
/// let y = try (x * 2 + 1).relu().sum()
/// print(try y.item())  // 24.0
/// ```
///
/// Tensors are not `Sendable`: move data between tasks as host arrays, and tensors only with `sending`.
public final class Tensor {
    let raw: ct_tensor

    /// Takes ownership of a +1 handle from the shim.
    init(adopting raw: ct_tensor) {
        self.raw = raw
    }

    deinit {
        ct_tensor_free(raw)
    }

    // MARK: - Metadata

    /// False for the "undefined" tensor libtorch uses for absent values (e.g. a gradient never computed).
    public var isDefined: Bool { ct_tensor_defined(raw) != 0 }

    public var shape: [Int] {
        var sizes = [Int64](repeating: 0, count: 16)
        let n = ct_tensor_sizes(raw, &sizes, 16)
        return n < 0 ? [] : sizes.prefix(Int(n)).map { Int($0) }
    }

    public var strides: [Int] {
        var strides = [Int64](repeating: 0, count: 16)
        let n = ct_tensor_strides(raw, &strides, 16)
        return n < 0 ? [] : strides.prefix(Int(n)).map { Int($0) }
    }

    public var rank: Int { Int(ct_tensor_dim(raw)) }
    public var count: Int { Int(ct_tensor_numel(raw)) }

    public var dtype: DType {
        DType(rawValue: ct_tensor_dtype(raw)) ?? .float32
    }

    public var device: Device {
        var type: Int32 = 0, index: Int32 = 0
        _ = ct_tensor_device(raw, &type, &index)
        return (try? Device(typeCode: type, index: index)) ?? .cpu
    }

    /// Size of dimension `dim` (negative counts from the end).
    public func size(_ dim: Int) -> Int {
        let s = shape
        return s[dim < 0 ? dim + s.count : dim]
    }

    // MARK: - Host data

    /// A CPU tensor holding a copy of `values` in the given shape (the element type picks the dtype).
    public convenience init<T: TensorScalar>(_ values: [T], shape: [Int]) throws(TorchError) {
        let expected = shape.reduce(1, *)
        guard expected == values.count else {
            throw TorchError(.invalidArgument, "\(values.count) values cannot fill shape \(shape)", op: "Tensor.init")
        }
        let dims = shape.map { Int64($0) }
        let raw = values.withUnsafeBytes { buffer in
            ct_tensor_from_data(buffer.baseAddress, dims, Int32(dims.count), T.dtype.rawValue)
        }
        guard raw.ptr != nil else { throw TorchError.last(op: "Tensor.init") }
        self.init(adopting: raw)
    }

    /// A 1-D tensor of `values`.
    public convenience init<T: TensorScalar>(_ values: [T]) throws(TorchError) {
        try self.init(values, shape: [values.count])
    }

    /// A 0-dimensional tensor.
    public convenience init<T: TensorScalar>(scalar: T) throws(TorchError) {
        try self.init([scalar], shape: [])
    }

    /// A tensor from raw bytes in `dtype` (C order), e.g. read from a checkpoint file.
    public convenience init(bytes: UnsafeRawBufferPointer, dtype: DType, shape: [Int]) throws(TorchError) {
        let expected = shape.reduce(1, *) * dtype.byteSize
        guard expected == bytes.count else {
            throw TorchError(.invalidArgument, "\(bytes.count) bytes cannot fill \(dtype) shape \(shape)", op: "Tensor.init(bytes:)")
        }
        guard let base = bytes.baseAddress, bytes.count > 0 else {
            // A shape with a zero dimension: nothing to copy.
            let empty = try Tensor.zeros(shape, dtype: dtype)
            self.init(adopting: ct_tensor_alias(empty.raw))
            return
        }
        let dims = shape.map { Int64($0) }
        let raw = ct_tensor_from_data(base, dims, Int32(dims.count), dtype.rawValue)
        guard raw.ptr != nil else { throw TorchError.last(op: "Tensor.init(bytes:)") }
        self.init(adopting: raw)
    }

    /// The elements in C order, converted to `T` if the dtype differs (copies from any device).
    ///
    /// A `Device.meta` tensor has no data: its reads (here, `withHostBytes`, `item`, `intItem`) give zeros, so that a
    /// whole pipeline can run on meta in a test and fail only where it mixes devices.
    public func toArray<T: TensorScalar>(_ type: T.Type = T.self) throws(TorchError) -> [T] {
        if device == .meta { return try Tensor.zeros([count], dtype: T.dtype).toArray(T.self) }
        let source = dtype == T.dtype ? self : try to(T.dtype)
        let n = source.count
        var status: Int32 = 0
        let result = [T](unsafeUninitializedCapacity: n) { buffer, initialized in
            status = ct_tensor_copy_to_host(source.raw, buffer.baseAddress, Int64(n * T.dtype.byteSize))
            initialized = status == 0 ? n : 0
        }
        try check(status, "Tensor.toArray")
        return result
    }

    /// Calls `body` with the tensor's bytes in C order on the host (copied there if needed).
    public func withHostBytes<R>(_ body: (UnsafeRawBufferPointer) throws -> R) throws(TorchError) -> R {
        let nbytes = count * dtype.byteSize
        let buffer = UnsafeMutableRawBufferPointer.allocate(byteCount: Swift.max(nbytes, 1), alignment: 16)
        defer { buffer.deallocate() }
        if device == .meta {
            buffer.initializeMemory(as: UInt8.self, repeating: 0)
        } else {
            try check(ct_tensor_copy_to_host(raw, buffer.baseAddress, Int64(nbytes)), "Tensor.toHost")
        }
        do {
            return try body(UnsafeRawBufferPointer(rebasing: buffer[0..<nbytes]))
        } catch let error as TorchError {
            throw error
        } catch {
            throw TorchError(.generic, "\(error)", op: "Tensor.withHostBytes")
        }
    }

    /// The single element as a Double (the tensor must hold exactly one element).
    public func item() throws(TorchError) -> Double {
        var value = 0.0
        if device == .meta, count == 1 { return 0 }
        try check(ct_tensor_item_double(raw, &value), "Tensor.item")
        return value
    }

    /// The single element as an Int.
    public func intItem() throws(TorchError) -> Int {
        var value: Int64 = 0
        if device == .meta, count == 1 { return 0 }
        try check(ct_tensor_item_int64(raw, &value), "Tensor.intItem")
        return Int(value)
    }

    // MARK: - Conversion

    /// A tensor on `device` with `dtype` (either may be nil to keep it); self if nothing changes.
    public func to(_ device: Device? = nil, dtype: DType? = nil, nonBlocking: Bool = false) throws(TorchError) -> Tensor {
        if let device { try device.checkAvailable() }
        return try adopt(
            ct_tensor_to(raw, device?.typeCode ?? -1, device?.index ?? 0, dtype?.rawValue ?? -1, nonBlocking ? 1 : 0, 0),
            "Tensor.to")
    }

    public func to(_ dtype: DType) throws(TorchError) -> Tensor { try to(nil, dtype: dtype) }

    /// A new handle to the same tensor (same storage and autograd identity).
    public func alias() throws(TorchError) -> Tensor { try adopt(ct_tensor_alias(raw), "Tensor.alias") }

    // MARK: - Autograd

    /// Whether autograd records operations on this tensor (set on leaves such as parameters).
    public var requiresGrad: Bool {
        get { ct_tensor_requires_grad(raw) != 0 }
    }

    @discardableResult
    public func requiresGrad(_ flag: Bool) throws(TorchError) -> Tensor {
        try check(ct_tensor_set_requires_grad(raw, flag ? 1 : 0), "Tensor.requiresGrad")
        return self
    }

    public var isLeaf: Bool { ct_tensor_is_leaf(raw) != 0 }

    /// The storage's version counter (torch's `_version`): every in-place write moves it on (optimizer steps,
    /// loading, batch norm's running statistics), so a value derived from this tensor can tell it is stale.
    public var version: Int { Int(ct_tensor_version(raw)) }

    /// The accumulated gradient, or nil if none has been computed.
    public var grad: Tensor? {
        guard let g = try? adopt(ct_tensor_grad(raw), "Tensor.grad"), g.isDefined else { return nil }
        return g
    }

    /// Replaces (or with nil, clears) the gradient.
    public func setGrad(_ g: Tensor?) throws(TorchError) {
        if let g {
            try check(ct_tensor_set_grad(raw, g.raw), "Tensor.setGrad")
        } else {
            try check(ct_tensor_reset_grad(raw), "Tensor.setGrad")
        }
    }

    /// A tensor sharing storage but cut from the autograd graph.
    public func detach() throws(TorchError) -> Tensor { try adopt(ct_tensor_detach(raw), "Tensor.detach") }

    /// Back-propagates from this tensor (a scalar unless `gradient` is given) into the leaves' `.grad`.
    public func backward(_ gradient: Tensor? = nil, retainGraph: Bool = false, createGraph: Bool = false) throws(TorchError) {
        var outputs = [raw]
        if let gradient {
            var grads = [gradient.raw]
            try withExtendedLifetime(gradient) { () throws(TorchError) in
                try check(ct_autograd_backward(&outputs, 1, &grads, retainGraph ? 1 : 0, createGraph ? 1 : 0), "Tensor.backward")
            }
        } else {
            try check(ct_autograd_backward(&outputs, 1, nil, retainGraph ? 1 : 0, createGraph ? 1 : 0), "Tensor.backward")
        }
    }
}

extension Tensor: CustomStringConvertible {
    public var description: String {
        guard isDefined else { return "Tensor(undefined)" }
        var text = "Tensor(shape: \(shape), dtype: \(dtype), device: \(device)"
        if count <= 16, let values = try? toArray(Double.self) {
            text += ", values: \(values)"
        }
        return text + ")"
    }
}
