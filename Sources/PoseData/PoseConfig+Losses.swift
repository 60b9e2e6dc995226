// LP's `losses:` and `callbacks:` sections (§2, §4 of the LP reference): the unsupervised losses' parameters and
// the annealing of their weight, read strictly like every other section.
import ConfigDecoding
import Foundation

extension PoseConfig {
    /// `losses:` the parameters of each unsupervised loss; only the losses named in `model.losses_to_use` are used
    /// (LP ignores the others' values, and so does Kinema: an unused loss's keys are read and range-checked only).
    public struct LossesSection: ConfigSection, Sendable, Equatable {
        public var pcaMultiview = PCAMultiviewKeys()
        public var pcaSingleview = PCASingleviewKeys()
        public var temporal = TemporalKeys()
        // LP losses Kinema does not compute: kept as written, written back unchanged.
        public var temporalHeatmapMse: ConfigValue?
        public var temporalHeatmapKl: ConfigValue?
        public var supervisedReprojectionHeatmapMse: ConfigValue?
        public var supervisedPairwiseProjections: ConfigValue?

        public init() {}
    }

    /// `losses.temporal:` penalises keypoints that jump further than `epsilon` pixels between consecutive frames.
    public struct TemporalKeys: ConfigSection, Sendable, Equatable {
        /// λ: the loss's weight is 1 / (2·e^λ).
        public var logWeight = 11.0
        /// Frame pixels; one value for every keypoint, or one per keypoint in label-column order.
        public var epsilon: [Double] = [20.0]
        /// Differences touching a keypoint whose confidence is below this are not penalised.
        public var probThreshold = 0.05

        public init() {}

        public func check(_ c: ConfigChecks) throws {
            try c.require(CodingKeys.logWeight, logWeight, "must be a finite number") { $0.isFinite }
            try c.require(CodingKeys.epsilon, epsilon, "must be one or more pixel distances, each at least 0") {
                !$0.isEmpty && $0.allSatisfy { $0.isFinite && $0 >= 0 }
            }
            try c.require(CodingKeys.probThreshold, probThreshold, "must be in [0, 1]") { $0 >= 0 && $0 <= 1 }
        }
    }

    /// `losses.pca_singleview:` pose PCA, which penalises poses outside the subspace of the labelled poses.
    public struct PCASingleviewKeys: ConfigSection, Sendable, Equatable {
        public var logWeight = 11.0
        /// A whole number of components, or the fraction of the labels' variance the kept components explain.
        public var componentsToKeep = ComponentsToKeep.fraction(0.99)
        /// Frame pixels; null: the labels' own reconstruction error at `empirical_epsilon_percentile`.
        public var epsilon: Double?
        public var empiricalEpsilonPercentile = 99.0
        public var empiricalEpsilonMultiplier = 1.0
        /// `mean` or `median`: remove each frame's keypoint centroid before the PCA; null: no centring.
        public var centeringMethod: String?

        public init() {}

        public func check(_ c: ConfigChecks) throws {
            try checkPCAKeys(
                c, logWeight: (CodingKeys.logWeight, logWeight), components: (CodingKeys.componentsToKeep, componentsToKeep),
                epsilon: (CodingKeys.epsilon, epsilon), percentile: (CodingKeys.empiricalEpsilonPercentile, empiricalEpsilonPercentile),
                multiplier: (CodingKeys.empiricalEpsilonMultiplier, empiricalEpsilonMultiplier))
            try c.require(CodingKeys.centeringMethod, centeringMethod ?? "mean", "must be mean, median or null") {
                PoseCentering(rawValue: $0) != nil
            }
        }
    }

    /// `losses.pca_multiview:` multiview PCA, which penalises a body part whose views disagree.
    public struct PCAMultiviewKeys: ConfigSection, Sendable, Equatable {
        public var logWeight = 11.0
        /// Always 3 in effect (a 3-D point seen by affine cameras); another value is noted and ignored, as in LP.
        public var componentsToKeep = ComponentsToKeep.count(3)
        public var epsilon: Double?
        public var empiricalEpsilonPercentile = 99.0
        public var empiricalEpsilonMultiplier = 1.0

        public init() {}

