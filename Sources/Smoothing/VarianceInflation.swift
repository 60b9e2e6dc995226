// Variance inflation for multi-view modes (§4): frames whose views disagree with a 3-factor model
// of the stacked views get their ensemble variances multiplied by 10, until no frame is flagged.
import Foundation

// MARK: - Factor analysis (scikit-learn's algorithm, exact SVD)

/// Loadings W (p × q, row-major) and mean μ of scikit-learn's `FactorAnalysis(n_components: q)`.
func factorAnalysis(rows data: [Double], n: Int, p: Int, q: Int) -> (W: [Double], mean: [Double]) {
    var mean = [Double](repeating: 0, count: p)
    for i in 0..<n { for j in 0..<p { mean[j] += data[i * p + j] } }
    for j in 0..<p { mean[j] /= Double(n) }
    var x = data
    for i in 0..<n { for j in 0..<p { x[i * p + j] -= mean[j] } }
    var variance = [Double](repeating: 0, count: p)
    for i in 0..<n { for j in 0..<p { variance[j] += x[i * p + j] * x[i * p + j] } }
    for j in 0..<p { variance[j] /= Double(n) }
    // Covariance XᵀX/n once; each iteration rescales it by 1/√ψ on both sides.
    var cov = [Double](repeating: 0, count: p * p)
    for i in 0..<n { for a in 0..<p { let xa = x[i * p + a]; for b in a..<p { cov[a * p + b] += xa * x[i * p + b] } } }
    for a in 0..<p { for b in a..<p { cov[a * p + b] /= Double(n); cov[b * p + a] = cov[a * p + b] } }
    var psi = [Double](repeating: 1, count: p)
    var W = [Double](repeating: 0, count: q * p)  // q × p as scikit-learn stores it
    let llConst = Double(p) * Foundation.log(2 * Double.pi) + Double(q)
    var oldLL = -Double.infinity
    var basis: [Double]? = nil  // the previous iteration's eigenvectors: ψ changes little between iterations
    for _ in 0..<1000 {
        let sqrtPsi = psi.map { $0.squareRoot() + 1e-12 }
        var gram = cov
        for a in 0..<p { for b in 0..<p { gram[a * p + b] /= sqrtPsi[a] * sqrtPsi[b] } }
        let (values, vectors) = SmallMatrix.symmetricEigen(gram, p, near: basis)
        basis = vectors
        let total = (0..<p).reduce(0.0) { $0 + gram[$1 * p + $1] }
        var explained = 0.0, logS = 0.0
        for i in 0..<q {
            let s2 = max(values[i], 0)
            explained += s2
            logS += Foundation.log(s2)
            let scale = max(s2 - 1, 0).squareRoot()
            for j in 0..<p { W[i * p + j] = scale * vectors[j * p + i] * sqrtPsi[j] }
        }
        var ll = llConst + logS + (total - explained) + psi.reduce(0) { $0 + Foundation.log($1) }
        ll *= -Double(n) / 2
        if ll - oldLL < 0.01 { break }
        oldLL = ll
        for j in 0..<p {
            var w2 = 0.0
            for i in 0..<q { w2 += W[i * p + j] * W[i * p + j] }
            psi[j] = max(variance[j] - w2, 1e-12)
        }
    }
    var loadings = [Double](repeating: 0, count: p * q)
    for i in 0..<q { for j in 0..<p { loadings[j * q + i] = W[i * p + j] } }
    return (loadings, mean)
}

// MARK: - Inflation loop

/// Inflates the stacked variances `u` (T × 2V) of one keypoint given its centred stacked
/// observations `x` (T × 2V). Returns the inflated variances.
func inflateVariances(x: [Double], u: [Double], frames T: Int, views V: Int, latent q: Int) -> [Double] {
    let p = 2 * V
    var u = u
    guard V >= 2, T > 0 else { return u }
    for _ in 0..<200 {  // each pass multiplies flagged variances by 10; 200 passes is far beyond need
        // Rows for the fit: max variance strictly below the median of the row maxima.
        let rowMax = (0..<T).map { t in (0..<p).map { u[t * p + $0] }.max() ?? 0 }
        let threshold = Stats.percentile(rowMax, 50)
        let rows = (0..<T).filter { rowMax[$0] < threshold }
        guard rows.count > q else { break }
        var fitData = [Double](repeating: 0, count: rows.count * p)
        for (i, t) in rows.enumerated() { for j in 0..<p { fitData[i * p + j] = x[t * p + j] } }
        let (W, mu) = factorAnalysis(rows: fitData, n: rows.count, p: p, q: q)
        var flags = [Bool](repeating: false, count: T * V)
        let any = detectOutlierViews(x: x, u: u, W: W, mu: mu, frames: T, views: V, latent: q, flags: &flags)
        guard any else { break }
        for t in 0..<T {
            let flagRow = V == 2 && (flags[t * V] || flags[t * V + 1])
            for v in 0..<V where flagRow || flags[t * V + v] {
                u[t * p + 2 * v] *= 10
                u[t * p + 2 * v + 1] *= 10
            }
        }
    }
    return u
}

