// Pixel-only augmentations (keypoints do not move): motion blur, coarse dropout/salt/pepper,
// contrast, noise. They run on the resized float planes, which is cheaper than at full resolution.
import Foundation

extension Augmenter {
    /// Applies the photometric transforms in LP's order. `scale` = output / original size, so that
    /// kernel sizes given in original pixels keep their meaning.
    func photometric(_ planes: inout [Float], scale: Double, rng: inout MersenneTwister) {
        let s = settings
        if s.motionBlurProb > 0, rng.chance(s.motionBlurProb) {
            let length = max(1, Int((s.motionBlurKernel * scale).rounded()))
            let angle = rng.uniform(-90, 90)
            if length > 1 { motionBlur(&planes, length: length, degrees: angle) }
        }
        if s.coarseDropoutProb > 0, rng.chance(s.coarseDropoutProb) {
            // 2% of cells on a grid at 30% of the image size; per channel in half of the images.
            coarse(&planes, fraction: 0.02, gridFraction: 0.3, value: 0, perChannel: rng.chance(0.5), rng: &rng)
        }
        if s.coarseSaltProb > 0, rng.chance(s.coarseSaltProb) {
            coarse(&planes, fraction: 0.01, gridFraction: rng.uniform(0.05, 0.1), value: 1, perChannel: false, rng: &rng)
        }
        if s.coarsePepperProb > 0, rng.chance(s.coarsePepperProb) {
            coarse(&planes, fraction: 0.01, gridFraction: rng.uniform(0.05, 0.1), value: 0, perChannel: false, rng: &rng)
        }
        if s.contrastProb > 0, rng.chance(s.contrastProb) {
            let gain = Float(rng.uniform(0.6, 1.5)), centre: Float = 0.5
            for i in planes.indices { planes[i] = min(1, max(0, (planes[i] - centre) * gain + centre)) }
        }
        if s.noiseProb > 0, rng.chance(s.noiseProb) {
            let sigma = Float(rng.uniform(0, 0.05))
            var noise = rng  // an independent stream, so the main draws do not depend on the image size
            noise = MersenneTwister(seed: UInt64(noise.next()))
            let n = outputWidth * outputHeight
            for p in 0..<n {
                let v = sigma * Float(noise.normal())
                for c in 0..<3 { planes[c * n + p] = min(1, max(0, planes[c * n + p] + v)) }
            }
        }
    }

    /// Averages along a line of `length` pixels at `degrees` (imgaug's MotionBlur kernel).
    func motionBlur(_ planes: inout [Float], length: Int, degrees: Double) {
        let W = outputWidth, H = outputHeight
        let t = degrees * Double.pi / 180
        let half = Double(length - 1) / 2
        let offsets: [(Int, Int)] = (0..<length).map { i in
            let r = Double(i) - half
            return (Int((r * cos(t)).rounded()), Int((r * sin(t)).rounded()))
        }
        let weight = 1 / Float(length)
        let source = planes
        for c in 0..<3 {
            let base = c * W * H
            for y in 0..<H {
                for x in 0..<W {
                    var sum: Float = 0
                    for (dx, dy) in offsets {
                        let xx = min(W - 1, max(0, x + dx)), yy = min(H - 1, max(0, y + dy))
                        sum += source[base + yy * W + xx]
                    }
                    planes[base + y * W + x] = sum * weight
                }
            }
        }
    }

    /// Sets a random `fraction` of the cells of a coarse grid (`gridFraction` of the image size) to `value`.
    func coarse(
        _ planes: inout [Float], fraction: Double, gridFraction: Double, value: Float,
        perChannel: Bool, rng: inout MersenneTwister
    ) {
        let W = outputWidth, H = outputHeight
        let gw = max(2, Int((Double(W) * gridFraction).rounded())), gh = max(2, Int((Double(H) * gridFraction).rounded()))
        let channelSets = perChannel ? [[0], [1], [2]] : [[0, 1, 2]]
        for channels in channelSets {
            for gy in 0..<gh {
                for gx in 0..<gw where rng.chance(fraction) {
                    let x0 = gx * W / gw, x1 = (gx + 1) * W / gw, y0 = gy * H / gh, y1 = (gy + 1) * H / gh
                    for c in channels {
                        for y in y0..<y1 { for x in x0..<x1 { planes[(c * H + y) * W + x] = value } }
                    }
                }
            }
        }
    }
}

// MARK: - Flip pairs

/// The mirror partner of each keypoint: from explicit pairs, else from `_left`/`_right`
/// (also `left_`/`right_`, `L`/`R` suffix pairs are not guessed). Unpaired keypoints map to themselves.
public func flipPermutation(names: [String], pairs: [[String]]) throws -> [Int] {
    var permutation = Array(names.indices)
    func link(_ a: String, _ b: String) throws {
        guard let i = names.firstIndex(of: a), let j = names.firstIndex(of: b) else {
            throw PoseDataError(
                file: "config", message: "flip pair [\(a), \(b)] names an unknown keypoint",
                hint: "use names from keypoint_names")
        }
        permutation[i] = j
        permutation[j] = i
    }
    if !pairs.isEmpty {
        for pair in pairs {
            guard pair.count == 2 else {
                throw PoseDataError(
                    file: "config", message: "flip pair \(pair) does not have two names", hint: "write pairs as [left_name, right_name]")
            }
            try link(pair[0], pair[1])
        }
        return permutation
    }
    for name in names where name.contains("_left") {
        let partner = name.replacingOccurrences(of: "_left", with: "_right")
        guard names.contains(partner) else {
            throw PoseDataError(
                file: "config", message: "keypoint `\(name)` has no `\(partner)` partner for flipping",
                hint: "add it, list data.flip_pairs, or set training.imgaug_hflip: false")
        }
        try link(name, partner)
    }
    return permutation
}
