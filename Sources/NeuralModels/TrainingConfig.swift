import ConfigDecoding
// Training settings of `kinema neural train` (YAML), defaults from the reference recipe (section 3).
import Foundation

/// Settings of one training run. Keys in YAML are the properties in snake_case; missing keys keep their defaults.
public struct TrainingConfig: ConfigSection, Sendable, Equatable {
    /// Model preset (`tiny`, `full`, `full-e7`) used when `model` is not given.
    public var preset = "tiny"
    /// Full model configuration (overrides the preset; readout neurons are filled from the data).
    public var model: DwiseNeuroConfig?
    /// Optimiser steps and samples per step.
    public var steps = 600
    public var batchSize = 8
    /// AdamW peak learning rate and weight decay.
    public var learningRate = 3e-3
    public var weightDecay = 0.05
    /// Fraction of steps with linear warm-up from 0; then cosine to `learningRate · minLearningRateFactor`.
    public var warmupFraction = 0.1
    public var minLearningRateFactor = 0.01
    /// EMA decay per step (0 disables the EMA; validation and the saved model then use the raw weights).
    /// The reference's 0.999 is in `fullRecipe`; CPU-sized runs default to 0.99, since after 600 steps
    /// 0.999 still holds 0.999^600 = 55 % of the initial state (BatchNorm statistics included).
    public var emaDecay = 0.99
    /// Probability of CutMix per sample.
    public var cutmixProbability = 0.5
    /// Seed of sampling and initialisation.
    public var seed: UInt64 = 0
    /// Group k-fold by video hash: with `validationFold` set, train-tier trials of that fold are left out.
    public var folds = 7
    public var validationFold: Int?
    /// Tiers used for training and for validation.
    public var trainTiers = ["train"]
    public var validationTier = "oracle"
    /// Validate (and checkpoint) every this many steps; 0 = only at the end.
    public var validateEvery = 0
    /// Frames skipped at the start of each trial in the validation metric (competition: 50).
    public var scoreSkip = 50
    /// Validation windows: every `validationWindowStride`-th window end (plus the last two), 1 = all. Must be
    /// odd: a step-2 window only predicts frames of its end's parity.
    public var validationWindowStride = 1
    /// Trials kept in memory by the loader.
    public var cacheTrials = 512
    /// Start each readout at the training data's mean response (bias = Softplus⁻¹(mean), weights ×0.1)
    /// instead of the reference's zero bias; skips the long rate-calibration phase of short runs.
    /// Off (`false`) reproduces the reference exactly. Default on: CPU-sized runs of a few hundred steps.
    public var calibrateReadouts = true
    /// Stage 2 (distillation, reference 3.8): model folders of trained stage-1 models (`kinema neural train`
    /// output, EMA weights). Their mean prediction is the target of every (sample, mouse) pair without labels,
    /// i.e. the readouts of the other mice; empty = stage 1. Needs ≥ 2 mice.
    public var teachers: [String] = []
    /// Share ρ of the total loss weight carried by the distilled pairs (reference: 0.36).
    public var distillationRatio = 0.36

    public init() {}

    /// The reference's full recipe: batch 32, peak 2.4e-3, 47,250 steps (3 warm-up epochs of 21), EMA 0.999.
    public static var fullRecipe: TrainingConfig {
        var c = TrainingConfig()
        c.preset = "full"
        c.steps = 47_250
        c.batchSize = 32
        c.learningRate = 2.4e-3
        c.warmupFraction = 6750.0 / 47250.0
        c.validateEvery = 2250
        c.emaDecay = 0.999
        c.calibrateReadouts = false
        return c
    }

    /// Reads a YAML file: keys are the properties in snake_case (`batch_size`), absent keys keep the defaults above;
    /// unknown keys, wrong types and out-of-range values are errors with file and line.
    public static func load(yaml url: URL) throws -> TrainingConfig {
        try ConfigDecoder.load(TrainingConfig.self, path: url.path)
    }

    /// The range of each key (run when a file is read, and by `validate()`).
    public func check(_ c: ConfigChecks) throws {
        try c.require(CodingKeys.steps, steps, "must be ≥ 1") { $0 >= 1 }
        try c.require(CodingKeys.batchSize, batchSize, "must be ≥ 1") { $0 >= 1 }
        try c.require(CodingKeys.learningRate, learningRate, "must be > 0") { $0 > 0 }
        try c.require(CodingKeys.warmupFraction, warmupFraction, "must be in [0, 1]") { (0...1).contains($0) }
        try c.require(CodingKeys.emaDecay, emaDecay, "must be in [0, 1)") { (0..<1).contains($0) }
        if let fold = validationFold {
            try c.require(CodingKeys.folds, folds, "must be ≥ 2 when validation_fold is set") { $0 >= 2 }
            try c.require(CodingKeys.validationFold, fold, "must be in 0..<\(folds) (folds)") { (0..<folds).contains($0) }
        }
        try c.require(
            CodingKeys.validationWindowStride, validationWindowStride,
            "must be 1 or odd (an even stride only predicts frames of one parity)"
        ) { $0 == 1 || ($0 > 1 && $0 % 2 == 1) }
        try c.require(CodingKeys.distillationRatio, distillationRatio, "must be in [0, 1)") { (0..<1).contains($0) }
    }

    /// Checks the values (after command-line overrides); the error names the key.
    public func validate() throws {
        try checkStandalone { ModelError($0) }
    }
}
