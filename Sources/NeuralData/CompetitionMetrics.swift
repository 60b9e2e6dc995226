// Sensorium 2023 metrics: single-trial correlation and correlation to average (reference section 5).
import Foundation

// MARK: - Scored frames

/// Which frames of a trial are scored: `skip ..< min(L, cap)`, optionally without the last one
/// (DwiseNeuro's local evaluation drops it; section 8.1).
public struct ScoredFrames: Sendable, Equatable {
    public var skip: Int
    public var cap: Int
    public var dropLast: Bool
    public init(skip: Int = 50, cap: Int = 300, dropLast: Bool = false) {
        self.skip = skip
        self.cap = cap
        self.dropLast = dropLast
    }
    /// The scored frame range for a trial of `length` valid frames (empty when too short).
    public func range(length: Int) -> Range<Int> {
        let end = min(length, cap) - (dropLast ? 1 : 0)
        return end > skip ? skip..<end : skip..<skip
    }
}

// MARK: - Correlation

/// Per-neuron Pearson correlation over streamed rows, as the competition defines it:
/// `mean_i[(a_i − ā)/(σ_a + ε) · (b_i − b̄)/(σ_b + ε)]`, population std, ε = 1e-8; NaN → 0.
///
/// Rows are added one `(N, F)` block at a time, so nothing is concatenated in memory. Sums are
/// taken in Double around each neuron's first value (shifted sums) to keep cancellation small.
public struct CorrelationAccumulator: Sendable {
    public let neurons: Int
    private var count = 0
    private var shiftA: [Double], shiftB: [Double]
    private var sumA: [Double], sumB: [Double], sumAA: [Double], sumBB: [Double], sumAB: [Double]

    public init(neurons: Int) {
        self.neurons = neurons
        shiftA = [Double](repeating: .nan, count: neurons)
        shiftB = shiftA
        sumA = [Double](repeating: 0, count: neurons)
        sumB = sumA; sumAA = sumA; sumBB = sumA; sumAB = sumA
    }

    /// Number of rows added.
    public var rows: Int { count }

    /// Adds the frames `range` of a prediction and a target, both `(N, length)` row-major.
    public mutating func add(prediction: [Float], target: [Float], length: Int, range: Range<Int>) {
        guard !range.isEmpty else { return }
        for n in 0..<neurons {
            let base = n * length
            if shiftA[n].isNaN {
                shiftA[n] = Double(prediction[base + range.lowerBound])
                shiftB[n] = Double(target[base + range.lowerBound])
            }
            var sa = 0.0, sb = 0.0, saa = 0.0, sbb = 0.0, sab = 0.0
            for t in range {
                let a = Double(prediction[base + t]) - shiftA[n], b = Double(target[base + t]) - shiftB[n]
                sa += a; sb += b; saa += a * a; sbb += b * b; sab += a * b
            }
            sumA[n] += sa; sumB[n] += sb; sumAA[n] += saa; sumBB[n] += sbb; sumAB[n] += sab
        }
        count += range.count
    }

    /// Correlation of each neuron (0 for constant or NaN series).
    public func perNeuron() -> [Double] {
        guard count > 0 else { return [Double](repeating: 0, count: neurons) }
        let n = Double(count), eps = 1e-8
        return (0..<neurons).map { i in
            let ma = sumA[i] / n, mb = sumB[i] / n
            let cov = sumAB[i] / n - ma * mb
            let va = max(sumAA[i] / n - ma * ma, 0), vb = max(sumBB[i] / n - mb * mb, 0)
            let r = cov / ((va.squareRoot() + eps) * (vb.squareRoot() + eps))
            return r.isFinite ? r : 0
        }
    }

    /// Mean over neurons.
    public func mean() -> Double {
        let r = perNeuron()
        return r.isEmpty ? 0 : r.reduce(0, +) / Double(r.count)
    }
}

