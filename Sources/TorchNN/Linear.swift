import Torch

/// `y = x Wᵀ + b`, as `nn.Linear` (parameters `weight` (out, in) and `bias` (out)).
public final class Linear: Layer {
    public let weight: Tensor
    public let bias: Tensor?

    public init(_ path: ParameterPath, _ inFeatures: Int, _ outFeatures: Int, bias: Bool = true) throws {
        weight = try path.parameter("weight", shape: [outFeatures, inFeatures], .pytorchDefault)
        self.bias = bias ? try path.parameter("bias", shape: [outFeatures], .biasDefault(fanIn: inFeatures)) : nil
    }

    public func forward(_ x: Tensor, training: Bool) throws -> Tensor { try x.linear(weight, bias) }
}
