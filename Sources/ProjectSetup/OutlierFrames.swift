// Outlier frames of a prediction written into the project for refinement (DeepLabCut's extract_outlier_frames):
// the chosen frames as labeled-data/<video>/img<index>.png and the network's keypoints for them as machine labels,
// `machinelabels-iter<N>.csv` (and `.h5` in DeepLabCut projects), which the labelling app shows as movable points.
import Foundation
import KinemaFiles
import PoseFormats
import VideoIO

public struct OutlierOptions: Sendable, Equatable {
    /// The criteria; empty: every one the prediction supports (`OutlierSelection.available`, plus pca when given).
    public var criteria: [OutlierCriterion] = []
    public var thresholds = OutlierThresholds()
    /// New frames per video (DeepLabCut's `numframes2pick`).
    public var count = 20
    /// Seeds the k-means thinning.
    public var seed: UInt64 = 0
    /// At most this many candidates (the most severe) are decoded as thumbnails and clustered.
    public var sampleLimit = 1000
    /// Thumbnail width in pixels (DeepLabCut's `cluster_resizewidth`).
    public var thumbnailWidth = 30
    public init() {}
}

/// What one prediction gave.
public struct OutlierResult: Sendable, Equatable {
    public var video: String
    /// `labeled-data/<video stem>`, absolute.
    public var folder: String
    public var frameCount: Int
    /// The criteria applied, and how many frames (not yet extracted) each found.
    public var candidatesPerCriterion: [(criterion: OutlierCriterion, frames: Int)]
    /// Frames that fail at least one criterion (not yet extracted).
    public var candidates: Int
    /// The frames chosen, written as images and machine labels, ascending.
    public var chosen: [OutlierCandidate]
    /// Frames already in `labeled-data/<video>/` (never candidates, never rewritten).
    public var alreadyThere: Int
    /// The machine-label files written (`.csv`, and `.h5` in DeepLabCut projects).
    public var machineLabels: [String]

    public static func == (a: Self, b: Self) -> Bool {
        a.video == b.video && a.folder == b.folder && a.frameCount == b.frameCount && a.candidates == b.candidates
            && a.chosen == b.chosen && a.alreadyThere == b.alreadyThere && a.machineLabels == b.machineLabels
            && a.candidatesPerCriterion.map(\.criterion) == b.candidatesPerCriterion.map(\.criterion)
            && a.candidatesPerCriterion.map(\.frames) == b.candidatesPerCriterion.map(\.frames)
    }
}

public enum OutlierFrames {
    public enum Stage: String, Sendable { case thumbnails, writing }

    /// The scorer of machine labels (the contract with the labelling app).
    public static let machineScorer = "machine"

    /// `machinelabels-iter<iteration>.csv` (or `.h5`).
    public static func machineLabelsName(iteration: Int, ext: String = "csv") -> String { "machinelabels-iter\(iteration).\(ext)" }

    // MARK: - Which video

    /// The project video `prediction` is for: the one whose file stem is the prediction's stem, else the one with the
    /// longest stem the prediction's begins with (DeepLabCut names its outputs `<video>DLC_<network>….csv`).
    /// - Throws: `ProjectSetupError.badPrediction` naming the project's videos when none fits.
    public static func video(for prediction: String, in project: ProjectVideos) throws -> String {
        let stem = ProjectCreation.stem(of: prediction)
        if let exact = project.videos.first(where: { ProjectCreation.stem(of: $0) == stem }) { return exact }
        let prefixed = project.videos.filter { stem.hasPrefix(ProjectCreation.stem(of: $0)) }
        if let longest = prefixed.max(by: { ProjectCreation.stem(of: $0).count < ProjectCreation.stem(of: $1).count }) {
            return longest
        }
        let names = project.videos.map { ($0 as NSString).lastPathComponent }
        throw ProjectSetupError.badPrediction(
            path: prediction,
            reason:
                "its name matches no video of the project (\(names.isEmpty ? "it has none" : names.joined(separator: ", "))); name the prediction after its video or give --video"
        )
    }

    // MARK: - Checking a prediction

