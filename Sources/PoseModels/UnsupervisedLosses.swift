// LP's unsupervised losses on predicted keypoints (§4.3–4.5, weights §4.1, annealing §4.8), differentiable through
// libtorch: `temporal`, `pca_singleview` and `pca_multiview`. Inputs are frame pixels (augmentation undone, §5.3).
import Foundation
import PoseData
import Torch

/// Keypoints as `(…, K, 2)`: `(N, 2K)` rows `[x₀, y₀, x₁, y₁, …]` are reshaped, other shapes kept.
private func pairs(_ keypoints: Tensor) throws(TorchError) -> Tensor {
    keypoints.rank == 2 ? try keypoints.reshape([keypoints.size(0), -1, 2]) : keypoints
}

// MARK: - Temporal

/// `temporal` (§4.3): `e[t,k] = ‖p[t+1,k] − p[t,k]‖`, set to 0 where either frame's confidence is below
/// `probThreshold`, then `mean(max(0, e − ε_k))` over all (T−1)·K entries (masked entries count as zeros, as in LP).
public struct TemporalLoss: Sendable, Equatable {
    /// Frame pixels, one per keypoint (or one for all).
    public var epsilon: [Double]
    public var probThreshold: Double

    public init(epsilon: [Double], probThreshold: Double) {
        (self.epsilon, self.probThreshold) = (epsilon, probThreshold)
    }

    public init(_ settings: UnsupervisedLossSettings.Temporal) {
        self.init(epsilon: settings.epsilon, probThreshold: settings.probThreshold)
    }

    /// The frame-to-frame distances `(…, T−1, K)` (also the per-frame temporal-norm metric).
    public func steps(_ keypoints: Tensor) throws(TorchError) -> Tensor {
        let p = try pairs(keypoints), t = p.size(-3)
        guard t >= 2 else {
            throw TorchError(.invalidArgument, "the temporal loss needs a clip of 2 or more frames, got \(t)", op: "TemporalLoss")
        }
        return try (p.slice(-3, 1, t) - p.slice(-3, 0, t - 1)).norm(2, dims: [-1])
    }

    /// - Parameters:
    ///   - keypoints: one clip `(T, K, 2)` or `(T, 2K)`, or clips `(C, T, K, 2)`, in time order.
    ///   - confidences: `(T, K)` (or `(C, T, K)`); nil masks nothing.
    public func callAsFunction(_ keypoints: Tensor, confidences: Tensor? = nil) throws(TorchError) -> Tensor {
        var e = try steps(keypoints)
        if let confidences {
            let t = confidences.size(-2), low = try confidences.lt(probThreshold)
            e = try e.maskedFill(low.slice(-2, 1, t).logicalOr(low.slice(-2, 0, t - 1)), 0)
        }
        let epsilon = try Tensor(epsilon).to(e.device, dtype: e.dtype)
        return try (e - epsilon).relu().mean()
    }
}

// MARK: - PCA

/// `pca_singleview` / `pca_multiview` (§4.4–4.5): each observation's distance from the labels' subspace per (x, y)
/// pair, `r = ‖x − (μ + (x − μ)·Uₖᵀ·Uₖ)‖`, then `mean(max(0, r − ε))` over observations and pairs.
public final class PCALoss {
    public let subspace: FittedSubspace
    /// μ and Uₖ on the device and in the dtype last asked for (tensors are made once, not every step).
    private var constants: (device: Device, dtype: DType, mean: Tensor, kept: Tensor)?

    public init(_ subspace: FittedSubspace) {
        self.subspace = subspace
    }

