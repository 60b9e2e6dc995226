// Settings of the synthetic linear–nonlinear–Poisson data set (reference section 7.1).
import Foundation
import Yams

/// Parameters of `kinema neural synth`. Defaults are the reference's calibration set
/// (18×32 frames, 120 valid of 130 padded frames, 2 mice with 40 and 48 neurons, 60 train trials,
/// oracle = 4 clips × 3 repeats, low-rank receptive fields with K = 4 shared positions).
public struct SyntheticConfig: Codable, Sendable, Equatable {
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

    enum CodingKeys: String, CodingKey {
        case seed, height, width, frames, paddedFrames = "padded_frames", neuronCounts = "neuron_counts"
        case trainTrials = "train_trials", oracleClips = "oracle_clips", oracleRepeats = "oracle_repeats"
        case liveTestClips = "live_test_clips", liveTestRepeats = "live_test_repeats"
        case sharedPositions = "shared_positions", speedCoupling = "speed_coupling", longTrialFrames = "long_trial_frames"
    }

    /// Decodes from YAML; keys not given keep their defaults.
    public init(from decoder: Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        let d = SyntheticConfig()
        seed = try c.decodeIfPresent(UInt64.self, forKey: .seed) ?? d.seed
        height = try c.decodeIfPresent(Int.self, forKey: .height) ?? d.height
        width = try c.decodeIfPresent(Int.self, forKey: .width) ?? d.width
        frames = try c.decodeIfPresent(Int.self, forKey: .frames) ?? d.frames
        paddedFrames = try c.decodeIfPresent(Int.self, forKey: .paddedFrames) ?? d.paddedFrames
        neuronCounts = try c.decodeIfPresent([Int].self, forKey: .neuronCounts) ?? d.neuronCounts
        trainTrials = try c.decodeIfPresent(Int.self, forKey: .trainTrials) ?? d.trainTrials
        oracleClips = try c.decodeIfPresent(Int.self, forKey: .oracleClips) ?? d.oracleClips
        oracleRepeats = try c.decodeIfPresent(Int.self, forKey: .oracleRepeats) ?? d.oracleRepeats
        liveTestClips = try c.decodeIfPresent(Int.self, forKey: .liveTestClips) ?? d.liveTestClips
        liveTestRepeats = try c.decodeIfPresent(Int.self, forKey: .liveTestRepeats) ?? d.liveTestRepeats
        sharedPositions = try c.decodeIfPresent(Int.self, forKey: .sharedPositions) ?? d.sharedPositions
        speedCoupling = try c.decodeIfPresent(Double.self, forKey: .speedCoupling) ?? d.speedCoupling
        longTrialFrames = try c.decodeIfPresent(Int.self, forKey: .longTrialFrames) ?? d.longTrialFrames
    }

    /// Reads a YAML file (`seed: 3`, `neuron_counts: [40, 48]`, …).
    public static func load(yaml url: URL) throws -> SyntheticConfig {
        guard let text = try? String(contentsOf: url, encoding: .utf8) else {
            throw SensoriumError(path: url.path, message: "cannot read config file")
        }
        do {
            return try YAMLDecoder().decode(SyntheticConfig.self, from: text)
        } catch {
            throw SensoriumError(path: url.path, message: "invalid synthetic-data config: \(error)")
        }
    }

    /// Checks the values; the error names the offending key.
    public func validate() throws {
        func bad(_ key: String, _ why: String) -> SensoriumError {
            SensoriumError(path: "synthetic config", message: "\(key): \(why)")
        }
        if height < 4 || width < 4 { throw bad("height/width", "frames must be at least 4×4 pixels") }
        if frames < 1 { throw bad("frames", "must be positive") }
        if paddedFrames < frames { throw bad("padded_frames", "must be at least frames (\(frames))") }
        if neuronCounts.isEmpty || neuronCounts.contains(where: { $0 < 1 }) { throw bad("neuron_counts", "need at least one mouse with ≥ 1 neuron") }
        if trainTrials < 1 { throw bad("train_trials", "need at least one train trial") }
        if oracleClips < 0 || oracleRepeats < 1 || liveTestClips < 0 || liveTestRepeats < 1 { throw bad("oracle/live_test", "clips must be ≥ 0 and repeats ≥ 1") }
        if sharedPositions < 0 { throw bad("shared_positions", "must be ≥ 0") }
        if longTrialFrames < 0 { throw bad("long_trial_frames", "must be ≥ 0") }
    }

    /// Trials written per mouse.
    public var trialsPerMouse: Int {
        trainTrials + oracleClips * oracleRepeats + liveTestClips * liveTestRepeats + (longTrialFrames > 0 ? 1 : 0)
    }

    /// Padded length actually written (grows to fit the long trial).
    public var effectivePaddedFrames: Int { max(paddedFrames, longTrialFrames > 0 ? longTrialFrames + 10 : 0) }
}