    /// `table` with the project's keypoints in the project's order, after checking that its rows are frames of a
    /// `frameCount`-frame video and that it has exactly the project's keypoints.
    public static func checked(_ table: PoseTable, file: String, keypoints: [String], frameCount: Int) throws -> PoseTable {
        guard let frames = table.frameNumbers else {
            throw ProjectSetupError.badPrediction(path: file, reason: "its rows are images, not the frames of a video")
        }
        guard !frames.isEmpty else { throw ProjectSetupError.badPrediction(path: file, reason: "it has no frames") }
        if let outside = frames.first(where: { !(0..<frameCount).contains($0) }) {
            throw ProjectSetupError.badPrediction(
                path: file, reason: "it has frame \(outside), outside the video (frames 0…\(frameCount - 1)); is it for another video?")
        }
        guard !keypoints.isEmpty else { return table }
        let unknown = table.keypoints.filter { !keypoints.contains($0) }
        guard unknown.isEmpty else { throw ProjectSetupError.unknownKeypoints(path: file, keypoints: unknown, project: keypoints) }
        let missing = keypoints.filter { !table.keypoints.contains($0) }
        guard missing.isEmpty else {
            throw ProjectSetupError.badPrediction(path: file, reason: "it lacks the project's keypoints \(missing.joined(separator: ", "))")
        }
        guard table.keypoints != keypoints else { return table }
        let order = keypoints.map { table.keypointIndex($0)! }
        var values: [Double] = []
        values.reserveCapacity(table.values.count)
        for row in 0..<table.rowCount {
            for j in order { for c in table.coords.indices { values.append(table.value(row: row, keypoint: j, coord: c)) } }
        }
        return try PoseTable(
            scorer: table.scorer, keypoints: keypoints, coords: table.coords, rowKeys: table.rowKeys, indexStyle: table.indexStyle,
            values: values)
    }

    // MARK: - Extracting

    /// Chooses up to `options.count` outlier frames of `video` from its prediction and writes them into the project:
    /// `labeled-data/<stem>/img<index>.png` and the prediction's keypoints for them in `machinelabels-iter<iteration>`
    /// (added to an existing file; its rows win). Frames already in the folder are never candidates nor rewritten;
    /// CollectedData is not touched. Everything is checked before the first write.
    /// - Parameters:
    ///   - prediction: the prediction as read (frame-number rows; any keypoint order).
    ///   - pca: given the prediction in the project's keypoint order, its pose-PCA errors; nil: no pca criterion.
    ///   - progress: the stage, frames done, frames in the stage.
    /// - Throws: `ProjectSetupError` for a prediction that does not fit; `.stoppedPartWay` when writing stops after
    ///   some frames (those are kept, with their machine labels).
    public static func extract(
        prediction: PoseTable, file: String, video: String, project: ProjectVideos, iteration: Int, options: OutlierOptions,
        pca: ((PoseTable) throws -> PoseErrors?)? = nil, progress: (Stage, Int, Int) -> Void = { _, _, _ in }
    ) throws -> OutlierResult {
        guard options.count > 0 else { throw ProjectSetupError.badOption(option: "--count", reason: "must be at least 1") }
        let reader = try VideoReader(path: video)
        let frameCount = reader.frameCount
        let table = try checked(prediction, file: file, keypoints: project.keypoints, frameCount: frameCount)
        let stem = ProjectCreation.stem(of: video)
        let folder = project.labeledFolder(stem: stem)
        let existing = FrameExtraction.existingFrames(in: folder)

        var criteria = options.criteria.isEmpty ? OutlierSelection.available(in: table) : options.criteria
        let available = OutlierSelection.available(in: table)
        if let missing = criteria.first(where: { $0 != .pca && !available.contains($0) }) {
            let needs =
                missing == .spread
                ? "ensemble variance columns (x_ens_var, y_ens_var: an ensemble's EKS prediction, `kinema predict ENSEMBLE`)"
                : missing == .likelihood ? "a likelihood column" : "x and y columns"
            throw ProjectSetupError.badPrediction(path: file, reason: "--by \(missing.rawValue) needs \(needs)")
        }
        var errors: PoseErrors? = nil
        if options.criteria.isEmpty || criteria.contains(.pca), let pca {
            errors = try pca(table)
            if errors != nil, !criteria.contains(.pca) { criteria.append(.pca) }
        }
        if criteria.contains(.pca), errors == nil {
            throw ProjectSetupError.badPrediction(
                path: file, reason: "--by pca needs a pose PCA fitted on the project's labels, and there is none")
        }
        criteria = Set(criteria).sorted()

        // Machine labels already there must fit the project before anything is written.
        let ext = project.layout == .deepLabCut ? ["csv", "h5"] : ["csv"]
        let labelFiles = ext.map { (folder as NSString).appendingPathComponent(machineLabelsName(iteration: iteration, ext: $0)) }
        let earlier = try existingMachineLabels(labelFiles[0], keypoints: table.keypoints)

        let candidates = OutlierSelection.candidates(
            in: table, by: criteria, thresholds: options.thresholds, pca: errors, excluding: existing)
        let perCriterion: [(criterion: OutlierCriterion, frames: Int)] = criteria.map { c in
            (criterion: c, frames: candidates.filter { $0.reasons.contains { $0.criterion == c } }.count)
        }
        var chosen = candidates
        if candidates.count > options.count {
            let pool = OutlierSelection.mostSevere(candidates, limit: max(options.sampleLimit, options.count))
            let grey = try FrameExtraction.thumbnails(of: pool.map(\.frame), reader: reader, width: options.thumbnailWidth) {
                progress(.thumbnails, $0, pool.count)
            }
            chosen = OutlierSelection.thin(
                Array(pool.prefix(grey.decoded)), thumbnails: grey.vectors, dimension: grey.dimension, count: options.count,
                seed: options.seed)
        }

        var done = 0
        var stopped: Error? = nil
        do {
            _ = try FrameExtraction.writeFrames(chosen.map(\.frame), of: video, reader: reader, folder: folder) {
                done = $0
                progress(.writing, $0, chosen.count)
            }
        } catch {
            stopped = error  // the frames written before it keep their machine labels
        }
        let written = Array(chosen.prefix(done).map(\.frame))
        var files: [String] = []
        if !written.isEmpty {
            let rows = try machineLabels(table, frames: written, stem: stem, frameCount: frameCount, layout: project.layout)
            let merged = try appending(rows, to: earlier)
            for path in labelFiles.reversed() {  // the .h5 (DeepLabCut's own) first: the CSV is its copy
                do { try merged.write(to: URL(fileURLWithPath: path)) } catch {
                    throw ProjectSetupError.writeFailed(
                        path: path, reason: "\(FileProblem.describe(error)); the \(written.count) new frames in \(folder) are kept")
                }
                files.insert(path, at: 0)
            }
        }
        if let stopped { throw stopped }
        return OutlierResult(
            video: video, folder: folder, frameCount: frameCount, candidatesPerCriterion: perCriterion, candidates: candidates.count,
            chosen: Array(chosen.prefix(done)), alreadyThere: existing.count, machineLabels: files)
    }

