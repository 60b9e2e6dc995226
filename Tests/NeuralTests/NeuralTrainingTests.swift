// The training run of `kinema neural train` as a library (NeuralTraining): a Ctrl-C stop leaves a checkpoint
// from which a resumed run repeats the uninterrupted one exactly, the files it writes, and loading weights.
import Foundation
import KinemaConsole
import NeuralData
import NeuralModels
import Testing
import Torch
import TorchNN

/// Tensors of a safetensors file as float arrays, by name.
private func floats(_ url: URL) throws -> [String: [Float]] {
    var out: [String: [Float]] = [:]
    for (name, tensor) in try SafeTensors.read(url).tensors { out[name] = try tensor.to(.float32).toArray(Float.self) }
    return out
}

private func floats(_ model: DwiseNeuro) throws -> [String: [Float]] {
    var out: [String: [Float]] = [:]
    for (name, tensor) in model.store.stateDict() { out[name] = try tensor.to(.float32).toArray(Float.self) }
    return out
}

@Suite("neural training run", .serialized)
struct NeuralTrainingTests {
    /// Six steps of the tiny model on the small synthetic set, validating every two steps, EMA and CutMix on.
    static func config() -> TrainingConfig {
        var c = LearningRun.config(steps: 6)
        c.emaDecay = 0.9
        c.cutmixProbability = 0.5
        c.validateEvery = 2
        c.validationWindowStride = 7
        return c
    }

    /// Runs to the end (or until interrupted after `stopAfter` steps), recording step losses and validations.
    static func train(_ training: NeuralTraining, stopAfter: Int? = nil) throws -> (losses: [Int: Double], scores: [Int: Double]) {
        var losses: [Int: Double] = [:], scores: [Int: Double] = [:]
        try training.run { event in
            switch event {
            case .step(let p):
                losses[p.step] = p.result.loss
                #expect(p.steps == 6 && p.smoothedLoss.isFinite && p.learningRate >= 0)  // warm-up starts at 0
                if p.step == stopAfter { Interruption.request() }
            case .validated(let v):
                scores[v.step] = v.score.mean
                #expect(v.tier == "oracle" && v.score.perMouse.count == 2)
            }
        }
        return (losses, scores)
    }

