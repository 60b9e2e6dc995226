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
        let device = path.store.device
        runningMean = try path.buffer("running_mean", Tensor.zeros([features], device: device))
        runningVar = try path.buffer("running_var", Tensor.ones([features], device: device))
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
