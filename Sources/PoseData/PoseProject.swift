// A pose project as the lab already has it: a Kinema/LP config, or a DeepLabCut project folder.
import Foundation

// MARK: - Project

/// Where the labels of a project live and how its outputs are named.
public struct PoseProject: Sendable {
    public enum Kind: String, Sendable { case lightningPose, deepLabCut }

    /// The training settings (for DLC projects: LP defaults plus what config.yaml says).
    public var config: PoseConfig
    public var kind: Kind
    /// Label CSVs, absolute paths. Their first column is relative to `config.dataDir`.
    public var labelFiles: [String]
    /// DeepLabCut's project name fields, used for output names (`DLC_<Net>_<Task><date>shuffle1_…`).
    public var dlcTask = ""
    public var dlcDate = ""
    public var dlcScorer = ""
    /// DLC `pcutoff`: likelihood threshold for videos and the cut-off error table.
    public var pcutoff = 0.6

    /// Reads either kind of project from its config file: a DeepLabCut `config.yaml` is recognised
    /// by its `Task` and `bodyparts` keys, anything else is read as a Kinema / LP config.
    public static func load(configPath: String) throws -> PoseProject {
        guard let text = try? String(contentsOfFile: configPath, encoding: .utf8) else {
            throw PoseDataError(file: configPath, message: "cannot read the config file", hint: "check the path")
        }
        let root = try YAMLValue.parse(text, file: configPath)
        if root["Task"] != nil, root["bodyparts"] != nil {
            return try loadDeepLabCut(root: root, path: configPath)
        }
        let config = try PoseConfig.load(path: configPath)
        return PoseProject(config: config, kind: .lightningPose, labelFiles: [config.csvPath],
                           pcutoff: config.confidenceThreshForVid)
    }

    // MARK: - DeepLabCut

    /// Known DLC 3.0 `config.yaml` keys; DLC itself rejects others, so we do too.
    static let dlcKeys: Set<String> = [
        "config_version", "Task", "scorer", "date", "multianimalproject", "identity", "with_identity",
        "project_path", "pose_config_path", "engine", "video_sets", "bodyparts", "individuals",
        "uniquebodyparts", "unique_bodyparts", "multianimalbodyparts", "start", "stop", "numframes2pick",
        "skeleton", "skeleton_color", "pcutoff", "dotsize", "alphavalue", "colormap", "TrainingFraction",
        "iteration", "default_net_type", "default_augmenter", "default_track_method", "snapshotindex",
        "detector_snapshotindex", "batch_size", "detector_batch_size", "cropping", "x1", "x2", "y1", "y2",
        "corner2move2", "move2corner", "SuperAnimalConversionTables", "resnet", "croppedtraining",
    ]

    static func loadDeepLabCut(root: YAMLValue, path: String) throws -> PoseProject {
        for (key, value) in root.entries ?? [] where !dlcKeys.contains(key) {
            let hint = closestKey(to: key, among: Array(dlcKeys)).map { "did you mean `\($0)`?" } ?? "remove it (DeepLabCut rejects unknown keys too)"
            throw PoseDataError(file: path, row: value.line, message: "unknown DeepLabCut config key `\(key)`", hint: hint)
        }
        let r = YAMLReader(root: root, file: path)
        if try r.bool("multianimalproject") == true {
            throw PoseDataError(file: path, row: root["multianimalproject"]?.line,
                                message: "multi-animal DeepLabCut projects are not supported",
                                hint: "train a single-animal project")
        }
        guard let bodyparts = try r.strings("bodyparts"), !bodyparts.isEmpty else {
            throw PoseDataError(file: path, row: root["bodyparts"]?.line, message: "`bodyparts` is empty",
                                hint: "list the keypoint names under `bodyparts:`")
        }
        let scorer = try r.string("scorer") ?? ""
        let projectDir = ((path as NSString).deletingLastPathComponent as NSString).standardizingPath
        var config = PoseConfig()
        config.configFile = path
        config.dataDir = projectDir.isEmpty ? "." : projectDir
        config.keypointNames = bodyparts
        config.skeleton = try r.stringLists("skeleton") ?? []
        config.videoDir = (config.dataDir as NSString).appendingPathComponent("videos")
        config.testVideosDirectory = config.videoDir
        config.modelName = "dlc"
        if let fractions = try r.strings("TrainingFraction"), let first = fractions.first, let f = Double(first) {
            config.trainProb = f
            config.valProb = 0
        }
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
            if FileManager.default.fileExists(atPath: h5) { files.append(h5) }
            else if FileManager.default.fileExists(atPath: csv) { files.append(csv) }
        }
        guard !files.isEmpty else {
            throw PoseDataError(file: labeled, message: "no CollectedData_\(scorer).csv or .h5 in any labeled-data folder",
                                hint: "label frames first (napari-deeplabcut), or check the `scorer` key")
        }
        config.csvFile = files[0]
        return PoseProject(config: config, kind: .deepLabCut, labelFiles: files, dlcTask: try r.string("Task") ?? "",
                           dlcDate: try r.string("date") ?? "", dlcScorer: scorer, pcutoff: try r.double("pcutoff") ?? 0.6)
    }
}
