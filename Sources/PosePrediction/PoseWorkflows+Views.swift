// `kinema predict` for separate cameras (`data.view_names`): videos grouped into sessions, every view of a session
// predicted (one CSV per view, LP's `<video stem>.csv`), then the session's metrics, the multiview PCA error among
// them, which needs every view of the same frames.
import Foundation
import KinemaFiles
import PoseData
import PoseFormats
import PoseModels

extension PoseWorkflows {
    /// Predicts the sessions of `inputs` (video files, or folders of them; grouped by `ViewSession.group`). Every
    /// session is checked (one video per view, equal frame counts) before the first frame is predicted. Each view's
    /// CSV is written as soon as it is predicted; the metrics of a session follow its last view.
    static func predictSessions(
        _ trained: TrainedModel, inputs: [String], output: String, labeledVideo: Bool, threshold: Double?, batchSize: Int,
        h5: Bool?, showProgress: Bool, log: (String) -> Void, onFirstBatch: (() -> Void)?
    ) throws -> PredictionRun {
        let views = trained.model.config.cameraViews
        var videos: [String] = []
        for input in inputs {
            var isDirectory: ObjCBool = false
            guard FileManager.default.fileExists(atPath: input, isDirectory: &isDirectory) else {
                throw PoseModelError("\(input): no such file or folder; pass the videos of every view, or folders of them")
            }
            guard isDirectory.boolValue else { videos.append(input); continue }
            let files = try folderContents(input)
            let found = files.filter { videoExtensions.contains(($0 as NSString).pathExtension.lowercased()) }
            guard !found.isEmpty else { throw PoseModelError("\(input) holds no videos (mp4, avi, mov, mkv)") }
            videos += found.map { (input as NSString).appendingPathComponent($0) }
        }
        let sessions = try ViewSession.group(videos, views: views)
        for session in sessions { _ = try session.frameCount() }
        try checkWritableFolder(output)
        log(
            "\(sessions.count) session(s) of \(views.count) views (\(views.joined(separator: ", "))): \(sessions.map(\.name).joined(separator: ", "))"
        )

        var run = PredictionRun()
        let outputs = PredictionOutputs(output)
        let extras = PredictionExtras(trained, h5: h5, log: log)
        for session in sessions {
            var tables: [PoseTable] = [], csvs: [String] = []
            for video in session.videos {
                let (table, csv) = try predictVideoFile(
                    trained, input: video, outputs: outputs, labeledVideo: labeledVideo, threshold: threshold, batchSize: batchSize,
                    showProgress: showProgress, log: log, onFirstBatch: onFirstBatch, run: &run)
                tables.append(table)
                csvs.append(csv)
            }
            do {
                // A recording cut off in one view leaves the views with different rows: their metrics stop at the shortest.
                let rows = tables.map(\.rowCount).min() ?? 0
                let metrics = try extras.metrics(views: tables.map { $0.prefix(rows: rows) })
                for (v, video) in session.videos.enumerated() {
                    run.extras += try extras.write(tables[v], metrics: metrics[v], video: video, csv: csvs[v], outputs: outputs, log: log)
                }
            } catch {  // optional outputs: the CSVs are kept
                run.failedOutputs.append("warning: no metrics or .h5 for session \(session.name): \(FileProblem.sentence(error))")
                log(run.failedOutputs.last!)
            }
        }
        return run
    }
}

extension PoseTable {
    /// The first `rows` rows.
    func prefix(rows: Int) -> PoseTable {
        guard rows < rowCount else { return self }
        var copy = self
        copy.rowKeys = Array(rowKeys.prefix(rows))
        copy.values = Array(values.prefix(rows * columnsPerRow))
        copy.extraColumns = extraColumns.map { .init(header: $0.header, cells: Array($0.cells.prefix(rows))) }
        return copy
    }
}
