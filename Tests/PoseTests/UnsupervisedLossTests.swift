import Foundation
import PoseData
import PoseModels
import Testing
import Torch

@Suite("Unsupervised losses (temporal, pose PCA, multiview PCA): values, gradients, weights, annealing")
struct UnsupervisedLossTests {
    /// Autograd of `f` at `x` against central finite differences, in float64.
    func gradcheck(_ x: [Double], shape: [Int], _ f: (Tensor) throws -> Tensor) throws {
        let leaf = try Tensor(x, shape: shape).requiresGrad(true)
        try f(leaf).backward()
        let analytic = try #require(leaf.grad).toArray(Double.self)
        let h = 1e-6
        for i in x.indices {
            var plus = x, minus = x
            plus[i] += h
            minus[i] -= h
            let numeric = try withNoGrad {
                (try f(Tensor(plus, shape: shape)).item() - f(Tensor(minus, shape: shape)).item()) / (2 * h)
            }
            #expect(abs(analytic[i] - numeric) < 1e-6 * max(1, abs(numeric)), "element \(i): autograd \(analytic[i]) vs \(numeric)")
        }
    }

    /// Deterministic values in [lo, hi).
    func values(_ count: Int, seed: UInt64, _ lo: Double = 0, _ hi: Double = 1) throws -> [Double] {
        try Runtime.manualSeed(seed)
        return try Tensor.rand([count], dtype: .float64).toArray(Double.self).map { lo + (hi - lo) * $0 }
    }

    // MARK: Temporal

    @Test func temporalByHand() throws {
        // Frames of 2 keypoints: keypoint 0 moves (3, 4) then stays; keypoint 1 stays then moves (0, 2).
        let p = try Tensor([0, 0, 1, 1, 3, 4, 1, 1, 3, 4, 1, 3] as [Double], shape: [3, 2, 2])
        let loss = TemporalLoss(epsilon: [1, 0.5], probThreshold: 0.05)
        // Steps [[5, 0], [0, 2]] → max(0, e − ε) = [[4, 0], [0, 1.5]] → mean over 4 entries.
        #expect(try loss.steps(p).toArray(Double.self) == [5, 0, 0, 2])
        #expect(try loss(p).item() == 5.5 / 4)
        // Keypoint 0 unsure in frame 1: both of its steps are masked, and still counted in the mean (LP).
        let c = try Tensor([0.9, 0.9, 0.01, 0.9, 0.9, 0.9] as [Double], shape: [3, 2])
        #expect(try loss(p, confidences: c).item() == 1.5 / 4)
        // A confidence exactly at the threshold is kept (LP masks c < threshold).
        let atThreshold = try Tensor([0.9, 0.9, 0.05, 0.9, 0.9, 0.9] as [Double], shape: [3, 2])
        #expect(try loss(p, confidences: atThreshold).item() == 5.5 / 4)
        // One ε for all keypoints; rows [x₀, y₀, x₁, y₁] give the same.
        #expect(try TemporalLoss(epsilon: [1], probThreshold: 0)(p.reshape([3, 4])).item() == (4 + 1) / 4.0)
        #expect(throws: TorchError.self) { try loss(p.slice(0, 0, 1)) }
    }

    /// LP's formula, `mean(ReLU(‖Δp‖ − ε) · mask)`, computed on the host for random clips.
    @Test func temporalIsLPsFormula() throws {
        let (t, k) = (7, 3)
        let xs = try values(t * k * 2, seed: 3, 0, 40), cs = try values(t * k, seed: 4)
        let epsilon = [5.0, 10, 15], threshold = 0.3
        var sum = 0.0
        for s in 0..<(t - 1) {
            for j in 0..<k {
                let a = (s * k + j) * 2, b = ((s + 1) * k + j) * 2
                let e = hypot(xs[b] - xs[a], xs[b + 1] - xs[a + 1])
                let kept = cs[s * k + j] >= threshold && cs[(s + 1) * k + j] >= threshold
                sum += kept ? max(0, e - epsilon[j]) : 0
            }
        }
        let loss = TemporalLoss(epsilon: epsilon, probThreshold: threshold)
        let value = try loss(Tensor(xs, shape: [t, k, 2]), confidences: Tensor(cs, shape: [t, k])).item()
        #expect(abs(value - sum / Double((t - 1) * k)) < 1e-12)
        // Two clips at once average their losses (equal lengths), and no difference crosses from one clip to the next.
        let ys = try values(t * k * 2, seed: 5, 0, 40)
        let other = try loss(Tensor(ys, shape: [t, k, 2])).item(), first = try loss(Tensor(xs, shape: [t, k, 2])).item()
        let both = try loss(Tensor(xs + ys, shape: [2, t, k, 2])).item()
        #expect(abs(both - (first + other) / 2) < 1e-12)
    }

