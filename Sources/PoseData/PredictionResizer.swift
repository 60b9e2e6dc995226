// The prediction-time resize: the same numbers as `Augmenter.warp` + `normalize` for a pure scale,
// several times faster, so that decoding stays hidden behind the network.

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
        /// Per output column: the offset of its left tap in a padded row (0 for columns outside the
        /// image, which are filled afterwards), its weight and the complement `1 − fx` as `warp` computes it.
        var xIndex: [Int], fx: [Float], wx: [Float]
        var outsideColumns: [Int]
        /// Per output row: the top source row (may be −1), its weight, and whether the row is inside.
        var y0: [Int], fy: [Float], yInside: [Bool]
    }
    private var plan: Plan?
    /// Scratch for the box filter's column and tap sums (16- or 32-bit lanes).
    private var columnSums: [UInt32] = []
    /// Two horizontally interpolated source rows (`interpolate`).
    private var rows: [Float] = []
    private var padded: [UInt8] = []
    /// `sum / (f·f)` for every possible sum of a full box.
    private var quotients: [UInt8] = []

    public init(outputWidth: Int, outputHeight: Int) {
        self.outputWidth = outputWidth
        self.outputHeight = outputHeight
    }

    private func makePlan(width w: Int, height h: Int, channels: Int) -> Plan {
        // Exactly the arithmetic of `Augmenter.warp` for this transform.
        let transform = Affine2D(
            a: Double(outputWidth) / Double(w), b: 0, c: 0,
            d: Double(outputHeight) / Double(h), tx: 0, ty: 0)
        let inv = transform.inverse
        let scale = (transform.a * transform.a + transform.c * transform.c).squareRoot()
        let shrink = max(1, Int((1 / max(scale, 1e-6)).rounded(.down)))
        let sw = shrink > 1 ? (w + shrink - 1) / shrink : w
        let sh = shrink > 1 ? (h + shrink - 1) / shrink : h
        let s = 1.0 / Double(shrink)
        var plan = Plan(
            width: w, height: h, channels: channels, shrink: shrink, boxWidth: sw, boxHeight: sh,
            xIndex: [], fx: [], wx: [], outsideColumns: [], y0: [], fy: [], yInside: [])
        // b = c = 0, so x depends on the column only and y on the row only (the cross terms are ±0).
        for ox in 0..<outputWidth {
            let x = inv.apply(Double(ox) + 0.5, 0.5).0 * s - 0.5
            let x0 = Int(x.rounded(.down))
            let inside = x0 >= -1 && x0 < sw
            let fx = Float(x - Double(x0))
            plan.xIndex.append(inside ? (x0 + 1) * channels : 0)
            plan.fx.append(fx)
            plan.wx.append(1 - fx)
            if !inside { plan.outsideColumns.append(ox) }
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
    public mutating func resize(
        _ pixels: UnsafeBufferPointer<UInt8>, width: Int, height: Int, channels: Int,
        into destination: UnsafeMutablePointer<Float>
    ) {
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
                    (buffer.baseAddress! + (y + 1) * stride + channels).update(
                        from: pixels.baseAddress! + y * sw * channels, count: sw * channels)
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
    ///
    /// Per block row: the block's rows summed per column, then the sums of `f` neighbouring pixels at
    /// every position (both plain loops the compiler vectorises; in 16-bit lanes while `f² · 255`
    /// fits, twice as many per instruction), from which each block takes its value; the truncating
    /// division goes through a table for full blocks (a hardware division per output byte cost more
    /// than all the sums).
    private mutating func boxDownsample(_ pixels: UnsafeBufferPointer<UInt8>, plan: Plan) {
        let rowLength = plan.width * plan.channels
        if columnSums.count != 2 * rowLength { columnSums = [UInt32](repeating: 0, count: 2 * rowLength) }  // two rows of either lane width
        let quotients = self.quotients
        let narrow = plan.shrink * plan.shrink * 255 <= Int(UInt16.max)
        padded.withUnsafeMutableBufferPointer { outBuffer in
            columnSums.withUnsafeMutableBytes { scratch in
                quotients.withUnsafeBufferPointer { table in
                    if narrow {
                        Self.boxDownsample(
                            pixels.baseAddress!, plan: plan, table: table, out: outBuffer.baseAddress!,
                            scratch: scratch.baseAddress!.assumingMemoryBound(to: UInt16.self))
                    } else {
                        Self.boxDownsample(
                            pixels.baseAddress!, plan: plan, table: table, out: outBuffer.baseAddress!,
                            scratch: scratch.baseAddress!.assumingMemoryBound(to: UInt32.self))
                    }
                }
            }
        }
    }

    /// The box filter with sums in `Sum` lanes (`scratch` holds two rows of them).
    @inline(__always)
    private static func boxDownsample<Sum: FixedWidthInteger & UnsignedInteger>(
        _ src: UnsafePointer<UInt8>, plan: Plan, table: UnsafeBufferPointer<UInt8>, out: UnsafeMutablePointer<UInt8>,
        scratch: UnsafeMutablePointer<Sum>
    ) {
        let f = plan.shrink, w = plan.width, h = plan.height, ch = plan.channels
        let bw = plan.boxWidth, bh = plan.boxHeight
        let rowLength = w * ch
        let span = rowLength - (f - 1) * ch  // positions with f whole pixels to their right
        let fullBlocks = w / f
        let stride = (bw + 2) * ch
        let sums = scratch, taps = scratch + rowLength
        for by in 0..<bh {
            let rows = min(h, by * f + f) - by * f
            let first = src + by * f * rowLength
            for i in 0..<rowLength { sums[i] = Sum(truncatingIfNeeded: first[i]) }
            for r in 1..<max(rows, 1) {
                let row = first + r * rowLength
                for i in 0..<rowLength { sums[i] &+= Sum(truncatingIfNeeded: row[i]) }
            }
            let outRow = out + (by + 1) * stride + ch
            if span > 0 && fullBlocks > 0 {
                for j in 0..<span { taps[j] = sums[j] }
                for k in 1..<f {
                    let shifted = sums + k * ch
                    for j in 0..<span { taps[j] &+= shifted[j] }
                }
                let n = rows * f
                if n == f * f && table.count > 0 {
                    let q = table.baseAddress!
                    if ch == 3 {
                        for bx in 0..<fullBlocks {
                            let t = taps + bx * f * 3, o = outRow + bx * 3
                            o[0] = q[Int(t[0])]; o[1] = q[Int(t[1])]; o[2] = q[Int(t[2])]
                        }
                    } else {
                        for bx in 0..<fullBlocks {
                            let t = taps + bx * f * ch, o = outRow + bx * ch
                            for c in 0..<ch { o[c] = q[Int(t[c])] }
                        }
                    }
                } else {
                    for bx in 0..<fullBlocks {
                        let t = taps + bx * f * ch, o = outRow + bx * ch
                        for c in 0..<ch { o[c] = UInt8(Int(t[c]) / n) }
                    }
                }
            }
            // The last, narrower block of a width that f does not divide.
            for bx in fullBlocks..<bw {
                let x0 = bx * f, x1 = min(w, x0 + f)
                let n = rows * (x1 - x0)
                for c in 0..<ch {
                    var sum = 0
                    for x in x0..<x1 { sum += Int(sums[x * ch + c]) }
                    outRow[bx * ch + c] = UInt8(sum / max(n, 1))
                }
            }
        }
    }

    /// Bilinear sampling of `padded` and ImageNet normalisation, in `warp`'s order of operations.
    ///
    /// Separable: each source row is interpolated horizontally once (`t` and `b` of `warp`'s formula
    /// are the same numbers for every output row that reads that source row), then output rows blend
    /// two such rows in a loop the compiler vectorises. Outside columns are filled afterwards.
    private mutating func interpolate(plan: Plan, into dst: UnsafeMutablePointer<Float>) {
        let W = outputWidth, H = outputHeight, ch = plan.channels
        let sw = plan.shrink > 1 ? plan.boxWidth : plan.width
        let stride = (sw + 2) * ch
        let planes = ch == 1 ? 1 : 3  // a grey source gives the same interpolated row to all 3 channels
        let mean = Augmenter.imagenetMean, std = Augmenter.imagenetStd
        let outside = (0..<3).map { (0 - mean[$0]) / std[$0] }  // `warp` leaves 0 where the sample falls outside
        if rows.count != 2 * planes * W { rows = [Float](repeating: 0, count: 2 * planes * W) }
        padded.withUnsafeBufferPointer { paddedBuffer in
            rows.withUnsafeMutableBufferPointer { rowBuffer in
                plan.xIndex.withUnsafeBufferPointer { xIndex in
                    plan.fx.withUnsafeBufferPointer { fxs in
                        plan.wx.withUnsafeBufferPointer { wxs in
                            let src = paddedBuffer.baseAddress!
                            // Two slots of `planes × W` interpolated floats and the padded row each holds.
                            var slot = [rowBuffer.baseAddress!, rowBuffer.baseAddress! + planes * W]
                            var held = [-1, -1]
                            func horizontal(_ paddedRow: Int, into out: UnsafeMutablePointer<Float>) {
                                let row = src + paddedRow * stride
                                for c in 0..<planes {
                                    let o = out + c * W, p = row + c
                                    for ox in 0..<W {
                                        let i = xIndex[ox]
                                        o[ox] = Float(p[i]) * wxs[ox] + Float(p[i + ch]) * fxs[ox]
                                    }
                                }
                            }
                            for oy in 0..<H {
                                guard plan.yInside[oy] else {
                                    for c in 0..<3 { (dst + (c * H + oy) * W).update(repeating: outside[c], count: W) }
                                    continue
                                }
                                let top = plan.y0[oy] + 1  // padded row of `warp`'s y0
                                if held[0] != top {
                                    if held[1] == top {
                                        slot.swapAt(0, 1); held.swapAt(0, 1)
                                    } else {
                                        horizontal(top, into: slot[0]); held[0] = top
                                    }
                                }
                                if held[1] != top + 1 { horizontal(top + 1, into: slot[1]); held[1] = top + 1 }
                                let fy = plan.fy[oy], wy = 1 - fy
                                for c in 0..<3 {
                                    let t = slot[0] + (planes == 1 ? 0 : c) * W, b = slot[1] + (planes == 1 ? 0 : c) * W
                                    let row = dst + (c * H + oy) * W
                                    let m = mean[c], s = std[c]
                                    for ox in 0..<W { row[ox] = ((t[ox] * wy + b[ox] * fy) / 255 - m) / s }
                                    for ox in plan.outsideColumns { row[ox] = outside[c] }
                                }
                            }
                        }
                    }
                }
            }
        }
    }
}
