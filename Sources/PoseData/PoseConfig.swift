// Kinema / Lightning Pose training configs: every key declared once (name, type, default, range), read strictly.
import ConfigDecoding
import Foundation

// MARK: - Config

/// A pose-estimation config. Keys follow Lightning Pose's `config.yaml` (§2 of the LP reference); absent keys take
/// LP's defaults. Each section is a `ConfigSection`: a property `trainBatchSize` is the key `train_batch_size`, its
/// initial value is the default, and `check` states its range. Kinema adds `data.skeleton`, `data.flip_pairs`,
/// `data.data_dir_relative`, `data.deeplabcut_config`, `model.heatmap_sigma`, `model.unet_filters`,
/// `training.max_minutes`, `training.min_val_frames` and the top-level `iteration` (DeepLabCut's key).
///
/// The flat names used across Kinema (`config.trainProb`, `config.resizeHeight`) read and write the sections.
@dynamicMemberLookup
public struct PoseConfig: ConfigSection, Sendable, Equatable {
    /// The file this config was read from ("" when built in code); not a key.
    public var configFile = ""
    public var data = DataSection()
    public var training = TrainingSection()
    public var model = ModelSection()
    public var eval = EvalSection()
    /// The unsupervised losses' parameters and their annealing (PoseConfig+Losses).
    public var losses = LossesSection()
    public var callbacks = CallbacksSection()
    /// The project's refinement round (DeepLabCut's `iteration`; Kinema): `kinema merge` advances it and `kinema train`
    /// puts its model under it. Absent: 0.
    public var iteration: Int?
    // LP sections Kinema does not use: kept as written, written back unchanged.
    public var dali: ConfigValue?
    public var detector: ConfigValue?
    public var hydra: ConfigValue?

    enum CodingKeys: String, CodingKey { case data, training, model, eval, losses, iteration, dali, callbacks, detector, hydra }

    public init() {}

    /// Absolute path of the label CSV (the first view's in a multi-camera project).
    public var csvPath: String { resolve(data.csvFile.first) }

    /// Absolute paths of the label CSVs: one, or one per view of a multi-camera project (`data.view_names`).
    public var csvPaths: [String] { data.csvFile.paths.map(resolve) }

    /// The camera views of a project with one video per camera; empty for a single-view project, mirrored ones
    /// included (their views share one image). See `DataSection.cameraViews`.
    public var cameraViews: [String] { data.cameraViews }

    /// Whether this is LP's context model (`model.model_type: heatmap_mhcrnn`).
    public var isContextModel: Bool { model.isContextModel }

    /// Resolves a path relative to `dataDir` (absolute paths are kept).
    public func resolve(_ path: String) -> String {
        path.hasPrefix("/") ? path : (data.dataDir as NSString).appendingPathComponent(path)
    }
}

// MARK: - Sections

extension PoseConfig {
    /// `data:` where the labels and videos are, and what the keypoints are.
    public struct DataSection: ConfigSection, Sendable, Equatable {
        /// Network input size; multiples of 32.
        public var imageResizeDims = ImageDims()
        public var imageOrigDims: ImageDims?
        /// Project root; label CSV and image paths are relative to it. Relative: to the config's folder.
        public var dataDir = "."
        /// `data_dir` relative to the config's folder, tried when `data_dir` no longer exists (Kinema writes it
        /// into a model folder's config.yaml so that a moved project still opens).
        public var dataDirRelative: String?
        /// Relative: to `data_dir` (as in LP).
        public var videoDir: String?
        /// The DeepLabCut `config.yaml` a model was trained from (Kinema writes it into the model folder, so that
        /// resuming and evaluating read every labeled-data folder of the project). Relative: to `data_dir`.
        public var deeplabcutConfig: String?
        /// One label CSV, or one per view of a multi-camera project (in `view_names` order; row n of every file is
        /// the same instant).
        public var csvFile: LabelFiles = "CollectedData.csv"
        public var numKeypoints: Int?
        public var keypointNames: [String]?
        public var mirroredColumnMatches: [[Int]] = []
        public var columnsForSingleviewPca: [Int]?
        /// Heatmap resolution is input / 2^d.
        public var downsampleFactor = 2
        public var viewNames: [String]?
        public var bboxFile: String?
        public var cameraParamsFile: String?
        /// Pairs of keypoint names joined by a line in labelled videos (Kinema).
        public var skeleton: [[String]] = []
        /// Left/right keypoint pairs swapped by horizontal flips; derived from `_left`/`_right` names when empty (Kinema).
        public var flipPairs: [[String]] = []

