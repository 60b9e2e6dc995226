// Model inputs: 16-frame windows (step 2) of video + behaviour planes on a square canvas, their
// targets, and CutMix (reference sections 2.1, 3.2, 3.3).
import Foundation
import NeuralData

/// Builds `(5, frames, canvas, canvas)` input windows and `(N, frames)` targets from trials.
public struct WindowBuilder: Sendable {
    public let frames: Int, step: Int, canvas: Int

    public init(config: DwiseNeuroConfig) {
        frames = config.frames
        step = config.frameStep
        canvas = config.canvas
    }

    /// Frames spanned by a window.
    public var span: Int { (frames - 1) * step + 1 }
    /// Floats in one input window.
    public var inputCount: Int { 5 * frames * canvas * canvas }

    /// Frame indices of the window ending at `end` ("last" anchoring): end − (frames−1)·step … end.
    public func frameIndices(end: Int) -> [Int] {
        (0..<frames).map { end - (frames - 1 - $0) * step }
    }

    /// Checks that a trial fits the canvas and is long enough for one window.
    public func check(_ trial: SensoriumTrial, mouse: String) throws {
        guard trial.height <= canvas, trial.width <= canvas else {
            throw ModelError(
                "\(mouse) trial \(trial.id): frames \(trial.height)×\(trial.width) do not fit the \(canvas)×\(canvas) canvas (set canvas in the model config)"
            )
        }
    }

    /// Writes the window ending at `end` into `buffer[offset ..< offset + inputCount]`: channel 0 the
    /// video pasted centred (zeros around, raw 0–255 values), channels 1–4 pupil, speed, pupil x, pupil y,
    /// each filling its whole plane.
    public func fillInput(_ trial: SensoriumTrial, end: Int, into buffer: inout [Float], offset: Int) {
        let plane = canvas * canvas, l = trial.length
        let top = (canvas - trial.height) / 2, left = (canvas - trial.width) / 2
        let framePixels = trial.height * trial.width
        for (k, t) in frameIndices(end: end).enumerated() {
            let videoBase = offset + k * plane
            for i in 0..<plane { buffer[videoBase + i] = 0 }
            for y in 0..<trial.height {
                let source = t * framePixels + y * trial.width
                let destination = videoBase + (top + y) * canvas + left
                for x in 0..<trial.width { buffer[destination + x] = trial.video[source + x] }
            }
            let behaviour = [trial.behavior[t], trial.behavior[l + t], trial.pupilCenter[t], trial.pupilCenter[l + t]]
            for (c, value) in behaviour.enumerated() {
                let base = offset + ((c + 1) * frames + k) * plane
                for i in 0..<plane { buffer[base + i] = value }
            }
        }
    }

    /// Responses at the window's frames, `(N, frames)`, negatives clamped to 0.
    public func target(_ trial: SensoriumTrial, end: Int) -> [Float] {
        let n = trial.neuronCount, l = trial.length
        let indices = frameIndices(end: end)
        var out = [Float](repeating: 0, count: n * frames)
        for neuron in 0..<n {
            for (k, t) in indices.enumerated() { out[neuron * frames + k] = max(0, trial.responses[neuron * l + t]) }
        }
        return out
    }

    // MARK: CutMix

    /// Pastes a random box of `other` into `input` (all channels and frames) and mixes the targets by
    /// the box's area fraction. Box side `floor(canvas·sqrt(λ))`, λ ~ U(0, 1), centre uniform.
    public func cutMix(
        input: inout [Float], offset: Int, target: inout [Float], other: [Float], otherTarget: [Float],
        rng: inout SeededRandom
    ) {
        let lambda = rng.uniform()
        let side = Int(Double(canvas) * lambda.squareRoot())
        let u = rng.int(below: canvas), v = rng.int(below: canvas)
        let y0 = min(max(u - side / 2, 0), canvas), y1 = min(max(u + side / 2, 0), canvas)
        let x0 = min(max(v - side / 2, 0), canvas), x1 = min(max(v + side / 2, 0), canvas)
        let area = Float((y1 - y0) * (x1 - x0)) / Float(canvas * canvas)
        guard area > 0 else { return }
        let plane = canvas * canvas
        for channelFrame in 0..<(5 * frames) {
            let base = channelFrame * plane
            for y in y0..<y1 {
                for x in x0..<x1 { input[offset + base + y * canvas + x] = other[base + y * canvas + x] }
            }
        }
        for i in target.indices { target[i] = (1 - area) * target[i] + area * otherTarget[i] }
    }
}
