// Recording sessions of the synthetic animal for `kinema bench semi`: two views side by side in one frame (LP's
// mirrored layout), each session with its own background, lighting, occluders and distractor texture. Held-out
// sessions draw all four from other ranges than training sessions, so a model that has only seen the training
// sessions meets new conditions there. Everything is a deterministic function of the seeds.
import Foundation

/// One recording session of the synthetic animal seen in two views of one frame.
///
/// The frame is `2·viewSize × viewSize`: the left half is the `main` view (the animal's own coordinates), the right
/// half the `mirror` view, which sees the same animal reflected: a keypoint at (x, y) in the main view is at
/// (2·viewSize − x, y) in the frame (`mirrored(_:)`). Each view has its own background, occluders and distractors.
public struct SyntheticSession: Sendable {
    /// Training sessions give the labelled frames and the unlabelled videos; held-out sessions are only predicted.
    public enum Kind: String, Sendable { case training, heldOut = "heldout" }

    /// The two views, in frame order (left, right); keypoint columns are `<keypoint>_<view>`.
    public static let viewNames = ["main", "mirror"]

    /// A rectangle (view pixels) that hides whatever is behind it, during `active` frame ranges (empty: always).
    public struct Occluder: Sendable, Equatable {
        public var x0: Double, x1: Double, y0: Double, y1: Double
        public var color: [UInt8]
        /// Drawn with dark diagonal stripes (held-out sessions), else flat.
        public var striped: Bool
        public var active: [Range<Int>]

        public func isPresent(frame: Int) -> Bool { active.isEmpty || active.contains { $0.contains(frame) } }
        /// Whether the point is hidden at this frame. Pixels are drawn where the pixel centre is inside, so a point
        /// counts as hidden when the pixel that contains it is.
        public func covers(x: Double, y: Double, frame: Int) -> Bool {
            guard isPresent(frame: frame) else { return false }
            let px = x.rounded(.down) + 0.5, py = y.rounded(.down) + 0.5
            return px >= x0 && px < x1 && py >= y0 && py < y1
        }
    }

    /// A camera's exposure: `value · gain · (1 + gradient · (x/width − ½)) + offset`.
    public struct Lighting: Sendable, Equatable {
        public var gain: Double, offset: Double, gradient: Double
    }

    /// What one view shows besides the animal.
    public struct ViewLook: Sendable {
        /// The arena with its distractors already painted on (they lie under the animal).
        public var background: HostImage
        public var occluders: [Occluder]
        /// How many keypoint-coloured blobs and leg-coloured stripes were painted on the background.
        public var distractorCount: Int
        /// The background's texture family: `waves` (training) or `tiles` (held-out).
        public var texture: String
    }

    public let kind: Kind
    public let name: String
    public let seed: UInt64
    public let viewSize: Int
    /// The animal's geometry (body length, walk, keypoints) at `viewSize`.
    public let scene: SyntheticAnimalScene
    public let walk: SyntheticAnimalScene.Walk
    public let lighting: Lighting
    /// Per view, `viewNames` order.
    public let views: [ViewLook]
    /// Sensor noise standard deviation range (grey levels), the same for every session.
    static let noise = (3.0, 7.0)

    /// The colours the keypoints with a mark of their own are drawn in (`SyntheticAnimalScene.drawAnimal`): the nose
    /// tip and the two ears, which nothing of the animal covers.
    public static let markColors: [Int: [UInt8]] = [0: [250, 235, 225], 1: [222, 150, 150], 2: [200, 120, 160]]

    public init(kind: Kind, index: Int, viewSize: Int = 96, frames: Int = 300, seed: UInt64 = 7) {
        self.kind = kind
        self.name = "\(kind == .training ? "train" : "heldout")\(index)"
        let sessionSeed = seed &* 1_000_003 &+ UInt64(index) &* 7919 &+ (kind == .training ? 0 : 500_009)
        self.seed = sessionSeed
        self.viewSize = viewSize
        scene = SyntheticAnimalScene(width: viewSize, height: viewSize, seed: seed)
        walk = scene.walk(seed: sessionSeed)
        var rng = MersenneTwister(seed: sessionSeed)
        lighting = Self.lighting(kind, rng: &rng)
        views = (0..<2).map { _ in Self.look(kind, size: viewSize, frames: frames, rng: &rng) }
    }

