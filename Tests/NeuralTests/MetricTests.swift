// Competition metrics: true rates score the Poisson ceiling; constant and wrong-clip predictions ≈ 0.
import Foundation
import NeuralData
import Testing

/// Oracle- or train-tier trials of one mouse with the ground-truth rates as the prediction.
private func ratesAsPredictions(_ mouse: SensoriumMouse, tier: String) throws -> [ScoredTrial] {
    try mouse.trialIDs(inTiers: [tier]).map { id in
        let trial = try mouse.loadTrial(id)
        let rates = try mouse.loadRows("rates", trial: id, rows: mouse.neuronCount, padded: mouse.paddedLength, length: trial.length)
        return ScoredTrial(prediction: rates, target: trial.responses, length: trial.length, clipKey: videoClipKey(trial.video))
    }
}

/// Independent two-pass computation: concatenate frames per neuron, then `competitionCorrelation`.
private func concatenatedCorrelation(_ trials: [ScoredTrial], neurons: Int, frames: ScoredFrames) -> [Double] {
    (0..<neurons).map { n in
        var a: [Double] = [], b: [Double] = []
        for trial in trials {
            for t in frames.range(length: trial.length) {
                a.append(Double(trial.prediction[n * trial.length + t]))
                b.append(Double(trial.target[n * trial.length + t]))
            }
        }
        return competitionCorrelation(a, b)
    }
}

@Suite("competition metrics")
struct MetricTests {
    @Test func scoredFrameRanges() {
        #expect(ScoredFrames().range(length: 300) == 50..<300)
        #expect(ScoredFrames().range(length: 320) == 50..<300)
        #expect(ScoredFrames(dropLast: true).range(length: 300) == 50..<299)
        #expect(ScoredFrames().range(length: 40).isEmpty)
        #expect(ScoredFrames(skip: 10, cap: 300).range(length: 110) == 10..<110)
    }

    @Test func groundTruthRatesScoreTheCeiling() throws {
        let mouse = try SensoriumMouse(folder: TestData.root.appendingPathComponent("synthetic-mouse-0"))
        let trials = try ratesAsPredictions(mouse, tier: SensoriumTier.oracle)
        let frames = ScoredFrames()
        let streamed = singleTrialCorrelation(trials, neurons: 40, frames: frames)
        let direct = concatenatedCorrelation(trials, neurons: 40, frames: frames)
        for n in 0..<40 { #expect(abs(streamed[n] - direct[n]) < 1e-9) }
        let ceiling = streamed.reduce(0, +) / 40
        // Analytic Poisson ceiling sqrt(Var λ / (Var λ + E λ)) from the rates alone.
        var analytic = 0.0
        for n in 0..<40 {
            var values: [Double] = []
            for trial in trials {
                for t in frames.range(length: trial.length) { values.append(Double(trial.prediction[n * trial.length + t])) }
            }
            let mean = values.reduce(0, +) / Double(values.count)
            let variance = values.reduce(0) { $0 + ($1 - mean) * ($1 - mean) } / Double(values.count)
            analytic += (variance / (variance + mean)).squareRoot() / 40
        }
        #expect(abs(ceiling - analytic) < 0.04, "empirical ceiling \(ceiling) vs analytic \(analytic)")
        #expect(ceiling > 0.35 && ceiling < 0.75)

        // Correlation to average removes repeat noise: higher than single-trial.
        let average = try #require(correlationToAverage(trials, neurons: 40, frames: frames))
        #expect(average.reduce(0, +) / 40 > ceiling + 0.1)
    }

    @Test func constantAndWrongClipPredictionsScoreZero() throws {
        let mouse = try SensoriumMouse(folder: TestData.root.appendingPathComponent("synthetic-mouse-0"))
        let trials = try ratesAsPredictions(mouse, tier: SensoriumTier.train).filter { $0.length < 300 }
        let constant = trials.map {
            ScoredTrial(
                prediction: [Float](repeating: 3, count: $0.prediction.count), target: $0.target, length: $0.length, clipKey: $0.clipKey)
        }
        let r = singleTrialCorrelation(constant, neurons: 40)
        #expect(r.allSatisfy { $0 == 0 })
        // Predictions taken from the next trial (a different clip).
        let shifted = trials.indices.map { i in
            ScoredTrial(
                prediction: trials[(i + 1) % trials.count].prediction, target: trials[i].target, length: trials[i].length,
                clipKey: trials[i].clipKey)
        }
        let wrong = singleTrialCorrelation(shifted, neurons: 40)
        let mean = wrong.reduce(0, +) / 40
        #expect(abs(mean) < 0.05, "wrong-clip prediction scored \(mean)")
        let right = singleTrialCorrelation(trials, neurons: 40).reduce(0, +) / 40
        #expect(right > 0.3)
    }

    @Test func correlationMatchesHandComputedValues() {
        // a = (1,2,3,4), b = (2,4,6,9): r computed by hand with population std.
        let a = [1.0, 2, 3, 4], b = [2.0, 4, 6, 9]
        let ma = 2.5, mb = 5.25
        let cov = ((-1.5) * (-3.25) + (-0.5) * (-1.25) + 0.5 * 0.75 + 1.5 * 3.75) / 4
        let sa = (5.0 / 4).squareRoot(), sb = ((3.25 * 3.25 + 1.25 * 1.25 + 0.75 * 0.75 + 3.75 * 3.75) / 4).squareRoot()
        _ = (ma, mb)
        #expect(abs(competitionCorrelation(a, b) - cov / ((sa + 1e-8) * (sb + 1e-8))) < 1e-12)
        #expect(competitionCorrelation([1, 1, 1], [1, 2, 3]) == 0)
        var acc = CorrelationAccumulator(neurons: 1)
        acc.add(prediction: [1, 2], target: [2, 4], length: 2, range: 0..<2)
        acc.add(prediction: [3, 4], target: [6, 9], length: 2, range: 0..<2)
        #expect(abs(acc.mean() - competitionCorrelation(a, b)) < 1e-12)
    }
}
