// The record of a batch prediction (`kinema predict MODEL --videos … --output DIR`): `DIR/manifest.json`, one entry
// per video (per session of separate cameras) with its state, outputs and time. Rewritten atomically as they finish,
// so a rerun knows what is done.
import Foundation
import KinemaFiles
import PoseModels

/// What a batch has done, video by video (session by session for separate cameras). An entry is done only while its
/// outputs are the files the batch wrote (same size and modification time) and its videos are the ones it read;
/// anything else is predicted again.
public struct BatchManifest: Codable, Equatable, Sendable {
    /// `DIR/manifest.json`.
    public static func path(in output: String) -> String { (output as NSString).appendingPathComponent("manifest.json") }
    /// Written into every manifest, so that another JSON file is not taken for one.
    public static let formatName = "kinema batch prediction 1"

    public var format = formatName
    /// The model folder (absolute): a manifest belongs to one model; another model needs another output folder.
    public var model: String
    public var videos: [Entry]

    public init(model: String, videos: [Entry] = []) {
        self.model = model
        self.videos = videos
    }

    /// One video of the batch, or one session of a multi-camera model's.
    public struct Entry: Codable, Equatable, Sendable {
        public enum State: String, Codable, Sendable { case pending, done, failed }
        /// The video (absolute path), or the session's name (`mouse1` for `mouse1_top.mp4`, `mouse1_side.mp4`).
        public var video: String
        /// A session's videos (absolute paths), one per view in `data.view_names` order; nil for one video.
        public var views: [String]?
        public var state: State
        /// Why it failed, one line (failed only).
        public var reason: String?
        /// Warnings of a video that was predicted (a recording cut off mid-file, a labelled video not written).
        public var warnings: [String]?
        /// The files written for it, with their size and time as written (done only).
        public var outputs: [FileStamp]?
        /// The video as it was read (done only).
        public var source: FileStamp?
        /// A session's videos as they were read, in view order (done only).
        public var sources: [FileStamp]?
        /// Seconds its prediction took inside the worker (done or failed).
        public var seconds: Double?
        /// When it finished (done or failed).
        public var finished: Date?

        public init(video: String, views: [String]? = nil, state: State = .pending) {
            self.video = video
            self.views = views
            self.state = state
        }

        /// Back to pending, forgetting the outcome of an earlier attempt.
        public mutating func reset() { self = Entry(video: video, views: views) }

        /// The videos it reads: the video, or the session's views.
        public var videos: [String] { views ?? [video] }
    }

    /// A file's path, size and modification time: what says it is still the file a batch wrote or read.
    public struct FileStamp: Codable, Equatable, Sendable {
        public var path: String
        public var bytes: Int64
        public var modified: Double

        public init(path: String, bytes: Int64, modified: Double) {
            self.path = path
            self.bytes = bytes
            self.modified = modified
        }

        /// The file as it is now; nil when it is not there.
        public static func of(_ path: String) -> FileStamp? {
            var info = stat()
            guard stat(path, &info) == 0 else { return nil }
            let modified = Double(info.st_mtim.tv_sec) + Double(info.st_mtim.tv_nsec) / 1e9
            return FileStamp(path: path, bytes: Int64(info.st_size), modified: modified)
        }

        /// Whether the file is still this one.
        public var isCurrent: Bool { Self.of(path) == self }
    }

    /// Whether `entry` is done and still true: its video (every view's video of a session) unchanged, every output
    /// present as written.
    public static func isCurrent(_ entry: Entry) -> Bool {
        guard entry.state == .done, let outputs = entry.outputs, !outputs.isEmpty,
            let read = entry.views == nil ? entry.source.map({ [$0] }) : entry.sources,
            read.map(\.path) == entry.videos
        else { return false }
        return read.allSatisfy(\.isCurrent) && outputs.allSatisfy(\.isCurrent)
    }

    /// The manifest in `output`, or nil when there is none.
    public static func load(from output: String) throws -> BatchManifest? { try load(file: path(in: output)) }

    /// The manifest at `path`, or nil when there is none.
    public static func load(file path: String) throws -> BatchManifest? {
        guard FileManager.default.fileExists(atPath: path) else { return nil }
        let data: Data
        do {
            data = try Data(contentsOf: URL(fileURLWithPath: path))
        } catch {
            throw PoseModelError("\(path): cannot read the batch manifest: \(FileProblem.describe(error))")
        }
        let decoder = JSONDecoder()
        decoder.dateDecodingStrategy = .iso8601
        guard let manifest = try? decoder.decode(BatchManifest.self, from: data), manifest.format == formatName else {
            throw PoseModelError(
                "\(path) is not a batch manifest Kinema can read (damaged, or another program's file); move it away to start the batch afresh"
            )
        }
        return manifest
    }

    /// Writes the manifest into `output` in one step (temporary file, then rename).
    public func save(to output: String) throws { try save(file: Self.path(in: output)) }

    /// Writes the manifest to `path` in one step.
    public func save(file path: String) throws {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]
        encoder.dateEncodingStrategy = .iso8601
        let data = try encoder.encode(self)
        try AtomicFile.write(data + Data("\n".utf8), to: URL(fileURLWithPath: path))
    }

    /// The entry of `video`, added as pending when the manifest has none.
    public mutating func index(of video: String) -> Int {
        if let i = videos.firstIndex(where: { $0.video == video }) { return i }
        videos.append(Entry(video: video))
        return videos.count - 1
    }
}
