// The context model (`model.model_type: heatmap_mhcrnn`, issue #12 item 3): LP's head shapes and names, the tiled
// forward against the per-window one, the head choice, neighbour frames, learning, and save/reload/resume.
import Foundation
import PoseData
import PoseModels
import ProcessPolicy
import Testing
import Torch
import TorchNN
import VideoIO

/// A context model on `backbone` at `size`², with head weights drawn wide enough that heatmaps have clear peaks.
private func contextModel(backbone: String, size: Int, keypoints: Int = 3) throws -> PoseModel {
    var config = PoseConfig()
    config.backbone = backbone
    config.modelType = "heatmap_mhcrnn"
    config.unetFilters = 4
    config.resizeWidth = size
    config.resizeHeight = size
    try Runtime.manualSeed(3)
    let model = try PoseModel(config: config, keypointNames: (0..<keypoints).map { "k\($0)" })
    try withNoGrad {
        for (name, tensor) in model.network.store.stateDict() where name.hasPrefix("head") || name.hasPrefix("crnn") {
            try tensor.normalInPlace(mean: 0, std: 0.2)
        }
    }
    return model
}

/// A synthetic project (64×64, U-Net with 8 filters) trained as a context model.
private func contextProject(in dir: String, epochs: Int, labeledFrames: Int = 40) throws -> PoseProject {
    var project = try tinyTrainingProject(in: dir, labeledFrames: labeledFrames, epochs: epochs)
    project.config.modelType = "heatmap_mhcrnn"
    return project
}

private func quietOptions(_ dir: String) -> TrainOptions {
    var options = TrainOptions(modelDir: dir)
    options.showProgress = false
    options.log = { _ in }
    return options
}

private func maxDifference(_ a: Tensor, _ b: Tensor) throws -> Float {
    let x = try a.contiguous().toArray(Float.self), y = try b.contiguous().toArray(Float.self)
    return zip(x, y).map { abs($0 - $1) }.max() ?? 0
}

@Suite(.serialized) struct ContextModelTests {
    /// LP's shapes (§3.6) and state-dict names on a ResNet-18 at 64×64 (features 512×2×2) and on the U-Net.
    @Test func shapesAndNames() throws {
        let resnet = try contextModel(backbone: "resnet18", size: 64)
        let shapes = resnet.network.store.stateDict().mapValues(\.shape)
        #expect(shapes["crnn.W_pre.weight"] == [128, 3, 3, 3])  // ConvT(C/4 → K)
        #expect(shapes["crnn.W_f.weight"] == [3, 3, 3, 3] && shapes["crnn.W_b.weight"] == [3, 3, 3, 3])
        #expect(shapes["crnn.H_f.0.weight"] == [48, 1, 2, 2] && shapes["crnn.H_f.1.weight"] == [48, 1, 2, 2])  // grouped by keypoint
        #expect(shapes["head.upsampling_layers.1.weight"] == [128, 3, 3, 3])  // the single-frame head of `heatmap`
        #expect(resnet.framesPerSample == 5)
        let images = try Tensor.randn([2, 5, 3, 64, 64])
        #expect(try resnet.network.forward(images, training: false).shape == [4, 3, 16, 16])
        let unet = try contextModel(backbone: "unet", size: 32)
        #expect(unet.network.store.stateDict()["crnn.W_pre.weight"] == nil)
        #expect(try unet.network.forward(Tensor.randn([1, 5, 3, 32, 32]), training: false).shape == [2, 3, 8, 8])
        // LP builds the context model at downsample factor 2 only; single frames are refused in words.
        var config = resnet.config
        config.downsampleFactor = 1
        #expect(throws: PoseModelError.self) { try PoseModel(config: config, keypointNames: ["a"]) }
        #expect(throws: PoseModelError.self) { try resnet.network.forward(Tensor.zeros([2, 3, 64, 64]), training: false) }
        let context = try #require(resnet.network as? ContextPoseNetwork)
        #expect(throws: PoseModelError.self) { try context.sequenceHeads(Tensor.zeros([4, 3, 64, 64]), training: false) }
    }

