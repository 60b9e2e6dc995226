// Differentiable keypoints for the unsupervised losses (LP §3.4 steps 2–3, §5.3): a spatial expectation of each
// heatmap near its peak, in model pixels, then mapped to frame pixels through the clip's affine.
import Foundation
import PoseData
import Torch

extension PoseModel {
    /// Cells either side of the arg-max that the expectation covers (LP's 5×5 confidence window).
    static let softWindowRadius = 2

    /// Keypoints `(B, K, 2)` in model pixels that gradients flow through, and their confidences `(B, K)` (the read-out's
    /// likelihood, for the temporal loss's mask; nil for regression, which has none).
    ///
    /// Heatmaps: the expectation of the cell position over the (2r+1)² cells around the arg-max, weighted by the map
    /// (`.peak`: its values, `.softmax`: its spatial softmax). LP sharpens its upsampled maps with softmax(1000·h) for
    /// the same purpose — ignore mass far from the peak — but at the heatmap grid a global softmax either pulls
    /// keypoints towards the map centre or, sharpened, leaves no gradient; a window around the peak does neither.
    public func softKeypoints(_ output: Tensor, count b: Int) throws -> (keypoints: Tensor, confidences: Tensor?) {
        let k = keypointCount
        if network.style == .regression { return (try output.reshape([b, k, 2]), nil) }
        let w = grid.width, h = grid.height, cells = w * h, r = Self.softWindowRadius
        let estimates = try readMaps(output, count: b)
        // The window of each map around its arg-max cell (host mask; the arg-max itself has no gradient).
        var mask = [Float](repeating: 0, count: b * k * cells)
        for i in 0..<b {
            for j in 0..<k {
                let cx = Int(grid.toGrid(estimates[i][j].x).rounded()), cy = Int(grid.toGrid(estimates[i][j].y).rounded())
                let base = (i * k + j) * cells
                for y in Swift.max(0, cy - r)...Swift.min(h - 1, cy + r) {
                    for x in Swift.max(0, cx - r)...Swift.min(w - 1, cx + r) { mask[base + y * w + x] = 1 }
                }
            }
        }
        let flat = try output.reshape([b, k, cells])
        // A small floor keeps an all-zero window finite (its expectation is then the window's centre).
        let values = try network.style == .softmax ? flat.softmax(2) : flat.relu() + 1e-6
        let weights = try values * Tensor(mask, shape: [b, k, cells]).to(output.device, dtype: output.dtype)
        let total = try weights.sum(dims: [2])
        let columns = (0..<cells).map { Float($0 % w) }, rows = (0..<cells).map { Float($0 / w) }
        let gx = try (weights * Tensor(columns, shape: [1, 1, cells]).to(output.device, dtype: output.dtype)).sum(dims: [2]) / total
        let gy = try (weights * Tensor(rows, shape: [1, 1, cells]).to(output.device, dtype: output.dtype)).sum(dims: [2]) / total
        // Grid cells → model pixels: (g + ½)·stride, as `HeatmapGrid.toModel`.
        let s = Double(grid.stride)
        let keypoints = try stack([(gx + 0.5) * s, (gy + 0.5) * s], dim: 2)
        let confidences = try Tensor(estimates.flatMap { $0.map { Float($0.likelihood) } }, shape: [b, k])
        return (keypoints, try confidences.to(output.device, dtype: output.dtype))
    }

    /// Keypoints `(…, 2)` through a 2-D affine map (augmented model pixels → frame pixels, `UnlabeledClip.augmentedToFrame`).
    public static func apply(_ map: Affine2D, to keypoints: Tensor) throws -> Tensor {
        let linear = try Tensor([map.a, map.c, map.b, map.d], shape: [2, 2]).to(keypoints.device, dtype: keypoints.dtype)
        let shift = try Tensor([map.tx, map.ty]).to(keypoints.device, dtype: keypoints.dtype)
        return try keypoints.matmul(linear) + shift  // rows p·Aᵀ + t
    }
}
