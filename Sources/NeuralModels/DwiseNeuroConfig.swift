import ConfigDecoding
// DwiseNeuro hyper-parameters: every width, depth, stride, kernel and β, with the winner's presets.
import Foundation
import NeuralData

/// Configuration of a DwiseNeuro model (reference section 2). Core block `i` maps
/// `coreFeatures[i] → coreFeatures[i+1]` (the last maps to itself) with spatial stride
/// `spatialStrides[i]`; the cortex widens `coreFeatures.last → cortexFeatures…`; one readout per mouse.
public struct DwiseNeuroConfig: ConfigSection, Sendable, Equatable {
    /// Input channels: video, pupil, speed, pupil x, pupil y.
    public var inChannels = 5
    public var coreFeatures = [64, 64, 64, 64, 128, 128, 128, 256, 256]
    public var spatialStrides = [2, 1, 1, 1, 2, 1, 1, 2, 1]
    public var spatialKernel = 3
    public var temporalKernel = 5
    public var expansionRatio = 6
    public var seReduceRatio = 32
    public var cortexFeatures = [1024, 2048, 4096]
    public var groups = 2
    public var softplusBeta = 0.07
    /// Channel dropout before each readout.
    public var dropRate = 0.4
    /// Maximum DropPath rate (core block i uses rate·i/blocks; cortex layers use rate).
    public var dropPathRate = 0.1
    /// Neurons per mouse, in readout order.
    public var readoutNeurons: [Int] = []
    /// Frames per input window and the step between them (16 frames, step 2 → 31 frames spanned).
    public var frames = 16
    public var frameStep = 2
    /// Side of the square input canvas the video is pasted into.
    public var canvas = 64

    public init() {}

    // MARK: Presets

    /// The ten Sensorium 2023 mice in DwiseNeuro's readout order (new mice first).
    public static let sensoriumNeurons = [7863, 7908, 8202, 7939, 8122, 7440, 7928, 8285, 7671, 7495]

    /// The winner's model (expansion 6: the distillation / code-default configuration).
    public static func full(neurons: [Int] = sensoriumNeurons, expansion: Int = 6) -> DwiseNeuroConfig {
        var c = DwiseNeuroConfig()
        c.readoutNeurons = neurons
        c.expansionRatio = expansion
        return c
    }

    /// The miniature of the reference's calibration (section 7.3): 20,134 parameters for 40 + 48 neurons.
    public static func tiny(neurons: [Int], canvas: Int = 32) -> DwiseNeuroConfig {
        var c = DwiseNeuroConfig()
        c.coreFeatures = [8, 16, 16]
        c.spatialStrides = [2, 2, 1]
        c.expansionRatio = 3
        c.seReduceRatio = 4
        c.cortexFeatures = [64, 128]
        c.softplusBeta = 1
        c.dropRate = 0.1
        c.dropPathRate = 0.05
        c.readoutNeurons = neurons
        c.canvas = canvas
        return c
    }

    /// A preset by name (`full`, `full-e7`, `tiny`).
    public static func preset(_ name: String, neurons: [Int], canvas: Int) throws -> DwiseNeuroConfig {
        switch name {
        case "full": var c = full(neurons: neurons); c.canvas = canvas; return c
        case "full-e7": var c = full(neurons: neurons, expansion: 7); c.canvas = canvas; return c
        case "tiny": return tiny(neurons: neurons, canvas: canvas)
        default: throw ModelError("unknown model preset '\(name)' (use full, full-e7 or tiny)")
        }
    }

    /// Frames spanned by one window (31 for 16 frames at step 2).
    public var windowSpan: Int { (frames - 1) * frameStep + 1 }

    /// The range of each key (run when a file is read, and by `validate()`). Readouts may still be empty here: a
    /// training config's model gets them from the data.
    public func check(_ c: ConfigChecks) throws {
        try c.require(
            CodingKeys.spatialStrides, spatialStrides.count,
            "needs one stride per core_features entry (\(coreFeatures.count)), at least one"
        ) { $0 == coreFeatures.count && $0 > 0 }
        try c.require(CodingKeys.cortexFeatures, cortexFeatures, "must not be empty") { !$0.isEmpty }
        try c.require(
            CodingKeys.groups, groups,
            "must divide every width (\(([coreFeatures.last ?? 0] + cortexFeatures).map(String.init).joined(separator: ", ")))"
        ) { g in
            g >= 1 && ([coreFeatures.last ?? 0] + cortexFeatures).allSatisfy { $0 % g == 0 }
        }
        try c.require(CodingKeys.readoutNeurons, readoutNeurons, "needs ≥ 1 neuron per mouse") { $0.allSatisfy { $0 >= 1 } }
        try c.require(CodingKeys.frames, frames, "must be ≥ 1") { $0 >= 1 }
        try c.require(CodingKeys.frameStep, frameStep, "must be ≥ 1") { $0 >= 1 }
        try c.require(CodingKeys.canvas, canvas, "must be ≥ 4") { $0 >= 4 }
        try c.require(CodingKeys.spatialKernel, spatialKernel, "must be odd") { $0 % 2 == 1 }
        try c.require(CodingKeys.temporalKernel, temporalKernel, "must be odd") { $0 % 2 == 1 }
        try c.require(CodingKeys.expansionRatio, expansionRatio, "must be ≥ 1") { $0 >= 1 }
        try c.require(CodingKeys.seReduceRatio, seReduceRatio, "must be ≥ 1") { $0 >= 1 }
    }

    /// Checks the values of a model about to be built; the error names the key.
    public func validate() throws {
        try checkStandalone { ModelError($0) }
        if readoutNeurons.isEmpty { throw ModelError("readout_neurons needs ≥ 1 neuron per mouse") }
    }

    /// Reads a `model.yaml` (or any YAML of these keys) strictly: unknown keys, wrong types and out-of-range values
    /// are errors with file and line.
    public static func load(yaml url: URL) throws -> DwiseNeuroConfig {
        try ConfigDecoder.load(DwiseNeuroConfig.self, path: url.path)
    }
}

/// A problem with a model, its configuration or its inputs.
public struct ModelError: Error, CustomStringConvertible, Sendable {
    public var message: String
    public init(_ message: String) { self.message = message }
    public var description: String { message }
}
