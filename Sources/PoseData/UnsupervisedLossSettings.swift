// Which unsupervised losses a training run uses and with what parameters: read from a config's
// `model.losses_to_use`, `losses.*`, `callbacks.anneal_weight` and `data.*` (or `--losses`), and checked against the
// project's keypoints. Pure values; PoseModels fits the PCAs and computes the losses.
import ConfigDecoding
import Foundation

/// One of Lightning Pose's unsupervised losses on predicted keypoints (§4.3–4.5 of the LP reference).
public enum UnsupervisedLossKind: String, Sendable, Equatable, CaseIterable {
    case temporal
    case pcaSingleview = "pca_singleview"
    case pcaMultiview = "pca_multiview"
}

/// What a PCA observation is: which keypoint coordinates form one row.
public enum PCAObservation: Sendable, Equatable {
    /// A frame's selected keypoints `[x₀, y₀, x₁, y₁, …]` (pose PCA), optionally centred on the frame's centroid.
    case pose(keypoints: [Int], centering: PoseCentering?)
    /// One body part in every view, `[x_view0, y_view0, x_view1, y_view1, …]` (multiview PCA): `views[v][j]` is the
    /// keypoint (label column pair) of body part `j` in view `v`.
    case bodyPartInViews([[Int]])
}

/// The unsupervised losses of a training run, checked against the project: the integration builds the losses from
/// this and the training labels (PoseModels' `UnsupervisedLosses`).
public struct UnsupervisedLossSettings: Sendable, Equatable {
    /// `temporal`: frame-to-frame jumps beyond ε.
    public struct Temporal: Sendable, Equatable {
        public var logWeight: Double
        /// Frame pixels, one per keypoint (a single configured value is repeated).
        public var epsilon: [Double]
        public var probThreshold: Double
        public var weight: Double { UnsupervisedLossSettings.weight(logWeight: logWeight) }

        public init(logWeight: Double, epsilon: [Double], probThreshold: Double) {
            (self.logWeight, self.epsilon, self.probThreshold) = (logWeight, epsilon, probThreshold)
        }
    }

    /// `pca_singleview` or `pca_multiview`: distance from the labels' low-dimensional subspace beyond ε.
    public struct PCA: Sendable, Equatable {
        /// The config key the loss reads (`losses.pca_singleview`), for messages.
        public var key: String
        public var observation: PCAObservation
        public var logWeight: Double
        public var componentsToKeep: ComponentsToKeep
        /// A fixed ε in frame pixels; nil: the labels' reconstruction error at `epsilonPercentile` × `epsilonMultiplier`.
        public var epsilon: Double?
        public var epsilonPercentile: Double
        public var epsilonMultiplier: Double
        public var weight: Double { UnsupervisedLossSettings.weight(logWeight: logWeight) }

        public init(
            key: String, observation: PCAObservation, logWeight: Double, componentsToKeep: ComponentsToKeep, epsilon: Double?,
            epsilonPercentile: Double = 99, epsilonMultiplier: Double = 1
        ) {
            (self.key, self.observation, self.logWeight, self.componentsToKeep) = (key, observation, logWeight, componentsToKeep)
            (self.epsilon, self.epsilonPercentile, self.epsilonMultiplier) = (epsilon, epsilonPercentile, epsilonMultiplier)
        }
    }

    /// Present exactly when listed in `model.losses_to_use`.
    public var temporal: Temporal?
    public var pcaSingleview: PCA?
    public var pcaMultiview: PCA?
    /// The factor on every unsupervised loss by epoch (`callbacks.anneal_weight`).
    public var anneal: AnnealSchedule
    /// Things the user should know that are not errors (e.g. a `components_to_keep` that multiview PCA ignores).
    public var notes: [String] = []
    /// Camera views side by side in a sample (separate cameras, `data.view_names`), else 1. `pcaSingleview` is then
    /// one view's PCA (its keypoints are indices within a view), fitted and applied to each view on its own.
    public var views = 1

    public init(temporal: Temporal? = nil, pcaSingleview: PCA? = nil, pcaMultiview: PCA? = nil, anneal: AnnealSchedule = AnnealSchedule()) {
        (self.temporal, self.pcaSingleview, self.pcaMultiview, self.anneal) = (temporal, pcaSingleview, pcaMultiview, anneal)
    }

    /// The losses in use, in LP's order.
    public var kinds: [UnsupervisedLossKind] {
        [temporal.map { _ in .temporal }, pcaSingleview.map { _ in .pcaSingleview }, pcaMultiview.map { _ in .pcaMultiview }]
            .compactMap { $0 }
    }

    public var isEmpty: Bool { kinds.isEmpty }

    /// LP's weight of a loss with log-weight λ: w = 1 / (2·e^λ), applied once (LP before #376 applied it twice).
    public static func weight(logWeight: Double) -> Double { 1 / (2 * Foundation.exp(logWeight)) }
}

