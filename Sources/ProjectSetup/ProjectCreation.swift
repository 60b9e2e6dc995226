// A new pose project from videos and keypoint names, in Kinema/Lightning Pose layout or DeepLabCut's, built in a
// temporary folder beside its destination and renamed into place, so a failure never leaves half a project.
import Foundation
import KinemaFiles
import PoseData
import VideoIO

/// The two folder layouts a project can have; both are read by `PoseProject.load` and `kinema train`.
public enum ProjectLayout: String, Sendable, Equatable {
    /// `config.yaml` with Lightning Pose's keys, `videos/`, `labeled-data/<video>/`, `CollectedData.csv` (once labelled).
    case kinema
    /// DeepLabCut's `config.yaml` (its keys only), `videos/`, `labeled-data/<video>/CollectedData_<scorer>.csv|.h5`.
    case deepLabCut
}

/// What a new project holds.
public struct ProjectSpec: Sendable, Equatable {
    /// The project folder: must not exist, or be empty.
    public var directory: String
    /// The videos, as given (relative to the working directory or absolute).
    public var videos: [String]
    /// Keypoint names, in order (before `views` multiplies them).
    public var keypoints: [String]
    /// Skeleton edges between keypoints (drawing only), e.g. `[["nose", "tail"]]`.
    public var skeleton: [[String]] = []
    /// Views seen side by side in every video (a mirror, as in LP's mirror-mouse example): each keypoint is
    /// labelled once per view as `<keypoint>_<view>`. Empty: one view.
    public var views: [String] = []
    public var layout: ProjectLayout = .kinema
    /// Copy the videos into `videos/` instead of linking to them.
    public var copyVideos = false
    /// The labeller's name: DeepLabCut's `scorer` (`CollectedData_<scorer>`).
    public var scorer = "kinema"

    public init(directory: String, videos: [String], keypoints: [String]) {
        self.directory = directory
        self.videos = videos
        self.keypoints = keypoints
    }
}

/// A project as created.
public struct CreatedProject: Sendable, Equatable {
    /// The project folder, absolute.
    public var directory: String
    /// Its config file (`config.yaml` in both layouts).
    public var config: String
    public var layout: ProjectLayout
    /// The keypoints the labels will have, in column order (`<keypoint>_<view>` with views).
    public var keypoints: [String]
    /// The videos inside the project (`videos/<name>`), absolute.
    public var videos: [String]
}

public enum ProjectCreation {
    /// Checks `spec` (names, skeleton, every video opened), then writes the project and renames it into place.
    /// - Throws: `ProjectSetupError` for a folder in use or bad names, `VideoError` for a file that is not a video.
    public static func create(_ spec: ProjectSpec) throws -> CreatedProject {
        let root = PoseConfig.absolute(spec.directory)
        let keypoints = try columnNames(keypoints: spec.keypoints, views: spec.views)
        let skeleton = try expandedSkeleton(spec.skeleton, keypoints: spec.keypoints, views: spec.views)
        try checkFolderIsFree(root)
        let sources = try checkVideos(spec.videos)
        // Every video is opened now: a file that is not a video is refused before anything is written, and
        // DeepLabCut's `video_sets` needs each one's size.
        let sizes = try sources.map { path in
            let info = try VideoReader(path: path).info
            return (width: info.width, height: info.height)
        }

        let videoNames = sources.map { ($0 as NSString).lastPathComponent }
        let finalVideos = videoNames.map { "\(root)/videos/\($0)" }
        let parent = (root as NSString).deletingLastPathComponent
        let staging = "\(parent)/.\((root as NSString).lastPathComponent).creating-\(getpid())-\(UInt32.random(in: 0...UInt32.max))"
        let fm = FileManager.default
        do {
            try fm.createDirectory(atPath: parent, withIntermediateDirectories: true)
            try fm.createDirectory(atPath: "\(staging)/videos", withIntermediateDirectories: true)
            for (source, name) in zip(sources, videoNames) {
                try fm.createDirectory(atPath: "\(staging)/labeled-data/\(stem(of: name))", withIntermediateDirectories: true)
                let destination = "\(staging)/videos/\(name)"
                if spec.copyVideos {
                    try fm.copyItem(atPath: source, toPath: destination)
                } else {
                    try fm.createSymbolicLink(atPath: destination, withDestinationPath: source)
                }
            }
            let text: String
            switch spec.layout {
            case .kinema:
                text = kinemaConfig(name: (root as NSString).lastPathComponent, keypoints: keypoints, skeleton: skeleton, views: spec.views)
            case .deepLabCut:
                text = deepLabCutConfig(
                    task: (root as NSString).lastPathComponent, scorer: spec.scorer, date: Date(), projectPath: root,
                    videos: Array(zip(finalVideos, sizes)).map { ($0.0, $0.1.width, $0.1.height) }, bodyparts: keypoints,
                    skeleton: skeleton)
            }
            try AtomicFile.write(text, to: "\(staging)/config.yaml")
            // rename(2) replaces an empty folder in one step; a folder that filled meanwhile makes it fail.
            guard rename(staging, root) == 0 else {
                let reason = FileProblem.describe(errno: errno)
                if (try? fm.contentsOfDirectory(atPath: root).isEmpty) == false { throw ProjectSetupError.folderNotEmpty(path: root) }
                throw ProjectSetupError.writeFailed(path: root, reason: reason)
            }
        } catch {
            try? fm.removeItem(atPath: staging)
            if error is ProjectSetupError { throw error }
            throw ProjectSetupError.writeFailed(path: root, reason: FileProblem.describe(error))
        }
        return CreatedProject(
            directory: root, config: "\(root)/config.yaml", layout: spec.layout, keypoints: keypoints, videos: finalVideos)
    }

