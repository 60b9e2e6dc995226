// Augmentation of unlabelled video clips (LP reference §5.2) and its undoing (§5.3): one random draw
// per clip, applied identically to every frame after the resize to the model size; the geometric
// part is kept with the clip so that keypoints predicted on the augmented frames map back to frame pixels.
import Foundation

// MARK: - Settings

/// Ranges of the clip augmentation. Every draw is uniform in its range; a range of one value is off.
public struct ClipAugmentationSettings: Sendable, Equatable {
    /// Rotation about the image centre, up to this many degrees either way.
    public var maxRotationDegrees = 0.0
    /// Scale about the image centre, drawn for x and y separately.
    public var scaleRange: ClosedRange<Double> = 1...1
    /// Multiplies the pixel values (after the contrast change).
    public var brightnessRange: ClosedRange<Double> = 1...1
    /// Stretches pixel values about mid-grey.
    public var contrastRange: ClosedRange<Double> = 1...1
    /// Shot (Poisson) noise: a pixel of value v (0–255) becomes f·Poisson(v/f), with f drawn in `0...maxShotNoiseFactor`.
    public var maxShotNoiseFactor = 0.0

    public init() {}

    /// Resize only (LP for every `training.imgaug` other than `dlc` and `dlc-top-down`).
    public static let resizeOnly = ClipAugmentationSettings()

    /// LP's clip augmentation: rotation ±10°, per-axis scale 0.8–1.2, brightness and contrast 0.75–1.25,
    /// shot noise with a factor up to 10.
    public static let lightningPose: ClipAugmentationSettings = {
        var s = ClipAugmentationSettings()
        s.maxRotationDegrees = 10
        s.scaleRange = 0.8...1.2
        s.brightnessRange = 0.75...1.25
        s.contrastRange = 0.75...1.25
        s.maxShotNoiseFactor = 10
        return s
    }()

    /// LP's rule: clips are augmented only when `training.imgaug` is exactly `dlc` or `dlc-top-down`.
    public static func forImgaug(_ name: String) -> ClipAugmentationSettings {
        name == "dlc" || name == "dlc-top-down" ? .lightningPose : .resizeOnly
    }
}

// MARK: - One clip's draw

/// The augmentation of one clip: what was drawn, and the geometric map it implies.
///
/// Geometry is an affine map in model pixels (continuous coordinates, pixel `i` spans `[i, i+1)`,
/// as in `Augmenter`): rotation about the centre `(W/2, H/2)`, then scaling about it. LP passes
/// `(H/2, W/2)` as the centre, which is off-centre for non-square inputs; we use the true centre.
public struct ClipAugmentation: Sendable, Equatable {
    /// Clockwise degrees (image coordinates, y down).
    public var rotationDegrees: Double
    public var scaleX: Double
    public var scaleY: Double
    public var brightness: Double
    public var contrast: Double
    /// 0 for no noise.
    public var shotNoiseFactor: Double
    /// Seeds the per-pixel noise, so the same clip gets the same noise on any thread.
    public var noiseSeed: UInt64
    /// The model input size the geometry refers to.
    public var modelWidth: Int
    public var modelHeight: Int

    public init(
        rotationDegrees: Double = 0, scaleX: Double = 1, scaleY: Double = 1, brightness: Double = 1,
        contrast: Double = 1, shotNoiseFactor: Double = 0, noiseSeed: UInt64 = 0, modelWidth: Int, modelHeight: Int
    ) {
        self.rotationDegrees = rotationDegrees
        self.scaleX = scaleX
        self.scaleY = scaleY
        self.brightness = brightness
        self.contrast = contrast
        self.shotNoiseFactor = shotNoiseFactor
        self.noiseSeed = noiseSeed
        self.modelWidth = modelWidth
        self.modelHeight = modelHeight
    }

    /// Draws one clip's augmentation (always the same number of draws, whatever the settings).
    public static func draw(
        _ settings: ClipAugmentationSettings, modelWidth: Int, modelHeight: Int, rng: inout MersenneTwister
    ) -> ClipAugmentation {
        func uniform(_ range: ClosedRange<Double>) -> Double { rng.uniform(range.lowerBound, range.upperBound) }
        let rotation = rng.uniform(-settings.maxRotationDegrees, settings.maxRotationDegrees)
        let sx = uniform(settings.scaleRange), sy = uniform(settings.scaleRange)
        let brightness = uniform(settings.brightnessRange), contrast = uniform(settings.contrastRange)
        let noise = rng.uniform(0, settings.maxShotNoiseFactor)
        let seed = UInt64(rng.next()) << 32 | UInt64(rng.next())
        return ClipAugmentation(
            rotationDegrees: rotation, scaleX: sx, scaleY: sy, brightness: brightness, contrast: contrast,
            shotNoiseFactor: noise, noiseSeed: seed, modelWidth: modelWidth, modelHeight: modelHeight)
    }

