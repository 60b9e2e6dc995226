// `kinema plot PREDICTION`: the PNGs of DeepLabCut's plot_trajectories, plus the error on labelled frames.
import ArgumentParser
import Foundation
import KinemaConsole
import PoseAnalysis

struct Plot: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "plot",
        abstract: "Plot a prediction: trajectories, likelihood, jump histogram, error on labelled frames (PNG).",
        discussion: """
            Writes into --output (default: plot-poses/<stem>/ beside the prediction, as DeepLabCut's \
            plot_trajectories):
              plot.png             x and y of every keypoint over time (points below --pcutoff left out)
              plot-likelihood.png  every keypoint's likelihood over time, with the cutoff
              hist.png             histogram of frame-to-frame jumps (px) between confident frames, and the
                                   largest jumps listed, which is where a tracker most often went wrong
            With --labels CollectedData.csv (or .h5), also label-errors.png (mean, median and 95th percentile of \
            the distance to the label per keypoint) and <stem>_pixel_error.csv. A video prediction <video>.csv \
            (or DeepLabCut's <video><scorer>.csv) is compared on the frames labelled as \
            labeled-data/<video>/img<frame>.png; an image-folder prediction on the same image names.

            Examples:
              kinema plot model/video_preds/test_vid.csv --labels project/CollectedData.csv
              kinema plot videos/reachDLC_Resnet50_reachOct30shuffle1_snapshot_best-100_filtered.h5
            """)

    @Argument(help: "A prediction file (.csv or DeepLabCut .h5).")
    var prediction: String

    @Option(help: "Label file (CollectedData .csv or .h5) to measure the error on labelled frames.")
    var labels: String?

    @Option(help: "Folder for the pictures (default: plot-poses/<stem>/ beside the prediction).")
    var output: String?

    @Option(help: "Points with likelihood below this are left out of the trajectories and jumps (DeepLabCut's pcutoff).")
    var pcutoff = PosePlots.defaultPcutoff

    func validate() throws {
        guard (0...1).contains(pcutoff) else { throw ValidationError("--pcutoff must be a likelihood between 0 and 1, not \(pcutoff)") }
    }

    func run() throws {
        for path in [prediction] + (labels.map { [$0] } ?? []) where !FileManager.default.fileExists(atPath: path) {
            throw PoseAnalysisError("\(path): no such file")
        }
        let written = try PosePlots.write(
            prediction: URL(fileURLWithPath: prediction), labels: labels.map { URL(fileURLWithPath: $0) },
            folder: output.map { URL(fileURLWithPath: $0) }, pcutoff: pcutoff)
        for line in written.lines { logLine(line) }
        for file in written.files { print(file) }
    }
}