    /// The observation rows `(M, D)` of predicted keypoints `(N, K, 2)` or `(N, 2K)`: pose PCA, one per frame
    /// (centred if configured); multiview PCA, one per frame and body part, frame-major.
    public func rows(_ keypoints: Tensor) throws(TorchError) -> Tensor {
        let p = try pairs(keypoints), n = p.size(0)
        func pick(_ indices: [Int]) throws(TorchError) -> Tensor {
            try p.indexSelect(1, Tensor(indices.map(Int64.init)).to(p.device))
        }
        switch subspace.settings.observation {
        case .pose(let keypoints, let centering):
            var selected = try pick(keypoints)
            switch centering {
            case .mean: selected = try selected - selected.mean(dims: [1], keepDim: true)
            case .median:
                let median = try Torch.call1(
                    "aten::quantile", "scalar", [.tensor(selected), .double(0.5), .int(1), .bool(true), .string("linear")])
                selected = try selected - median
            case nil: break
            }
            return try selected.reshape([n, 2 * keypoints.count])
        case .bodyPartInViews(let views):
            var perView: [Tensor] = []
            for view in views { perView.append(try pick(view)) }
            return try stack(perView, dim: 2).reshape([n * views[0].count, 2 * views.count])
        }
    }

    /// The distances `(M, D/2)` of each observation's (x, y) pairs from their reconstruction, in frame pixels (the
    /// per-keypoint pose-PCA / multiview-PCA error metric).
    public func residuals(_ keypoints: Tensor) throws(TorchError) -> Tensor {
        let x = try rows(keypoints)
        let (mean, kept) = try tensors(device: x.device, dtype: x.dtype)
        let centred = try x - mean
        let difference = try centred - centred.matmul(kept.transpose(0, 1)).matmul(kept)
        return try difference.reshape([x.size(0), -1, 2]).norm(2, dims: [-1])
    }

    public func callAsFunction(_ keypoints: Tensor) throws(TorchError) -> Tensor {
        try (residuals(keypoints) - subspace.epsilon).relu().mean()
    }

    private func tensors(device: Device, dtype: DType) throws(TorchError) -> (Tensor, Tensor) {
        if let c = constants, c.device == device, c.dtype == dtype { return (c.mean, c.kept) }
        let pca = subspace.pca
        let mean = try Tensor(pca.mean).to(device, dtype: dtype)
        let kept = try Tensor(Array(pca.components.prefix(pca.keptCount).joined()), shape: [pca.keptCount, pca.dimension])
            .to(device, dtype: dtype)
        constants = (device, dtype, mean, kept)
        return (mean, kept)
    }
}

// MARK: - All of a run's losses

/// The unsupervised losses of a training run, weighted as LP does: `Σ a(epoch)·w_u·L_u` with `w_u = 1/(2·e^λ_u)`
/// applied once and `a` the annealing factor (§4.1, §4.8). The supervised loss is the trainer's and is not annealed.
public final class UnsupervisedLosses {
    public let settings: UnsupervisedLossSettings
    public let temporal: TemporalLoss?
    /// One per view (separate cameras: each view's pose PCA, fitted on that view's labels); empty when unused.
    public let pcaSingleview: [PCALoss]
    public let pcaMultiview: PCALoss?

    /// Fits the PCA losses on the labelled *training* frames (`[x₀, y₀, x₁, y₁, …]` each, frame pixels, NaN =
    /// unlabelled; the validation and test frames must stay out; separate cameras: every view's, view after view).
    public init(settings: UnsupervisedLossSettings, trainingFrames: [[Double]]) throws {
        self.settings = settings
        temporal = settings.temporal.map(TemporalLoss.init)
        let views = settings.views
        pcaSingleview =
            try settings.pcaSingleview.map { pca in
                try (0..<views).map { v in
                    var fit = pca
                    if views > 1 { fit.key += " (view \(v))" }
                    return PCALoss(try FittedSubspace.fit(fit, frames: trainingFrames.map { Self.view(v, of: views, $0) }))
                }
            } ?? []
        pcaMultiview = try settings.pcaMultiview.map { PCALoss(try FittedSubspace.fit($0, frames: trainingFrames)) }
    }

    /// View `v`'s keypoints of a sample that holds `views` views side by side.
    static func view(_ v: Int, of views: Int, _ frame: [Double]) -> [Double] {
        guard views > 1 else { return frame }
        let n = frame.count / views
        return Array(frame[(v * n)..<((v + 1) * n)])
    }

