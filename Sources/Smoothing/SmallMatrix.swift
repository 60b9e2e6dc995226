// Small dense linear algebra on row-major [Double] storage: the matrices here are at most ~8×8,
// so plain loops beat any library call overhead.

// MARK: - Products

import Foundation

/// Small dense matrix helpers (row-major, contiguous).
enum SmallMatrix {
    /// c (n×m) = a (n×k) · b (k×m)
    @inline(__always)
    static func multiply(
        _ a: UnsafePointer<Double>, _ b: UnsafePointer<Double>, _ c: UnsafeMutablePointer<Double>,
        _ n: Int, _ k: Int, _ m: Int
    ) {
        for i in 0..<n {
            for j in 0..<m {
                var s = 0.0
                for l in 0..<k { s += a[i &* k &+ l] * b[l &* m &+ j] }
                c[i &* m &+ j] = s
            }
        }
    }

    /// c (n×m) = a (n×k) · bᵀ where b is (m×k)
    @inline(__always)
    static func multiplyTransposed(
        _ a: UnsafePointer<Double>, _ b: UnsafePointer<Double>, _ c: UnsafeMutablePointer<Double>,
        _ n: Int, _ k: Int, _ m: Int
    ) {
        for i in 0..<n {
            for j in 0..<m {
                var s = 0.0
                for l in 0..<k { s += a[i &* k &+ l] * b[j &* k &+ l] }
                c[i &* m &+ j] = s
            }
        }
    }

    // MARK: - Cholesky

    /// In-place lower Cholesky factor of the n×n symmetric matrix `a` (upper part left untouched).
    /// Returns false when the matrix is not positive definite.
    @inline(__always)
    static func cholesky(_ a: UnsafeMutablePointer<Double>, _ n: Int) -> Bool {
        for j in 0..<n {
            var d = a[j &* n &+ j]
            for k in 0..<j { d -= a[j &* n &+ k] * a[j &* n &+ k] }
            guard d > 0, d.isFinite else { return false }
            let l = d.squareRoot()
            a[j &* n &+ j] = l
            for i in (j + 1)..<max(n, j + 1) {
                var s = a[i &* n &+ j]
                for k in 0..<j { s -= a[i &* n &+ k] * a[j &* n &+ k] }
                a[i &* n &+ j] = s / l
            }
        }
        return true
    }

    /// Solves L Lᵀ x = b in place for `nrhs` right-hand sides stored as columns of b (n×nrhs).
    @inline(__always)
    static func choleskySolve(_ l: UnsafePointer<Double>, _ n: Int, _ b: UnsafeMutablePointer<Double>, _ nrhs: Int) {
        for r in 0..<nrhs {
            for i in 0..<n {
                var s = b[i &* nrhs &+ r]
                for k in 0..<i { s -= l[i &* n &+ k] * b[k &* nrhs &+ r] }
                b[i &* nrhs &+ r] = s / l[i &* n &+ i]
            }
            var i = n - 1
            while i >= 0 {
                var s = b[i &* nrhs &+ r]
                for k in (i + 1)..<max(n, i + 1) { s -= l[k &* n &+ i] * b[k &* nrhs &+ r] }
                b[i &* nrhs &+ r] = s / l[i &* n &+ i]
                i -= 1
            }
        }
    }

    /// Inverse of a symmetric positive-definite matrix (n×n) into `inv`; `work` needs n*n.
    /// Returns log-determinant, or nil when not positive definite.
    @inline(__always)
    static func spdInverse(
        _ a: UnsafePointer<Double>, _ n: Int, _ inv: UnsafeMutablePointer<Double>,
        _ work: UnsafeMutablePointer<Double>
    ) -> Double? {
        for i in 0..<(n * n) { work[i] = a[i] }
        guard cholesky(work, n) else { return nil }
        var logDet = 0.0
        for i in 0..<n { logDet += 2 * _log(work[i &* n &+ i]) }
        for i in 0..<n { for j in 0..<n { inv[i &* n &+ j] = i == j ? 1 : 0 } }
        choleskySolve(work, n, inv, n)
        return logDet
    }

    // MARK: - Symmetric eigen-decomposition