    // MARK: - The four ways held-out sessions differ

    /// Training: gain 0.9–1.1, offset ±8, even light. Held-out: dimmer (gain 0.6–0.75), washed out (offset 20–35) and
    /// a left–right gradient of ±30–50 %.
    static func lighting(_ kind: Kind, rng: inout MersenneTwister) -> Lighting {
        switch kind {
        case .training: Lighting(gain: rng.uniform(0.9, 1.1), offset: rng.uniform(-8, 8), gradient: 0)
        case .heldOut:
            Lighting(
                gain: rng.uniform(0.6, 0.75), offset: rng.uniform(20, 35),
                gradient: rng.uniform(0.3, 0.5) * (rng.uniform() < 0.5 ? -1 : 1))
        }
    }

    /// One view's background, distractors and occluders.
    static func look(_ kind: Kind, size: Int, frames: Int, rng: inout MersenneTwister) -> ViewLook {
        let s = Double(size)
        var background: HostImage
        var occluders: [Occluder] = []
        var distractors = 0
        switch kind {
        case .training:
            // Warm grey waves and blobs (the demo's arena, tinted per session); one thin pillar; no distractors.
            background = waves(size: size, tint: (rng.uniform(5, 20), 0, -rng.uniform(5, 20)), level: rng.uniform(140, 165), rng: &rng)
            let x = rng.uniform(0.3, 0.62) * s, y = rng.uniform(0.1, 0.4) * s
            occluders.append(
                Occluder(
                    x0: x, x1: x + rng.uniform(0.06, 0.09) * s, y0: y, y1: y + rng.uniform(0.25, 0.4) * s, color: [90, 90, 110],
                    striped: false, active: []))
        case .heldOut:
            // Cool tiles and stripes; a wide striped bar, and a box that comes and goes (hiding keypoints for
            // stretches); blobs in the keypoints' own colours and dark stripes like legs and tails.
            background = tiles(size: size, level: rng.uniform(95, 120), rng: &rng)
            let x = rng.uniform(0.25, 0.6) * s, y = rng.uniform(0.05, 0.35) * s
            occluders.append(
                Occluder(
                    x0: x, x1: x + rng.uniform(0.12, 0.18) * s, y0: y, y1: y + rng.uniform(0.4, 0.55) * s, color: [40, 70, 60],
                    striped: true, active: []))
            var stretches: [Range<Int>] = []
            var start = Int(rng.uniform(10, 40))
            while start < frames {
                let length = Int(rng.uniform(20, 45))
                stretches.append(start..<min(frames, start + length))
                start += length + Int(rng.uniform(30, 70))
            }
            let bx = rng.uniform(0.3, 0.55) * s, by = rng.uniform(0.35, 0.6) * s, side = rng.uniform(0.2, 0.3) * s
            occluders.append(
                Occluder(x0: bx, x1: bx + side, y0: by, y1: by + side, color: [30, 30, 60], striped: false, active: stretches))
            let palette: [[UInt8]] = [0, 1, 2].compactMap { markColors[$0] } + [[240, 220, 200]]
            let blobs = Int(rng.uniform(10, 17))
            for _ in 0..<blobs {
                let color = palette[Int(rng.uniform(0, Double(palette.count) - 1e-9))]
                background.fillDisk(
                    x: rng.uniform(0, s), y: rng.uniform(0, s), radius: rng.uniform(0.015, 0.04) * s, color: color)
            }
            let stripes = Int(rng.uniform(3, 6))
            for _ in 0..<stripes {
                let x0 = rng.uniform(0, s), y0 = rng.uniform(0, s), angle = rng.uniform(0, 2 * .pi), length = rng.uniform(0.15, 0.3) * s
                background.drawLine(
                    x0: x0, y0: y0, x1: x0 + cos(angle) * length, y1: y0 + sin(angle) * length,
                    thickness: rng.uniform(0.015, 0.03) * s, color: [60, 40, 30])
            }
            distractors = blobs + stripes
        }
        return ViewLook(
            background: background, occluders: occluders, distractorCount: distractors, texture: kind == .training ? "waves" : "tiles")
    }

