// Video prediction: both decode schedules give the same predictions as predicting decoded frames
// one batch at a time, and end with the reader's errors.
import Foundation
import KinemaTestSupport
import Plotting
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

    /// A cut file (#11.4): both schedules, with and without a labelled video, keep every frame before the cut
    /// (the same values as the whole file's) and say where it broke.
    @Test func truncatedVideoKeepsTheFramesBeforeTheCut() throws {
        let video = try makeVideo(frames: 80, keyframeInterval: 12)
        defer { try? FileManager.default.removeItem(atPath: video) }
        let bytes = try Data(contentsOf: URL(fileURLWithPath: video))
        let cut = video.replacingOccurrences(of: ".mp4", with: "-cut.mp4")
        defer { try? FileManager.default.removeItem(atPath: cut) }
        try bytes.prefix(bytes.count * 2 / 3).write(to: URL(fileURLWithPath: cut))
        let reader = try VideoReader(path: cut)
        try #require(reader.info.damage != nil, "the cut file is not seen as damaged")
        let decodable = reader.frameCount
        try #require(decodable > 8 && decodable < 80)
        let model = try smallModel()
        let threads = Runtime.threads
        defer { Runtime.threads = threads }
        Runtime.threads = 2
        let whole = try model.predictVideo(path: video, scorer: "s", batchSize: 4, showProgress: false)
        for schedule in [DecodeSchedule.ahead, .between] {
            for labeled in [false, true] {
                var settings = DecodeSettings()
                settings.schedule = schedule
                let labeledPath = cut + ".\(schedule)-labeled.mp4"
                defer { try? FileManager.default.removeItem(atPath: labeledPath) }
                let drawer =
                    labeled
                    ? try LabeledVideoWriter(
                        path: labeledPath, width: 96, height: 80, framesPerSecond: 30, keypointNames: ["a"], colormap: "rainbow",
                        threshold: 0, skeleton: []) : nil
                let result = try model.predictVideo(
                    path: cut, scorer: "s", batchSize: 4, showProgress: false, drawer: drawer, decode: settings)
                let what = "\(schedule), labelled \(labeled)"
                #expect(result.frames == decodable && result.table.rowCount == decodable, "\(what)")
                guard case .truncated(let path, let frame, _, _) = result.truncation else {
                    Issue.record("\(what): no truncation reported")
                    continue
                }
                #expect(path == cut && frame == decodable, "\(what)")
                // Full batches of 4 are the same frames as in the whole video's run: the same values.
                for row in 0..<(decodable / 4 * 4) {
                    #expect(
                        result.table.value(row: row, keypoint: 0, coord: 0) == whole.table.value(row: row, keypoint: 0, coord: 0), "\(what)"
                    )
                }
                if labeled {
                    #expect(result.labeledVideoFailure == nil, "\(what)")
                    #expect(try VideoReader(path: labeledPath).frameCount == decodable, "\(what)")
                }
            }
        }
    }

    /// #11.3: a labelled video that fails (here: frames of another size than it was made for) ends only the
    /// labelled video: every frame is still predicted and its earlier file is left as it was.
    @Test func failingLabeledVideoKeepsThePredictions() throws {
        let video = try makeVideo(frames: 12)
        defer { try? FileManager.default.removeItem(atPath: video) }
        let model = try smallModel()
        let labeledPath = video + ".labeled.mp4"
        defer { try? FileManager.default.removeItem(atPath: labeledPath) }
        try Data("an earlier labelled video".utf8).write(to: URL(fileURLWithPath: labeledPath))
        let drawer = try LabeledVideoWriter(
            path: labeledPath, width: 64, height: 64, framesPerSecond: 30, keypointNames: ["a"], colormap: "rainbow", threshold: 0,
            skeleton: [])
        let result = try model.predictVideo(path: video, scorer: "s", batchSize: 4, showProgress: false, drawer: drawer)
        #expect(result.frames == 12 && result.table.rowCount == 12 && result.truncation == nil)
        #expect(result.labeledVideoFailure?.contains("is 96x80, the video is 64x64") == true, "\(result.labeledVideoFailure ?? "nil")")
        #expect(try String(contentsOfFile: labeledPath, encoding: .utf8) == "an earlier labelled video")
        let folder = (labeledPath as NSString).deletingLastPathComponent
        #expect(try FileManager.default.contentsOfDirectory(atPath: folder).filter { $0.hasSuffix(".tmp") }.isEmpty)
    }

    /// #11.3 / #11.9: a 333×251 labelled video is padded to 334×252 (keypoints keep their pixel position), draws
    /// a legend of keypoint colours, and says when the threshold hides most points.
    @Test func labeledVideosOfAnySizeWithLegendAndThresholdWarning() throws {
        let folder = NSTemporaryDirectory() + "kinema-labeled-\(getpid())-\(UInt32.random(in: 0...UInt32.max))"
        try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: folder) }
        let path = folder + "/odd_labeled.mp4"
        let names = ["nose", "paw"]
        let drawer = try LabeledVideoWriter(
            path: path, width: 333, height: 251, framesPerSecond: 10, keypointNames: names, colormap: "rainbow", threshold: 0.9,
            skeleton: [])
        let grey = HostImage(width: 333, height: 251, channels: 3, pixels: [UInt8](repeating: 128, count: 333 * 251 * 3))
        for i in 0..<4 {
            // Frame 0: both points shown; then only the nose: 3 of 8 points hidden, no warning.
            let paw = i == 0 ? 0.95 : 0.3
            try drawer.write(
                frame: grey,
                keypoints: [KeypointEstimate(x: 300, y: 200, likelihood: 0.95), KeypointEstimate(x: 331, y: 249, likelihood: paw)])
        }
        #expect(drawer.pointCount == 8 && drawer.hiddenCount == 3 && drawer.thresholdWarning == nil)
        try drawer.finish()
        let reader = try VideoReader(path: path)
        #expect(reader.info.width == 334 && reader.info.height == 252 && reader.frameCount == 4)
        let colors = colormapColors("rainbow", count: 2)
        func pixel(_ frame: Frame, _ x: Int, _ y: Int) -> [Int] { (0..<3).map { Int(frame.pixels[(y * frame.width + x) * 3 + $0]) } }
        func near(_ a: [Int], _ b: [UInt8], _ tolerance: Int = 40) -> Bool { zip(a, b).allSatisfy { abs($0 - Int($1)) <= tolerance } }
        // A small disk loses some colour to H.264's half-resolution chroma: nearer its colour than anything else there.
        func drawn(_ a: [Int], _ color: [UInt8]) -> Bool {
            func distance(_ b: [UInt8]) -> Int { zip(a, b).map { ($0 - Int($1)) * ($0 - Int($1)) }.reduce(0, +) }
            return distance(color) < min(distance([128, 128, 128]), distance(colors.first { $0 != color }!), distance([0, 0, 0]))
        }
        let first = try reader.frame(at: 0)
        #expect(drawn(pixel(first, 300, 200), colors[0]), "nose drawn at its pixel: \(pixel(first, 300, 200))")
        #expect(drawn(pixel(first, 331, 249), colors[1]), "paw drawn at its pixel: \(pixel(first, 331, 249))")
        #expect(near(pixel(first, 333, 100), [0, 0, 0], 24), "the padding column is black: \(pixel(first, 333, 100))")
        // The legend: a dot of each keypoint's colour in the top-left corner, one line apart, on a darkened box.
        #expect(near(pixel(first, 5, 5), colors[0]) && near(pixel(first, 5, 14), colors[1]), "\(pixel(first, 5, 5)) \(pixel(first, 5, 14))")
        #expect(pixel(first, 33, 17).allSatisfy { $0 < 70 }, "the legend's box is darker than the frame: \(pixel(first, 33, 17))")
        let later = try reader.frame(at: 3)
        #expect(drawn(pixel(later, 300, 200), colors[0]) && near(pixel(later, 331, 249), [128, 128, 128]), "the paw is hidden")

        // A weak model: every point at 0.5 < 0.9; the warning counts them and names the option.
        let weak = try LabeledVideoWriter(
            path: folder + "/weak_labeled.mp4", width: 64, height: 48, framesPerSecond: 10, keypointNames: names, colormap: "rainbow",
            threshold: 0.9, skeleton: [])
        for _ in 0..<3 {
            try weak.write(
                frame: HostImage(width: 64, height: 48),
                keypoints: [KeypointEstimate(x: 10, y: 10, likelihood: 0.5), KeypointEstimate(x: .nan, y: .nan, likelihood: 0.5)])
        }
        try weak.finish()
        #expect(
            weak.thresholdWarning
                == "\(folder)/weak_labeled.mp4: 3 of 3 keypoints (100%) have a likelihood at or below 0.9 and are not drawn; lower it with `kinema predict --threshold` (e.g. 0.5) or the config's confidence_thresh_for_vid"
        )
    }

    /// The legend's (and plots') font draws lowercase letters at x-height: `p` is not a `P` moved down.
    @Test func lowercasePIsNotCapitalP() {
        func rows(_ text: String) -> Set<Int> { Set(TextStamp.pixels(text).map(\.y)) }
        let lower = Set(TextStamp.pixels("p").map { "\($0.x),\($0.y)" })
        for shift in -2...2 {
            let upper = Set(TextStamp.pixels("P").map { "\($0.x),\($0.y + shift)" })
            #expect(lower != upper, "'p' is 'P' shifted by \(shift) rows")
        }
        // Letters without an ascender leave the top two rows empty, like a, c, e.
        for letter in "acegmnopqrsuvwxyz" {
            #expect(rows(String(letter)).min() == 2, "'\(letter)' starts at row \(rows(String(letter)).min() ?? -1)")
        }
        for letter in "gjpqy" { #expect(rows(String(letter)).max() == 6, "'\(letter)' has a descender") }
        #expect(rows("P").min() == 0)
    }

    @Test func missingVideoIsAOneLineError() throws {
        let model = try smallModel()
        let error = #expect(throws: VideoError.self) {
            try model.predictVideo(path: "/nonexistent/clip.mp4", scorer: "s", showProgress: false)
        }
        #expect("\(error!)".contains("/nonexistent/clip.mp4"))
    }
}
