// The labels of a project while it is being labelled: read once, changed one frame at a time, and saved after
// every change, atomically, with the file as it was before this session kept in a backup folder.
import Foundation
import KinemaFiles
import PoseFormats

/// A frame's keypoints: `nil` for a keypoint not labelled (or marked not visible), else its image coordinates.
public typealias FramePoints = [[Double]?]

/// The label files of one project, in memory, saved through `AtomicFile` after each change.
///
/// Backups: before a session first writes a label file, the file as it was is copied to
/// `label-backups/<UTC start of the session>/<its path in the project>`. A `.bak` beside the file, replaced at every
/// save, would hold only the state of one click ago; the session copy holds what the file was before this
/// session's work, which is what one wants back after a bad session, at one copy per file per session. The folder
/// is beside `labeled-data/`, not in it, because DeepLabCut reads every folder in `labeled-data/`.
public actor LabelStore {
    public nonisolated let project: LabelProject
    /// The label tables by CSV path (absolute); absent until a file exists or a frame of it is saved.
    private var tables: [String: PoseTable] = [:]
    /// Row of each frame in its table, by frame path.
    private var rows: [String: [String: Int]] = [:]
    /// The bytes of each label file (and `.h5` twin) as last read or written, nil when it did not exist: a
    /// difference means another program wrote it.
    private var seen: [String: FileStamp?] = [:]
    /// Machine labels (refinement) per video, read on first use; nil when the video has none.
    private var machine: [String: MachineLabels?] = [:]
    /// This session's backup folder, and the files already backed up into it.
    public nonisolated let backupFolder: String
    private var backedUp = Set<String>()

    /// Reads every existing label file of the project.
    /// - Throws: `LabellingError.unreadableLabels` or `.keypointsDiffer` naming the file; nothing is written.
    public init(project: LabelProject, sessionStart: Date = Date()) throws(LabellingError) {
        self.project = project
        let stamp = ISO8601DateFormatter.string(
            from: sessionStart, timeZone: TimeZone(identifier: "UTC")!, formatOptions: [.withInternetDateTime]
        )
        .replacingOccurrences(of: ":", with: "-")
        backupFolder = "\(project.root)/label-backups/\(stamp)"
        for file in project.labelFiles {
            for twin in [file, (file as NSString).deletingPathExtension + ".h5"] { seen[twin] = .some(FileStamp(twin)) }
            guard let source = Self.existingSource(csv: file, layout: project.layout) else { continue }
            let table = try Self.read(source, keypoints: project.keypoints)
            tables[file] = table
            rows[file] = Self.rowIndex(table)
        }
        if !project.cameraViews.isEmpty { try Self.checkInstants(project: project, tables: tables) }
    }

    /// A multi-camera project's CSVs hold the same instants in the same rows (what training checks): the same
    /// count and, row by row, the same image file names. A view whose file does not exist yet counts as empty.
    private static func checkInstants(project: LabelProject, tables: [String: PoseTable]) throws(LabellingError) {
        let files = project.labelFiles, views = project.cameraViews
        let keys = files.map { tables[$0]?.rowKeys ?? [] }
        for v in files.indices.dropFirst() {
            if keys[v].count != keys[0].count {
                throw .viewsDiffer(
                    file: files[v],
                    reason:
                        "view \(views[v]) has \(keys[v].count) labelled frames but view \(views[0]) has \(keys[0].count) (\(files[0]))")
            }
            for (n, (a, b)) in zip(keys[0], keys[v]).enumerated()
            where project.instant(of: Self.frameKey(a)) != project.instant(of: Self.frameKey(b)) {
                throw .viewsDiffer(file: files[v], reason: "row \(n + 1) is \(b) but row \(n + 1) of view \(views[0]) is \(a)")
            }
        }
    }

    // MARK: - Reading

    /// The file a table is read from: DeepLabCut trains from the `.h5` (the `.csv` is its export), so it wins.
    static func existingSource(csv: String, layout: LabelProject.Layout) -> String? {
        let h5 = (csv as NSString).deletingPathExtension + ".h5"
        if layout == .deepLabCut, FileManager.default.fileExists(atPath: h5) { return h5 }
        return FileManager.default.fileExists(atPath: csv) ? csv : nil
    }

    /// A pose table from `.csv` or `.h5`.
    static func readTable(_ path: String) throws -> PoseTable {
        let url = URL(fileURLWithPath: path)
        return url.pathExtension.lowercased() == "h5" ? try PoseTable.readHDF5(from: url) : try PoseTable.read(from: url)
    }

    /// A label table with exactly the project's keypoints (in any order) and `x`, `y` columns.
    static func read(_ path: String, keypoints: [String]) throws(LabellingError) -> PoseTable {
        let table: PoseTable
        do { table = try readTable(path) } catch { throw .unreadableLabels(file: path, reason: "\(error)") }
        let missing = keypoints.filter { !table.keypoints.contains($0) }
        let extra = table.keypoints.filter { !keypoints.contains($0) }
        guard missing.isEmpty, extra.isEmpty else { throw .keypointsDiffer(file: path, missing: missing, extra: extra) }
        guard table.coordIndex("x") != nil, table.coordIndex("y") != nil else {
            throw .unreadableLabels(file: path, reason: "it has no x and y columns")
        }
        return table
    }

    /// Row keys as frame paths: old DeepLabCut files write `labeled-data\video\img.png`.
    static func frameKey(_ rowKey: String) -> String { rowKey.replacingOccurrences(of: "\\", with: "/") }

    static func rowIndex(_ table: PoseTable) -> [String: Int] {
        var index: [String: Int] = [:]
        for (row, key) in table.rowKeys.enumerated() { index[frameKey(key)] = row }
        return index
    }

    // MARK: - Frames

    /// A frame's saved labels (nil when the frame has no row yet), in the project's keypoint order.
    public func labels(frame: String) throws(LabellingError) -> FramePoints? {
        _ = try project.frameFile(frame)
        let file = project.labelFile(frame: frame)
        guard let table = tables[file], let row = existingRow(frame, in: file) else { return nil }
        return Self.points(table, row: row, keypoints: project.keypoints)
    }

    /// Machine labels of a frame that has no human label yet (refinement), else nil.
    public func machineLabels(frame: String) throws(LabellingError) -> FramePoints? {
        guard try labels(frame: frame) == nil else { return nil }
        let video = LabelProject.video(of: frame)
        if machine[video] == nil { machine[video] = MachineLabels.latest(in: project.root, video: video) }
        guard let found = machine[video] ?? nil, let row = found.rows[frame] else { return nil }
        let points = Self.points(found.table, row: row, keypoints: project.keypoints)
        return points.contains { $0 != nil } ? points : nil
    }

    /// The row of `frame` in `file`; in a multi-camera project, the row of its instant (the same file name in the
    /// same session), whatever folder the row key names.
    private func existingRow(_ frame: String, in file: String) -> Int? {
        if let row = rows[file]?[frame] { return row }
        guard !project.cameraViews.isEmpty, let table = tables[file] else { return nil }
        let instant = project.instant(of: frame)
        return table.rowKeys.firstIndex { project.instant(of: Self.frameKey($0)) == instant }
    }

    static func points(_ table: PoseTable, row: Int, keypoints: [String]) -> FramePoints {
        let x = table.coordIndex("x") ?? 0, y = table.coordIndex("y") ?? 1
        return keypoints.map { name in
            guard let k = table.keypointIndex(name) else { return nil }
            let px = table.value(row: row, keypoint: k, coord: x), py = table.value(row: row, keypoint: k, coord: y)
            return px.isFinite && py.isFinite ? [px, py] : nil
        }
    }

    /// Which frames of each video are labelled (have a row in their label file), in the project's order.
    public func labelledFrames() -> [[Bool]] {
        project.videos.map { video in
            video.frames.map { existingRow($0, in: project.labelFile(frame: $0)) != nil }
        }
    }

    // MARK: - Saving

    /// Sets a frame's keypoints and saves its label file (and, in DeepLabCut projects, the `.h5` beside it).
    /// - Throws: `LabellingError`; on any error the file on disk and the labels in memory are as they were.
    public func save(frame: String, points: FramePoints) throws(LabellingError) {
        _ = try project.frameFile(frame)
        guard points.count == project.keypoints.count else {
            throw .badRequest(reason: "\(points.count) keypoints sent, the project has \(project.keypoints.count)")
        }
        for point in points {
            guard let point else { continue }
            guard point.count == 2, point.allSatisfy(\.isFinite) else {
                throw .badRequest(reason: "a keypoint is two finite numbers (x, y) or null")
            }
        }
        let file = project.labelFile(frame: frame)
        // The files this save changes, with their new tables: the frame's own; in a multi-camera project, a new
        // instant is a new row in every view's CSV (NaN in the others), at the same place, so row n stays one instant.
        var changed: [(file: String, table: PoseTable, rowKey: String)] = []
        var insert = true
        let row: Int
        if let existing = existingRow(frame, in: file) {
            row = existing
            insert = false
            changed = [(file, tables[file]!, frame)]
        } else if project.cameraViews.isEmpty {
            let table = try savedTable(file)
            // New rows go where they sort, so a sorted file (as DeepLabCut and LP write them) stays sorted.
            row = table.rowKeys.firstIndex { Self.frameKey($0).compare(frame, options: .numeric) == .orderedDescending } ?? table.rowCount
            changed = [(file, table, frame)]
        } else {
            guard let slots = project.viewFrames(of: frame), !slots.contains(nil) else {
                let lacking =
                    project.viewFrames(of: frame).map { slots in
                        project.cameraViews.indices.filter { slots[$0] == nil }.map { project.cameraViews[$0] }.joined(separator: ", ")
                    } ?? "?"
                throw .missingView(frame: frame, views: lacking)
            }
            let instant = project.instant(of: frame)
            let first = try savedTable(project.labelFiles[0])
            row =
                first.rowKeys.firstIndex {
                    project.instant(of: Self.frameKey($0)).compare(instant, options: .numeric) == .orderedDescending
                }
                ?? first.rowCount
            for (v, viewFile) in project.labelFiles.enumerated() {
                let table = try savedTable(viewFile)
                changed.append((viewFile, table, slots[v]!))
            }
        }
        for c in changed.indices where insert {
            let width = changed[c].table.columnsPerRow
            changed[c].table.rowKeys.insert(changed[c].rowKey, at: row)
            changed[c].table.values.insert(contentsOf: [Double](repeating: .nan, count: width), at: row * width)
            for e in changed[c].table.extraColumns.indices { changed[c].table.extraColumns[e].cells.insert("", at: row) }
        }
        guard let c = changed.firstIndex(where: { $0.file == file }) else { return }
        var table = changed[c].table
        let x = table.coordIndex("x") ?? 0, y = table.coordIndex("y") ?? 1
        for (k, name) in project.keypoints.enumerated() {
            guard let column = table.keypointIndex(name) else { continue }
            table.setValue(points[k]?[0] ?? .nan, row: row, keypoint: column, coord: x)
            table.setValue(points[k]?[1] ?? .nan, row: row, keypoint: column, coord: y)
        }
        changed[c].table = table
        try write(changed.map { (table: $0.table, csv: $0.file) })
        for change in changed {
            tables[change.file] = change.table
            rows[change.file] = Self.rowIndex(change.table)
        }
    }

    /// The table of `file` as saved, or a new empty one.
    private func savedTable(_ file: String) throws(LabellingError) -> PoseTable {
        if let existing = tables[file] { return existing }
        return try newTable()
    }

    /// An empty label table in the project's layout: image-path rows (LP), DeepLabCut's 3-level rows.
    private func newTable() throws(LabellingError) -> PoseTable {
        do {
            return try PoseTable(
                scorer: project.scorer, keypoints: project.keypoints, coords: ["x", "y"], rowKeys: [],
                indexStyle: project.layout == .deepLabCut ? .dlcThreeLevel : .imagePath, values: [])
        } catch { throw .saveFailed(file: project.config, reason: "\(error)") }
    }

    /// Backs the files up (once per session), then writes each table: the `.h5` (DeepLabCut's training copy, first,
    /// so a failure leaves both files as they were) and the CSV, each atomically. When a later file fails, the ones
    /// written before it get their bytes back (a multi-camera save changes every view's CSV or none).
    private func write(_ changes: [(table: PoseTable, csv: String)]) throws(LabellingError) {
        let writes = changes.flatMap { change in
            let h5 = (change.csv as NSString).deletingPathExtension + ".h5"
            return (project.layout == .deepLabCut ? [h5, change.csv] : [change.csv]).map { (change.table, $0) }
        }
        for (_, file) in writes {
            guard (seen[file] ?? nil) == FileStamp(file) else { throw .changedOnDisk(file: file) }
        }
        for (_, file) in writes { try backUp(file) }
        var done: [(file: String, before: FileStamp?)] = []
        for (table, file) in writes {
            do {
                if file.hasSuffix(".h5") {
                    try table.writeHDF5(to: URL(fileURLWithPath: file))
                } else {
                    try AtomicFile.write(table.csvBytes(), to: file)
                }
            } catch {
                for (earlier, before) in done.reversed() {
                    if let before {
                        try? AtomicFile.write(before.bytes, to: URL(fileURLWithPath: earlier))
                    } else {
                        try? FileManager.default.removeItem(atPath: earlier)
                    }
                    seen[earlier] = .some(FileStamp(earlier))
                }
                throw .saveFailed(file: file, reason: "\(error)")
            }
            done.append((file, seen[file] ?? nil))
            seen[file] = .some(FileStamp(file))
        }
    }

    /// Copies `file` as it was before this session into the session's backup folder (first write only).
    private func backUp(_ file: String) throws(LabellingError) {
        guard !backedUp.contains(file) else { return }
        if let data = FileManager.default.contents(atPath: file) {
            let relative =
                file.hasPrefix(project.root + "/") ? String(file.dropFirst(project.root.count + 1)) : (file as NSString).lastPathComponent
            do {
                try AtomicFile.write(data, to: URL(fileURLWithPath: "\(backupFolder)/\(relative)"))
            } catch { throw .saveFailed(file: file, reason: "its backup could not be written: \(error)") }
        }
        backedUp.insert(file)
    }
}

