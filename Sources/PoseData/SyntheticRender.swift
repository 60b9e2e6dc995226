// Drawing the synthetic animal: body, legs, tail, the occluding pillar, blur and noise.
import Foundation

extension SyntheticAnimalScene {
    /// Renders one frame. `speed` (pixels per frame) sets the motion blur; `noiseSeed` the sensor noise.
    public func render(keypoints p: [Double], speed: Double, noiseSeed: UInt64) -> HostImage {
        var image = background
        drawAnimal(on: &image, keypoints: p)
        // The pillar hides whatever walks behind it.
        for y in max(0, Int(pillar.y0))..<min(height, Int(pillar.y1)) {
            for x in max(0, Int(pillar.x0))..<min(width, Int(pillar.x1)) {
                let shade = UInt8(clamping: 70 + (x - Int(pillar.x0)) * 4)
                let i = (y * width + x) * 3
                image.pixels[i] = shade; image.pixels[i + 1] = shade; image.pixels[i + 2] = UInt8(clamping: Int(shade) + 20)
            }
        }
        var rng = MersenneTwister(seed: noiseSeed)
        let blur = min(7, Int(speed * 1.5))
        if blur >= 2 { boxBlur(&image, radius: blur / 2) }
        let sigma = rng.uniform(3, 9), gain = rng.uniform(0.85, 1.15)
        for i in image.pixels.indices {
            image.pixels[i] = UInt8(clamping: Int(Double(image.pixels[i]) * gain + rng.normal() * sigma))
        }
        return image
    }

    /// Draws the animal with keypoints `p` (`[x0, y0, …]`, image pixels) on `image`: legs, tail, body, head. The
    /// nose tip is drawn last, the ears after the body, so their pixels show their own colours (`SyntheticSession.markColors`).
    func drawAnimal(on image: inout HostImage, keypoints p: [Double]) {
        func pt(_ j: Int) -> (Double, Double) { (p[2 * j], p[2 * j + 1]) }
        let L = length
        let fur: [UInt8] = [92, 64, 48], dark: [UInt8] = [60, 40, 30], pink: [UInt8] = [222, 150, 150]
        // Legs first, so the body covers their roots.
        let roots = [3, 3, 4, 4]
        for (paw, root) in zip(7...10, roots) {
            let (x0, y0) = pt(root), (x1, y1) = pt(paw)
            image.drawLine(x0: x0, y0: y0, x1: x1, y1: y1, thickness: L * 0.06, color: dark)
            image.fillDisk(x: x1, y: y1, radius: L * 0.055, color: pink)
        }
        // Tail: tapering line through tail_base → tail_mid → tail_tip.
        image.drawLine(x0: pt(4).0, y0: pt(4).1, x1: pt(5).0, y1: pt(5).1, thickness: L * 0.07, color: dark)
        image.drawLine(x0: pt(5).0, y0: pt(5).1, x1: pt(6).0, y1: pt(6).1, thickness: L * 0.045, color: dark)
        image.fillDisk(x: pt(6).0, y: pt(6).1, radius: L * 0.03, color: [240, 220, 200])
        // Body: disks along neck → tail_base, fattest in the middle.
        let (nx, ny) = pt(3), (tx, ty) = pt(4)
        for s in 0...24 {
            let f = Double(s) / 24
            let r = L * (0.1 + 0.07 * sin(Double.pi * f))
            image.fillDisk(x: nx + (tx - nx) * f, y: ny + (ty - ny) * f, radius: r, color: fur)
        }
        // Head: neck → nose, ears, a pale snout tip.
        let (hx, hy) = pt(0)
        for s in 0...8 {
            let f = Double(s) / 8
            image.fillDisk(x: nx + (hx - nx) * f, y: ny + (hy - ny) * f, radius: L * (0.1 - 0.06 * f), color: fur)
        }
        image.fillDisk(x: pt(1).0, y: pt(1).1, radius: L * 0.05, color: pink)
        image.fillDisk(x: pt(2).0, y: pt(2).1, radius: L * 0.05, color: [200, 120, 160])
        image.fillDisk(x: hx, y: hy, radius: L * 0.03, color: [250, 235, 225])
    }

    /// Whether a point lies on the image (a swinging tail can leave it).
    public func inside(x: Double, y: Double) -> Bool {
        x >= 0 && y >= 0 && x <= Double(width) && y <= Double(height)
    }

    /// A separable box blur of the given radius (the camera's motion/defocus blur).
    func boxBlur(_ image: inout HostImage, radius r: Int) {
        let w = image.width, h = image.height
        var tmp = image.pixels
        for pass in 0..<2 {
            let src = pass == 0 ? image.pixels : tmp
            var dst = src
            for y in 0..<h {
                for x in 0..<w {
                    for c in 0..<3 {
                        var sum = 0, n = 0
                        for d in -r...r {
                            let xx = pass == 0 ? min(w - 1, max(0, x + d)) : x
                            let yy = pass == 1 ? min(h - 1, max(0, y + d)) : y
                            sum += Int(src[(yy * w + xx) * 3 + c]); n += 1
                        }
                        dst[(y * w + x) * 3 + c] = UInt8(sum / n)
                    }
                }
            }
            if pass == 0 { tmp = dst } else { image.pixels = dst }
        }
    }

    // MARK: - Data sets

    /// `count` labelled frames from many short walks; keypoints behind the pillar are NaN (not visible).
    public func labeledFrames(count: Int) -> [(image: HostImage, keypoints: [Double])] {
        (0..<count).map { i in
            let w = walk(seed: UInt64(1000 + i / 10))
            let t = Double((i % 10) * 37 + i)
            var points = keypoints(w, at: t)
            let next = keypoints(w, at: t + 1)
            let image = render(keypoints: points, speed: hypot(next[0] - points[0], next[1] - points[1]), noiseSeed: UInt64(50_000 + i))
            for j in 0..<(points.count / 2)
            where occluded(x: points[2 * j], y: points[2 * j + 1])
                || !inside(x: points[2 * j], y: points[2 * j + 1])
            {
                points[2 * j] = .nan
                points[2 * j + 1] = .nan
            }
            return (image, points)
        }
    }

    /// One continuous walk of `count` frames (a different walk from every labelled one), with the
    /// true keypoints of every frame (occluded ones included).
    public func video(frames count: Int) -> (frames: [HostImage], truth: [[Double]]) {
        let w = walk(seed: 7)
        var frames: [HostImage] = [], truth: [[Double]] = []
        for f in 0..<count {
            let points = keypoints(w, at: Double(f))
            let next = keypoints(w, at: Double(f + 1))
            frames.append(render(keypoints: points, speed: hypot(next[0] - points[0], next[1] - points[1]), noiseSeed: UInt64(90_000 + f)))
            truth.append(points)
        }
        return (frames, truth)
    }
}
