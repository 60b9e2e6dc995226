import Torch
import TorchNN

/// An exponential moving average of a model's weights: `shadow ← decay·shadow + (1−decay)·param` per step;
/// buffers (BatchNorm statistics) are copied. Evaluate with the averaged weights via `swap()`.
public final class ExponentialMovingAverage {
    public let store: ParameterStore
    public let decay: Double
    public private(set) var shadow: [String: Tensor] = [:]

    public init(_ store: ParameterStore, decay: Double = 0.999) throws {
        self.store = store
        self.decay = decay
        try withNoGrad {
            for (name, t) in store.stateDict() { shadow[name] = try t.detach().clone() }
        }
    }

    public func update() throws {
        try withNoGrad {
            for (name, p) in store.parameters { try shadow[name]?.lerpInPlace(p, weight: 1 - decay) }
            for (name, b) in store.buffers { try shadow[name]?.copyFrom(b) }
        }
    }

    /// Exchanges the model's weights and the averaged ones (call again to swap back).
    public func swap() throws {
        try withNoGrad {
            for (name, t) in store.stateDict() {
                guard let s = shadow[name] else { continue }
                let tmp = try t.clone()
                try t.copyFrom(s)
                try s.copyFrom(tmp)
            }
        }
    }

    public func loadShadow(_ tensors: [String: Tensor]) throws {
        try withNoGrad {
            for (name, t) in tensors { try shadow[name]?.copyFrom(t) }
        }
    }
}
