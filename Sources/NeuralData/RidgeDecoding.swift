// Cross-validated ridge regression from neural activity (optionally lagged) to one behaviour signal,
// reporting R² per held-out fold (as the Lightning Pose paper does for pupil diameter).
import Foundation

// MARK: - Inputs and results

/// One continuous stretch of recording (a trial, or a block of a long session) assigned to a fold.
public struct DecodingSegment: Sendable {
    /// Activity `(neurons, length)`, neuron-major: `activity[n * length + t]`.
    public var activity: [Float]
    public var neurons: Int
    public var length: Int
    /// Behaviour at each frame (NaN frames are skipped).
    public var target: [Double]
    /// Cross-validation fold of the whole segment (segments never straddle folds, so lags never leak).
    public var fold: Int
    public init(activity: [Float], neurons: Int, length: Int, target: [Double], fold: Int) {
        self.activity = activity
        self.neurons = neurons
        self.length = length
        self.target = target
        self.fold = fold
    }
}

/// Options of `crossValidatedRidge`.
public struct RidgeOptions: Sendable {
    /// Number of folds (segments carry their fold number in 0..<folds).
    public var folds = 5
    /// Previous frames added as extra features: row t uses activity at t, t−1, …, t−lags.
    public var lags = 0
    /// Candidate penalties, relative to the number of training rows (features are standardised);
    /// chosen per outer fold by inner leave-one-fold-out cross-validation.
    public var relativeAlphas: [Double] = [1e-4, 1e-3, 1e-2, 1e-1, 1, 10]
    /// A fixed relative penalty instead of the inner search.
    public var fixedAlpha: Double?
    public init(folds: Int = 5, lags: Int = 0, fixedAlpha: Double? = nil) {
        self.folds = folds
        self.lags = lags
        self.fixedAlpha = fixedAlpha
    }
}

/// R² of one held-out fold.
public struct FoldScore: Sendable {
    public var fold: Int
    public var r2: Double
    public var relativeAlpha: Double
    public var trainRows: Int
    public var testRows: Int
}

/// Scores of all folds.
public struct DecodingResult: Sendable {
    public var folds: [FoldScore]
    public var meanR2: Double { folds.isEmpty ? 0 : folds.map(\.r2).reduce(0, +) / Double(folds.count) }
}

/// Problems with decoding inputs.
public struct DecodingError: Error, CustomStringConvertible, Sendable {
    public var message: String
    public init(_ message: String) { self.message = message }
    public var description: String { message }
}

// MARK: - Sufficient statistics

/// Sums over rows of one fold: enough to fit and score a linear model exactly.
struct Moments {
    var n = 0.0
    var sx: [Double], sy = 0.0, sxx: [Double], sxy: [Double], syy = 0.0
    let p: Int

    init(p: Int) {
        self.p = p
        sx = [Double](repeating: 0, count: p)
        sxy = sx
        sxx = [Double](repeating: 0, count: p * p)
    }

    mutating func add(row: [Double], y: Double) {
        n += 1
        sy += y
        syy += y * y
        for i in 0..<p {
            let xi = row[i]
            if xi == 0 { continue }
            sx[i] += xi
            sxy[i] += xi * y
            let base = i * p
            for j in i..<p { sxx[base + j] += xi * row[j] }
        }
    }

    /// Mirrors the upper triangle after all rows are added.
    mutating func symmetrize() {
        for i in 0..<p { for j in (i + 1)..<max(p, i + 1) { sxx[j * p + i] = sxx[i * p + j] } }
    }

    static func + (a: Moments, b: Moments) -> Moments {
        var s = a
        s.n += b.n; s.sy += b.sy; s.syy += b.syy
        for i in 0..<a.p { s.sx[i] += b.sx[i]; s.sxy[i] += b.sxy[i] }
        for i in 0..<(a.p * a.p) { s.sxx[i] += b.sxx[i] }
        return s
    }

    /// Ridge fit on standardised features with penalty `relativeAlpha · n`; weights on the raw scale.
    func fit(relativeAlpha: Double) -> (w: [Double], b: Double)? {
        guard n > 1 else { return nil }
        let mx = sx.map { $0 / n }, my = sy / n
        var std = [Double](repeating: 1, count: p)
        for i in 0..<p {
            let v = (sxx[i * p + i] - n * mx[i] * mx[i]) / n
            std[i] = v > 1e-12 ? v.squareRoot() : 1
        }
        var a = [Double](repeating: 0, count: p * p)
        var c = [Double](repeating: 0, count: p)
        for i in 0..<p {
            c[i] = (sxy[i] - n * mx[i] * my) / std[i]
            for j in 0..<p { a[i * p + j] = (sxx[i * p + j] - n * mx[i] * mx[j]) / (std[i] * std[j]) }
            a[i * p + i] += relativeAlpha * n
        }
        guard let ws = choleskySolve(a, c, p) else { return nil }
        let w = (0..<p).map { ws[$0] / std[$0] }
        let b = my - zip(mx, w).reduce(0) { $0 + $1.0 * $1.1 }
        return (w, b)
    }

