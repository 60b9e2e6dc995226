// The DwiseNeuro model: stem → position encoding + inverted-residual blocks → spatial mean →
// shuffle-layer cortex → one Softplus readout per mouse (reference section 2).
import Foundation
import Torch
import TorchNN

/// DwiseNeuro over libtorch. Parameter names equal the original `state_dict` keys
/// (`core.stem.0.weight`, `core.blocks.1.conv_pw.0.weight`, `cortex.layers.0.conv.weight`,
/// `readouts.3.layer.1.bias`, …), so published weights load with `store.load(_:)` or
/// `DwiseNeuro(config:weights:)`.
///
/// Train and eval mode are not a state of the model: every forward takes `training:`. `true` is PyTorch's
/// `model.train()` (BatchNorm uses and updates batch statistics, dropout and DropPath are active); `false`
/// is `model.eval()` (running statistics, no dropout). Gradients are separate: wrap inference in `withNoGrad`.
public final class DwiseNeuro {
    public let config: DwiseNeuroConfig
    public let store: ParameterStore
    let stem: Conv, stemBN: BatchNormAct
    let encodings: [PositionalEncoding3d]
    let blocks: [InvertedResidual3d]
    let cortex: [ShuffleLayer]
    let readouts: [Readout]

    /// Builds the model with freshly initialised weights on `device`.
    public init(config: DwiseNeuroConfig, device: Device = .cpu) throws {
        try config.validate()
        self.config = config
        let store = ParameterStore(device: device)
        self.store = store
        let core = store.root / "core"
        let f = config.coreFeatures
        stem = try makeConv(core / "stem" / 0, dims: 3, config.inChannels, f[0], kernel: [1, 1, 1])
        stemBN = try BatchNormAct(core / "stem" / 1, f[0], act: false)
        var encodings: [PositionalEncoding3d] = [], blocks: [InvertedResidual3d] = []
        for i in 0..<f.count {
            let out = i + 1 < f.count ? f[i + 1] : f[i]
            encodings.append(try PositionalEncoding3d(core / "blocks" / (2 * i), channels: f[i]))
            blocks.append(
                try InvertedResidual3d(
                    core / "blocks" / (2 * i + 1), inFeatures: f[i], outFeatures: out,
                    spatialKernel: config.spatialKernel, temporalKernel: config.temporalKernel,
                    stride: config.spatialStrides[i], expansion: config.expansionRatio,
                    seReduceRatio: config.seReduceRatio,
                    dropPathRate: config.dropPathRate * Double(i) / Double(f.count)))
        }
        self.encodings = encodings
        self.blocks = blocks
        var cortex: [ShuffleLayer] = []
        var width = f[f.count - 1]
        for (j, out) in config.cortexFeatures.enumerated() {
            cortex.append(
                try ShuffleLayer(
                    store.root / "cortex" / "layers" / j, inFeatures: width, outFeatures: out,
                    groups: config.groups, dropPathRate: config.dropPathRate))
            width = out
        }
        self.cortex = cortex
        readouts = try config.readoutNeurons.enumerated().map { m, neurons in
            try Readout(
                store.root / "readouts" / m, inFeatures: width, neurons: neurons, groups: config.groups,
                beta: config.softplusBeta, dropRate: config.dropRate)
        }
    }

    // MARK: Forward

    /// Core output after every block, `(B, C_i, T, H_i, W_i)` (for shape checks and inspection).
    public func coreOutputs(_ x: Tensor, training: Bool) throws -> [Tensor] {
        var y = try stemBN(try stem(x), training: training)
        var outputs: [Tensor] = []
        for (encoding, block) in zip(encodings, blocks) {
            y = try block(try encoding(y), training: training)
            outputs.append(y)
        }
        return outputs
    }

    /// Shared features `(B, cortex width, T)` for an input `(B, 5, T, canvas, canvas)`.
    public func features(_ x: Tensor, training: Bool) throws -> Tensor {
        guard x.rank == 5, x.size(1) == config.inChannels else {
            throw ModelError("input shape \(x.shape), expected (batch, \(config.inChannels), frames, height, width)")
        }
        var y = try stemBN(try stem(x), training: training)
        for (encoding, block) in zip(encodings, blocks) { y = try block(try encoding(y), training: training) }
        y = try y.mean(dims: [3, 4])
        for layer in cortex { y = try layer(y, training: training) }
        return y
    }

    /// Predicted responses of mouse `mouse` from shared features: `(B, N_mouse, T)`, non-negative.
    public func readout(_ features: Tensor, mouse: Int, training: Bool) throws -> Tensor {
        guard readouts.indices.contains(mouse) else { throw ModelError("mouse index \(mouse) outside 0..<\(readouts.count)") }
        return try readouts[mouse](features, training: training)
    }

    /// Full forward for one mouse: `(B, 5, T, canvas, canvas)` → `(B, N, T)`.
    public func callAsFunction(_ x: Tensor, mouse: Int, training: Bool) throws -> Tensor {
        try readout(try features(x, training: training), mouse: mouse, training: training)
    }

    // MARK: Parameter counts

    /// Trainable parameter count of the names starting with `prefix` (all when empty).
    public func parameterCount(prefix: String = "") -> Int {
        store.parameters.filter { $0.key.hasPrefix(prefix) }.reduce(0) { $0 + $1.value.count }
    }
}
