// Kinema / Lightning Pose training configs: strict reading, LP defaults, and writing back.
import Foundation

// MARK: - Config

/// A pose-estimation config. Keys follow Lightning Pose's `config.yaml` (§2 of the LP reference);
/// absent keys take LP's defaults. Kinema adds `data.skeleton`, `data.flip_pairs`,
/// `model.heatmap_sigma`, `model.unet_filters` and `training.max_minutes`.
public struct PoseConfig: Sendable, Equatable {
    /// The file this config was read from ("" when built in code).
    public var configFile = ""

    // MARK: data
    public var resizeHeight = 256
    public var resizeWidth = 256
    /// Project root; label CSV and image paths are relative to it.
    public var dataDir = "."
    public var videoDir: String?
    public var csvFile = "CollectedData.csv"
    public var keypointNames: [String]?
    public var mirroredColumnMatches: [[Int]] = []
    /// Heatmap resolution is input / 2^d.
    public var downsampleFactor = 2
    /// Pairs of keypoint names joined by a line in labelled videos.
    public var skeleton: [[String]] = []
    /// Left/right keypoint pairs swapped by horizontal flips; derived from `_left`/`_right` names when empty.
    public var flipPairs: [[String]] = []

    // MARK: training
    /// Augmentation preset: `dlc`, `dlc-lr`, `dlc-top-down`, `dlc-mv`, `default` or `none`.
    public var imgaug = "dlc"
    public var imgaugHflip = false
    public var trainBatchSize = 16
    public var valBatchSize = 32
    public var testBatchSize = 32
    public var trainProb = 0.95
    public var valProb = 0.05
    public var trainFrames = 1.0
    public var numWorkers: Int?
    public var unfreezingEpoch = 20
    public var minEpochs = 300
    public var maxEpochs = 300
    public var checkValEveryNEpoch = 5
    public var earlyStopping = false
    public var earlyStopPatience = 3
    public var rngSeedDataPt = 0
    public var rngSeedModelPt = 0
    public var optimizer = "Adam"
    public var learningRate = 1e-3
    public var milestones = [150, 200, 250]
    public var gamma = 0.5
    public var uniformHeatmapsForNanKeypoints = true
    /// Wall-clock training budget in minutes (Kinema); training stops cleanly when it is spent.
    public var maxMinutes: Double?

    // MARK: model
    /// `resnet18/34/50/101` (torchvision layout), LP's `resnet50_*` names, or Kinema's `unet`.
    public var backbone = "resnet50_animal_ap10k"
    /// `heatmap` or `regression`.
    public var modelType = "heatmap"
    public var heatmapLossType = "mse"
    public var modelName = "test"
    public var lossesToUse: [String] = []
    /// Gaussian σ of target heatmaps, in heatmap pixels (LP: 1.25).
    public var heatmapSigma = 1.25
    /// Base channel count of the U-Net backbone.
    public var unetFilters = 16

    // MARK: eval
    public var predictVidsAfterTraining = true
    public var testVideosDirectory: String?
    public var saveVidsAfterTraining = false
    public var colormap = "cool"
    public var confidenceThreshForVid = 0.9

    public init() {}

    /// Absolute path of the label CSV.
    public var csvPath: String { resolve(csvFile) }

    /// Resolves a path relative to `dataDir` (absolute paths are kept).
    public func resolve(_ path: String) -> String {
        path.hasPrefix("/") ? path : (dataDir as NSString).appendingPathComponent(path)
    }
}

// MARK: - Reading

extension PoseConfig {
    /// Reads and validates a Kinema / Lightning Pose YAML config.
    ///
    /// Unknown keys are an error naming the key and the closest valid one. OmegaConf
    /// interpolations (`${data.data_dir}`, `${ENV_VAR:default}`) are resolved. When `data_dir`
    /// does not exist but the config's own folder holds the label CSV (an LP config copied next to
    /// its data), that folder is used.
    public static func load(path: String) throws -> PoseConfig {
        guard let text = try? String(contentsOfFile: path, encoding: .utf8) else {
            throw PoseDataError(file: path, message: "cannot read the config file", hint: "check the path")
        }
        let root = try YAMLValue.parse(text, file: path)
        guard root.entries != nil else {
            throw PoseDataError(file: path, message: "the config is not a YAML mapping",
                                hint: "a config has sections `data:`, `training:`, `model:`")
        }
        try validateKeys(root, schema: .kinema, prefix: "", file: path)
        var config = try PoseConfig(tree: root, file: path)
        config.configFile = path
        let configDir = ((path as NSString).deletingLastPathComponent as NSString).standardizingPath
        if config.dataDir.isEmpty || config.dataDir == "." {
            config.dataDir = configDir.isEmpty ? "." : configDir
        } else if !config.dataDir.hasPrefix("/") {
            config.dataDir = (configDir as NSString).appendingPathComponent(config.dataDir)
        }
        let fm = FileManager.default
        if !fm.fileExists(atPath: config.csvPath),
           fm.fileExists(atPath: (configDir as NSString).appendingPathComponent(config.csvFile)) {
            if let dir = config.videoDir, dir.hasPrefix(config.dataDir) {
                config.videoDir = configDir + dir.dropFirst(config.dataDir.count)
            }
            if let dir = config.testVideosDirectory, dir.hasPrefix(config.dataDir) {
                config.testVideosDirectory = configDir + dir.dropFirst(config.dataDir.count)
            }
            config.dataDir = configDir
        }
        return config
    }

