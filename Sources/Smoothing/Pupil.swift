// IBL pupil EKS (§5.4): state = (diameter, centre x, centre y) with AR(1) dynamics, observed
// through the four pupil points; two smoothing parameters (diameter, centre).
import Foundation

extension EnsembleKalmanSmoother {

    /// The pupil keypoints in the package's internal order.
    public static let pupilKeypoints = ["pupil_top_r", "pupil_bottom_r", "pupil_right_r", "pupil_left_r"]

    // MARK: - Pupil

    /// Smooths IBL pupil predictions (`fit_eks_pupil`). `members` must hold the four pupil keypoints
    /// (build it with `keypoints: EnsembleKalmanSmoother.pupilKeypoints`). `options.smoothing`
    /// `.fixed([s_diameter, s_centre])` fixes both AR parameters; anything else optimises them.
    public static func pupil(_ members: EnsembleMembers, options: SmoothingOptions = SmoothingOptions()) throws -> SmoothingResult {
        guard members.keypoints == pupilKeypoints else {
            throw SmoothingError(
                "pupil smoothing needs the keypoints \(pupilKeypoints.joined(separator: ", ")) in this order; got \(members.keypoints)")
        }
        let T = members.frames
        guard T > 0 else { throw SmoothingError("the predictions have no frames") }
        let stats = (0..<4).map {
            EnsembleStatistics(members: members, keypoint: $0, averaging: options.averaging, variance: options.variance)
        }
        let (top, bottom, right, left) = (stats[0], stats[1], stats[2], stats[3])
        // Diameter and centre per frame (NumPy's NaN rules of the package).
        var diameter = [Double](repeating: 0, count: T), cx = diameter, cy = diameter
        func dist(_ a: EnsembleStatistics, _ b: EnsembleStatistics, _ t: Int) -> Double {
            ((a.x[t] - b.x[t]) * (a.x[t] - b.x[t]) + (a.y[t] - b.y[t]) * (a.y[t] - b.y[t])).squareRoot()
        }
        let root2 = 2.0.squareRoot()
        for t in 0..<T {
            diameter[t] = Stats.nanMedian([
                dist(top, bottom, t), dist(left, right, t),
                dist(top, left, t) * root2, dist(top, right, t) * root2,
                dist(bottom, left, t) * root2, dist(bottom, right, t) * root2,
            ])
            let x1 = Stats.nanMedian([top.x[t], bottom.x[t]]), x2 = Stats.median([right.x[t], left.x[t]])
            cx[t] = Stats.nanMedian([x1, x2])
            let y1 = Stats.median([top.y[t], bottom.y[t]]), y2 = Stats.nanMedian([right.y[t], left.y[t]])
            cy[t] = Stats.nanMedian([y1, y2])
        }
        let ox = Stats.mean(cx), oy = Stats.mean(cy)
        let xc = cx.map { $0 - ox }, yc = cy.map { $0 - oy }
        let m0 = [Stats.mean(diameter), 0, 0]
        let S0 = [Stats.nanVariance(diameter), 0, 0, 0, Stats.nanVariance(xc), 0, 0, 0, Stats.nanVariance(yc)]
        let C: [Double] = [0, 1, 0, -0.5, 0, 1, 0, 1, 0, 0.5, 0, 1, 0.5, 1, 0, 0, 0, 1, -0.5, 1, 0, 0, 0, 1]
        let varD = Stats.variance(diameter), varX = Stats.variance(xc), varY = Stats.variance(yc)
        // Observations in P order: top, bottom, right, left (x, y each), centred by the mean centre.
        var y = [Double](repeating: 0, count: T * 8), r = y
        for t in 0..<T {
            for (i, s) in stats.enumerated() {
                y[t * 8 + 2 * i] = s.x[t] - ox; y[t * 8 + 2 * i + 1] = s.y[t] - oy
                r[t * 8 + 2 * i] = s.xVariance[t]; r[t * 8 + 2 * i + 1] = s.yVariance[t]
            }
        }
        func model(_ sd: Double, _ sc: Double) -> StateSpaceModel {
            StateSpaceModel(
                d: 3, p: 8, A: [sd, 0, 0, 0, sc, 0, 0, 0, sc], C: C,
                Q: [varD * (1 - sd * sd), 0, 0, 0, varX * (1 - sc * sc), 0, 0, 0, varY * (1 - sc * sc)],
                m0: m0, S0: S0)
        }
        var sd: Double, sc: Double, iterations = 0
        if case .fixed(let values) = options.smoothing {
            guard values.count == 2 else {
                throw SmoothingError("pupil smoothing takes two fixed parameters (--diameter-s and --com-s); got \(values.count)")
            }
            // The package casts to float32 and clips to [0.001, 0.999].
            sd = min(max(Double(Float(values[0])), Double(Float(0.001))), Double(Float(0.999)))
            sc = min(max(Double(Float(values[1])), Double(Float(0.001))), Double(Float(0.999)))
        } else {
            var frames: [Int]? = nil
            if case .automatic(let ranges?) = options.smoothing { frames = FrameRange.frames(ranges, count: T) }
            let yLoss = frames.map { f in f.flatMap { t in (0..<8).map { y[t * 8 + $0] } } } ?? y
            let rLoss = frames.map { f in f.flatMap { t in (0..<8).map { r[t * 8 + $0] } } } ?? r
            func squash(_ u: Double) -> (Double, Double) {
                let sig = 1 / (1 + exp(-u))
                return (0.001 + 0.998 * sig, 0.998 * sig * (1 - sig))
            }
            let u0 = [0.99, 0.98].map { Double(Float(Foundation.log(Float($0) / (1 - Float($0))))) }
            // The package runs Adam (lr 5e-3, up to 5000 steps, a filter pass and its reverse-mode
            // gradient each) towards the minimum of this NLL. Two parameters with exact forward-mode
            // gradients let Newton's method reach it in a handful of passes, each d×d algebra per
            // frame on observations reduced once (information form).
            let observations = InformationObservations(C: C, d: 3, p: 8, y: yLoss, r: rLoss)
            let (u, iters, _) = newtonSearch(start: u0) { u in
                let (sdv, dsd) = squash(u[0]), (scv, dsc) = squash(u[1])
                let tangents = [
                    ModelTangent(dA: [dsd, 0, 0, 0, 0, 0, 0, 0, 0], dQ: [-2 * sdv * varD * dsd, 0, 0, 0, 0, 0, 0, 0, 0]),
                    ModelTangent(
                        dA: [0, 0, 0, 0, dsc, 0, 0, 0, dsc], dQ: [0, 0, 0, 0, -2 * scv * varX * dsc, 0, 0, 0, -2 * scv * varY * dsc]),
                ]
                return observations.negativeLogLikelihood(model(sdv, scv), tangents: tangents)
            }
            sd = squash(u[0]).0; sc = squash(u[1]).0; iterations = iters
        }
        let finalModel = model(sd, sc)
        let sm =
            InformationObservations(C: C, d: 3, p: 8, y: y, r: r, gainBoost: 1e-9).smooth(finalModel)
            ?? kalmanSmooth(finalModel, observations: y, variances: r)
        // Smoothed observations C m and their variances diag(C V Cᵀ), in P order.
        var obs = [Double](repeating: 0, count: T * 8), obsVar = obs
        for t in 0..<T {
            for j in 0..<8 {
                var mean = 0.0, variance = 0.0
                for a in 0..<3 {
                    mean += C[j * 3 + a] * sm.means[t * 3 + a]
                    for b in 0..<3 { variance += C[j * 3 + a] * sm.covariances[t * 9 + a * 3 + b] * C[j * 3 + b] }
                }
                obs[t * 8 + j] = mean + (j % 2 == 0 ? ox : oy)
                obsVar[t * 8 + j] = variance
            }
        }
        // The package's column scrambling (§8.3): groups labelled top, bottom, right, left hold the
        // contents of top, right, bottom, left; posterior variances use diagonal entries i and i+1.
        let contentOrder = [0, 2, 1, 3]
        let tracks: [SmoothedTrack] = (0..<4).map { i in
            let src = contentOrder[i]
            return SmoothedTrack(
                x: (0..<T).map { obs[$0 * 8 + 2 * src] }, y: (0..<T).map { obs[$0 * 8 + 2 * src + 1] },
                likelihood: stats[i].likelihood,
                xEnsembleMedian: stats[src].x, yEnsembleMedian: stats[src].y,
                xEnsembleVariance: stats[src].xVariance, yEnsembleVariance: stats[src].yVariance,
                xPosteriorVariance: (0..<T).map { obsVar[$0 * 8 + i] },
                yPosteriorVariance: (0..<T).map { obsVar[$0 * 8 + i + 1] })
        }
        return SmoothingResult(
            keypoints: pupilKeypoints, views: [""], tracks: [tracks], smoothingParameters: [sd, sc],
            iterations: [iterations, iterations])
    }
}
