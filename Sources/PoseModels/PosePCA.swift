// Pose PCA and multiview PCA (LP §4.4–4.5): the subspace of the labelled keypoints, fitted once before training.
//
// One pixel frame throughout: LP fits on labels in model (resized) pixels and applies the fit to predictions in frame
// pixels (§9.1), which agree only when frames are not resized. Kinema fits on the labels in *frame* pixels (as the
// label CSVs store them) and applies the fit to predictions in frame pixels (augmentation undone, §5.3), so the mean,
// the subspace and ε are all in the same pixels as the temporal loss's ε.
import Foundation
import PoseData
import Torch

/// A principal component analysis of keypoint observations with missing values, as LP's `NaNPCA`: the mean is the
/// column-wise mean of the present values, and each covariance entry uses the rows where both coordinates are present,
/// normalised by (that pair count − 1) (`numpy.ma.cov`). Eigenvalues are sorted in decreasing order with negative
/// round-off clipped to 0, and each axis's largest-magnitude entry is made positive (sklearn's `svd_flip`).
public struct PosePCA: Sendable, Equatable {
    public var mean: [Double]
    /// Every principal axis (unit rows), by decreasing variance.
    public var components: [[Double]]
    /// The variance along each axis.
    public var explainedVariance: [Double]
    /// How many leading axes span the subspace.
    public var keptCount: Int

    public init(mean: [Double], components: [[Double]], explainedVariance: [Double], keptCount: Int) {
        (self.mean, self.components, self.explainedVariance, self.keptCount) = (mean, components, explainedVariance, keptCount)
    }

    public var dimension: Int { mean.count }

    public var explainedVarianceRatio: [Double] {
        let total = explainedVariance.reduce(0, +)
        return explainedVariance.map { $0 / total }
    }

    /// The fraction of the variance the kept axes explain.
    public var keptVarianceFraction: Double { explainedVarianceRatio.prefix(keptCount).reduce(0, +) }

    /// Fits rows (observations × coordinates; NaN = missing). `describe(i, j)` names coordinates i and j for the
    /// message when too few rows hold both. Throws a one-line `PoseModelError` naming `key`.
    public static func fit(
        rows: [[Double]], keep: ComponentsToKeep, key: String,
        describe: (Int, Int) -> String = { "coordinates \($0) and \($1)" }
    ) throws -> PosePCA {
        guard let d = rows.first?.count, d > 0 else { throw PoseModelError("\(key): there are no labelled training frames to fit PCA on") }
        guard rows.count >= d else {
            throw PoseModelError(
                "\(key): \(rows.count) observations from the labelled training frames cannot fit a PCA of \(d) coordinates; label more frames or use fewer keypoints"
            )
        }
        var mean = [Double](repeating: 0, count: d)
        for j in 0..<d {
            let present = rows.map { $0[j] }.filter(\.isFinite)
            mean[j] = present.isEmpty ? .nan : present.reduce(0, +) / Double(present.count)
        }
        var sums = [Double](repeating: 0, count: d * d), counts = [Int](repeating: 0, count: d * d)
        for row in rows {
            let centred = zip(row, mean).map { $0 - $1 }
            for i in 0..<d where centred[i].isFinite {
                for j in i..<d where centred[j].isFinite {
                    sums[i * d + j] += centred[i] * centred[j]
                    counts[i * d + j] += 1
                }
            }
        }
        var covariance = [Double](repeating: 0, count: d * d)
        for i in 0..<d {
            for j in i..<d {
                guard counts[i * d + j] >= 2 else {
                    throw PoseModelError(
                        "\(key): \(describe(i, j)) are labelled together in \(counts[i * d + j]) training frame(s), too few for PCA (2 or more); label more frames or use fewer keypoints"
                    )
                }
                covariance[i * d + j] = sums[i * d + j] / Double(counts[i * d + j] - 1)
                covariance[j * d + i] = covariance[i * d + j]
            }
        }
        // LAPACK's symmetric eigensolver (as numpy's eigh), in float64.
        let decomposition = try Torch.call("aten::linalg_eigh", [.tensor(try Tensor(covariance, shape: [d, d])), .string("L")])
        let ascending = try decomposition[0].toArray(Double.self), vectors = try decomposition[1].toArray(Double.self)
        var variance: [Double] = [], components: [[Double]] = []
        for c in (0..<d).reversed() {
            var axis = (0..<d).map { vectors[$0 * d + c] }  // column c
            let largest = axis.indices.max { abs(axis[$0]) < abs(axis[$1]) } ?? 0
            if axis[largest] < 0 { axis = axis.map { -$0 } }
            components.append(axis)
            variance.append(Swift.max(ascending[c], 0))
        }
        guard variance.reduce(0, +) > 0 else {
            throw PoseModelError("\(key): the labelled keypoints do not vary, so they have no principal axes")
        }
        var pca = PosePCA(mean: mean, components: components, explainedVariance: variance, keptCount: d)
        pca.keptCount = keptCount(ratios: pca.explainedVarianceRatio, keep: keep)
        guard pca.keptCount <= d else {
            throw PoseModelError("\(key).components_to_keep is \(pca.keptCount), more than the \(d) coordinates of each observation")
        }
        return pca
    }

