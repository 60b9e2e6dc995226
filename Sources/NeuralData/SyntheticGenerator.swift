// The synthetic LNP data set of reference section 7: filtered-noise video → receptive fields →
// softplus rates modulated by running speed → Poisson counts, written in the Sensorium 2023 layout.
import Foundation

/// Ground-truth model of one synthetic mouse.
public struct SyntheticNeurons: Sendable {
    /// Receptive fields `(N, H, W)`, unit L2 norm, sign included.
    public var receptiveFields: [Float]
    /// Centres (x, y) in pixels and Gaussian widths.
    public var centers: [(x: Double, y: Double)], sigmas: [Double], signs: [Double]
    /// Causal temporal kernel over the current and 7 previous frames (sums to 1).
    public var temporalKernel: [Double]
    /// Rate parameters b (scale), g (gain), o (offset), β (speed coupling), and the drive std.
    public var scale: [Double], gain: [Double], offset: [Double], beta: [Double], driveStd: [Double]
    public var count: Int { sigmas.count }
}

/// Writes the synthetic data set; see `SyntheticConfig` for the knobs.
public struct SyntheticGenerator: Sendable {
    public let config: SyntheticConfig

    public init(config: SyntheticConfig) throws {
        try config.validate()
        self.config = config
    }

    /// Folder name of synthetic mouse `index`.
    public static func mouseName(_ index: Int) -> String { "synthetic-mouse-\(index)" }

    // MARK: - Video

    /// One clip, time-major `(frames, H, W)`, pixels 0…255 (blurred AR(1) noise, 20-frame burn-in).
    public func makeClip(frames: Int, rng: inout SeededRandom) -> [Float] {
        let h = config.height, w = config.width, plane = h * w
        let sigma = 2.5 * Double(w) / 64
        let radius = max(1, Int((3 * sigma).rounded(.up)))
        var kernel = (-radius...radius).map { Foundation.exp(-Double($0 * $0) / (2 * sigma * sigma)) }
        let total = kernel.reduce(0, +)
        kernel = kernel.map { $0 / total }
        func reflect(_ i: Int, _ n: Int) -> Int {
            var j = i
            while j < 0 || j >= n { j = j < 0 ? -j - 1 : 2 * n - j - 1 }
            return j
        }
        func blurredNoise() -> [Double] {
            let noise = (0..<plane).map { _ in rng.normal() }
            var rows = [Double](repeating: 0, count: plane)
            for y in 0..<h {
                for x in 0..<w {
                    var s = 0.0
                    for (k, weight) in kernel.enumerated() { s += weight * noise[y * w + reflect(x + k - radius, w)] }
                    rows[y * w + x] = s
                }
            }
            var out = [Double](repeating: 0, count: plane)
            for y in 0..<h {
                for x in 0..<w {
                    var s = 0.0
                    for (k, weight) in kernel.enumerated() { s += weight * rows[reflect(y + k - radius, h) * w + x] }
                    out[y * w + x] = s
                }
            }
            return out
        }
        let rho = 0.9, innovation = (1 - rho * rho).squareRoot(), burnIn = 20
        var state = blurredNoise()
        var clip = [Double](repeating: 0, count: frames * plane)
        for t in 0..<(burnIn + frames) {
            if t > 0 {
                let z = blurredNoise()
                for p in 0..<plane { state[p] = rho * state[p] + innovation * z[p] }
            }
            if t >= burnIn { for p in 0..<plane { clip[(t - burnIn) * plane + p] = state[p] } }
        }
        let mean = clip.reduce(0, +) / Double(max(clip.count, 1))
        let variance = clip.reduce(0) { $0 + ($1 - mean) * ($1 - mean) } / Double(max(clip.count, 1))
        let sd = max(variance.squareRoot(), 1e-12)
        return clip.map { Float(min(255, max(0, 128 + 50 * ($0 - mean) / sd))) }
    }

    // MARK: - Behaviour

    /// AR(1) with mean μ and sd s: `μ + s·u_t`, `u_t = ρ u_{t−1} + sqrt(1−ρ²) ξ_t`, u_0 ~ N(0,1).
    static func ar1(_ n: Int, rho: Double, mean: Double, sd: Double, rng: inout SeededRandom) -> [Double] {
        var u = rng.normal()
        var out: [Double] = []
        out.reserveCapacity(n)
        for t in 0..<n {
            if t > 0 { u = rho * u + (1 - rho * rho).squareRoot() * rng.normal() }
            out.append(mean + sd * u)
        }
        return out
    }

    /// Behaviour `(2, frames)` (pupil, speed) and pupil centre `(2, frames)`.
    public func makeBehaviour(frames: Int, rng: inout SeededRandom) -> (behavior: [Double], pupilCenter: [Double]) {
        let pupil = Self.ar1(frames, rho: 0.98, mean: 10, sd: 2, rng: &rng).map(abs)
        let speed = Self.ar1(frames, rho: 0.97, mean: 0.5, sd: 3, rng: &rng).map { max(0, $0) }
        let cx = Self.ar1(frames, rho: 0.99, mean: 30, sd: 2, rng: &rng)
        let cy = Self.ar1(frames, rho: 0.99, mean: 20, sd: 2, rng: &rng)
        return (pupil + speed, cx + cy)
    }