/// The competition's `corr` of two equally long series (population std, ε = 1e-8, NaN → 0;
/// 0 when the lengths differ).
public func competitionCorrelation(_ a: [Double], _ b: [Double]) -> Double {
    guard a.count == b.count, !a.isEmpty else { return 0 }
    let n = Double(a.count), eps = 1e-8
    let ma = a.reduce(0, +) / n, mb = b.reduce(0, +) / n
    let sa = (a.reduce(0) { $0 + ($1 - ma) * ($1 - ma) } / n).squareRoot()
    let sb = (b.reduce(0) { $0 + ($1 - mb) * ($1 - mb) } / n).squareRoot()
    var s = 0.0
    for i in a.indices { s += (a[i] - ma) / (sa + eps) * ((b[i] - mb) / (sb + eps)) }
    let r = s / n
    return r.isFinite ? r : 0
}

// MARK: - Scores of one mouse

/// One trial's prediction next to its recorded responses, both `(N, length)`.
public struct ScoredTrial: Sendable {
    public var prediction: [Float]
    public var target: [Float]
    public var length: Int
    /// Identity of the clip shown (repeats share it); used by correlation to average.
    public var clipKey: String
    public init(prediction: [Float], target: [Float], length: Int, clipKey: String) {
        self.prediction = prediction
        self.target = target
        self.length = length
        self.clipKey = clipKey
    }
}

/// Per-neuron and mean scores of one mouse on one tier.
public struct MouseScore: Sendable {
    public var singleTrial: [Double]
    public var toAverage: [Double]?
    public var singleTrialMean: Double { singleTrial.isEmpty ? 0 : singleTrial.reduce(0, +) / Double(singleTrial.count) }
    public var toAverageMean: Double? { toAverage.map { $0.isEmpty ? 0 : $0.reduce(0, +) / Double($0.count) } }
}

/// Single-trial correlation (5.1): concatenate scored frames of all trials, per-neuron corr, mean.
public func singleTrialCorrelation(_ trials: [ScoredTrial], neurons: Int, frames: ScoredFrames = ScoredFrames()) -> [Double] {
    var acc = CorrelationAccumulator(neurons: neurons)
    for trial in trials {
        acc.add(prediction: trial.prediction, target: trial.target, length: trial.length, range: frames.range(length: trial.length))
    }
    return acc.perNeuron()
}

/// Correlation to average (5.2): per clip, average prediction and responses over repeats (frames
/// cut to the shortest repeat), concatenate the averages over clips, per-neuron corr. Returns nil
/// when no clip is repeated.
public func correlationToAverage(_ trials: [ScoredTrial], neurons: Int, frames: ScoredFrames = ScoredFrames()) -> [Double]? {
    var groups: [String: [ScoredTrial]] = [:]
    var order: [String] = []
    for trial in trials {
        if groups[trial.clipKey] == nil { order.append(trial.clipKey) }
        groups[trial.clipKey, default: []].append(trial)
    }
    guard groups.values.contains(where: { $0.count > 1 }) else { return nil }
    var acc = CorrelationAccumulator(neurons: neurons)
    for key in order {
        guard let repeats = groups[key], let length = repeats.map(\.length).min() else { continue }
        var meanPrediction = [Float](repeating: 0, count: neurons * length)
        var meanTarget = meanPrediction
        let weight = 1 / Float(repeats.count)
        for trial in repeats {
            for n in 0..<neurons {
                for t in 0..<length {
                    meanPrediction[n * length + t] += weight * trial.prediction[n * trial.length + t]
                    meanTarget[n * length + t] += weight * trial.target[n * trial.length + t]
                }
            }
        }
        acc.add(prediction: meanPrediction, target: meanTarget, length: length, range: frames.range(length: length))
    }
    return acc.perNeuron()
}

/// Both metrics for one mouse.
public func scoreMouse(_ trials: [ScoredTrial], neurons: Int, frames: ScoredFrames = ScoredFrames()) -> MouseScore {
    MouseScore(
        singleTrial: singleTrialCorrelation(trials, neurons: neurons, frames: frames),
        toAverage: correlationToAverage(trials, neurons: neurons, frames: frames))
}

// MARK: - Clip identity

/// An exact identity of a video (FNV-1a over its float bits), used to group repeats of a clip
/// when the data carries no clip id.
public func videoClipKey(_ video: [Float]) -> String {
    var hash: UInt64 = 0xcbf2_9ce4_8422_2325
    for v in video {
        var bits = v.bitPattern
        for _ in 0..<4 {
            hash ^= UInt64(bits & 0xFF)
            hash = hash &* 0x0000_0100_0000_01B3
            bits >>= 8
        }
    }
    return String(hash, radix: 16)
}
