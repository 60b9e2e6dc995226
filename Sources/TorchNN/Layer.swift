import Torch

/// A differentiable function of one tensor with parameters in a ``ParameterStore``.
/// `training` is explicit (tch-rs's `ModuleT`): BatchNorm and Dropout behave differently in training,
/// and no layer keeps a hidden mode flag.
public protocol Layer: AnyObject {
    func forward(_ x: Tensor, training: Bool) throws -> Tensor
}

extension Layer {
    public func callAsFunction(_ x: Tensor, training: Bool = false) throws -> Tensor {
        try forward(x, training: training)
    }
}

/// Layers applied one after another; children are named 0, 1, 2, ... as in `nn.Sequential`.
public final class Sequential: Layer {
    public var layers: [any Layer]

    public init(_ layers: [any Layer]) {
        self.layers = layers
    }

    public func forward(_ x: Tensor, training: Bool) throws -> Tensor {
        var y = x
        for layer in layers { y = try layer.forward(y, training: training) }
        return y
    }
}

/// A parameter-free layer from a closure, e.g. `Lambda { try $0.relu() }`.
public final class Lambda: Layer {
    let body: (Tensor) throws -> Tensor

    public init(_ body: @escaping (Tensor) throws -> Tensor) {
        self.body = body
    }

    public func forward(_ x: Tensor, training: Bool) throws -> Tensor { try body(x) }
}

/// Zeroes activations with probability `p` in training.
public final class Dropout: Layer {
    public let p: Double

    public init(_ p: Double = 0.5) {
        self.p = p
    }

    public func forward(_ x: Tensor, training: Bool) throws -> Tensor {
        training && p > 0 ? try x.dropout(p, training: true) : x
    }
}
