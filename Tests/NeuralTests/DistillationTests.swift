// Stage 2 and the EMA: the weighted Poisson loss and distillation weights by hand, the trainer's loss
// with a teacher against an independent computation, a distilled student that learns, and the EMA
// of the whole state (BatchNorm statistics averaged, not copied) two steps by hand.
import Foundation
import NeuralData
import NeuralModels
import Testing
import Torch
import TorchNN
import TorchOptim

/// `Σ ℓ(ŷ, y)` over all elements, ℓ = ŷ − y·log(ŷ + 1e−8), in Double.
private func poissonSum(_ prediction: [Float], _ target: [Float]) -> Double {
    zip(prediction, target).reduce(0) { $0 + Double($1.0) - Double($1.1) * Foundation.log(Double($1.0) + 1e-8) }
}

/// Tiny model without dropout or DropPath, so a training-mode forward is deterministic.
private func deterministicModel(neurons: [Int], canvas: Int) throws -> DwiseNeuroConfig {
    var c = try DwiseNeuroConfig.preset("tiny", neurons: neurons, canvas: canvas)
    c.dropRate = 0
    c.dropPathRate = 0
    return c
}

@Suite("distillation and EMA", .serialized)
struct DistillationTests {
    @Test func distillationWeightsFollowTheReference() {
        // Ten mice, one label per sample: 0.5625 / 9 = 0.0625, and the distilled pairs carry 36 % of the weight.
        let w = distillationWeight(ratio: 0.36, realWeight: 32, unlabelledPairs: 32 * 9)
        #expect(abs(w - 0.0625) < 1e-15)
        let share = (32 * 9 * w) / (32 + 32 * 9 * w)
        #expect(abs(share - 0.36) < 1e-12)
        #expect(distillationWeight(ratio: 0.36, realWeight: 4, unlabelledPairs: 0) == 0)
        #expect(distillationWeight(ratio: 0, realWeight: 4, unlabelledPairs: 4) == 0)
    }

    @Test func weightedPoissonLossByHand() throws {
        // Two samples of mouse A (2 neurons, 3 frames) with labels; both samples' mouse-B readout (1 neuron)
        // has a teacher target with the distillation weight.
        let predA: [Float] = [0.5, 1.0, 2.0, 0.1, 3.0, 0.7, 1.5, 0.2, 0.9, 2.5, 0.05, 1.2]
        let yA: [Float] = [0, 1, 3, 0, 2, 1, 1, 0, 0, 4, 0, 2]
        let predB: [Float] = [0.3, 0.8, 1.1, 2.0, 0.6, 0.4]
        let teacherB: [Float] = [0.25, 0.9, 1.0, 1.7, 0.5, 0.45]
        let w = distillationWeight(ratio: 0.36, realWeight: 2, unlabelledPairs: 2)
        #expect(abs(w - 0.5625) < 1e-15)
        let terms = [
            LossTerm(prediction: try Tensor(predA, shape: [2, 2, 3]), target: try Tensor(yA, shape: [2, 2, 3]), weights: [1, 1]),
            LossTerm(prediction: try Tensor(predB, shape: [2, 1, 3]), target: try Tensor(teacherB, shape: [2, 1, 3]), weights: [w, w]),
        ]
        let (loss, parts) = try weightedPoissonLoss(terms)
        let total = 2 + 2 * w
        let labelled = poissonSum(predA, yA) / total
        let distilled = w * poissonSum(predB, teacherB) / total
        #expect(abs(parts[0] - labelled) < 1e-5)
        #expect(abs(parts[1] - distilled) < 1e-5)
        #expect(abs(try loss.item() - (labelled + distilled)) < 1e-5)
        // Without distillation: the reference's (1/B)·Σ over neurons and frames.
        let (plain, _) = try weightedPoissonLoss([terms[0]])
        #expect(abs(try plain.item() - poissonSum(predA, yA) / 2) < 1e-5)
        // The teacher's numbers matter: another target changes the loss by exactly its ℓ difference.
        let shifted = teacherB.map { $0 + 0.5 }
        let (other, _) = try weightedPoissonLoss([
            terms[0],
            LossTerm(
                prediction: terms[1].prediction,
                target: try Tensor(shifted, shape: [2, 1, 3]), weights: [w, w]),
        ])
        #expect(abs(try other.item() - (labelled + w * poissonSum(predB, shifted) / total)) < 1e-5)
    }

