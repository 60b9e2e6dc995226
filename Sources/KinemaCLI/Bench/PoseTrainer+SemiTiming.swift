// Timing of semi-supervised steps for `kinema bench train`: a step with an unlabelled clip against a supervised step
// of the same labelled batch size, interleaved on one trainer.
import ArgumentParser
import Foundation
import PoseData
import PoseModels

/// Seconds of the interleaved supervised and semi-supervised steps.
struct SemiStepTiming: Sendable {
    var clipLength: Int
    var supervised: [Double]
    var semi: [Double]

    var supervisedMedian: Double { median(supervised) }
    var semiMedian: Double { median(semi) }
    /// Median of each pair's ratio (semi / supervised): pairs run back to back, so a load change hits both.
    var pairedRatio: Double { median(zip(semi, supervised).map { $0 / $1 }) }
}

extension PoseTrainer {
    /// Alternates a supervised step and a semi-supervised step (the same step with `unlabeled`'s next clip) on full
    /// labelled batches, `pairs` times after one untimed pair (the clip stream filling). Epochs from 1 on: LP's
    /// annealing holds the unsupervised factor at 0 in epoch 0, where the clip's backward pass is skipped. The model
    /// trains; nothing is written.
    func timeSemiSteps(_ unlabeled: UnlabeledTraining, fullBatch: Int, pairs: Int) throws -> SemiStepTiming {
        var supervised: [Double] = [], semi: [Double] = []
        var untimed = 2
        var epoch = 1
        defer {
            self.unlabeled = nil
            unlabeled.stop()
        }
        while semi.count < pairs {
            let factor = try startEpoch(epoch)
            var full = 0
            while semi.count < pairs, let batch = nextBatch() {
                guard batch.count == fullBatch else { continue }
                full += 1
                let withClip = untimed == 1 || (untimed == 0 && supervised.count > semi.count)
                self.unlabeled = withClip ? unlabeled : nil
                let start = Date()
                _ = try step(batch, backboneFactor: factor)
                let seconds = Date().timeIntervalSince(start)
                if untimed > 0 {
                    untimed -= 1
                } else if withClip {
                    semi.append(seconds)
                } else {
                    supervised.append(seconds)
                }
            }
            cancelEpoch()
            guard full > 0 else { throw ValidationError("the train split has no full batch of \(fullBatch) frames") }
            epoch += 1
        }
        return SemiStepTiming(clipLength: unlabeled.source.clipLength, supervised: supervised, semi: semi)
    }
}