    // MARK: - Checks

    /// The label columns: the keypoints, or each keypoint once per view (`nose_top`, …, `nose_bottom`, …).
    static func columnNames(keypoints: [String], views: [String]) throws -> [String] {
        try checkNames(keypoints, option: "--keypoints", example: "--keypoints nose,ear_left,tail_base")
        guard !views.isEmpty else { return keypoints }
        try checkNames(views, option: "--views", example: "--views top,bottom")
        guard views.count > 1 else {
            throw ProjectSetupError.badNames(option: "--views", reason: "name at least two views (one view needs no --views)")
        }
        return views.flatMap { view in keypoints.map { "\($0)_\(view)" } }
    }

    private static func checkNames(_ names: [String], option: String, example: String) throws {
        guard !names.isEmpty, !names.contains(where: \.isEmpty) else {
            throw ProjectSetupError.badNames(option: option, reason: "give comma-separated names without empty ones, e.g. \(example)")
        }
        var seen = Set<String>(), repeated: [String] = []
        for name in names where !seen.insert(name).inserted && !repeated.contains(name) { repeated.append(name) }
        guard repeated.isEmpty else {
            throw ProjectSetupError.badNames(
                option: option, reason: "\(repeated.joined(separator: ", ")) given more than once (names must be unique)")
        }
        if let bad = names.first(where: { $0.contains(where: { $0 == "," || $0 == "\"" || $0.isNewline }) }) {
            throw ProjectSetupError.badNames(option: option, reason: "'\(bad)' holds a comma, quote or line break (label files are CSV)")
        }
    }

    /// Skeleton edges between keypoints, repeated in every view.
    static func expandedSkeleton(_ edges: [[String]], keypoints: [String], views: [String]) throws -> [[String]] {
        for edge in edges {
            let text = edge.joined(separator: "-")
            guard edge.count == 2 else {
                throw ProjectSetupError.badSkeletonEdge(edge: text, reason: "an edge joins two keypoints, e.g. nose-tail_base")
            }
            if let unknown = edge.first(where: { !keypoints.contains($0) }) {
                throw ProjectSetupError.badSkeletonEdge(
                    edge: text, reason: "'\(unknown)' is not one of --keypoints (\(keypoints.joined(separator: ", ")))")
            }
            guard edge[0] != edge[1] else {
                throw ProjectSetupError.badSkeletonEdge(edge: text, reason: "an edge joins two different keypoints")
            }
        }
        guard !views.isEmpty else { return edges }
        return views.flatMap { view in edges.map { $0.map { "\($0)_\(view)" } } }
    }

    /// Parses `a-b,b-c` against the keypoint names (which may themselves hold `-`): each edge splits at the one
    /// `-` that leaves two keypoint names.
    public static func parseSkeleton(_ text: String, keypoints: [String]) throws -> [[String]] {
        try text.split(separator: ",").map { String($0).trimmingCharacters(in: .whitespaces) }.filter { !$0.isEmpty }.map { edge in
            let dashes = edge.indices.filter { edge[$0] == "-" }
            let splits = dashes.map { [String(edge[..<$0]), String(edge[edge.index(after: $0)...])] }
            if let known = splits.first(where: { keypoints.contains($0[0]) && keypoints.contains($0[1]) }) { return known }
            guard let first = splits.first else {
                throw ProjectSetupError.badSkeletonEdge(
                    edge: edge, reason: "write an edge as two keypoints joined by '-', e.g. nose-tail_base")
            }
            return first  // names the unknown keypoint in `expandedSkeleton`
        }
    }

    private static func checkFolderIsFree(_ root: String) throws {
        var isFolder: ObjCBool = false
        guard FileManager.default.fileExists(atPath: root, isDirectory: &isFolder) else { return }
        guard isFolder.boolValue else {
            throw ProjectSetupError.notAProject(path: root, reason: "it is a file; give a new folder for the project")
        }
        let contents = (try? FileManager.default.contentsOfDirectory(atPath: root)) ?? [""]
        guard contents.isEmpty else { throw ProjectSetupError.folderNotEmpty(path: root) }
    }

