// A project as the labelling app sees it: its keypoints, skeleton, frames and where their labels go.
import ConfigDecoding
import Foundation
import PoseData

/// The frames of a Kinema/LP or DeepLabCut project and the files their labels belong in.
///
/// Frames are the PNGs that `kinema extract-frames` (or DeepLabCut) wrote: `labeled-data/<video>/img<index>.png`,
/// and, as in LP's mirror-mouse example, PNGs directly in `labeled-data/` (video name `""`). A frame is known by
/// its path relative to `root`, which is also its row key in the label files.
///
/// A multi-camera project (`data.view_names` with one CSV per view) has a folder per view and session,
/// `labeled-data/<session>_<view>/` or `labeled-data/<view>/`; the frames of one session with the same file name
/// are one instant, and a `Video` is then a session whose entries are instants.
public struct LabelProject: Sendable {
    public enum Layout: String, Sendable, Codable { case kinema, deepLabCut }

    /// One video's frames (paths relative to `root`, in frame order); in a multi-camera project, one session's
    /// instants.
    public struct Video: Sendable, Equatable {
        public var name: String
        /// Per frame (instant), its path: in a multi-camera project the first view's that has it.
        public var frames: [String]
        /// Multi-camera projects: per instant, each view's frame (nil where that view has no image); else empty.
        public var views: [[String?]] = []
    }

    /// The project folder's name, for the page title.
    public var name: String
    /// The folder that holds `labeled-data/` (an LP config's `data_dir`; a DeepLabCut project's folder), with its
    /// symbolic links resolved: paths are checked against it.
    public var root: String
    public var config: String
    public var layout: Layout
    /// Keypoint names in column order.
    public var keypoints: [String]
    /// Skeleton edges as keypoint indices (edges naming unknown keypoints are left out: they are drawing only).
    public var skeleton: [[Int]]
    /// A colour per keypoint: mirrored views' matching keypoints (`mirrored_column_matches`) share one.
    public var colours: [Int]
    /// The `scorer` of new label files (DeepLabCut: `CollectedData_<scorer>`).
    public var scorer: String
    public var videos: [Video]
    /// Kinema/LP layout: the one label CSV of every video (the config's `csv_file`).
    var sharedLabelFile: String
    /// Multi-camera projects: the view names (`data.view_names`) and each view's label CSV, absolute; else empty.
    public var cameraViews: [String] = []
    var viewLabelFiles: [String] = []
    /// Multi-camera projects: what could not be matched up (a view's frame missing at an instant, a folder naming
    /// no view), one line each, for the terminal and the page.
    public var unmatched: [String] = []

    /// Every frame of the project, for the checks on requests.
    var frameSet: Set<String> {
        Set(videos.flatMap { $0.views.isEmpty ? $0.frames : $0.views.flatMap { $0.compactMap { $0 } } })
    }

    /// Reads PROJECT: a project folder with `config.yaml`, or a config file (Kinema/LP, or DeepLabCut's).
    /// - Throws: `LabellingError.notAProject` naming what is wrong.
    public static func open(_ path: String) throws(LabellingError) -> LabelProject {
        var isFolder: ObjCBool = false
        guard FileManager.default.fileExists(atPath: path, isDirectory: &isFolder) else {
            throw .notAProject(path: path, reason: "no such folder or file")
        }
        let config = PoseConfig.absolute(isFolder.boolValue ? (path as NSString).appendingPathComponent("config.yaml") : path)
        guard FileManager.default.fileExists(atPath: config) else {
            throw .notAProject(path: path, reason: "it has no config.yaml (create one with `kinema project create`)")
        }
        guard let data = FileManager.default.contents(atPath: config), let text = String(data: data, encoding: .utf8) else {
            throw .notAProject(path: config, reason: "the config cannot be read as text")
        }
        let node: ConfigNode
        do { node = try ConfigNode.parse(text, file: config) } catch { throw .notAProject(path: config, reason: "\(error)") }
        var project: LabelProject
        if node["Task"] != nil, node["bodyparts"] != nil {
            project = try deepLabCut(node, config: config)
        } else {
            project = try kinema(config: config)
        }
        project.videos = frames(in: project.root, layout: project.layout)
        if !project.cameraViews.isEmpty { project.groupInstants() }
        return project
    }

    /// A DeepLabCut `config.yaml`: bodyparts, skeleton and scorer; labels per video as
    /// `labeled-data/<video>/CollectedData_<scorer>.csv` and `.h5`.
    private static func deepLabCut(_ node: ConfigNode, config: String) throws(LabellingError) -> LabelProject {
        if node["multianimalproject"]?.text == "true" {
            throw .notAProject(path: config, reason: "multi-animal DeepLabCut projects are not supported")
        }
        let keypoints = node["bodyparts"]?.items?.compactMap(\.text) ?? []
        guard !keypoints.isEmpty else { throw .notAProject(path: config, reason: "`bodyparts` lists no keypoint") }
        let scorer = node["scorer"]?.text ?? ""
        guard !scorer.isEmpty, !scorer.contains("/") else {
            throw .notAProject(path: config, reason: "`scorer` is empty or holds '/' (labels go to CollectedData_<scorer>.csv)")
        }
        let edges = node["skeleton"]?.items?.map { $0.items?.compactMap(\.text) ?? [] } ?? []
        let folder = (config as NSString).deletingLastPathComponent
        return LabelProject(
            name: (folder as NSString).lastPathComponent, root: realPath(folder), config: config, layout: .deepLabCut,
            keypoints: keypoints, skeleton: indexEdges(edges, keypoints), colours: Array(keypoints.indices), scorer: scorer,
            videos: [], sharedLabelFile: "")
    }

