import Torch

/// Batch normalisation over channel dim 1, as `nn.BatchNorm1d/2d/3d`: parameters `weight`, `bias`;
/// buffers `running_mean`, `running_var`, `num_batches_tracked`.
public final class BatchNorm: Layer {
    public let weight: Tensor?, bias: Tensor?
    public let runningMean: Tensor, runningVar: Tensor, batchesTracked: Tensor
    public let momentum: Double, eps: Double

    public init(_ path: ParameterPath, _ features: Int, eps: Double = 1e-5, momentum: Double = 0.1, affine: Bool = true) throws {
        weight = affine ? try path.parameter("weight", shape: [features], .ones) : nil
        bias = affine ? try path.parameter("bias", shape: [features], .zeros) : nil
        let (device, dtype) = (path.store.device, path.store.dtype)
        runningMean = try path.buffer("running_mean", Tensor.zeros([features], dtype: dtype, device: device))
        runningVar = try path.buffer("running_var", Tensor.ones([features], dtype: dtype, device: device))
        batchesTracked = try path.buffer("num_batches_tracked", Tensor.zeros([], dtype: .int64, device: device))
        (self.eps, self.momentum) = (eps, momentum)
    }

    public func forward(_ x: Tensor, training: Bool) throws -> Tensor {
        if training { try withNoGrad { try batchesTracked.addInPlace(1) } }
        return try x.batchNorm(
            weight: weight, bias: bias, runningMean: runningMean, runningVar: runningVar, training: training,
            momentum: momentum, eps: eps)
    }
}

/// Group normalisation, as `nn.GroupNorm` (`weight`, `bias` per channel).
public final class GroupNorm: Layer {
    public let weight: Tensor?, bias: Tensor?
    public let groups: Int, eps: Double

    public init(_ path: ParameterPath, groups: Int, channels: Int, eps: Double = 1e-5, affine: Bool = true) throws {
        guard groups > 0, channels % groups == 0 else {
            throw NNError.badConfig("\(path.name("weight")): \(channels) channels cannot form \(groups) groups")
        }
        weight = affine ? try path.parameter("weight", shape: [channels], .ones) : nil
        bias = affine ? try path.parameter("bias", shape: [channels], .zeros) : nil
        (self.groups, self.eps) = (groups, eps)
    }

    public func forward(_ x: Tensor, training: Bool) throws -> Tensor {
        try x.groupNorm(groups: groups, weight: weight, bias: bias, eps: eps)
    }
}

/// Layer normalisation over the trailing `shape`, as `nn.LayerNorm`.
public final class LayerNorm: Layer {
    public let weight: Tensor?, bias: Tensor?
    public let shape: [Int], eps: Double

    public init(_ path: ParameterPath, _ shape: [Int], eps: Double = 1e-5, affine: Bool = true) throws {
        weight = affine ? try path.parameter("weight", shape: shape, .ones) : nil
        bias = affine ? try path.parameter("bias", shape: shape, .zeros) : nil
        (self.shape, self.eps) = (shape, eps)
    }

    public func forward(_ x: Tensor, training: Bool) throws -> Tensor {
        try x.layerNorm(shape, weight: weight, bias: bias, eps: eps)
    }
}

/// A convolution and the batch norm after it (torchvision's `convN`/`bnN` pairs; the parameters keep their names).
///
/// For inference without autograd the pair runs as one convolution with the norm folded in,
/// `W·γ/√(σ²+ε)` and bias `β + (b − μ)·γ/√(σ²+ε)`: one pass over the activations instead of two.
/// The folded copy is built from the current weights when first needed and rebuilt whenever one of them was
/// written (their version counters move on optimizer steps, loading and running-statistics updates), so it
/// never goes stale and never changes the trained weights.
public final class ConvBatchNorm: Layer {
    public let conv: Conv
    public let norm: BatchNorm
    private var folded: (weight: Tensor, bias: Tensor, layout: MemoryFormat, versions: [Int])?

    public init(conv: Conv, norm: BatchNorm) {
        (self.conv, self.norm) = (conv, norm)
    }

    public func forward(_ x: Tensor, training: Bool) throws -> Tensor {
        try norm(conv(x), training: training)
    }

    /// The pair's output: folded when `fold` (callers pass it only for inference with autograd off),
    /// else convolution then batch norm.
    public func forward(_ x: Tensor, training: Bool, fold: Bool) throws -> Tensor {
        guard fold, !training else { return try forward(x, training: training) }
        let layout: MemoryFormat = x.rank == 4 && !x.isContiguous(.contiguous) ? .channelsLast : .contiguous
        let (weight, bias) = try foldedWeights(layout: layout)
        return try convolution(
            x, weight: weight, bias: bias, stride: conv.stride, padding: conv.padding, dilation: conv.dilation,
            groups: conv.groups)
    }

    /// The folded weight (in the activations' layout, so oneDNN does not reorder it per call) and bias.
    func foldedWeights(layout: MemoryFormat) throws -> (Tensor, Tensor) {
        let sources = [conv.weight, conv.bias, norm.weight, norm.bias, norm.runningMean, norm.runningVar].compactMap { $0 }
        let versions = sources.map(\.version)
        if let folded, folded.layout == layout, folded.versions == versions { return (folded.weight, folded.bias) }
        let (weight, bias) = try withNoGrad { () throws -> (Tensor, Tensor) in
            var scale = try (norm.runningVar + norm.eps).rsqrt()
            if let gamma = norm.weight { scale = try scale * gamma }
            let weight = try (conv.weight * scale.view([-1] + Array(repeating: 1, count: conv.weight.rank - 1))).contiguous(layout)
            var bias = try (conv.bias.map { try $0 - norm.runningMean } ?? (0 - norm.runningMean)) * scale
            if let beta = norm.bias { bias = try bias + beta }
            return (weight, bias)
        }
        folded = (weight, bias, layout, versions)
        return (weight, bias)
    }
}
