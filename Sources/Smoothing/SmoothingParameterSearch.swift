// Automatic choice of the smoothing parameter s (§7.1): Adam on ln s, minimising the filter
// negative log-likelihood with a constant observation covariance, with the package's stopping rule.
import Foundation

// MARK: - Frame ranges

/// A half-open frame range `[start, end)`; nil ends are open (Python's `(None, 100)`).
public struct FrameRange: Sendable, Equatable {
    public var start: Int?
    public var end: Int?
    public init(start: Int?, end: Int?) { self.start = start; self.end = end }

    /// Frame indices of the concatenated ranges within `0..<frames` (Python slicing semantics).
    public static func frames(_ ranges: [FrameRange], count frames: Int) -> [Int] {
        var result: [Int] = []
        for r in ranges {
            let lo = max(0, min(frames, r.start ?? 0)), hi = max(0, min(frames, r.end ?? frames))
            if hi > lo { result += Array(lo..<hi) }
        }
        return result
    }
}

// MARK: - Initial guess

/// The package's initial guess for s from the observation variances `vars` (T × p): the population
/// standard deviation of their frame-to-frame differences over the first 2000 frames, rounded to
/// 5 decimals; 2.0 when that is 0 or not finite.
func initialSmoothingGuess(variances vars: [Double], p: Int) -> Double {
    let T = min(vars.count / max(p, 1), 2000)
    guard T >= 2 else { return 2.0 }
    var diffs: [Double] = []
    diffs.reserveCapacity((T - 1) * p)
    for t in 1..<T { for j in 0..<p { diffs.append(vars[t * p + j] - vars[(t - 1) * p + j]) } }
    let g = Stats.round5(Stats.nanVariance(diffs).squareRoot())
    return (g.isFinite && g > 0) ? g : 2.0
}

/// `diag(max(nanmedian_t r_t, 1e-4))` over the given frames, as the p diagonal entries.
func constantObservationVariance(_ r: [Double], p: Int, frames: [Int]) -> [Double] {
    (0..<p).map { j in
        let col = frames.map { max(r[$0 * p + j], 1e-12) }
        let med = Stats.nanMedian(col)
        return med.isNaN ? med : max(med, 1e-4)
    }
}

// MARK: - Adam with the package's stopping rule

/// Outcome of one smoothing-parameter search.
public struct SmoothingSearch: Sendable {
    /// The chosen s.
    public var s: Double
    /// Loss evaluations (Adam steps) taken.
    public var iterations: Int
    /// The last evaluated loss.
    public var loss: Double
}

/// Minimises `lossAndGradient(θ)` over θ with Adam (lr 1.0 on `gradScale`·gradient), stopping after
/// iteration i when `|loss_i − loss_{i−1}| < tol·|ln max(loss_{i−1}, 1e-12)| + 1e-6` (i ≥ 1).
/// Returns the parameters after the last update, the number of evaluations and the last loss.
func adamSearch(
    start: [Double], learningRate: Double, gradScale: Double, tolerance: Double, maxIterations: Int,
    lossAndGradient: ([Double]) -> (Double, [Double])
) -> ([Double], Int, Double) {
    var theta = start
    var m = [Double](repeating: 0, count: start.count), v = m
    let b1 = 0.9, b2 = 0.999, eps = 1e-8
    var prev = Double.infinity
    var iterations = 0
    var lastLoss = Double.nan
    for i in 0..<maxIterations {
        let (loss, grad) = lossAndGradient(theta)
        let step = Double(i + 1)
        for j in 0..<theta.count {
            let g = grad[j] * gradScale
            m[j] = b1 * m[j] + (1 - b1) * g
            v[j] = b2 * v[j] + (1 - b2) * g * g
            let mHat = m[j] / (1 - pow(b1, step)), vHat = v[j] / (1 - pow(b2, step))
            theta[j] -= learningRate * mHat / (vHat.squareRoot() + eps)
        }
        iterations = i + 1
        lastLoss = loss
        let stop = prev.isFinite && abs(loss - prev) < tolerance * abs(Foundation.log(max(prev, 1e-12))) + 1e-6
        prev = loss
        if stop { break }
    }
    return (theta, iterations, lastLoss)
}

// MARK: - Newton on a few parameters

