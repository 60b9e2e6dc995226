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
    private var columnSums: [Int32] = []
    private var padded: [UInt8] = []
    /// `sum / (f·f)` for every possible sum of a full box.
    private var quotients: [UInt8] = []

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
            padded = []  // a new layout: the border must be black again
            let f = plan!.shrink, n = f * f
            quotients = f > 1 && n <= 4096 ? (0...(255 * n)).map { UInt8($0 / n) } : []
        }
        let plan = plan!
        // The (box-filtered) source goes into a frame with a one-pixel black border, which is what
        // `warp` reads outside the image, so that sampling needs no bounds checks.
        let sw = plan.shrink > 1 ? plan.boxWidth : plan.width
        let sh = plan.shrink > 1 ? plan.boxHeight : plan.height
        let stride = (sw + 2) * channels
        if padded.count != (sh + 2) * stride { padded = [UInt8](repeating: 0, count: (sh + 2) * stride) }
        if plan.shrink > 1 {
            boxDownsample(pixels, plan: plan)
        } else {
            padded.withUnsafeMutableBufferPointer { buffer in
                for y in 0..<sh {
                    (buffer.baseAddress! + (y + 1) * stride + channels).update(from: pixels.baseAddress! + y * sw * channels, count: sw * channels)
                }
            }
        }
        interpolate(plan: plan, into: destination)
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
    /// average what exists), as bytes, written inside `padded`'s border.
    private mutating func boxDownsample(_ pixels: UnsafeBufferPointer<UInt8>, plan: Plan) {
        let f = plan.shrink, w = plan.width, h = plan.height, ch = plan.channels
        let bw = plan.boxWidth, bh = plan.boxHeight
        let src = pixels.baseAddress!
        let rowLength = w * ch
        if columnSums.count != rowLength { columnSums = [Int32](repeating: 0, count: rowLength) }
        let stride = (bw + 2) * ch
        let quotients = self.quotients
        padded.withUnsafeMutableBufferPointer { outBuffer in
            columnSums.withUnsafeMutableBufferPointer { sumBuffer in
                let out = outBuffer.baseAddress!, sums = sumBuffer.baseAddress!
                for by in 0..<bh {
                    // Vertical pass: the block's rows summed per column (a plain loop the compiler vectorises),
                    let rows = min(h, by * f + f) - by * f
                    sums.update(repeating: 0, count: rowLength)
                    for yy in (by * f)..<(by * f + rows) {
                        let row = src + yy * rowLength
                        for i in 0..<rowLength { sums[i] &+= Int32(row[i]) }
                    }
                    // then horizontal: f columns per block; the truncating division of `Augmenter.boxDownsample`
                    // through a table for full blocks (a hardware division per output byte cost more than the sums).
                    let outRow = out + (by + 1) * stride + ch
                    for bx in 0..<bw {
                        let x0 = bx * f, x1 = min(w, x0 + f)
                        let n = Int32(rows * (x1 - x0))
                        let full = n == Int32(f * f) && !quotients.isEmpty
                        for c in 0..<ch {
                            var sum: Int32 = 0
                            var p = sums + x0 * ch + c
                            for _ in x0..<x1 { sum &+= p.pointee; p += ch }
                            outRow[bx * ch + c] = full ? quotients[Int(sum)] : UInt8(sum / max(n, 1))
                        }
                    }
                }
            }
        }
    }

    /// Bilinear sampling of `padded` and ImageNet normalisation, in `warp`'s order of operations.
    private func interpolate(plan: Plan, into dst: UnsafeMutablePointer<Float>) {
        let W = outputWidth, H = outputHeight, ch = plan.channels
        let sw = plan.shrink > 1 ? plan.boxWidth : plan.width
        let stride = (sw + 2) * ch
        let mean = Augmenter.imagenetMean, std = Augmenter.imagenetStd
        padded.withUnsafeBufferPointer { paddedBuffer in
            plan.x0.withUnsafeBufferPointer { x0s in
                plan.fx.withUnsafeBufferPointer { fxs in
                    plan.xInside.withUnsafeBufferPointer { xInside in
                        let src = paddedBuffer.baseAddress!
                        for c in 0..<3 {
                            let cc = ch == 1 ? 0 : c
                            let m = mean[c], s = std[c]
                            let outside = (0 - m) / s  // `warp` leaves 0 where the sample falls outside
                            for oy in 0..<H {
                                let row = dst + (c * H + oy) * W
                                guard plan.yInside[oy] else {
                                    for ox in 0..<W { row[ox] = outside }
                                    continue
                                }
                                let fy = plan.fy[oy]
                                let top = src + (plan.y0[oy] + 1) * stride + cc, below = top + stride
                                for ox in 0..<W {
                                    guard xInside[ox] else { row[ox] = outside; continue }
                                    let i = (x0s[ox] + 1) * ch, fx = fxs[ox]
                                    let t = Float(top[i]) * (1 - fx) + Float(top[i + ch]) * fx
                                    let b = Float(below[i]) * (1 - fx) + Float(below[i + ch]) * fx
                                    let value = (t * (1 - fy) + b * fy) / 255
                                    row[ox] = (value - m) / s
                                }
                            }
                        }
                    }
                }
            }
        }
    }
}
