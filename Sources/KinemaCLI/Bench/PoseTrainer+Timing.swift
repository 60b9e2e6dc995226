// Timing of training steps for `kinema bench train`: the same step as `PoseTrainer.train()`
// (`PoseTrainer.step`), without checkpoints, validation or files.
import Foundation
import PoseData
import PoseModels
import Torch

/// Wall-clock timing of one training epoch after warm-up.
struct TrainingTiming: Sendable {
    /// Seconds of each step of the timed epoch: forward, loss, backward, optimizer step and the
    /// progress line's read-out (waiting for the batch loader excluded, as in LP's per-step timing).
    var stepSeconds: [Double]
    /// Samples in each step of the timed epoch.
    var batchSizes: [Int]
    /// Seconds of the whole timed epoch, waiting for augmented batches included (LP's `train_s_per_epoch`).
    var epochSeconds: Double
    /// CPU seconds of the whole process during the timed epoch (all threads: libtorch and augmentation).
    var epochCPUSeconds: Double
    /// Seconds the warm-up steps took.
    var warmupSeconds: Double
    /// libtorch intra-op threads used.
    var threads: Int

    /// Median step time over full batches (LP's `full_batch16_step_s_median`).
    var fullBatchStepMedian: Double? {
        let full = zip(stepSeconds, batchSizes).filter { $0.1 == batchSizes.max() }.map(\.0).sorted()
        return full.isEmpty ? nil : full[full.count / 2]
    }
}

extension PoseTrainer {
    /// Runs `warmupSteps` steps of epoch 0, then one full epoch (epoch 1), timing each step.
    /// The model's weights change (it trains); nothing is written.
    func timeTrainingEpoch(warmupSteps: Int = 1) throws -> TrainingTiming {
        let factor = try startEpoch(0)
        let warmupStart = Date()
        for _ in 0..<warmupSteps {
            guard let batch = nextBatch() else { break }
            _ = try step(batch, backboneFactor: factor)
        }
        cancelEpoch()
        let warmup = Date().timeIntervalSince(warmupStart)

        var steps: [Double] = [], sizes: [Int] = []
        let cpuStart = processCPUSeconds()
        let epochStart = Date()
        let epochFactor = try startEpoch(1)
        while let batch = nextBatch() {
            let t0 = Date()
            _ = try step(batch, backboneFactor: epochFactor)
            steps.append(Date().timeIntervalSince(t0))
            sizes.append(batch.count)
        }
        let epoch = Date().timeIntervalSince(epochStart)
        return TrainingTiming(
            stepSeconds: steps, batchSizes: sizes, epochSeconds: epoch,
            epochCPUSeconds: processCPUSeconds() - cpuStart, warmupSeconds: warmup,
            threads: Runtime.threads)
    }
}

/// CPU time of the whole process (user + system, all threads).
func processCPUSeconds() -> Double {
    var usage = rusage()
    getrusage(RUSAGE_SELF.rawValue, &usage)
    return Double(usage.ru_utime.tv_sec + usage.ru_stime.tv_sec) + Double(usage.ru_utime.tv_usec + usage.ru_stime.tv_usec) / 1e6
}
