// Ridge decoding: high R² when behaviour drives neurons, ≤ 0 when the pairing is shuffled.
import Foundation
import NeuralData
import Testing

/// 20 trials × 100 frames; 30 Poisson neurons whose log-rate is linear in running speed.
private func behaviourDrivenSegments(shuffled: Bool) -> [DecodingSegment] {
    var rng = SeededRandom(seed: 11)
    let neurons = 30, length = 100, trials = 20
    let coupling = (0..<neurons).map { _ in rng.uniform(-0.8, 0.8) }
    var targets: [[Double]] = []
    var activities: [[Float]] = []
    for _ in 0..<trials {
        var u = rng.normal()
        var speed: [Double] = []
        for _ in 0..<length {
            u = 0.95 * u + (1 - 0.95 * 0.95).squareRoot() * rng.normal()
            speed.append(u)
        }
        var activity = [Float](repeating: 0, count: neurons * length)
        for n in 0..<neurons {
            for t in 0..<length { activity[n * length + t] = Float(rng.poisson(Foundation.exp(1 + coupling[n] * speed[t]))) }
        }
        targets.append(speed.map { 3 * $0 + 10 })
        activities.append(activity)
    }
    return (0..<trials).map { i in
        DecodingSegment(
            activity: activities[i], neurons: neurons, length: length,
            target: targets[shuffled ? (i + 7) % trials : i], fold: i % 5)
    }
}

@Suite("ridge decoding")
struct DecodingTests {
    @Test func decodesBehaviourThatDrivesNeurons() throws {
        let result = try crossValidatedRidge(behaviourDrivenSegments(shuffled: false), options: RidgeOptions(folds: 5, lags: 1))
        #expect(result.folds.count == 5)
        #expect(result.meanR2 > 0.7, "R² \(result.folds.map(\.r2))")
        #expect(result.folds.allSatisfy { $0.r2 > 0.5 && $0.testRows == 4 * 99 })
    }

    @Test func shuffledPairingGivesNoSkill() throws {
        let result = try crossValidatedRidge(behaviourDrivenSegments(shuffled: true), options: RidgeOptions(folds: 5, lags: 1))
        #expect(result.meanR2 <= 0, "R² \(result.folds.map(\.r2))")
        #expect(result.folds.allSatisfy { $0.r2 < 0.05 })
    }

    @Test func exactSolutionWithoutNoise() throws {
        // y = 2·x0 − x1 + 5 exactly: a tiny penalty recovers R² ≈ 1 on every fold.
        var rng = SeededRandom(seed: 3)
        let frames = 200
        var activity = [Float](repeating: 0, count: 2 * frames)
        var target = [Double](repeating: 0, count: frames)
        for t in 0..<frames {
            let x0 = Float(rng.normal()), x1 = Float(rng.normal())
            activity[t] = x0
            activity[frames + t] = x1
            target[t] = 2 * Double(x0) - Double(x1) + 5
        }
        let segments = try contiguousDecodingSegments(activity: activity, neurons: 2, frames: frames, target: target, folds: 4)
        let result = try crossValidatedRidge(segments, options: RidgeOptions(folds: 4, fixedAlpha: 1e-9))
        #expect(result.folds.allSatisfy { $0.r2 > 0.999999 })
        #expect(throws: DecodingError.self) { try crossValidatedRidge(segments, options: RidgeOptions(folds: 1)) }
    }

    @Test func decodesSpeedFromSyntheticSensorium() throws {
        var c = SyntheticConfig()
        c.seed = 5
        c.neuronCounts = [30]
        c.trainTrials = 20
        c.oracleClips = 0
        c.frames = 80
        c.paddedFrames = 80
        c.speedCoupling = 3
        let root = TestData.scratch("decode")
        defer { try? FileManager.default.removeItem(at: root) }
        try SyntheticGenerator(config: c).write(to: root)
        let mouse = try SensoriumMouse(folder: root.appendingPathComponent("synthetic-mouse-0"))
        let segments = try sensoriumDecodingSegments(mouse: mouse, tiers: [SensoriumTier.train], signal: .speed, folds: 4, maxNeurons: 30)
        let result = try crossValidatedRidge(segments, options: RidgeOptions(folds: 4, lags: 2))
        #expect(result.meanR2 > 0.3, "R² \(result.folds.map(\.r2))")
        let pupil = try crossValidatedRidge(
            sensoriumDecodingSegments(mouse: mouse, tiers: [SensoriumTier.train], signal: .pupil, folds: 4, maxNeurons: 30),
            options: RidgeOptions(folds: 4, lags: 2))
        // Pupil does not drive the synthetic neurons.
        #expect(pupil.meanR2 < 0.1)
    }
}
