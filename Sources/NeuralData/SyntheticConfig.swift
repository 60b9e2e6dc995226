import ConfigDecoding
// Settings of the synthetic linear–nonlinear–Poisson data set (reference section 7.1).
import Foundation

/// Parameters of `kinema neural synth`. Defaults are the reference's calibration set
/// (18×32 frames, 120 valid of 130 padded frames, 2 mice with 40 and 48 neurons, 60 train trials,
/// oracle = 4 clips × 3 repeats, low-rank receptive fields with K = 4 shared positions).
public struct SyntheticConfig: ConfigSection, Sendable, Equatable {
    /// Random seed; the same seed writes the same files.
    public var seed: UInt64 = 1
    /// Frame height and width in pixels (36×64 reproduces the real geometry).
    public var height = 18, width = 32
    /// Valid frames per trial and padded length `T_pad` (NaN after the valid frames).
    public var frames = 120, paddedFrames = 130
    /// Neurons of each synthetic mouse (one folder per entry).
    public var neuronCounts = [40, 48]
    /// Number of `train` trials per mouse (each a fresh clip).
    public var trainTrials = 60
    /// `oracle` tier: distinct clips, each shown `oracleRepeats` times.
    public var oracleClips = 4, oracleRepeats = 3
    /// Hidden `live_test_main` tier (responses stored as zeros, true rates kept): clips × repeats.
    public var liveTestClips = 0, liveTestRepeats = 1
    /// Shared receptive-field positions (low-rank variant); 0 = every neuron its own position.
    public var sharedPositions = 4
    /// Largest |β| of the running-speed gain `exp(β (speed − 0.5) / 3)` (reference: 0.3).
    public var speedCoupling = 0.3
    /// Length of one extra, longer `train` trial (0 = none); e.g. 320 exercises the 300-frame cap.
    public var longTrialFrames = 0

    public init() {}

    /// Reads a YAML file (`seed: 3`, `neuron_counts: [40, 48]`, …): keys are the properties in snake_case, absent keys
    /// keep the defaults above; unknown keys, wrong types and out-of-range values are errors with file and line.
    public static func load(yaml url: URL) throws -> SyntheticConfig {
        try ConfigDecoder.load(SyntheticConfig.self, path: url.path)
    }

    /// The range of each key (run when a file is read, and by `validate()`).
    public func check(_ c: ConfigChecks) throws {
        try c.require(CodingKeys.height, height, "must be at least 4 pixels") { $0 >= 4 }
        try c.require(CodingKeys.width, width, "must be at least 4 pixels") { $0 >= 4 }
        try c.require(CodingKeys.frames, frames, "must be positive") { $0 >= 1 }
        try c.require(CodingKeys.paddedFrames, paddedFrames, "must be at least frames (\(frames))") { $0 >= frames }
        try c.require(CodingKeys.neuronCounts, neuronCounts, "needs at least one mouse with ≥ 1 neuron") {
            !$0.isEmpty && $0.allSatisfy { $0 >= 1 }
        }
        try c.require(CodingKeys.trainTrials, trainTrials, "needs at least one train trial") { $0 >= 1 }
        try c.require(CodingKeys.oracleClips, oracleClips, "must be ≥ 0") { $0 >= 0 }
        try c.require(CodingKeys.oracleRepeats, oracleRepeats, "must be ≥ 1") { $0 >= 1 }
        try c.require(CodingKeys.liveTestClips, liveTestClips, "must be ≥ 0") { $0 >= 0 }
        try c.require(CodingKeys.liveTestRepeats, liveTestRepeats, "must be ≥ 1") { $0 >= 1 }
        try c.require(CodingKeys.sharedPositions, sharedPositions, "must be ≥ 0") { $0 >= 0 }
        try c.require(CodingKeys.longTrialFrames, longTrialFrames, "must be ≥ 0") { $0 >= 0 }
    }

    /// Checks the values (after command-line overrides); the error names the offending key.
    public func validate() throws {
        try checkStandalone { SensoriumError(path: "synthetic config", message: $0) }
    }

    /// Trials written per mouse.
    public var trialsPerMouse: Int {
        trainTrials + oracleClips * oracleRepeats + liveTestClips * liveTestRepeats + (longTrialFrames > 0 ? 1 : 0)
    }

    /// Padded length actually written (grows to fit the long trial).
    public var effectivePaddedFrames: Int { max(paddedFrames, longTrialFrames > 0 ? longTrialFrames + 10 : 0) }
}