    /// Pose PCA of keypoints `(T, V·K, 2)`: each view's own loss, averaged over the views (equal frame counts, so the
    /// mean over every frame, view and keypoint).
    func pcaSingleviewLoss(_ keypoints: Tensor) throws(TorchError) -> Tensor? {
        guard !pcaSingleview.isEmpty else { return nil }
        let views = pcaSingleview.count
        guard views > 1 else { return try pcaSingleview[0](keypoints) }
        let p = try pairs(keypoints), k = p.size(1) / views
        var total = try pcaSingleview[0](p.slice(1, 0, k))
        for v in 1..<views { total = try total + pcaSingleview[v](p.slice(1, v * k, (v + 1) * k)) }
        return try total * (1 / Double(views))
    }

    /// What the run uses, one line per loss, for the training log.
    public var summary: [String] {
        var lines: [String] = []
        if let t = settings.temporal {
            let epsilon = Set(t.epsilon).count == 1 ? "\(t.epsilon[0])" : "\(t.epsilon)"
            lines.append("temporal: ε = \(epsilon) px, confidence below \(t.probThreshold) ignored, weight \(weightText(t.logWeight))")
        }
        if let pca = settings.pcaSingleview {
            for (v, loss) in pcaSingleview.enumerated() {
                let view = pcaSingleview.count > 1 ? " (view \(v))" : ""
                lines.append(loss.subspace.summary + view + ", weight \(weightText(pca.logWeight))")
            }
        }
        if let loss = pcaMultiview, let pca = settings.pcaMultiview {
            lines.append(loss.subspace.summary + ", weight \(weightText(pca.logWeight))")
        }
        let a = settings.anneal
        lines.append(
            "annealing: factor \(a.initial) until epoch \(a.freezeUntilEpoch), then +\(a.increasePerEpoch) per epoch up to \(a.final)")
        return lines + settings.notes
    }

    private func weightText(_ logWeight: Double) -> String {
        "\(String(format: "%.3g", UnsupervisedLossSettings.weight(logWeight: logWeight))) (log_weight \(logWeight))"
    }

    /// One step's unsupervised terms.
    public struct Terms {
        /// `Σ a·w_u·L_u`, a scalar to add to the supervised loss.
        public var total: Tensor
        /// Each loss before weighting (for the log).
        public var losses: [UnsupervisedLossKind: Tensor]
        /// The annealing factor `a` of the epoch.
        public var factor: Double
    }

    /// The weighted losses of predicted keypoints of an unlabelled clip.
    /// - Parameters:
    ///   - keypoints: `(T, K, 2)` or `(T, 2K)` in frame pixels, in time order (the temporal loss differences them).
    ///   - confidences: `(T, K)`, for the temporal loss's mask.
    ///   - epoch: 0-based, for the annealing factor.
    public func callAsFunction(keypoints: Tensor, confidences: Tensor?, epoch: Int) throws(TorchError) -> Terms {
        let factor = settings.anneal.factor(epoch: epoch)
        var losses: [UnsupervisedLossKind: Tensor] = [:]
        var total = try Tensor.zeros([], dtype: keypoints.dtype, device: keypoints.device)
        func add(_ kind: UnsupervisedLossKind, _ loss: Tensor, logWeight: Double) throws(TorchError) {
            losses[kind] = loss
            total = try total + loss * (factor * UnsupervisedLossSettings.weight(logWeight: logWeight))
        }
        if let temporal, let s = settings.temporal {
            try add(.temporal, temporal(keypoints, confidences: confidences), logWeight: s.logWeight)
        }
        if let s = settings.pcaSingleview, let loss = try pcaSingleviewLoss(keypoints) {
            try add(.pcaSingleview, loss, logWeight: s.logWeight)
        }
        if let pcaMultiview, let s = settings.pcaMultiview { try add(.pcaMultiview, pcaMultiview(keypoints), logWeight: s.logWeight) }
        return Terms(total: total, losses: losses, factor: factor)
    }
}
