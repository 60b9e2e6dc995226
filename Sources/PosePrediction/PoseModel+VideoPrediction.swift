// Video → keypoints: batches from a decode schedule (`FrameBatchSource`), the network and read-out on
// this thread, each frame's keypoints in its row.
import Foundation
import KinemaConsole
import PoseData
import PoseFormats
import PoseModels
import VideoIO

/// What `predictVideo` produced.
public struct VideoPredictionResult: Sendable {
    public var table: PoseTable
    /// The video's metadata.
    public var video: VideoInfo
    public var frames: Int
    public var seconds: Double
    public var framesPerSecond: Double { seconds > 0 ? Double(frames) / seconds : 0 }
    /// Seconds from the call to the first batch being ready for the network.
    public var startupSeconds: Double
    /// Seconds from the call to the first batch's keypoints.
    public var firstBatchSeconds: Double
    /// CPU seconds spent by the decode thread (decoding, RGB conversion, resizing).
    public var decodeCPUSeconds: Double
    /// Where a recording cut off mid-file broke (`VideoError.truncated`): `table` holds the frames before it.
    public var truncation: VideoError? = nil
    /// Why the labelled video could not be written (the predictions are complete without it).
    public var labeledVideoFailure: String? = nil
}

extension PoseModel {
    /// Predicts every frame of a video. With `drawer`, each frame is also drawn into a labelled video; a
    /// failure there ends only the labelled video (`labeledVideoFailure`), never the predictions.
    ///
    /// A recording cut off mid-file keeps what was decoded: the table has one row per frame before the cut
    /// (as many rows as any reader of the file finds frames) and `truncation` says where it broke.
    /// - Parameters:
    ///   - decode: when and how frames are decoded (schedule, decoder threads, read-ahead, priority).
    ///   - frameLimit: predict only the first frames.
    ///   - onFirstBatch: called once, right after the first batch's keypoints are known.
    public func predictVideo(
        path: String, scorer: String, batchSize: Int = 16, showProgress: Bool = true,
        drawer: LabeledVideoWriter? = nil, decode: DecodeSettings = DecodeSettings(),
        frameLimit: Int? = nil, onFirstBatch: (() -> Void)? = nil
    ) throws -> VideoPredictionResult {
        try Self.predictVideo(
            models: [self], path: path, scorer: scorer, batchSize: batchSize, showProgress: showProgress, drawer: drawer,
            decode: decode, frameLimit: frameLimit, onFirstBatch: onFirstBatch)[0]
    }

