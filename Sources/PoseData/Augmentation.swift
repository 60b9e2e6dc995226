// DLC-style augmentation (LP reference §5.1) applied to an image and its keypoints together.
import Foundation

// MARK: - Settings

/// Probabilities and ranges of each augmentation, as in Lightning Pose's imgaug presets.
public struct AugmentationSettings: Sendable, Equatable {
    /// Allowed counts of clockwise quarter turns (`[0]` = none).
    public var rot90Choices: [Int] = [0]
    public var rotationProb = 0.0
    public var maxRotationDegrees = 25.0
    public var cropPadProb = 0.0
    /// Each side is cropped (positive) or padded (negative) by up to this fraction of the size.
    public var cropPadFraction = 0.15
    public var motionBlurProb = 0.0
    /// Kernel length in original-image pixels.
    public var motionBlurKernel = 5.0
    public var coarseDropoutProb = 0.0
    public var coarseSaltProb = 0.0
    public var coarsePepperProb = 0.0
    /// Stand-in for imgaug's histogram equalisation / CLAHE: a random contrast stretch.
    public var contrastProb = 0.0
    /// Additive Gaussian pixel noise (σ up to 0.05 of the range).
    public var noiseProb = 0.0
    /// Horizontal flip with left/right keypoint swapping (p = 0.5 when enabled).
    public var horizontalFlip = false

    public init() {}

    /// No augmentation: resize only (LP's `default`/`none`, and every validation/test sample).
    public static let resizeOnly = AugmentationSettings()

    /// The LP preset of that name (`dlc`, `dlc-lr`, `dlc-top-down`, `dlc-mv`, `default`, `none`).
    public static func preset(_ name: String, horizontalFlip: Bool = false) -> AugmentationSettings {
        var s = AugmentationSettings()
        s.horizontalFlip = horizontalFlip
        guard name.hasPrefix("dlc") else { return s }
        s.motionBlurProb = 0.5
        s.coarseDropoutProb = 0.5
        s.coarseSaltProb = 0.5
        s.coarsePepperProb = 0.5
        s.contrastProb = 0.2
        s.noiseProb = 0.2
        if name != "dlc-mv" {
            s.rotationProb = 0.4
            s.cropPadProb = 0.4
        }
        if name == "dlc-lr" { s.rot90Choices = [0, 2] }
        if name == "dlc-top-down" { s.rot90Choices = [0, 1, 2, 3] }
        return s
    }
}

// MARK: - Geometry

/// A 2-D affine map `p' = A·p + t`, in continuous pixel coordinates (pixel i spans [i, i+1)).
public struct Affine2D: Sendable, Equatable {
    public var a, b, c, d, tx, ty: Double

    public static let identity = Affine2D(a: 1, b: 0, c: 0, d: 1, tx: 0, ty: 0)

    public init(a: Double, b: Double, c: Double, d: Double, tx: Double, ty: Double) {
        self.a = a; self.b = b; self.c = c; self.d = d; self.tx = tx; self.ty = ty
    }

    public func apply(_ x: Double, _ y: Double) -> (Double, Double) {
        (a * x + b * y + tx, c * x + d * y + ty)
    }

    /// `other ∘ self`: first self, then other.
    public func then(_ o: Affine2D) -> Affine2D {
        Affine2D(
            a: o.a * a + o.b * c, b: o.a * b + o.b * d, c: o.c * a + o.d * c, d: o.c * b + o.d * d,
            tx: o.a * tx + o.b * ty + o.tx, ty: o.c * tx + o.d * ty + o.ty)
    }

    public var inverse: Affine2D {
        let det = a * d - b * c
        let ia = d / det, ib = -b / det, ic = -c / det, id = a / det
        return Affine2D(a: ia, b: ib, c: ic, d: id, tx: -(ia * tx + ib * ty), ty: -(ic * tx + id * ty))
    }

