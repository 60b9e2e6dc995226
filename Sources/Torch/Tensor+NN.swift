// MARK: - Convolution

/// Expands a per-dimension setting given once (`3`) or per dimension (`[3, 3]`).
@inline(__always)
func spatial(_ values: [Int], _ n: Int) -> [Int] { values.count == 1 ? Array(repeating: values[0], count: n) : values }

/// N-d convolution (1-, 2- or 3-d from the weight's rank), or its transpose, as `torch.nn.functional.conv*d`.
/// - Parameters: stride, padding, dilation and outputPadding take one value or one per spatial dimension.
public func convolution(
    _ input: Tensor, weight: Tensor, bias: Tensor? = nil, stride: [Int] = [1], padding: [Int] = [0],
    dilation: [Int] = [1], groups: Int = 1, transposed: Bool = false, outputPadding: [Int] = [0]
) throws(TorchError) -> Tensor {
    let n = weight.rank - 2
    return try op(
        "aten::convolution",
        [
            .tensor(input), .tensor(weight), .optionalTensor(bias), .ints(spatial(stride, n)), .ints(spatial(padding, n)),
            .ints(spatial(dilation, n)), .bool(transposed), .ints(spatial(outputPadding, n)), .int(groups),
        ])
}

// MARK: - Pooling, normalisation, activations, resampling

extension Tensor {
    /// Max pooling over the last 1, 2 or 3 dimensions (`dims`).
    public func maxPool(
        dims: Int = 2, kernel: [Int], stride: [Int]? = nil, padding: [Int] = [0], dilation: [Int] = [1],
        ceilMode: Bool = false
    ) throws(TorchError) -> Tensor {
        try op(
            "aten::max_pool\(dims)d",
            [
                .tensor(self), .ints(spatial(kernel, dims)), .ints(spatial(stride ?? kernel, dims)), .ints(spatial(padding, dims)),
                .ints(spatial(dilation, dims)), .bool(ceilMode),
            ])
    }

    /// Average pooling over the last 1, 2 or 3 dimensions.
    public func avgPool(
        dims: Int = 2, kernel: [Int], stride: [Int]? = nil, padding: [Int] = [0], ceilMode: Bool = false,
        countIncludePad: Bool = true
    ) throws(TorchError) -> Tensor {
        try op(
            "aten::avg_pool\(dims)d",
            [
                .tensor(self), .ints(spatial(kernel, dims)), .ints(spatial(stride ?? kernel, dims)), .ints(spatial(padding, dims)),
                .bool(ceilMode), .bool(countIncludePad),
            ])
    }

    public func adaptiveAvgPool(_ outputSize: [Int]) throws(TorchError) -> Tensor {
        try op("aten::adaptive_avg_pool\(outputSize.count)d", [.tensor(self), .ints(outputSize)])
    }

    /// Batch normalisation; in training mode it updates `runningMean`/`runningVar` in place. Inside
    /// `ProcessGroup.synchronizingBatchNorm` a training-mode call uses the statistics of every rank's batch.
    public func batchNorm(
        weight: Tensor?, bias: Tensor?, runningMean: Tensor?, runningVar: Tensor?, training: Bool,
        momentum: Double = 0.1, eps: Double = 1e-5
    ) throws(TorchError) -> Tensor {
        if training, let group = ProcessGroup.batchNormGroup {
            return try group.batchNorm(
                self, weight: weight, bias: bias, runningMean: runningMean, runningVar: runningVar, momentum: momentum, eps: eps)
        }
        return try op(
            "aten::batch_norm",
            [
                .tensor(self), .optionalTensor(weight), .optionalTensor(bias), .optionalTensor(runningMean),
                .optionalTensor(runningVar), .bool(training), .double(momentum), .double(eps), .bool(true),
            ])
    }

    public func groupNorm(groups: Int, weight: Tensor?, bias: Tensor?, eps: Double = 1e-5) throws(TorchError) -> Tensor {
        try op(
            "aten::group_norm", [.tensor(self), .int(groups), .optionalTensor(weight), .optionalTensor(bias), .double(eps), .bool(true)])
    }

    public func layerNorm(_ normalizedShape: [Int], weight: Tensor?, bias: Tensor?, eps: Double = 1e-5) throws(TorchError) -> Tensor {
        try op(
            "aten::layer_norm",
            [.tensor(self), .ints(normalizedShape), .optionalTensor(weight), .optionalTensor(bias), .double(eps), .bool(true)])
    }

