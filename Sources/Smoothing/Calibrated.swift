// Calibrated multi-camera EKS (§5.3): the state is the 3-D point, observed through each camera's
// nonlinear projection (extended Kalman smoother), initialised from per-member triangulation.
import Foundation

extension EnsembleKalmanSmoother {

    // MARK: - Calibrated multi-camera

    /// Smooths a multi-camera ensemble with an anipose calibration (`fit_eks_multicam(calibration=…)`).
    /// `views[c]` holds the members of `calibration.cameras[c]`; member m of every view must come
    /// from the same model (they are triangulated together).
    public static func calibrated(
        _ views: [EnsembleMembers], calibration: CameraCalibration,
        options: SmoothingOptions = SmoothingOptions()
    ) throws -> SmoothingResult {
        let cams = calibration.cameras
        guard views.count == cams.count else {
            throw SmoothingError(
                "the calibration has \(cams.count) cameras (\(cams.map(\.name).joined(separator: ", "))) but \(views.count) views of predictions were given"
            )
        }
        guard cams.count >= 2 else { throw SmoothingError("calibrated smoothing needs at least 2 cameras") }
        let M = views[0].memberCount
        for (c, v) in views.enumerated() where v.memberCount != M {
            throw SmoothingError(
                "camera '\(cams[c].name)' has \(v.memberCount) prediction files but '\(cams[0].name)' has \(M); every camera needs one file per ensemble member"
            )
        }
        let prep = try MultiViewPreparation(views: views, options: options)
        let V = prep.views, T = prep.frames, K = views[0].keypoints.count, p = 2 * V
        let rotations = cams.map(\.rotationMatrix)
        let observe: @Sendable (UnsafePointer<Double>, UnsafeMutablePointer<Double>, UnsafeMutablePointer<Double>) -> Void = { z, h, J in
            for c in 0..<cams.count { cams[c].project(z, rotation: rotations[c], h + 2 * c, jacobian: J + 6 * c) }
        }
        let built: [(StateSpaceModel, [Double], [Double], [Double])] = try mapKeypoints(K, parallel: options.parallel) { k in
            Result {
                let (xCentred, uRaw) = prep.stacked(keypoint: k)
                let u =
                    options.inflateVariances
                    ? inflateVariances(x: xCentred, u: uRaw, frames: T, views: V, latent: options.latentDimension) : uRaw
                let y = prep.stacked(keypoint: k, centred: false).x
                let track = try triangulatedTrack(views, cameras: cams, keypoint: k)
                return (geometricModel(track: track, frames: T, observations: p, observe: observe), y, u, uRaw)
            }
        }.map { try $0.get() }
        let models = built.map(\.0), ys = built.map(\.1), us = built.map(\.2)
        let (sValues, iterations) = try chooseSmoothingParameters(models: models, ys: ys, rs: us, options: options, blocks: [])
        let results: [([SmoothedTrack], SmoothedTrack3D)] = mapKeypoints(K, parallel: options.parallel) { k in
            let sm = kalmanSmooth(models[k].scalingNoise(sValues[k]), observations: ys[k], variances: us[k])
            let u = us[k], uRaw = built[k].3
            var tracks: [SmoothedTrack] = []
            var uv = [Double](repeating: 0, count: 2), J = [Double](repeating: 0, count: 6)
            for c in 0..<V {
                let st = prep.stats[c][k]
                var xs = [Double](repeating: 0, count: T), ys = xs, vx = xs, vy = xs
                for t in 0..<T {
                    sm.means.withUnsafeBufferPointer { m in
                        cams[c].project(m.baseAddress! + 3 * t, rotation: rotations[c], &uv, jacobian: &J)
                    }
                    xs[t] = uv[0]; ys[t] = uv[1]
                    var jvj = [0.0, 0.0]
                    for row in 0..<2 {
                        for a in 0..<3 {
                            for b in 0..<3 { jvj[row] += J[row * 3 + a] * sm.covariances[t * 9 + a * 3 + b] * J[row * 3 + b] }
                        }
                    }
                    // The package adds camera 0's inflated variance for every camera (kept for compatibility).
                    vx[t] = jvj[0] + u[t * p]; vy[t] = jvj[1] + u[t * p + 1]
                }
                tracks.append(
                    SmoothedTrack(
                        x: xs, y: ys, likelihood: st.likelihood, xEnsembleMedian: st.x, yEnsembleMedian: st.y,
                        xEnsembleVariance: (0..<T).map { uRaw[$0 * p + 2 * c] },
                        yEnsembleVariance: (0..<T).map { uRaw[$0 * p + 2 * c + 1] },
                        xPosteriorVariance: vx, yPosteriorVariance: vy))
            }
            let track3D = SmoothedTrack3D(
                x: (0..<T).map { sm.means[3 * $0] }, y: (0..<T).map { sm.means[3 * $0 + 1] },
                z: (0..<T).map { sm.means[3 * $0 + 2] },
                xPosteriorVariance: (0..<T).map { sm.covariances[9 * $0] },
                yPosteriorVariance: (0..<T).map { sm.covariances[9 * $0 + 4] },
                zPosteriorVariance: (0..<T).map { sm.covariances[9 * $0 + 8] })
            return (tracks, track3D)
        }
        return SmoothingResult(
            keypoints: views[0].keypoints, views: cams.map(\.name),
            tracks: (0..<V).map { c in results.map { $0.0[c] } },
            smoothingParameters: sValues, iterations: iterations, tracks3D: results.map(\.1))
    }

