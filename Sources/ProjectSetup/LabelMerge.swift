// `kinema merge`: the end of a refinement round (DeepLabCut's merge_datasets). Frames refined in the labelling app are
// already in CollectedData; machine-labelled frames no one reviewed are reported (or, when asked, added as they are);
// every existing label is kept; then the project's iteration advances, so the next model is trained as a new round.
import Foundation
import KinemaFiles
import PoseFormats

public struct MergeOptions: Sendable, Equatable {
    /// Add machine-labelled frames no one reviewed to CollectedData with the machine's keypoints.
    public var includeUnreviewed = false
    /// Merge without them (they stay in labeled-data/, unlabelled).
    public var leaveUnreviewed = false
    public init() {}
}

/// What a merge did.
public struct MergeReport: Sendable, Equatable {
    public var iteration: Int
    public var nextIteration: Int
    /// Machine-labelled frames already in CollectedData (saved in the labelling app), per video folder.
    public var reviewed: [String: Int]
    /// Row keys of unreviewed frames (added with `includeUnreviewed`, else left out).
    public var unreviewed: [String]
    /// Whether `unreviewed` were added to CollectedData.
    public var addedUnreviewed: Bool
    /// Machine-labelled frames whose image was deleted (not labelled, not added).
    public var imageRemoved: [String]
    /// Label files written, in order.
    public var written: [String]
    /// The copy kept of each written file's previous content (files that existed).
    public var backups: [String: String]
}

public enum LabelMerge {
    /// Merges the refinement round of `project` and advances its iteration. Checks everything before the first write.
    /// - Throws: `ProjectSetupError.unreviewedFrames` when frames were not reviewed and `options` says neither to include
    ///   nor to leave them; `.unknownKeypoints` for label files with keypoints the project lacks.
    public static func merge(project: ProjectVideos, options: MergeOptions) throws -> MergeReport {
        if !project.views.isEmpty, options.includeUnreviewed {
            // One view's machine rows alone would break the rule that row n of every view's CSV is one instant.
            throw ProjectSetupError.badOption(
                option: "--include-unreviewed",
                reason:
                    "not available for multi-camera projects (each view's CSV must get the same rows); review those frames in `kinema label`, or merge with --leave-unreviewed"
            )
        }
        let iteration = try ProjectIteration.current(config: project.config)
        let labeledData = (project.root as NSString).appendingPathComponent("labeled-data")
        let folders = ((try? FileManager.default.contentsOfDirectory(atPath: labeledData)) ?? []).sorted()
            .filter { !$0.hasSuffix("_labeled") }

        var kinemaLabels = try project.layout == .kinema ? readLabels(project.labelsCSV, project: project) : nil
        // A multi-camera project: each view's CSV, read once (frames are reviewed into their own view's file).
        var viewLabels: [String: PoseTable?] = [:]
        for file in project.viewLabelsCSVs { viewLabels[file] = try readLabels(file, project: project) }
        var updates: [(path: String, table: PoseTable)] = []
        var report = MergeReport(
            iteration: iteration, nextIteration: iteration + 1, reviewed: [:], unreviewed: [], addedUnreviewed: false,
            imageRemoved: [], written: [], backups: [:])
        for name in folders {
            let folder = (labeledData as NSString).appendingPathComponent(name)
            let machinePath = (folder as NSString).appendingPathComponent(OutlierFrames.machineLabelsName(iteration: iteration))
            guard FileManager.default.fileExists(atPath: machinePath) else { continue }
            let machine = try PoseTable.read(from: URL(fileURLWithPath: machinePath))
            try checkKeypoints(machine, path: machinePath, project: project)
            let labelsPath =
                project.layout == .kinema
                ? project.labelsCSV(folder: name) ?? project.labelsCSV
                : (folder as NSString).appendingPathComponent("CollectedData_\(project.scorer)")
            let labels =
                try !project.views.isEmpty
                ? viewLabels[labelsPath] ?? nil
                : project.layout == .kinema ? kinemaLabels : readLabels(labelsPath, project: project)
            let labelled = Set((labels?.rowKeys ?? []).map(normalised))
            var missing: [Int] = []
            for (row, key) in machine.rowKeys.enumerated() {
                let image = (folder as NSString).appendingPathComponent((normalised(key) as NSString).lastPathComponent)
                if labelled.contains(normalised(key)) {
                    report.reviewed[name, default: 0] += 1
                } else if !FileManager.default.fileExists(atPath: image) {
                    report.imageRemoved.append(key)
                } else {
                    report.unreviewed.append(key)
                    missing.append(row)
                }
            }
            guard options.includeUnreviewed, !missing.isEmpty else { continue }
            let added = try adding(rows: missing, of: machine, to: labels, project: project)
            if project.layout == .kinema {
                kinemaLabels = added
            } else {
                updates.append((labelsPath, added))
            }
        }
        if !report.unreviewed.isEmpty, !options.includeUnreviewed, !options.leaveUnreviewed {
            throw ProjectSetupError.unreviewedFrames(count: report.unreviewed.count, examples: Array(report.unreviewed.prefix(3)))
        }
        if project.layout == .kinema, options.includeUnreviewed, !report.unreviewed.isEmpty, let kinemaLabels {
            updates.append((project.labelsCSV, kinemaLabels))
        }

        for (path, table) in updates {
            // DeepLabCut's own .h5 first, then its CSV copy; a Kinema project's one CSV.
            let files = project.layout == .deepLabCut ? [path + ".h5", path + ".csv"] : [path]
            for file in files {
                let backup = file + ".before-merge-iter\(iteration)"
                // A backup left by an earlier, interrupted merge of this round holds the older labels: it is kept.
                if FileManager.default.fileExists(atPath: file), !FileManager.default.fileExists(atPath: backup) {
                    do {
                        try FileManager.default.copyItem(atPath: file, toPath: backup)
                    } catch {
                        throw ProjectSetupError.writeFailed(path: backup, reason: FileProblem.describe(error))
                    }
                }
                if FileManager.default.fileExists(atPath: backup) { report.backups[file] = backup }
                do { try table.write(to: URL(fileURLWithPath: file)) } catch {
                    throw ProjectSetupError.writeFailed(
                        path: file, reason: "\(FileProblem.describe(error)); labels written so far: \(report.written.count), backups kept")
                }
                report.written.append(file)
            }
        }
        report.addedUnreviewed = options.includeUnreviewed && !report.unreviewed.isEmpty
        report.nextIteration = try ProjectIteration.advance(config: project.config)
        return report
    }

