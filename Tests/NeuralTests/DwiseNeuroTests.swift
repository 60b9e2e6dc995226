// DwiseNeuro structure: the reference's parameter counts, state_dict names and block output shapes.
import Foundation
import NeuralData
import NeuralModels
import Testing
import Torch

@Suite("DwiseNeuro model", .serialized)
struct DwiseNeuroTests {
    @Test func fullPresetParameterCountsMatchTheReference() throws {
        let model = try DwiseNeuro(config: .full())
        #expect(model.parameterCount() == 170_058_402)
        #expect(model.parameterCount(prefix: "core.") == 3_075_736)
        #expect(model.parameterCount(prefix: "cortex.") == 5_402_624)
        #expect(model.parameterCount(prefix: "readouts.") == 161_580_042)
        #expect(model.parameterCount(prefix: "core.stem.") == 448)
        let blockCounts = [66_700, 66_700, 66_700, 91_532, 250_136, 250_136, 348_952, 967_216, 967_216]
        for (i, expected) in blockCounts.enumerated() {
            #expect(model.parameterCount(prefix: "core.blocks.\(2 * i + 1).") == expected, "block \(i)")
        }
        let perMouse = [
            16_113_336, 16_203_492, 16_805_898, 16_269_060, 16_641_978, 15_244_560, 16_244_472, 16_978_014, 15_719_928, 15_359_304,
        ]
        for (m, expected) in perMouse.enumerated() {
            #expect(model.parameterCount(prefix: "readouts.\(m).") == expected, "mouse \(m)")
        }
        // Original state_dict names and shapes.
        let state = model.store.stateDict()
        #expect(state["core.stem.0.weight"]?.shape == [64, 5, 1, 1, 1])
        #expect(state["core.blocks.0.inv_freq"]?.shape == [11])
        #expect(state["core.blocks.1.spat_covn_dw.0.weight"]?.shape == [384, 1, 1, 3, 3])
        #expect(state["core.blocks.1.temp_covn_dw.0.weight"]?.shape == [384, 1, 5, 1, 1])
        #expect(state["core.blocks.1.se.conv_reduce.bias"]?.shape == [12])
        #expect(state["core.blocks.17.bn_sc.bn.running_var"]?.shape == [256])
        #expect(state["cortex.layers.2.conv.weight"]?.shape == [4096, 1024, 1])
        #expect(state["readouts.0.layer.1.weight"]?.shape == [7864, 2048, 1])
        #expect(state["readouts.9.layer.1.bias"]?.shape == [7496])
    }

    @Test func stageOneConfigurationCount() throws {
        let model = try DwiseNeuro(config: .full(expansion: 7))
        #expect(model.parameterCount() == 170_656_070)
        #expect(model.parameterCount(prefix: "core.") == 3_673_404)
    }

    @Test func tinyPresetMatchesTheCalibrationModel() throws {
        let model = try DwiseNeuro(config: .tiny(neurons: [40, 48]))
        #expect(model.parameterCount() == 20_134)
    }

    @Test func blockOutputShapesFollowTheSpecification() throws {
        var config = DwiseNeuroConfig.full(neurons: [7, 10])
        config.cortexFeatures = [1024, 2048, 4096]
        let model = try DwiseNeuro(config: config)
        let x = try Tensor.rand([1, 5, 16, 64, 64])
        let outputs = try withNoGrad { try model.coreOutputs(x, training: false) }
        let expected: [[Int]] = [
            [1, 64, 16, 32, 32], [1, 64, 16, 32, 32], [1, 64, 16, 32, 32], [1, 128, 16, 32, 32],
            [1, 128, 16, 16, 16], [1, 128, 16, 16, 16], [1, 256, 16, 16, 16], [1, 256, 16, 8, 8], [1, 256, 16, 8, 8],
        ]
        #expect(outputs.map(\.shape) == expected)
        let features = try withNoGrad { try model.features(x, training: false) }
        #expect(features.shape == [1, 4096, 16])
        let y = try withNoGrad { try model.readout(features, mouse: 0, training: false) }
        #expect(y.shape == [1, 7, 16])
        #expect(try y.min().item() >= 0)
    }

    @Test func softplusReadoutAndPositionEncoding() throws {
        // With zero weights and bias, every readout output is Softplus_β(0) = ln 2 / β.
        let model = try DwiseNeuro(config: .tiny(neurons: [3]))
        try withNoGrad {
            for (name, t) in model.store.parameters where name.hasPrefix("readouts.") { try t.zeroInPlace() }
        }
        let y = try withNoGrad { try model(Tensor.rand([2, 5, 16, 32, 32]), mouse: 0, training: false) }
        let values = try y.toArray(Float.self)
        #expect(values.allSatisfy { abs($0 - Float(log(2.0))) < 1e-5 })
        // inv_freq buffer: 10000^(−2j/P) with P = 2·ceil(C/6).
        let inv = try #require(model.store.stateDict()["core.blocks.2.inv_freq"]).toArray(Float.self)
        #expect(inv.count == 3)  // C = 16 → P = 6
        #expect(abs(inv[1] - Float(pow(10000.0, -2.0 / 6))) < 1e-7)
        #expect(throws: ModelError.self) { try DwiseNeuro(config: DwiseNeuroConfig()) }  // no readouts
        #expect(throws: ModelError.self) { try model(Tensor.rand([1, 3, 16, 32, 32]), mouse: 0, training: false) }
    }

    @Test func windowInputsAndEnds() throws {
        let builder = WindowBuilder(config: .tiny(neurons: [1]))
        #expect(builder.frameIndices(end: 30) == Array(stride(from: 0, through: 30, by: 2)))
        let model = try DwiseNeuro(config: .tiny(neurons: [4]))
        let all = SlidingWindowPredictor(model: model, windowStride: 1).windowEnds(length: 40)
        #expect(all == Array(30..<40))
        let sparse = SlidingWindowPredictor(model: model, windowStride: 3).windowEnds(length: 40)
        #expect(sparse == [30, 33, 36, 39, 38])
    }
}
