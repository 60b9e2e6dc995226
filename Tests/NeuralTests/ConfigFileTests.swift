// Neural config files (synthetic data, training, DwiseNeuro): strict keys, types and ranges with file and line.
import Foundation
import NeuralData
import NeuralModels
import Testing

private func write(_ text: String, _ name: String) throws -> URL {
    let url = FileManager.default.temporaryDirectory.appendingPathComponent("kinema-config-\(UUID().uuidString)-\(name)")
    try text.write(to: url, atomically: true, encoding: .utf8)
    return url
}

/// The one-line message of the error `body` throws.
private func message(_ body: () throws -> Void) -> String? {
    (#expect(throws: (any Error).self) { try body() }).map { "\($0)" }
}

@Suite struct NeuralConfigFileTests {
    @Test func syntheticConfigReadsKeysAndKeepsDefaults() throws {
        let c = try SyntheticConfig.load(yaml: try write("seed: 3\nneuron_counts: [5, 6]\nspeed_coupling: 0.1\n", "s.yaml"))
        var expected = SyntheticConfig()
        expected.seed = 3
        expected.neuronCounts = [5, 6]
        expected.speedCoupling = 0.1
        #expect(c == expected)
    }

    @Test func syntheticConfigMisspelledKey() throws {
        let url = try write("seed: 3\nneuron_count: [5]\n", "s.yaml")
        #expect(
            message { _ = try SyntheticConfig.load(yaml: url) }
                == "\(url.path):2: unknown key 'neuron_count'; did you mean 'neuron_counts'?")
    }

    @Test func syntheticConfigOutOfRange() throws {
        let url = try write("frames: 50\npadded_frames: 40\n", "s.yaml")
        #expect(
            message { _ = try SyntheticConfig.load(yaml: url) } == "\(url.path):2: padded_frames must be at least frames (50), found 40")
    }

    @Test func trainingConfigWithNestedModel() throws {
        let c = try TrainingConfig.load(
            yaml: try write("steps: 20\nlearning_rate: 1e-3\nmodel:\n  core_features: [8, 8]\n  spatial_strides: [2, 1]\n", "t.yaml"))
        var expected = TrainingConfig()
        expected.steps = 20
        expected.learningRate = 1e-3
        var model = DwiseNeuroConfig()
        model.coreFeatures = [8, 8]
        model.spatialStrides = [2, 1]
        expected.model = model
        #expect(c == expected)
    }

    @Test func trainingConfigErrorsAtEachLevel() throws {
        let cases: [(String, String)] = [
            ("steps: 20\nbatchsize: 4\n", ":2: unknown key 'batchsize'; did you mean 'batch_size'?"),
            ("model:\n  frames: 8\n  frame_stpe: 2\n", ":3: unknown key 'model.frame_stpe'; did you mean 'model.frame_step'?"),
            ("batch_size: eight\n", ":1: batch_size must be an integer, found 'eight'"),
            ("steps: 5\nema_decay: 1.0\n", ":2: ema_decay must be in [0, 1), found 1.0"),
            ("model:\n  temporal_kernel: 4\n", ":2: model.temporal_kernel must be odd, found 4"),
        ]
        for (yaml, expected) in cases {
            let url = try write(yaml, "t.yaml")
            #expect(message { _ = try TrainingConfig.load(yaml: url) } == url.path + expected)
        }
    }

    @Test func validateStillThrowsTheModuleErrors() {
        var t = TrainingConfig()
        t.validationWindowStride = 2
        #expect(throws: ModelError.self) { try t.validate() }
        var s = SyntheticConfig()
        s.height = 2
        #expect(throws: SensoriumError.self) { try s.validate() }
        #expect(throws: ModelError.self) { try DwiseNeuroConfig().validate() }  // no readouts
    }

    @Test func writtenConfigsReadBackEqual() throws {
        var t = TrainingConfig.fullRecipe
        t.validationFold = 3
        t.teachers = ["a", "b c"]
        t.model = DwiseNeuroConfig.tiny(neurons: [40, 48])
        #expect(try TrainingConfig.load(yaml: try write(try t.yaml(), "t.yaml")) == t)
        var s = SyntheticConfig()
        s.seed = 9
        s.neuronCounts = [3]
        #expect(try SyntheticConfig.load(yaml: try write(try s.yaml(), "s.yaml")) == s)
        // model.yaml as the model folder has it (Yams' encoder), read by the strict decoder.
        let model = DwiseNeuroConfig.full(neurons: [7, 10], expansion: 7)
        #expect(try DwiseNeuroConfig.load(yaml: try write(try model.yaml(), "m.yaml")) == model)
    }
}