    @Test func temporalGradientsMatchFiniteDifferences() throws {
        let xs = try values(5 * 3 * 2, seed: 7, 0, 30)
        let c = try Tensor([0.9, 0.9, 0.9, 0.9, 0.01, 0.9, 0.9, 0.9, 0.9, 0.9, 0.9, 0.9, 0.9, 0.9, 0.9] as [Double], shape: [5, 3])
        let loss = TemporalLoss(epsilon: [3, 6, 9], probThreshold: 0.05)
        try gradcheck(xs, shape: [5, 3, 2]) { try loss($0, confidences: c) }
        // A keypoint that never moves (zero step, the norm's kink) gets a zero gradient, not NaN.
        let still = try Tensor([1, 2, 1, 2, 1, 2] as [Double], shape: [3, 1, 2]).requiresGrad(true)
        try TemporalLoss(epsilon: [0], probThreshold: 0)(still).backward()
        #expect(try #require(still.grad).toArray(Double.self) == [0, 0, 0, 0, 0, 0])
    }

    // MARK: PCA

    /// A fitted subspace made by hand: `components` orthonormal rows, the first `kept` spanning it.
    func subspace(
        _ observation: PCAObservation, mean: [Double], components: [[Double]], kept: Int, epsilon: Double
    ) -> FittedSubspace {
        let settings = UnsupervisedLossSettings.PCA(
            key: "losses.test", observation: observation, logWeight: 0, componentsToKeep: .count(kept), epsilon: epsilon)
        let pca = PosePCA(
            mean: mean, components: components, explainedVariance: components.indices.map { Double(components.count - $0) }, keptCount: kept
        )
        return FittedSubspace(settings: settings, pca: pca, epsilon: epsilon)
    }

    @Test func poseLossByHand() throws {
        // One keypoint; subspace: the line through (10, 20) along (0.6, 0.8). Residual = |−0.8·dx + 0.6·dy|.
        let loss = PCALoss(
            subspace(.pose(keypoints: [0], centering: nil), mean: [10, 20], components: [[0.6, 0.8], [-0.8, 0.6]], kept: 1, epsilon: 1))
        let p = try Tensor([13, 24, 6, 23] as [Double], shape: [2, 1, 2])  // (dx, dy) = (3, 4) on the line; (−4, 3) off by 5
        let r = try loss.residuals(p).toArray(Double.self)
        #expect(abs(r[0]) < 1e-12 && abs(r[1] - 5) < 1e-12)
        #expect(abs(try loss(p).item() - (0 + 4) / 2.0) < 1e-12)  // mean of max(0, r − 1)
    }

    @Test func multiviewLossByHand() throws {
        // Views [[0, 1], [2, 3]]: rows [x_v0, y_v0, x_v1, y_v1] per frame and body part; keeping axes 1–3 of the
        // identity leaves y_v1 as the only residual, on the view-1 pair.
        let identity = (0..<4).map { r in (0..<4).map { c in r == c ? 1.0 : 0 } }
        let loss = PCALoss(subspace(.bodyPartInViews([[0, 1], [2, 3]]), mean: [0, 0, 0, 0], components: identity, kept: 3, epsilon: 2))
        // Frame 0: kp2 y = 5, kp3 y = 1; frame 1: kp2 y = −3, kp3 y = 4.
        let p = try Tensor([1, 1, 2, 2, 7, 5, 8, 1, 1, 1, 2, 2, 7, -3, 8, 4] as [Double], shape: [2, 4, 2])
        #expect(try loss.rows(p).toArray(Double.self) == [1, 1, 7, 5, 2, 2, 8, 1, 1, 1, 7, -3, 2, 2, 8, 4])
        #expect(try loss.residuals(p).toArray(Double.self) == [0, 5, 0, 1, 0, 3, 0, 4])
        #expect(try loss(p).item() == (3 + 0 + 1 + 2) / 8.0)
    }

