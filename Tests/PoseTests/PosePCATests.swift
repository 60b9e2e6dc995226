import Foundation
import KinemaTestSupport
import PoseData
import PoseFormats
import PoseModels
import Testing

/// The mirror-mouse example's labels, one `[x₀, y₀, …]` row per frame (frame pixels, NaN = unlabelled).
func mirrorMouseLabelFrames() throws -> [[Double]] {
    let table = try PoseTable.read(from: TestFiles.data.appendingPathComponent("mirror-mouse-example/CollectedData.csv"))
    let width = table.columnsPerRow
    return (0..<table.rowCount).map { Array(table.values[$0 * width..<($0 + 1) * width]) }
}

@Suite("Pose and multiview PCA fits (LP's NaNPCA)")
struct PosePCATests {
    /// 16 points (±3, ±2, ±1, ±0.1) in latent axes, rotated into 4-D and shifted: their covariance is exactly
    /// Q·diag(a²)·Qᵀ·16/15, so the axes are Q's columns and the variances a²·16/15.
    static let scales = [3.0, 2.0, 1.0, 0.1]
    static let rotation: [[Double]] = {
        // Q = G(0,1,30°)·G(2,3,−50°)·G(1,2,70°): three Givens rotations (orthonormal, no axis aligned with a basis vector).
        func givens(_ i: Int, _ j: Int, _ degrees: Double) -> [[Double]] {
            var g = (0..<4).map { r in (0..<4).map { c in r == c ? 1.0 : 0 } }
            let t = degrees * .pi / 180
            (g[i][i], g[j][j], g[i][j], g[j][i]) = (cos(t), cos(t), -sin(t), sin(t))
            return g
        }
        func product(_ a: [[Double]], _ b: [[Double]]) -> [[Double]] {
            (0..<4).map { r in (0..<4).map { c in (0..<4).reduce(0) { $0 + a[r][$1] * b[$1][c] } } }
        }
        return product(product(givens(0, 1, 30), givens(2, 3, -50)), givens(1, 2, 70))
    }()
    static let offset = [100.0, 50.0, -20.0, 7.0]

    static func cloud() -> [[Double]] {
        (0..<16).map { n in
            let z = (0..<4).map { d in (n >> d) & 1 == 1 ? scales[d] : -scales[d] }
            return (0..<4).map { r in offset[r] + (0..<4).reduce(0) { $0 + rotation[r][$1] * z[$1] } }
        }
    }