    /// A Kinema/LP config: `keypoint_names` (else the label CSV's), `skeleton`, `mirrored_column_matches`, and the
    /// one label file `csv_file` under `data_dir`.
    private static func kinema(config: String) throws(LabellingError) -> LabelProject {
        let loaded: PoseConfig
        do { loaded = try PoseConfig.load(path: config) } catch { throw .notAProject(path: config, reason: "\(error)") }
        let root = realPath(loaded.dataDir)
        var keypoints = loaded.keypointNames ?? []
        var scorer = "kinema"
        if let existing = try? LabelStore.readTable(loaded.csvPath) {
            scorer = existing.scorer
            if keypoints.isEmpty { keypoints = existing.keypoints }
        }
        guard !keypoints.isEmpty else {
            throw .notAProject(path: config, reason: "it lists no `keypoint_names` and has no label file to take them from")
        }
        var colours = Array(keypoints.indices)
        // Matching keypoints of mirrored views share a colour: the same paw is the same colour in both views.
        if let first = loaded.mirroredColumnMatches.first {
            for group in loaded.mirroredColumnMatches.dropFirst() where group.count == first.count {
                for (a, b) in zip(first, group) where colours.indices.contains(a) && colours.indices.contains(b) { colours[b] = a }
            }
        }
        let name = ((config as NSString).deletingLastPathComponent as NSString).lastPathComponent
        return LabelProject(
            name: name, root: root, config: config, layout: .kinema, keypoints: keypoints,
            skeleton: indexEdges(loaded.skeleton, keypoints), colours: colours, scorer: scorer, videos: [],
            sharedLabelFile: loaded.csvPath, cameraViews: loaded.cameraViews,
            viewLabelFiles: loaded.cameraViews.isEmpty ? [] : loaded.csvPaths)
    }

    private static func indexEdges(_ edges: [[String]], _ keypoints: [String]) -> [[Int]] {
        edges.compactMap { edge in
            guard edge.count == 2, let a = keypoints.firstIndex(of: edge[0]), let b = keypoints.firstIndex(of: edge[1]) else { return nil }
            return [a, b]
        }
    }

    // MARK: - Frames

    /// The PNG frames under `labeled-data/`: one video per folder (DeepLabCut's `*_labeled` check folders and
    /// hidden ones left out), PNGs directly inside as video `""` (Kinema/LP layout only). Files whose real path
    /// leaves the project (a symbolic link out) are not frames.
    static func frames(in root: String, layout: Layout) -> [Video] {
        let fm = FileManager.default
        let labeled = root + "/labeled-data"
        func pngs(_ folder: String, prefix: String) -> [String] {
            let names = ((try? fm.contentsOfDirectory(atPath: folder)) ?? []).filter {
                !$0.hasPrefix(".") && $0.lowercased().hasSuffix(".png")
            }
            return names.sorted { $0.compare($1, options: .numeric) == .orderedAscending }.map { prefix + $0 }
                .filter { (try? inside(root: root, $0)) != nil }
        }
        var videos: [Video] = []
        if layout == .kinema {
            let top = pngs(labeled, prefix: "labeled-data/")
            if !top.isEmpty { videos.append(Video(name: "", frames: top)) }
        }
        let folders = ((try? fm.contentsOfDirectory(atPath: labeled)) ?? []).sorted()
        for folder in folders where !folder.hasPrefix(".") && !folder.hasSuffix("_labeled") {
            var isFolder: ObjCBool = false
            guard fm.fileExists(atPath: labeled + "/" + folder, isDirectory: &isFolder), isFolder.boolValue else { continue }
            let frames = pngs(labeled + "/" + folder, prefix: "labeled-data/\(folder)/")
            if !frames.isEmpty { videos.append(Video(name: folder, frames: frames)) }
        }
        return videos
    }

    /// The video folder of a frame (`labeled-data/<video>/img1.png` → `<video>`; `""` for top-level frames).
    static func video(of frame: String) -> String {
        let parts = frame.split(separator: "/")
        return parts.count == 3 ? String(parts[1]) : ""
    }

    // MARK: - Label files

    /// The CSV that holds `frame`'s labels, absolute: the shared one (Kinema/LP), its view's (multi-camera), its
    /// video folder's (DeepLabCut).
    func labelFile(frame: String) -> String {
        let video = Self.video(of: frame)
        if layout == .deepLabCut { return "\(root)/labeled-data/\(video)/CollectedData_\(scorer).csv" }
        if let view = viewOf(folder: video)?.view { return viewLabelFiles[view] }
        return sharedLabelFile
    }