    /// The tensor rows the loss builds are the host rows the PCA was fitted on (same layout, same centring).
    @Test(arguments: [PoseCentering.mean, .median, nil])
    func tensorRowsEqualFittedRows(_ centering: PoseCentering?) throws {
        let frames = try (0..<4).map { n in try values(10, seed: UInt64(20 + n), -50, 50) }
        let p = try Tensor(Array(frames.joined()), shape: [4, 5, 2])
        for observation in [PCAObservation.pose(keypoints: [4, 1, 2], centering: centering), .bodyPartInViews([[0, 3], [2, 1]])] {
            let d = observation.dimension
            let loss = PCALoss(
                subspace(
                    observation, mean: Array(repeating: 0, count: d), components: (0..<d).map { r in (0..<d).map { r == $0 ? 1.0 : 0 } },
                    kept: 1, epsilon: 0))
            let host = Array(observation.rows(frames: frames).joined())
            let tensor = try loss.rows(p).toArray(Double.self)
            #expect(host.count == tensor.count)
            for (a, b) in zip(host, tensor) { #expect(abs(a - b) < 1e-12) }
        }
    }

    @Test(arguments: [PoseCentering.mean, .median, nil])
    func poseGradientsMatchFiniteDifferences(_ centering: PoseCentering?) throws {
        // 3 keypoints (6-D), a 2-D subspace along rotated axes.
        let c = cos(0.7), s = sin(0.7)
        let axes: [[Double]] = [
            [c, s, 0, 0, 0, 0], [0, 0, c, -s, 0, 0], [-s, c, 0, 0, 0, 0], [0, 0, s, c, 0, 0], [0, 0, 0, 0, 1, 0], [0, 0, 0, 0, 0, 1],
        ]
        let loss = PCALoss(
            subspace(.pose(keypoints: [0, 2, 3], centering: centering), mean: [1, 2, 3, 4, 5, 6], components: axes, kept: 2, epsilon: 0.5))
        let xs = try values(4 * 4 * 2, seed: 11, -20, 20)
        try gradcheck(xs, shape: [4, 4, 2]) { try loss($0) }
    }

    @Test func multiviewGradientsMatchFiniteDifferences() throws {
        let c = cos(0.4), s = sin(0.4)
        let axes: [[Double]] = [[c, 0, s, 0], [0, c, 0, s], [-s, 0, c, 0], [0, -s, 0, c]]
        let loss = PCALoss(subspace(.bodyPartInViews([[0, 1], [3, 2]]), mean: [1, -1, 2, 0], components: axes, kept: 3, epsilon: 0.2))
        try gradcheck(try values(3 * 4 * 2, seed: 12, -10, 10), shape: [3, 4, 2]) { try loss($0) }
    }

    /// The loss on the labelled frames themselves: the residuals the ε rule used, so about 1% lie above ε.
    @Test func fittedLossOnItsOwnLabels() throws {
        let frames = try mirrorMouseLabelFrames().filter { $0.allSatisfy(\.isFinite) }
        let settings = UnsupervisedLossSettings.PCA(
            key: "losses.pca_multiview", observation: .bodyPartInViews([Array(0...6), Array(8...14)]), logWeight: 10.7,
            componentsToKeep: .count(3), epsilon: nil)
        let loss = PCALoss(try FittedSubspace.fit(settings, frames: try mirrorMouseLabelFrames()))
        let r = try loss.residuals(Tensor(Array(frames.joined()), shape: [frames.count, 17, 2])).toArray(Double.self)
        let host = settings.observation.rows(frames: frames).flatMap(loss.subspace.pca.residuals)
        #expect(r.count == host.count)
        for (a, b) in zip(r, host) { #expect(abs(a - b) < 1e-9) }
        #expect(abs(loss.subspace.epsilon - PCAReference.multiview.epsilon) < 1e-7 * PCAReference.multiview.epsilon)
    }

    // MARK: Weights and annealing

    @Test func weightIsLPsOneOverTwoExp() {
        // §4.1: λ = 0 → 0.5, 3 → 0.0249, 10.7 → 1.13e-5, 11 → 8.35e-6 (applied once: not LP's old w²).
        // Reference values: Python's 1 / (2 * math.exp(λ)).
        #expect(UnsupervisedLossSettings.weight(logWeight: 0) == 0.5)
        #expect(abs(UnsupervisedLossSettings.weight(logWeight: 3) / 0.024893534183931972 - 1) < 1e-14)
        #expect(abs(UnsupervisedLossSettings.weight(logWeight: 10.7) / 1.1272468956606105e-05 - 1) < 1e-14)
        #expect(abs(UnsupervisedLossSettings.weight(logWeight: 11) / 8.35085039512283e-06 - 1) < 1e-14)
    }

    @Test func annealingSchedule() {
        let lp = AnnealSchedule()  // LP's defaults: 0 until epoch 60, +0.01 per epoch, up to 1
        let expected: [(Int, Double)] = [(0, 0), (60, 0), (61, 0.01), (110, 0.5), (160, 1), (161, 1), (500, 1)]
        for (epoch, a) in expected { #expect(abs(lp.factor(epoch: epoch) - a) < 1e-12, "epoch \(epoch)") }
        let examples = AnnealSchedule(initial: 0, increasePerEpoch: 0.01, final: 1, freezeUntilEpoch: 0)  // LP's example configs
        #expect(examples.factor(epoch: 0) == 0 && abs(examples.factor(epoch: 1) - 0.01) < 1e-15 && examples.factor(epoch: 100) == 1)
        let custom = AnnealSchedule(initial: 0.2, increasePerEpoch: 0.1, final: 0.5, freezeUntilEpoch: 2)
        #expect(custom.factor(epoch: 2) == 0.2 && abs(custom.factor(epoch: 3) - 0.3) < 1e-15 && custom.factor(epoch: 5) == 0.5)
        #expect(custom.factor(epoch: 9) == 0.5)
    }

    /// A run's total: Σ a(epoch)·w_u·L_u over the listed losses, each loss's value as it computes alone.
    @Test func totalIsAnnealedWeightedSum() throws {
        var config = try PoseConfig.load(path: mirrorMouseConfig())
        config.lossesToUse = ["temporal", "pca_singleview", "pca_multiview"]
        config.losses.temporal.logWeight = 2
        config.losses.pcaSingleview.logWeight = 3
        config.losses.pcaMultiview.logWeight = 4
        config.callbacks.annealWeight.freezeUntilEpoch = 5
        config.callbacks.annealWeight.increaseFactor = 0.25
        let settings = try UnsupervisedLossSettings(config: config, keypointCount: 17)
        let losses = try UnsupervisedLosses(settings: settings, trainingFrames: try mirrorMouseLabelFrames())
        #expect(losses.summary.count == 4)
        #expect(losses.summary[1].hasPrefix("pose PCA: 14 of 28 components"))
        #expect(losses.summary[2].hasPrefix("multiview PCA: 3 of 4 components"))
        // A clip: 6 complete labelled frames, jittered so every loss is non-zero.
        let frames = try mirrorMouseLabelFrames().filter { $0.allSatisfy(\.isFinite) }.prefix(6)
        let jitter = try values(6 * 34, seed: 9, -30, 30)
        let clip = zip(Array(frames.joined()), jitter).map { $0 + $1 }
        let confidences = try Tensor(try values(6 * 17, seed: 10), shape: [6, 17])
        for epoch in [5, 7, 100] {
            let keypoints = try Tensor(clip, shape: [6, 17, 2]).to(.float32).requiresGrad(true)
            let terms = try losses(keypoints: keypoints, confidences: confidences, epoch: epoch)
            let a: Double = epoch == 5 ? 0 : epoch == 7 ? 0.5 : 1
            #expect(terms.factor == a)
            let t = try #require(terms.losses[.temporal]).item(), s = try #require(terms.losses[.pcaSingleview]).item()
            let m = try #require(terms.losses[.pcaMultiview]).item()
            #expect(t > 0 && s > 0 && m > 0)
            let temporal = try #require(losses.temporal)
            let alone = try temporal(keypoints, confidences: confidences).item()
            #expect(abs(t - alone) < 1e-6 * t)
            let expected = a * (t / (2 * exp(2)) + s / (2 * exp(3)) + m / (2 * exp(4)))
            #expect(abs(try terms.total.item() - expected) <= 1e-5 * max(expected, 1e-12), "epoch \(epoch)")
            try terms.total.backward()
            let grad = try #require(keypoints.grad).toArray(Double.self)
            let finite = grad.allSatisfy { $0.isFinite }, zero = grad.allSatisfy { $0 == 0 }
            #expect(finite)
            #expect(zero == (epoch == 5))
        }
    }
}