    /// Eigenvalues (descending) and eigenvectors (columns of `vectors`, n×n row-major) of a
    /// symmetric matrix by cyclic Jacobi rotations: exact to round-off for the tiny matrices here.
    /// `near`: the eigenvectors of a nearby matrix (an iteration's previous step). The matrix is first
    /// rotated into that basis, where it is almost diagonal, so Jacobi needs one or two sweeps, not six
    /// to eight; the result is the same to round-off.
    static func symmetricEigen(_ matrix: [Double], _ n: Int, near basis: [Double]? = nil) -> (values: [Double], vectors: [Double]) {
        var a = matrix
        var v = [Double](repeating: 0, count: n * n)
        withUnsafeTemporaryAllocation(of: Double.self, capacity: n * n) { scratch in
            let t = scratch.baseAddress!
            a.withUnsafeMutableBufferPointer { ab in
                v.withUnsafeMutableBufferPointer { vb in
                    let a = ab.baseAddress!, v = vb.baseAddress!
                    if let basis {
                        basis.withUnsafeBufferPointer { bb in
                            let b = bb.baseAddress!
                            multiply(a, b, t, n, n, n)  // t = A B
                            for i in 0..<n {  // A ← Bᵀ (A B), symmetric
                                for j in i..<n {
                                    var sum = 0.0
                                    for k in 0..<n { sum += b[k * n + i] * t[k * n + j] }
                                    a[i * n + j] = sum; a[j * n + i] = sum
                                }
                            }
                        }
                    }
                    jacobi(a, v, n)
                    if let basis {  // eigenvectors of A: B times those of Bᵀ A B
                        for i in 0..<(n * n) { t[i] = v[i] }
                        basis.withUnsafeBufferPointer { bb in multiply(bb.baseAddress!, t, v, n, n, n) }
                    }
                }
            }
        }
        let order = (0..<n).sorted { a[$0 * n + $0] > a[$1 * n + $1] }
        var values = [Double](repeating: 0, count: n)
        var vectors = [Double](repeating: 0, count: n * n)
        for (dst, src) in order.enumerated() {
            values[dst] = a[src * n + src]
            for k in 0..<n { vectors[k * n + dst] = v[k * n + src] }
        }
        return (values, vectors)
    }

    /// The unit eigenvector of the smallest eigenvalue of a symmetric positive semi-definite 4×4
    /// matrix (`a`, overwritten; `work` needs 16), up to sign. Inverse iteration: for the DLT's
    /// AᵀA the smallest eigenvalue is orders of magnitude below the next, so 2–4 solves reach
    /// round-off (a Jacobi decomposition took ~2.5k flops); Jacobi when it does not converge.
    static func smallestEigenvector4(_ a: UnsafeMutablePointer<Double>, _ work: UnsafeMutablePointer<Double>) -> (
        Double, Double, Double, Double
    ) {
        withUnsafeTemporaryAllocation(of: Double.self, capacity: 24) { buffer in
            withUnsafeTemporaryAllocation(of: Int.self, capacity: 4) { pivots in
                smallestEigenvector4(a, work, buffer.baseAddress!, pivots.baseAddress!)
            }
        }
    }