        public func check(_ c: ConfigChecks) throws {
            try checkPCAKeys(
                c, logWeight: (CodingKeys.logWeight, logWeight), components: (CodingKeys.componentsToKeep, componentsToKeep),
                epsilon: (CodingKeys.epsilon, epsilon), percentile: (CodingKeys.empiricalEpsilonPercentile, empiricalEpsilonPercentile),
                multiplier: (CodingKeys.empiricalEpsilonMultiplier, empiricalEpsilonMultiplier))
        }
    }

    /// `callbacks:` LP's training callbacks that a config sets (only the annealing has keys).
    public struct CallbacksSection: ConfigSection, Sendable, Equatable {
        public var annealWeight = AnnealWeightKeys()
        public init() {}
    }

    /// `callbacks.anneal_weight:` the factor on every unsupervised loss, raised linearly over epochs (§4.8).
    public struct AnnealWeightKeys: ConfigSection, Sendable, Equatable {
        public var attrName = "total_unsupervised_importance"
        public var initVal = 0.0
        public var increaseFactor = 0.01
        public var finalVal = 1.0
        public var freezeUntilEpoch = 60

        public init() {}

        public func check(_ c: ConfigChecks) throws {
            try c.require(CodingKeys.attrName, attrName, "must be total_unsupervised_importance (the one weight LP anneals)") {
                $0 == "total_unsupervised_importance"
            }
            try c.require(CodingKeys.initVal, initVal, "must be a finite number at least 0") { $0.isFinite && $0 >= 0 }
            try c.require(CodingKeys.increaseFactor, increaseFactor, "must be a finite number at least 0") { $0.isFinite && $0 >= 0 }
            try c.require(CodingKeys.finalVal, finalVal, "must be a finite number at least init_val (\(initVal))") {
                $0.isFinite && $0 >= initVal
            }
            try c.require(CodingKeys.freezeUntilEpoch, freezeUntilEpoch, "must be at least 0") { $0 >= 0 }
        }
    }
}

/// The range checks both PCA losses share.
private func checkPCAKeys<K: CodingKey>(
    _ c: ConfigChecks, logWeight: (K, Double), components: (K, ComponentsToKeep), epsilon: (K, Double?),
    percentile: (K, Double), multiplier: (K, Double)
) throws {
    try c.require(logWeight.0, logWeight.1, "must be a finite number") { $0.isFinite }
    switch components.1 {
    case .count(let n):
        try c.require(components.0, n, "must be at least 1 component (or a fraction of variance in (0, 1])") { $0 >= 1 }
    case .fraction(let f):
        try c.require(components.0, f, "must be a fraction of variance in (0, 1] (or a whole number of components)") { $0 > 0 && $0 <= 1 }
    }
    if let value = epsilon.1 {
        try c.require(epsilon.0, value, "must be a pixel distance at least 0 (or null for the labels' own)") { $0.isFinite && $0 >= 0 }
    }
    try c.require(percentile.0, percentile.1, "must be in [0, 100]") { $0 >= 0 && $0 <= 100 }
    try c.require(multiplier.0, multiplier.1, "must be a finite number at least 0") { $0.isFinite && $0 >= 0 }
}

// MARK: - Value types of the keys

/// `components_to_keep`: LP tells the two meanings apart by the number's type, so `3` keeps three components and
/// `1.0` keeps them all (100% of the variance). Written back in the same form.
public enum ComponentsToKeep: Codable, Sendable, Equatable, CustomStringConvertible {
    case count(Int)
    case fraction(Double)

    public init(from decoder: any Decoder) throws {
        let container = try decoder.singleValueContainer()
        let text = try container.decode(String.self).trimmingCharacters(in: .whitespaces)
        if let n = Int(text) {
            self = .count(n)
        } else if let f = Double(text) {
            self = .fraction(f)
        } else {
            throw DecodingError.dataCorruptedError(
                in: container,
                debugDescription: "must be a whole number of components (3) or a fraction of variance (0.99), found '\(text)'")
        }
    }

    public func encode(to encoder: any Encoder) throws {
        var container = encoder.singleValueContainer()
        switch self {
        case .count(let n): try container.encode(n)
        case .fraction(let f): try container.encode(f)  // "1.0", never "1": it reads back as a fraction
        }
    }

    public var description: String {
        switch self {
        case .count(let n): "\(n)"
        case .fraction(let f): "\(f)"
        }
    }
}

/// How pose PCA centres a frame before projecting it: on the mean or the median of its selected keypoints.
public enum PoseCentering: String, Sendable, Equatable, CaseIterable {
    case mean, median
}
