// Building decoding inputs: Sensorium trials → segments (one per trial), or one long recording → blocks.
import Foundation

/// Behaviour signals stored in a Sensorium folder.
public enum BehaviourSignal: String, CaseIterable, Sendable {
    case pupil, speed, pupilX = "pupil-x", pupilY = "pupil-y"

    /// Reads the signal from a loaded trial.
    public func values(in trial: SensoriumTrial) -> [Double] {
        let l = trial.length
        switch self {
        case .pupil: return trial.behavior[0..<l].map(Double.init)
        case .speed: return trial.behavior[l..<(2 * l)].map(Double.init)
        case .pupilX: return trial.pupilCenter[0..<l].map(Double.init)
        case .pupilY: return trial.pupilCenter[l..<(2 * l)].map(Double.init)
        }
    }
}

/// Indices of the `count` rows with the highest variance over all frames (all rows if `count` ≥ rows),
/// ascending. Unsupervised, so choosing them before cross-validation leaks nothing about the target.
public func highestVarianceRows(_ segments: [(activity: [Float], length: Int)], rows: Int, count: Int) -> [Int] {
    guard count < rows else { return Array(0..<rows) }
    var sum = [Double](repeating: 0, count: rows), sumSq = sum
    var frames = 0.0
    for s in segments {
        for r in 0..<rows {
            for t in 0..<s.length {
                let v = Double(s.activity[r * s.length + t])
                sum[r] += v
                sumSq[r] += v * v
            }
        }
        frames += Double(s.length)
    }
    let variance = (0..<rows).map { sumSq[$0] / max(frames, 1) - (sum[$0] / max(frames, 1)) * (sum[$0] / max(frames, 1)) }
    return Array((0..<rows).sorted { variance[$0] > variance[$1] }.prefix(count)).sorted()
}

/// Keeps the given rows of a `(rows, length)` array.
public func selectRows(_ activity: [Float], length: Int, rows: [Int]) -> [Float] {
    var out: [Float] = []
    out.reserveCapacity(rows.count * length)
    for r in rows { out += activity[(r * length)..<((r + 1) * length)] }
    return out
}

/// One segment per trial of the given tiers (labelled trials only), trials spread over folds in a
/// seeded random order; activity limited to the `maxNeurons` most variable neurons.
public func sensoriumDecodingSegments(
    mouse: SensoriumMouse, tiers: Set<String>, signal: BehaviourSignal,
    folds: Int, maxNeurons: Int, seed: UInt64 = 0
) throws -> [DecodingSegment] {
    let ids = mouse.trialIDs(inTiers: tiers)
    var trials: [SensoriumTrial] = []
    for id in ids {
        let trial = try mouse.loadTrial(id)
        if trial.isLabelled { trials.append(trial) }
    }
    guard trials.count >= folds else {
        throw DecodingError("\(mouse.name): \(trials.count) labelled trials in tiers \(tiers.sorted()) but \(folds) folds requested")
    }
    let keep = highestVarianceRows(trials.map { ($0.responses, $0.length) }, rows: mouse.neuronCount, count: maxNeurons)
    var rng = SeededRandom(seed: seed)
    let order = rng.permutation(trials.count)
    var segments: [DecodingSegment] = []
    for (position, index) in order.enumerated() {
        let trial = trials[index]
        segments.append(
            DecodingSegment(
                activity: selectRows(trial.responses, length: trial.length, rows: keep), neurons: keep.count,
                length: trial.length, target: signal.values(in: trial), fold: position % folds))
    }
    return segments
}

/// Splits one continuous recording `(neurons, frames)` into `folds` contiguous blocks, one fold each.
public func contiguousDecodingSegments(activity: [Float], neurons: Int, frames: Int, target: [Double], folds: Int) throws
    -> [DecodingSegment]
{
    guard activity.count == neurons * frames, target.count == frames else {
        throw DecodingError(
            "activity has \(activity.count) values and the behaviour \(target.count) frames; expected \(neurons) neurons × \(frames) frames"
        )
    }
    guard folds >= 2, frames >= 2 * folds else { throw DecodingError("\(frames) frames are too few for \(folds) folds") }
    var segments: [DecodingSegment] = []
    for f in 0..<folds {
        let start = f * frames / folds, end = (f + 1) * frames / folds, length = end - start
        var block = [Float](repeating: 0, count: neurons * length)
        for n in 0..<neurons { for t in 0..<length { block[n * length + t] = activity[n * frames + start + t] } }
        segments.append(DecodingSegment(activity: block, neurons: neurons, length: length, target: Array(target[start..<end]), fold: f))
    }
    return segments
}