    /// Predicts every frame of a video with several networks of one input size (an ensemble) from one decode:
    /// each batch is decoded and resized once, then goes through every network in turn. One result per model,
    /// in order; the timings are the whole run's. `drawer` draws the first model's keypoints. Otherwise as
    /// `predictVideo(path:…)`.
    public static func predictVideo(
        models: [PoseModel], path: String, scorer: String, batchSize: Int = 16, showProgress: Bool = true,
        drawer: LabeledVideoWriter? = nil, decode: DecodeSettings = DecodeSettings(),
        frameLimit: Int? = nil, onFirstBatch: (() -> Void)? = nil
    ) throws -> [VideoPredictionResult] {
        guard let first = models.first else { return [] }
        let input = (first.config.resizeWidth, first.config.resizeHeight)
        if let other = models.first(where: {
            ($0.config.resizeWidth, $0.config.resizeHeight) != input || $0.keypointCount != first.keypointCount
        }) {
            throw PoseModelError(
                "models of different input sizes or keypoint counts (\(input.0)×\(input.1), \(first.keypointCount) keypoints; \(other.config.resizeWidth)×\(other.config.resizeHeight), \(other.keypointCount)) cannot share one decode"
            )
        }
        let start = Date()
        let source = try first.frameBatches(
            path: path, batchSize: batchSize, keepOriginals: drawer != nil,
            decode: decode, frameLimit: frameLimit)
        defer { source.stop() }
        let total = min(source.info.frameCount, frameLimit ?? Int.max)
        let width = source.info.width, height = source.info.height
        let progress = ProgressLine(label: (path as NSString).lastPathComponent, total: total, unit: "frames", enabled: showProgress)
        // Batches may hold frames of several segments: results go to their frame's row.
        let k = first.keypointCount
        var xs = [[Double]](repeating: [Double](repeating: .nan, count: total * k), count: models.count), ys = xs, ls = xs
        var startup = 0.0, firstBatch = 0.0
        var done = 0, rows = 0
        var predicted = [Bool](repeating: false, count: total)
        var truncation: VideoError?
        var drawing = drawer, labeledVideoFailure: String?
        func drawingFailed(_ error: any Error) {
            labeledVideoFailure = "\(error)"
            drawing?.abandon()
            drawing = nil
        }
        // A context model predicts a frame once its window's features are there (`ContextVideoWindows`); frames
        // wait for drawing until then. Every model is given the same frames, so the first one's keep the count.
        let windows = try models.map { $0.framesPerSample > 1 ? try ContextVideoWindows(model: $0, frameCount: total) : nil }
        var waitingOriginals: [Int: HostImage] = [:]
        var decoded = 0
        func record(_ m: Int, _ f: Int, _ row: [KeypointEstimate]) {
            let frameRow = row.map { models[m].toFrame($0, width: width, height: height) }
            for (j, e) in frameRow.enumerated() { xs[m][f * k + j] = e.x; ys[m][f * k + j] = e.y; ls[m][f * k + j] = e.likelihood }
            guard m == 0 else { return }
            rows = max(rows, f + 1)
            predicted[f] = true
            done += 1
            if let drawer = drawing, let original = waitingOriginals.removeValue(forKey: f) {
                do { try drawer.write(frame: original, keypoints: frameRow) } catch { drawingFailed(error) }
            }
        }
        func finishWindows(frameCount: Int) throws {
            for (m, window) in windows.enumerated() {
                for (f, row) in try window?.finish(frameCount: frameCount) ?? [] { record(m, f, row) }
            }
        }
        while true {
            let batch: FrameBatch
            do {
                guard let next = try source.next() else { break }
                batch = next
            } catch let error as VideoError {
                // A cut recording: keep every frame before the cut (both schedules deliver all of them first).
                guard case .truncated(_, let frame, _, _) = error, frame > 0, frame <= total else { throw error }
                try finishWindows(frameCount: frame)
                guard predicted[..<frame].allSatisfy({ $0 }) else { throw error }
                truncation = error
                (done, rows) = (frame, frame)  // a worker ahead of the cut may have predicted later frames
                break
            }
            if decoded == 0 { startup = Date().timeIntervalSince(start) }
            decoded += batch.count
            if drawing != nil { for (b, f) in batch.frameNumbers.enumerated() { waitingOriginals[f] = batch.originals[b] } }
            for (m, model) in models.enumerated() {
                if let window = windows[m] {
                    for (f, row) in try window.add(images: batch.images, frames: batch.frameNumbers) { record(m, f, row) }
                } else {
                    for (b, row) in try model.predict(images: batch.images, count: batch.count).enumerated() {
                        record(m, batch.frameNumbers[b], row)
                    }
                }
            }
            if firstBatch == 0, done > 0 {
                firstBatch = Date().timeIntervalSince(start)
                onFirstBatch?()
            }
            progress.update(done)
        }
        if truncation == nil { try finishWindows(frameCount: decoded) }
        source.finish()
        progress.finish()
        do { try drawing?.finish() } catch { drawingFailed(error) }
        guard done == rows else {
            throw PoseModelError(
                "\(path): predicted \(done) frames but the last was frame \(rows - 1); frames were skipped or repeated (a decoding bug, please report it)"
            )
        }
        let seconds = Date().timeIntervalSince(start)
        return try models.indices.map { m in
            let table = try PoseTable.predictions(
                scorer: scorer, keypoints: models[m].keypointNames, x: Array(xs[m].prefix(rows * k)),
                y: Array(ys[m].prefix(rows * k)), likelihood: Array(ls[m].prefix(rows * k)))
            return VideoPredictionResult(
                table: table, video: source.info, frames: done, seconds: seconds, startupSeconds: startup,
                firstBatchSeconds: firstBatch, decodeCPUSeconds: source.decodeCPUSeconds, truncation: truncation,
                labeledVideoFailure: labeledVideoFailure)
        }
    }
}
