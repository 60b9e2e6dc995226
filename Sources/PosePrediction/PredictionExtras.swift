// What is written beside every video prediction (#12.5, #13.6): LP's per-frame metrics (§1.4: temporal norm, pose
// PCA error, multiview PCA error), their one-screen summary and `<stem>_metrics.png`, and DeepLabCut's `.h5`.
//
// The PCA errors use the subspace the trainer fits (PoseModels' `FittedSubspace`, LP's NaN-aware PCA with the
// config's `components_to_keep` and centring) on the model's *training-split* labels in frame pixels. The model folder
// does not store the fit, so it is refitted here from the labels its config names, with the same split: a fit of a
// few hundred labelled frames takes milliseconds. LP writes a PCA error only when its data keys are set; Kinema writes
// the pose PCA error for every project (all keypoints unless `data.columns_for_singleview_pca` says otherwise; per
// view for separate cameras) and the multiview one when `data.mirrored_column_matches` pairs the views or the
// project has separate cameras (`data.view_names`: every keypoint, unless mirrored_column_matches picks some).
import Foundation
import PoseAnalysis
import PoseData
import PoseFormats
import PoseModels

extension PredictionOutputs {
    /// LP's per-frame metric file of a video: `<stem>_<metric>.csv` (`temporal_norm`, `pca_singleview_error`, …).
    public func metric(_ name: String, video: String) -> String { path + "/" + Self.stem(of: video) + "_" + name + ".csv" }
    /// The picture of a video's metrics, `<stem>_metrics.png`.
    public func metricsPicture(video: String) -> String { path + "/" + Self.stem(of: video) + "_metrics.png" }
}

/// The extras of one prediction run: fitted once, written for each video. Separate cameras (`data.view_names`):
/// pose PCA per view (fitted on that view's labels) and multiview PCA across the views of an instant.
struct PredictionExtras {
    /// Write `<stem>.h5` beside `<stem>.csv`.
    let h5: Bool
    /// One per view (one for a single-view project); empty when it cannot be fitted.
    let pcaSingleview: [FittedSubspace]
    let pcaMultiview: FittedSubspace?
    /// Separate cameras' view names; empty for one view.
    let views: [String]

    /// Fits the PCA subspaces of `trained`'s training labels; a PCA that cannot be fitted (labels moved, too few
    /// frames) is one line in the log and its file is not written.
    init(_ trained: TrainedModel, h5: Bool?, log: (String) -> Void) {
        self.h5 = h5 ?? (trained.project.kind == .deepLabCut)
        var config = trained.project.config
        let keypoints = trained.model.keypointNames
        views = config.cameraViews
        let viewCount = max(1, views.count)
        var wanted = [UnsupervisedLossKind.pcaSingleview.rawValue]
        if !config.mirroredColumnMatches.isEmpty || viewCount > 1 { wanted.append(UnsupervisedLossKind.pcaMultiview.rawValue) }
        config.model.lossesToUse = wanted
        var single: [FittedSubspace] = [], multi: FittedSubspace?
        do {
            let settings = try UnsupervisedLossSettings(config: config, keypointCount: keypoints.count * viewCount)
            let frames = try Self.trainingLabels(trained.project, keypoints: keypoints)
            func fit(_ pca: UnsupervisedLossSettings.PCA?, frames: [[Double]]) -> FittedSubspace? {
                guard var pca else { return nil }
                pca.epsilon = 0  // ε is the loss's margin, not needed for the error itself
                do { return try FittedSubspace.fit(pca, frames: frames) } catch {
                    log("note: no \(pca.key.replacingOccurrences(of: "losses.", with: "")) error files: \(error)")
                    return nil
                }
            }
            let n = 2 * keypoints.count
            single = (0..<viewCount).compactMap { v in
                fit(settings.pcaSingleview, frames: frames.map { viewCount == 1 ? $0 : Array($0[(v * n)..<((v + 1) * n)]) })
            }
            if single.count != viewCount { single = [] }
            multi = fit(settings.pcaMultiview, frames: frames)
        } catch {
            log("note: no PCA error files (the model's training labels cannot be read: \(error))")
        }
        (pcaSingleview, pcaMultiview) = (single, multi)
    }

    /// The labelled training frames `[x₀, y₀, x₁, y₁, …]` (frame pixels, NaN = unlabelled) in the order training
    /// reads them (label files in turn, rows in order), restricted to the config's training split. Separate
    /// cameras: row n of every view's file side by side, view after view.
    static func trainingLabels(_ project: PoseProject, keypoints: [String]) throws -> [[Double]] {
        var perFile: [[[Double]]] = []
        for file in project.labelFiles {
            let table = try PoseTable.read(from: URL(fileURLWithPath: file))
            guard let xi = table.coordIndex("x"), let yi = table.coordIndex("y") else {
                throw PoseAnalysisError("\(file): has no x and y columns")
            }
            let columns = try keypoints.map { name in
                guard let k = table.keypointIndex(name) else { throw PoseAnalysisError("\(file): has no keypoint \(name)") }
                return k
            }
            perFile.append(
                (0..<table.rowCount).map { r in
                    columns.flatMap { [table.value(row: r, keypoint: $0, coord: xi), table.value(row: r, keypoint: $0, coord: yi)] }
                })
        }
        var frames: [[Double]]
        if project.config.cameraViews.isEmpty {
            frames = Array(perFile.joined())
        } else {
            guard Set(perFile.map(\.count)).count == 1 else {
                throw PoseAnalysisError("the views' label files have different row counts: \(project.labelFiles.joined(separator: ", "))")
            }
            frames = (0..<perFile[0].count).map { n in Array(perFile.map { $0[n] }.joined()) }
        }
        return DataSplit.of(project.config, count: frames.count).train.map { frames[$0] }
    }