/// Flags (frame, view) pairs whose observation is far (squared Mahalanobis distance > 5) from the factor model's
/// prediction given the other views: ẑ = B Wᵀ D⁻¹ (x − μ) with B = (Wᵀ D⁻¹ W)⁻¹ and D = diag(u + 1e-6), then per
/// view Σ = diag(u) + W_v B W_vᵀ (2 × 2). Returns whether any pair was flagged. This is the inner loop of the
/// inflation passes, hence the plain pointer arithmetic.
func detectOutlierViews(
    x: [Double], u: [Double], W: [Double], mu: [Double], frames T: Int, views V: Int,
    latent q: Int, flags: inout [Bool]
) -> Bool {
    let p = 2 * V
    var any = false
    var WtDW = [Double](repeating: 0, count: q * q), B = WtDW, work = WtDW
    var z = [Double](repeating: 0, count: q), rhs = z
    var d = [Double](repeating: 0, count: p), centred = d, fitted = d
    x.withUnsafeBufferPointer { x in
        u.withUnsafeBufferPointer { u in
            W.withUnsafeBufferPointer { W in
                mu.withUnsafeBufferPointer { mu in
                    flags.withUnsafeMutableBufferPointer { flags in
                        WtDW.withUnsafeMutableBufferPointer { M in
                            B.withUnsafeMutableBufferPointer { B in
                                work.withUnsafeMutableBufferPointer { work in
                                    z.withUnsafeMutableBufferPointer { z in
                                        rhs.withUnsafeMutableBufferPointer { rhs in
                                            d.withUnsafeMutableBufferPointer { d in
                                                centred.withUnsafeMutableBufferPointer { centred in
                                                    fitted.withUnsafeMutableBufferPointer { fitted in
                                                        for t in 0..<T {
                                                            let row = t * p
                                                            for j in 0..<p {
                                                                d[j] = u[row + j] + 1e-6
                                                                centred[j] = x[row + j] - mu[j]
                                                            }
                                                            for a in 0..<q {
                                                                for b in a..<q {
                                                                    var s = 0.0
                                                                    for j in 0..<p { s += W[j * q + a] * W[j * q + b] / d[j] }
                                                                    M[a * q + b] = s
                                                                    M[b * q + a] = s
                                                                }
                                                                var r = 0.0
                                                                for j in 0..<p { r += W[j * q + a] * centred[j] / d[j] }
                                                                rhs[a] = r
                                                            }
                                                            guard
                                                                SmallMatrix.spdInverse(
                                                                    UnsafePointer(M.baseAddress!), q, B.baseAddress!, work.baseAddress!)
                                                                    != nil
                                                            else { continue }
                                                            for a in 0..<q {
                                                                var s = 0.0
                                                                for b in 0..<q { s += B[a * q + b] * rhs[b] }
                                                                z[a] = s
                                                            }
                                                            for j in 0..<p {
                                                                var s = 0.0
                                                                for a in 0..<q { s += W[j * q + a] * z[a] }
                                                                fitted[j] = s
                                                            }
                                                            for v in 0..<V {
                                                                let j0 = 2 * v, j1 = 2 * v + 1
                                                                // Same rounding as the package: x − (Wẑ + μ).
                                                                let e0 = x[row + j0] - (fitted[j0] + mu[j0])
                                                                let e1 = x[row + j1] - (fitted[j1] + mu[j1])
                                                                var s00 = u[row + j0], s11 = u[row + j1], s01 = 0.0
                                                                for a in 0..<q {
                                                                    let w0a = W[j0 * q + a], w1a = W[j1 * q + a]
                                                                    for b in 0..<q {
                                                                        let bab = B[a * q + b]
                                                                        s00 += w0a * bab * W[j0 * q + b]
                                                                        s11 += w1a * bab * W[j1 * q + b]
                                                                        s01 += w0a * bab * W[j1 * q + b]
                                                                    }
                                                                }
                                                                let det = s00 * s11 - s01 * s01
                                                                let d2 = (s11 * e0 * e0 - 2 * s01 * e0 * e1 + s00 * e1 * e1) / det
                                                                if d2 > 5 { flags[t * V + v] = true; any = true }
                                                            }
                                                        }
                                                    }
                                                }
                                            }
                                        }
                                    }
                                }
                            }
                        }
                    }
                }
            }
        }
    }
    return any
}