    @Test func trainerLossUsesTeacherTargets() throws {
        Runtime.threads = 2
        let dataset = try SensoriumDataset(root: TestData.root)
        let neurons = dataset.mice.map(\.neuronCount)
        let canvas = dataset.mice.map { max($0.height, $0.width) }.max() ?? 64
        let modelConfig = try deterministicModel(neurons: neurons, canvas: canvas)
        // A teacher on disk: another initialisation of the same architecture.
        try Runtime.manualSeed(42)
        let teacherModel = try DwiseNeuro(config: modelConfig)
        let folder = TestData.scratch("teacher")
        defer { try? FileManager.default.removeItem(at: folder) }
        try SavedModel.save(teacherModel, to: folder)

        var config = TrainingConfig()
        config.model = modelConfig
        config.batchSize = 6
        config.cutmixProbability = 0.5
        config.teachers = [folder.path]
        let trainer = try NeuralTrainer(config: config, dataset: dataset)
        let batch = try trainer.makeBatch(step: 0)
        #expect(Set(batch.mice).count == 2, "the test needs both mice in the batch")
        let result = try trainer.batchLoss(batch)

        // Independent computation: full forward of every readout on the batch, teacher in eval mode.
        let b = batch.mice.count, frames = modelConfig.frames
        let x = try Tensor(batch.inputs, shape: [b, 5, frames, canvas, canvas])
        let teacher = try SavedModel.load(from: folder)
        let w = distillationWeight(ratio: 0.36, realWeight: Double(b), unlabelledPairs: b)
        var labelled = 0.0, distilled = 0.0
        for m in 0..<2 {
            let n = neurons[m], block = n * frames
            let student = try withNoGrad { try trainer.model(x, mouse: m, training: true).toArray(Float.self) }
            let taught = try withNoGrad { try teacher(x, mouse: m, training: false).toArray(Float.self) }
            for s in 0..<b {
                let own = Array(student[(s * block)..<((s + 1) * block)])
                if batch.mice[s] == m {
                    labelled += poissonSum(own, batch.targets[s])
                } else {
                    distilled += w * poissonSum(own, Array(taught[(s * block)..<((s + 1) * block)]))
                }
            }
        }
        let total = Double(b) * (1 + w)
        #expect(abs(result.labelled - labelled / total) < 1e-4 * labelled / total)
        #expect(abs(result.distilled - distilled / total) < 1e-4 * distilled / total)
        #expect(abs(try result.loss.item() - (labelled + distilled) / total) < 1e-4 * (labelled + distilled) / total)
        #expect(result.distilled > 0)
    }

    @Test func distilledStudentLearns() throws {
        // Teacher: the trained model of the learning run (150 steps, shared with TrainingTests).
        let teacher = try LearningRun.shared.get()
        Runtime.threads = 2
        let dataset = try SensoriumDataset(root: TestData.learningRoot)
        var config = LearningRun.config(steps: 40)
        config.validationWindowStride = 7  // odd: ends of both frame parities
        config.seed = 6
        config.teachers = [teacher.modelFolder.path]
        let student = try NeuralTrainer(config: config, dataset: dataset)
        let untrained = try student.validate()
        var distilledShares: [Double] = []
        for _ in 0..<config.steps {
            let r = try student.trainStep()
            #expect(r.loss.isFinite)
            distilledShares.append(r.distilledLoss / r.loss)
        }
        let trained = try student.validate()
        print(
            "distillation test: untrained \(untrained.perMouse), student \(trained.perMouse) after \(config.steps) steps (teacher \(teacher.trained.perMouse)), mean distilled share \(distilledShares.reduce(0, +) / Double(distilledShares.count))"
        )
        #expect(distilledShares.allSatisfy { $0 > 0 && $0 < 1 })
        #expect(trained.mean > untrained.mean + 0.05)
        #expect(trained.perMouse.allSatisfy { $0 > 0.03 })
    }