    /// The metrics of one prediction, in LP's order.
    func metrics(_ table: PoseTable) throws -> [FrameMetric] {
        var metrics = [try FrameMetric.temporalNorm(table)]
        if let pcaSingleview = pcaSingleview.first { metrics.append(pcaSingleview.frameErrors(table, name: "pca_singleview_error")) }
        if let pcaMultiview { metrics.append(pcaMultiview.frameErrors(table, name: "pca_multiview_error")) }
        return metrics
    }

    /// The metrics of a session's views (their tables in view order, the same frames): each view's temporal norm and
    /// pose PCA error, and the multiview PCA error of the views side by side, split back per view.
    func metrics(views tables: [PoseTable]) throws -> [[FrameMetric]] {
        var perView: [[FrameMetric]] = []
        for (v, table) in tables.enumerated() {
            var metrics = [try FrameMetric.temporalNorm(table)]
            if v < pcaSingleview.count { metrics.append(pcaSingleview[v].frameErrors(table, name: "pca_singleview_error")) }
            perView.append(metrics)
        }
        guard let pcaMultiview, let first = tables.first else { return perView }
        let k = first.keypoints.count
        var x: [Double] = [], y: [Double] = [], likelihood: [Double] = []
        for r in 0..<first.rowCount {
            for table in tables {
                let xi = table.coordIndex("x"), yi = table.coordIndex("y")
                for j in 0..<k {
                    x.append(xi.map { table.value(row: r, keypoint: j, coord: $0) } ?? .nan)
                    y.append(yi.map { table.value(row: r, keypoint: j, coord: $0) } ?? .nan)
                    likelihood.append(1)
                }
            }
        }
        let joined = try PoseTable.predictions(
            scorer: first.scorer, keypoints: tables.indices.flatMap { v in first.keypoints.map { "\($0)_\(v)" } }, x: x, y: y,
            likelihood: likelihood)
        let all = pcaMultiview.frameErrors(joined, name: "pca_multiview_error"), width = tables.count * k
        for v in tables.indices {
            var values: [Double] = []
            for r in 0..<first.rowCount {
                let start = r * width + v * k
                values += all.values[start..<(start + k)]
            }
            perView[v].append(FrameMetric(name: all.name, keypoints: first.keypoints, rowKeys: first.rowKeys, values: values))
        }
        return perView
    }

    /// Writes the extras of one video's prediction (already written to `csv`) and logs the summary; returns the files.
    func write(_ table: PoseTable, video: String, csv: String, outputs: PredictionOutputs, log: (String) -> Void) throws -> [String] {
        try write(table, metrics: try metrics(table), video: video, csv: csv, outputs: outputs, log: log)
    }

    /// The same with the metrics given (a view of a multi-camera session).
    func write(
        _ table: PoseTable, metrics: [FrameMetric], video: String, csv: String, outputs: PredictionOutputs, log: (String) -> Void
    ) throws -> [String] {
        var files: [String] = []
        if h5 {
            let path = (csv as NSString).deletingPathExtension + ".h5"
            try table.writeHDF5(to: URL(fileURLWithPath: path))
            files.append(path)
        }
        for metric in metrics {
            let path = outputs.metric(metric.name, video: video)
            try metric.write(to: path)
            files.append(path)
        }
        let report = MetricsReport(metrics: metrics)
        let name = (video as NSString).lastPathComponent
        let picture = outputs.metricsPicture(video: video)
        try report.writeFigure(title: "per-frame metrics of \(name)", to: picture)
        files.append(picture)
        for line in report.summaryLines(title: "per-frame metrics of \(name)") { log(line) }
        return files
    }
}

extension FittedSubspace {
    /// A PCA's per-frame error of a prediction: each keypoint's distance from its reconstruction (LP's residual
    /// per (x, y) pair); NaN for keypoints the PCA does not cover and for frames with a missing point.
    public func frameErrors(_ table: PoseTable, name: String) -> FrameMetric {
        let k = table.keypoints.count
        var values = [Double](repeating: .nan, count: table.rowCount * k)
        guard let xi = table.coordIndex("x"), let yi = table.coordIndex("y") else {
            return FrameMetric(name: name, keypoints: table.keypoints, rowKeys: table.rowKeys, values: values)
        }
        let frames = (0..<table.rowCount).map { r in
            (0..<k).flatMap { [table.value(row: r, keypoint: $0, coord: xi), table.value(row: r, keypoint: $0, coord: yi)] }
        }
        let rows = settings.observation.rows(frames: frames)
        switch settings.observation {
        case .pose(let keypoints, _):
            for (r, row) in rows.enumerated() {
                for (i, residual) in pca.residuals(row).enumerated() { values[r * k + keypoints[i]] = residual }
            }
        case .bodyPartInViews(let views):
            let parts = views[0].count
            for (i, row) in rows.enumerated() {
                let r = i / parts, part = i % parts
                for (v, residual) in pca.residuals(row).enumerated() { values[r * k + views[v][part]] = residual }
            }
        }
        return FrameMetric(name: name, keypoints: table.keypoints, rowKeys: table.rowKeys, values: values)
    }
}