    static func translate(_ x: Double, _ y: Double) -> Affine2D { Affine2D(a: 1, b: 0, c: 0, d: 1, tx: x, ty: y) }
    static func scale(_ sx: Double, _ sy: Double) -> Affine2D { Affine2D(a: sx, b: 0, c: 0, d: sy, tx: 0, ty: 0) }
    /// Clockwise rotation (image coordinates, y down) by `degrees` about (cx, cy).
    static func rotate(degrees: Double, cx: Double, cy: Double) -> Affine2D {
        let t = degrees * Double.pi / 180
        let r = Affine2D(a: cos(t), b: -sin(t), c: sin(t), d: cos(t), tx: 0, ty: 0)
        return translate(-cx, -cy).then(r).then(translate(cx, cy))
    }
}

// MARK: - Augmenter

/// One augmented training sample: a normalised CHW float image and model-space keypoints.
public struct AugmentedSample: Sendable {
    /// `3 × H × W`, ImageNet-normalised.
    public var image: [Float]
    /// `[x0, y0, …]` in model pixels; NaN where unlabelled or pushed outside the image.
    public var keypoints: [Float]
}

/// Draws random transforms and applies them to an image and its keypoints identically.
public struct Augmenter: Sendable {
    public var settings: AugmentationSettings
    public var outputWidth: Int
    public var outputHeight: Int
    /// For each keypoint, the index of its mirror partner (itself when unpaired).
    public var flipPermutation: [Int]

    public static let imagenetMean: [Float] = [0.485, 0.456, 0.406]
    public static let imagenetStd: [Float] = [0.229, 0.224, 0.225]

    public init(settings: AugmentationSettings, outputWidth: Int, outputHeight: Int, flipPermutation: [Int]) {
        self.settings = settings
        self.outputWidth = outputWidth
        self.outputHeight = outputHeight
        self.flipPermutation = flipPermutation
    }

    /// Draws the geometric part: a map from original image pixels to model pixels, and whether it flips.
    public func drawGeometry(width w0: Int, height h0: Int, rng: inout MersenneTwister) -> (Affine2D, Bool) {
        var m = Affine2D.identity
        var w = Double(w0), h = Double(h0)
        let k = settings.rot90Choices[Int(rng.next() % UInt32(settings.rot90Choices.count))]
        for _ in 0..<(k % 4) {
            // Clockwise quarter turn: (x, y) -> (h - y, x); the image becomes h × w.
            m = m.then(Affine2D(a: 0, b: -1, c: 1, d: 0, tx: h, ty: 0))
            swap(&w, &h)
        }
        if settings.rotationProb > 0, rng.chance(settings.rotationProb) {
            let degrees = rng.uniform(-settings.maxRotationDegrees, settings.maxRotationDegrees)
            m = m.then(.rotate(degrees: degrees, cx: w / 2, cy: h / 2))
        }
        if settings.cropPadProb > 0, rng.chance(settings.cropPadProb) {
            let f = settings.cropPadFraction
            let top = rng.uniform(-f, f) * h, right = rng.uniform(-f, f) * w
            let bottom = rng.uniform(-f, f) * h, left = rng.uniform(-f, f) * w
            m = m.then(.translate(-left, -top))
            w = max(8, w - left - right)
            h = max(8, h - top - bottom)
        }
        m = m.then(.scale(Double(outputWidth) / w, Double(outputHeight) / h))
        var flip = false
        if settings.horizontalFlip, rng.chance(0.5) {
            m = m.then(Affine2D(a: -1, b: 0, c: 0, d: 1, tx: Double(outputWidth), ty: 0))
            flip = true
        }
        return (m, flip)
    }