        public init() {}

        public func check(_ c: ConfigChecks) throws {
            let dims = c.section(CodingKeys.imageResizeDims)
            for (key, value) in [("height", imageResizeDims.height), ("width", imageResizeDims.width)] {
                try dims.require(ConfigKey(key), value, "must be a positive multiple of 32") { $0 >= 32 && $0 % 32 == 0 }
            }
            try c.require(CodingKeys.downsampleFactor, downsampleFactor, "must be 1, 2 or 3") { (1...3).contains($0) }
            try checkViews(c)
        }
    }

    public struct ImageDims: ConfigSection, Sendable, Equatable {
        public var height = 256
        public var width = 256
        public init() {}
    }

    /// `training:` split, batches, epochs, optimiser.
    public struct TrainingSection: ConfigSection, Sendable, Equatable {
        /// Augmentation preset: `dlc`, `dlc-lr`, `dlc-top-down`, `dlc-mv`, `default` or `none`.
        public var imgaug = "dlc"
        public var imgaugHflip = false
        public var imgaug_3d: Bool?
        public var trainBatchSize = 16
        public var valBatchSize = 32
        public var testBatchSize = 32
        public var trainProb = 0.95
        public var valProb = 0.05
        public var trainFrames = 1.0
        /// At least this many validation frames (Kinema; LP's rule gives 1 to a small project). Nil: LP's rule.
        public var minValFrames: Int?
        public var numGpus: Int?
        public var numWorkers: Int?
        public var unfreezingEpoch = 20
        public var unfreezingStep: Int?
        public var minEpochs = 300
        public var maxEpochs = 300
        public var minSteps: Int?
        public var maxSteps: Int?
        public var logEveryNSteps: Int?
        public var checkValEveryNEpoch = 5
        public var ckptEveryNEpochs: Int?
        public var earlyStopping = false
        public var earlyStopPatience = 3
        public var rngSeedDataPt = 0
        public var rngSeedModelPt = 0
        /// `Adam` or `AdamW`.
        public var optimizer = "Adam"
        public var optimizerParams = OptimizerParams()
        public var lrScheduler = "multisteplr"
        public var lrSchedulerParams = SchedulerParams()
        public var uniformHeatmapsForNanKeypoints = true
        public var accumulateGradBatches: Int?
        public var limitTrainBatches: ConfigValue?
        public var valCheckInterval: ConfigValue?
        public var profiler: ConfigValue?
        public var patchMask: ConfigValue?
        /// Wall-clock training budget in minutes (Kinema); training stops cleanly when it is spent.
        public var maxMinutes: Double?

        public init() {}

        static let presets = ["dlc", "dlc-lr", "dlc-top-down", "dlc-mv", "default", "none"]

        public func check(_ c: ConfigChecks) throws {
            try c.require(CodingKeys.imgaug, imgaug, "must be a preset: dlc, dlc-lr, dlc-top-down, dlc-mv, default or none") {
                Self.presets.contains($0)
            }
            try c.require(CodingKeys.trainBatchSize, trainBatchSize, "must be at least 1") { $0 >= 1 }
            try c.require(CodingKeys.trainProb, trainProb, "must be in (0, 1]") { $0 > 0 && $0 <= 1 }
            try c.require(CodingKeys.valProb, valProb, "must be at least 0 and at most 1 − train_prob (\(trainProb))") {
                $0 >= 0 && trainProb + $0 <= 1 + 1e-9
            }
            try c.require(CodingKeys.maxEpochs, maxEpochs, "must be at least 1") { $0 >= 1 }
            try c.require(CodingKeys.checkValEveryNEpoch, checkValEveryNEpoch, "must be at least 1") { $0 >= 1 }
            try c.require(CodingKeys.optimizer, optimizer, "must be Adam or AdamW") { ["adam", "adamw"].contains($0.lowercased()) }
        }
    }

