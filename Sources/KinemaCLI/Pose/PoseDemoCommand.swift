import ArgumentParser
import Foundation
// `kinema demo`: the README's first command — a synthetic project from labels to labelled video.
import KinemaConsole
import PoseModels
import PosePrediction
import SmoothCLI

struct PoseDemoCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "demo",
        abstract: "Generate a synthetic animal project, train a pose model, predict a video, and report the error.",
        discussion: "Needs no data and no GPU: about 5–10 minutes on 2 CPU cores. Output in ./kinema-demo.")

    @Option(help: "Output folder.")
    var directory = "kinema-demo"

    @Option(name: .customLong("max-minutes"), help: "Training time budget in minutes.")
    var maxMinutes = 6.0

    @Option(help: "Training epochs (the time budget may stop training earlier).")
    var epochs = 20

    @Option(name: .customLong("labeled-frames"), help: "Labelled frames to generate.")
    var labeledFrames = 300

    @Option(name: .customLong("video-frames"), help: "Frames of the unlabelled video.")
    var videoFrames = 300

    @OptionGroup var device: DeviceOption
    @OptionGroup var precision: PrecisionOption

    func run() throws {
        let target = try device.target()
        if let problem = TrainOptions.deviceProblem(device: target, precision: precision.precision, distributed: false) {
            throw PathProblem(problem)
        }
        let precision = try precision.resolved(on: target)
        Interruption.install()
        var options = DemoOptions()
        options.device = target
        options.precision = precision
        options.directory = directory
        options.maxMinutes = maxMinutes
        options.epochs = epochs
        options.labeledFrames = labeledFrames
        options.videoFrames = videoFrames
        let summary = try PoseDemo.run(options)
        print(
            String(
                format: "demo finished in %@: video error %.2f px mean, %.2f px median (visible keypoints)",
                formatDuration(summary.seconds), summary.meanError, summary.medianError))
        print("report:         \(summary.reportPath)")
        print("predictions:    \(summary.predictionsCSV)")
        print("labelled video: \(summary.labeledVideo)")
    }
}
