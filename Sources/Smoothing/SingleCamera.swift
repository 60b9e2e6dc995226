// Single-camera EKS (§5.1): per keypoint a 2-D random walk observed through the ensemble median.
import Foundation

/// The EKS smoothers; each mode is a static function taking in-memory ensembles.
public enum EnsembleKalmanSmoother {

    // MARK: - Single camera

    /// Smooths every keypoint of a single-camera ensemble (`fit_eks_singlecam`).
    public static func singleCamera(_ members: EnsembleMembers, options: SmoothingOptions = SmoothingOptions()) throws -> SmoothingResult {
        let K = members.keypoints.count, T = members.frames
        guard T > 0 else { throw SmoothingError("the predictions have no frames") }
        let stats = mapKeypoints(K, parallel: options.parallel) { k in
            EnsembleStatistics(members: members, keypoint: k, averaging: options.averaging, variance: options.variance)
        }
        // Centre on the mean over all frames (q = 100 keeps every frame), build the 2-D models.
        var models: [StateSpaceModel] = [], ys: [[Double]] = [], rs: [[Double]] = []
        var offsets: [(Double, Double)] = []
        for st in stats {
            let ox = Stats.nanMean(st.x), oy = Stats.nanMean(st.y)
            offsets.append((ox, oy))
            var y = [Double](repeating: 0, count: 2 * T), r = y
            for t in 0..<T {
                y[2 * t] = st.x[t] - ox; y[2 * t + 1] = st.y[t] - oy
                r[2 * t] = st.xVariance[t]; r[2 * t + 1] = st.yVariance[t]
            }
            let cx = stride(from: 0, to: 2 * T, by: 2).map { y[$0] }, cy = stride(from: 1, to: 2 * T, by: 2).map { y[$0] }
            let s0 = [Stats.nanVariance(cx), 0, 0, Stats.nanVariance(cy)]
            models.append(
                StateSpaceModel(
                    d: 2, p: 2, A: [1, 0, 0, 1], C: [1, 0, 0, 1], Q: [1, 0, 0, 1],
                    m0: [0, 0], S0: s0))
            ys.append(y); rs.append(r)
        }
        let (sValues, iterations) = try chooseSmoothingParameters(
            models: models, ys: ys, rs: rs, options: options,
            blocks: options.blocks)
        let (finalModels, finalYs, finalRs, finalOffsets) = (models, ys, rs, offsets)
        let tracks: [SmoothedTrack] = mapKeypoints(K, parallel: options.parallel) { k in
            let sm = kalmanSmooth(finalModels[k].scalingNoise(sValues[k]), observations: finalYs[k], variances: finalRs[k])
            let st = stats[k], offset = finalOffsets[k]
            var track = SmoothedTrack(
                x: [], y: [], likelihood: st.likelihood, xEnsembleMedian: st.x, yEnsembleMedian: st.y,
                xEnsembleVariance: st.xVariance, yEnsembleVariance: st.yVariance,
                xPosteriorVariance: [], yPosteriorVariance: [])
            track.x = (0..<T).map { sm.means[2 * $0] + offset.0 }
            track.y = (0..<T).map { sm.means[2 * $0 + 1] + offset.1 }
            track.xPosteriorVariance = (0..<T).map { sm.covariances[4 * $0] }
            track.yPosteriorVariance = (0..<T).map { sm.covariances[4 * $0 + 3] }
            return track
        }
        return SmoothingResult(
            keypoints: members.keypoints, views: [""], tracks: [tracks],
            smoothingParameters: sValues, iterations: iterations)
    }

    // MARK: - Smoothing parameters (shared by the random-walk modes)

    /// Fixed values (one, or one per keypoint) or the automatic search per keypoint / block.
    static func chooseSmoothingParameters(
        models: [StateSpaceModel], ys: [[Double]], rs: [[Double]],
        options: SmoothingOptions, blocks: [[Int]]
    ) throws -> ([Double], [Int]) {
        let K = models.count
        switch options.smoothing {
        case .fixed(let values):
            guard values.count == 1 || values.count == K else {
                throw SmoothingError("--s takes one value or one per keypoint (\(K)); got \(values.count)")
            }
            guard values.allSatisfy({ $0 > 0 && $0.isFinite }) else {
                throw SmoothingError("smoothing parameters must be positive and finite; got \(values)")
            }
            return (values.count == 1 ? Array(repeating: values[0], count: K) : values, Array(repeating: 0, count: K))
        case .automatic(let ranges):
            let groups = blocks.isEmpty ? (0..<K).map { [$0] } : blocks
            let covered = Set(groups.flatMap { $0 })
            guard groups.flatMap({ $0 }).allSatisfy({ $0 >= 0 && $0 < K }) else {
                throw SmoothingError("blocks name keypoint indices outside 0..<\(K): \(blocks)")
            }
            guard covered.count == K else {
                let missing = (0..<K).filter { !covered.contains($0) }
                throw SmoothingError("keypoints \(missing) are in no block; with --blocks every keypoint must be in one")
            }
            let guesses = (0..<K).map { initialSmoothingGuess(variances: rs[$0], p: models[$0].p) }
            let parallel = options.parallel
            let counter = ProgressCounter(total: groups.count, report: options.progress)
            let results = mapKeypoints(groups.count, parallel: parallel) { g in
                defer { counter.step() }
                let members = groups[g]
                let T = ys[members[0]].count / models[members[0]].p
                let frames = ranges.map { FrameRange.frames($0, count: T) }
                let guess = members.map { guesses[$0] }.reduce(0, +) / Double(members.count)
                return searchSmoothingParameter(
                    models: members.map { models[$0] }, observations: members.map { ys[$0] },
                    variances: members.map { rs[$0] }, lossFrames: frames, guess: guess)
            }
            var s = [Double](repeating: .nan, count: K), iters = [Int](repeating: 0, count: K)
            for (g, members) in groups.enumerated() {
                for k in members { s[k] = results[g].s; iters[k] = results[g].iterations }
            }
            return (s, iters)
        }
    }
}

/// Thread-safe completion counter for progress reports.
final class ProgressCounter: @unchecked Sendable {
    private let lock = NSLock()
    private var done = 0
    let total: Int
    let report: (@Sendable (Int, Int) -> Void)?
    init(total: Int, report: (@Sendable (Int, Int) -> Void)?) { self.total = total; self.report = report }
    func step() {
        lock.lock(); done += 1; let d = done; lock.unlock()
        report?(d, total)
    }
}