    /// Augments one labelled frame. `keypoints` are frame pixels `[x0, y0, …]` (NaN = missing).
    public func augment(_ image: HostImage, keypoints: [Double], rng: inout MersenneTwister) -> AugmentedSample {
        let (transform, flipped) = drawGeometry(width: image.width, height: image.height, rng: &rng)
        var planes = warp(image, transform: transform)
        photometric(&planes, scale: Double(outputWidth) / Double(image.width), rng: &rng)
        normalize(&planes)
        var points = [Float](repeating: .nan, count: keypoints.count)
        let k = keypoints.count / 2
        for j in 0..<k {
            let (x, y) = transform.apply(keypoints[2 * j], keypoints[2 * j + 1])
            // A flip moves the left paw's label onto the image's right side: it is now the "right paw".
            let target = flipped ? flipPermutation[j] : j
            guard x.isFinite, y.isFinite, x >= 0, y >= 0, x < Double(outputWidth), y < Double(outputHeight) else { continue }
            points[2 * target] = Float(x)
            points[2 * target + 1] = Float(y)
        }
        return AugmentedSample(image: planes, keypoints: points)
    }

    // MARK: - Pixels

    /// Resamples the image through the affine map into `3 × H × W` floats in [0, 1] (bilinear,
    /// black outside). When shrinking by more than 2×, each sample averages a box of source pixels
    /// first, so that fine texture does not alias.
    public func warp(_ image: HostImage, transform: Affine2D) -> [Float] {
        let W = outputWidth, H = outputHeight
        let inv = transform.inverse
        let scale = (transform.a * transform.a + transform.c * transform.c).squareRoot()
        let shrink = max(1, Int((1 / max(scale, 1e-6)).rounded(.down)))
        let source = shrink > 1 ? boxDownsample(image, factor: shrink) : image
        let s = 1.0 / Double(shrink)
        let sw = source.width, sh = source.height, ch = source.channels
        var out = [Float](repeating: 0, count: 3 * W * H)
        source.pixels.withUnsafeBufferPointer { src in
            out.withUnsafeMutableBufferPointer { dst in
                for oy in 0..<H {
                    for ox in 0..<W {
                        var (x, y) = inv.apply(Double(ox) + 0.5, Double(oy) + 0.5)
                        x = x * s - 0.5
                        y = y * s - 0.5
                        let x0 = Int(x.rounded(.down)), y0 = Int(y.rounded(.down))
                        guard x0 >= -1, y0 >= -1, x0 < sw, y0 < sh else { continue }
                        let fx = Float(x - Double(x0)), fy = Float(y - Double(y0))
                        for c in 0..<3 {
                            let cc = ch == 1 ? 0 : c
                            func px(_ xx: Int, _ yy: Int) -> Float {
                                guard xx >= 0, yy >= 0, xx < sw, yy < sh else { return 0 }
                                return Float(src[(yy * sw + xx) * ch + cc])
                            }
                            let top = px(x0, y0) * (1 - fx) + px(x0 + 1, y0) * fx
                            let bottom = px(x0, y0 + 1) * (1 - fx) + px(x0 + 1, y0 + 1) * fx
                            dst[(c * H + oy) * W + ox] = (top * (1 - fy) + bottom * fy) / 255
                        }
                    }
                }
            }
        }
        return out
    }

    /// Averages `factor × factor` blocks (the last partial block averages what exists).
    func boxDownsample(_ image: HostImage, factor f: Int) -> HostImage {
        let w = (image.width + f - 1) / f, h = (image.height + f - 1) / f, ch = image.channels
        var out = [UInt8](repeating: 0, count: w * h * ch)
        for y in 0..<h {
            for x in 0..<w {
                for c in 0..<ch {
                    var sum = 0, n = 0
                    for yy in (y * f)..<min(image.height, y * f + f) {
                        for xx in (x * f)..<min(image.width, x * f + f) {
                            sum += Int(image.pixels[(yy * image.width + xx) * ch + c]); n += 1
                        }
                    }
                    out[(y * w + x) * ch + c] = UInt8(sum / max(n, 1))
                }
            }
        }
        return HostImage(width: w, height: h, channels: ch, pixels: out)
    }

    /// ImageNet normalisation in place.
    public func normalize(_ planes: inout [Float]) {
        let n = outputWidth * outputHeight
        for c in 0..<3 {
            let m = Self.imagenetMean[c], s = Self.imagenetStd[c]
            for i in (c * n)..<((c + 1) * n) { planes[i] = (planes[i] - m) / s }
        }
    }
}
