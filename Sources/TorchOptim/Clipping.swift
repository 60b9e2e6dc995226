import Torch
import TorchNN

/// Scales all gradients so their joint L2 norm is at most `maxNorm` (as `clip_grad_norm_`); returns the norm before.
@discardableResult
public func clipGradNorm(_ store: ParameterStore, maxNorm: Double) throws -> Double {
    try withNoGrad {
        let grads = store.trainable.compactMap { $0.tensor.grad }
        guard !grads.isEmpty else { return 0 }
        let norms = try grads.map { try $0.norm(2) }
        let total = try stack(norms).norm(2).item()
        let coefficient = maxNorm / (total + 1e-6)
        if coefficient < 1 { for g in grads { try g.mulInPlace(coefficient) } }
        return total
    }
}

/// Clamps every gradient element to [-value, value] (as `clip_grad_value_`).
public func clipGradValue(_ store: ParameterStore, _ value: Double) throws {
    try withNoGrad {
        for g in store.trainable.compactMap({ $0.tensor.grad }) { try g.clampInPlace(min: -value, max: value) }
    }
}
