// The files `kinema predict` writes for one predicted video, the CSV and then the extras beside it, as one public
// step: `kinema bench predict --breakdown` times exactly this code (docs/arch/pose.md, *Prediction cost*).
import Foundation
import KinemaConsole
import PoseData
import PoseFormats
import PoseModels

/// Writes a video's prediction into an output folder as `PoseWorkflows.predict` does: `<stem>.csv`, then
/// `PredictionExtras` (per-frame metrics, their picture, `.h5` when asked). The PCA behind the metrics is fitted
/// once, here.
public struct PredictionFiles {
    public let outputs: PredictionOutputs
    let extras: PredictionExtras
    let dlcScorer: String?

    public init(_ trained: TrainedModel, outputDirectory: String, h5: Bool? = nil, log: (String) -> Void = logLine) {
        outputs = PredictionOutputs(outputDirectory)
        extras = PredictionExtras(trained, h5: h5, log: log)
        dlcScorer = trained.project.kind == .deepLabCut ? trained.scorer : nil
    }

    /// Writes `table` (the prediction of `video`) and its extras; returns the files written, the CSV first.
    public func write(_ table: PoseTable, video: String, log: (String) -> Void = logLine) throws -> [String] {
        let csv = outputs.keypoints(video: video, dlcScorer: dlcScorer)
        try table.write(to: URL(fileURLWithPath: csv))
        return try [csv] + extras.write(table, video: video, csv: csv, outputs: outputs, log: log)
    }
}
