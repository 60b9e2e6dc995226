import ArgumentParser
import Foundation
import ProjectSetup

// MARK: - kinema project

/// `kinema project`: start a labelling project.
struct ProjectCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "project",
        abstract: "Start a pose project: videos and keypoint names in Kinema/Lightning Pose or DeepLabCut layout.",
        subcommands: [ProjectCreate.self]
    )
}

// MARK: - kinema project create

/// `kinema project create DIR --videos V... --keypoints a,b,c`: a new project folder.
struct ProjectCreate: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "create",
        abstract: "Create a new project folder from videos and keypoint names.",
        discussion: """
            Kinema/Lightning Pose layout (the default): DIR/config.yaml (LP's keys, read by `kinema train` and \
            by Lightning Pose), DIR/videos/, DIR/labeled-data/<video name>/; labels go to DIR/CollectedData.csv. \
            With --dlc, DeepLabCut's layout: DIR/config.yaml with DeepLabCut's keys (Task, scorer, date, \
            project_path, video_sets with each video's crop, bodyparts, skeleton, numframes2pick, ...), which \
            DeepLabCut, napari-deeplabcut and `kinema train` all open; labels go to \
            labeled-data/<video>/CollectedData_<scorer>.csv.

            Videos are linked (symbolic links to the recordings) unless --copy-videos. DIR must be new or empty; \
            the project is built beside it and renamed into place, so a failed run leaves nothing behind.

            --views names views that every video shows side by side (a mirror, as in Lightning Pose's \
            mirror-mouse example): each keypoint is labelled once per view, as <keypoint>_<view>.

            Examples:
              kinema project create reach --videos day1.mp4 day2.mp4 \\
                --keypoints nose,paw,tail --skeleton nose-paw,paw-tail
              kinema project create mirror --videos s1.mp4 --keypoints paw,nose \\
                --views top,bottom
              kinema project create reach-dlc --videos day1.mp4 --keypoints nose,paw \\
                --dlc --scorer ana --copy-videos

            Then: kinema extract-frames DIR --method kmeans --count 20
            """
    )

    @Argument(help: "The new project folder (must not exist, or be empty).")
    var directory: String

    @Option(parsing: .upToNextOption, help: ArgumentHelp("The videos to label frames from.", valueName: "video"))
    var videos: [String] = []

    @Option(help: ArgumentHelp("Keypoint names, comma-separated, in labelling order.", valueName: "a,b,c"))
    var keypoints: String

    @Option(
        help: ArgumentHelp("Skeleton edges between keypoints (drawing only), e.g. nose-tail_base,paw_left-paw_right.", valueName: "a-b,b-c")
    )
    var skeleton: String?

    @Option(help: ArgumentHelp("Views seen side by side in every video (mirrors), e.g. top,bottom.", valueName: "v1,v2"))
    var views: String?

    @Flag(name: .customLong("dlc"), help: "DeepLabCut's project layout and config.yaml.")
    var deepLabCut = false

    @Flag(name: .customLong("copy-videos"), help: "Copy the videos into the project instead of linking to them.")
    var copyVideos = false

    @Option(help: "The labeller's name: DeepLabCut's scorer (CollectedData_<scorer>).")
    var scorer = "kinema"

    func run() async throws {
        let names = Self.list(keypoints)
        var spec = ProjectSpec(directory: directory, videos: videos, keypoints: names)
        spec.skeleton = try skeleton.map { try ProjectCreation.parseSkeleton($0, keypoints: names) } ?? []
        spec.views = views.map(Self.list) ?? []
        spec.layout = deepLabCut ? .deepLabCut : .kinema
        spec.copyVideos = copyVideos
        spec.scorer = scorer
        let created = try ProjectCreation.create(spec)
        let layout = deepLabCut ? "DeepLabCut layout" : "Kinema / Lightning Pose layout"
        let edges = spec.skeleton.count * max(1, spec.views.count)
        let labels = deepLabCut ? "labeled-data/<video>/CollectedData_\(scorer).csv" : "CollectedData.csv"
        print("created \(created.directory) (\(layout))")
        print(
            "  config.yaml    \(created.keypoints.count) keypoints (\(created.keypoints.joined(separator: ", ")))\(edges > 0 ? ", \(edges) skeleton edges" : "")"
        )
        print(
            "  videos/        \(created.videos.count) \(copyVideos ? "copied" : "linked"): \(created.videos.map { ($0 as NSString).lastPathComponent }.joined(separator: ", "))"
        )
        print("  labeled-data/  one folder per video for the frames to label; labels will go to \(labels)")
        print("next: kinema extract-frames \(Self.shellWord(directory)) --method kmeans --count 20")
    }

    /// `a, b,c` → ["a", "b", "c"] (empty items kept, so `a,,b` is refused by name).
    static func list(_ text: String) -> [String] {
        text.split(separator: ",", omittingEmptySubsequences: false).map { $0.trimmingCharacters(in: .whitespaces) }
    }

    /// `path` as it can be pasted into a shell.
    static func shellWord(_ path: String) -> String {
        path.allSatisfy { $0.isLetter || $0.isNumber || "_-./+=:@".contains($0) }
            ? path : "'" + path.replacingOccurrences(of: "'", with: "'\\''") + "'"
    }
}
