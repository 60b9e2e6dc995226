// The context model over a video: the backbone runs once per decoded frame and its features are tiled into the
// windows t−2…t+2 of every frame (no 5× recompute), in whatever order the decode schedule delivers frames.
import Foundation
import PoseData
import PoseModels
import Torch

/// Predicts a video's frames with a context model as their features become available.
///
/// Each decoded frame's backbone features are kept until every window that reads them has been predicted; a frame
/// is predicted as soon as the features of its window are there. Edges: the window is clamped to the video, so
/// frame 0 reads frames 0, 0, 0, 1, 2 and the last frame L reads L−2, L−1, L, L, L — the same rule as LP's labelled
/// frames near a video's start (negative indices become 0), which the model trains on. (LP's video prediction
/// instead copies frame 2's prediction into frames 0 and 1, and frame L−2's into L−1 and L.)
public final class ContextVideoWindows {
    public let model: PoseModel
    let network: ContextPoseNetwork
    /// The last frame index windows are clamped to.
    private var lastFrame: Int
    private var features: [Int: Tensor] = [:]
    private var predicted: [Bool]

    /// For a video of `frameCount` frames (or the first `frameCount` of one).
    public init(model: PoseModel, frameCount: Int) throws {
        guard let network = model.network as? ContextPoseNetwork else {
            throw PoseModelError("ContextVideoWindows needs a context model (model.model_type heatmap_mhcrnn)")
        }
        (self.model, self.network) = (model, network)
        lastFrame = frameCount - 1
        predicted = [Bool](repeating: false, count: Swift.max(0, frameCount))
    }

    /// Frames whose features are held (at most a few batches' worth in order).
    public var heldFrames: Int { features.count }

    /// The clamped window of frame `centre`.
    public static func window(of centre: Int, lastFrame: Int) -> [Int] {
        ContextFrames.offsets.map { Swift.min(Swift.max(centre + $0, 0), lastFrame) }
    }

    /// Adds decoded frames (`images`: normalised `3 × H × W` planes, one per entry of `frames`) and returns the
    /// frames that can now be predicted, in frame order, with their model-pixel keypoints.
    public func add(images: [Float], frames: [Int]) throws -> [(frame: Int, keypoints: [KeypointEstimate])] {
        guard !frames.isEmpty else { return [] }
        let c = model.config
        // One upload per decoded batch; the features stay on the model's device until their windows are predicted.
        let batch = try withNoGrad {
            let uploaded = try model.upload(images, shape: [frames.count, 3, c.resizeHeight, c.resizeWidth])
            return try model.autocast { try network.frameNetwork.features(uploaded, training: false) }
        }
        for (i, frame) in frames.enumerated() where frame <= lastFrame { features[frame] = try batch.select(0, i) }
        var candidates = Set<Int>()
        for frame in frames {
            for centre in (frame - 2)...(frame + 2) where centre >= 0 && centre <= lastFrame && !predicted[centre] {
                candidates.insert(centre)
            }
        }
        let ready = candidates.filter { Self.window(of: $0, lastFrame: lastFrame).allSatisfy { features[$0] != nil } }
        return try predict(ready.sorted())
    }

    /// Predicts what is left once decoding has ended after `frameCount` frames (fewer than announced when a
    /// recording is cut off: windows are then clamped to the last decoded frame).
    public func finish(frameCount: Int) throws -> [(frame: Int, keypoints: [KeypointEstimate])] {
        lastFrame = Swift.min(lastFrame, frameCount - 1)
        let ready = (0..<Swift.max(0, frameCount)).filter {
            !predicted[$0] && Self.window(of: $0, lastFrame: lastFrame).allSatisfy { features[$0] != nil }
        }
        defer { features.removeAll() }
        return try predict(ready)
    }

    private func predict(_ centres: [Int]) throws -> [(frame: Int, keypoints: [KeypointEstimate])] {
        guard !centres.isEmpty else { return [] }
        let windows = centres.map { Self.window(of: $0, lastFrame: lastFrame) }
        let used = Array(Set(windows.joined())).sorted()
        let row = Dictionary(uniqueKeysWithValues: used.enumerated().map { ($1, $0) })
        let estimates = try withNoGrad {
            let stacked = try stack(used.map { features[$0]! }, dim: 0)
            let heads = try model.autocast {
                try network.heads(features: stacked, windows: windows.map { $0.map { row[$0]! } }, training: false)
            }
            // One download: both heads' maps of every ready frame.
            return try model.readout(cat([heads.single, heads.context], dim: 0).to(.float32), count: centres.count)
        }
        for centre in centres { predicted[centre] = true }
        // A frame's features are needed until the frames whose windows read it (centre ± 2) are predicted.
        for frame in Array(features.keys) {
            let first = Swift.max(0, frame - 2), last = Swift.min(lastFrame, frame + 2)
            if first > last || (first...last).allSatisfy({ predicted[$0] }) { features[frame] = nil }
        }
        return Array(zip(centres, estimates)).map { (frame: $0.0, keypoints: $0.1) }
    }
}
