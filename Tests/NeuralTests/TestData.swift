// Shared synthetic data for the neural tests: generated once per process into a temporary folder.
import Foundation
import NeuralData
import NeuralModels
import Torch

enum TestData {
    /// A small calibration-style set: 2 mice, 30 train trials, oracle 4 clips × 3 repeats, a hidden
    /// live-test tier and one 320-frame trial.
    static let config: SyntheticConfig = {
        var c = SyntheticConfig()
        c.seed = 7
        c.frames = 110
        c.paddedFrames = 120
        c.neuronCounts = [40, 24]
        c.trainTrials = 30
        c.liveTestClips = 1
        c.liveTestRepeats = 2
        c.sharedPositions = 0
        c.longTrialFrames = 320
        return c
    }()

    /// Root folder holding `synthetic-mouse-0` and `synthetic-mouse-1`.
    static let root: URL = {
        let url = FileManager.default.temporaryDirectory.appendingPathComponent("kinema-neural-tests-\(getpid())")
        if !FileManager.default.fileExists(atPath: url.appendingPathComponent("synthetic-mouse-1/meta/ground_truth/clip_ids.npy").path) {
            do {
                try SyntheticGenerator(config: config).write(to: url)
            } catch {
                print("synthetic test data could not be written: \(error)")
            }
        }
        return url
    }()

    /// Low-rank calibration data (K = 4 shared receptive-field positions, seed 3), as the reference's
    /// learning runs: 2 mice with 40 and 48 neurons, 60 train trials.
    static let learningRoot: URL = {
        let url = FileManager.default.temporaryDirectory.appendingPathComponent("kinema-neural-learning-\(getpid())")
        var c = SyntheticConfig()
        c.seed = 3
        c.sharedPositions = 4
        if !FileManager.default.fileExists(atPath: url.appendingPathComponent("synthetic-mouse-1/meta/ground_truth/clip_ids.npy").path) {
            _ = try? SyntheticGenerator(config: c).write(to: url)
        }
        return url
    }()

    /// A fresh temporary folder.
    static func scratch(_ name: String) -> URL {
        FileManager.default.temporaryDirectory.appendingPathComponent("kinema-\(name)-\(UUID().uuidString)")
    }
}

/// The learning run of the reference's calibration (tiny model, 150 steps of batch 8 on `learningRoot`) through
/// `NeuralTraining`, done once per test process: its scores are checked by `TrainingTests`, its saved model is the teacher
/// of `DistillationTests`.
struct LearningRun: Sendable {
    var untrained: ValidationResult, trained: ValidationResult
    var ceiling: [Double]
    var losses: [Double]
    /// `model.yaml` + `model.safetensors` of the trained model.
    var modelFolder: URL

    static func config(steps: Int) -> TrainingConfig {
        var c = TrainingConfig()
        c.preset = "tiny"
        c.steps = steps
        c.batchSize = 8
        c.learningRate = 3e-3
        c.emaDecay = 0
        c.cutmixProbability = 0
        c.validationWindowStride = 3
        c.seed = 1
        return c
    }

    static let shared: Result<LearningRun, LearningRunError> = {
        do {
            Runtime.threads = 2
            let dataset = try SensoriumDataset(root: TestData.learningRoot)
            let ceiling = try evaluatePredictions(.syntheticRates, dataset: dataset, tier: SensoriumTier.oracle).map(
                \.score.singleTrialMean)
            // The whole loop of `kinema neural train` (NeuralTraining): it validates and saves the model at the end.
            let folder = FileManager.default.temporaryDirectory.appendingPathComponent("kinema-neural-learned-\(getpid())")
            let training = try NeuralTraining(config: config(steps: 150), dataset: dataset, folder: folder)
            let untrained = try training.trainer.validate()
            var losses: [Double] = []
            let last = try training.run { event in
                if case .step(let progress) = event { losses.append(progress.result.loss) }
            }
            guard let trained = last?.score else { return .failure(LearningRunError(message: "no validation at the last step")) }
            return .success(LearningRun(untrained: untrained, trained: trained, ceiling: ceiling, losses: losses, modelFolder: folder))
        } catch {
            return .failure(LearningRunError(message: "\(error)"))
        }
    }()
}

struct LearningRunError: Error, Sendable, CustomStringConvertible {
    var message: String
    var description: String { "learning run failed: \(message)" }
}
