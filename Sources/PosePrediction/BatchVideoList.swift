// The videos of a batch (`--videos LIST|GLOB…`): text files of paths, folders, glob patterns and videos, resolved
// to one ordered list of absolute paths, checked before any work; for a multi-camera model, grouped into sessions.
import Foundation
import KinemaFiles
import PoseData
import PoseModels

#if canImport(Glibc)
import Glibc
#endif

/// One unit of a batch: a video, or a session of a multi-camera model (one video per view, predicted together, as
/// the session's metrics compare its views).
public struct BatchItem: Codable, Equatable, Sendable {
    /// The manifest's key: the video (absolute path), or the session's name.
    public var name: String
    /// A session's videos, one per view in view order; nil for one video.
    public var views: [String]?

    public init(video: String) { name = video }
    public init(session: ViewSession) { (name, views) = (session.name, session.videos) }

    /// The videos it predicts.
    public var videos: [String] { views ?? [name] }
}

public enum BatchVideoList {
    /// The batch's units: each video, or for a multi-camera model (`views` not empty) the sessions of the videos,
    /// sorted by name, grouped by LP's rule (`ViewSession.group`: `<session>_<view>.mp4`).
    /// - Throws: one line for a video of no view, a session missing a view or with two videos of one.
    public static func items(_ videos: [String], views: [String]) throws -> [BatchItem] {
        guard !views.isEmpty else { return videos.map(BatchItem.init(video:)) }
        return try ViewSession.group(videos, views: views).map(BatchItem.init(session:))
    }

    /// The camera views of the model in `model` (`data.view_names`): empty for one camera, or when the config
    /// cannot be read (the workers then say why the model does not load).
    public static func views(ofModel model: String) -> [String] {
        (try? PoseConfig.load(path: ModelDirectory(model).config))?.cameraViews ?? []
    }

    /// Resolves each item, in order, without repeats:
    /// - a video file (`.mp4 .avi .mov .mkv .m4v`): itself;
    /// - a folder: its videos, sorted by name (not its subfolders);
    /// - another file: a list of paths, one a line (blank lines and `#` comments skipped; relative paths are
    ///   relative to the list's folder), each a video;
    /// - a pattern with `*`, `?` or `[`: the videos it matches, sorted.
    ///
    /// Relative paths are made absolute against `directory` (the current folder). Two videos with the same
    /// name stem would write the same CSV, so that is an error naming both.
    public static func resolve(_ items: [String], relativeTo directory: String = FileManager.default.currentDirectoryPath) throws
        -> [String]
    {
        var videos: [String] = []
        var seen = Set<String>()
        func add(_ path: String, from origin: String) throws {
            guard isVideo(path) else {
                throw PoseModelError("\(origin): \(path) is not a video (mp4, avi, mov, mkv, m4v)")
            }
            var isDirectory: ObjCBool = false
            guard FileManager.default.fileExists(atPath: path, isDirectory: &isDirectory), !isDirectory.boolValue else {
                throw PoseModelError("\(origin == path ? path : "\(origin): \(path)"): no such video")
            }
            if seen.insert(path).inserted { videos.append(path) }
        }
        for item in items {
            let path = absolute(item, relativeTo: directory)
            if item.contains(where: { "*?[".contains($0) }) {
                let matches = glob(path).filter(isVideo)
                guard !matches.isEmpty else { throw PoseModelError("--videos \(item): the pattern matches no videos") }
                for match in matches { try add(match, from: item) }
                continue
            }
            var isDirectory: ObjCBool = false
            guard FileManager.default.fileExists(atPath: path, isDirectory: &isDirectory) else {
                throw PoseModelError("--videos \(item): no such file or folder; pass videos, folders, list files or patterns")
            }
            if isDirectory.boolValue {
                let names: [String]
                do {
                    names = try FileManager.default.contentsOfDirectory(atPath: path).sorted()
                } catch {
                    throw PoseModelError("\(item): cannot list the folder: \(FileProblem.describe(error))")
                }
                let found = names.map { (path as NSString).appendingPathComponent($0) }.filter(isVideo)
                guard !found.isEmpty else { throw PoseModelError("\(item) holds no videos (mp4, avi, mov, mkv, m4v)") }
                for video in found { try add(video, from: video) }
            } else if isVideo(path) {
                try add(path, from: path)
            } else {
                let text: String
                do {
                    text = try String(contentsOfFile: path, encoding: .utf8)
                } catch {
                    throw PoseModelError("\(item): cannot read the list of videos: \(FileProblem.describe(error))")
                }
                let folder = (path as NSString).deletingLastPathComponent
                for (number, raw) in text.split(separator: "\n", omittingEmptySubsequences: false).enumerated() {
                    let line = raw.trimmingCharacters(in: .whitespacesAndNewlines)
                    if line.isEmpty || line.hasPrefix("#") { continue }
                    try add(absolute(line, relativeTo: folder), from: "\(item) line \(number + 1)")
                }
            }
        }
        guard !videos.isEmpty else { throw PoseModelError("--videos names no videos") }
        var byStem: [String: String] = [:]
        for video in videos {
            let stem = PredictionOutputs.stem(of: video)
            if let other = byStem[stem] {
                throw PoseModelError(
                    "\(other) and \(video) would both be written as \(stem).csv; predict them into different --output folders")
            }
            byStem[stem] = video
        }
        return videos
    }

    static func isVideo(_ path: String) -> Bool {
        PoseWorkflows.videoExtensions.contains((path as NSString).pathExtension.lowercased())
    }

    /// `path` made absolute against `directory`, with `.` and `..` resolved.
    public static func absolute(_ path: String, relativeTo directory: String) -> String {
        let joined = path.hasPrefix("/") ? path : (directory as NSString).appendingPathComponent(path)
        return (joined as NSString).standardizingPath
    }

    /// The paths matching a shell pattern (glob(3)), sorted; none when nothing matches.
    static func glob(_ pattern: String) -> [String] {
        var result = glob_t()
        defer { globfree(&result) }
        guard Glibc.glob(pattern, 0, nil, &result) == 0 else { return [] }
        return (0..<Int(result.gl_pathc)).compactMap { result.gl_pathv[$0].map { String(cString: $0) } }.sorted()
    }
}
