// The 1-D filters of `kinema filter`, with SciPy's semantics so results match DeepLabCut's and a lab's own scripts:
// `scipy.signal.medfilt` (zero padding at both ends, as DeepLabCut's `filterpredictions` inherits) and
// `scipy.signal.savgol_filter` in its default mode 'interp' (the edges are a polynomial fitted to the first and last
// window). Both take finite samples; `PredictionFilter` fills missing and unsure points before it calls them.
import Foundation

public enum SignalFilters {
    /// `scipy.signal.medfilt(x, window)`: the median of the `window` samples centred on each one, with zeros
    /// beyond both ends. `window` must be odd.
    public static func median(_ x: [Double], window: Int) -> [Double] {
        precondition(window > 0 && window % 2 == 1, "median window must be odd")
        let half = window / 2, n = x.count
        var buffer = [Double](repeating: 0, count: window)
        return (0..<n).map { i in
            for j in 0..<window {
                let t = i - half + j
                buffer[j] = t >= 0 && t < n ? x[t] : 0
            }
            buffer.sort()
            return buffer[half]
        }
    }

    /// `scipy.signal.savgol_filter(x, window, order, mode="interp")`: each interior sample is the value at the
    /// centre of the least-squares polynomial of degree `order` through its window; the first and last `window / 2`
    /// samples are the polynomial fitted to the first (last) whole window, evaluated there. Needs an odd
    /// `window` ≤ `x.count` and `order` < `window`.
    public static func savitzkyGolay(_ x: [Double], window: Int, order: Int) -> [Double] {
        precondition(window % 2 == 1 && order < window && window <= x.count, "bad Savitzky–Golay window")
        let half = window / 2, n = x.count
        // The centre weights: the first row of the least-squares solution for positions −half…half.
        let positions = (0..<window).map { Double($0 - half) }
        let weights = leastSquaresWeights(positions: positions, order: order, at: [0])[0]
        var y = [Double](repeating: 0, count: n)
        for i in half..<(n - half) {
            var s = 0.0
            for j in 0..<window { s += weights[j] * x[i - half + j] }
            y[i] = s
        }
        // Edges: one polynomial fitted to each end's window, evaluated at the samples the interior did not reach.
        let local = (0..<window).map(Double.init)
        let left = leastSquaresWeights(positions: local, order: order, at: (0..<half).map(Double.init))
        let right = leastSquaresWeights(positions: local, order: order, at: ((window - half)..<window).map(Double.init))
        for e in 0..<half {
            var l = 0.0, r = 0.0
            for j in 0..<window {
                l += left[e][j] * x[j]
                r += right[e][j] * x[n - window + j]
            }
            y[e] = l
            y[n - half + e] = r
        }
        return y
    }

    /// For each point in `at`, the weights w such that Σ wⱼ·yⱼ is the least-squares polynomial of degree `order`
    /// through (positions[j], yⱼ) evaluated at that point. Positions are scaled to [−1, 1] (the fitted values do
    /// not change) and the fit is solved by modified Gram–Schmidt, well conditioned for the small
    /// windows and degrees used here.
    static func leastSquaresWeights(positions: [Double], order: Int, at points: [Double]) -> [[Double]] {
        let m = positions.count, p = order + 1
        let centre = (positions.first! + positions.last!) / 2
        let scale = max(1e-12, (positions.last! - positions.first!) / 2)
        func scaled(_ v: Double) -> Double { (v - centre) / scale }
        // Q (m × p) with orthonormal columns spanning the monomials 1, u, u², … over the window.
        var q = (0..<p).map { k in positions.map { pow(scaled($0), Double(k)) } }
        var r = [[Double]](repeating: [Double](repeating: 0, count: p), count: p)
        for k in 0..<p {
            for j in 0..<k {
                let dot = zip(q[j], q[k]).reduce(0) { $0 + $1.0 * $1.1 }
                r[j][k] = dot
                for i in 0..<m { q[k][i] -= dot * q[j][i] }
            }
            let norm = q[k].reduce(0) { $0 + $1 * $1 }.squareRoot()
            r[k][k] = norm
            for i in 0..<m { q[k][i] /= norm }
        }
        // Value at u of the fit = v(u)ᵀ R⁻¹ Qᵀ y, with v(u) the monomials at u: weights = Q · (R⁻ᵀ v(u)).
        return points.map { point in
            let v = (0..<p).map { pow(scaled(point), Double($0)) }
            var z = [Double](repeating: 0, count: p)  // solve Rᵀ z = v (forward substitution)
            for k in 0..<p {
                var s = v[k]
                for j in 0..<k { s -= r[j][k] * z[j] }
                z[k] = s / r[k][k]
            }
            return (0..<m).map { i in (0..<p).reduce(0) { $0 + q[$1][i] * z[$1] } }
        }
    }

    /// Fills NaN samples and those not `kept` by linear interpolation between the nearest kept finite samples (the
    /// nearest one beyond the first and last), as `numpy.interp`; nil when no sample is kept.
    public static func interpolated(_ x: [Double], kept: [Bool]) -> [Double]? {
        let anchors = x.indices.filter { kept[$0] && x[$0].isFinite }
        guard let first = anchors.first, let last = anchors.last else { return nil }
        var y = x
        for i in 0..<first { y[i] = x[first] }
        for i in (last + 1)..<x.count { y[i] = x[last] }
        for (a, b) in zip(anchors, anchors.dropFirst()) where b > a + 1 {
            for i in (a + 1)..<b { y[i] = x[a] + (x[b] - x[a]) * Double(i - a) / Double(b - a) }
        }
        return y
    }
}
