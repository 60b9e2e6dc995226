// A synthetic articulated animal walking over a textured arena: ground truth for every frame.
import Foundation

// MARK: - Scene

/// A four-legged animal (11 keypoints) moving over a textured background, with an occluding
/// pillar, motion blur and sensor noise. Everything is a deterministic function of the seed.
public struct SyntheticAnimalScene: Sendable {
    public static let keypointNames = [
        "nose", "ear_left", "ear_right", "neck", "tail_base", "tail_mid", "tail_tip",
        "paw_front_left", "paw_front_right", "paw_hind_left", "paw_hind_right",
    ]
    /// Lines drawn between keypoints in labelled videos.
    public static let skeleton: [[String]] = [
        ["nose", "neck"], ["neck", "tail_base"], ["tail_base", "tail_mid"], ["tail_mid", "tail_tip"],
        ["ear_left", "ear_right"], ["neck", "paw_front_left"], ["neck", "paw_front_right"],
        ["tail_base", "paw_hind_left"], ["tail_base", "paw_hind_right"],
    ]

    public let width: Int
    public let height: Int
    public let seed: UInt64
    /// Body length in pixels.
    let length: Double
    /// The arena texture (RGB), shared by every frame.
    let background: HostImage
    /// The occluding pillar: x range and y range in pixels.
    let pillar: (x0: Double, x1: Double, y0: Double, y1: Double)

    public init(width: Int = 256, height: Int = 256, seed: UInt64 = 7) {
        self.width = width
        self.height = height
        self.seed = seed
        self.length = Double(min(width, height)) * 0.3
        var rng = MersenneTwister(seed: seed)
        self.background = Self.makeBackground(width: width, height: height, rng: &rng)
        let px = rng.uniform(0.55, 0.7) * Double(width)
        self.pillar = (px, px + Double(width) * 0.07, Double(height) * 0.05, Double(height) * 0.45)
    }

    // MARK: Background

    static func makeBackground(width: Int, height: Int, rng: inout MersenneTwister) -> HostImage {
        var image = HostImage(width: width, height: height, channels: 3)
        // A few low-frequency waves plus bright and dark blobs: enough texture to confuse a weak model.
        let waves = (0..<6).map { _ in (rng.uniform(0.01, 0.08), rng.uniform(0.01, 0.08), rng.uniform(0, 6.28), rng.uniform(8, 22)) }
        let blobs = (0..<25).map { _ in
            (rng.uniform(0, Double(width)), rng.uniform(0, Double(height)), rng.uniform(3, 14), rng.uniform(-45, 45))
        }
        var grain = MersenneTwister(seed: UInt64(rng.next()))
        for y in 0..<height {
            for x in 0..<width {
                var v = 150.0
                for (fx, fy, phase, amp) in waves { v += amp * sin(fx * Double(x) + fy * Double(y) + phase) }
                for (bx, by, r, amp) in blobs {
                    let d2 = (Double(x) - bx) * (Double(x) - bx) + (Double(y) - by) * (Double(y) - by)
                    v += amp * exp(-d2 / (2 * r * r))
                }
                v += grain.normal() * 6
                let i = (y * width + x) * 3
                image.pixels[i] = UInt8(clamping: Int(v + 8))
                image.pixels[i + 1] = UInt8(clamping: Int(v))
                image.pixels[i + 2] = UInt8(clamping: Int(v - 12))
            }
        }
        return image
    }

    // MARK: Motion

    /// Parameters of one walk (a smooth path inside the arena, a gait and a tail wag).
    public struct Walk: Sendable {
        var fx: [Double], fy: [Double], px: [Double], py: [Double]
        var gaitRate: Double, wagRate: Double, bendAmplitude: Double
    }

    public func walk(seed: UInt64) -> Walk {
        var rng = MersenneTwister(seed: seed &* 2_654_435_761 &+ self.seed)
        return Walk(
            fx: (0..<3).map { _ in rng.uniform(0.004, 0.02) }, fy: (0..<3).map { _ in rng.uniform(0.004, 0.02) },
            px: (0..<3).map { _ in rng.uniform(0, 6.28) }, py: (0..<3).map { _ in rng.uniform(0, 6.28) },
            gaitRate: rng.uniform(0.25, 0.4), wagRate: rng.uniform(0.05, 0.12), bendAmplitude: rng.uniform(0.1, 0.35))
    }

    /// Centre of the body at time t (frames).
    func centre(_ w: Walk, _ t: Double) -> (Double, Double) {
        var x = 0.0, y = 0.0
        for i in 0..<3 { x += sin(w.fx[i] * t + w.px[i]) / 3; y += sin(w.fy[i] * t + w.py[i]) / 3 }
        let margin = length * 0.75
        return (Double(width) / 2 + x * (Double(width) / 2 - margin), Double(height) / 2 + y * (Double(height) / 2 - margin))
    }

    /// The true keypoints `[x0, y0, …]` (frame pixels) at time t.
    public func keypoints(_ w: Walk, at t: Double) -> [Double] {
        let (cx, cy) = centre(w, t)
        let (ax, ay) = centre(w, t + 1)
        let heading = atan2(ay - cy, ax - cx)
        let bend = w.bendAmplitude * sin(t * 0.05 + w.px[0])
        let L = length
        // A point `along` the spine (+ forward) and `side` (+ left), the spine bending with `bend`.
        func body(_ along: Double, _ side: Double) -> (Double, Double) {
            let angle = heading + bend * along / L
            let (c, s) = (cos(angle), sin(angle))
            return (cx + c * along - s * side, cy + s * along + c * side)
        }
        let wag = 0.5 * sin(t * w.wagRate)
        func tail(_ along: Double) -> (Double, Double) {
            let angle = heading + bend * -0.4 + wag * (-along - 0.4 * L) / L
            return (
                cx + cos(heading) * -0.4 * L + cos(angle) * (along + 0.4 * L),
                cy + sin(heading) * -0.4 * L + sin(angle) * (along + 0.4 * L)
            )
        }
        let phase = t * w.gaitRate
        let swing = 0.12 * L
        var points: [(Double, Double)] = []
        points.append(body(0.5 * L, 0))  // nose
        points.append(body(0.33 * L, 0.09 * L))  // ear_left
        points.append(body(0.33 * L, -0.09 * L))  // ear_right
        points.append(body(0.25 * L, 0))  // neck
        points.append(body(-0.4 * L, 0))  // tail_base
        points.append(tail(-0.75 * L))  // tail_mid
        points.append(tail(-1.1 * L))  // tail_tip
        points.append(body(0.22 * L + swing * sin(phase), 0.2 * L))  // paw_front_left
        points.append(body(0.22 * L + swing * sin(phase + .pi), -0.2 * L))  // paw_front_right
        points.append(body(-0.3 * L + swing * sin(phase + .pi), 0.2 * L))  // paw_hind_left
        points.append(body(-0.3 * L + swing * sin(phase), -0.2 * L))  // paw_hind_right
        return points.flatMap { [$0.0, $0.1] }
    }

    /// Whether a point is hidden behind the pillar.
    public func occluded(x: Double, y: Double) -> Bool {
        x >= pillar.x0 && x <= pillar.x1 && y >= pillar.y0 && y <= pillar.y1
    }
}