    // MARK: - Neurons

    /// Draws the receptive fields and rate parameters of `count` neurons, calibrating each drive's
    /// std on a separate 200-frame reference clip.
    public func makeNeurons(count: Int, rng: inout SeededRandom) -> SyntheticNeurons {
        let h = config.height, w = config.width, plane = h * w
        let scale = Double(w) / 64, margin = 5 * scale
        func position() -> (x: Double, y: Double, sigma: Double) {
            (
                rng.uniform(margin, max(margin, Double(w) - margin)), rng.uniform(margin, max(margin, Double(h) - margin)),
                rng.uniform(2.5, 4.5) * scale
            )
        }
        let shared = (0..<config.sharedPositions).map { _ in position() }
        var neurons = SyntheticNeurons(
            receptiveFields: [], centers: [], sigmas: [], signs: [], temporalKernel: [],
            scale: [], gain: [], offset: [], beta: [], driveStd: [])
        for _ in 0..<count {
            let p = shared.isEmpty ? position() : shared[rng.int(below: shared.count)]
            let sign: Double = rng.uniform() < 0.5 ? -1 : 1
            var rf = [Double](repeating: 0, count: plane)
            for y in 0..<h {
                for x in 0..<w {
                    let d2 = (Double(x) - p.x) * (Double(x) - p.x) + (Double(y) - p.y) * (Double(y) - p.y)
                    rf[y * w + x] = Foundation.exp(-d2 / (2 * p.sigma * p.sigma))
                }
            }
            let norm = rf.reduce(0) { $0 + $1 * $1 }.squareRoot()
            neurons.receptiveFields += rf.map { Float(sign * $0 / norm) }
            neurons.centers.append((p.x, p.y))
            neurons.sigmas.append(p.sigma)
            neurons.signs.append(sign)
            neurons.scale.append(rng.uniform(0.5, 2))
            neurons.gain.append(rng.uniform(0.8, 1.6))
            neurons.offset.append(rng.uniform(-0.5, 0.5))
            neurons.beta.append(rng.uniform(-config.speedCoupling, config.speedCoupling))
        }
        let tau = 1.5
        let raw = (0..<8).map { k in Double(k + 1) / (tau * tau) * Foundation.exp(-Double(k + 1) / tau) }
        let sum = raw.reduce(0, +)
        neurons.temporalKernel = raw.map { $0 / sum }
        neurons.driveStd = [Double](repeating: 1, count: count)
        let reference = makeClip(frames: 200, rng: &rng)
        let drive = rawDrive(neurons: neurons, clip: reference, frames: 200)
        for n in 0..<count {
            let row = drive[(n * 200)..<((n + 1) * 200)]
            let mean = row.reduce(0, +) / 200
            let sd = (row.reduce(0) { $0 + ($1 - mean) * ($1 - mean) } / 200).squareRoot()
            neurons.driveStd[n] = max(sd, 1e-9)
        }
        return neurons
    }

    /// `Σ_k h_k ⟨RF_n, (frame_{t−k} − 128)/50⟩` as `(N, frames)` (frames before 0 count as 0).
    func rawDrive(neurons: SyntheticNeurons, clip: [Float], frames: Int) -> [Double] {
        let plane = config.height * config.width, n = neurons.count
        var projection = [Double](repeating: 0, count: n * frames)
        for t in 0..<frames {
            let frame = clip[(t * plane)..<((t + 1) * plane)]
            for i in 0..<n {
                var s = 0.0
                let rfStart = i * plane
                for (p, v) in frame.enumerated() { s += Double(neurons.receptiveFields[rfStart + p]) * (Double(v) - 128) / 50 }
                projection[i * frames + t] = s
            }
        }
        var drive = [Double](repeating: 0, count: n * frames)
        for i in 0..<n {
            for t in 0..<frames {
                var s = 0.0
                for (k, hk) in neurons.temporalKernel.enumerated() where t - k >= 0 { s += hk * projection[i * frames + t - k] }
                drive[i * frames + t] = s
            }
        }
        return drive
    }

    /// Rates `λ (N, frames)` for a clip and the trial's running speed.
    public func rates(neurons: SyntheticNeurons, clip: [Float], speed: [Double], frames: Int) -> [Double] {
        let drive = rawDrive(neurons: neurons, clip: clip, frames: frames)
        var out = [Double](repeating: 0, count: drive.count)
        for i in 0..<neurons.count {
            for t in 0..<frames {
                let x = neurons.gain[i] * drive[i * frames + t] / neurons.driveStd[i] + neurons.offset[i]
                let softplus = x > 30 ? x : Foundation.log1p(Foundation.exp(x))
                out[i * frames + t] = neurons.scale[i] * softplus * Foundation.exp(neurons.beta[i] * (speed[t] - 0.5) / 3)
            }
        }
        return out
    }
}
