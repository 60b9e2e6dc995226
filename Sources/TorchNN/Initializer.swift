import Foundation
import Torch

/// How a new parameter is filled; the defaults follow PyTorch's layer initialisation.
public enum Initializer: Sendable {
    case zeros
    case ones
    case constant(Double)
    case uniform(Double, Double)
    case normal(mean: Double, std: Double)
    /// PyTorch's default for Linear/Conv weights: kaiming_uniform_(a=√5), i.e. U(±1/√fan_in).
    case pytorchDefault
    /// U(±1/√fanIn): PyTorch's default bias init, where fanIn comes from the layer's weight.
    case biasDefault(fanIn: Int)
    /// He (Kaiming) normal, fan_out mode, ReLU gain: torchvision's ResNet conv init.
    case kaimingNormalFanOut
    case truncatedNormal(std: Double)

    func fill(_ t: Tensor) throws(TorchError) {
        switch self {
        case .zeros: try t.zeroInPlace()
        case .ones: try t.fillInPlace(1)
        case .constant(let v): try t.fillInPlace(v)
        case .uniform(let lo, let hi): try t.uniformInPlace(lo, hi)
        case .normal(let mean, let std): try t.normalInPlace(mean: mean, std: std)
        case .pytorchDefault:
            let bound = 1 / Foundation.sqrt(Double(Swift.max(fanIn(t.shape), 1)))
            try t.uniformInPlace(-bound, bound)
        case .biasDefault(let fanIn):
            let bound = fanIn > 0 ? 1 / Foundation.sqrt(Double(fanIn)) : 0
            try t.uniformInPlace(-bound, bound)
        case .kaimingNormalFanOut:
            let fanOut = t.shape[0] * receptiveField(t.shape)
            try t.normalInPlace(mean: 0, std: Foundation.sqrt(2 / Double(Swift.max(fanOut, 1))))
        case .truncatedNormal(let std):
            try t.normalInPlace(mean: 0, std: std)
            try t.clampInPlace(min: -2 * std, max: 2 * std)
        }
    }
}

/// PyTorch's fan-in of a weight: dim 1 times the receptive field.
func fanIn(_ shape: [Int]) -> Int { shape.count < 2 ? shape.first ?? 1 : shape[1] * receptiveField(shape) }
func receptiveField(_ shape: [Int]) -> Int { shape.dropFirst(2).reduce(1, *) }