    /// Resized-frame model pixels → augmented model pixels (LP's 2×3 matrix).
    public var transform: Affine2D {
        let cx = Double(modelWidth) / 2, cy = Double(modelHeight) / 2
        return Affine2D.rotate(degrees: rotationDegrees, cx: cx, cy: cy)
            .then(.translate(-cx, -cy)).then(.scale(scaleX, scaleY)).then(.translate(cx, cy))
    }

    /// True when the pixels do not move.
    public var isGeometricIdentity: Bool { rotationDegrees == 0 && scaleX == 1 && scaleY == 1 }

    /// True when the pixel values are untouched (apart from the warp).
    public var isPhotometricIdentity: Bool { brightness == 1 && contrast == 1 && shotNoiseFactor == 0 }

    /// Augmented model pixels → original frame pixels of a `frameWidth × frameHeight` video (§5.3): the
    /// inverse of `transform`, then model → frame, a pure scaling (§0, no bounding box).
    public func augmentedToFrame(frameWidth: Int, frameHeight: Int) -> Affine2D {
        transform.inverse.then(.scale(Double(frameWidth) / Double(modelWidth), Double(frameHeight) / Double(modelHeight)))
    }

    /// Maps keypoints predicted on the augmented frames (`[x0, y0, x1, y1, …]` in model pixels, any
    /// number of frames and keypoints) back to original frame pixels; NaN stays NaN.
    public func mapToFrame(_ points: [Double], frameWidth: Int, frameHeight: Int) -> [Double] {
        let map = augmentedToFrame(frameWidth: frameWidth, frameHeight: frameHeight)
        var out = points
        for j in 0..<(points.count / 2) {
            let (x, y) = map.apply(points[2 * j], points[2 * j + 1])
            out[2 * j] = x
            out[2 * j + 1] = y
        }
        return out
    }

    /// `mapToFrame` for single-precision keypoints (as a network's read-out gives them).
    public func mapToFrame(_ points: [Float], frameWidth: Int, frameHeight: Int) -> [Float] {
        mapToFrame(points.map(Double.init), frameWidth: frameWidth, frameHeight: frameHeight).map(Float.init)
    }
}

// MARK: - Pixels

/// Applies clip augmentations to resized, ImageNet-normalised `3 × H × W` frames, one frame at a
/// time; reuses its tap table while the geometry stays the same (every frame of a clip).
struct ClipAugmenter {
    let width: Int
    let height: Int
    /// For the current geometry, per output pixel: the top-left tap in `padded` (-1: outside, black) and weights.
    private var geometry: Affine2D? = nil
    private var taps: [Int32] = []
    private var fx: [Float] = []
    private var fy: [Float] = []
    /// One frame in [0, 1] with a black one-pixel border, per channel.
    private var padded: [Float] = []

    init(width: Int, height: Int) {
        self.width = width
        self.height = height
    }

    /// Bilinear taps of `Augmenter.warp` for `transform` (no prefilter: the scale stays within 0.8–1.2).
    private mutating func prepare(_ transform: Affine2D) {
        if geometry == transform { return }
        geometry = transform
        let W = width, H = height, stride = W + 2
        let inverse = transform.inverse
        taps = [Int32](repeating: -1, count: W * H)
        fx = [Float](repeating: 0, count: W * H)
        fy = [Float](repeating: 0, count: W * H)
        for oy in 0..<H {
            for ox in 0..<W {
                var (x, y) = inverse.apply(Double(ox) + 0.5, Double(oy) + 0.5)
                x -= 0.5
                y -= 0.5
                let x0 = Int(x.rounded(.down)), y0 = Int(y.rounded(.down))
                guard x0 >= -1, y0 >= -1, x0 < W, y0 < H else { continue }
                let p = oy * W + ox
                taps[p] = Int32((y0 + 1) * stride + x0 + 1)
                fx[p] = Float(x - Double(x0))
                fy[p] = Float(y - Double(y0))
            }
        }
    }