    public struct OptimizerParams: ConfigSection, Sendable, Equatable {
        public var learningRate = 1e-3
        public init() {}
    }

    public struct SchedulerParams: ConfigSection, Sendable, Equatable {
        public var multisteplr = MultiStepLR()
        public init() {}
    }

    public struct MultiStepLR: ConfigSection, Sendable, Equatable {
        public var milestones = [150, 200, 250]
        public var gamma = 0.5
        public var milestoneSteps: [Int]?
        public init() {}
    }

    /// `model:` backbone, head and targets.
    public struct ModelSection: ConfigSection, Sendable, Equatable {
        public var lossesToUse: [String] = []
        /// `resnet18/34/50/101` (torchvision layout), LP's `resnet50_*` names, or Kinema's `unet`.
        public var backbone = "resnet50_animal_ap10k"
        /// `heatmap`, `heatmap_mhcrnn` (LP's temporal context network: frames t−2…t+2) or `regression`.
        public var modelType = "heatmap"
        public var heatmapLossType = "mse"
        public var modelName = "test"
        public var checkpoint: String?
        public var backbonePretrained: Bool?
        public var backboneCheckpoint: String?
        public var head: String?
        /// Gaussian σ of target heatmaps, in heatmap pixels (LP: 1.25; Kinema).
        public var heatmapSigma = 1.25
        /// Base channel count of the U-Net backbone (Kinema).
        public var unetFilters = 16

        public init() {}

        /// What `model_type` may name.
        public static let modelTypes = ["heatmap", "heatmap_mhcrnn", "regression"]
        public static let modelTypeNames = "heatmap, heatmap_mhcrnn or regression"

        /// Whether this is LP's context model, which reads frames t−2…t+2 for every prediction.
        public var isContextModel: Bool { modelType == "heatmap_mhcrnn" }

        /// What `backbone` may name (the pretrained LP variants `resnet50_*` are ResNet-50s).
        public static let backboneNames = "unet, resnet18, resnet34, resnet50, resnet101, resnet50_animal_ap10k"

        /// Whether Kinema builds `name`: `unet`, or `resnet18|34|50|101` with an optional `_suffix`.
        public static func isKnownBackbone(_ name: String) -> Bool {
            let lower = name.lowercased()
            guard lower != "unet" else { return true }
            guard lower.hasPrefix("resnet") else { return false }
            let rest = lower.dropFirst(6), digits = rest.prefix { $0.isNumber }
            return [18, 34, 50, 101].contains(Int(digits) ?? 0)
                && (rest.count == digits.count || rest.dropFirst(digits.count).hasPrefix("_"))
        }

        public func check(_ c: ConfigChecks) throws {
            if let problem = UnsupervisedLossSettings.problem(inLossNames: lossesToUse) {
                throw c.error(CodingKeys.lossesToUse, problem)
            }
            try c.require(CodingKeys.modelType, modelType, "must be \(Self.modelTypeNames)") { Self.modelTypes.contains($0) }
        }
    }

    /// `eval:` what happens after training.
    public struct EvalSection: ConfigSection, Sendable, Equatable {
        public var predictVidsAfterTraining = true
        public var testVideosDirectory: String?
        public var saveVidsAfterTraining = false
        public var colormap = "cool"
        public var confidenceThreshForVid = 0.9
        public var hydraPaths: [String]?
        public init() {}
    }
}