    /// The videos as absolute paths (symbolic links resolved, so a project's links point at the recordings); all
    /// missing ones are named at once.
    private static func checkVideos(_ videos: [String]) throws -> [String] {
        guard !videos.isEmpty else { throw ProjectSetupError.badOption(option: "--videos", reason: "give at least one video") }
        let missing = videos.filter { !FileManager.default.fileExists(atPath: $0) }
        guard missing.isEmpty else { throw ProjectSetupError.missingVideos(missing) }
        let sources = videos.map { (PoseConfig.absolute($0) as NSString).resolvingSymlinksInPath }
        var byStem: [String: [String]] = [:]
        for (given, source) in zip(videos, sources) { byStem[stem(of: source), default: []].append(given) }
        if let clash = byStem.sorted(by: { $0.key < $1.key }).first(where: { $0.value.count > 1 }) {
            throw ProjectSetupError.sameVideoStem(stem: clash.key, videos: clash.value)
        }
        return sources
    }

    /// A video's file name without its extension: the name of its `labeled-data` folder.
    public static func stem(of path: String) -> String {
        ((path as NSString).lastPathComponent as NSString).deletingPathExtension
    }

    // MARK: - Configs

    /// A Kinema/LP config: paths relative to the project folder (so it can move), the labels' CSV, Kinema's U-Net
    /// (it learns from few frames on a CPU) and, with views, LP's `mirrored_column_matches`.
    static func kinemaConfig(name: String, keypoints: [String], skeleton: [[String]], views: [String]) -> String {
        var config = PoseConfig()
        config.dataDir = "."
        config.videoDir = "videos"
        config.csvFile = "CollectedData.csv"
        config.keypointNames = keypoints
        config.skeleton = skeleton
        if !views.isEmpty {
            let perView = keypoints.count / views.count
            config.mirroredColumnMatches = (0..<views.count).map { view in Array(view * perView..<(view + 1) * perView) }
        }
        config.backbone = "unet"
        config.modelName = name
        return config.yamlText()
    }

    /// DeepLabCut 3.0's `config.yaml` for a single-animal project, in its template's order and with its defaults;
    /// only keys DeepLabCut knows (it rejects others).
    static func deepLabCutConfig(
        task: String, scorer: String, date: Date, projectPath: String, videos: [(path: String, width: Int, height: Int)],
        bodyparts: [String], skeleton: [[String]]
    ) -> String {
        let months = ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"]
        let parts = Calendar(identifier: .gregorian).dateComponents([.month, .day], from: date)
        let day = "\(months[(parts.month ?? 1) - 1])\(parts.day ?? 1)"
        let videoSets = videos.map { "  \(yamlScalar($0.path)):\n    crop: 0, \($0.width), 0, \($0.height)" }
        let edges = skeleton.map { "- - \(yamlScalar($0[0]))\n  - \(yamlScalar($0[1]))" }
        return """
            config_version: 0
            # Project definitions (do not edit)
            Task: \(yamlScalar(task))
            scorer: \(yamlScalar(scorer))
            date: \(day)
            multianimalproject: false
            identity:

            # Project path (change when moving around)
            project_path: \(yamlScalar(projectPath))

            # Default DeepLabCut engine to use for shuffle creation (either pytorch or tensorflow)
            engine: pytorch

            # Annotation data set configuration (and individual video cropping parameters)
            video_sets:
            \(videoSets.joined(separator: "\n"))
            bodyparts:
            \(bodyparts.map { "- " + yamlScalar($0) }.joined(separator: "\n"))

            # Fraction of video to start/stop when extracting frames for labeling/refinement
            start: 0
            stop: 1
            numframes2pick: 20

            # Plotting configuration
            skeleton:\(edges.isEmpty ? " []" : "\n" + edges.joined(separator: "\n"))
            skeleton_color: black
            pcutoff: 0.6
            dotsize: 12
            alphavalue: 0.7
            colormap: rainbow

            # Training,Evaluation and Analysis configuration
            TrainingFraction:
            - 0.95
            iteration: 0
            default_net_type: resnet_50
            default_augmenter: default
            snapshotindex: -1
            detector_snapshotindex: -1
            batch_size: 8
            detector_batch_size: 1

            # Cropping Parameters (for analysis and outlier frame detection)
            cropping: false
            #if cropping is true for analysis, then set the values here:
            x1: 0
            x2: 640
            y1: 277
            y2: 624

            # Refinement configuration (parameters from annotation dataset configuration also relevant in this stage)
            corner2move2:
            - 50
            - 50
            move2corner: true

            """
    }

    /// A YAML scalar for a name or path: plain when YAML reads it back as the same string, else double-quoted.
    static func yamlScalar(_ text: String) -> String {
        let plain = text.allSatisfy { $0.isLetter || $0.isNumber || "_-./ ".contains($0) }
        let reserved = ["", "null", "true", "false", "yes", "no", "on", "off", "~"].contains(text.lowercased())
        if plain, !reserved, Double(text) == nil, !text.hasPrefix("-"), !text.hasPrefix(" "), !text.hasSuffix(" ") { return text }
        var quoted = "\""
        for scalar in text.unicodeScalars {
            switch scalar {
            case "\"": quoted += "\\\""
            case "\\": quoted += "\\\\"
            case "\n": quoted += "\\n"
            case "\t": quoted += "\\t"
            default: quoted.unicodeScalars.append(scalar)
            }
        }
        return quoted + "\""
    }
}
