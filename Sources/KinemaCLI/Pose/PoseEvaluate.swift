// `kinema evaluate`: pixel errors of a trained model on its labelled frames.
import ArgumentParser
import Foundation
import PoseData
import PoseModels

struct PoseEvaluate: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "evaluate",
        abstract: "Pixel error per keypoint and split (original image pixels), and DeepLabCut's error table.",
        discussion: "Writes predictions.csv and predictions_pixel_error.csv into the model directory.")

    @Argument(help: "Model directory written by `kinema train`.")
    var model: String

    @Option(help: "Likelihood cut-off for the `rmse_pcutoff` columns (default: the project's pcutoff / LP 0.9).")
    var pcutoff: Double?

    @OptionGroup var device: DeviceOption
    @OptionGroup var precision: PrecisionOption

    func run() throws {
        let target = try device.target()
        let precision = try precision.resolved(on: target)
        let trained = try TrainedModel(directory: model, device: target)
        trained.model.precision = precision
        try trained.folder.checkWritable()  // before the work, not after it
        let evaluation = try PoseWorkflows.evaluate(trained)
        print(evaluation.report(pcutoff: pcutoff ?? trained.project.pcutoff))
    }
}