// MARK: - Flat names

extension PoseConfig {
    public subscript<T>(dynamicMember key: WritableKeyPath<DataSection, T>) -> T {
        get { data[keyPath: key] }
        set { data[keyPath: key] = newValue }
    }

    public subscript<T>(dynamicMember key: WritableKeyPath<TrainingSection, T>) -> T {
        get { training[keyPath: key] }
        set { training[keyPath: key] = newValue }
    }

    public subscript<T>(dynamicMember key: WritableKeyPath<ModelSection, T>) -> T {
        get { model[keyPath: key] }
        set { model[keyPath: key] = newValue }
    }

    public subscript<T>(dynamicMember key: WritableKeyPath<EvalSection, T>) -> T {
        get { eval[keyPath: key] }
        set { eval[keyPath: key] = newValue }
    }

    // Keys nested deeper than their section.
    public var resizeHeight: Int {
        get { data.imageResizeDims.height }
        set { data.imageResizeDims.height = newValue }
    }

    public var resizeWidth: Int {
        get { data.imageResizeDims.width }
        set { data.imageResizeDims.width = newValue }
    }

    public var learningRate: Double {
        get { training.optimizerParams.learningRate }
        set { training.optimizerParams.learningRate = newValue }
    }

    public var milestones: [Int] {
        get { training.lrSchedulerParams.multisteplr.milestones }
        set { training.lrSchedulerParams.multisteplr.milestones = newValue }
    }

    public var gamma: Double {
        get { training.lrSchedulerParams.multisteplr.gamma }
        set { training.lrSchedulerParams.multisteplr.gamma = newValue }
    }
}

// MARK: - Reading

extension PoseConfig {
    /// Reads and validates a Kinema / Lightning Pose YAML config.
    ///
    /// Unknown keys are an error naming the key and the closest valid one. OmegaConf
    /// interpolations (`${data.data_dir}`, `${ENV_VAR:default}`) are resolved. Every path is then made
    /// absolute against the config's folder (`resolvePaths`), whatever the working directory.
    public static func load(path: String) throws -> PoseConfig {
        try load(root: try PoseDataError.readYAML(path: path), path: path)
    }

    /// Reads a config already parsed (PoseProject parses once to tell LP from DLC configs).
    static func load(root: ConfigNode, path: String) throws -> PoseConfig {
        guard let entries = root.entries else {
            throw PoseDataError(
                file: path, message: "the config is not a YAML mapping",
                hint: "a config has sections `data:`, `training:`, `model:`")
        }
        // An empty file would otherwise train LP's defaults (a ResNet-50 for 300 epochs) on whatever lies beside it.
        guard !entries.isEmpty else {
            throw PoseDataError(file: path, message: "the config is empty", hint: "a config has sections `data:`, `training:`, `model:`")
        }
        if let entry = root["training"]?.entry("imgaug"), entry.value.entries != nil {
            throw PoseDataError(
                file: path, row: entry.line,
                message: "custom augmentation dictionaries are not supported yet",
                hint: "use one of the presets: dlc, dlc-lr, dlc-top-down, dlc-mv, default, none")
        }
        var config = try PoseDataError.converting {
            try ConfigDecoder(file: path, interpolates: true).decode(PoseConfig.self, from: root)
        }
        config.resolvePaths(configFile: path)
        return config
    }
}

// MARK: - Writing

extension PoseConfig {
    /// The config as Kinema/LP YAML (what `kinema train` keeps in the model folder); `PoseConfig.load` reads it
    /// back to an equal value.
    public func yamlText() -> String {
        var written = self
        if let names = data.keypointNames { written.data.numKeypoints = names.count }  // LP needs it beside the names
        do {
            return "# Written by Kinema. Keys as in Lightning Pose's config.\n" + (try ConfigEncoder.yaml(written))
        } catch {
            preconditionFailure("a pose config could not be written as YAML: \(error)")  // only text, numbers, lists
        }
    }
}
