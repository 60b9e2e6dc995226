// From heatmaps to keypoints with a likelihood, on the host (maps are small: K × Hh × Wh).
import Foundation
import PoseData

/// One keypoint estimate in model pixels.
public struct KeypointEstimate: Sendable, Equatable {
    public var x: Double
    public var y: Double
    public var likelihood: Double
    public init(x: Double, y: Double, likelihood: Double) { (self.x, self.y, self.likelihood) = (x, y, likelihood) }
}

/// Reads keypoints out of heatmaps.
///
/// Location: the arg-max cell refined by a parabola through the log-values of its neighbours on
/// each axis, which is exact for a Gaussian peak (sub-pixel, no soft-argmax bias towards the map
/// centre). Likelihood: the peak height for `.peak` maps (clamped to [0, 1]); for `.softmax` maps
/// the softmax mass in the 5×5 window around the peak (LP §3.4 step 4: ~1 for a sharp peak,
/// ~25/(Hh·Wh) for a flat map).
public enum HeatmapReadout {
    /// Reads one map `values[offset ..< offset + w·h]`; returns cells (continuous grid coordinates).
    public static func read(
        _ values: UnsafeBufferPointer<Float>, offset: Int, width w: Int, height h: Int,
        style: HeatmapStyle
    ) -> (x: Double, y: Double, likelihood: Double) {
        var best = offset, bestValue = -Float.infinity
        for i in offset..<(offset + w * h) where values[i] > bestValue {
            bestValue = values[i]
            best = i
        }
        let cx = (best - offset) % w, cy = (best - offset) / w
        func logValue(_ x: Int, _ y: Int) -> Double {
            let v = Double(values[offset + y * w + x])
            return style == .softmax ? v : Foundation.log(Swift.max(v, 1e-6))
        }
        func refine(_ minus: Double, _ centre: Double, _ plus: Double) -> Double {
            let curvature = minus - 2 * centre + plus
            guard curvature < -1e-9 else { return 0 }
            return Swift.min(0.5, Swift.max(-0.5, 0.5 * (minus - plus) / curvature))
        }
        var x = Double(cx), y = Double(cy)
        if cx > 0, cx < w - 1 { x += refine(logValue(cx - 1, cy), logValue(cx, cy), logValue(cx + 1, cy)) }
        if cy > 0, cy < h - 1 { y += refine(logValue(cx, cy - 1), logValue(cx, cy), logValue(cx, cy + 1)) }
        var likelihood: Double
        switch style {
        case .peak, .regression:
            likelihood = Swift.min(1, Swift.max(0, Double(bestValue)))
        case .softmax:
            var total = 0.0, window = 0.0
            for i in offset..<(offset + w * h) { total += Foundation.exp(Double(values[i] - bestValue)) }
            for yy in Swift.max(0, cy - 2)...Swift.min(h - 1, cy + 2) {
                for xx in Swift.max(0, cx - 2)...Swift.min(w - 1, cx + 2) {
                    window += Foundation.exp(Double(values[offset + yy * w + xx] - bestValue))
                }
            }
            likelihood = window / total
        }
        return (x, y, likelihood)
    }

    /// Reads a batch of maps `(B, K, h, w)` into model-pixel estimates `[b][k]`.
    public static func read(
        maps: [Float], batch: Int, keypoints k: Int, grid: HeatmapGrid,
        style: HeatmapStyle
    ) -> [[KeypointEstimate]] {
        let cells = grid.width * grid.height
        return maps.withUnsafeBufferPointer { buffer in
            (0..<batch).map { b in
                (0..<k).map { j in
                    let r = read(buffer, offset: (b * k + j) * cells, width: grid.width, height: grid.height, style: style)
                    return KeypointEstimate(x: grid.toModel(r.x), y: grid.toModel(r.y), likelihood: r.likelihood)
                }
            }
        }
    }
}
