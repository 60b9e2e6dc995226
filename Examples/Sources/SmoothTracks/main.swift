// Ensemble Kalman smoothing in memory: three noisy trackers of one keypoint on a circle, smoothed with the
// smoothing parameter chosen automatically; prints the error against the truth before and after.
import Foundation
import Smoothing

let frames = 400, members = 3
var generator = SystemRandomNumberGenerator()
func noise() -> Double { Double.random(in: -4...4, using: &generator) }
let truth = (0..<frames).map { t in (100 + 40 * cos(Double(t) / 30), 100 + 40 * sin(Double(t) / 30)) }
// values[((member * frames + t) * keypoints + k) * 3 + c], c = x, y, likelihood
var values = [Double](repeating: 0, count: members * frames * 3)
for m in 0..<members {
    for t in 0..<frames {
        let i = (m * frames + t) * 3
        values[i] = truth[t].0 + noise()
        values[i + 1] = truth[t].1 + noise()
        values[i + 2] = 0.9
    }
}
let ensemble = try EnsembleMembers(keypoints: ["paw"], frames: frames, memberCount: members, values: values)
let result = try EnsembleKalmanSmoother.singleCamera(ensemble)
let track = result.tracks[0][0]
func rmse(_ xs: [Double], _ ys: [Double]) -> Double {
    (zip(zip(xs, ys), truth).map { p, q in pow(p.0 - q.0, 2) + pow(p.1 - q.1, 2) }.reduce(0, +) / Double(frames)).squareRoot()
}
let first = (0..<frames).map { values[$0 * 3] }, firstY = (0..<frames).map { values[$0 * 3 + 1] }
print(String(format: "one tracker: %.2f px, ensemble median: %.2f px, smoothed: %.2f px (s = %.3g)",
             rmse(first, firstY), rmse(track.xEnsembleMedian, track.yEnsembleMedian), rmse(track.x, track.y),
             result.smoothingParameters[0]))
