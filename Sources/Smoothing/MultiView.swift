// Linear multi-view EKS (§3, §4, §5.2): views stacked per keypoint, a PCA latent of dimension 3
// as the state, random-walk dynamics with a covariance estimated from good frames.
import Foundation

// MARK: - Shared preparation

/// Ensemble statistics, good frames and centring of a multi-view ensemble (§2–§3).
struct MultiViewPreparation: Sendable {
    let views: Int
    let frames: Int
    /// `stats[v][k]`
    let stats: [[EnsembleStatistics]]
    /// Good frames per keypoint (untruncated), ascending.
    let good: [[Int]]
    /// Good frames truncated to the smallest good count over keypoints.
    let truncated: [[Int]]
    /// Offsets `offsets[k][2v + c]` (c = 0 for x, 1 for y).
    let offsets: [[Double]]

    init(views members: [EnsembleMembers], options: SmoothingOptions) throws {
        guard let first = members.first else { throw SmoothingError("no camera views were given") }
        let V = members.count, T = first.frames, K = first.keypoints.count
        for (v, m) in members.enumerated() where m.frames != T || m.keypoints != first.keypoints {
            throw SmoothingError(
                "view \(v) has \(m.frames) frames and keypoints \(m.keypoints); view 0 has \(T) frames and \(first.keypoints); every view must have the same frames and keypoints"
            )
        }
        guard T > 0 else { throw SmoothingError("the predictions have no frames") }
        views = V; frames = T
        let flat = mapKeypoints(V * K, parallel: options.parallel) { i in
            EnsembleStatistics(members: members[i / K], keypoint: i % K, averaging: options.averaging, variance: options.variance)
        }
        stats = (0..<V).map { v in Array(flat[(v * K)..<((v + 1) * K)]) }
        var good: [[Int]] = []
        for k in 0..<K {
            let w = (0..<T).map { t in (0..<V).map { max(flat[$0 * K + k].xVariance[t], flat[$0 * K + k].yVariance[t]) }.max() ?? 0 }
            let threshold = Stats.percentile(w, options.quantileKeepPCA)
            good.append((0..<T).filter { w[$0] <= threshold })
        }
        let nMin = good.map(\.count).min() ?? 0
        guard nMin >= 2 else {
            throw SmoothingError("too few good frames (\(nMin)) for the PCA; raise --quantile-keep-pca or check for NaN predictions")
        }
        self.good = good
        truncated = good.map { Array($0.prefix(nMin)) }
        offsets = (0..<K).map { k in
            (0..<(2 * V)).map { j in
                let s = flat[(j / 2) * K + k]
                let series = j % 2 == 0 ? s.x : s.y
                return good[k].prefix(nMin).reduce(0.0) { $0 + series[$1] } / Double(nMin)
            }
        }
    }

    /// Stacked centred observations (T × 2V) and raw variances (T × 2V) of keypoint k.
    func stacked(keypoint k: Int, centred: Bool = true) -> (x: [Double], u: [Double]) {
        let p = 2 * views
        var x = [Double](repeating: 0, count: frames * p), u = x
        for v in 0..<views {
            let s = stats[v][k]
            let ox = centred ? offsets[k][2 * v] : 0, oy = centred ? offsets[k][2 * v + 1] : 0
            for t in 0..<frames {
                x[t * p + 2 * v] = s.x[t] - ox
                x[t * p + 2 * v + 1] = s.y[t] - oy
                u[t * p + 2 * v] = s.xVariance[t]
                u[t * p + 2 * v + 1] = s.yVariance[t]
            }
        }
        return (x, u)
    }
}

extension EnsembleKalmanSmoother {

    // MARK: - Linear multi-view

