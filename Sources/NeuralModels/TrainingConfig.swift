// Training settings of `kinema neural train` (YAML), defaults from the reference recipe (section 3).
import Foundation
import Yams

/// Settings of one training run. Keys in YAML are snake_case; missing keys keep their defaults.
public struct TrainingConfig: Codable, Sendable, Equatable {
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

    enum CodingKeys: String, CodingKey {
        case preset, model, steps, batchSize = "batch_size", learningRate = "learning_rate", weightDecay = "weight_decay"
        case warmupFraction = "warmup_fraction", minLearningRateFactor = "min_learning_rate_factor", emaDecay = "ema_decay"
        case cutmixProbability = "cutmix_probability", seed, folds, validationFold = "validation_fold"
        case trainTiers = "train_tiers", validationTier = "validation_tier", validateEvery = "validate_every"
        case scoreSkip = "score_skip", validationWindowStride = "validation_window_stride", cacheTrials = "cache_trials"
        case calibrateReadouts = "calibrate_readouts", teachers, distillationRatio = "distillation_ratio"
    }

    public init(from decoder: Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        let d = TrainingConfig()
        preset = try c.decodeIfPresent(String.self, forKey: .preset) ?? d.preset
        model = try c.decodeIfPresent(DwiseNeuroConfig.self, forKey: .model)
        steps = try c.decodeIfPresent(Int.self, forKey: .steps) ?? d.steps
        batchSize = try c.decodeIfPresent(Int.self, forKey: .batchSize) ?? d.batchSize
        learningRate = try c.decodeIfPresent(Double.self, forKey: .learningRate) ?? d.learningRate
        weightDecay = try c.decodeIfPresent(Double.self, forKey: .weightDecay) ?? d.weightDecay
        warmupFraction = try c.decodeIfPresent(Double.self, forKey: .warmupFraction) ?? d.warmupFraction
        minLearningRateFactor = try c.decodeIfPresent(Double.self, forKey: .minLearningRateFactor) ?? d.minLearningRateFactor
        emaDecay = try c.decodeIfPresent(Double.self, forKey: .emaDecay) ?? d.emaDecay
        cutmixProbability = try c.decodeIfPresent(Double.self, forKey: .cutmixProbability) ?? d.cutmixProbability
        seed = try c.decodeIfPresent(UInt64.self, forKey: .seed) ?? d.seed
        folds = try c.decodeIfPresent(Int.self, forKey: .folds) ?? d.folds
        validationFold = try c.decodeIfPresent(Int.self, forKey: .validationFold)
        trainTiers = try c.decodeIfPresent([String].self, forKey: .trainTiers) ?? d.trainTiers
        validationTier = try c.decodeIfPresent(String.self, forKey: .validationTier) ?? d.validationTier
        validateEvery = try c.decodeIfPresent(Int.self, forKey: .validateEvery) ?? d.validateEvery
        scoreSkip = try c.decodeIfPresent(Int.self, forKey: .scoreSkip) ?? d.scoreSkip
        validationWindowStride = try c.decodeIfPresent(Int.self, forKey: .validationWindowStride) ?? d.validationWindowStride
        cacheTrials = try c.decodeIfPresent(Int.self, forKey: .cacheTrials) ?? d.cacheTrials
        calibrateReadouts = try c.decodeIfPresent(Bool.self, forKey: .calibrateReadouts) ?? d.calibrateReadouts
        teachers = try c.decodeIfPresent([String].self, forKey: .teachers) ?? d.teachers
        distillationRatio = try c.decodeIfPresent(Double.self, forKey: .distillationRatio) ?? d.distillationRatio
    }

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

    /// Reads a YAML file.
    public static func load(yaml url: URL) throws -> TrainingConfig {
        guard let text = try? String(contentsOf: url, encoding: .utf8) else { throw ModelError("\(url.path): cannot read training config") }
        do {
            return try YAMLDecoder().decode(TrainingConfig.self, from: text)
        } catch {
            throw ModelError("\(url.path): invalid training config: \(error)")
        }
    }

    /// Checks the values; the error names the key.
    public func validate() throws {
        if steps < 1 { throw ModelError("steps must be ≥ 1") }
        if batchSize < 1 { throw ModelError("batch_size must be ≥ 1") }
        if learningRate <= 0 { throw ModelError("learning_rate must be > 0") }
        if !(0...1).contains(warmupFraction) { throw ModelError("warmup_fraction must be in [0, 1]") }
        if !(0..<1).contains(emaDecay) { throw ModelError("ema_decay must be in [0, 1)") }
        if folds < 2, validationFold != nil { throw ModelError("folds must be ≥ 2 when validation_fold is set") }
        if let f = validationFold, !(0..<folds).contains(f) { throw ModelError("validation_fold \(f) outside 0..<\(folds)") }
        if validationWindowStride < 1 || (validationWindowStride > 1 && validationWindowStride % 2 == 0) {
            throw ModelError("validation_window_stride must be 1 or odd (an even stride only predicts frames of one parity)")
        }
        if !(0..<1).contains(distillationRatio) { throw ModelError("distillation_ratio must be in [0, 1)") }
    }
}
