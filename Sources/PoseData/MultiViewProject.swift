// Multi-camera projects with one video per camera (LP's `data.view_names`): one label CSV per view, videos grouped
// into sessions by the view name in their file names. The network sees every view as its own image (LP's
// non-fusion multiview heatmap model); the losses see an instant's views side by side (keypoint j of view v is
// column pair v·K + j), which is what multiview PCA needs.
import ConfigDecoding
import Foundation
import VideoIO

// MARK: - csv_file: one file or one per view

/// `data.csv_file`: one label CSV, or (multi-camera projects) a list with one per view in `view_names` order.
/// A single file is written back as a single value, so single-view configs read and write as before.
public struct LabelFiles: Codable, Sendable, Equatable, ExpressibleByStringLiteral, CustomStringConvertible {
    public var paths: [String]

    public init(_ paths: [String]) { self.paths = paths }
    public init(stringLiteral value: String) { paths = [value] }

    /// The first (or only) file.
    public var first: String { paths.first ?? "" }

    public init(from decoder: any Decoder) throws {
        paths = try [String](from: decoder)  // a single value reads as a one-element list
    }

    public func encode(to encoder: any Encoder) throws {
        if paths.count == 1 {
            var container = encoder.singleValueContainer()
            try container.encode(paths[0])
        } else {
            try paths.encode(to: encoder)
        }
    }

    public var description: String { paths.count == 1 ? paths[0] : "[\(paths.joined(separator: ", "))]" }
}

extension PoseConfig.DataSection {
    /// The views of separate cameras: `view_names` (two or more) with one label CSV per view, or without LP's
    /// mirrored layout (`mirrored_column_matches` with one list per view, which names the views of one image; LP's
    /// separate-camera configs give a single list of per-view indices there). Empty for one camera or mirrored views.
    public var cameraViews: [String] {
        guard let names = viewNames, names.count > 1, csvFile.paths.count > 1 || mirroredColumnMatches.count < 2 else { return [] }
        return names
    }

    /// `view_names` and `csv_file` agree: one CSV per view (several CSVs need view names), distinct view names.
    func checkViews(_ c: ConfigChecks) throws {
        let views = cameraViews
        if views.count > 1 {
            if Set(views).count != views.count || views.contains(where: \.isEmpty) {
                throw c.error(ConfigKey("view_names"), "must name each camera once, found \(views)")
            }
            if csvFile.paths.count != views.count {
                throw c.error(
                    ConfigKey("csv_file"),
                    "lists \(csvFile.paths.count) label file(s) but data.view_names names \(views.count) views (\(views.joined(separator: ", "))); give one label CSV per view, in view order"
                )
            }
        } else if csvFile.paths.count != 1 {
            throw c.error(
                ConfigKey("csv_file"),
                "lists \(csvFile.paths.count) label files; a project with several cameras names them in data.view_names (one CSV per view, same order)"
            )
        }
    }
}

// MARK: - Sessions: the videos of one recording, one per view

/// The videos of one recording session, one per camera view, in `view_names` order.
public struct ViewSession: Sendable, Equatable {
    /// The file name with the view name taken out (`mouse1_top.mp4` → `mouse1`, as LP).
    public var name: String
    /// One video per view, in view order.
    public var videos: [String]

    public init(name: String, videos: [String]) { (self.name, self.videos) = (name, videos) }

    /// Groups videos into sessions (LP's rule): a video belongs to view `v` when its file name (without the
    /// extension) contains the view name as a whole word, set off by non-alphanumeric characters or the name's ends
    /// (`mouse_top_3.mp4` is view `top`, `mousetop3.mp4` is no view); its session is the name with `_<view>`
    /// removed. Sessions are sorted by name.
    /// - Throws: one line for a video of no view or of several, two videos of one view in a session, or a session
    ///   missing a view.
    public static func group(_ videos: [String], views: [String]) throws(PoseDataError) -> [ViewSession] {
        var sessions: [String: [String?]] = [:]
        for video in videos {
            let stem = ((video as NSString).lastPathComponent as NSString).deletingPathExtension
            let matched = views.indices.filter { containsWord(stem, views[$0]) }
            guard matched.count == 1 else {
                throw PoseDataError(
                    file: video,
                    message: matched.isEmpty
                        ? "the file name names none of the views \(views.joined(separator: ", "))"
                        : "the file name names several views (\(matched.map { views[$0] }.joined(separator: ", ")))",
                    hint: "name each camera's video <session>_<view>.mp4, as data.view_names spells the views")
            }
            let v = matched[0]
            let session = sessionName(stem, view: views[v])
            var slots = sessions[session] ?? Array(repeating: nil, count: views.count)
            if let other = slots[v] {
                throw PoseDataError(
                    file: video, message: "session \(session) has two \(views[v]) videos (also \(other))",
                    hint: "give one video per view and session")
            }
            slots[v] = video
            sessions[session] = slots
        }
        return try sessions.keys.sorted().map { (name) throws(PoseDataError) -> ViewSession in
            let slots = sessions[name]!
            if let missing = slots.firstIndex(where: { $0 == nil }) {
                let present = slots.compactMap { $0 }
                throw PoseDataError(
                    file: present[0],
                    message:
                        "session \(name) has no \(views[missing]) video (found \(present.map { ($0 as NSString).lastPathComponent }.joined(separator: ", ")))",
                    hint: "every session needs one video per view: \(views.map { "\(name)_\($0)" }.joined(separator: ", "))")
            }
            return ViewSession(name: name, videos: slots.map { $0! })
        }
    }

    /// Whether `word` occurs in `text` set off by non-alphanumeric characters or the ends of `text`.
    public static func containsWord(_ text: String, _ word: String) -> Bool {
        var search = text.startIndex..<text.endIndex
        while let found = text.range(of: word, range: search) {
            let before = found.lowerBound == text.startIndex ? nil : text[text.index(before: found.lowerBound)]
            let after = found.upperBound == text.endIndex ? nil : text[found.upperBound]
            if !(before?.isLetter ?? false || before?.isNumber ?? false) && !(after?.isLetter ?? false || after?.isNumber ?? false) {
                return true
            }
            search = text.index(after: found.lowerBound)..<text.endIndex
        }
        return false
    }

    /// LP's `extract_session_name_from_video`: the name without `_<view>` (the whole name when no `_<view>` is in it).
    public static func sessionName(_ stem: String, view: String) -> String {
        stem.replacingOccurrences(of: "_" + view, with: "")
    }

    /// The frame count of every view's video (one indexing pass each).
    /// - Throws: one line when a video cannot be read or the views differ in frame count (they must be the same
    ///   instants).
    public func frameCount() throws -> Int {
        var counts: [Int] = []
        for video in videos {
            do {
                counts.append(try VideoReader(path: video).info.frameCount)
            } catch {
                throw PoseDataError(file: video, message: "cannot be read as a video: \(error)", hint: "re-encode it or leave it out")
            }
        }
        guard Set(counts).count == 1 else {
            let listed = zip(videos, counts).map { "\(($0 as NSString).lastPathComponent) \($1)" }.joined(separator: ", ")
            throw PoseDataError(
                file: videos[0], message: "the views of session \(name) differ in frame count (\(listed))",
                hint: "the cameras' videos must hold the same instants; trim them to the same frames")
        }
        return counts[0]
    }
}