    @Test func rotatedCloudGivesBackItsAxesAndVariances() throws {
        let pca = try PosePCA.fit(rows: Self.cloud(), keep: .count(3), key: "test")
        for j in 0..<4 { #expect(abs(pca.mean[j] - Self.offset[j]) < 1e-12) }
        for (d, a) in Self.scales.enumerated() {
            #expect(abs(pca.explainedVariance[d] - a * a * 16 / 15) < 1e-9, "variance \(d)")
            let axis = (0..<4).map { Self.rotation[$0][d] }
            let cosine = zip(axis, pca.components[d]).reduce(0) { $0 + $1.0 * $1.1 }
            #expect(abs(abs(cosine) - 1) < 1e-9, "axis \(d): |cos| = \(abs(cosine))")
            // sklearn's sign rule: the largest-magnitude entry is positive.
            #expect(pca.components[d].max { abs($0) < abs($1) }! > 0)
        }
        #expect(pca.keptCount == 3)
        // The kept 3 axes reconstruct a point of the cloud up to its 4th latent coordinate (±0.1).
        let point = Self.cloud()[5]
        for r in pca.residuals(point) { #expect(r <= 0.1 + 1e-9) }
        #expect(abs(pca.residuals(point).map { $0 * $0 }.reduce(0, +) - 0.01) < 1e-12)
    }

    @Test func varianceFractionPicksTheFewestAxesThatReachIt() throws {
        let pca = try PosePCA.fit(rows: Self.cloud(), keep: .fraction(0.99), key: "test")
        // Ratios 9, 4, 1, 0.01 over 14.01: cumulative 0.642, 0.928, 0.99929, 1.
        #expect(pca.keptCount == 3)
        let ratios = pca.explainedVarianceRatio
        let expected: [(ComponentsToKeep, Int)] = [
            (.fraction(0.5), 1), (.fraction(0.9), 2), (.fraction(0.95), 3), (.fraction(0.9995), 4), (.fraction(1.0), 4), (.count(2), 2),
        ]
        for (keep, count) in expected { #expect(PosePCA.keptCount(ratios: ratios, keep: keep) == count, "\(keep)") }
        #expect(abs(pca.keptVarianceFraction - 14 / 14.01) < 1e-12)
    }

    /// Pairwise covariance by hand: column means over present values, each pair over the rows holding both,
    /// divided by (pairs − 1). This one is not positive semi-definite: its negative eigenvalue is clipped to 0.
    @Test func missingValuesArePairwise() throws {
        let rows: [[Double]] = [[1, 2], [3, .nan], [5, 6], [.nan, 4], [2, 2]]
        let pca = try PosePCA.fit(rows: rows, keep: .count(1), key: "test")
        #expect(pca.mean == [2.75, 3.5])
        let (a, b, c) = (35.0 / 12, 75.0 / 16, 11.0 / 3)  // var x (4 rows), cov xy (3 rows), var y (4 rows)
        let trace = a + c, det = a * c - b * b
        #expect(det < 0)
        #expect(abs(pca.explainedVariance[0] - (trace + (trace * trace - 4 * det).squareRoot()) / 2) < 1e-12)
        #expect(pca.explainedVariance[1] == 0)
        // The leading axis solves (C − λ)v = 0: v ∝ (b, λ − a), sign positive.
        let l = pca.explainedVariance[0], norm = hypot(b, l - a)
        #expect(abs(pca.components[0][0] - b / norm) < 1e-12 && abs(pca.components[0][1] - (l - a) / norm) < 1e-12)
        // A row with a missing value has no projection.
        let missing = pca.residuals([3, .nan])
        #expect(missing.count == 1 && missing[0].isNaN)
    }

    @Test func percentileIsNumpysNanpercentile() {
        // np.nanpercentile([1, 2, 3, 4, nan], [99, 50, 0, 100]) = 3.97, 2.5, 1, 4
        let values = [4.0, 1, .nan, 3, 2]
        #expect(abs(finitePercentile(values, 99)! - 3.97) < 1e-12)
        #expect(finitePercentile(values, 50) == 2.5 && finitePercentile(values, 0) == 1 && finitePercentile(values, 100) == 4)
        #expect(finitePercentile([.nan], 50) == nil)
    }

    /// ε from the labels: the residuals of the full rows at the percentile, times the multiplier; NaN rows skipped.
    @Test func epsilonRule() throws {
        // Axes x (var 6.8) and y (var 4/6), no covariance; keeping x leaves residual |y|: [1, 1, 1, 1, 0, 0], NaN row skipped.
        let frames: [[Double]] = [[2, 1], [2, -1], [-2, 1], [-2, -1], [3, 0], [-3, 0], [.nan, 0]]
        var settings = UnsupervisedLossSettings.PCA(
            key: "losses.pca_singleview", observation: .pose(keypoints: [0], centering: nil), logWeight: 0,
            componentsToKeep: .count(1), epsilon: nil, epsilonPercentile: 30, epsilonMultiplier: 2)
        let fit = try FittedSubspace.fit(settings, frames: frames)
        #expect(abs(fit.pca.explainedVariance[0] - 6.8) < 1e-12 && abs(fit.pca.explainedVariance[1] - 4.0 / 6) < 1e-12)
        #expect(abs(fit.epsilon - 2 * 0.5) < 1e-12)  // np.nanpercentile([1,1,1,1,0,0,nan], 30) = 0.5
        settings.epsilonPercentile = 99
        #expect(abs(try FittedSubspace.fit(settings, frames: frames).epsilon - 2) < 1e-12)
        settings.epsilon = 7.5  // a fixed ε wins, without the multiplier
        #expect(try FittedSubspace.fit(settings, frames: frames).epsilon == 7.5)
    }

    @Test func observationRowsFollowLPLayouts() {
        let frames: [[Double]] = [[0, 1, 10, 11, 20, 21, 30, 31], [100, 101, .nan, .nan, 120, 121, 130, 131]]
        let pose = PCAObservation.pose(keypoints: [3, 0], centering: nil)
        #expect(pose.rows(frames: frames) == [[30, 31, 0, 1], [130, 131, 100, 101]])
        // Centred on the median of keypoints 0 and 1, (5, 6); a frame missing one has no centroid (LP's torch one is NaN).
        let centred = PCAObservation.pose(keypoints: [0, 1], centering: .median).rows(frames: frames)
        let allMissing = centred[1].allSatisfy { $0.isNaN }
        #expect(centred[0] == [-5, -5, 5, 5] && allMissing)
        // Multiview: one row per frame and body part, [x_v0, y_v0, x_v1, y_v1].
        let views = PCAObservation.bodyPartInViews([[0, 1], [2, 3]])
        #expect(views.dimension == 4)
        #expect(views.rows(frames: [frames[0]]) == [[0, 1, 20, 21], [10, 11, 30, 31]])
    }

    /// The fit on real labels (LP's mirror-mouse example, with its NaNs) against numpy running LP's NaNPCA
    /// (scripts/dev/make-pca-fixture.py).
    @Test(arguments: ["singleview", "singleviewMeanCentred", "multiview"])
    func matchesNumpyOnTheMirrorMouseLabels(_ name: String) throws {
        let frames = try mirrorMouseLabelFrames()
        let columns = [0, 1, 2, 3, 4, 5, 6, 8, 9, 10, 11, 12, 13, 14]
        let (observation, keep, reference): (PCAObservation, ComponentsToKeep, PCAReference.Fit) =
            switch name {
            case "singleview": (.pose(keypoints: columns, centering: nil), .fraction(0.99), PCAReference.singleview)
            case "singleviewMeanCentred": (.pose(keypoints: columns, centering: .mean), .fraction(0.95), PCAReference.singleviewMeanCentred)
            default: (.bodyPartInViews([Array(0...6), Array(8...14)]), .count(3), PCAReference.multiview)
            }
        let settings = UnsupervisedLossSettings.PCA(
            key: "losses.test", observation: observation, logWeight: 10.7, componentsToKeep: keep, epsilon: nil)
        let fit = try FittedSubspace.fit(settings, frames: frames)
        #expect(fit.pca.keptCount == reference.kept)
        for (a, b) in zip(fit.pca.mean, reference.mean) { #expect(abs(a - b) < 1e-9 * max(1, abs(b))) }
        let top = reference.variance[0]
        for (a, b) in zip(fit.pca.explainedVariance, reference.variance) { #expect(abs(a - b) < 1e-9 * top, "\(a) vs \(b)") }
        for (d, axis) in reference.components.enumerated() {
            for (a, b) in zip(fit.pca.components[d], axis) { #expect(abs(a - b) < 1e-7, "axis \(d)") }
        }
        #expect(abs(fit.epsilon - reference.epsilon) < 1e-7 * reference.epsilon, "ε \(fit.epsilon) vs \(reference.epsilon)")
    }

    @Test func tooFewLabelsAreSaidInOneLine() throws {
        let settings = UnsupervisedLossSettings.PCA(
            key: "losses.pca_singleview", observation: .pose(keypoints: [0, 1, 2], centering: nil), logWeight: 0,
            componentsToKeep: .fraction(0.99), epsilon: nil)
        let five = (0..<5).map { n in (0..<6).map { Double($0 * n + n * n) } }
        let error = #expect(throws: PoseModelError.self) { try FittedSubspace.fit(settings, frames: five) }
        #expect(error?.description.hasPrefix("losses.pca_singleview: 5 observations") == true)
        // Keypoints 1 and 2 never labelled together.
        var frames = (0..<8).map { n in (0..<6).map { Double(($0 + 1) * n % 7) } }
        for n in 0..<8 {
            if n % 2 == 0 { frames[n][2] = .nan } else { frames[n][4] = .nan }
        }
        let pairs = #expect(throws: PoseModelError.self) { try FittedSubspace.fit(settings, frames: frames) }
        #expect(pairs?.description.contains("keypoints 1 and 2 are labelled together in 0 training frame(s)") == true)
        // No complete frame: ε cannot come from the labels.
        var gappy = (0..<8).map { n in (0..<6).map { Double(($0 + 2) * n % 5) + Double($0) } }
        for n in 0..<8 { gappy[n][2 * (n % 3)] = .nan }
        let epsilon = #expect(throws: PoseModelError.self) { try FittedSubspace.fit(settings, frames: gappy) }
        #expect(epsilon?.description.contains("set losses.pca_singleview.epsilon") == true)
        for e in [error?.description, pairs?.description, epsilon?.description] { #expect(e?.contains("\n") == false) }
    }
}