    /// Low-frequency waves plus bright and dark blobs and grain, `level` ± a few tens, tinted per channel.
    static func waves(size: Int, tint: (Double, Double, Double), level: Double, rng: inout MersenneTwister) -> HostImage {
        var image = HostImage(width: size, height: size, channels: 3)
        let scale = 256 / Double(size)  // the demo's wavelengths at 256 px
        let waves = (0..<5).map { _ in
            (rng.uniform(0.01, 0.08) * scale, rng.uniform(0.01, 0.08) * scale, rng.uniform(0, 6.28), rng.uniform(8, 20))
        }
        let blobs = (0..<12).map { _ in
            (rng.uniform(0, Double(size)), rng.uniform(0, Double(size)), rng.uniform(2, 8) / scale * 2, rng.uniform(-40, 40))
        }
        var grain = MersenneTwister(seed: UInt64(rng.next()))
        for y in 0..<size {
            for x in 0..<size {
                var v = level
                for (fx, fy, phase, amp) in waves { v += amp * sin(fx * Double(x) + fy * Double(y) + phase) }
                for (bx, by, r, amp) in blobs {
                    let d2 = (Double(x) - bx) * (Double(x) - bx) + (Double(y) - by) * (Double(y) - by)
                    v += amp * exp(-d2 / (2 * r * r))
                }
                v += grain.normal() * 5
                let i = (y * size + x) * 3
                image.pixels[i] = UInt8(clamping: Int(v + tint.0))
                image.pixels[i + 1] = UInt8(clamping: Int(v + tint.1))
                image.pixels[i + 2] = UInt8(clamping: Int(v + tint.2))
            }
        }
        return image
    }

    /// A checkerboard of bluish-green tiles crossed by faint diagonal stripes, with grain.
    static func tiles(size: Int, level: Double, rng: inout MersenneTwister) -> HostImage {
        var image = HostImage(width: size, height: size, channels: 3)
        let tile = max(4, Int(rng.uniform(0.08, 0.14) * Double(size)))
        let contrast = rng.uniform(18, 30), period = rng.uniform(0.05, 0.1) * Double(size)
        let tint = (-rng.uniform(15, 25), rng.uniform(0, 10), rng.uniform(20, 35))
        var grain = MersenneTwister(seed: UInt64(rng.next()))
        for y in 0..<size {
            for x in 0..<size {
                var v = level + ((x / tile + y / tile) % 2 == 0 ? contrast : -contrast)
                v += 10 * sin(2 * .pi * Double(x + y) / period)
                v += grain.normal() * 5
                let i = (y * size + x) * 3
                image.pixels[i] = UInt8(clamping: Int(v + tint.0))
                image.pixels[i + 1] = UInt8(clamping: Int(v + tint.1))
                image.pixels[i + 2] = UInt8(clamping: Int(v + tint.2))
            }
        }
        return image
    }

    // MARK: - Truth and frames

    /// Keypoint columns of the frame: every keypoint of `main`, then of `mirror` (`nose_main`, …, `nose_mirror`, …).
    public static var keypointNames: [String] {
        viewNames.flatMap { view in SyntheticAnimalScene.keypointNames.map { "\($0)_\(view)" } }
    }

    /// `main`'s keypoints (view pixels) at a frame.
    public func mainKeypoints(frame: Int) -> [Double] { scene.keypoints(walk, at: Double(frame)) }

    /// The view's own image coordinates of main-view keypoints: the mirror sees x reflected, `viewSize − x`.
    func inView(_ view: Int, _ points: [Double]) -> [Double] {
        view == 0 ? points : points.enumerated().map { $0.offset % 2 == 0 ? Double(viewSize) - $0.element : $0.element }
    }

    /// The frame coordinates of main-view keypoints, both views: `[x, y]` of `main`'s keypoints, then `mirror`'s
    /// at (2·viewSize − x, y).
    public func mirrored(_ points: [Double]) -> [Double] {
        points + points.enumerated().map { $0.offset % 2 == 0 ? 2 * Double(viewSize) - $0.element : $0.element }
    }