    /// `smallestEigenvector4`'s body, with its scratch (24 doubles, 4 pivot indices) on the caller's stack.
    @inline(__always)
    private static func smallestEigenvector4(
        _ a: UnsafeMutablePointer<Double>, _ work: UnsafeMutablePointer<Double>, _ m: UnsafeMutablePointer<Double>,
        _ piv: UnsafeMutablePointer<Int>
    ) -> (Double, Double, Double, Double) {
        let x = m + 16, y = x + 4
        var scale = 0.0
        for i in 0..<16 { m[i] = a[i]; scale = max(scale, abs(a[i])) }
        // LU with partial pivoting (row swaps recorded in `piv`); a zero pivot becomes tiny.
        for i in 0..<4 { piv[i] = i }
        for c in 0..<4 {
            var best = c
            for r in (c + 1)..<4 where abs(m[r * 4 + c]) > abs(m[best * 4 + c]) { best = r }
            if best != c {
                for k in 0..<4 { let t = m[c * 4 + k]; m[c * 4 + k] = m[best * 4 + k]; m[best * 4 + k] = t }
                let t = piv[c]; piv[c] = piv[best]; piv[best] = t
            }
            if abs(m[c * 4 + c]) < 1e-300 { m[c * 4 + c] = max(scale, 1) * 1e-300 }
            for r in (c + 1)..<4 {
                let f = m[r * 4 + c] / m[c * 4 + c]
                m[r * 4 + c] = f
                for k in (c + 1)..<4 { m[r * 4 + k] -= f * m[c * 4 + k] }
            }
        }
        for i in 0..<4 { x[i] = 0.5 }
        for iteration in 0..<60 {
            for i in 0..<4 {
                var s = x[piv[i]]
                for k in 0..<i { s -= m[i * 4 + k] * y[k] }
                y[i] = s
            }
            for i in stride(from: 3, through: 0, by: -1) {
                var s = y[i]
                for k in (i + 1)..<4 { s -= m[i * 4 + k] * y[k] }
                y[i] = s / m[i * 4 + i]
            }
            var norm = (y[0] * y[0] + y[1] * y[1] + y[2] * y[2] + y[3] * y[3]).squareRoot()
            if y[0] * x[0] + y[1] * x[1] + y[2] * x[2] + y[3] * x[3] < 0 { norm = -norm }
            guard norm.isFinite, norm != 0 else { break }
            var change = 0.0
            for i in 0..<4 {
                let v = y[i] / norm
                change = max(change, abs(v - x[i]))
                x[i] = v
            }
            if change < 1e-15 && iteration > 0 { return (x[0], x[1], x[2], x[3]) }
        }
        // Not converged (two nearly equal smallest eigenvalues): the full decomposition.
        jacobi(a, work, 4)
        var smallest = 0
        for i in 1..<4 where a[i * 5] < a[smallest * 5] { smallest = i }
        return (work[smallest], work[4 + smallest], work[8 + smallest], work[12 + smallest])
    }

    /// Cyclic Jacobi on the symmetric n×n `a`, in place: its diagonal ends as the eigenvalues and
    /// `v` (set to the identity here) holds the eigenvectors as columns. Sweeps until the
    /// off-diagonal mass is below 1e-36 of the diagonal's, i.e. converged to round-off (an absolute
    /// threshold near underflow cost a dozen needless sweeps per call in the triangulation).
    @inline(__always)
    static func jacobi(_ a: UnsafeMutablePointer<Double>, _ v: UnsafeMutablePointer<Double>, _ n: Int) {
        for i in 0..<(n * n) { v[i] = i % (n + 1) == 0 ? 1 : 0 }
        for _ in 0..<100 {
            var off = 0.0, diagonal = 0.0
            for i in 0..<n {
                diagonal += a[i * n + i] * a[i * n + i]
                for j in (i + 1)..<max(n, i + 1) { off += a[i * n + j] * a[i * n + j] }
            }
            if off < 1e-300 || off <= 1e-36 * diagonal { break }
            for p in 0..<n {
                for q in (p + 1)..<max(n, p + 1) {
                    let apq = a[p * n + q]
                    // A pair already diagonal to round-off is left alone (its rotation would change nothing
                    // beyond the last bit): a matrix that starts nearly diagonal costs a fraction of a sweep.
                    if abs(apq) < 1e-300 || abs(apq) <= 1e-18 * (abs(a[p * n + p]) + abs(a[q * n + q])) {
                        a[p * n + q] = 0; a[q * n + p] = 0
                        continue
                    }
                    let theta = (a[q * n + q] - a[p * n + p]) / (2 * apq)
                    let t = (theta >= 0 ? 1.0 : -1.0) / (abs(theta) + (theta * theta + 1).squareRoot())
                    let c = 1 / (t * t + 1).squareRoot(), s = t * c
                    for k in 0..<n {
                        let akp = a[k * n + p], akq = a[k * n + q]
                        a[k * n + p] = c * akp - s * akq
                        a[k * n + q] = s * akp + c * akq
                    }
                    for k in 0..<n {
                        let apk = a[p * n + k], aqk = a[q * n + k]
                        a[p * n + k] = c * apk - s * aqk
                        a[q * n + k] = s * apk + c * aqk
                    }
                    for k in 0..<n {
                        let vkp = v[k * n + p], vkq = v[k * n + q]
                        v[k * n + p] = c * vkp - s * vkq
                        v[k * n + q] = s * vkp + c * vkq
                    }
                }
            }
        }
    }
}

@inline(__always) func _log(_ x: Double) -> Double { Foundation.log(x) }