    /// LP's `ComponentChooser`: a count as given; a fraction f < 1, the fewest leading axes whose cumulative explained
    /// variance ratio reaches f; 1.0, every axis.
    public static func keptCount(ratios: [Double], keep: ComponentsToKeep) -> Int {
        switch keep {
        case .count(let n): return n
        case .fraction(let f):
            guard f < 1 else { return ratios.count }
            var cumulative = 0.0
            for (i, r) in ratios.enumerated() {
                cumulative += r
                if cumulative >= f { return i + 1 }
            }
            return ratios.count
        }
    }

    /// `x̂ = μ + (x − μ)·Uₖᵀ·Uₖ`, the row's projection onto the kept subspace.
    public func reconstruct(_ row: [Double]) -> [Double] {
        let centred = zip(row, mean).map { $0 - $1 }
        var result = mean
        for axis in components.prefix(keptCount) {
            let score = zip(centred, axis).reduce(0) { $0 + $1.0 * $1.1 }
            for j in result.indices { result[j] += score * axis[j] }
        }
        return result
    }

    /// The distance between each (x, y) pair of the row and of its reconstruction; NaN throughout for a row with a
    /// missing value (its projection is undefined).
    public func residuals(_ row: [Double]) -> [Double] {
        let fitted = reconstruct(row)
        return stride(from: 0, to: row.count, by: 2).map { j in
            hypot(row[j] - fitted[j], row[j + 1] - fitted[j + 1])
        }
    }
}

/// The `percentile` (0–100) of the finite values, interpolated linearly between order statistics (numpy's
/// `nanpercentile`); nil when there is none.
public func finitePercentile(_ values: [Double], _ percentile: Double) -> Double? {
    let sorted = values.filter(\.isFinite).sorted()
    guard !sorted.isEmpty else { return nil }
    let position = percentile / 100 * Double(sorted.count - 1)
    let low = Int(position.rounded(.down)), high = Swift.min(low + 1, sorted.count - 1)
    return sorted[low] + (position - Double(low)) * (sorted[high] - sorted[low])
}

// MARK: - Observations from labels

extension PCAObservation {
    /// Coordinates per observation row.
    public var dimension: Int {
        switch self {
        case .pose(let keypoints, _): 2 * keypoints.count
        case .bodyPartInViews(let views): 2 * views.count
        }
    }

