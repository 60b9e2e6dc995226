// Video → keypoints: decoding and resizing on background threads, the network on this one.
import Foundation
import PoseData
import PoseFormats
import VideoIO

/// A batch of preprocessed video frames (and the originals when a labelled video is drawn).
struct FrameBatch: @unchecked Sendable {
    var images: [Float]
    var originals: [HostImage]
    var count: Int
}

/// Decodes (VideoIO prefetcher thread) and resizes/normalises (this pipeline's thread) ahead of the
/// consumer, so the network never waits for the decoder when it is the slower stage.
final class FrameBatchPipeline: @unchecked Sendable {
    private let condition = NSCondition()
    private var queue: [FrameBatch] = []
    private var finished = false
    private var failure: (any Error)?
    private var stopped = false
    let info: VideoInfo

    init(path: String, batchSize: Int, resizer: Augmenter, keepOriginals: Bool, capacity: Int = 3) throws {
        let prefetcher = try FramePrefetcher(path: path, output: FrameOutput(pixelFormat: .rgb24), capacity: 2 * batchSize)
        info = prefetcher.info
        let thread = Thread { [self] in
            do {
                var pending: [HostImage] = []
                func flush() {
                    guard !pending.isEmpty else { return }
                    var images: [Float] = []
                    images.reserveCapacity(pending.count * 3 * resizer.outputWidth * resizer.outputHeight)
                    for image in pending {
                        let transform = Affine2D(a: Double(resizer.outputWidth) / Double(image.width), b: 0, c: 0,
                                                 d: Double(resizer.outputHeight) / Double(image.height), tx: 0, ty: 0)
                        var planes = resizer.warp(image, transform: transform)
                        resizer.normalize(&planes)
                        images += planes
                    }
                    let batch = FrameBatch(images: images, originals: keepOriginals ? pending : [], count: pending.count)
                    pending.removeAll()
                    condition.lock()
                    while queue.count >= capacity && !stopped { condition.wait() }
                    queue.append(batch)
                    condition.broadcast()
                    condition.unlock()
                }
                while let frame = try prefetcher.next() {
                    if stopped { break }
                    pending.append(HostImage(width: frame.width, height: frame.height, channels: frame.channels, pixels: frame.pixels))
                    if pending.count == batchSize { flush() }
                }
                flush()
            } catch {
                condition.lock(); failure = error; condition.unlock()
            }
            condition.lock(); finished = true; condition.broadcast(); condition.unlock()
        }
        thread.start()
    }

    /// The next batch; nil at the end. Rethrows a decoding error.
    func next() throws -> FrameBatch? {
        condition.lock()
        defer { condition.unlock() }
        while queue.isEmpty && !finished { condition.wait() }
        if !queue.isEmpty {
            let batch = queue.removeFirst()
            condition.broadcast()
            return batch
        }
        if let failure { throw failure }
        return nil
    }

    func stop() {
        condition.lock(); stopped = true; queue.removeAll(); condition.broadcast(); condition.unlock()
    }
}

/// What `predictVideo` produced.
public struct VideoPredictionResult: Sendable {
    public var table: PoseTable
    public var frames: Int
    public var seconds: Double
    public var framesPerSecond: Double { seconds > 0 ? Double(frames) / seconds : 0 }
    /// Seconds from the call to the first batch being ready for the network.
    public var startupSeconds: Double
}

extension PoseModel {
    /// Predicts every frame of a video. With `drawer`, each frame is also drawn into a labelled video.
    public func predictVideo(path: String, scorer: String, batchSize: Int = 16, showProgress: Bool = true,
                             drawer: LabeledVideoWriter? = nil) throws -> VideoPredictionResult {
        let start = Date()
        let pipeline = try FrameBatchPipeline(path: path, batchSize: batchSize, resizer: resizer(), keepOriginals: drawer != nil)
        defer { pipeline.stop() }
        let total = pipeline.info.frameCount
        let width = pipeline.info.width, height = pipeline.info.height
        let progress = ProgressLine(label: (path as NSString).lastPathComponent, total: total, unit: "frames", enabled: showProgress)
        var xs: [Double] = [], ys: [Double] = [], ls: [Double] = []
        xs.reserveCapacity(total * keypointCount)
        var startup = 0.0
        var done = 0
        while let batch = try pipeline.next() {
            if done == 0 { startup = Date().timeIntervalSince(start) }
            let estimates = try predict(images: batch.images, count: batch.count)
            for (b, row) in estimates.enumerated() {
                let frameRow = row.map { toFrame($0, width: width, height: height) }
                for e in frameRow { xs.append(e.x); ys.append(e.y); ls.append(e.likelihood) }
                if let drawer { try drawer.write(frame: batch.originals[b], keypoints: frameRow) }
            }
            done += batch.count
            progress.update(done: done)
        }
        progress.finish()
        try drawer?.finish()
        let table = try PoseTable.predictions(scorer: scorer, keypoints: keypointNames, x: xs, y: ys, likelihood: ls)
        return VideoPredictionResult(table: table, frames: done, seconds: Date().timeIntervalSince(start), startupSeconds: startup)
    }
}