    /// Checks every key against the schema; the first unknown one is an error with a suggestion.
    static func validateKeys(_ node: YAMLValue, schema: ConfigSchema, prefix: String, file: String) throws {
        guard case .section(let children) = schema, let entries = node.entries else { return }
        for (key, value) in entries {
            let path = prefix.isEmpty ? key : prefix + "." + key
            guard let child = children[key] else {
                var hint = "remove it"
                if let close = closestKey(to: key, among: Array(children.keys)) {
                    hint = "did you mean `\(prefix.isEmpty ? close : prefix + "." + close)`?"
                }
                throw PoseDataError(file: file, row: value.line, message: "unknown config key `\(path)`", hint: hint)
            }
            try validateKeys(value, schema: child, prefix: path, file: file)
        }
    }

    /// Builds a config from a validated tree, filling LP defaults.
    init(tree root: YAMLValue, file: String) throws {
        self.init()
        let r = InterpolatingReader(reader: YAMLReader(root: root, file: file))
        if let v = try r.int("data.image_resize_dims.height") { resizeHeight = v }
        if let v = try r.int("data.image_resize_dims.width") { resizeWidth = v }
        if let v = try r.string("data.data_dir") { dataDir = v }
        videoDir = try r.string("data.video_dir")
        if let v = try r.string("data.csv_file") { csvFile = v }
        keypointNames = try r.reader.strings("data.keypoint_names")
        if let matches = try r.reader.stringLists("data.mirrored_column_matches") {
            mirroredColumnMatches = matches.map { $0.compactMap { Int($0) } }
        }
        if let v = try r.int("data.downsample_factor") { downsampleFactor = v }
        if let v = try r.reader.stringLists("data.skeleton") { skeleton = v }
        if let v = try r.reader.stringLists("data.flip_pairs") { flipPairs = v }

        if let node = root.at("training.imgaug"), node.entries != nil {
            throw PoseDataError(file: file, row: node.line,
                                message: "custom augmentation dictionaries are not supported yet",
                                hint: "use one of the presets: dlc, dlc-lr, dlc-top-down, dlc-mv, default, none")
        }
        if let v = try r.string("training.imgaug") { imgaug = v }
        if let v = try r.bool("training.imgaug_hflip") { imgaugHflip = v }
        if let v = try r.int("training.train_batch_size") { trainBatchSize = v }
        if let v = try r.int("training.val_batch_size") { valBatchSize = v }
        if let v = try r.int("training.test_batch_size") { testBatchSize = v }
        if let v = try r.double("training.train_prob") { trainProb = v }
        if let v = try r.double("training.val_prob") { valProb = v }
        if let v = try r.double("training.train_frames") { trainFrames = v }
        numWorkers = try r.int("training.num_workers")
        if let v = try r.int("training.unfreezing_epoch") { unfreezingEpoch = v }
        if let v = try r.int("training.min_epochs") { minEpochs = v }
        if let v = try r.int("training.max_epochs") { maxEpochs = v }
        if let v = try r.int("training.check_val_every_n_epoch") { checkValEveryNEpoch = v }
        if let v = try r.bool("training.early_stopping") { earlyStopping = v }
        if let v = try r.int("training.early_stop_patience") { earlyStopPatience = v }
        if let v = try r.int("training.rng_seed_data_pt") { rngSeedDataPt = v }
        if let v = try r.int("training.rng_seed_model_pt") { rngSeedModelPt = v }
        if let v = try r.string("training.optimizer") { optimizer = v }
        if let v = try r.double("training.optimizer_params.learning_rate") { learningRate = v }
        if let v = try r.reader.ints("training.lr_scheduler_params.multisteplr.milestones") { milestones = v }
        if let v = try r.double("training.lr_scheduler_params.multisteplr.gamma") { gamma = v }
        if let v = try r.bool("training.uniform_heatmaps_for_nan_keypoints") { uniformHeatmapsForNanKeypoints = v }
        maxMinutes = try r.double("training.max_minutes")

        if let v = try r.string("model.backbone") { backbone = v }
        if let v = try r.string("model.model_type") { modelType = v }
        if let v = try r.string("model.heatmap_loss_type") { heatmapLossType = v }
        if let v = try r.string("model.model_name") { modelName = v }
        if let v = try r.reader.strings("model.losses_to_use") { lossesToUse = v }
        if let v = try r.double("model.heatmap_sigma") { heatmapSigma = v }
        if let v = try r.int("model.unet_filters") { unetFilters = v }

        if let v = try r.bool("eval.predict_vids_after_training") { predictVidsAfterTraining = v }
        testVideosDirectory = try r.string("eval.test_videos_directory")
        if let v = try r.bool("eval.save_vids_after_training") { saveVidsAfterTraining = v }
        if let v = try r.string("eval.colormap") { colormap = v }
        if let v = try r.double("eval.confidence_thresh_for_vid") { confidenceThreshForVid = v }
        try validateValues(root: root, file: file)
    }

