// A pose project as the lab already has it: a Kinema/LP config, or a DeepLabCut project folder.
import ConfigDecoding
import Foundation

// MARK: - Project

/// Where the labels of a project live and how its outputs are named.
public struct PoseProject: Sendable {
    public enum Kind: String, Sendable { case lightningPose, deepLabCut }

    /// The training settings (for DLC projects: LP defaults plus what config.yaml says).
    public var config: PoseConfig
    public var kind: Kind
    /// Label CSVs, absolute paths. Their first column is relative to `config.dataDir`. A multi-camera project
    /// (`config.cameraViews`) has one per view, in view order.
    public var labelFiles: [String]
    /// DeepLabCut's project name fields, used for output names (`DLC_<Net>_<Task><date>shuffle1_…`).
    public var dlcTask = ""
    public var dlcDate = ""
    public var dlcScorer = ""
    /// DLC `pcutoff`: likelihood threshold for videos and the cut-off error table.
    public var pcutoff = 0.6

    /// Reads either kind of project from its config file: a DeepLabCut `config.yaml` is recognised
    /// by its `Task` and `bodyparts` keys, anything else is read as a Kinema / LP config.
    /// Paths are resolved against the config's folder (`PoseConfig.resolvePaths`), whatever the working directory.
    public static func load(configPath: String) throws -> PoseProject {
        let root = try PoseDataError.readYAML(path: configPath)
        if root["Task"] != nil, root["bodyparts"] != nil {
            return try loadDeepLabCut(root: root, path: configPath)
        }
        let config = try PoseConfig.load(root: root, path: configPath)
        if let dlcConfig = config.deeplabcutConfig {
            // A model folder trained on a DeepLabCut project: its labels (every labeled-data folder), names and
            // pcutoff come from the project, the training settings from this config.
            var project = try loadDeepLabCut(root: try PoseDataError.readYAML(path: dlcConfig), path: dlcConfig)
            project.config = config
            return project
        }
        return PoseProject(
            config: config, kind: .lightningPose, labelFiles: config.cameraViews.isEmpty ? [config.csvPath] : config.csvPaths,
            pcutoff: config.confidenceThreshForVid)
    }

    // MARK: - DeepLabCut

    /// A DLC 3.0 `config.yaml`: the keys Kinema uses, typed, and the others DLC knows (DLC rejects unknown keys, so
    /// we do too).
    struct DeepLabCutConfig: ConfigSection {
        var Task = "", scorer = "", date = ""
        var multianimalproject = false
        var bodyparts: [String] = []
        var skeleton: [[String]] = []
        var TrainingFraction: [Double]?
        var pcutoff = 0.6
        var iteration: Int?
        var config_version, identity, with_identity, project_path, pose_config_path, engine, video_sets, individuals,
            uniquebodyparts, unique_bodyparts, multianimalbodyparts, start, stop, numframes2pick, skeleton_color, dotsize,
            alphavalue, colormap, default_net_type, default_augmenter, default_track_method, snapshotindex,
            detector_snapshotindex, batch_size, detector_batch_size, cropping, x1, x2, y1, y2, corner2move2, move2corner,
            SuperAnimalConversionTables, resnet, croppedtraining: ConfigValue?

        enum CodingKeys: String, VerbatimCodingKey {
            case Task, scorer, date, multianimalproject, bodyparts, skeleton, TrainingFraction, pcutoff
            case config_version, identity, with_identity, project_path, pose_config_path, engine, video_sets, individuals,
                uniquebodyparts, unique_bodyparts, multianimalbodyparts, start, stop, numframes2pick, skeleton_color, dotsize,
                alphavalue, colormap, iteration, default_net_type, default_augmenter, default_track_method, snapshotindex,
                detector_snapshotindex, batch_size, detector_batch_size, cropping, x1, x2, y1, y2, corner2move2, move2corner,
                SuperAnimalConversionTables, resnet, croppedtraining
        }
    }