    /// Features computed once per frame and tiled into windows give the same heatmaps as each window run on its own
    /// (both heads), on a ResNet and on the U-Net; for a sequence (LP's centre frames 2…T−3) and for clamped edges.
    @Test(arguments: ["resnet18", "unet"])
    func tiledForwardEqualsPerWindowForward(backbone: String) throws {
        let model = try contextModel(backbone: backbone, size: 64)
        let network = try #require(model.network as? ContextPoseNetwork)
        let t = 8
        let frames = try Tensor.randn([t, 3, 64, 64])
        try withNoGrad {
            let tiled = try network.sequenceHeads(frames, training: false)
            #expect(tiled.single.size(0) == t - 4)
            // Edges clamped as the video predictor does: frame 0 reads 0,0,0,1,2; frame 7 reads 5,6,7,7,7.
            let features = try network.frameNetwork.features(frames, training: false)
            let edges = try network.heads(features: features, windows: [[0, 0, 0, 1, 2], [5, 6, 7, 7, 7]], training: false)
            var windows: [[Int]] = (2..<(t - 2)).map { c in Array((c - 2)...(c + 2)) }
            windows += [[0, 0, 0, 1, 2], [5, 6, 7, 7, 7]]
            for (i, window) in windows.enumerated() {
                let stacked = try stack(window.map { try frames.select(0, $0) }, dim: 0).unsqueeze(0)
                let alone = try network.heads(stacked, training: false)
                let single = try i < t - 4 ? tiled.single.select(0, i) : edges.single.select(0, i - (t - 4))
                let context = try i < t - 4 ? tiled.context.select(0, i) : edges.context.select(0, i - (t - 4))
                #expect(try maxDifference(single, alone.single.select(0, 0)) < 1e-5, "window \(window)")
                #expect(try maxDifference(context, alone.context.select(0, 0)) < 1e-5, "window \(window)")
            }
            // The context head does read the neighbours: other neighbours, other maps.
            let swapped = try network.heads(features: features, windows: [[6, 5, 4, 3, 2], [2, 3, 4, 5, 6]], training: false)
            #expect(try maxDifference(swapped.single.select(0, 0), swapped.single.select(0, 1)) < 1e-6)
            #expect(try maxDifference(swapped.context.select(0, 0), swapped.context.select(0, 1)) > 1e-4)
        }
    }

    /// LP's rule on hand-made maps: per keypoint the context head wins only when strictly more confident.
    @Test func moreConfidentHeadWinsPerKeypoint() throws {
        let model = try contextModel(backbone: "unet", size: 64, keypoints: 2)  // peak maps: likelihood = peak height
        let grid = model.grid
        #expect(model.network.style == .peak)
        var maps = [Float](repeating: 0, count: 2 * 2 * grid.width * grid.height)
        // (head, keypoint, cell x, cell y, peak): keypoint 0 sharper in the single head, keypoint 1 in the context head.
        for (head, j, x, y, peak) in [(0, 0, 3, 4, 0.9), (1, 0, 8, 8, 0.5), (0, 1, 1, 1, 0.3), (1, 1, 10, 2, 0.8)] {
            maps[((head * 2 + j) * grid.height + y) * grid.width + x] = Float(peak)
        }
        let estimates = try model.readout(Tensor(maps, shape: [2, 2, grid.height, grid.width]), count: 1)[0]
        #expect(estimates[0] == KeypointEstimate(x: grid.toModel(3), y: grid.toModel(4), likelihood: Double(Float(0.9))))
        #expect(estimates[1] == KeypointEstimate(x: grid.toModel(10), y: grid.toModel(2), likelihood: Double(Float(0.8))))
        // A tie keeps the single-frame head.
        let single = [[KeypointEstimate(x: 1, y: 2, likelihood: 0.5)]], context = [[KeypointEstimate(x: 7, y: 8, likelihood: 0.5)]]
        #expect(ContextPoseNetwork.choose(single: single, context: context) == single)
        // The loss compares both heads with the same targets and averages them (LP's concatenation).
        let target = try Tensor(maps, shape: [2, 2, grid.height, grid.width]).select(0, 0).unsqueeze(0)
        var batch = PoseBatch(
            indices: [0], images: [], keypoints: [10, 10, 20, 20], heatmaps: try target.contiguous().toArray(Float.self),
            weights: [1, 1])
        let both = try Tensor(maps, shape: [2, 2, grid.height, grid.width])
        let loss = try model.loss(output: both, batch: batch).item()
        let singleOnly = try model.loss(output: both.slice(0, 0, 1), batch: batch).item()  // 0: the single head is the target
        let contextOnly = try model.loss(output: both.slice(0, 1, 2), batch: batch).item()
        #expect(singleOnly == 0 && contextOnly > 0)
        #expect(abs(loss - (singleOnly + contextOnly) / 2) < 1e-6 * loss)
        batch.weights = [0, 1]
        #expect(try model.loss(output: both, batch: batch).item() > 0)
    }

