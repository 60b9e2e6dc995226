// `kinema plot PREDICTION`: every picture of one prediction into one folder (DeepLabCut's `plot-poses/<stem>/`).
import Foundation
import KinemaFiles
import Plotting
import PoseFormats

extension PosePlots {
    /// The default folder: `plot-poses/<stem>/` beside the prediction, as DeepLabCut's plot_trajectories.
    public static func defaultFolder(for prediction: URL) -> URL {
        prediction.deletingLastPathComponent().appendingPathComponent("plot-poses")
            .appendingPathComponent(prediction.deletingPathExtension().lastPathComponent)
    }

    /// What `write` made: the files, and lines for the terminal.
    public struct Written: Sendable {
        public var files: [String] = []
        public var lines: [String] = []
    }

    /// Writes `plot.png` (x and y over time), `plot-likelihood.png`, `hist.png` (jumps) and, with labels,
    /// `label-errors.png` and `<stem>_pixel_error.csv` into `folder` (default: `defaultFolder`). Everything is read
    /// and drawn before the first file is written; each file is written atomically.
    public static func write(prediction url: URL, labels labelsURL: URL?, folder: URL?, pcutoff: Double) throws -> Written {
        let name = url.lastPathComponent, stem = url.deletingPathExtension().lastPathComponent
        let table = try PoseTable.read(from: url)
        guard table.rowCount > 0 else { throw PoseAnalysisError("\(url.path): has no rows to plot") }
        var pictures: [(String, Canvas)] = [
            ("plot.png", try trajectories(table, pcutoff: pcutoff, title: name).render())
        ]
        if table.coordIndex("likelihood") != nil {
            pictures.append(("plot-likelihood.png", try likelihood(table, pcutoff: pcutoff, title: name).render()))
        }
        let stats = try JumpStatistics(table, pcutoff: pcutoff)
        pictures.append(("hist.png", jumps(stats, pcutoff: pcutoff, title: name)))
        var written = Written()
        written.lines.append("\(name): \(table.rowCount) rows, \(table.keypoints.count) keypoints, \(stats.total) jumps counted")
        if let largest = stats.largest.first {
            written.lines.append(
                "largest jump: \(largest.keypoint) into frame \(largest.row), \(String(format: "%.1f", largest.pixels)) px")
        }
        var errorTable: FrameMetric?
        if let labelsURL {
            let labels = try PoseTable.read(from: labelsURL)
            let rows = try LabelMatching.rows(prediction: table, predictionFile: url, labels: labels, labelsFile: labelsURL.path)
            let errors = try FrameMetric.pixelError(prediction: table, labels: labels, rows: rows)
            pictures.append(("label-errors.png", labelErrors(errors, title: "\(name) against \(labelsURL.lastPathComponent)")))
            errorTable = errors
            written.lines += MetricsReport(metrics: [errors]).summaryLines(title: "error on \(rows.count) labelled frames")
        }
        let out = folder ?? defaultFolder(for: url)
        do {
            try FileManager.default.createDirectory(at: out, withIntermediateDirectories: true)
        } catch {
            throw PoseAnalysisError("\(out.path): cannot create the folder for the plots (\(FileProblem.describe(error)))")
        }
        for (file, picture) in pictures {
            let path = out.appendingPathComponent(file)
            try picture.writePNG(to: path)
            written.files.append(path.path)
        }
        if let errorTable {
            let path = out.appendingPathComponent(stem + "_pixel_error.csv").path
            try errorTable.write(to: path)
            written.files.append(path)
        }
        return written
    }
}