    @Test func interruptedRunResumesToTheSameNumbers() throws {
        Runtime.threads = 2
        let dataset = try SensoriumDataset(root: TestData.root)
        let straightFolder = TestData.scratch("straight"), stoppedFolder = TestData.scratch("stopped")
        defer {
            try? FileManager.default.removeItem(at: straightFolder)
            try? FileManager.default.removeItem(at: stoppedFolder)
        }
        let straight = try NeuralTraining(config: Self.config(), dataset: dataset, folder: straightFolder)
        let expected = try Self.train(straight)
        #expect(expected.losses.keys.sorted() == Array(1...6))
        #expect(expected.scores.keys.sorted() == [2, 4, 6])
        #expect(!Interruption.isRequested)

        // Ctrl-C during step 3: the run stops before step 4 with a checkpoint at step 3.
        let stopped = try NeuralTraining(config: Self.config(), dataset: dataset, folder: stoppedFolder)
        do {
            _ = try Self.train(stopped, stopAfter: 3)
            Issue.record("the run did not stop")
        } catch let error as NeuralTrainingInterrupted {
            #expect(error.step == 3)
            #expect(error.checkpoint == stopped.checkpointURL)
            #expect(error.description.contains("--resume"))
        }
        Interruption.reset()
        let metadata = try SafeTensors.read(stopped.checkpointURL).metadata
        #expect(metadata["step"] == "3")

        // A new process would build everything again and resume: steps 4…6 and the scores repeat exactly.
        let resumed = try NeuralTraining(config: Self.config(), dataset: dataset, folder: stoppedFolder)
        try resumed.resume()
        #expect(resumed.trainer.step == 3)
        let rest = try Self.train(resumed)
        #expect(rest.losses.keys.sorted() == [4, 5, 6])
        for step in 4...6 { #expect(rest.losses[step] == expected.losses[step], "loss of step \(step)") }
        #expect(rest.scores.keys.sorted() == [4, 6])
        for step in [4, 6] { #expect(rest.scores[step] == expected.scores[step], "score at step \(step)") }

        // The files: the same final model, configuration and checkpoint position.
        let a = try floats(straight.modelURL), b = try floats(resumed.modelURL)
        #expect(a.keys.sorted() == b.keys.sorted())
        for (name, values) in a { #expect(values == b[name], "\(name)") }
        let yamlA = try String(contentsOf: straightFolder.appendingPathComponent("model.yaml"), encoding: .utf8)
        let yamlB = try String(contentsOf: stoppedFolder.appendingPathComponent("model.yaml"), encoding: .utf8)
        #expect(yamlA == yamlB)
        #expect(try SafeTensors.read(resumed.checkpointURL).metadata["step"] == "6")
    }

    @Test func writesModelFolderAndCheckpoint() throws {
        Runtime.threads = 2
        let dataset = try SensoriumDataset(root: TestData.root)
        let folder = TestData.scratch("train-files")
        defer { try? FileManager.default.removeItem(at: folder) }
        var config = Self.config()
        config.validateEvery = 0
        config.steps = 2
        let training = try NeuralTraining(config: config, dataset: dataset, folder: folder)
        let last = try #require(try training.run())
        #expect(last.step == 2 && last.savedModel)
        let names = try FileManager.default.contentsOfDirectory(atPath: folder.path).sorted()
        #expect(names == ["checkpoint.safetensors", "model.safetensors", "model.yaml"])

        // model.yaml holds the trained configuration; model.safetensors the EMA weights with step and score.
        let config2 = try SavedModel.config(in: folder)
        #expect(config2 == training.trainer.model.config)
        #expect(config2.readoutNeurons == [40, 24])
        let saved = try SafeTensors.read(training.modelURL)
        #expect(saved.metadata["step"] == "2")
        #expect(saved.metadata["validation"] == String(last.score.mean))
        let ema = try #require(training.trainer.ema)
        let weights = try floats(training.modelURL)
        #expect(Set(weights.keys) == Set(ema.shadow.keys))
        for (name, shadow) in ema.shadow { #expect(try shadow.to(.float32).toArray(Float.self) == weights[name], "\(name)") }

        // One call builds a model from configuration and weights: the folder, its file, or the checkpoint's EMA.
        let fromFolder = try floats(try DwiseNeuro(config: config2, weights: folder))
        let fromFile = try floats(try DwiseNeuro(config: config2, weights: training.modelURL))
        let fromCheckpoint = try floats(try DwiseNeuro(config: config2, weights: training.checkpointURL))
        #expect(fromFolder == weights && fromFile == weights && fromCheckpoint == weights)
        #expect(try floats(try SavedModel.load(from: folder)) == weights)
    }

    @Test func weightsErrorsNameTheFile() throws {
        let folder = TestData.scratch("weights-errors")
        defer { try? FileManager.default.removeItem(at: folder) }
        let config = try DwiseNeuroConfig.preset("tiny", neurons: [5], canvas: 32)
        let model = try DwiseNeuro(config: config)
        try SavedModel.save(model, to: folder)
        let missing = folder.appendingPathComponent("nothing.safetensors")
        let noFile = #expect(throws: ModelError.self) { try DwiseNeuro(config: config, weights: missing) }
        #expect(noFile?.message.contains("nothing.safetensors: no such weights file") == true)
        // Other readout sizes: the error names the file and the mismatching tensors.
        var other = config
        other.readoutNeurons = [7]
        let misfit = #expect(throws: ModelError.self) { try DwiseNeuro(config: other, weights: folder) }
        #expect(misfit?.message.contains("model.safetensors does not fit the model configuration") == true)
        #expect(misfit?.message.contains("readouts.0") == true)
        let noConfig = #expect(throws: ModelError.self) { try SavedModel.load(from: missing) }
        #expect(noConfig?.message.contains("missing model configuration") == true)
    }
}