    /// LP's neighbour rule: the first digit run is the frame index, zero padding kept, negative indices → 0, a
    /// missing (or differently sized) neighbour → the centre frame.
    @Test func neighbourFramesPresentAndMissing() throws {
        #expect(
            ContextFrames.paths(around: "/p/labeled-data/v/img00041.png")
                == ["img00039", "img00040", "img00041", "img00042", "img00043"].map { "/p/labeled-data/v/\($0).png" })
        #expect(ContextFrames.paths(around: "img0001.jpg") == ["img0000.jpg", "img0000.jpg", "img0001.jpg", "img0002.jpg", "img0003.jpg"])
        #expect(ContextFrames.paths(around: "d/frame_0099_cam.png")?[4] == "d/frame_0101_cam.png")
        #expect(ContextFrames.paths(around: "d/img9.png") == ["d/img7.png", "d/img8.png", "d/img9.png", "d/img10.png", "d/img11.png"])
        #expect(ContextFrames.paths(around: "d/top.png") == nil)

        let dir = try temporaryDirectory("context-neighbours")
        var images: [String: HostImage] = [:]
        for i in 0..<4 {
            let path = dir + String(format: "/img%04d.png", i)
            FileManager.default.createFile(atPath: path, contents: Data())
            images[path] = HostImage(width: 2, height: 1, channels: 3, pixels: [UInt8](repeating: UInt8(i), count: 6))
        }
        let odd = dir + "/img0004.png"  // another size: not a neighbour
        FileManager.default.createFile(atPath: odd, contents: Data())
        images[odd] = HostImage(width: 3, height: 1, channels: 3, pixels: [UInt8](repeating: 4, count: 9))
        func load(_ path: String) throws -> HostImage { images[path]! }
        func values(_ list: [HostImage]) -> [UInt8] { list.map { $0.pixels[0] } }
        let start = ContextFrames.images(around: dir + "/img0001.png", centre: images[dir + "/img0001.png"]!, loadImage: load)
        #expect(values(start.images) == [0, 0, 1, 2, 3] && start.replaced == 0)
        let end = ContextFrames.images(around: dir + "/img0003.png", centre: images[dir + "/img0003.png"]!, loadImage: load)
        #expect(values(end.images) == [1, 2, 3, 3, 3] && end.replaced == 2)

        // Neighbours not on disk come from the video the folder was extracted from (labeled-data/v/ ↔ videos/v.mp4),
        // by the label's frame index (the 5-frame video's frames 1, 2, 4); past its end, the centre frame again.
        let videos = dir + "/videos"
        try FileManager.default.createDirectory(atPath: videos, withIntermediateDirectories: true)
        let writer = try VideoWriter(path: videos + "/v.mp4", width: 32, height: 32, framesPerSecond: 30)
        for i in 0..<5 {
            try writer.write(Frame(width: 32, height: 32, channels: 3, pixels: [UInt8](repeating: UInt8(40 * i + 20), count: 32 * 32 * 3)))
        }
        try writer.finish()
        let centre = HostImage(width: 32, height: 32, channels: 3, pixels: [UInt8](repeating: 1, count: 32 * 32 * 3))
        let fromVideo = ContextFrames.images(
            around: dir + "/labeled-data/v/img0003.png", centre: centre, loadImage: load,
            videos: ContextFrames.SourceVideos(folder: videos))
        #expect(fromVideo.fromVideo == 3 && fromVideo.replaced == 1)
        let levels = fromVideo.images.map { Int($0.pixels[32 * 16 * 3 + 16 * 3]) }
        for (level, expected) in zip(levels, [60, 100, 1, 180, 1]) { #expect(abs(level - expected) <= 4, "\(levels)") }
    }

    /// LP's own config with `model.model_type: heatmap_mhcrnn` loads unchanged into a context model, and its labelled
    /// frames get five frames each (mirror-mouse's 90 labelled imgNN have their neighbours img00…img92 beside them).
    @Test func lightningPoseContextConfigLoads() throws {
        let dir = try temporaryDirectory("context-lp-config")
        let example = (mirrorMouseConfig() as NSString).deletingLastPathComponent
        var text = try String(contentsOfFile: mirrorMouseConfig(), encoding: .utf8)
        #expect(text.contains("model_type: heatmap\n"))
        text = text.replacingOccurrences(of: "model_type: heatmap\n", with: "model_type: heatmap_mhcrnn\n")
        text = text.replacingOccurrences(of: "${LP_ROOT_PATH:}/data/mirror-mouse-example", with: example)
        try text.write(toFile: dir + "/config.yaml", atomically: true, encoding: .utf8)
        var project = try PoseProject.load(configPath: dir + "/config.yaml")
        #expect(project.config.isContextModel)
        project.config.backbone = "unet"
        let dataset = try LabeledDataset.load(project: project)
        #expect(dataset.frames.allSatisfy { $0.context?.count == 5 })
        #expect(dataset.contextNote == "context frames: all 360 neighbour images (t−2…t+2) found", "\(dataset.contextNote ?? "")")
        let model = try PoseModel(config: project.config, keypointNames: dataset.keypointNames)
        #expect(model.network is ContextPoseNetwork)
    }

