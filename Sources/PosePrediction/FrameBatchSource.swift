// Where prediction batches come from: the common face of the two decode schedules, and the choice
// between them.
import Foundation
import PoseData
import PoseModels
import Torch
import VideoIO

/// A batch of preprocessed video frames: `3 × H × W` floats per frame, the frame numbers they came
/// from (consecutive, or from several segments of the video), and the originals when a labelled
/// video is drawn.
public struct FrameBatch: @unchecked Sendable {
    /// `count × 3 × H × W` normalised floats, the network's input.
    public var images: [Float]
    /// The decoded frames, when asked for (labelled videos); else empty.
    public var originals: [HostImage]
    /// The frame each image came from.
    public var frameNumbers: [Int]
    public var count: Int { frameNumbers.count }
}

/// Where prediction batches come from (see `DecodeSchedule`).
public protocol FrameBatchSource: AnyObject {
    var info: VideoInfo { get }
    /// The next batch; nil after the last. Rethrows a decoding error.
    func next() throws -> FrameBatch?
    /// Waits for decoding to end, after `next()` returned nil.
    func finish()
    /// Stops early (an error in the consumer); idempotent.
    func stop()
    /// CPU seconds spent decoding, converting and resizing; valid after `finish()`.
    var decodeCPUSeconds: Double { get }
}

extension PoseModel {
    /// A video's frames decoded, resized and normalised for this model, in batches, by the schedule of
    /// `decode` (what `predictVideo` runs on). With `keepOriginals` (a labelled video needs frames in
    /// order) the `between` schedule uses one thread; `frameLimit` stops after the first frames.
    public func frameBatches(
        path: String, batchSize: Int, keepOriginals: Bool, decode: DecodeSettings,
        frameLimit: Int?
    ) throws -> any FrameBatchSource {
        switch decode.schedule.resolved {
        case .between:
            return try SegmentedFrameDecoder(
                path: path, batchSize: batchSize, outputWidth: config.resizeWidth,
                outputHeight: config.resizeHeight, keepOriginals: keepOriginals,
                workers: keepOriginals ? 1 : Runtime.threads, fillGaps: decode.fillGaps,
                frameLimit: frameLimit)
        case .ahead, .automatic:
            return try FrameBatchPipeline(
                path: path, batchSize: batchSize, outputWidth: config.resizeWidth,
                outputHeight: config.resizeHeight, keepOriginals: keepOriginals,
                settings: decode, frameLimit: frameLimit)
        }
    }
}
