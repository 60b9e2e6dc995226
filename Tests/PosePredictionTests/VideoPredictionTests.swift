// Video prediction: both decode schedules give the same predictions as predicting decoded frames
// one batch at a time, and end with the reader's errors.
import Foundation
import KinemaTestSupport
import PoseData
import PoseFormats
import PoseModels
import PosePrediction
import Testing
import Torch
import VideoIO

@Suite(.serialized) struct VideoPredictionTests {
    /// An untrained 8-filter U-Net at 32² with one keypoint (for error paths).
    private func smallModel() throws -> PoseModel {
        var config = PoseConfig()
        config.backbone = "unet"
        config.unetFilters = 8
        config.resizeWidth = 32
        config.resizeHeight = 32
        return try PoseModel(config: config, keypointNames: ["a"])
    }

    /// A short H.264 video of moving blobs over texture.
    private func makeVideo(frames: Int, keyframeInterval: Int = 250) throws -> String {
        let path = NSTemporaryDirectory() + "kinema-pose-prediction-\(getpid())-\(UInt32.random(in: 0...UInt32.max)).mp4"
        let w = 96, h = 80
        let writer = try VideoWriter(
            path: path, width: w, height: h, framesPerSecond: 30,
            options: VideoWriterOptions(keyframeInterval: keyframeInterval))
        let texture = TestNoise.bytes(w * h * 3, seed: 7)
        for t in 0..<frames {
            var pixels = texture.map { $0 / 4 }
            let cx = 20 + 2 * t % 60, cy = 40 + Int(15 * sin(Double(t) / 5))
            for y in 0..<h {
                for x in 0..<w where (x - cx) * (x - cx) + (y - cy) * (y - cy) < 64 {
                    pixels[(y * w + x) * 3] = 250; pixels[(y * w + x) * 3 + 1] = 200
                }
            }
            try writer.write(Frame(width: w, height: h, channels: 3, pixels: pixels))
        }
        try writer.finish()
        return path
    }

    /// Both decode schedules give the reference predictions, including the `between` schedule's
    /// decoding on two threads (keyframes every 12 frames: two chunks of whole groups of pictures).
    @Test func pipelineGivesTheSamePredictionsAsFrameByFrame() throws {
        let video = try makeVideo(frames: 80, keyframeInterval: 12)
        defer { try? FileManager.default.removeItem(atPath: video) }
        var config = PoseConfig()
        config.backbone = "unet"
        config.unetFilters = 8
        config.resizeWidth = 64
        config.resizeHeight = 64
        config.keypointNames = ["a", "b", "c"]
        try Runtime.manualSeed(3)
        let model = try PoseModel(config: config, keypointNames: config.keypointNames!)
        // Results depend slightly on libtorch's thread count: the reference and every schedule use 2
        // (the `between` schedule then decodes on two threads).
        let threads = Runtime.threads
        defer { Runtime.threads = threads }
        Runtime.threads = 2

        // Reference: every frame decoded, resized by the augmenter, predicted in batches of `batch`
        // (libtorch's results depend slightly on the batch size, not on which frames share a batch).
        func referencePredictions(batch: Int) throws -> [[KeypointEstimate]] {
            let reader = try VideoReader(path: video)
            let augmenter = model.resizer()
            var reference: [[KeypointEstimate]] = []
            var images: [Float] = [], count = 0
            func flush() throws {
                guard count > 0 else { return }
                reference += try model.predict(images: images, count: count).map { row in
                    row.map { model.toFrame($0, width: reader.info.width, height: reader.info.height) }
                }
                images = []; count = 0
            }
            while let frame = try reader.nextFrame() {
                let image = HostImage(width: frame.width, height: frame.height, channels: frame.channels, pixels: frame.pixels)
                var planes = augmenter.warp(
                    image,
                    transform: Affine2D(
                        a: 64.0 / Double(frame.width), b: 0, c: 0,
                        d: 64.0 / Double(frame.height), tx: 0, ty: 0))
                augmenter.normalize(&planes)
                images += planes
                count += 1
                if count == batch { try flush() }
            }
            try flush()
            return reference
        }
        func worstDifference(_ result: VideoPredictionResult, _ reference: [[KeypointEstimate]]) -> Double {
            var worst = 0.0
            for (i, row) in reference.enumerated() {
                for (j, e) in row.enumerated() {
                    worst = max(
                        worst, abs(result.table.value(row: i, keypoint: j, coord: 0) - e.x),
                        abs(result.table.value(row: i, keypoint: j, coord: 1) - e.y),
                        abs(result.table.value(row: i, keypoint: j, coord: 2) - e.likelihood))
                }
            }
            return worst
        }
        let reference = try referencePredictions(batch: 16)
        #expect(reference.count == 80)

        func settings(_ schedule: DecodeSchedule) -> DecodeSettings { var s = DecodeSettings(); s.schedule = schedule; return s }
        var aheadVariant = settings(.ahead)
        aheadVariant.decoderThreads = 0
        aheadVariant.batchesAhead = 1
        for settings in [settings(.ahead), aheadVariant, settings(.between)] {
            let result = try model.predictVideo(
                path: video, scorer: "heatmap_tracker", batchSize: 16, showProgress: false, decode: settings)
            #expect(result.frames == 80)
            #expect(result.table.rowCount == 80)
            #expect(result.decodeCPUSeconds > 0)
            let worst = worstDifference(result, reference)
            #expect(worst == 0, "largest difference \(worst) with \(settings)")
        }
        // Batches of 4: seven chunks for two workers and the idle-priority gap filler, whose frames
        // (and, near the end, whose unfinished chunk, taken over by a worker) land in any batch.
        let reference4 = try referencePredictions(batch: 4)
        for fillGaps in [true, false, true, true] {
            var between = settings(.between)
            between.fillGaps = fillGaps
            let result = try model.predictVideo(path: video, scorer: "heatmap_tracker", batchSize: 4, showProgress: false, decode: between)
            #expect(result.frames == 80 && result.table.rowCount == 80)
            let worst = worstDifference(result, reference4)
            #expect(worst == 0, "largest difference \(worst), gap filler \(fillGaps)")
        }
        // A frame limit predicts the first frames only, with the same values (32: the same batches as the
        // reference; libtorch's results depend slightly on the batch size).
        for schedule in [DecodeSchedule.ahead, .between] {
            let first = try model.predictVideo(
                path: video, scorer: "heatmap_tracker", batchSize: 16, showProgress: false,
                decode: settings(schedule), frameLimit: 32)
            #expect(first.frames == 32 && first.table.rowCount == 32)
            #expect(first.table.value(row: 31, keypoint: 2, coord: 0) == reference[31][2].x)
            // The batches alone (no network) cover every frame once.
            let source = try model.frameBatches(
                path: video, batchSize: 16, keepOriginals: false, decode: settings(schedule),
                frameLimit: nil)
            var frames: [Int] = []
            while let batch = try source.next() {
                #expect(batch.images.count == batch.count * 3 * 64 * 64)
                frames += batch.frameNumbers
            }
            source.finish()
            #expect(frames.sorted() == Array(0..<80) && source.decodeCPUSeconds > 0)
        }
    }