    public func relu() throws(TorchError) -> Tensor { try op("aten::relu", [.tensor(self)]) }
    public func relu6() throws(TorchError) -> Tensor { try op("aten::hardtanh", [.tensor(self), .double(0), .double(6)]) }
    public func sigmoid() throws(TorchError) -> Tensor { try op("aten::sigmoid", [.tensor(self)]) }
    public func tanh() throws(TorchError) -> Tensor { try op("aten::tanh", [.tensor(self)]) }
    public func silu() throws(TorchError) -> Tensor { try op("aten::silu", [.tensor(self)]) }
    public func mish() throws(TorchError) -> Tensor { try op("aten::mish", [.tensor(self)]) }
    public func hardswish() throws(TorchError) -> Tensor { try op("aten::hardswish", [.tensor(self)]) }
    public func hardsigmoid() throws(TorchError) -> Tensor { try op("aten::hardsigmoid", [.tensor(self)]) }
    public func elu(alpha: Double = 1) throws(TorchError) -> Tensor { try op("aten::elu", [.tensor(self), .double(alpha)]) }
    public func leakyRelu(_ slope: Double = 0.01) throws(TorchError) -> Tensor {
        try op("aten::leaky_relu", [.tensor(self), .double(slope)])
    }
    /// GELU, exact (`tanhApproximation: false`) or with PyTorch's tanh approximation.
    public func gelu(tanhApproximation: Bool = false) throws(TorchError) -> Tensor {
        try op("aten::gelu", [.tensor(self), .string(tanhApproximation ? "tanh" : "none")])
    }
    public func softplus(beta: Double = 1, threshold: Double = 20) throws(TorchError) -> Tensor {
        try op("aten::softplus", [.tensor(self), .double(beta), .double(threshold)])
    }
    public func softmax(_ dim: Int) throws(TorchError) -> Tensor { try op("aten::softmax", "int", [.tensor(self), .int(dim)]) }
    public func logSoftmax(_ dim: Int) throws(TorchError) -> Tensor { try op("aten::log_softmax", "int", [.tensor(self), .int(dim)]) }

    /// Zeroes elements with probability `p` and rescales the rest, in training mode only.
    public func dropout(_ p: Double, training: Bool) throws(TorchError) -> Tensor {
        try op("aten::dropout", [.tensor(self), .double(p), .bool(training)])
    }

    /// `self @ weightᵀ + bias`, as `torch.nn.functional.linear`.
    public func linear(_ weight: Tensor, _ bias: Tensor?) throws(TorchError) -> Tensor {
        try op("aten::linear", [.tensor(self), .tensor(weight), .optionalTensor(bias)])
    }

    public enum InterpolationMode: Sendable { case nearest, linear, cubic }

    /// Resizes the spatial dimensions (1-, 2- or 3-d after batch and channel) to `size` or by `scale`.
    /// `.linear` is bilinear in 2-d and trilinear in 3-d; `.cubic` is bicubic (2-d only).
    public func interpolate(
        size: [Int]? = nil, scale: [Double]? = nil, mode: InterpolationMode = .nearest,
        alignCorners: Bool = false
    ) throws(TorchError) -> Tensor {
        let dims = rank - 2
        let sizeArg: OpArg = size.map { .ints($0) } ?? .none
        let scaleArg: OpArg = scale.map { .doubles(spatial64($0, dims)) } ?? .none
        switch mode {
        case .nearest:
            return try op("aten::upsample_nearest\(dims)d", "vec", [.tensor(self), sizeArg, scaleArg])
        case .linear:
            let name = ["", "aten::upsample_linear1d", "aten::upsample_bilinear2d", "aten::upsample_trilinear3d"][Swift.min(dims, 3)]
            return try op(name, "vec", [.tensor(self), sizeArg, .bool(alignCorners), scaleArg])
        case .cubic:
            return try op("aten::upsample_bicubic2d", "vec", [.tensor(self), sizeArg, .bool(alignCorners), scaleArg])
        }
    }

    public func pixelShuffle(_ factor: Int) throws(TorchError) -> Tensor { try op("aten::pixel_shuffle", [.tensor(self), .int(factor)]) }
    public func pixelUnshuffle(_ factor: Int) throws(TorchError) -> Tensor {
        try op("aten::pixel_unshuffle", [.tensor(self), .int(factor)])
    }

    public enum GridSampleMode: Int, Sendable { case bilinear = 0, nearest = 1, bicubic = 2 }
    public enum GridPadding: Int, Sendable { case zeros = 0, border = 1, reflection = 2 }

    /// Samples self (N, C, H, W) at the normalised grid positions (N, Hout, Wout, 2), as `F.grid_sample`.
    public func gridSample(
        _ grid: Tensor, mode: GridSampleMode = .bilinear, padding: GridPadding = .zeros,
        alignCorners: Bool = false
    ) throws(TorchError) -> Tensor {
        try op("aten::grid_sampler", [.tensor(self), .tensor(grid), .int(mode.rawValue), .int(padding.rawValue), .bool(alignCorners)])
    }
}

@inline(__always)
func spatial64(_ values: [Double], _ n: Int) -> [Double] { values.count == 1 ? Array(repeating: values[0], count: n) : values }

/// The sampling grid for affine matrices `theta` (N, 2, 3) and output `size` (N, C, H, W), as `F.affine_grid`.
public func affineGrid(_ theta: Tensor, size: [Int], alignCorners: Bool = false) throws(TorchError) -> Tensor {
    try op("aten::affine_grid_generator", [.tensor(theta), .ints(size), .bool(alignCorners)])
}
