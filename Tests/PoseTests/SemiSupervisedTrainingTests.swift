// Semi-supervised training (issue #12): the differentiable keypoints the losses see, a short run on a synthetic
// project with a video that really changes the weights, and exact resume of the unlabelled clip sequence.
import Foundation
import PoseData
import PoseModels
import ProcessPolicy
import Testing
import Torch

/// A 40-frame synthetic project (64×64, the U-Net with 8 filters) with a 12-frame video; `losses` in use with ε = 0
/// and no annealing, so the unsupervised terms act from the first step.
private func semiProject(in dir: String, losses: [String], epochs: Int = 2) throws -> PoseProject {
    var project = try tinyTrainingProject(in: dir, epochs: epochs)
    project.config.lossesToUse = losses
    project.config.losses.temporal.epsilon = [0]
    project.config.losses.pcaSingleview.epsilon = 0
    project.config.callbacks.annealWeight.initVal = 1
    return project
}

/// A trainer for `project`, semi-supervised when the config lists losses.
private func makeTrainer(_ project: PoseProject, dataset: LabeledDataset, options: TrainOptions) throws -> PoseTrainer {
    let trainer = try PoseTrainer(project: project, dataset: dataset, options: options)
    if !project.config.lossesToUse.isEmpty {
        trainer.unlabeled = try UnlabeledTraining(
            config: project.config, dataset: dataset, training: trainer.split.train, folder: nil,
            clipLength: try options.clipLength(for: project.config))
    }
    return trainer
}

private func weights(_ trainer: PoseTrainer) throws -> [String: [Float]] {
    var out: [String: [Float]] = [:]
    for (name, tensor) in trainer.model.network.store.stateDict() { out[name] = try tensor.contiguous().toArray(Float.self) }
    return out
}

