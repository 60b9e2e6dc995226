// One whole training run of DwiseNeuro into a model folder: steps, checkpoints, validation, the saved model
// and a clean stop on Ctrl-C (`Interruption`). Callers see progress through one callback and print it.
import Foundation
import KinemaConsole
import NeuralData
import Torch

/// What a training run reports as it goes.
public enum NeuralTrainingEvent: Sendable {
    /// After every optimiser step. Loss and correlation are smoothed (EMA 0.95) for display.
    case step(NeuralTrainingProgress)
    /// After a validation (every `validateEvery` steps and at the end), once the checkpoint is written.
    case validated(NeuralValidationReport)
}

/// Figures of the run after one step.
public struct NeuralTrainingProgress: Sendable {
    public var step: Int
    public var steps: Int
    public var smoothedLoss: Double
    public var smoothedCorrelation: Double
    /// Samples per second since this run (or resumption) started.
    public var samplesPerSecond: Double
    public var learningRate: Double
    /// The step's own figures.
    public var result: StepResult
}

/// One validation: the tier's single-trial correlation and whether the model folder was updated.
public struct NeuralValidationReport: Sendable {
    public var step: Int
    public var tier: String
    public var score: ValidationResult
    /// Written to `model.safetensors`: the best score so far, or the last step.
    public var savedModel: Bool
}

/// Training stopped on request (Ctrl-C); the checkpoint holds every step done, so `--resume` continues exactly.
public struct NeuralTrainingInterrupted: Error, CustomStringConvertible {
    public var step: Int
    public var checkpoint: URL
    public var description: String {
        "training interrupted at step \(step); checkpoint \(checkpoint.path) (continue with the same command and --resume)"
    }
}

/// Trains into `folder`: `checkpoint.safetensors` (exact resume) and `model.yaml` + `model.safetensors`
/// (EMA weights with the best validation score, and those of the last step) for prediction.
public final class NeuralTraining {
    public let trainer: NeuralTrainer
    public let folder: URL
    public var checkpointURL: URL { folder.appendingPathComponent("checkpoint.safetensors") }
    public var modelURL: URL { folder.appendingPathComponent("model.safetensors") }

    /// Creates the folder and builds the trainer (model, teachers, training trials, calibrated readouts).
    public init(config: TrainingConfig, dataset: SensoriumDataset, folder: URL, device: Device = .cpu) throws {
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        self.folder = folder
        trainer = try NeuralTrainer(config: config, dataset: dataset, device: device)
    }

    /// Continues from the folder's checkpoint (weights, optimiser, EMA, RNG, step).
    public func resume() throws {
        guard FileManager.default.fileExists(atPath: checkpointURL.path) else {
            throw ModelError("no checkpoint to resume from at \(checkpointURL.path)")
        }
        try trainer.resume(from: checkpointURL)
    }

    /// Runs the remaining steps. Checks `Interruption.isRequested` before every step; on a request it writes the
    /// checkpoint and throws `NeuralTrainingInterrupted`. Returns the last validation.
    @discardableResult
    public func run(report: (NeuralTrainingEvent) -> Void = { _ in }) throws -> NeuralValidationReport? {
        let config = trainer.config
        Interruption.reset()
        var smoothLoss: Double?, smoothCorrelation: Double?
        let start = Date()
        let firstStep = trainer.step
        // A resumed run starts its best score afresh (as before the move): its first validation saves the model.
        var best = -Double.infinity
        var last: NeuralValidationReport?
        while trainer.step < config.steps {
            if Interruption.isRequested {
                try trainer.saveCheckpoint(to: checkpointURL)
                throw NeuralTrainingInterrupted(step: trainer.step, checkpoint: checkpointURL)
            }
            let result = try trainer.trainStep()
            smoothLoss = smoothLoss.map { 0.95 * $0 + 0.05 * result.loss } ?? result.loss
            smoothCorrelation = smoothCorrelation.map { 0.95 * $0 + 0.05 * result.correlation } ?? result.correlation
            let samplesPerSecond = Double((trainer.step - firstStep) * config.batchSize) / max(Date().timeIntervalSince(start), 1e-9)
            report(
                .step(
                    NeuralTrainingProgress(
                        step: trainer.step, steps: config.steps, smoothedLoss: smoothLoss ?? 0,
                        smoothedCorrelation: smoothCorrelation ?? 0, samplesPerSecond: samplesPerSecond,
                        learningRate: trainer.optimizer.learningRate, result: result)))
            let isLast = trainer.step == config.steps
            guard isLast || (config.validateEvery > 0 && trainer.step % config.validateEvery == 0) else { continue }
            try trainer.saveCheckpoint(to: checkpointURL)
            let score = try trainer.validate()
            let save = score.mean > best || isLast
            if save {
                best = max(best, score.mean)
                try trainer.saveModel(to: folder, metadata: ["step": String(trainer.step), "validation": String(score.mean)])
            }
            let validation = NeuralValidationReport(step: trainer.step, tier: config.validationTier, score: score, savedModel: save)
            last = validation
            report(.validated(validation))
        }
        return last
    }
}
