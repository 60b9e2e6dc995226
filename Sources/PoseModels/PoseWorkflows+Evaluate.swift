// `kinema evaluate`: a trained model on its labelled frames, written into the model folder.
import PoseData

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
        try evaluation.write(to: trained.folder, rowKeys: data.frames.map(\.key), scorer: trained.scorer)
        return evaluation
    }
}