    /// Chunks are whole groups of pictures, merged until long enough, covering the video in order.
    @Test func chunksAreWholeGroupsOfPictures() {
        #expect(
            VideoSegments.chunks(keyframes: [0, 193, 433, 683, 933], total: 994, workers: 2, minimumLength: 32)
                == [0..<193, 193..<433, 433..<683, 683..<933, 933..<994])
        #expect(VideoSegments.chunks(keyframes: [0], total: 994, workers: 2, minimumLength: 32) == [0..<994])
        #expect(VideoSegments.chunks(keyframes: [0, 10], total: 20, workers: 2, minimumLength: 32) == [0..<20])
        #expect(
            VideoSegments.chunks(keyframes: Array(stride(from: 0, to: 80, by: 12)), total: 80, workers: 2, minimumLength: 32)
                == [0..<36, 36..<80])
        #expect(VideoSegments.chunks(keyframes: [0, 433], total: 994, workers: 2, minimumLength: 32) == [0..<433, 433..<994])
        #expect(VideoSegments.chunks(keyframes: [], total: 0, workers: 2, minimumLength: 32).isEmpty)
        // An hour at 30 frames/s with a keyframe every 250 frames: ~1/32 of the video per chunk.
        let hour = VideoSegments.chunks(
            keyframes: Array(stride(from: 0, to: 108_000, by: 250)), total: 108_000, workers: 2, minimumLength: 32)
        #expect(hour.first?.lowerBound == 0 && hour.last?.upperBound == 108_000)
        #expect(zip(hour, hour.dropFirst()).allSatisfy { $0.upperBound == $1.lowerBound && $1.lowerBound % 250 == 0 })
        #expect(hour.dropLast().allSatisfy { (3375..<3625).contains($0.count) }, "\(hour.map(\.count))")
    }

    /// A cut file: both schedules predict nothing silently wrong and end with the reader's truncation error.
    @Test func truncatedVideoEndsWithTheTruncationError() throws {
        let video = try makeVideo(frames: 80, keyframeInterval: 12)
        defer { try? FileManager.default.removeItem(atPath: video) }
        let bytes = try Data(contentsOf: URL(fileURLWithPath: video))
        let cut = video.replacingOccurrences(of: ".mp4", with: "-cut.mp4")
        defer { try? FileManager.default.removeItem(atPath: cut) }
        try bytes.prefix(bytes.count * 2 / 3).write(to: URL(fileURLWithPath: cut))
        let reader = try VideoReader(path: cut)
        try #require(reader.info.damage != nil, "the cut file is not seen as damaged")
        let model = try smallModel()
        let threads = Runtime.threads
        defer { Runtime.threads = threads }
        Runtime.threads = 2
        for schedule in [DecodeSchedule.ahead, .between] {
            var settings = DecodeSettings()
            settings.schedule = schedule
            do {
                _ = try model.predictVideo(path: cut, scorer: "s", batchSize: 4, showProgress: false, decode: settings)
                Issue.record("\(schedule): a cut file predicted without an error")
            } catch let error as VideoError {
                guard case .truncated(let path, let frame, _, _) = error else { Issue.record("\(schedule): \(error)"); continue }
                #expect(path == cut && frame == reader.frameCount, "\(schedule)")
            }
        }
    }

    @Test func missingVideoIsAOneLineError() throws {
        let model = try smallModel()
        let error = #expect(throws: VideoError.self) {
            try model.predictVideo(path: "/nonexistent/clip.mp4", scorer: "s", showProgress: false)
        }
        #expect("\(error!)".contains("/nonexistent/clip.mp4"))
    }
}
