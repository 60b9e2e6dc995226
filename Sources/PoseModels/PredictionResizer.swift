// The prediction-time resize: the same numbers as `Augmenter.warp` + `normalize` for a pure scale,
// several times faster, so that decoding stays hidden behind the network.
import PoseData

/// Resizes 8-bit HWC frames to the model's normalised `3 × H × W` floats.
///
/// Bit-identical to `Augmenter.warp(image, transform: scale(W/w, H/h))` followed by `normalize`
/// (what evaluation and the old prediction path did), so predictions do not depend on which path
/// prepared the pixels. It is faster because a pure scale is separable: the source column/row and
/// weight of every output column/row are computed once per source size instead of per pixel, the
/// box prefilter runs over raw pointers, and normalisation is fused into the same pass.
public struct PredictionResizer {
    public let outputWidth: Int
    public let outputHeight: Int

    /// Per source size: the box factor and, per output column/row, the bilinear taps.
    private struct Plan {
        var width: Int, height: Int, channels: Int
        var shrink: Int
        var boxWidth: Int, boxHeight: Int
        /// Left/top source index (may be −1), its weight's complement, and whether the column is drawn at all.
        var x0: [Int], fx: [Float], xInside: [Bool]
        var y0: [Int], fy: [Float], yInside: [Bool]
    }
    private var plan: Plan?
    private var box: [UInt8] = []
    private var rowSums: [Int32] = []

    public init(outputWidth: Int, outputHeight: Int) {
        self.outputWidth = outputWidth
        self.outputHeight = outputHeight
    }

    private func makePlan(width w: Int, height h: Int, channels: Int) -> Plan {
        // Exactly the arithmetic of `Augmenter.warp` for this transform.
        let transform = Affine2D(a: Double(outputWidth) / Double(w), b: 0, c: 0,
                                 d: Double(outputHeight) / Double(h), tx: 0, ty: 0)
        let inv = transform.inverse
        let scale = (transform.a * transform.a + transform.c * transform.c).squareRoot()
        let shrink = max(1, Int((1 / max(scale, 1e-6)).rounded(.down)))
        let sw = shrink > 1 ? (w + shrink - 1) / shrink : w
        let sh = shrink > 1 ? (h + shrink - 1) / shrink : h
        let s = 1.0 / Double(shrink)
        var plan = Plan(width: w, height: h, channels: channels, shrink: shrink, boxWidth: sw, boxHeight: sh,
                        x0: [], fx: [], xInside: [], y0: [], fy: [], yInside: [])
        // b = c = 0, so x depends on the column only and y on the row only (the cross terms are ±0).
        for ox in 0..<outputWidth {
            let x = inv.apply(Double(ox) + 0.5, 0.5).0 * s - 0.5
            let x0 = Int(x.rounded(.down))
            plan.x0.append(x0)
            plan.fx.append(Float(x - Double(x0)))
            plan.xInside.append(x0 >= -1 && x0 < sw)
        }
        for oy in 0..<outputHeight {
            let y = inv.apply(0.5, Double(oy) + 0.5).1 * s - 0.5
            let y0 = Int(y.rounded(.down))
            plan.y0.append(y0)
            plan.fy.append(Float(y - Double(y0)))
            plan.yInside.append(y0 >= -1 && y0 < sh)
        }
        return plan
    }

    /// Writes `3 × outputHeight × outputWidth` normalised floats for one `width × height × channels`
    /// image (1 or 3 channels, rows packed) to `destination`.
    public mutating func resize(_ pixels: UnsafeBufferPointer<UInt8>, width: Int, height: Int, channels: Int,
                         into destination: UnsafeMutablePointer<Float>) {
        if plan == nil || plan!.width != width || plan!.height != height || plan!.channels != channels {
            plan = makePlan(width: width, height: height, channels: channels)
        }
        let plan = plan!
        if plan.shrink > 1 {
            boxDownsample(pixels, plan: plan)
            box.withUnsafeBufferPointer { interpolate($0, plan: plan, into: destination) }
        } else {
            interpolate(pixels, plan: plan, into: destination)
        }
    }