    /// R² of `(w, b)` on these rows (1 − SS_res / SS_tot, with this fold's own mean).
    func r2(w: [Double], b: Double) -> Double {
        var wSxy = 0.0, wSx = 0.0, wGw = 0.0
        for i in 0..<p {
            wSxy += w[i] * sxy[i]
            wSx += w[i] * sx[i]
            var gi = 0.0
            for j in 0..<p { gi += sxx[i * p + j] * w[j] }
            wGw += w[i] * gi
        }
        let ssRes = syy - 2 * wSxy - 2 * b * sy + wGw + 2 * b * wSx + n * b * b
        let ssTot = syy - sy * sy / n
        return ssTot > 0 ? 1 - ssRes / ssTot : 0
    }
}

/// Solves `A x = c` for symmetric positive-definite `A` (p×p, row-major) by Cholesky.
func choleskySolve(_ a: [Double], _ c: [Double], _ p: Int) -> [Double]? {
    var l = a
    for j in 0..<p {
        var d = l[j * p + j]
        for k in 0..<j { d -= l[j * p + k] * l[j * p + k] }
        guard d > 0 else { return nil }
        let djj = d.squareRoot()
        l[j * p + j] = djj
        for i in (j + 1)..<max(p, j + 1) {
            var s = l[i * p + j]
            for k in 0..<j { s -= l[i * p + k] * l[j * p + k] }
            l[i * p + j] = s / djj
        }
    }
    var y = c
    for i in 0..<p {
        var s = y[i]
        for k in 0..<i { s -= l[i * p + k] * y[k] }
        y[i] = s / l[i * p + i]
    }
    var x = y
    for i in stride(from: p - 1, through: 0, by: -1) {
        var s = x[i]
        for k in (i + 1)..<max(p, i + 1) { s -= l[k * p + i] * x[k] }
        x[i] = s / l[i * p + i]
    }
    return x
}

// MARK: - Cross-validation

/// Fits ridge regression on all folds but one and reports R² on the held-out one, for every fold.
public func crossValidatedRidge(_ segments: [DecodingSegment], options: RidgeOptions = RidgeOptions()) throws -> DecodingResult {
    guard options.folds >= 2 else { throw DecodingError("need at least 2 folds (got \(options.folds))") }
    guard options.lags >= 0 else { throw DecodingError("lags must be ≥ 0 (got \(options.lags))") }
    guard let neurons = segments.first?.neurons, neurons > 0 else { throw DecodingError("no neural activity to decode from") }
    for (i, s) in segments.enumerated() {
        guard s.neurons == neurons, s.activity.count == s.neurons * s.length, s.target.count == s.length else {
            throw DecodingError(
                "segment \(i): activity \(s.activity.count) values / target \(s.target.count) frames do not match \(s.neurons) neurons × \(s.length) frames (all segments need \(neurons) neurons)"
            )
        }
        guard (0..<options.folds).contains(s.fold) else { throw DecodingError("segment \(i): fold \(s.fold) outside 0..<\(options.folds)") }
    }
    let lags = options.lags, p = neurons * (lags + 1)
    var perFold = [Moments](repeating: Moments(p: p), count: options.folds)
    var row = [Double](repeating: 0, count: p)
    for s in segments where s.length > lags {
        for t in lags..<s.length where s.target[t].isFinite {
            for lag in 0...lags {
                for n in 0..<neurons { row[lag * neurons + n] = Double(s.activity[n * s.length + t - lag]) }
            }
            perFold[s.fold].add(row: row, y: s.target[t])
        }
    }
    for f in perFold.indices { perFold[f].symmetrize() }
    for (f, m) in perFold.enumerated() where m.n < 2 {
        throw DecodingError("fold \(f) has \(Int(m.n)) usable frames; use fewer folds or more data")
    }

    func sum(_ folds: [Int]) -> Moments { folds.dropFirst().reduce(perFold[folds[0]]) { $0 + perFold[$1] } }

    var scores: [FoldScore] = []
    for test in 0..<options.folds {
        let train = (0..<options.folds).filter { $0 != test }
        let alpha = options.fixedAlpha ?? chooseAlpha(train: train, options: options, sum: sum)
        let trainMoments = sum(train)
        guard let (w, b) = trainMoments.fit(relativeAlpha: alpha) else {
            throw DecodingError("fold \(test): the ridge system could not be solved (use a larger alpha)")
        }
        scores.append(
            FoldScore(
                fold: test, r2: perFold[test].r2(w: w, b: b), relativeAlpha: alpha,
                trainRows: Int(trainMoments.n), testRows: Int(perFold[test].n)))
    }
    return DecodingResult(folds: scores)
}

/// Inner leave-one-fold-out over the training folds: the penalty with the best mean R².
private func chooseAlpha(train: [Int], options: RidgeOptions, sum: ([Int]) -> Moments) -> Double {
    var best = (alpha: options.relativeAlphas.last ?? 1, score: -Double.infinity)
    for alpha in options.relativeAlphas {
        var total = 0.0
        for inner in train {
            let rest = train.filter { $0 != inner }
            guard !rest.isEmpty, let (w, b) = sum(rest).fit(relativeAlpha: alpha) else { total = -.infinity; break }
            total += sum([inner]).r2(w: w, b: b)
        }
        if total > best.score { best = (alpha, total) }
    }
    return best.alpha
}