    static func loadDeepLabCut(root: ConfigNode, path: String) throws -> PoseProject {
        let dlc = try PoseDataError.converting { try ConfigDecoder(file: path).decode(DeepLabCutConfig.self, from: root) }
        if dlc.multianimalproject {
            throw PoseDataError(
                file: path, row: root.entry("multianimalproject")?.line,
                message: "multi-animal DeepLabCut projects are not supported",
                hint: "train a single-animal project")
        }
        guard !dlc.bodyparts.isEmpty else {
            throw PoseDataError(
                file: path, row: root.entry("bodyparts")?.line, message: "`bodyparts` is empty",
                hint: "list the keypoint names under `bodyparts:`")
        }
        let scorer = dlc.scorer
        var config = PoseConfig()
        config.videoDir = "videos"
        config.testVideosDirectory = "videos"
        config.resolvePaths(configFile: path)  // the project is the config's folder
        config.deeplabcutConfig = config.configFile
        config.keypointNames = dlc.bodyparts
        config.skeleton = dlc.skeleton
        config.modelName = "dlc"
        config.iteration = dlc.iteration
        // DeepLabCut holds out 1 − TrainingFraction for testing and has no validation set; Kinema validates on
        // that share, and on at least `minimumValidationFrames` (LP's rule alone would give a small project one).
        let fraction = dlc.TrainingFraction?.first ?? 0.95
        config.trainProb = fraction
        config.valProb = 1 - fraction
        config.minValFrames = DataSplit.minimumValidationFrames
        // Labels: labeled-data/<video>/CollectedData_<scorer>.h5, the copy DeepLabCut itself trains from (the .csv
        // beside it is an export), else the .csv alone (PoseTable reads both);
        // folders ending in _labeled are check_labels output.
        let labeled = (config.dataDir as NSString).appendingPathComponent("labeled-data")
        let folders = ((try? FileManager.default.contentsOfDirectory(atPath: labeled)) ?? []).sorted()
        var files: [String] = []
        for folder in folders where !folder.hasSuffix("_labeled") {
            let base = (labeled as NSString).appendingPathComponent(folder)
            let csv = (base as NSString).appendingPathComponent("CollectedData_\(scorer).csv")
            let h5 = (base as NSString).appendingPathComponent("CollectedData_\(scorer).h5")
            if FileManager.default.fileExists(atPath: h5) {
                files.append(h5)
            } else if FileManager.default.fileExists(atPath: csv) {
                files.append(csv)
            }
        }
        guard !files.isEmpty else {
            throw PoseDataError(
                file: labeled, message: "no CollectedData_\(scorer).csv or .h5 in any labeled-data folder",
                hint: "label frames first (napari-deeplabcut), or check the `scorer` key")
        }
        config.csvFile = LabelFiles([PoseConfig.relative(files[0], from: config.dataDir)])  // relative: moves with the project
        return PoseProject(
            config: config, kind: .deepLabCut, labelFiles: files, dlcTask: dlc.Task, dlcDate: dlc.date,
            dlcScorer: scorer, pcutoff: dlc.pcutoff)
    }
}

// MARK: - Defaults chosen from what is present

extension PoseProject {
    /// Picks the backbone of a DeepLabCut project, whose config names none: with pretrained weights the ResNet-50
    /// DeepLabCut uses; without them Kinema's U-Net, because a ResNet trained from scratch on a few hundred
    /// frames learns little in any budget a CPU allows. Returns the line that says what was chosen and how to
    /// choose otherwise; nil (nothing changed) for Kinema / LP configs, which state their backbone.
    public mutating func chooseDefaultBackbone(pretrainedWeights: Bool) -> String? {
        guard kind == .deepLabCut else { return nil }
        if pretrainedWeights {
            config.backbone = "resnet50"
            return
                "backbone: resnet50 with the --pretrained weights (DeepLabCut's default network); --backbone unet trains Kinema's U-Net instead"
        }
        config.backbone = "unet"
        return
            "backbone: unet, the network that learns from scratch (no --pretrained weights given); for a ResNet pass --backbone resnet50 --pretrained FILE"
    }
}