@Suite(.serialized) struct SemiSupervisedTrainingTests {
    /// A known heatmap peak reads out at its cell in model pixels, maps through a known clip affine to the frame
    /// pixel computed by hand, and gradients reach the heatmap.
    @Test func softKeypointsAreDifferentiableAndInFramePixels() throws {
        let dir = try temporaryDirectory("semi-readout")
        let project = try semiProject(in: dir, losses: [])
        let model = try PoseModel(config: project.config, keypointNames: ["a", "b"])
        let grid = model.grid, s = Double(grid.stride)
        // Keypoint a: a symmetric Gaussian bump centred on cell (5, 3), peak 0.9; b: on cell (2, 6), peak 0.4.
        var maps = [Float](repeating: 0, count: 2 * grid.width * grid.height)
        for (j, (cx, cy, peak)) in [(5, 3, 0.9), (2, 6, 0.4)].enumerated() {
            for y in 0..<grid.height {
                for x in 0..<grid.width {
                    let d2 = Double((x - cx) * (x - cx) + (y - cy) * (y - cy))
                    let value = peak * Foundation.exp(-d2 / 2) * (model.network.style == .softmax ? 8 : 1)
                    maps[(j * grid.height + y) * grid.width + x] = Float(value)
                }
            }
        }
        let output = try Tensor(maps, shape: [1, 2, grid.height, grid.width]).requiresGrad(true)
        let (keypoints, confidences) = try model.softKeypoints(output, count: 1)
        let inModel = try keypoints.contiguous().toArray(Float.self)
        for (value, expected) in zip(inModel, [(5 + 0.5) * s, (3 + 0.5) * s, (2 + 0.5) * s, (6 + 0.5) * s]) {
            #expect(abs(Double(value) - expected) < 1e-3, "\(inModel)")
        }
        if model.network.style == .peak {
            let c = try #require(confidences).toArray(Float.self)
            #expect(abs(c[0] - 0.9) < 1e-6 && abs(c[1] - 0.4) < 1e-6, "\(c)")
        }
        // Clip augmentation: scale x by 2 about the centre of the 64×64 model image; the video is 128×96.
        let augmentation = ClipAugmentation(scaleX: 2, scaleY: 1, modelWidth: 64, modelHeight: 64)
        let map = augmentation.augmentedToFrame(frameWidth: 128, frameHeight: 96)
        let frame = try PoseModel.apply(map, to: keypoints)
        let values = try frame.contiguous().toArray(Float.self)
        // By hand: x = ((x' − 32)/2 + 32)·128/64, y = y'·96/64.
        let expected = [((5.5 * s - 32) / 2 + 32) * 2, 3.5 * s * 1.5, ((2.5 * s - 32) / 2 + 32) * 2, 6.5 * s * 1.5]
        for (value, e) in zip(values, expected) { #expect(abs(Double(value) - e) < 1e-3, "\(values) vs \(expected)") }
        // Gradients: d(Σ x_frame)/d(maps) is non-zero near the peaks and zero far from them.
        try frame.sum().backward()
        let grad = try #require(output.grad).contiguous().toArray(Float.self)
        #expect(grad.contains { abs($0) > 1e-6 })
        #expect(grad[(0 * grid.height + 3) * grid.width + 5 + 4] == 0)  // 4 cells right of keypoint a's peak: outside the window
    }

    /// A few semi-supervised steps: the losses are logged finite and non-zero in metrics.csv, and the weights differ
    /// from a supervised run with the same seed.
    @Test func semiSupervisedRunWritesLossesAndChangesWeights() throws {
        let dir = try temporaryDirectory("semi-run")
        let project = try semiProject(in: dir, losses: ["temporal", "pca_singleview"], epochs: 1)
        let dataset = try LabeledDataset.load(project: project)
        let semi = try makeTrainer(project, dataset: dataset, options: quietTrainOptions(dir + "/semi"))
        let records = try semi.train()
        var supervisedProject = project
        supervisedProject.config.lossesToUse = []
        let supervised = try makeTrainer(supervisedProject, dataset: dataset, options: quietTrainOptions(dir + "/supervised"))
        let supervisedRecords = try supervised.train()

        let record = try #require(records.last)
        for kind in [UnsupervisedLossKind.temporal, .pcaSingleview] {
            let value = try #require(record.unsupervised[kind])
            #expect(value.isFinite && value > 0, "\(kind): \(value)")
        }
        let lines = try String(contentsOfFile: semi.directory.metrics, encoding: .utf8).split(separator: "\n")
        #expect(lines.first == "epoch,step,train_loss,val_loss,val_pixel_error,learning_rate,elapsed_s,temporal_loss,pca_singleview_loss")
        let columns = lines[1].split(separator: ",", omittingEmptySubsequences: false)
        #expect(columns.count == 9 && Double(columns[7])! > 0 && Double(columns[8])! > 0, "\(lines[1])")
        #expect(supervisedRecords.last!.unsupervised.isEmpty)
        let a = try weights(semi), b = try weights(supervised)
        let changed = a.keys.filter { a[$0] != b[$0] }
        #expect(!changed.isEmpty, "the unsupervised losses left every weight as in the supervised run")
    }

    /// Interrupted mid-epoch and resumed, a semi-supervised run ends with the same weights and metrics as an
    /// uninterrupted one (the clip stream continues at the recorded clip).
    @Test func semiSupervisedResumeContinuesExactly() throws {
        setenv("KINEMA_THREADS", "1", 1)
        defer { unsetenv("KINEMA_THREADS") }
        let dir = try temporaryDirectory("semi-resume")
        let project = try semiProject(in: dir, losses: ["temporal"], epochs: 2)
        let dataset = try LabeledDataset.load(project: project)
        let straight = try makeTrainer(project, dataset: dataset, options: quietTrainOptions(dir + "/straight"))
        let reference = try straight.train()
        var first = quietTrainOptions(dir + "/resumed")
        first.stopAfterSteps = 1  // inside the first epoch
        let stopped = try makeTrainer(project, dataset: dataset, options: first)
        _ = try stopped.train()
        #expect(stopped.stoppedEarly != nil)
        #expect(stopped.unlabeled?.batchesTaken == 1)
        var again = quietTrainOptions(dir + "/resumed")
        again.resume = true
        let resumed = try makeTrainer(project, dataset: dataset, options: again)
        let continued = try resumed.train()
        #expect(resumed.unlabeled?.batchesTaken == straight.unlabeled?.batchesTaken)
        #expect(continued.map(\.trainLoss) == reference.map(\.trainLoss), "\(continued.map(\.trainLoss)) vs \(reference.map(\.trainLoss))")
        #expect(continued.map(\.unsupervised) == reference.map(\.unsupervised))
        #expect(try weights(resumed) == weights(straight))
        // Resuming it supervised would read other data: one line that says so.
        var supervised = project
        supervised.config.lossesToUse = []
        let wrong = try makeTrainer(supervised, dataset: dataset, options: again)
        #expect(throws: PoseModelError.self) { try wrong.train() }
    }
}
