// Weighted Poisson loss over (sample, mouse) pairs and the distillation weights of stage 2
// (reference 3.4 and 3.8).
import Foundation
import Torch
import TorchNN

/// One group of (sample, mouse) pairs of a batch: predictions and targets `(R, N_mouse, T)` and one weight per row.
public struct LossTerm {
    public var prediction: Tensor
    public var target: Tensor
    public var weights: [Double]
    public init(prediction: Tensor, target: Tensor, weights: [Double]) {
        self.prediction = prediction
        self.target = target
        self.weights = weights
    }
}

/// `Σ_terms Σ_rows (w_row / W) · Σ_{neurons, frames} (ŷ − y·log(ŷ + 1e−8))` with `W` the sum of all weights
/// (reference 3.4). Without distillation every sample has one term row of weight 1, so this is the Poisson
/// loss summed over neurons and frames and averaged over samples. Returns the total and each term's share
/// (its weighted sum divided by `W`, as a number) in the order given.
public func weightedPoissonLoss(_ terms: [LossTerm]) throws -> (loss: Tensor, parts: [Double]) {
    let total = terms.reduce(0) { $0 + $1.weights.reduce(0, +) }
    guard total > 0 else { throw ModelError("loss: the weights sum to zero") }
    var loss: Tensor?
    var parts: [Double] = []
    for term in terms {
        guard term.prediction.shape == term.target.shape, term.prediction.size(0) == term.weights.count else {
            throw ModelError("loss: prediction \(term.prediction.shape), target \(term.target.shape), \(term.weights.count) weights")
        }
        let elementwise = try term.prediction - term.target * (term.prediction + 1e-8).log()
        let perRow = try elementwise.sum(dims: [1, 2])
        let w = try Tensor(term.weights.map { Float($0 / total) }, shape: [term.weights.count]).to(perRow.device)
        let part = try (perRow * w).sum()
        parts.append(try part.detach().item())
        loss = try loss.map { try $0 + part } ?? part
    }
    guard let loss else { throw ModelError("loss: no terms") }
    return (loss, parts)
}

/// Weight of one distilled (sample, mouse) pair: `(ρ/(1−ρ)) · (Σ real weights) / (number of unlabelled pairs)`.
/// With one real label per sample and ten mice, ρ = 0.36 gives 0.0625, and the distilled pairs carry
/// the fraction ρ of the total loss weight.
public func distillationWeight(ratio: Double, realWeight: Double, unlabelledPairs: Int) -> Double {
    guard unlabelledPairs > 0, ratio > 0, ratio < 1 else { return 0 }
    return ratio / (1 - ratio) * realWeight / Double(unlabelledPairs)
}

/// Frozen teacher models (EMA weights of stage-1 models, eval mode) whose mean output is the target of the
/// (sample, mouse) pairs without labels.
public struct TeacherEnsemble {
    public let models: [DwiseNeuro]

    /// Loads the model folders written by `kinema neural train` and checks that they fit the student.
    public init(folders: [URL], student: DwiseNeuroConfig, device: Device) throws {
        models = try folders.map { folder in
            let model = try SavedModel.load(from: folder, device: device)
            let c = model.config
            guard c.readoutNeurons == student.readoutNeurons else {
                throw ModelError(
                    "teacher \(folder.path): readouts for \(c.readoutNeurons) neurons, the data has \(student.readoutNeurons) (train the teacher on the same mouse folders)"
                )
            }
            guard c.frames == student.frames, c.frameStep == student.frameStep, c.canvas == student.canvas else {
                throw ModelError(
                    "teacher \(folder.path): windows of \(c.frames) frames step \(c.frameStep) on a \(c.canvas) canvas, the student uses \(student.frames) step \(student.frameStep) on \(student.canvas)"
                )
            }
            return model
        }
    }

    /// Mean teacher prediction of every mouse for inputs `x`: one `(B, N_mouse, T)` tensor per mouse, without
    /// gradients. The core runs once per teacher; only the readouts run per mouse.
    public func predictAll(_ x: Tensor) throws -> [Tensor] {
        try withNoGrad {
            var sums: [Tensor] = []
            for model in models {
                let features = try model.features(x, training: false)
                for m in model.config.readoutNeurons.indices {
                    let y = try model.readout(features, mouse: m, training: false)
                    if sums.count > m { sums[m] = try sums[m] + y } else { sums.append(y) }
                }
            }
            return models.count == 1 ? sums : try sums.map { try $0 / Double(models.count) }
        }
    }
}
