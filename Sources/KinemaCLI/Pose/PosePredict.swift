// `kinema predict`: keypoints for videos or image folders, optionally a labelled video.
import ArgumentParser
import Foundation
import PoseData
import PoseModels
import PosePrediction

struct PosePredict: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "predict",
        abstract: "Predict keypoints for videos or folders of images (LP/DLC CSV layout).",
        discussion: """
            Each video's CSV is written as soon as it is predicted, replacing the CSV of an earlier run in one \
            step. A recording cut off mid-file keeps what was decoded: its CSV has one row per frame before \
            the cut (as many as any reader of the file finds) and one warning line says where it broke. \
            Labelled videos of any size are written (an odd width or height gets one black column or row of \
            padding); if one cannot be written, that is one warning line and the CSVs are kept.

            Exit status: 0 when everything was written; 1 on an error (the CSVs of the videos finished before \
            it are kept); 3 when every CSV was written but a labelled video failed; 4 with --strict when a \
            recording was cut off (its CSV is still written).
            """)

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

    @Flag(help: "Treat a recording cut off mid-file as an error (exit status 4; its CSV is still written).")
    var strict = false

    /// Exit statuses after a run that wrote every CSV (documented in the discussion above).
    static let labeledVideoFailed: Int32 = 3, cutOffWhenStrict: Int32 = 4

    func validate() throws {
        if let threshold, !(0...1).contains(threshold) {
            throw ValidationError("--threshold must be a likelihood between 0 and 1, not \(threshold)")
        }
        guard batchSize > 0 else { throw ValidationError("--batch-size must be positive, not \(batchSize)") }
    }

    func run() throws {
        let trained = try TrainedModel(directory: model)
        let run = try PoseWorkflows.predict(
            trained, inputs: inputs, outputDirectory: output, labeledVideo: labeledVideo,
            threshold: threshold, batchSize: batchSize,
            onFirstBatch: FirstFrameReport.hookIfRequested)
        for file in run.files { print(file) }
        if strict && !run.truncated.isEmpty { throw ExitCode(Self.cutOffWhenStrict) }
        if !run.failedOutputs.isEmpty { throw ExitCode(Self.labeledVideoFailed) }
    }
}