/// What tells that a file changed: its bytes. Size and modification time are not enough: the kernel's file clock
/// ticks every few milliseconds, so an edit that keeps the size within one tick of our save goes unseen (label
/// files are small; comparing them costs little next to writing them).
struct FileStamp: Equatable {
    var bytes: Data
    init?(_ path: String) {
        guard let bytes = FileManager.default.contents(atPath: path) else { return nil }
        self.bytes = bytes
    }
}

/// The machine labels of one video folder (`machinelabels-iter<N>.csv` or `.h5`, the highest N).
struct MachineLabels {
    var table: PoseTable
    var rows: [String: Int]

    /// The latest iteration's machine labels in `labeled-data/<video>/`, nil when there are none or they cannot be
    /// read (refining then starts from empty frames; the human labels are never affected).
    static func latest(in root: String, video: String) -> MachineLabels? {
        let folder = video.isEmpty ? "\(root)/labeled-data" : "\(root)/labeled-data/\(video)"
        let names = (try? FileManager.default.contentsOfDirectory(atPath: folder)) ?? []
        let candidates = names.compactMap { name -> (Int, Int, String)? in
            guard name.hasPrefix("machinelabels-iter") else { return nil }
            let rest = name.dropFirst("machinelabels-iter".count)
            let ext = (String(rest) as NSString).pathExtension.lowercased()
            guard let n = Int((String(rest) as NSString).deletingPathExtension), ext == "csv" || ext == "h5" else { return nil }
            return (n, ext == "csv" ? 1 : 0, name)
        }
        guard let best = candidates.max(by: { ($0.0, $0.1) < ($1.0, $1.1) }),
            let table = try? LabelStore.readTable("\(folder)/\(best.2)"),
            table.coordIndex("x") != nil, table.coordIndex("y") != nil
        else { return nil }
        return MachineLabels(table: table, rows: LabelStore.rowIndex(table))
    }
}
