// Learning on the shared mirror-mouse example, and exact resume.
import Foundation
import PoseData
import PoseModels
import ProcessPolicy
import Testing
import Torch

/// The mirror-mouse project at a tiny size, so the tests stay within seconds per epoch on 2 cores.
/// Also applies the process policy's thread count, as `kinema`'s `main` does.
func tinyMirrorMouse(epochs: Int) throws -> PoseProject {
    Runtime.threads = ProcessPolicy.threadCount()
    var project = try PoseProject.load(configPath: mirrorMouseConfig())
    project.config.backbone = "unet"
    project.config.unetFilters = 8
    project.config.resizeWidth = 64
    project.config.resizeHeight = 64
    project.config.heatmapSigma = 1.5
    project.config.trainBatchSize = 8
    project.config.maxEpochs = epochs
    project.config.minEpochs = epochs
    project.config.milestones = [1000]
    project.config.checkValEveryNEpoch = epochs
    project.config.learningRate = 3e-3
    project.config.predictVidsAfterTraining = false
    return project
}

@Suite(.serialized) struct TrainingTests {
    @Test func shortTrainingLowersValidationError() throws {
        let project = try tinyMirrorMouse(epochs: 12)
        let dataset = try LabeledDataset.load(project: project)
        let dir = try temporaryDirectory("learn")
        var options = TrainOptions(modelDir: dir)
        options.showProgress = false
        options.log = { _ in }
        let trainer = try PoseTrainer(project: project, dataset: dataset, options: options)
        let before = try trainer.evaluate(indices: trainer.split.validation).pixelError
        let records = try trainer.train()
        let after = try #require(records.last?.valPixelError)
        #expect(after < 0.6 * before, "validation error \(before) px -> \(after) px")
        #expect(records.first!.trainLoss > records.last!.trainLoss)
        // The model directory has LP's pieces, where `ModelDirectory` says they are.
        let folder = ModelDirectory(dir)
        #expect(trainer.directory == folder)
        for file in ["config.yaml", "metrics.csv", "checkpoints/best.safetensors", "checkpoints/last.safetensors", "CollectedData.csv"] {
            #expect(FileManager.default.fileExists(atPath: dir + "/" + file), "\(file)")
        }
        for path in [folder.config, folder.metrics, folder.bestCheckpoint, folder.lastCheckpoint] {
            #expect(FileManager.default.fileExists(atPath: path), "\(path)")
        }
        // metrics.csv: a header and one row per epoch.
        let metrics = try String(contentsOfFile: folder.metrics, encoding: .utf8).split(separator: "\n")
        #expect(metrics.count == 1 + records.count)
        // Round trip: the folder opens in one call with the config training wrote and its best weights.
        let trained = try TrainedModel(directory: dir)
        #expect(trained.folder == folder && trained.directory == dir)
        #expect(trained.model.config.resizeWidth == 64 && trained.model.keypointNames == dataset.keypointNames)
        #expect(trained.epoch == 12)
        let evaluation = try PoseWorkflows.evaluate(trained, dataset: dataset)
        #expect(abs(evaluation.meanError(set: "validation") - after) < 1e-6 * Swift.max(1, after))
        #expect(FileManager.default.fileExists(atPath: folder.predictions))
        #expect(FileManager.default.fileExists(atPath: folder.predictionErrors))
    }

    @Test func resumeContinuesExactly() throws {
        // The same thread count in both runs: libtorch's CPU reductions are then bitwise reproducible.
        setenv("KINEMA_THREADS", "1", 1)
        defer { unsetenv("KINEMA_THREADS") }
        let project = try tinyMirrorMouse(epochs: 3)
        #expect(Runtime.threads == 1)
        let dataset = try LabeledDataset.load(project: project)
        func trainer(_ dir: String, resume: Bool, stopAfter: Int?) throws -> PoseTrainer {
            var options = TrainOptions(modelDir: dir)
            options.showProgress = false
            options.log = { _ in }
            options.resume = resume
            options.stopAfterEpochs = stopAfter
            return try PoseTrainer(project: project, dataset: dataset, options: options)
        }
        let straight = try temporaryDirectory("straight")
        let reference = try trainer(straight, resume: false, stopAfter: nil).train()
        let resumed = try temporaryDirectory("resumed")
        #expect(throws: TrainingInterrupted.self) { try trainer(resumed, resume: false, stopAfter: 1).train() }
        let continued = try trainer(resumed, resume: true, stopAfter: nil).train()
        #expect(continued.count == 3)
        #expect(continued.map(\.trainLoss) == reference.map(\.trainLoss), "\(continued.map(\.trainLoss)) vs \(reference.map(\.trainLoss))")
        #expect(continued.last?.valPixelError == reference.last?.valPixelError)
    }
}
