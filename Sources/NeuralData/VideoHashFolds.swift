// Group k-fold by a perceptual hash of the video (reference 3.7): repeats of a clip share a fold.
import Foundation

/// The 64-bit perceptual hash ("pHash") of one 8-bit grey frame: resize to 32×32 (area
/// resampling), 2-D DCT-II, top-left 8×8 block, bit = coefficient > median, row-major, MSB first.
public func perceptualHash(frame: [Float], height: Int, width: Int) -> UInt64 {
    let size = 32
    let pixels = frame.map { Double(UInt8(clamping: Int(max(0, min(255, $0))))) }
    let resized = areaResize(pixels, height: height, width: width, to: size)
    // Unnormalised DCT-II of rows, then of columns.
    var cosines = [Double](repeating: 0, count: size * size)
    for k in 0..<size {
        for n in 0..<size { cosines[k * size + n] = Foundation.cos(Double.pi / Double(size) * (Double(n) + 0.5) * Double(k)) }
    }
    var rows = [Double](repeating: 0, count: size * size)
    for r in 0..<size {
        for k in 0..<size {
            var s = 0.0
            for n in 0..<size { s += resized[r * size + n] * cosines[k * size + n] }
            rows[r * size + k] = 2 * s
        }
    }
    var coefficients = [Double](repeating: 0, count: 64)
    for k in 0..<8 {
        for c in 0..<8 {
            var s = 0.0
            for n in 0..<size { s += rows[n * size + c] * cosines[k * size + n] }
            coefficients[k * 8 + c] = 2 * s
        }
    }
    let sorted = coefficients.sorted()
    let median = (sorted[31] + sorted[32]) / 2
    var hash: UInt64 = 0
    for value in coefficients { hash = (hash << 1) | (value > median ? 1 : 0) }
    return hash
}

/// Box-filter resampling of a grey image to `size × size` (each output pixel averages the input
/// area it covers), deterministic for up- and down-scaling.
func areaResize(_ image: [Double], height: Int, width: Int, to size: Int) -> [Double] {
    func weights(_ inCount: Int) -> [[(Int, Double)]] {
        let scale = Double(inCount) / Double(size)
        return (0..<size).map { o in
            let start = Double(o) * scale, end = start + scale
            var list: [(Int, Double)] = []
            var i = Int(start)
            while Double(i) < end && i < inCount {
                let overlap = min(end, Double(i + 1)) - max(start, Double(i))
                if overlap > 0 { list.append((i, overlap / scale)) }
                i += 1
            }
            return list
        }
    }
    let wy = weights(height), wx = weights(width)
    var out = [Double](repeating: 0, count: size * size)
    for oy in 0..<size {
        for ox in 0..<size {
            var s = 0.0
            for (iy, ay) in wy[oy] { for (ix, ax) in wx[ox] { s += ay * ax * image[iy * width + ix] } }
            out[oy * size + ox] = s
        }
    }
    return out
}

/// Hash of a whole trial video (time-major): XOR of the pHashes of 5 evenly spread frames.
public func videoHash(_ trial: SensoriumTrial) -> UInt64 {
    let step = max(trial.length / 5, 1)
    let plane = trial.height * trial.width
    var hash: UInt64 = 0
    for k in 0..<5 {
        let t = min(step / 2 + k * step, trial.length - 1)
        guard t >= 0 else { break }
        let frame = Array(trial.video[(t * plane)..<((t + 1) * plane)])
        hash ^= perceptualHash(frame: frame, height: trial.height, width: trial.width)
    }
    return hash
}

/// The fold of a trial: video hash mod `folds`.
public func videoFold(_ trial: SensoriumTrial, folds: Int) -> Int {
    Int(videoHash(trial) % UInt64(max(folds, 1)))
}
