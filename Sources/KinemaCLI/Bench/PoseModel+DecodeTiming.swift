// `kinema bench predict`'s decode-only timing: the prediction pipeline without the network.
import Foundation
import PoseModels
import PosePrediction

/// Decoding, RGB conversion and resizing alone, through the prediction pipeline.
struct DecodeTiming: Sendable {
    var frames: Int
    var seconds: Double
    /// CPU seconds spent decoding, converting and resizing (all threads that did it).
    var cpuSeconds: Double
}

extension PoseModel {
    /// Runs the prediction pipeline without the network (for `kinema bench predict`).
    func timeDecoding(
        path: String, batchSize: Int = 16, decode: DecodeSettings = DecodeSettings(),
        frameLimit: Int? = nil
    ) throws -> DecodeTiming {
        let start = Date()
        let source = try frameBatches(path: path, batchSize: batchSize, keepOriginals: false, decode: decode, frameLimit: frameLimit)
        defer { source.stop() }
        var frames = 0
        while let batch = try source.next() { frames += batch.count }
        source.finish()
        return DecodeTiming(frames: frames, seconds: Date().timeIntervalSince(start), cpuSeconds: source.decodeCPUSeconds)
    }
}