    // MARK: - Triangulation

    /// Mean over members of each member's triangulated track (T × 3): per frame, the element-wise
    /// NaN-median over camera pairs of the pairwise linear (DLT) triangulation of undistorted points.
    static func triangulatedTrack(_ views: [EnsembleMembers], cameras: [CalibratedCamera], keypoint k: Int) throws -> [Double] {
        let V = views.count, T = views[0].frames, M = views[0].memberCount
        let P = cameras.map(\.extrinsic)
        var sum = [Double](repeating: 0, count: T * 3)
        var pairs: [(Int, Int)] = []
        for a in 0..<V { for b in (a + 1)..<V { pairs.append((a, b)) } }
        // Scratch reused for every point: undistorted points, the pairs' estimates, the DLT matrices.
        var points = [(Double, Double)](repeating: (0, 0), count: V)
        var estimates = [Double](repeating: 0, count: 3 * pairs.count), column = [Double](repeating: 0, count: pairs.count)
        var AtA = [Double](repeating: 0, count: 16), vectors = AtA
        for m in 0..<M {
            for t in 0..<T {
                for c in 0..<V {
                    points[c] = cameras[c].undistort(
                        views[c].value(member: m, frame: t, keypoint: k, coord: 0),
                        views[c].value(member: m, frame: t, keypoint: k, coord: 1))
                }
                for (i, (a, b)) in pairs.enumerated() {
                    let X = linearTriangulation(points[a], points[b], P[a], P[b], gram: &AtA, vectors: &vectors)
                    estimates[i] = X.0; estimates[pairs.count + i] = X.1; estimates[2 * pairs.count + i] = X.2
                }
                for j in 0..<3 {
                    for i in 0..<pairs.count { column[i] = estimates[j * pairs.count + i] }
                    sum[t * 3 + j] += Stats.nanMedian(column)
                }
            }
        }
        return sum.map { $0 / Double(M) }
    }

    /// Direct linear transform from two normalised points and their 3×4 extrinsics: the right
    /// singular vector of the smallest singular value of the 4×4 DLT matrix A (the eigenvector of
    /// AᵀA), dehomogenised; NaN when a point is NaN. `gram` and `vectors` are 16-element scratch.
    static func linearTriangulation(
        _ p0: (Double, Double), _ p1: (Double, Double), _ P0: [Double], _ P1: [Double],
        gram AtA: inout [Double], vectors: inout [Double]
    ) -> (Double, Double, Double) {
        guard p0.0.isFinite, p0.1.isFinite, p1.0.isFinite, p1.1.isFinite else { return (.nan, .nan, .nan) }
        for i in 0..<16 { AtA[i] = 0 }
        // Rows of A: x P[2] − P[0] and y P[2] − P[1] for each view; AᵀA accumulates their outer products.
        func add(_ coordinate: Double, _ P: [Double], _ row: Int) {
            let r = (
                coordinate * P[8] - P[row], coordinate * P[9] - P[row + 1], coordinate * P[10] - P[row + 2], coordinate * P[11] - P[row + 3]
            )
            let e = [r.0, r.1, r.2, r.3]
            for a in 0..<4 { for b in 0..<4 { AtA[a * 4 + b] += e[a] * e[b] } }
        }
        add(p0.0, P0, 0); add(p0.1, P0, 4); add(p1.0, P1, 0); add(p1.1, P1, 4)
        let v = AtA.withUnsafeMutableBufferPointer { a in
            vectors.withUnsafeMutableBufferPointer { v in SmallMatrix.smallestEigenvector4(a.baseAddress!, v.baseAddress!) }
        }
        return (v.0 / v.3, v.1 / v.3, v.2 / v.3)
    }

    /// The 3-D random-walk model initialised from a triangulated track (§5.3).
    static func geometricModel(
        track y3: [Double], frames T: Int, observations p: Int,
        observe: @escaping @Sendable (UnsafePointer<Double>, UnsafeMutablePointer<Double>, UnsafeMutablePointer<Double>) -> Void
    ) -> StateSpaceModel {
        var m0 = [0.0, 0.0, 0.0], S0 = [Double](repeating: 0, count: 9), Q = S0
        let head = min(10, T)
        for j in 0..<3 {
            let column = (0..<T).map { y3[$0 * 3 + j] }
            m0[j] = Stats.mean(Array(column.prefix(head)))
            S0[j * 4] = Stats.nanVariance(column) + 1e-4
            let diffs = (1..<max(T, 1)).map { column[$0] - column[$0 - 1] }
            let med = Stats.median(diffs)
            let mad = Stats.median(diffs.map { abs($0 - med) }) + 1e-12
            let q = (1.4826 * mad) * (1.4826 * mad)
            Q[j * 4] = q.isNaN ? 1e-8 : max(q, 1e-8)  // NaN only for a single frame
        }
        return StateSpaceModel(d: 3, p: p, A: [1, 0, 0, 0, 1, 0, 0, 0, 1], C: [], Q: Q, m0: m0, S0: S0, observe: observe)
    }
}
