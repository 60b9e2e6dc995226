// Predictions of the held-out sessions against their ground truth (`kinema bench semi`'s figures).
import Foundation
import PoseFormats

/// Error figures of predicted videos against the truth `SyntheticSessionsProject` wrote, pooled over every video,
/// frame and keypoint column whose true point lies on its view (those behind occluders included).
public struct HeldOutScore: Sendable, Equatable, Codable {
    /// Keypoint-frames scored, and how many of them were behind an occluder.
    public var keypointFrames = 0
    public var hiddenKeypointFrames = 0
    /// Euclidean distance from the truth, frame pixels.
    public var meanError = Double.nan
    /// The 95th percentile of the distance (numpy's linear interpolation).
    public var p95Error = Double.nan
    /// The error threshold (pixels) and the share of keypoint-frames beyond it (0…1).
    public var threshold = Double.nan
    public var fractionOver = Double.nan
    /// The mean error of the keypoint-frames behind an occluder.
    public var hiddenMeanError = Double.nan
    /// LP's temporal norm ‖p_t − p_{t−1}‖ of the prediction, averaged over keypoints and frames t ≥ 1 of each video.
    public var temporalNorm = Double.nan

    public init() {}

    /// Scores each video's prediction against its truth (same frames, in order; `file` names the prediction in
    /// errors). Keypoints are matched by name; a truth with empty x, y (off its view) is not scored; likelihood 0 in
    /// the truth marks a point behind an occluder.
    public static func score(_ videos: [(prediction: PoseTable, truth: PoseTable, file: String)], threshold: Double) throws -> HeldOutScore
    {
        var errors: [Double] = [], hidden: [Double] = [], steps: [Double] = []
        for (prediction, truth, file) in videos {
            guard prediction.rowCount == truth.rowCount else {
                throw PoseDataError(
                    file: file, message: "has \(prediction.rowCount) frames where its ground truth has \(truth.rowCount)",
                    hint: "predict the whole held-out video")
            }
            guard let px = prediction.coordIndex("x"), let py = prediction.coordIndex("y"), let tx = truth.coordIndex("x"),
                let ty = truth.coordIndex("y")
            else { throw PoseDataError(file: file, message: "the prediction or its ground truth has no x and y columns") }
            let likelihood = truth.coordIndex("likelihood")
            for (tk, name) in truth.keypoints.enumerated() {
                guard let pk = prediction.keypointIndex(name) else {
                    throw PoseDataError(file: file, message: "has no column \(name)", hint: "predict with a model of this project")
                }
                for r in 0..<truth.rowCount {
                    let x = truth.value(row: r, keypoint: tk, coord: tx), y = truth.value(row: r, keypoint: tk, coord: ty)
                    guard x.isFinite, y.isFinite else { continue }
                    let e = hypot(
                        prediction.value(row: r, keypoint: pk, coord: px) - x, prediction.value(row: r, keypoint: pk, coord: py) - y)
                    errors.append(e)
                    if let likelihood, truth.value(row: r, keypoint: tk, coord: likelihood) == 0 { hidden.append(e) }
                }
            }
            for k in prediction.keypoints.indices where truth.keypointIndex(prediction.keypoints[k]) != nil {
                for r in stride(from: 1, to: prediction.rowCount, by: 1) {
                    let step = hypot(
                        prediction.value(row: r, keypoint: k, coord: px) - prediction.value(row: r - 1, keypoint: k, coord: px),
                        prediction.value(row: r, keypoint: k, coord: py) - prediction.value(row: r - 1, keypoint: k, coord: py))
                    if step.isFinite { steps.append(step) }
                }
            }
        }
        var score = HeldOutScore()
        score.keypointFrames = errors.count
        score.hiddenKeypointFrames = hidden.count
        score.threshold = threshold
        guard !errors.isEmpty else { return score }
        score.meanError = errors.reduce(0, +) / Double(errors.count)
        score.p95Error = percentile(errors.sorted(), 95)
        score.fractionOver = Double(errors.filter { $0 > threshold }.count) / Double(errors.count)
        if !hidden.isEmpty { score.hiddenMeanError = hidden.reduce(0, +) / Double(hidden.count) }
        if !steps.isEmpty { score.temporalNorm = steps.reduce(0, +) / Double(steps.count) }
        return score
    }

    /// The q-th percentile of sorted values, numpy's default (linear interpolation between closest ranks); NaN for
    /// none.
    public static func percentile(_ sorted: [Double], _ q: Double) -> Double {
        guard !sorted.isEmpty else { return .nan }
        let position = q / 100 * Double(sorted.count - 1)
        let below = Int(position.rounded(.down)), above = min(sorted.count - 1, below + 1)
        return sorted[below] + (sorted[above] - sorted[below]) * (position - Double(below))
    }
}
