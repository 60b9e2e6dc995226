// Ensemble Kalman smoothing in memory: three noisy trackers of one keypoint on a circle, smoothed with the
// smoothing parameter chosen automatically; prints the error against the truth before and after.
import Foundation
import Smoothing

let frames = 400, members = 3
let truthX: [Double] = (0..<frames).map { t in 100 + 40 * cos(Double(t) / 30) }
let truthY: [Double] = (0..<frames).map { t in 100 + 40 * sin(Double(t) / 30) }

// Tracker noise from a fixed-seed generator, so every run prints the same numbers.
struct Noise {
    var state: UInt64 = 42
    mutating func next() -> Double {
        state = state &* 6_364_136_223_846_793_005 &+ 1_442_695_040_888_963_407
        return Double(state >> 11) / Double(1 << 53) * 8 - 4  // uniform in [-4, 4) px
    }
}
var noise = Noise()

// values[((member * frames + t) * keypoints + k) * 3 + c] with c = x, y, likelihood (one keypoint here)
var values = [Double](repeating: 0, count: members * frames * 3)
for m in 0..<members {
    for t in 0..<frames {
        let i = (m * frames + t) * 3
        values[i] = truthX[t] + noise.next()
        values[i + 1] = truthY[t] + noise.next()
        values[i + 2] = 0.9
    }
}
let ensemble = try EnsembleMembers(keypoints: ["paw"], frames: frames, memberCount: members, values: values)
let result = try EnsembleKalmanSmoother.singleCamera(ensemble)
let track = result.tracks[0][0]

func rmse(_ xs: [Double], _ ys: [Double]) -> Double {
    var sum = 0.0
    for t in 0..<frames {
        let dx: Double = xs[t] - truthX[t]
        let dy: Double = ys[t] - truthY[t]
        sum += dx * dx + dy * dy
    }
    return (sum / Double(frames)).squareRoot()
}
let oneX = (0..<frames).map { values[$0 * 3] }, oneY = (0..<frames).map { values[$0 * 3 + 1] }
print(
    String(
        format: "one tracker: %.2f px, ensemble median: %.2f px, smoothed: %.2f px (s = %.3g)",
        rmse(oneX, oneY), rmse(track.xEnsembleMedian, track.yEnsembleMedian), rmse(track.x, track.y),
        result.smoothingParameters[0]))