    @Test func emaAveragesTheWholeStateByHand() throws {
        let store = ParameterStore()
        let weight = try store.parameter("layer.weight", shape: [2], .zeros)
        let bn = try BatchNorm(store.root / "bn", 2)
        let decay = 0.9
        let ema = try ExponentialMovingAverage(store, decay: decay)
        // Step 1 and 2: new model values (as after optimiser steps and training forwards).
        let steps: [(w: [Float], mean: [Float], variance: [Float], tracked: Double)] = [
            ([1, -2], [10, 20], [4, 0.5], 1500),
            ([3, 0.5], [-6, 2], [2, 8], 1501),
        ]
        var expectedW: [Double] = [0, 0], expectedMean: [Double] = [0, 0], expectedVar: [Double] = [1, 1], expectedTracked = 0.0
        for s in steps {
            try withNoGrad {
                try weight.copyFrom(try Tensor(s.w, shape: [2]))
                try bn.runningMean.copyFrom(try Tensor(s.mean, shape: [2]))
                try bn.runningVar.copyFrom(try Tensor(s.variance, shape: [2]))
                try bn.batchesTracked.fillInPlace(s.tracked)
            }
            try ema.updateWholeState()
            for i in 0..<2 {
                expectedW[i] = decay * expectedW[i] + (1 - decay) * Double(s.w[i])
                expectedMean[i] = decay * expectedMean[i] + (1 - decay) * Double(s.mean[i])
                expectedVar[i] = decay * expectedVar[i] + (1 - decay) * Double(s.variance[i])
            }
            // Integer buffer: float32 arithmetic, truncated (PyTorch: int tensor × float → float32, copy_ truncates).
            expectedTracked = Double((Float(decay) * Float(expectedTracked) + Float(1 - decay) * Float(s.tracked)).rounded(.towardZero))
        }
        // By hand: w = 0.9·(0.1·1) + 0.1·3 = 0.39; running_mean[0] = 0.9·1 + 0.1·(−6) = 0.3; tracked = trunc(0.9·150 + 150.1) = 285.
        #expect(abs(expectedW[0] - 0.39) < 1e-12 && abs(expectedMean[0] - 0.3) < 1e-12 && expectedTracked == 285)
        func values(_ name: String) throws -> [Double] { try #require(ema.shadow[name]).to(.float64).toArray(Double.self) }
        for (name, expected) in [
            ("layer.weight", expectedW), ("bn.running_mean", expectedMean), ("bn.running_var", expectedVar),
            ("bn.weight", [1.0, 1.0]), ("bn.bias", [0.0, 0.0]),
        ] {
            let got = try values(name)
            for i in 0..<2 { #expect(abs(got[i] - expected[i]) < 1e-5, "\(name)[\(i)]: \(got[i]) vs \(expected[i])") }
        }
        #expect(try #require(ema.shadow["bn.num_batches_tracked"]).intItem() == Int(expectedTracked))
        // swap() puts the averaged statistics into the model for evaluation.
        try ema.swap()
        #expect(abs(try bn.runningMean.to(.float64).toArray(Double.self)[1] - expectedMean[1]) < 1e-5)
        try ema.swap()
        #expect(try bn.runningMean.toArray(Float.self) == [-6, 2])
    }

    @Test func trainerEMAAveragesBatchNormStatistics() throws {
        let dataset = try SensoriumDataset(root: TestData.root)
        var config = TrainingConfig()
        config.batchSize = 4
        config.emaDecay = 0.9
        config.cutmixProbability = 0
        let trainer = try NeuralTrainer(config: config, dataset: dataset)
        let ema = try #require(trainer.ema)
        try trainer.trainStep()
        // Initial statistics are mean 0, var 1; one step: shadow = 0.9·initial + 0.1·model.
        let state = trainer.model.store.stateDict()
        for name in ["core.stem.1.bn.running_mean", "core.stem.1.bn.running_var"] {
            let model = try #require(state[name]).toArray(Float.self)
            let shadow = try #require(ema.shadow[name]).toArray(Float.self)
            let initial: Float = name.hasSuffix("var") ? 1 : 0
            #expect(model.contains { abs($0 - initial) > 1e-3 }, "the step must move \(name)")
            for i in model.indices { #expect(abs(shadow[i] - (0.9 * initial + 0.1 * model[i])) < 1e-4 * max(1, abs(model[i]))) }
        }
    }
}
