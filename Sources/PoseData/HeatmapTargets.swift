// Target heatmaps on the host: one Gaussian per keypoint on the heatmap grid (LP reference §3.3).
import Foundation

/// The heatmap grid and how model pixels map onto it.
///
/// Cell `i` covers model pixels `[i·s, (i+1)·s)` and stands for its centre `(i + 0.5)·s`, the same
/// continuous convention the images use (LP maps cell `i` to `i·s` and corrects with a read-out offset;
/// using the centre removes that offset and the d = 3 bias listed in the LP reference §9).
public struct HeatmapGrid: Sendable, Equatable {
    public var width: Int
    public var height: Int
    /// Model pixels per heatmap cell (2^d).
    public var stride: Int
    /// Gaussian σ in heatmap cells (LP: 1.25).
    public var sigma: Double
    /// LP normalises each target to sum 1; Kinema's U-Net uses peak 1 (SLEAP's convention).
    public var normalized: Bool

    public init(width: Int, height: Int, stride: Int, sigma: Double, normalized: Bool) {
        self.width = width
        self.height = height
        self.stride = stride
        self.sigma = sigma
        self.normalized = normalized
    }

    /// Model pixels → continuous heatmap cells.
    @inlinable public func toGrid(_ v: Double) -> Double { v / Double(stride) - 0.5 }
    /// Continuous heatmap cells → model pixels.
    @inlinable public func toModel(_ v: Double) -> Double { (v + 0.5) * Double(stride) }

    /// Writes `K` target maps for model-space keypoints `[x0, y0, …]` into `out` at `offset`.
    /// A NaN keypoint gets zeros (ignored by the loss), or a uniform map when `uniformForMissing`.
    public func render(keypoints: [Float], into out: inout [Float], offset: Int, uniformForMissing: Bool) {
        let k = keypoints.count / 2
        let cells = width * height
        let radius = Int((4 * sigma).rounded(.up))
        for j in 0..<k {
            let base = offset + j * cells
            let x = Double(keypoints[2 * j]), y = Double(keypoints[2 * j + 1])
            guard x.isFinite, y.isFinite else {
                let fill: Float = uniformForMissing ? (normalized ? 1 / Float(cells) : 0) : 0
                for i in 0..<cells { out[base + i] = fill }
                continue
            }
            for i in 0..<cells { out[base + i] = 0 }
            let gx = toGrid(x), gy = toGrid(y)
            let cx = Int(gx.rounded()), cy = Int(gy.rounded())
            var sum: Float = 0
            let inv = 1 / (2 * sigma * sigma)
            for yy in Swift.stride(from: max(0, cy - radius), through: min(height - 1, cy + radius), by: 1) {
                let dy = Double(yy) - gy
                for xx in Swift.stride(from: max(0, cx - radius), through: min(width - 1, cx + radius), by: 1) {
                    let dx = Double(xx) - gx
                    let v = Float(exp(-(dx * dx + dy * dy) * inv))
                    out[base + yy * width + xx] = v
                    sum += v
                }
            }
            if normalized, sum > 0 {
                for i in 0..<cells { out[base + i] /= sum }
            }
        }
    }
}
