// Scoring prediction files against a Sensorium data set (what `kinema neural evaluate` prints).
import Foundation
import PythonFormats

/// Where predictions come from.
public enum PredictionSource: Sendable {
    /// `<root>/<mouse name>/<trial>.npy`, each `(N, L)` or `(N, T ≥ L)` (extra columns ignored).
    case folder(URL)
    /// The ground-truth rates of a synthetic data set (`data/rates/<trial>.npy`): scores the ceiling.
    case syntheticRates
}

/// Scores of one mouse on one tier.
public struct MouseEvaluation: Sendable {
    public var mouse: String
    public var trials: Int
    public var score: MouseScore
}

/// Reads the prediction of one trial, cut to `length` frames.
public func loadPrediction(_ source: PredictionSource, mouse: SensoriumMouse, trial: Int, length: Int) throws -> [Float] {
    let url: URL
    switch source {
    case .folder(let root): url = root.appendingPathComponent("\(mouse.name)/\(trial).npy")
    case .syntheticRates: url = mouse.fileURL("rates", trial: trial)
    }
    guard FileManager.default.fileExists(atPath: url.path) else {
        throw SensoriumError(
            path: url.path,
            message: "prediction file missing (expected one (neurons, frames) .npy per trial; run `kinema neural predict` first)")
    }
    let array = try NpyArray(contentsOf: url)
    guard array.shape.count == 2, array.shape[0] == mouse.neuronCount, array.shape[1] >= length else {
        throw SensoriumError(path: url.path, message: "shape \(array.shape), expected (\(mouse.neuronCount), ≥ \(length))")
    }
    let values = try array.float32Values()
    let columns = array.shape[1]
    var out = [Float](repeating: 0, count: mouse.neuronCount * length)
    for n in 0..<mouse.neuronCount { for t in 0..<length { out[n * length + t] = values[n * columns + t] } }
    return out
}

/// Scores every mouse of `dataset` on the labelled trials of `tier`.
public func evaluatePredictions(
    _ source: PredictionSource, dataset: SensoriumDataset, tier: String,
    frames: ScoredFrames = ScoredFrames()
) throws -> [MouseEvaluation] {
    var results: [MouseEvaluation] = []
    for mouse in dataset.mice {
        var trials: [ScoredTrial] = []
        for id in mouse.trialIDs(inTiers: [tier]) {
            let trial = try mouse.loadTrial(id)
            guard trial.isLabelled else { continue }
            let prediction = try loadPrediction(source, mouse: mouse, trial: id, length: trial.length)
            trials.append(
                ScoredTrial(prediction: prediction, target: trial.responses, length: trial.length, clipKey: videoClipKey(trial.video)))
        }
        guard !trials.isEmpty else { continue }
        results.append(
            MouseEvaluation(
                mouse: mouse.name, trials: trials.count,
                score: scoreMouse(trials, neurons: mouse.neuronCount, frames: frames)))
    }
    return results
}
