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
        let start = Date()
        let source = try frameBatches(
            path: path, batchSize: batchSize, keepOriginals: drawer != nil,
            decode: decode, frameLimit: frameLimit)
        defer { source.stop() }
        let total = min(source.info.frameCount, frameLimit ?? Int.max)
        let width = source.info.width, height = source.info.height
        let progress = ProgressLine(label: (path as NSString).lastPathComponent, total: total, unit: "frames", enabled: showProgress)
        // Batches may hold frames of several segments: results go to their frame's row.
        let k = keypointCount
        var xs = [Double](repeating: .nan, count: total * k), ys = xs, ls = xs
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
        // The context model predicts a frame once its window's features are there (`ContextVideoWindows`); frames
        // wait for drawing until then.
        let windows = framesPerSample > 1 ? try ContextVideoWindows(model: self, frameCount: total) : nil
        var waitingOriginals: [Int: HostImage] = [:]
        var decoded = 0
        func record(_ f: Int, _ row: [KeypointEstimate]) {
            let frameRow = row.map { toFrame($0, width: width, height: height) }
            for (j, e) in frameRow.enumerated() { xs[f * k + j] = e.x; ys[f * k + j] = e.y; ls[f * k + j] = e.likelihood }
            rows = max(rows, f + 1)
            predicted[f] = true
            done += 1
            if let drawer = drawing, let original = waitingOriginals.removeValue(forKey: f) {
                do { try drawer.write(frame: original, keypoints: frameRow) } catch { drawingFailed(error) }
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
                for (f, row) in try windows?.finish(frameCount: frame) ?? [] { record(f, row) }
                guard predicted[..<frame].allSatisfy({ $0 }) else { throw error }
                truncation = error
                (done, rows) = (frame, frame)  // a worker ahead of the cut may have predicted later frames
                break
            }
            if decoded == 0 { startup = Date().timeIntervalSince(start) }
            decoded += batch.count
            if drawing != nil { for (b, f) in batch.frameNumbers.enumerated() { waitingOriginals[f] = batch.originals[b] } }
            if let windows {
                for (f, row) in try windows.add(images: batch.images, frames: batch.frameNumbers) { record(f, row) }
            } else {
                for (b, row) in try predict(images: batch.images, count: batch.count).enumerated() { record(batch.frameNumbers[b], row) }
            }
            if firstBatch == 0, done > 0 {
                firstBatch = Date().timeIntervalSince(start)
                onFirstBatch?()
            }
            progress.update(done)
        }
        if truncation == nil, let windows {
            for (f, row) in try windows.finish(frameCount: decoded) { record(f, row) }
        }
        source.finish()
        progress.finish()
        do { try drawing?.finish() } catch { drawingFailed(error) }
        guard done == rows else {
            throw PoseModelError(
                "\(path): predicted \(done) frames but the last was frame \(rows - 1); frames were skipped or repeated (a decoding bug, please report it)"
            )
        }
        let table = try PoseTable.predictions(
            scorer: scorer, keypoints: keypointNames, x: Array(xs.prefix(rows * k)),
            y: Array(ys.prefix(rows * k)), likelihood: Array(ls.prefix(rows * k)))
        return VideoPredictionResult(
            table: table, video: source.info, frames: done, seconds: Date().timeIntervalSince(start), startupSeconds: startup,
            firstBatchSeconds: firstBatch, decodeCPUSeconds: source.decodeCPUSeconds, truncation: truncation,
            labeledVideoFailure: labeledVideoFailure)
    }
}
