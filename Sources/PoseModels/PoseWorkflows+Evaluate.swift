// `kinema evaluate`: a trained model on its labelled frames, written into the model folder.
import Foundation
import PoseData
import PoseFormats

/// The end-to-end steps behind `kinema train / evaluate / predict / demo`, kept out of the CLI so that
/// tests and the demo call exactly the same code (prediction and train-then-predict: PosePrediction).
public enum PoseWorkflows {
    /// Evaluates a trained model on its labelled frames: writes `predictions.csv` and
    /// `predictions_pixel_error.csv` into the model directory and returns the evaluation.
    public static func evaluate(_ trained: TrainedModel, dataset: LabeledDataset? = nil) throws -> LabeledEvaluation {
        let data = try dataset ?? LabeledDataset.load(project: trained.project)
        let config = trained.model.config
        let split = DataSplit.of(config, count: data.count)
        let evaluation = try trained.model.evaluate(dataset: data, split: split)
        guard !data.viewNames.isEmpty else {
            try evaluation.write(to: trained.folder, rowKeys: data.frames.map(\.key), scorer: trained.scorer)
            return evaluation
        }
        // Separate cameras: one pair of files per view (LP's `predictions_<view>.csv`), rows keyed by that view's images.
        let keys = try trained.project.labelFiles.map { try PoseTable.read(from: URL(fileURLWithPath: $0)).rowKeys }
        for (v, view) in data.viewNames.enumerated() {
            try evaluation.view(v, of: data.viewCount, keypointNames: data.keypointNames).write(
                predictions: trained.folder.predictions(view: view), errors: trained.folder.predictionErrors(view: view),
                rowKeys: keys[v], scorer: trained.scorer)
        }
        return evaluation
    }
}
