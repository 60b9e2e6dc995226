import Torch
import TorchNN

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// A first-order optimizer written in Swift over in-place libtorch ops (TorchSharp / mlx-swift style).
/// State is kept per parameter *name*, so it can be checkpointed and restored by name.
public protocol Optimizer: AnyObject {
    var learningRate: Double { get set }
    /// Applies one update to every trainable parameter that has a gradient.
    func step() throws
    /// Per-parameter state tensors named `<parameter>.<slot>` (e.g. `conv1.weight.exp_avg`).
    func stateTensors() throws -> [(String, Tensor)]
    /// Restores state written by `stateTensors()`.
    func loadState(_ tensors: [String: Tensor]) throws
}

/// Shared bookkeeping: the parameters, per-name slots and per-name step counts.
public class OptimizerBase {
    public let store: ParameterStore
    public var learningRate: Double
    var slots: [String: [String: Tensor]] = [:]
    var steps: [String: Int] = [:]

    init(store: ParameterStore, learningRate: Double) {
        self.store = store
        self.learningRate = learningRate
    }

    /// Calls `update(name, parameter, gradient, step)` for each trainable parameter with a gradient, without autograd.
    func forEachGradient(_ update: (String, Tensor, Tensor, Int) throws -> Void) throws {
        try withNoGrad {
            for (name, p) in store.trainable {
                guard let g = p.grad else { continue }
                let t = (steps[name] ?? 0) + 1
                steps[name] = t
                try update(name, p, g, t)
            }
        }
    }

    func slot(_ name: String, _ slot: String, like p: Tensor) throws -> Tensor {
        if let s = slots[name]?[slot] { return s }
        let s = try p.zerosLike()
        slots[name, default: [:]][slot] = s
        return s
    }

    public func stateTensors() throws -> [(String, Tensor)] {
        var out: [(String, Tensor)] = []
        for name in slots.keys.sorted() {
            for (slot, t) in slots[name]!.sorted(by: { $0.key < $1.key }) { out.append(("\(name).\(slot)", t)) }
        }
        for (name, t) in steps.sorted(by: { $0.key < $1.key }) { out.append(("\(name).step", try Tensor(scalar: Int64(t)))) }
        return out
    }

    public func loadState(_ tensors: [String: Tensor]) throws {
        slots = [:]
        steps = [:]
        for (key, t) in tensors {
            guard let dot = key.lastIndex(of: ".") else { continue }
            let name = String(key[..<dot]), slot = String(key[key.index(after: dot)...])
            guard let p = store.parameters[name] else { continue }
            if slot == "step" {
                steps[name] = try t.intItem()
            } else {
                let s = try p.zerosLike()
                try withNoGrad { try s.copyFrom(t) }
                slots[name, default: [:]][slot] = s
            }
        }
    }
}

/// Stochastic gradient descent with momentum, dampening, Nesterov and L2 weight decay (as `torch.optim.SGD`).
public final class SGD: OptimizerBase, Optimizer {
    public var momentum: Double, dampening: Double, nesterov: Bool, weightDecay: Double

    public init(
        _ store: ParameterStore, learningRate: Double, momentum: Double = 0, dampening: Double = 0,
        nesterov: Bool = false, weightDecay: Double = 0
    ) {
        (self.momentum, self.dampening, self.nesterov, self.weightDecay) = (momentum, dampening, nesterov, weightDecay)
        super.init(store: store, learningRate: learningRate)
    }

    public func step() throws {
        try forEachGradient { name, p, grad, _ in
            var g = grad
            if weightDecay != 0 { g = try g + p * weightDecay }
            if momentum != 0 {
                let buf: Tensor
                if let b = slots[name]?["momentum_buffer"] {
                    buf = b
                    try buf.mulInPlace(momentum)
                    try buf.addInPlace(g, alpha: 1 - dampening)
                } else {
                    buf = try g.clone()
                    slots[name, default: [:]]["momentum_buffer"] = buf
                }
                g = nesterov ? try g + buf * momentum : buf
            }
            try p.addInPlace(g, alpha: -learningRate)
        }
    }
}

/// Adam (as `torch.optim.Adam`, L2 weight decay) or, with `decoupled: true`, AdamW.
public final class Adam: OptimizerBase, Optimizer {
    public var beta1: Double, beta2: Double, eps: Double, weightDecay: Double
    public let decoupled: Bool

    public init(
        _ store: ParameterStore, learningRate: Double = 1e-3, beta1: Double = 0.9, beta2: Double = 0.999,
        eps: Double = 1e-8, weightDecay: Double = 0, decoupled: Bool = false
    ) {
        (self.beta1, self.beta2, self.eps, self.weightDecay, self.decoupled) = (beta1, beta2, eps, weightDecay, decoupled)
        super.init(store: store, learningRate: learningRate)
    }

    public func step() throws {
        try forEachGradient { name, p, grad, t in
            var g = grad
            if weightDecay != 0 {
                if decoupled { try p.mulInPlace(1 - learningRate * weightDecay) } else { g = try g + p * weightDecay }
            }
            let m = try slot(name, "exp_avg", like: p)
            let v = try slot(name, "exp_avg_sq", like: p)
            try m.lerpInPlace(g, weight: 1 - beta1)
            try v.mulInPlace(beta2)
            try v.addcmulInPlace(g, g, value: 1 - beta2)
            let biasCorrection1 = 1 - pow(beta1, Double(t))
            let biasCorrection2 = 1 - pow(beta2, Double(t))
            let denom = try v.sqrt() / biasCorrection2.squareRoot() + eps
            try p.addcdivInPlace(m, denom, value: -learningRate / biasCorrection1)
        }
    }
}

/// AdamW: Adam with decoupled weight decay (as `torch.optim.AdamW`, default decay 0.01).
public func AdamW(
    _ store: ParameterStore, learningRate: Double = 1e-3, beta1: Double = 0.9, beta2: Double = 0.999,
    eps: Double = 1e-8, weightDecay: Double = 0.01
) -> Adam {
    Adam(store, learningRate: learningRate, beta1: beta1, beta2: beta2, eps: eps, weightDecay: weightDecay, decoupled: true)
}