    /// The normalised planes of one image (allocating; the pipeline writes into its batch buffer instead).
    public mutating func resize(_ image: HostImage) -> [Float] {
        [Float](unsafeUninitializedCapacity: 3 * outputWidth * outputHeight) { buffer, initialized in
            image.pixels.withUnsafeBufferPointer {
                resize($0, width: image.width, height: image.height, channels: image.channels, into: buffer.baseAddress!)
            }
            initialized = 3 * outputWidth * outputHeight
        }
    }

    /// `Augmenter.boxDownsample`: the integer mean of each `f × f` block (partial blocks at the edges
    /// average what exists), as bytes.
    private mutating func boxDownsample(_ pixels: UnsafeBufferPointer<UInt8>, plan: Plan) {
        let f = plan.shrink, w = plan.width, h = plan.height, ch = plan.channels
        let bw = plan.boxWidth, bh = plan.boxHeight
        if box.count != bw * bh * ch { box = [UInt8](repeating: 0, count: bw * bh * ch) }
        if rowSums.count != bw * ch { rowSums = [Int32](repeating: 0, count: bw * ch) }
        let src = pixels.baseAddress!
        box.withUnsafeMutableBufferPointer { outBuffer in
            rowSums.withUnsafeMutableBufferPointer { sumBuffer in
                let out = outBuffer.baseAddress!, sums = sumBuffer.baseAddress!
                for by in 0..<bh {
                    sums.update(repeating: 0, count: bw * ch)
                    let rows = min(h, by * f + f) - by * f
                    for yy in (by * f)..<(by * f + rows) {
                        let row = src + yy * w * ch
                        for bx in 0..<bw {
                            let x1 = min(w, bx * f + f)
                            for c in 0..<ch {
                                var sum: Int32 = 0
                                var p = row + (bx * f) * ch + c
                                for _ in (bx * f)..<x1 { sum &+= Int32(p.pointee); p += ch }
                                sums[bx * ch + c] &+= sum
                            }
                        }
                    }
                    for bx in 0..<bw {
                        let n = Int32(rows * (min(w, bx * f + f) - bx * f))
                        for c in 0..<ch { out[(by * bw + bx) * ch + c] = UInt8(sums[bx * ch + c] / max(n, 1)) }
                    }
                }
            }
        }
    }

    /// Bilinear sampling (black outside the source) and ImageNet normalisation, in `warp`'s order of operations.
    private func interpolate(_ pixels: UnsafeBufferPointer<UInt8>, plan: Plan, into dst: UnsafeMutablePointer<Float>) {
        let W = outputWidth, H = outputHeight, ch = plan.channels
        let sw = plan.shrink > 1 ? plan.boxWidth : plan.width
        let sh = plan.shrink > 1 ? plan.boxHeight : plan.height
        let src = pixels.baseAddress!
        let mean = Augmenter.imagenetMean, std = Augmenter.imagenetStd
        for c in 0..<3 {
            let cc = ch == 1 ? 0 : c
            let m = mean[c], s = std[c]
            let outside = (0 - m) / s  // `warp` leaves 0 where the sample falls outside
            @inline(__always) func px(_ xx: Int, _ yy: Int) -> Float {
                guard xx >= 0, yy >= 0, xx < sw, yy < sh else { return 0 }
                return Float(src[(yy * sw + xx) * ch + cc])
            }
            plan.x0.withUnsafeBufferPointer { x0s in
                plan.fx.withUnsafeBufferPointer { fxs in
                    for oy in 0..<H {
                        let row = dst + (c * H + oy) * W
                        guard plan.yInside[oy] else {
                            for ox in 0..<W { row[ox] = outside }
                            continue
                        }
                        let y0 = plan.y0[oy], fy = plan.fy[oy]
                        for ox in 0..<W {
                            guard plan.xInside[ox] else { row[ox] = outside; continue }
                            let x0 = x0s[ox], fx = fxs[ox]
                            let top = px(x0, y0) * (1 - fx) + px(x0 + 1, y0) * fx
                            let bottom = px(x0, y0 + 1) * (1 - fx) + px(x0 + 1, y0 + 1) * fx
                            let value = (top * (1 - fy) + bottom * fy) / 255
                            row[ox] = (value - m) / s
                        }
                    }
                }
            }
        }
    }
}
