import Torch

/// 1-, 2- or 3-d convolution, as `nn.Conv1d/2d/3d` (parameters `weight` (out, in/groups, k...) and `bias`).
///
/// ```swift
/// let conv = try Conv(root / "conv1", dims: 2, 3, 64, kernel: [7], stride: [2], padding: [3], bias: false)
/// ```
/// Kernel, stride, padding and dilation take one value for every dimension or one per dimension.
public final class Conv: Layer {
    public let weight: Tensor
    public let bias: Tensor?
    public let stride: [Int], padding: [Int], dilation: [Int], groups: Int

    public init(
        _ path: ParameterPath, dims: Int = 2, _ inChannels: Int, _ outChannels: Int, kernel: [Int],
        stride: [Int] = [1], padding: [Int] = [0], dilation: [Int] = [1], groups: Int = 1, bias: Bool = true,
        weightInit: Initializer = .pytorchDefault
    ) throws {
        guard groups > 0, inChannels % groups == 0, outChannels % groups == 0 else {
            throw NNError.badConfig("\(path.name("weight")): channels \(inChannels)->\(outChannels) are not divisible by groups \(groups)")
        }
        let k = kernel.count == 1 ? Array(repeating: kernel[0], count: dims) : kernel
        weight = try path.parameter("weight", shape: [outChannels, inChannels / groups] + k, weightInit)
        let fanIn = inChannels / groups * k.reduce(1, *)
        self.bias = bias ? try path.parameter("bias", shape: [outChannels], .biasDefault(fanIn: fanIn)) : nil
        (self.stride, self.padding, self.dilation, self.groups) = (stride, padding, dilation, groups)
    }

    public func forward(_ x: Tensor, training: Bool) throws -> Tensor {
        try convolution(x, weight: weight, bias: bias, stride: stride, padding: padding, dilation: dilation, groups: groups)
    }
}

/// Transposed convolution, as `nn.ConvTranspose1d/2d/3d` (weight (in, out/groups, k...)).
public final class ConvTranspose: Layer {
    public let weight: Tensor
    public let bias: Tensor?
    public let stride: [Int], padding: [Int], outputPadding: [Int], dilation: [Int], groups: Int

    public init(
        _ path: ParameterPath, dims: Int = 2, _ inChannels: Int, _ outChannels: Int, kernel: [Int],
        stride: [Int] = [1], padding: [Int] = [0], outputPadding: [Int] = [0], dilation: [Int] = [1],
        groups: Int = 1, bias: Bool = true
    ) throws {
        guard groups > 0, inChannels % groups == 0, outChannels % groups == 0 else {
            throw NNError.badConfig("\(path.name("weight")): channels \(inChannels)->\(outChannels) are not divisible by groups \(groups)")
        }
        let k = kernel.count == 1 ? Array(repeating: kernel[0], count: dims) : kernel
        weight = try path.parameter("weight", shape: [inChannels, outChannels / groups] + k, .pytorchDefault)
        // PyTorch computes the bias bound from the weight's fan-in, i.e. dim 1 (out/groups) × kernel.
        let fanIn = outChannels / groups * k.reduce(1, *)
        self.bias = bias ? try path.parameter("bias", shape: [outChannels], .biasDefault(fanIn: fanIn)) : nil
        (self.stride, self.padding, self.outputPadding, self.dilation, self.groups) = (stride, padding, outputPadding, dilation, groups)
    }

    public func forward(_ x: Tensor, training: Bool) throws -> Tensor {
        try convolution(
            x, weight: weight, bias: bias, stride: stride, padding: padding, dilation: dilation, groups: groups,
            transposed: true, outputPadding: outputPadding)
    }
}