    /// Smooths a multi-view ensemble with the linear PCA model (`fit_eks_multicam` without
    /// calibration, and `fit_eks_mirrored_multicam`). `views[v]` holds camera v's members.
    public static func multiView(
        _ views: [EnsembleMembers], viewNames: [String],
        options: SmoothingOptions = SmoothingOptions()
    ) throws -> SmoothingResult {
        guard views.count >= 2 else {
            throw SmoothingError("multi-view smoothing needs at least 2 camera views (got \(views.count)); use singlecam for one view")
        }
        let prep = try MultiViewPreparation(views: views, options: options)
        let V = prep.views, T = prep.frames, K = views[0].keypoints.count, p = 2 * V, d = options.latentDimension
        guard d >= 1, d <= p else { throw SmoothingError("--n-latent must be between 1 and \(p) for \(V) views; got \(d)") }
        // Per keypoint: inflation, PCA, model.
        let built: [(StateSpaceModel, [Double], [Double])] = try mapKeypoints(K, parallel: options.parallel) { k in
            Result { try linearModel(prep: prep, keypoint: k, latent: d, inflate: options.inflateVariances) }
        }.map { try $0.get() }
        let models = built.map(\.0), ys = built.map(\.1), us = built.map(\.2)
        let (sValues, iterations) = try chooseSmoothingParameters(models: models, ys: ys, rs: us, options: options, blocks: [])
        let perKeypoint: [[SmoothedTrack]] = mapKeypoints(K, parallel: options.parallel) { k in
            let model = models[k], u = us[k]
            let sm = kalmanSmooth(model.scalingNoise(sValues[k]), observations: ys[k], variances: u)
            return (0..<V).map { v in
                let st = prep.stats[v][k]
                var track = SmoothedTrack(
                    x: [], y: [], likelihood: st.likelihood, xEnsembleMedian: st.x, yEnsembleMedian: st.y,
                    xEnsembleVariance: (0..<T).map { u[$0 * p + 2 * v] },
                    yEnsembleVariance: (0..<T).map { u[$0 * p + 2 * v + 1] },
                    xPosteriorVariance: [], yPosteriorVariance: [])
                var xs = [Double](repeating: 0, count: T), ys = xs, vx = xs, vy = xs
                for t in 0..<T {
                    for (c, j) in [2 * v, 2 * v + 1].enumerated() {
                        var mean = 0.0, variance = 0.0
                        for a in 0..<d {
                            mean += model.C[j * d + a] * sm.means[t * d + a]
                            for b in 0..<d { variance += model.C[j * d + a] * sm.covariances[t * d * d + a * d + b] * model.C[j * d + b] }
                        }
                        if c == 0 {
                            xs[t] = mean + prep.offsets[k][j]; vx[t] = variance + u[t * p + j]
                        } else {
                            ys[t] = mean + prep.offsets[k][j]; vy[t] = variance + u[t * p + j]
                        }
                    }
                }
                track.x = xs; track.y = ys; track.xPosteriorVariance = vx; track.yPosteriorVariance = vy
                return track
            }
        }
        let tracks = (0..<V).map { v in perKeypoint.map { $0[v] } }
        return SmoothingResult(
            keypoints: views[0].keypoints, views: viewNames, tracks: tracks,
            smoothingParameters: sValues, iterations: iterations)
    }

    /// Inflated variances, PCA observation matrix and random-walk model of one keypoint.
    static func linearModel(
        prep: MultiViewPreparation, keypoint k: Int, latent d: Int,
        inflate: Bool
    ) throws -> (StateSpaceModel, [Double], [Double]) {
        let T = prep.frames, p = 2 * prep.views
        var (x, u) = prep.stacked(keypoint: k)
        if inflate { u = inflateVariances(x: x, u: u, frames: T, views: prep.views, latent: d) }
        // PCA on the truncated good frames.
        let rows = prep.truncated[k]
        var mean = [Double](repeating: 0, count: p)
        for t in rows { for j in 0..<p { mean[j] += x[t * p + j] } }
        for j in 0..<p { mean[j] /= Double(rows.count) }
        var cov = [Double](repeating: 0, count: p * p)
        for t in rows { for a in 0..<p { for b in 0..<p { cov[a * p + b] += (x[t * p + a] - mean[a]) * (x[t * p + b] - mean[b]) } } }
        guard cov.allSatisfy(\.isFinite) else {
            throw SmoothingError("keypoint \(k): NaN ensemble medians among the PCA frames; all members are missing there")
        }
        let (_, vectors) = SmallMatrix.symmetricEigen(cov, p)
        var C = [Double](repeating: 0, count: p * d)
        for j in 0..<p { for a in 0..<d { C[j * d + a] = vectors[j * p + a] } }
        // PC scores of the good frames: initial covariance and the normalised step covariance.
        let good = prep.good[k]
        var scores = [Double](repeating: 0, count: good.count * d)
        for (i, t) in good.enumerated() {
            for a in 0..<d { scores[i * d + a] = (0..<p).reduce(0.0) { $0 + (x[t * p + $1] - mean[$1]) * C[$1 * d + a] } }
        }
        var S0 = [Double](repeating: 0, count: d * d)
        for a in 0..<d { S0[a * d + a] = Stats.variance((0..<good.count).map { scores[$0 * d + a] }) }
        let n = good.count - 1
        var deltas = [Double](repeating: 0, count: n * d)
        for i in 0..<n { for a in 0..<d { deltas[i * d + a] = scores[(i + 1) * d + a] - scores[i * d + a] } }
        var dMean = [Double](repeating: 0, count: d)
        for i in 0..<n { for a in 0..<d { dMean[a] += deltas[i * d + a] } }
        for a in 0..<d { dMean[a] /= Double(n) }
        var Q = [Double](repeating: 0, count: d * d)
        for i in 0..<n {
            for a in 0..<d { for b in 0..<d { Q[a * d + b] += (deltas[i * d + a] - dMean[a]) * (deltas[i * d + b] - dMean[b]) } }
        }
        for i in 0..<(d * d) { Q[i] /= Double(max(n - 1, 1)) }
        let qMax = Q.map(abs).max() ?? 0
        if qMax > 0 { Q = Q.map { $0 / qMax } }
        var A = [Double](repeating: 0, count: d * d)
        for a in 0..<d { A[a * d + a] = 1 }
        let model = StateSpaceModel(d: d, p: p, A: A, C: C, Q: Q, m0: [Double](repeating: 0, count: d), S0: S0)
        return (model, x, u)
    }
}