// MARK: - Annealing

/// LP's `AnnealWeight` callback (§4.8): the factor multiplying every unsupervised loss during an epoch. It is
/// `init_val` until epoch `freeze_until_epoch` (0-based) inclusive, then rises by `increase_factor` per epoch to
/// `final_val`.
public struct AnnealSchedule: Sendable, Equatable {
    public var initial: Double
    public var increasePerEpoch: Double
    public var final: Double
    public var freezeUntilEpoch: Int

    public init(initial: Double = 0, increasePerEpoch: Double = 0.01, final: Double = 1, freezeUntilEpoch: Int = 60) {
        (self.initial, self.increasePerEpoch, self.final, self.freezeUntilEpoch) = (initial, increasePerEpoch, final, freezeUntilEpoch)
    }

    public init(_ keys: PoseConfig.AnnealWeightKeys) {
        self.init(
            initial: keys.initVal, increasePerEpoch: keys.increaseFactor, final: keys.finalVal, freezeUntilEpoch: keys.freezeUntilEpoch)
    }

    /// The factor during the 0-based `epoch` (LP sets it at each epoch's start).
    public func factor(epoch: Int) -> Double {
        guard epoch > freezeUntilEpoch else { return initial }
        return Swift.min(initial + Double(epoch - freezeUntilEpoch) * increasePerEpoch, final)
    }
}

// MARK: - From a config

extension UnsupervisedLossSettings {
    /// Every loss name LP's `model.losses_to_use` accepts (the heatmap ones are LP's; Kinema does not compute them).
    public static let lossNames = UnsupervisedLossKind.allCases.map(\.rawValue) + ["temporal_heatmap_mse", "temporal_heatmap_kl"]

    /// What is wrong with a list of loss names (unknown or repeated), in words; nil when nothing is.
    public static func problem(inLossNames names: [String], known: [String] = lossNames) -> String? {
        var seen: Set<String> = []
        for name in names {
            guard known.contains(name) else {
                let close = closestKey(to: name, among: known).map { "; did you mean '\($0)'?" } ?? ""
                return "names '\(name)', which is not a loss\(close) (the losses are \(known.joined(separator: ", ")))"
            }
            guard seen.insert(name).inserted else { return "names '\(name)' twice" }
        }
        return nil
    }

    /// The losses `config` asks for, checked against a project with `keypointCount` keypoints (all label columns
    /// of one sample: every view's for separate cameras). Each problem is one line naming the key.
    public init(config: PoseConfig, keypointCount: Int) throws(PoseDataError) {
        let file = config.configFile.isEmpty ? "config" : config.configFile
        func fail(_ key: String, _ message: String, hint: String = "") -> PoseDataError {
            PoseDataError(file: file, message: "\(key) \(message)", hint: hint)
        }
        if let problem = Self.problem(inLossNames: config.lossesToUse) { throw fail("model.losses_to_use", problem) }
        if let heatmap = config.lossesToUse.first(where: { UnsupervisedLossKind(rawValue: $0) == nil }) {
            throw fail(
                "model.losses_to_use", "names '\(heatmap)', which Kinema does not compute (it compares heatmaps)", hint: "use temporal")
        }
        self.init(anneal: AnnealSchedule(config.callbacks.annealWeight))
        let k = keypointCount
        let views = config.viewNames?.count ?? 1
        self.views = max(1, config.cameraViews.count)  // separate cameras; mirrored views share one pose
        let listed = Set(config.lossesToUse.compactMap(UnsupervisedLossKind.init(rawValue:)))

        if listed.contains(.temporal) {
            let keys = config.losses.temporal
            var epsilon = keys.epsilon
            if epsilon.count == 1 {
                epsilon = Array(repeating: epsilon[0], count: k)
            } else if views > 1, epsilon.count * views == k {
                epsilon = Array((0..<views).map { _ in epsilon }.joined())  // one list per view's keypoints
            }
            guard epsilon.count == k else {
                throw fail(
                    "losses.temporal.epsilon", "has \(keys.epsilon.count) values for \(k) keypoints",
                    hint: "give one value, or one per keypoint")
            }
            temporal = Temporal(logWeight: keys.logWeight, epsilon: epsilon, probThreshold: keys.probThreshold)
        }

        if listed.contains(.pcaSingleview) {
            let keys = config.losses.pcaSingleview, key = "losses.pca_singleview"
            // Separate cameras: each view's pose on its own (each camera sees the body from its own side).
            let perView = k / self.views
            let columns = config.columnsForSingleviewPca ?? Array(0..<perView)
            try Self.checkKeypoints(columns, count: perView) { fail("data.columns_for_singleview_pca", $0) }
            let centering = keys.centeringMethod.flatMap(PoseCentering.init(rawValue:))
            if centering != nil, columns.count < 2 {
                throw fail("\(key).centering_method", "needs at least 2 keypoints in data.columns_for_singleview_pca")
            }
            if case .count(let n) = keys.componentsToKeep, n > 2 * columns.count {
                throw fail(
                    "\(key).components_to_keep", "is \(n), more than the \(2 * columns.count) coordinates of its \(columns.count) keypoints"
                )
            }
            pcaSingleview = PCA(
                key: key, observation: .pose(keypoints: columns, centering: centering), logWeight: keys.logWeight,
                componentsToKeep: keys.componentsToKeep, epsilon: keys.epsilon, epsilonPercentile: keys.empiricalEpsilonPercentile,
                epsilonMultiplier: keys.empiricalEpsilonMultiplier)
        }

        if listed.contains(.pcaMultiview) {
            let keys = config.losses.pcaMultiview, key = "losses.pca_multiview"
            let groups = Self.viewColumns(config.mirroredColumnMatches, views: views, keypointCount: k)
            let matches = "data.mirrored_column_matches"
            guard groups.count >= 2 else {
                throw fail(
                    key, "needs \(matches): one list of keypoint indices per view, matching body parts at the same positions",
                    hint: "e.g. [[0, 1, 2], [3, 4, 5]] for 3 body parts seen in 2 mirrored views")
            }
            guard groups.allSatisfy({ $0.count == groups[0].count }), !groups[0].isEmpty else {
                throw fail(matches, "must list the same number of keypoints for every view, found \(groups.map(\.count))")
            }
            try Self.checkKeypoints(Array(groups.joined()), count: k) { fail(matches, $0) }
            if keys.componentsToKeep != .count(3) {
                notes.append(
                    "\(key).components_to_keep \(keys.componentsToKeep) is ignored: multiview PCA keeps 3 components (a 3-D point seen by each camera)"
                )
            }
            pcaMultiview = PCA(
                key: key, observation: .bodyPartInViews(groups), logWeight: keys.logWeight, componentsToKeep: .count(3),
                epsilon: keys.epsilon, epsilonPercentile: keys.empiricalEpsilonPercentile,
                epsilonMultiplier: keys.empiricalEpsilonMultiplier)
        }
    }