    /// The PCA rows of labelled frames, each `[x₀, y₀, x₁, y₁, …]` over every keypoint in frame pixels (NaN =
    /// unlabelled). Pose PCA: one row per frame; with centring, a frame missing any selected keypoint has no centroid
    /// and its row is all NaN (as in LP). Multiview PCA: one row per frame and body part, frame-major.
    public func rows(frames: [[Double]]) -> [[Double]] {
        switch self {
        case .pose(let keypoints, let centering):
            return frames.map { frame in
                var xs = keypoints.map { frame[2 * $0] }, ys = keypoints.map { frame[2 * $0 + 1] }
                if let centering {
                    let cx = centroid(xs, centering), cy = centroid(ys, centering)
                    xs = xs.map { $0 - cx }
                    ys = ys.map { $0 - cy }
                }
                return Array(zip(xs, ys).map { [$0, $1] }.joined())
            }
        case .bodyPartInViews(let views):
            return frames.flatMap { frame in
                (0..<views[0].count).map { part in Array(views.map { [frame[2 * $0[part]], frame[2 * $0[part] + 1]] }.joined()) }
            }
        }
    }

    /// The observation's centre (NaN when a value is missing); the median of an even count averages the middle two
    /// (torch's `quantile(0.5)`, which LP uses).
    private func centroid(_ values: [Double], _ method: PoseCentering) -> Double {
        guard values.allSatisfy(\.isFinite) else { return .nan }
        switch method {
        case .mean: return values.reduce(0, +) / Double(values.count)
        case .median:
            let sorted = values.sorted(), n = sorted.count
            return n % 2 == 1 ? sorted[n / 2] : (sorted[n / 2 - 1] + sorted[n / 2]) / 2
        }
    }
}

// MARK: - A fitted loss subspace

/// A PCA loss's fit: the observation layout, the PCA of the labelled training frames and ε (LP §4.4's rule: a fixed
/// `epsilon`, else the labels' own reconstruction error at `empirical_epsilon_percentile`, NaN-ignoring, times
/// `empirical_epsilon_multiplier`).
public struct FittedSubspace: Sendable, Equatable {
    public var settings: UnsupervisedLossSettings.PCA
    public var pca: PosePCA
    /// Frame pixels.
    public var epsilon: Double

    public init(settings: UnsupervisedLossSettings.PCA, pca: PosePCA, epsilon: Double) {
        (self.settings, self.pca, self.epsilon) = (settings, pca, epsilon)
    }

    /// Fits on the labelled training frames (`[x₀, y₀, x₁, y₁, …]` per frame, frame pixels, NaN = unlabelled).
    public static func fit(_ settings: UnsupervisedLossSettings.PCA, frames: [[Double]]) throws -> FittedSubspace {
        let rows = settings.observation.rows(frames: frames)
        let pca = try PosePCA.fit(rows: rows, keep: settings.componentsToKeep, key: settings.key) { i, j in
            switch settings.observation {
            case .pose(let keypoints, _):
                let a = keypoints[i / 2], b = keypoints[j / 2]
                return a == b ? "the x and y of keypoint \(a)" : "keypoints \(a) and \(b)"
            case .bodyPartInViews:
                return i / 2 == j / 2 ? "the x and y of view \(i / 2)" : "views \(i / 2) and \(j / 2)"
            }
        }
        if let fixed = settings.epsilon { return FittedSubspace(settings: settings, pca: pca, epsilon: fixed) }
        guard let own = finitePercentile(rows.flatMap(pca.residuals), settings.epsilonPercentile) else {
            throw PoseModelError(
                "\(settings.key): no labelled training frame has all its keypoints, so ε cannot come from the labels; set \(settings.key).epsilon (pixels)"
            )
        }
        return FittedSubspace(settings: settings, pca: pca, epsilon: own * settings.epsilonMultiplier)
    }

    /// One line for the training log: `pose PCA: 6 of 28 components (99.1% of the labels' variance), ε = 7.42 px`.
    public var summary: String {
        let what = if case .pose = settings.observation { "pose PCA" } else { "multiview PCA" }
        let source = settings.epsilon == nil ? " (labels' \(String(format: "%g", settings.epsilonPercentile))th percentile)" : ""
        return
            "\(what): \(pca.keptCount) of \(pca.dimension) components (\(String(format: "%.1f", 100 * pca.keptVarianceFraction))% of the labels' variance), ε = \(String(format: "%.2f", epsilon)) px\(source)"
    }
}