    /// Every label file the project's frames use (one in Kinema/LP layout; one per view of a multi-camera project,
    /// in view order; one per video in DeepLabCut's).
    public var labelFiles: [String] {
        if !cameraViews.isEmpty { return viewLabelFiles }
        var seen = Set<String>()
        return videos.compactMap(\.frames.first).map(labelFile(frame:)).filter { seen.insert($0).inserted }
    }

    // MARK: - Views of a multi-camera project

    /// The view and session of a folder in `labeled-data/`: `<session>_<view>` (LP, as `extract-frames` names them)
    /// or `<view>` alone (session `""`); nil when the folder names no view or several, or the project has one camera.
    func viewOf(folder: String) -> (view: Int, session: String)? {
        let matched = cameraViews.indices.filter { ViewSession.containsWord(folder, cameraViews[$0]) }
        guard matched.count == 1 else { return nil }
        let view = cameraViews[matched[0]]
        return (matched[0], folder == view ? "" : ViewSession.sessionName(folder, view: view))
    }

    /// The instant a row key or frame path stands for, `<session>/<file name>`: the same in every view's CSV, and
    /// what rows are sorted by.
    func instant(of frame: String) -> String {
        let folder = Self.video(of: frame)
        return (viewOf(folder: folder)?.session ?? folder) + "/" + (frame as NSString).lastPathComponent
    }

    /// Each view's frame at `frame`'s instant (multi-camera projects; nil where a view lacks it), nil when the
    /// project lists no such frame.
    func viewFrames(of frame: String) -> [String?]? {
        for video in videos { if let slots = video.views.first(where: { $0.contains(frame) }) { return slots } }
        return nil
    }

    /// Regroups the per-folder frames into sessions of instants, and says what does not match up: a view's image
    /// missing at an instant, or a folder naming no view (its frames are left out).
    private mutating func groupInstants() {
        var sessions: [String: [String: [String?]]] = [:]
        var unmatched: [String] = []
        for video in videos {
            guard let match = viewOf(folder: video.name) else {
                let folder = video.name.isEmpty ? "labeled-data/" : "labeled-data/\(video.name)/"
                unmatched.append(
                    "\(folder): \(video.frames.count) frame(s) left out: the folder's name holds none of the views \(cameraViews.joined(separator: ", ")) (or several); name it <session>_<view>"
                )
                continue
            }
            for frame in video.frames {
                let name = (frame as NSString).lastPathComponent
                var slots = sessions[match.session, default: [:]][name] ?? Array(repeating: nil, count: cameraViews.count)
                slots[match.view] = frame
                sessions[match.session, default: [:]][name] = slots
            }
        }
        videos = sessions.keys.sorted().map { session in
            let names = sessions[session]!.keys.sorted { $0.compare($1, options: .numeric) == .orderedAscending }
            let views = names.map { sessions[session]![$0]! }
            for (name, slots) in zip(names, views) where slots.contains(nil) {
                let has = cameraViews.indices.filter { slots[$0] != nil }.map { cameraViews[$0] }
                let lacks = cameraViews.indices.filter { slots[$0] == nil }.map { cameraViews[$0] }
                unmatched.append(
                    "\(session.isEmpty ? "" : session + " ")\(name): only in view \(has.joined(separator: ", ")), missing in \(lacks.joined(separator: ", ")) (extract it from that camera's video before labelling it)"
                )
            }
            return Video(name: session, frames: views.map { $0.compactMap { $0 }[0] }, views: views)
        }
        self.unmatched = unmatched
    }

    // MARK: - Paths from requests

    /// The absolute path of `relative` inside `root`, refusing absolute paths, `..`, empty parts and anything
    /// whose real path (symbolic links followed) is not inside the project.
    public static func inside(root: String, _ relative: String) throws(LabellingError) -> String {
        guard !relative.isEmpty, !relative.hasPrefix("/"), !relative.contains("\0"), !relative.contains("\\") else {
            throw .refusedPath(path: relative, reason: "give a path relative to the project")
        }
        let parts = relative.split(separator: "/", omittingEmptySubsequences: false)
        guard !parts.contains(where: { $0.isEmpty || $0 == "." || $0 == ".." }) else {
            throw .refusedPath(path: relative, reason: "'.', '..' and empty parts are not allowed")
        }
        let real = realPath(root + "/" + relative)
        guard real.hasPrefix(root + "/") else {
            throw .refusedPath(path: relative, reason: "it leads outside the project")
        }
        return real
    }

    /// The file of a frame the project lists, checked as `inside` does.
    public func frameFile(_ frame: String) throws(LabellingError) -> String {
        guard frameSet.contains(frame) else {
            throw .refusedPath(path: frame, reason: "not one of the project's frames in labeled-data/")
        }
        return try Self.inside(root: root, frame)
    }

    /// `path` with every symbolic link resolved (`realpath(3)`); the path itself when it does not exist.
    public static func realPath(_ path: String) -> String {
        guard let resolved = realpath(path, nil) else { return (path as NSString).standardizingPath }
        defer { free(resolved) }
        return String(cString: resolved)
    }
}
