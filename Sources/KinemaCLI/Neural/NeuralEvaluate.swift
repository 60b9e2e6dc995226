import ArgumentParser
import Foundation
import NeuralData
import SmoothCLI

// MARK: - kinema neural evaluate

/// `kinema neural evaluate --data ROOT --predictions DIR`: the competition metrics per mouse.
struct NeuralEvaluateCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "evaluate",
        abstract: "Score predictions with the Sensorium single-trial correlation and correlation to average.",
        discussion: """
            Examples:
              kinema neural evaluate --data syn --predictions pred            (per-trial .npy files)
              kinema neural evaluate --data syn --submission sub.parquet      (a submission table)
              kinema neural evaluate --data syn --rates                       (synthetic ceiling)

            --predictions: DIR/<mouse folder name>/<trial>.npy, each (neurons, frames) float, as written by \
            `kinema neural predict --out`. Frames [skip, min(L, cap)) of every labelled trial of the tier are scored; \
            --drop-last also drops the last one (DwiseNeuro's local evaluation). Per neuron, the correlation is \
            taken over the concatenated frames of all trials, then averaged over neurons. Correlation to average \
            groups repeats of a clip by an exact hash of the video. --rates scores a synthetic set's true rates \
            (the best achievable score). \
            --submission: a table written by `kinema neural predict --submission` (Parquet if the name ends in \
            .parquet, else JSON Lines; columns mouse, trial_indices, prediction, neuron_ids; other Parquet files \
            must be uncompressed and without dictionary: pandas to_parquet(compression=None, use_dictionary=False)); row column j is frame --skip + j, neurons are matched by unit id, \
            and every labelled trial of the tier needs a row. Precision-scaled predictions are scored against the \
            responses scaled by the same precision (what the official server did; such scores run higher than \
            the raw metric and are not comparable with it); --unscaled for files written with `predict --unscaled`.
            """
    )

    @OptionGroup var data: SensoriumDataOption

    @Option(help: "Prediction folder (DIR/<mouse>/<trial>.npy).")
    var predictions: String?

    @Option(help: ArgumentHelp("Submission table (.parquet or JSON Lines) to score.", valueName: "FILE"))
    var submission: String?

    @Flag(help: "--submission holds raw (not precision-scaled) predictions.")
    var unscaled = false

    @Flag(help: "Score the synthetic ground-truth rates instead of predictions.")
    var rates = false

    @Option(help: "Tier to score.")
    var tier = SensoriumTier.oracle

    @Option(help: "Frames skipped at the start of each trial.")
    var skip = 50

    @Option(help: "Frames scored at most per trial (counted from 0).")
    var cap = 300

    @Flag(help: "Also drop the last scored frame.")
    var dropLast = false

    func run() throws {
        if let submission {
            // Said before the data set is read, and in these words rather than as a table with no rows.
            guard let size = (try? FileManager.default.attributesOfItem(atPath: submission))?[.size] as? Int else {
                throw PathProblem("\(submission): no such submission file (--submission)")
            }
            if size == 0 { throw PathProblem("\(submission): the submission file is empty (--submission)") }
        }
        let dataset = try data.dataset()
        let frames = ScoredFrames(skip: skip, cap: cap, dropLast: dropLast)
        let results: [MouseEvaluation]
        if let submission {
            let format = SubmissionFormat(frames: ScoredFrames(skip: skip), precisionScaled: !unscaled)
            results = try evaluateSubmission(URL(fileURLWithPath: submission), dataset: dataset, tier: tier, format: format)
        } else {
            results = try evaluatePredictions(try source(), dataset: dataset, tier: tier, frames: frames)
        }
        try report(results)
    }

    private func source() throws -> PredictionSource {
        if rates {
            return .syntheticRates
        } else if let predictions {
            return .folder(URL(fileURLWithPath: predictions))
        }
        throw ValidationError("give --predictions DIR, --submission FILE (or --rates for a synthetic data set's ceiling)")
    }

    private func report(_ results: [MouseEvaluation]) throws {
        guard !results.isEmpty else {
            throw ValidationError("no labelled trials of tier '\(tier)' in \(data.data)")
        }
        print("mouse\ttrials\tneurons\tsingle_trial_corr\tcorr_to_average")
        var pooled: [Double] = []
        for r in results {
            let average = r.score.toAverageMean.map { String(format: "%.4f", $0) } ?? "n/a"
            print("\(r.mouse)\t\(r.trials)\t\(r.score.singleTrial.count)\t\(String(format: "%.4f", r.score.singleTrialMean))\t\(average)")
            pooled += r.score.singleTrial
        }
        let meanOfMice = results.map(\.score.singleTrialMean).reduce(0, +) / Double(results.count)
        print(
            String(
                format: "all mice\tsingle_trial_corr pooled over neurons %.4f, mean of mice %.4f",
                pooled.reduce(0, +) / Double(max(pooled.count, 1)), meanOfMice))
    }
}
