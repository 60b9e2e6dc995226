// `kinema predict`: keypoints for videos or image folders, optionally a labelled video.
import ArgumentParser
import Foundation
import PoseData
import PoseModels
import PosePrediction

struct PosePredict: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "predict",
        abstract: "Predict keypoints for videos or folders of images (LP/DLC CSV layout).")

    @Argument(help: "Model directory written by `kinema train`.")
    var model: String

    @Argument(help: "Videos and/or folders of images.")
    var inputs: [String]

    @Option(name: .customLong("output"), help: "Output folder (default: MODEL/video_preds).")
    var output: String?

    @Flag(name: .customLong("labeled-video"), help: "Also write <stem>_labeled.mp4 with the keypoints drawn.")
    var labeledVideo = false

    @Option(help: "Hide keypoints at or below this likelihood in labelled videos (default: config).")
    var threshold: Double?

    @Option(name: .customLong("batch-size"), help: "Frames per forward pass.")
    var batchSize = 16

    func run() throws {
        let trained = try TrainedModel(directory: model)
        let files = try PoseWorkflows.predict(
            trained, inputs: inputs, outputDirectory: output, labeledVideo: labeledVideo,
            threshold: threshold, batchSize: max(1, batchSize),
            onFirstBatch: FirstFrameReport.hookIfRequested)
        for file in files { print(file) }
    }
}
