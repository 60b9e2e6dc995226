// Whole-trial prediction: every window end, outputs added into their frames, averaged (reference 4.1).
import Foundation
import NeuralData
import Torch
import TorchNN

/// Predicts `(N, L)` responses for whole trials with a trained model (eval mode).
public struct SlidingWindowPredictor {
    public let model: DwiseNeuro
    public let batchSize: Int
    /// 1 = every window end (exact 4.1); k > 1 = every k-th end plus the last two (both frame parities).
    public let windowStride: Int
    let builder: WindowBuilder

    public init(model: DwiseNeuro, batchSize: Int = 32, windowStride: Int = 1) {
        self.model = model
        self.batchSize = max(1, batchSize)
        self.windowStride = max(1, windowStride)
        builder = WindowBuilder(config: model.config)
    }

    /// Window ends used for a trial of `length` frames.
    public func windowEnds(length: Int) -> [Int] {
        let first = builder.span - 1
        guard length > first else { return [] }
        var ends = Array(stride(from: first, to: length, by: windowStride))
        if windowStride > 1 {
            for e in [length - 2, length - 1] where e >= first && !ends.contains(e) { ends.append(e) }
        }
        return ends
    }

    /// Prediction `(N, L)` for one trial of mouse `mouse`; frames no window covers stay 0.
    public func predict(_ trial: SensoriumTrial, mouse: Int) throws -> [Float] {
        try builder.check(trial, mouse: "mouse \(mouse)")
        let neurons = model.config.readoutNeurons[mouse]
        guard trial.neuronCount == neurons else {
            throw ModelError("trial \(trial.id) has \(trial.neuronCount) neurons but readout \(mouse) predicts \(neurons)")
        }
        let l = trial.length, frames = builder.frames
        var sum = [Float](repeating: 0, count: neurons * l)
        var count = [Float](repeating: 0, count: l)
        let ends = windowEnds(length: l)
        let device = model.store.device
        var start = 0
        while start < ends.count {
            let chunk = Array(ends[start..<min(start + batchSize, ends.count)])
            var input = [Float](repeating: 0, count: chunk.count * builder.inputCount)
            for (i, e) in chunk.enumerated() { builder.fillInput(trial, end: e, into: &input, offset: i * builder.inputCount) }
            let x = try Tensor(input, shape: [chunk.count, 5, frames, builder.canvas, builder.canvas]).to(device)
            let output = try withNoGrad { try model(x, mouse: mouse, training: false).to(.cpu).contiguous().toArray(Float.self) }
            for (i, e) in chunk.enumerated() {
                let indices = builder.frameIndices(end: e)
                for (k, t) in indices.enumerated() {
                    count[t] += 1
                    for n in 0..<neurons { sum[n * l + t] += output[(i * neurons + n) * frames + k] }
                }
            }
            start += chunk.count
        }
        for n in 0..<neurons { for t in 0..<l { sum[n * l + t] /= max(count[t], 1) } }
        return sum
    }
}