/// Minimises a smooth function of a few parameters by Newton's method: the exact gradient from
/// `lossAndGradient`, the Hessian from forward differences of that gradient (its accuracy sets the
/// convergence rate only; the minimiser is where the exact gradient vanishes), a backtracking line
/// search, and a steepest-descent step where the Hessian is not positive definite. Steps are at
/// most `maxStep` long (∞-norm). Stops when a step moves every parameter by less than `tolerance`.
/// Returns the minimiser, the Newton iterations taken and the loss there.
func newtonSearch(
    start: [Double], tolerance: Double = 1e-9, maxStep: Double = 1, maxIterations: Int = 100,
    lossAndGradient: ([Double]) -> (Double, [Double])
) -> ([Double], Int, Double) {
    let n = start.count
    var x = start
    var (loss, grad) = lossAndGradient(x)
    var iterations = 0
    while iterations < maxIterations, loss.isFinite, grad.allSatisfy(\.isFinite) {
        iterations += 1
        // Hessian columns from gradients at x + h eᵢ, symmetrised.
        let h = 1e-5
        var H = [Double](repeating: 0, count: n * n)
        for i in 0..<n {
            var xi = x
            xi[i] += h
            let gi = lossAndGradient(xi).1
            for j in 0..<n { H[j * n + i] = (gi[j] - grad[j]) / h }
        }
        for i in 0..<n { for j in 0..<i { let v = 0.5 * (H[i * n + j] + H[j * n + i]); H[i * n + j] = v; H[j * n + i] = v } }
        var inverse = [Double](repeating: 0, count: n * n), work = [Double](repeating: 0, count: n * n)
        var step: [Double]
        if SmallMatrix.spdInverse(H, n, &inverse, &work) != nil, inverse.allSatisfy(\.isFinite) {
            step = (0..<n).map { i in -(0..<n).reduce(0) { $0 + inverse[i * n + $1] * grad[$1] } }
        } else {
            step = grad.map { -$0 }
        }
        let longest = step.map(abs).max() ?? 0
        if longest > maxStep { step = step.map { $0 * maxStep / longest } }
        // Backtracking (Armijo) line search.
        let slope = zip(grad, step).reduce(0) { $0 + $1.0 * $1.1 }
        var scale = 1.0, accepted = false
        for _ in 0..<40 {
            let trial = zip(x, step).map { $0 + scale * $1 }
            let (l, g) = lossAndGradient(trial)
            if l.isFinite, l <= loss + 1e-4 * scale * min(slope, 0) {
                x = trial; loss = l; grad = g; accepted = true
                break
            }
            scale *= 0.5
        }
        if !accepted || (step.map(abs).max() ?? 0) * scale < tolerance { break }
    }
    return (x, iterations, loss)
}

/// Chooses one s shared by `models` (a block of keypoints; usually one) by the package's method:
/// NLL with constant R over `frames`, θ = ln s clipped to [−8, 8], Adam lr 1 on ¼ of the gradient.
func searchSmoothingParameter(
    models: [StateSpaceModel], observations: [[Double]], variances: [[Double]],
    lossFrames: [Int]?, guess: Double
) -> SmoothingSearch {
    // Crop the frames used in the loss and build the constant R per member.
    var ys: [[Double]] = [], rs: [[Double]] = []
    for (k, model) in models.enumerated() {
        let p = model.p
        let T = observations[k].count / p
        let frames = lossFrames ?? Array(0..<T)
        var y = [Double](repeating: 0, count: frames.count * p)
        for (i, t) in frames.enumerated() { for j in 0..<p { y[i * p + j] = observations[k][t * p + j] } }
        ys.append(y)
        rs.append(constantObservationVariance(variances[k], p: p, frames: frames))
    }
    let theta0 = Double(Float(Foundation.log(min(max(guess, 1e-6), 1e3))))
    let (theta, iterations, loss) = adamSearch(
        start: [theta0], learningRate: 1.0, gradScale: 0.25,
        tolerance: 1e-2, maxIterations: 300
    ) { th in
        let clipped = min(max(th[0], -8), 8)
        let s = exp(clipped)
        var total = 0.0, dTotal = 0.0
        for (k, model) in models.enumerated() {
            let (nll, dnll) = negativeLogLikelihood(model, s: s, y: ys[k], r: rs[k])
            total += nll
            dTotal += dnll
        }
        guard total.isFinite else { return (1e12, [0]) }
        let inside = th[0] > -8 && th[0] < 8
        return (total, [inside ? dTotal * s : 0])
    }
    return SmoothingSearch(s: exp(min(max(theta[0], -8), 8)), iterations: iterations, loss: loss)
}

/// NLL of the model with process noise s·Q and its derivative in s (linear models analytically,
/// nonlinear ones by central differences in ln s).
func negativeLogLikelihood(_ model: StateSpaceModel, s: Double, y: [Double], r: [Double]) -> (Double, Double) {
    let T = y.count / model.p
    let scaled = model.scalingNoise(s)
    return y.withUnsafeBufferPointer { yb in
        r.withUnsafeBufferPointer { rb in
            if model.observe == nil {
                let (moments, d) = kalmanFilter(
                    scaled, y: yb, r: rb, frames: T,
                    tangents: [ModelTangent(dA: nil, dQ: model.Q)], keep: false)
                return (moments.negativeLogLikelihood, d[0])
            }
            func nll(_ m: StateSpaceModel) -> Double {
                informationFormNegativeLogLikelihood(m, y: yb, r: rb, frames: T)
                    ?? kalmanFilter(m, y: yb, r: rb, frames: T, keep: false).0.negativeLogLikelihood
            }
            let center = nll(scaled)
            let h = 1e-5
            let up = nll(model.scalingNoise(s * exp(h))), down = nll(model.scalingNoise(s * exp(-h)))
            return (center, (up - down) / (2 * h) / s)
        }
    }
}
