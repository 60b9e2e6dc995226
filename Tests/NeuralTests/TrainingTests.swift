// Training on synthetic data: the tiny model learns (oracle correlation rises towards the Poisson
// ceiling), and a resumed run repeats an uninterrupted one exactly.
import Foundation
import NeuralData
import NeuralModels
import Torch
import Testing

/// Low-rank calibration data (K = 4 shared receptive-field positions), as the reference's learning runs.
private let learningData: URL = {
    let url = FileManager.default.temporaryDirectory.appendingPathComponent("kinema-neural-learning-\(getpid())")
    var c = SyntheticConfig()
    c.seed = 3
    c.sharedPositions = 4
    if !FileManager.default.fileExists(atPath: url.appendingPathComponent("synthetic-mouse-1/meta/ground_truth/clip_ids.npy").path) {
        try? SyntheticGenerator(config: c).write(to: url)
    }
    return url
}()

private func learningConfig(steps: Int) -> TrainingConfig {
    var c = TrainingConfig()
    c.preset = "tiny"
    c.steps = steps
    c.batchSize = 8
    c.learningRate = 3e-3
    c.emaDecay = 0
    c.cutmixProbability = 0
    c.validationWindowStride = 3
    c.seed = 1
    return c
}

@Suite("DwiseNeuro training", .serialized)
struct TrainingTests {
    @Test func tinyModelLearnsSyntheticResponses() throws {
        Runtime.threads = 2
        let dataset = try SensoriumDataset(root: learningData)
        let ceiling = try evaluatePredictions(.syntheticRates, dataset: dataset, tier: SensoriumTier.oracle).map(\.score.singleTrialMean)
        let steps = 150
        let trainer = try NeuralTrainer(config: learningConfig(steps: steps), dataset: dataset)
        let untrained = try trainer.validate()
        var losses: [Double] = []
        for _ in 0..<steps { losses.append(try trainer.trainStep().loss) }
        let trained = try trainer.validate()
        let ratio = trained.mean / (ceiling.reduce(0, +) / Double(ceiling.count))
        print("learning test: untrained \(untrained.perMouse), trained \(trained.perMouse), ceiling \(ceiling), fraction \(ratio)")
        #expect(untrained.perMouse.allSatisfy { abs($0) < 0.08 })
        #expect(trained.mean > untrained.mean + 0.12)
        #expect(ratio > 0.25, "reached \(ratio) of the ceiling")
        let early = losses.prefix(20).reduce(0, +) / 20, late = losses.suffix(20).reduce(0, +) / 20
        #expect(late < early)
    }

    @Test func resumedTrainingRepeatsExactly() throws {
        let dataset = try SensoriumDataset(root: learningData)
        var config = learningConfig(steps: 6)
        config.emaDecay = 0.9
        config.cutmixProbability = 0.5
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("kinema-resume-\(UUID().uuidString)")
        defer { try? FileManager.default.removeItem(at: folder) }
        let checkpoint = folder.appendingPathComponent("checkpoint.safetensors")

        let straight = try NeuralTrainer(config: config, dataset: dataset)
        for _ in 0..<3 { try straight.trainStep() }
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        try straight.saveCheckpoint(to: checkpoint)
        try straight.saveCheckpoint(to: checkpoint)  // overwriting must work
        var lossesA: [Double] = []
        for _ in 0..<3 { lossesA.append(try straight.trainStep().loss) }

        let resumed = try NeuralTrainer(config: config, dataset: dataset)
        try resumed.resume(from: checkpoint)
        #expect(resumed.step == 3)
        var lossesB: [Double] = []
        for _ in 0..<3 { lossesB.append(try resumed.trainStep().loss) }
        #expect(lossesA == lossesB)
        let a = straight.model.store.stateDict(), b = resumed.model.store.stateDict()
        for (name, tensor) in a {
            let other = try #require(b[name])
            #expect(try tensor.toArray(Float.self) == other.toArray(Float.self), "\(name)")
        }
    }
}
