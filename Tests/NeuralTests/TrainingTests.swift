// Training on synthetic data: the tiny model learns (oracle correlation rises towards the Poisson
// ceiling), and a resumed run repeats an uninterrupted one exactly.
import Foundation
import NeuralData
import NeuralModels
import Testing
import Torch

@Suite("DwiseNeuro training", .serialized)
struct TrainingTests {
    @Test func tinyModelLearnsSyntheticResponses() throws {
        let run = try LearningRun.shared.get()
        let untrained = run.untrained, trained = run.trained, ceiling = run.ceiling, losses = run.losses
        let ratio = trained.mean / (ceiling.reduce(0, +) / Double(ceiling.count))
        print("learning test: untrained \(untrained.perMouse), trained \(trained.perMouse), ceiling \(ceiling), fraction \(ratio)")
        #expect(untrained.perMouse.allSatisfy { abs($0) < 0.08 })
        #expect(trained.mean > untrained.mean + 0.12)
        #expect(ratio > 0.25, "reached \(ratio) of the ceiling")
        let early = losses.prefix(20).reduce(0, +) / 20, late = losses.suffix(20).reduce(0, +) / 20
        #expect(late < early)
    }

    @Test func resumedTrainingRepeatsExactly() throws {
        let dataset = try SensoriumDataset(root: TestData.learningRoot)
        var config = LearningRun.config(steps: 6)
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