    /// Augments frame `frame` of a clip: reads normalised planes from `source`, writes normalised planes to `destination`.
    mutating func apply(
        _ augmentation: ClipAugmentation, frame: Int, source: UnsafePointer<Float>, into destination: UnsafeMutablePointer<Float>
    ) {
        let W = width, H = height, n = W * H
        let mean = Augmenter.imagenetMean, std = Augmenter.imagenetStd
        let geometric = !augmentation.isGeometricIdentity
        if geometric {
            prepare(augmentation.transform)
            let stride = W + 2, planeSize = (H + 2) * stride
            if padded.count != 3 * planeSize { padded = [Float](repeating: 0, count: 3 * planeSize) }
            padded.withUnsafeMutableBufferPointer { buffer in
                for c in 0..<3 {
                    let plane = buffer.baseAddress! + c * planeSize, s = std[c], m = mean[c]
                    for y in 0..<H {
                        let row = plane + (y + 1) * stride + 1, src = source + c * n + y * W
                        for x in 0..<W { row[x] = src[x] * s + m }
                    }
                }
            }
        }
        // v ↦ b·(½ + k·(v − ½)): contrast about mid-grey, then brightness.
        let gain = Float(augmentation.brightness * augmentation.contrast)
        let offset = Float(augmentation.brightness * 0.5 * (1 - augmentation.contrast))
        let factor = Float(augmentation.shotNoiseFactor)
        var noise = ShotNoise(seed: mixSeeds(augmentation.noiseSeed, UInt64(frame)), factor: factor)
        let planeSize = (H + 2) * (W + 2), stride = W + 2
        padded.withUnsafeBufferPointer { paddedBuffer in
            taps.withUnsafeBufferPointer { taps in
                fx.withUnsafeBufferPointer { fx in
                    fy.withUnsafeBufferPointer { fy in
                        for c in 0..<3 {
                            let m = mean[c], s = std[c], inverseStd = 1 / s
                            let src = source + c * n, dst = destination + c * n
                            let plane = geometric ? paddedBuffer.baseAddress! + c * planeSize : nil
                            for p in 0..<n {
                                var v: Float
                                if let plane {
                                    let t = Int(taps[p])
                                    if t < 0 {
                                        v = 0
                                    } else {
                                        let a = fx[p], b = fy[p]
                                        let top = plane[t] * (1 - a) + plane[t + 1] * a
                                        let bottom = plane[t + stride] * (1 - a) + plane[t + stride + 1] * a
                                        v = top * (1 - b) + bottom * b
                                    }
                                } else {
                                    v = src[p] * s + m
                                }
                                v = v * gain + offset
                                if factor > 0 { v = noise.apply(v) }
                                dst[p] = (min(1, max(0, v)) - m) * inverseStd
                            }
                        }
                    }
                }
            }
        }
    }
}

// MARK: - Shot noise

/// Poisson noise on values in [0, 1] read as 0–255 photon counts divided by `factor`: below 12 counts
/// by inverting a tabulated Poisson CDF (λ rounded to 1/32), above it the normal approximation
/// rounded to whole counts. One random number per value, no `exp` per pixel.
struct ShotNoise {
    private var state: UInt64
    /// 255 / factor and its inverse (multiplications in the per-pixel path).
    private let toCounts: Float
    private let fromCounts: Float

    init(seed: UInt64, factor: Float) {
        state = seed
        toCounts = factor > 0 ? 255 / factor : 0
        fromCounts = factor / 255
    }

    @inline(__always)
    private mutating func nextBits() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }

    @inline(__always)
    mutating func apply(_ value: Float) -> Float {
        let lambda = max(0, value) * toCounts
        var count: Float
        if lambda < PoissonTable.limit {
            let u = Float(nextBits() >> 40) * 0x1p-24
            count = poissonTable.withUnsafeBufferPointer { table in
                let row = table.baseAddress! + Int(lambda * PoissonTable.steps + 0.5) * PoissonTable.columns
                var k = 0
                while u >= row[k] { k += 1 }
                return Float(k)
            }
        } else {
            let z = normalQuantiles[Int(nextBits() >> 52)]
            count = max(0, (lambda + lambda.squareRoot() * z).rounded())
        }
        return count * fromCounts
    }
}

/// The Poisson CDF for λ = r/32, r = 0...12·32, in rows of `columns` cumulative probabilities
/// (the last ones 1, so a walk along a row always stops).
private enum PoissonTable {
    static let limit: Float = 12
    static let steps: Float = 32
    static let columns = 48
}

private let poissonTable: [Float] = {
    let rows = Int(PoissonTable.limit * PoissonTable.steps) + 1, columns = PoissonTable.columns
    var table = [Float](repeating: 1, count: rows * columns)
    for r in 0..<rows {
        let lambda = Double(r) / Double(PoissonTable.steps)
        var p = exp(-lambda), cumulative = 0.0
        for k in 0..<(columns - 1) {
            cumulative += p
            table[r * columns + k] = Float(min(cumulative, 1))
            p *= lambda / Double(k + 1)
        }
    }
    return table
}()

/// Φ⁻¹((i + ½)/4096), i = 0..<4096: standard normal draws from 12 random bits.
private let normalQuantiles: [Float] = (0..<4096).map { i in
    let p = (Double(i) + 0.5) / 4096
    var low = -9.0, high = 9.0
    for _ in 0..<60 {
        let middle = (low + high) / 2
        if 0.5 * erfc(-middle / 2.0.squareRoot()) < p { low = middle } else { high = middle }
    }
    return Float((low + high) / 2)
}

/// A well-mixed seed from two numbers (SplitMix64's finaliser), so nearby inputs give unrelated streams.
func mixSeeds(_ a: UInt64, _ b: UInt64) -> UInt64 {
    var z = a &+ 0x9E37_79B9_7F4A_7C15 &* (b &+ 1)
    z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
    z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
    return z ^ (z >> 31)
}