    /// Range checks that LP also makes, each naming its key.
    func validateValues(root: YAMLValue, file: String) throws {
        func check(_ ok: Bool, _ key: String, _ message: String) throws {
            if !ok {
                throw PoseDataError(file: file, row: root.at(key)?.line, message: "`\(key)` \(message)",
                                    hint: "fix `\(key)` in the config")
            }
        }
        try check(resizeHeight >= 32 && resizeHeight % 32 == 0, "data.image_resize_dims.height", "must be a multiple of 32 (got \(resizeHeight))")
        try check(resizeWidth >= 32 && resizeWidth % 32 == 0, "data.image_resize_dims.width", "must be a multiple of 32 (got \(resizeWidth))")
        try check((1...3).contains(downsampleFactor), "data.downsample_factor", "must be 1, 2 or 3")
        try check(trainProb > 0 && valProb >= 0 && trainProb + valProb <= 1.0 + 1e-9, "training.train_prob", "and val_prob must be fractions summing to at most 1")
        try check(trainBatchSize >= 1, "training.train_batch_size", "must be at least 1")
        try check(maxEpochs >= 1, "training.max_epochs", "must be at least 1")
        try check(checkValEveryNEpoch >= 1, "training.check_val_every_n_epoch", "must be at least 1")
        try check(["adam", "adamw"].contains(optimizer.lowercased()), "training.optimizer", "must be Adam or AdamW")
        try check(["heatmap", "regression"].contains(modelType), "model.model_type", "must be heatmap or regression (got \(modelType))")
        try check(["dlc", "dlc-lr", "dlc-top-down", "dlc-mv", "default", "none"].contains(imgaug), "training.imgaug", "must be a preset: dlc, dlc-lr, dlc-top-down, dlc-mv, default or none")
    }
}

// MARK: - Interpolation

/// Resolves OmegaConf-style `${section.key}` and `${ENV:default}` references while reading.
struct InterpolatingReader {
    let reader: YAMLReader

    func string(_ path: String) throws -> String? {
        guard let raw = try reader.string(path) else { return nil }
        return try resolve(raw, depth: 0)
    }

    private func resolve(_ text: String, depth: Int) throws -> String {
        guard depth < 10, let open = text.range(of: "${"),
              let close = text.range(of: "}", range: open.upperBound..<text.endIndex) else { return text }
        let inner = String(text[open.upperBound..<close.lowerBound])
        var replacement = ""
        if inner.contains(":") || !inner.contains(".") {
            // `${VAR:default}` or `${oc.env:VAR}`: environment with a default.
            var parts = inner.split(separator: ":", maxSplits: 1, omittingEmptySubsequences: false).map(String.init)
            if parts.first == "oc.env" { parts.removeFirst() }
            let name = parts.first ?? ""
            replacement = ProcessInfo.processInfo.environment[name] ?? (parts.count > 1 ? parts[1] : "")
        } else {
            replacement = try string(inner) ?? ""
        }
        let result = text.replacingCharacters(in: open.lowerBound..<close.upperBound, with: replacement)
        return try resolve(result, depth: depth + 1)
    }

    func int(_ path: String) throws -> Int? { try reader.int(path) }
    func double(_ path: String) throws -> Double? { try reader.double(path) }
    func bool(_ path: String) throws -> Bool? { try reader.bool(path) }
}