    // MARK: - Machine labels

    /// The prediction's x, y and likelihood of `frames` as a machine-label table: scorer "machine", rows
    /// `labeled-data/<stem>/img<index>.png` (DeepLabCut's three-level index in DeepLabCut projects).
    public static func machineLabels(
        _ table: PoseTable, frames: [Int], stem: String, frameCount: Int, layout: ProjectLayout
    ) throws -> PoseTable {
        let rowOf = Dictionary(zip(table.frameNumbers ?? [], 0...), uniquingKeysWith: { a, _ in a })
        let coords = ["x", "y", "likelihood"].map { table.coordIndex($0) }
        var values: [Double] = []
        for frame in frames {
            for j in table.keypoints.indices {
                for c in coords {
                    values.append(c.flatMap { c in rowOf[frame].map { table.value(row: $0, keypoint: j, coord: c) } } ?? .nan)
                }
            }
        }
        let keys = frames.map { "labeled-data/\(stem)/\(FrameExtraction.imageName(frame: $0, frameCount: frameCount))" }
        return try PoseTable(
            scorer: machineScorer, keypoints: table.keypoints, coords: ["x", "y", "likelihood"], rowKeys: keys,
            indexStyle: layout == .deepLabCut ? .dlcThreeLevel : .imagePath, values: values)
    }

    /// The machine labels already in `path` (nil when there is none), checked against the project's keypoints.
    static func existingMachineLabels(_ path: String, keypoints: [String]) throws -> PoseTable? {
        guard FileManager.default.fileExists(atPath: path) else { return nil }
        let table = try PoseTable.read(from: URL(fileURLWithPath: path))
        let unknown = table.keypoints.filter { !keypoints.contains($0) }
        guard unknown.isEmpty else { throw ProjectSetupError.unknownKeypoints(path: path, keypoints: unknown, project: keypoints) }
        guard table.keypoints == keypoints, table.coords == ["x", "y", "likelihood"] else {
            throw ProjectSetupError.badPrediction(
                path: path, reason: "its columns are not the project's keypoints with x, y, likelihood; move it aside to start anew")
        }
        return table
    }

    /// `earlier` followed by the rows of `new` it does not have (its rows win, as in DeepLabCut).
    static func appending(_ new: PoseTable, to earlier: PoseTable?) throws -> PoseTable {
        guard var merged = earlier else { return new }
        let have = Set(merged.rowKeys)
        let perRow = new.columnsPerRow
        for (row, key) in new.rowKeys.enumerated() where !have.contains(key) {
            merged.rowKeys.append(key)
            merged.values += new.values[(row * perRow)..<((row + 1) * perRow)]
        }
        merged.scorer = machineScorer
        merged.indexStyle = new.indexStyle
        return merged
    }
}