    /// Keypoint indices must be distinct and inside the project's.
    private static func checkKeypoints(_ indices: [Int], count: Int, _ fail: (String) -> PoseDataError) throws(PoseDataError) {
        guard !indices.isEmpty else { throw fail("lists no keypoints") }
        if let bad = indices.first(where: { !(0..<count).contains($0) }) {
            throw fail("names keypoint \(bad), but the project's keypoints are 0…\(count - 1)")
        }
        if let twice = Dictionary(grouping: indices, by: { $0 }).first(where: { $0.value.count > 1 })?.key {
            throw fail("names keypoint \(twice) twice")
        }
    }

    /// One list of keypoint indices per view from `mirrored_column_matches`. A one-image (mirrored) project gives one
    /// list per view. With separate cameras (`view_names`), keypoint `j` of view `v` is column pair `v·K + j`
    /// (K per view), and LP's form is one list of per-view indices, repeated for every view; a flat list
    /// (`[0, 1, 2]`, which reads as one-element lists) means the same.
    /// Separate cameras without `mirrored_column_matches`: every keypoint (the views label the same ones).
    public static func viewColumns(_ matches: [[Int]], views: Int, keypointCount: Int) -> [[Int]] {
        guard views > 1 else { return matches }
        let perView = keypointCount / views
        if matches.isEmpty { return (0..<views).map { v in (0..<perView).map { v * perView + $0 } } }
        let flat = matches.count != views && matches.allSatisfy { $0.count == 1 }
        guard matches.count == 1 || flat else { return matches }
        let indices = flat ? matches.map { $0[0] } : matches[0]
        return (0..<views).map { v in indices.map { v * perView + $0 } }
    }
}

// MARK: - Command line

extension UnsupervisedLossSettings {
    /// The losses of `--losses temporal,pca_singleview` (`none` for none), as `model.losses_to_use` names; a typo is
    /// one line naming the option and the closest loss.
    public static func parseLossList(_ text: String) throws(PoseDataError) -> [String] {
        let names = text.split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces).lowercased() }.filter { !$0.isEmpty }
            .map { $0.replacingOccurrences(of: "-", with: "_") }
        if names == ["none"] { return [] }
        let known = UnsupervisedLossKind.allCases.map(\.rawValue)
        guard !names.isEmpty else {
            throw PoseDataError(file: "--losses", message: "names no loss", hint: "give \(known.joined(separator: ", ")) or none")
        }
        if let problem = problem(inLossNames: names, known: known) {
            throw PoseDataError(file: "--losses", message: problem, hint: "separate them with commas, or give none")
        }
        return names
    }
}
