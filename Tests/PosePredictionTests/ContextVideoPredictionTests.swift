// The context model over a video: features once per frame, tiled into clamped windows, give what each window run
// through the whole network gives, for both decode schedules (in order, and segments on two threads).
import Foundation
import KinemaTestSupport
import PoseData
import PoseFormats
import PoseModels
import PosePrediction
import Testing
import Torch
import VideoIO

@Suite(.serialized) struct ContextVideoPredictionTests {
    @Test func tiledVideoPredictionEqualsPerWindowPrediction() throws {
        let frames = 23, w = 48, h = 40
        let video = NSTemporaryDirectory() + "kinema-context-video-\(getpid()).mp4"
        defer { try? FileManager.default.removeItem(atPath: video) }
        let writer = try VideoWriter(
            path: video, width: w, height: h, framesPerSecond: 30, options: VideoWriterOptions(keyframeInterval: 6))
        let texture = TestNoise.bytes(w * h * 3, seed: 11)
        for t in 0..<frames {
            var pixels = texture.map { $0 / 3 }
            for y in 0..<h {
                for x in 0..<w where (x - 8 - t) * (x - 8 - t) + (y - 20) * (y - 20) < 30 { pixels[(y * w + x) * 3] = 255 }
            }
            try writer.write(Frame(width: w, height: h, channels: 3, pixels: pixels))
        }
        try writer.finish()

        var config = PoseConfig()
        config.backbone = "unet"
        config.modelType = "heatmap_mhcrnn"
        config.unetFilters = 4
        config.resizeWidth = 32
        config.resizeHeight = 32
        config.keypointNames = ["a", "b"]
        try Runtime.manualSeed(5)
        let model = try PoseModel(config: config, keypointNames: ["a", "b"])
        try withNoGrad {
            for (name, tensor) in model.network.store.stateDict() where name.hasPrefix("head") || name.hasPrefix("crnn") {
                try tensor.normalInPlace(mean: 0, std: 0.2)
            }
        }
        let threads = Runtime.threads
        defer { Runtime.threads = threads }
        Runtime.threads = 2

        // Reference: each frame's clamped window t−2…t+2 through the whole network, one sample at a time.
        let reader = try VideoReader(path: video)
        let resizer = model.resizer()
        var planes: [[Float]] = []
        while let frame = try reader.nextFrame() {
            let image = HostImage(width: frame.width, height: frame.height, channels: frame.channels, pixels: frame.pixels)
            var p = resizer.warp(
                image, transform: Affine2D(a: 32.0 / Double(w), b: 0, c: 0, d: 32.0 / Double(h), tx: 0, ty: 0))
            resizer.normalize(&p)
            planes.append(p)
        }
        #expect(planes.count == frames)
        let reference = try (0..<frames).map { t in
            let window = ContextVideoWindows.window(of: t, lastFrame: frames - 1)
            return try model.predict(images: window.flatMap { planes[$0] }, count: 1)[0].map { model.toFrame($0, width: w, height: h) }
        }
        #expect(ContextVideoWindows.window(of: 0, lastFrame: 22) == [0, 0, 0, 1, 2])
        #expect(ContextVideoWindows.window(of: 22, lastFrame: 22) == [20, 21, 22, 22, 22])

        for (schedule, batch) in [(DecodeSchedule.ahead, 8), (.between, 4)] {
            var decode = DecodeSettings()
            decode.schedule = schedule
            let result = try model.predictVideo(path: video, scorer: "t", batchSize: batch, showProgress: false, decode: decode)
            #expect(result.frames == frames && result.table.rowCount == frames)
            var worst = 0.0
            for (i, row) in reference.enumerated() {
                for (j, e) in row.enumerated() {
                    worst = max(
                        worst, abs(result.table.value(row: i, keypoint: j, coord: 0) - e.x),
                        abs(result.table.value(row: i, keypoint: j, coord: 1) - e.y),
                        abs(result.table.value(row: i, keypoint: j, coord: 2) - e.likelihood))
                }
            }
            #expect(worst < 1e-4, "\(schedule): worst difference \(worst)")
        }

        // Frames arriving out of order (segments decoded on several threads) are predicted once their window is
        // there, and nothing is held once every frame is predicted.
        let windows = try ContextVideoWindows(model: model, frameCount: frames)
        var got: [Int: [KeypointEstimate]] = [:]
        for chunk in [Array(12..<18), Array(0..<6), Array(18..<23), Array(6..<12)] {
            for (f, row) in try windows.add(images: chunk.flatMap { planes[$0] }, frames: chunk) { got[f] = row }
        }
        for (f, row) in try windows.finish(frameCount: frames) { got[f] = row }
        #expect(got.count == frames && windows.heldFrames == 0)
        for t in 0..<frames {
            let row = try #require(got[t]).map { model.toFrame($0, width: w, height: h) }
            for (a, b) in zip(row, reference[t]) { #expect(abs(a.x - b.x) < 1e-4 && abs(a.likelihood - b.likelihood) < 1e-5, "frame \(t)") }
        }
    }

    /// A two-camera context model trains and predicts a session: one CSV per view, each the context model's tiled
    /// prediction of that view's video alone, with the multiview metrics among the views.
    @Test func twoCameraContextModelPredictsEachView() throws {
        let folder = NSTemporaryDirectory() + "kinema-views-context-\(getpid())-\(UInt32.random(in: 0...UInt32.max))"
        defer { try? FileManager.default.removeItem(atPath: folder) }
        let written = try SyntheticProject.writeTwoViews(to: folder + "/project", labeledFrames: 16, videoFrames: 9)
        var project = try PoseProject.load(configPath: written.configPath)
        project.config.modelType = "heatmap_mhcrnn"
        project.config.unetFilters = 8
        project.config.trainBatchSize = 8
        project.config.maxEpochs = 1
        project.config.checkValEveryNEpoch = 1
        var options = TrainOptions(modelDir: folder + "/model")
        options.showProgress = false
        options.log = { _ in }
        let (directory, _, _) = try PoseWorkflows.train(project: project, options: options, predictVideos: true)
        let trained = try TrainedModel(directory: directory)
        #expect(trained.model.network is ContextPoseNetwork)
        let predictions = ModelDirectory(directory).videoPredictions
        for view in ["top", "bot"] {
            let table = try PoseTable.read(from: URL(fileURLWithPath: predictions + "/walk_\(view).csv"))
            let alone = try trained.model.predictVideo(
                path: folder + "/project/videos/walk_\(view).mp4", scorer: trained.scorer, showProgress: false)
            #expect(table.rowCount == 9 && alone.table.rowCount == 9)
            #expect(zip(alone.table.values, table.values).allSatisfy { abs($0 - $1) < 1e-6 }, "view \(view)")
            let rows = try String(contentsOfFile: predictions + "/walk_\(view)_pca_multiview_error.csv", encoding: .utf8)
                .split(separator: "\n")
            #expect(rows.count == 10, "header + 9 frames")
        }
    }
}
