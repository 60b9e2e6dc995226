// Every tensor of the pose path is made on its model's device (issue #12 item 6). This machine has no GPU, so the
// tests run the pose workflows on libtorch's meta device: its ops compute shapes only, and an op that mixes a meta
// tensor with a CPU tensor (one made without the model's device) fails. Reads of meta tensors give zeros
// (`Tensor.toArray`), so whole workflows run there: training (supervised, semi-supervised, the context model),
// evaluation, checkpoints, video prediction. And on the CPU the device path adds nothing: no copy, no cast.
import Foundation
import KinemaTestSupport
import PoseData
import PoseModels
import PosePrediction
import Testing
import Torch

/// A 40-frame synthetic project (64×64 images and model input, the U-Net with 4 filters) with a 12-frame video, one
/// epoch of batch 8, its video predicted after training.
private func deviceProject(in dir: String, modelType: String = "heatmap", losses: [String] = []) throws -> PoseProject {
    let written = try SyntheticProject.write(to: dir, labeledFrames: 40, videoFrames: 12, size: 64, modelSize: 64)
    var project = try PoseProject.load(configPath: written.configPath)
    project.config.unetFilters = 4
    project.config.trainBatchSize = 8
    project.config.maxEpochs = 1
    project.config.minEpochs = 1
    project.config.checkValEveryNEpoch = 1
    project.config.milestones = [1000]
    project.config.modelType = modelType
    project.config.lossesToUse = losses
    project.config.callbacks.annealWeight.initVal = 1  // the unsupervised terms take part in the backward pass
    project.config.predictVidsAfterTraining = true
    return project
}

private func quiet(_ dir: String, device: Device) -> TrainOptions {
    var options = TrainOptions(modelDir: dir)
    options.showProgress = false
    options.log = { _ in }
    options.unlabeledClipLength = 8
    options.device = device
    return options
}

@Suite(.serialized) struct PoseDeviceTests {
    /// What the other tests rely on: meta refuses a CPU tensor in an op with its own, as CUDA does; its reads are zeros.
    @Test func metaRefusesATensorLeftOnTheCPU() throws {
        let host = try Tensor([1, 2, 3] as [Float])
        let meta = try host.to(.meta)
        #expect(host.device == .cpu && meta.device == .meta)
        #expect(try (meta * 2).toArray(Float.self) == [0, 0, 0])
        let error = #expect(throws: TorchError.self) { try meta + host }
        #expect(error?.message.contains("device") == true, "\(String(describing: error))")
        // A model on meta: its parameters are there, and its loss fails if a target stayed on the host (what a
        // forgotten upload would do).
        let dir = try TestFiles.temporaryDirectory("device-meta-model").path
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let project = try deviceProject(in: dir)
        let model = try PoseModel(config: project.config, keypointNames: project.config.keypointNames!, device: .meta)
        #expect(model.network.store.stateDict().values.allSatisfy { $0.device == .meta })
        let c = project.config
        let output = try model.forward(
            model.imageTensor([Float](repeating: 0, count: 2 * 3 * c.resizeHeight * c.resizeWidth), count: 2), training: true)
        #expect(output.device == .meta)
        let onHost = try Tensor.zeros(output.shape)
        #expect(throws: TorchError.self) { try output - onHost }
        #expect(throws: Never.self) { try output - model.upload([Float](repeating: 0, count: output.count), shape: output.shape) }
    }

    /// Training (each loss, the context model's windows, Adam's state, checkpoints), evaluation and the video's
    /// prediction on the model's device: any tensor made on the CPU on the way fails the run.
    @Test(arguments: [
        ("heatmap", [String]()), ("heatmap", ["temporal", "pca_singleview"]), ("heatmap_mhcrnn", ["temporal", "pca_singleview"]),
    ])
    func workflowsRunOnTheModelsDevice(modelType: String, losses: [String]) throws {
        let dir = try TestFiles.temporaryDirectory("device-meta-train").path
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let project = try deviceProject(in: dir + "/project", modelType: modelType, losses: losses)
        let result = try PoseWorkflows.train(project: project, options: quiet(dir + "/model", device: .meta))
        #expect(result.records.count == 1)
        #expect(result.records[0].unsupervised.keys.count == losses.count)
        let folder = ModelDirectory(dir + "/model")
        #expect(FileManager.default.fileExists(atPath: folder.bestCheckpoint))
        // The video was predicted, every frame (12 rows after the CSV's three header rows).
        let csvs = try FileManager.default.contentsOfDirectory(atPath: folder.videoPredictions).filter { $0 == "walk.csv" }
        #expect(csvs.count == 1)
        let rows = try String(contentsOfFile: folder.videoPredictions + "/walk.csv", encoding: .utf8).split(separator: "\n")
        #expect(rows.count == 3 + 12)
        // Checkpoints are written from the host and load onto any device.
        for device in [Device.meta, .cpu] {
            let trained = try TrainedModel(directory: folder.path, device: device)
            #expect(trained.model.network.store.stateDict().values.allSatisfy { $0.device == device })
        }
    }

    /// A CPU model's uploads and fp32 forward pass are the host tensor and the network's output themselves: the
    /// device path changes no CPU result.
    @Test func onTheCPUTheDevicePathAddsNothing() throws {
        let dir = try TestFiles.temporaryDirectory("device-cpu").path
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let project = try deviceProject(in: dir)
        try Runtime.manualSeed(3)
        let model = try PoseModel(config: project.config, keypointNames: project.config.keypointNames!)
        #expect(model.device == .cpu && model.precision == .fp32)
        let c = project.config, n = 2 * 3 * c.resizeHeight * c.resizeWidth
        let values = (0..<n).map { Float(($0 * 7919) % 255) / 255 }
        let images = try model.imageTensor(values, count: 2)
        let uploaded = try images.contiguous().toArray(Float.self)
        #expect(images.device == .cpu && uploaded == values)
        let a = try withNoGrad { try model.forward(images, training: false).toArray(Float.self) }
        let b = try withNoGrad { try model.network.forward(images, training: false).toArray(Float.self) }
        #expect(a == b)
    }

    /// The autocast scope (`withAutocast`, the shim's enter/exit), seen through an op that libtorch's CPU autocast
    /// covers (matmul; its list leaves out `aten::convolution`, which is why `--precision` is refused on the CPU):
    /// bfloat16 inside, restored after a nested scope, a throwing body and the outermost scope.
    @Test func autocastScope() throws {
        try Runtime.manualSeed(4)
        let a = try Tensor.randn([4, 3]), b = try Tensor.randn([3, 2])
        #expect(try withAutocast(.cpu, .bf16) { try a.matmul(b) }.dtype == .bfloat16)
        #expect(try withAutocast(.cpu, .fp32) { try a.matmul(b) }.dtype == .float32)
        let outer = try withAutocast(.cpu, .bf16) { () throws -> Tensor in
            _ = try withAutocast(.cpu, .bf16) { try a.matmul(b) }
            return try a.matmul(b)  // still inside the outer scope
        }
        #expect(outer.dtype == .bfloat16)
        struct Stop: Error {}
        #expect(throws: Stop.self) { try withAutocast(.cpu, .bf16) { () throws -> Tensor in throw Stop() } }
        #expect(try a.matmul(b).dtype == .float32)
        let exact = try a.matmul(b).toArray(Float.self)
        let rounded = try withAutocast(.cpu, .bf16) { try a.matmul(b) }.toArray(Float.self)
        let worst = zip(exact, rounded).map { abs($0 - $1) }.max() ?? 0
        #expect(worst > 0 && worst < 0.05, "\(exact) vs \(rounded)")
    }
}
