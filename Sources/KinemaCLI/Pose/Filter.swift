// `kinema filter PREDICTION...`: DeepLabCut's filterpredictions (median, Savitzky–Golay) and single-camera EKS.
import ArgumentParser
import Foundation
import KinemaConsole
import PoseAnalysis

struct Filter: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "filter",
        abstract: "Filter predictions over time into <stem>_filtered.csv (DeepLabCut's filterpredictions; EKS recommended).",
        discussion: """
            Each PREDICTION (a .csv or DeepLabCut .h5 with x, y, likelihood per keypoint) is filtered keypoint by \
            keypoint and written beside it as <stem>_filtered.csv, and as <stem>_filtered.h5 too (DeepLabCut's \
            layout) when the input is an .h5 or with --h5. Likelihoods are kept. The input is never changed, and an \
            earlier <stem>_filtered file is replaced only with --overwrite.

            --method eks (recommended): single-camera ensemble Kalman smoothing of the one prediction, through the \
            same library as `kinema smooth`. Each point counts with variance 1/likelihood, so unsure points count \
            less, and the smoothing strength is chosen per keypoint from the data; add --p-bound (e.g. 0.1) to take \
            wild unsure points out before smoothing. Missing points get the smoothed value. For several models' \
            predictions of the same video use `kinema smooth singlecam` (a true ensemble).

            --method median (DeepLabCut's default): scipy.signal.medfilt over --window frames (odd; 5), zero-padded \
            at both ends as DeepLabCut's is. --method savgol: scipy.signal.savgol_filter over --window frames with \
            polynomial degree --order (3), mode 'interp'.

            Unsure points: with --p-bound P, points with likelihood below P are treated as missing, as DeepLabCut's \
            model-based filter treats them: filled from the neighbouring kept points before filtering and given the \
            filtered value. savgol uses DeepLabCut's 0.001 when --p-bound is not given; median and eks keep every \
            point unless it is (as DeepLabCut's median filter does). Missing (empty) points stay missing with \
            median and savgol.

            Examples:
              kinema filter video_preds/test_vid.csv --method eks
              kinema filter videos/reachDLC_Resnet50_reachOct30shuffle1_snapshot_best-100.h5
              kinema filter a.csv b.csv --method savgol --window 7 --order 2 --p-bound 0.1
            """)

    @Argument(help: "Prediction files (.csv or DeepLabCut .h5).")
    var predictions: [String]

    @Option(help: "median, savgol or eks.")
    var method = "median"

    @Option(help: "Frames per window (odd) for median and savgol.")
    var window = 5

    @Option(help: "Polynomial degree for savgol.")
    var order = 3

    @Option(name: .customLong("p-bound"), help: "Treat points with likelihood below this as missing.")
    var pBound: Double?

    @Flag(help: "Also write <stem>_filtered.h5 (DeepLabCut's layout) for .csv inputs.")
    var h5 = false

    @Flag(help: "Replace an existing <stem>_filtered file.")
    var overwrite = false

    var filter: PredictionFilter? {
        PredictionFilter.Method(rawValue: method).map { PredictionFilter(method: $0, window: window, order: order, pBound: pBound) }
    }

    func validate() throws {
        guard let filter else { throw ValidationError("--method '\(method)': choose median, savgol or eks") }
        if let problem = filter.problem { throw ValidationError(problem) }
        guard !predictions.isEmpty else { throw ValidationError("give at least one prediction file") }
    }

    func run() throws {
        let files = try filter!.run(
            inputs: predictions.map { URL(fileURLWithPath: $0) }, h5: h5, overwrite: overwrite, log: { logLine($0) })
        for file in files { print(file) }
    }
}
