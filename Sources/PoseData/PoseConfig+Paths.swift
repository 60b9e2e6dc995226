// Every path in a pose config resolved once, against the config file's folder, so that a project trains the
// same from any working directory and a model folder still opens after its project moved.
import Foundation

extension PoseConfig {
    /// An absolute, standardised form of `path` (relative paths are taken from the working directory).
    public static func absolute(_ path: String) -> String {
        let full = path.hasPrefix("/") ? path : (FileManager.default.currentDirectoryPath as NSString).appendingPathComponent(path)
        return (full as NSString).standardizingPath
    }

    /// `path` relative to `folder` (both absolute): `relative("/a/b/c", from: "/a/d")` is `../b/c`.
    public static func relative(_ path: String, from folder: String) -> String {
        let to = (path as NSString).pathComponents, from = (folder as NSString).pathComponents
        var common = 0
        while common < to.count, common < from.count, to[common] == from[common] { common += 1 }
        let parts = Array(repeating: "..", count: from.count - common) + to[common...]
        return parts.isEmpty ? "." : parts.joined(separator: "/")
    }

    /// Resolves every path of a config read from `configFile` (LP's rules, made independent of the working
    /// directory): `data_dir` against the config's folder; `video_dir`, `test_videos_directory`, `csv_file`,
    /// `bbox_file`, `camera_params_file` and `deeplabcut_config` against `data_dir`. When `data_dir` holds no label CSV, the project
    /// has moved: it is looked for at `data_dir_relative` (what Kinema writes into a model folder), else in the
    /// config's own folder (an LP config copied next to its data); the other paths under the old `data_dir`
    /// move with it.
    mutating func resolvePaths(configFile: String) {
        let file = Self.absolute(configFile)
        self.configFile = file
        let folder = (file as NSString).deletingLastPathComponent
        func join(_ base: String, _ path: String) -> String {
            path.hasPrefix("/")
                ? (path as NSString).standardizingPath : ((base as NSString).appendingPathComponent(path) as NSString).standardizingPath
        }
        let written = join(folder, data.dataDir.isEmpty ? "." : data.dataDir)
        data.videoDir = data.videoDir.map { join(written, $0) }
        eval.testVideosDirectory = eval.testVideosDirectory.map { join(written, $0) }
        data.bboxFile = data.bboxFile.map { join(written, $0) }
        data.cameraParamsFile = data.cameraParamsFile.map { join(written, $0) }
        data.deeplabcutConfig = data.deeplabcutConfig.map { join(written, $0) }
        data.dataDir = written
        let fm = FileManager.default
        guard !fm.fileExists(atPath: written) || !fm.fileExists(atPath: csvPath) else { return }
        // A model folder's config (it has `data_dir_relative`) looks only there: the folder holds a copy of the labels
        // but not their images.
        let moved = data.dataDirRelative.map { join(folder, $0) } ?? folder
        guard moved != written, fm.fileExists(atPath: join(moved, data.csvFile.first)) else { return }
        func rebase(_ path: String?) -> String? {
            guard let path, path == written || path.hasPrefix(written + "/") else { return path }
            return moved + path.dropFirst(written.count)
        }
        data.videoDir = rebase(data.videoDir)
        eval.testVideosDirectory = rebase(eval.testVideosDirectory)
        data.bboxFile = rebase(data.bboxFile)
        data.cameraParamsFile = rebase(data.cameraParamsFile)
        data.deeplabcutConfig = rebase(data.deeplabcutConfig)
        data.dataDir = moved
    }

    /// The config as it goes into a model folder's `config.yaml` at `modelFolder`: the absolute paths, and
    /// `data_dir_relative` (data_dir from the model folder) so that the folder still opens when it and its
    /// project are moved together.
    public func forModelFolder(_ modelFolder: String) -> PoseConfig {
        var copy = self
        copy.data.dataDirRelative = Self.relative(data.dataDir, from: Self.absolute(modelFolder))
        return copy
    }

    /// The folder whose videos are predicted after training (`test_videos_directory`, else `video_dir`).
    public var videosFolder: String? { eval.testVideosDirectory ?? data.videoDir }

    /// Video files Kinema reads, by extension.
    public static let videoExtensions: Set<String> = ["mp4", "avi", "mov", "mkv", "m4v"]

    /// The videos in `videosFolder`, sorted absolute paths, and one line that says what was found (or that
    /// the folder is missing or empty, naming the config key that points there).
    public func findVideos() -> (videos: [String], report: String) {
        guard let folder = videosFolder else {
            return ([], "videos: none (the config sets no video_dir)")
        }
        let key = eval.testVideosDirectory != nil ? "eval.test_videos_directory" : "data.video_dir"
        var isFolder: ObjCBool = false
        guard FileManager.default.fileExists(atPath: folder, isDirectory: &isFolder), isFolder.boolValue else {
            return ([], "videos: none — \(folder) does not exist (\(key) in \(configFile))")
        }
        let names = (try? FileManager.default.contentsOfDirectory(atPath: folder)) ?? []
        let videos = names.filter { Self.videoExtensions.contains(($0 as NSString).pathExtension.lowercased()) }.sorted()
            .map { (folder as NSString).appendingPathComponent($0) }
        if videos.isEmpty {
            return ([], "videos: none — \(folder) holds no video files (\(key) in \(configFile))")
        }
        return (videos, "videos: \(videos.count) in \(folder)")
    }
}