    /// The true keypoints of a frame in frame pixels, `keypointNames` order (hidden ones included).
    public func truth(frame: Int) -> [Double] { mirrored(mainKeypoints(frame: frame)) }

    /// Per keypoint column: whether it is behind an occluder of its view at this frame.
    public func hidden(frame: Int) -> [Bool] {
        let main = mainKeypoints(frame: frame), k = main.count / 2
        return (0..<2).flatMap { v -> [Bool] in
            let points = inView(v, main)
            return (0..<k).map { j in views[v].occluders.contains { $0.covers(x: points[2 * j], y: points[2 * j + 1], frame: frame) } }
        }
    }

    /// Per keypoint column: whether it lies on its own view (a swinging tail can leave it; such a point is not
    /// labelled and not scored).
    public func onView(frame: Int) -> [Bool] {
        let main = mainKeypoints(frame: frame), k = main.count / 2, s = Double(viewSize)
        return (0..<2).flatMap { v -> [Bool] in
            let points = inView(v, main)
            return (0..<k).map { j in points[2 * j] >= 0 && points[2 * j] < s && points[2 * j + 1] >= 0 && points[2 * j + 1] < s }
        }
    }

    /// Renders a frame (`2·viewSize × viewSize`). `effects: false` leaves out lighting, blur and noise (tests compare
    /// drawn colours).
    public func render(frame: Int, effects: Bool = true) -> HostImage {
        let s = viewSize
        let main = mainKeypoints(frame: frame), next = mainKeypoints(frame: frame + 1)
        let speed = hypot(next[0] - main[0], next[1] - main[1])
        var out = HostImage(width: 2 * s, height: s, channels: 3)
        for v in 0..<2 {
            var image = views[v].background
            scene.drawAnimal(on: &image, keypoints: inView(v, main))
            for occluder in views[v].occluders where occluder.isPresent(frame: frame) { draw(occluder, on: &image) }
            if effects {
                var rng = MersenneTwister(seed: seed &+ UInt64(frame) &* 2 &+ UInt64(v))
                let blur = min(5, Int(speed * 1.5))
                if blur >= 2 { scene.boxBlur(&image, radius: blur / 2) }
                let sigma = rng.uniform(Self.noise.0, Self.noise.1)
                for y in 0..<s {
                    let light = lighting.gain
                    for x in 0..<s {
                        let g = light * (1 + lighting.gradient * (Double(x) / Double(s) - 0.5))
                        for c in 0..<3 {
                            let i = (y * s + x) * 3 + c
                            image.pixels[i] = UInt8(
                                clamping: Int((Double(image.pixels[i]) * g + lighting.offset + rng.normal() * sigma).rounded()))
                        }
                    }
                }
            }
            for y in 0..<s {
                let row = image.pixels[(y * s * 3)..<((y + 1) * s * 3)]
                let start = (y * 2 * s + v * s) * 3
                out.pixels.replaceSubrange(start..<(start + s * 3), with: row)
            }
        }
        return out
    }

    /// Paints an occluder: every pixel whose centre is inside, flat or with dark diagonal stripes.
    func draw(_ o: Occluder, on image: inout HostImage) {
        let s = image.width
        for y in 0..<image.height {
            let cy = Double(y) + 0.5
            guard cy >= o.y0, cy < o.y1 else { continue }
            for x in 0..<s {
                let cx = Double(x) + 0.5
                guard cx >= o.x0, cx < o.x1 else { continue }
                let dark = o.striped && (x + y) / 3 % 2 == 0
                for c in 0..<3 { image.pixels[(y * s + x) * 3 + c] = dark ? o.color[c] / 2 : o.color[c] }
            }
        }
    }

    /// One line a person reads: what this session looks like.
    public var summary: String {
        let occluders = views.map { $0.occluders.count }.reduce(0, +)
        let intermittent = views.flatMap(\.occluders).filter { !$0.active.isEmpty }.count
        return String(
            format: "%@: %@ background, gain %.2f offset %+.0f gradient %+.0f%%, %d occluders (%d come and go), %d distractors",
            name, views[0].texture, lighting.gain, lighting.offset, 100 * lighting.gradient, occluders, intermittent,
            views.map(\.distractorCount).reduce(0, +))
    }
}