    /// A tiny context model learns on a synthetic project: the loss falls and the error on the labelled frames drops
    /// well below the untrained one; the labelled frames' neighbours come from the folder (the last two lack t+1/t+2).
    @Test func tinyContextModelLearns() throws {
        let dir = try temporaryDirectory("context-learn")
        let project = try contextProject(in: dir, epochs: 6, labeledFrames: 32)
        let dataset = try LabeledDataset.load(project: project)
        #expect(dataset.frames.allSatisfy { $0.context?.count == 5 })
        #expect(dataset.contextNote?.hasPrefix("context frames: 3 of 128 neighbour images") == true, "\(dataset.contextNote ?? "")")
        let trainer = try PoseTrainer(project: project, dataset: dataset, options: quietOptions(dir + "/model"))
        // Every labelled frame, resize only (the 3 validation frames alone are too few to judge by).
        let all = Array(0..<dataset.count)
        let before = try trainer.evaluate(indices: all).pixelError
        let records = try trainer.train()
        let after = try trainer.evaluate(indices: all).pixelError
        print("context learning: loss \(records.map(\.trainLoss)), error \(before) px -> \(after) px")
        #expect(records.first!.trainLoss > 2 * records.last!.trainLoss, "\(records.map(\.trainLoss))")
        #expect(after < 0.9 * before, "error on the labelled frames \(before) px -> \(after) px")  // 17.8 → 14.3 px seen
        // The folder records the model type; reopened, it predicts what the trainer's model predicts.
        let trained = try TrainedModel(directory: dir + "/model")
        #expect(trained.model.config.modelType == "heatmap_mhcrnn" && trained.model.framesPerSample == 5)
        #expect(trained.scorer == "heatmap_mhcrnn_tracker")
    }

    /// Saved, reloaded and resumed mid-run, a context model continues exactly (losses and weights), as the others.
    @Test func saveReloadResumeExactly() throws {
        setenv("KINEMA_THREADS", "1", 1)
        defer { unsetenv("KINEMA_THREADS") }
        let dir = try temporaryDirectory("context-resume")
        let project = try contextProject(in: dir, epochs: 2, labeledFrames: 20)
        let dataset = try LabeledDataset.load(project: project)
        func trainer(_ name: String, resume: Bool, stopAfter: Int?) throws -> PoseTrainer {
            var options = quietOptions(dir + "/" + name)
            options.resume = resume
            options.stopAfterSteps = stopAfter
            return try PoseTrainer(project: project, dataset: dataset, options: options)
        }
        let straight = try trainer("straight", resume: false, stopAfter: nil)
        let reference = try straight.train()
        _ = try trainer("resumed", resume: false, stopAfter: 1).train()
        let resumed = try trainer("resumed", resume: true, stopAfter: nil)
        let continued = try resumed.train()
        #expect(continued.map(\.trainLoss) == reference.map(\.trainLoss))
        let a = straight.model.network.store.stateDict(), b = resumed.model.network.store.stateDict()
        for (name, tensor) in a {
            #expect(try tensor.contiguous().toArray(Float.self) == b[name]!.contiguous().toArray(Float.self), "\(name)")
        }
        // Reloaded from its folder (best = the last epoch: validation runs once, at the end), the model gives the
        // validation error the trainer measured.
        let trained = try TrainedModel(directory: dir + "/straight")
        let reloaded = try trained.model.evaluate(dataset: dataset, split: DataSplit.of(project.config, count: dataset.count))
        let measured = try #require(reference.last?.valPixelError)
        #expect(abs(reloaded.meanError(set: "validation") - measured) < 1e-6 * Swift.max(1, measured))
    }

    /// Semi-supervised with context: both heads' terms on the clip's centre frames, logged finite; the context
    /// model's default clip is LP's 16 frames.
    @Test func semiSupervisedContextRun() throws {
        let dir = try temporaryDirectory("context-semi")
        var project = try contextProject(in: dir, epochs: 1, labeledFrames: 20)
        project.config.lossesToUse = ["temporal"]
        project.config.losses.temporal.epsilon = [0]
        project.config.callbacks.annealWeight.initVal = 1
        let dataset = try LabeledDataset.load(project: project)
        var options = quietOptions(dir + "/model")
        #expect(try options.clipLength(for: project.config) == 16)
        options.unlabeledClipLength = 8  // the synthetic video has 12 frames
        let trainer = try PoseTrainer(project: project, dataset: dataset, options: options)
        trainer.unlabeled = try UnlabeledTraining(
            config: project.config, dataset: dataset, training: trainer.split.train, folder: nil,
            clipLength: try options.clipLength(for: project.config))
        let record = try #require(try trainer.train().last)
        let temporal = try #require(record.unsupervised[.temporal])
        #expect(temporal.isFinite && temporal > 0, "\(temporal)")
    }
}