    /// A row key in one spelling: forward slashes, no leading `./`.
    static func normalised(_ key: String) -> String {
        var key = key.replacingOccurrences(of: "\\", with: "/")
        while key.hasPrefix("./") { key.removeFirst(2) }
        return key
    }

    /// The labels at `path` (a Kinema project's CSV; for DeepLabCut `CollectedData_<scorer>` without extension:
    /// the `.h5` it trains from, else the `.csv`); nil when there are none yet.
    static func readLabels(_ path: String, project: ProjectVideos) throws -> PoseTable? {
        let candidates = project.layout == .deepLabCut ? [path + ".h5", path + ".csv"] : [path]
        guard let file = candidates.first(where: { FileManager.default.fileExists(atPath: $0) }) else { return nil }
        let table = try PoseTable.read(from: URL(fileURLWithPath: file))
        try checkKeypoints(table, path: file, project: project)
        return table
    }

    private static func checkKeypoints(_ table: PoseTable, path: String, project: ProjectVideos) throws {
        guard !project.keypoints.isEmpty else { return }
        let unknown = table.keypoints.filter { !project.keypoints.contains($0) }
        if !unknown.isEmpty { throw ProjectSetupError.unknownKeypoints(path: path, keypoints: unknown, project: project.keypoints) }
    }

    /// `labels` (or a new label table) with the machine's x and y of `rows` added at the end, in the labels' keypoint
    /// order (a keypoint the machine lacks is left unlabelled); existing rows are not touched.
    static func adding(rows: [Int], of machine: PoseTable, to labels: PoseTable?, project: ProjectVideos) throws -> PoseTable {
        let keypoints = labels?.keypoints ?? (project.keypoints.isEmpty ? machine.keypoints : project.keypoints)
        var table =
            try labels
            ?? PoseTable(
                scorer: project.scorer.isEmpty ? "kinema" : project.scorer, keypoints: keypoints, coords: ["x", "y"], rowKeys: [],
                indexStyle: project.layout == .deepLabCut ? .dlcThreeLevel : .imagePath, values: [])
        let mx = machine.coordIndex("x"), my = machine.coordIndex("y")
        for row in rows {
            table.rowKeys.append(normalised(machine.rowKeys[row]))
            for name in table.keypoints {
                let j = machine.keypointIndex(name)
                for coord in table.coords {
                    let c = coord == "x" ? mx : coord == "y" ? my : nil
                    table.values.append(j.flatMap { j in c.map { machine.value(row: row, keypoint: j, coord: $0) } } ?? .nan)
                }
            }
            for e in table.extraColumns.indices { table.extraColumns[e].cells.append("") }
        }
        return table
    }
}
