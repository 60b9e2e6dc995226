import ArgumentParser
import Foundation
import KinemaConsole
import NeuralData
import SmoothCLI

// MARK: - kinema neural

/// `kinema neural`: Sensorium 2023 data, the DwiseNeuro encoding model, metrics and decoding.
struct Neural: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Predict visual-cortex activity from video and behaviour (Sensorium 2023), score it, decode behaviour.",
        discussion: """
            Data folders use the Sensorium 2023 layout (one folder per mouse with data/ and meta/, or a folder of \
            such mouse folders). The model is DwiseNeuro, the winner of Sensorium 2023.

            Workflow (each step's --help has details):
              1. kinema neural synth syn
                   synthetic data with known rates (or use real Sensorium data)
              2. kinema neural evaluate --data syn --rates
                   the best achievable score (synthetic data only)
              3. kinema neural train --data syn --out model
                   train; validates on the oracle tier, writes model/ for predict
              4. kinema neural predict --model model --data syn --out pred
                   per-trial .npy predictions; --submission FILE: competition table
              5. kinema neural evaluate --data syn --predictions pred
                   single-trial correlation and correlation to average per mouse
                   (--submission FILE scores a submission table)
              optional: kinema neural train --data syn --out student --teacher model
                   stage 2: distillation from trained models
              kinema neural decode --data syn/synthetic-mouse-0 --signal pupil
                   decode behaviour from activity (cross-validated ridge)
            The competition score is the single-trial correlation: per neuron over frames 50…299 of all trials of \
            a tier, averaged over neurons.
            """,
        subcommands: [
            NeuralSynthCommand.self, NeuralTrainCommand.self, NeuralPredictCommand.self,
            NeuralEvaluateCommand.self, NeuralDecodeCommand.self,
        ]
    )
}

// MARK: - kinema neural synth

/// `kinema neural synth OUT`: the reference's linear–nonlinear–Poisson data set.
struct NeuralSynthCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "synth",
        abstract: "Write a synthetic Sensorium-format data set with ground-truth rates.",
        discussion: """
            Writes OUT/synthetic-mouse-<i>/ in exactly the Sensorium 2023 layout, plus data/rates/<trial>.npy \
            (true Poisson rates) and meta/ground_truth/. Defaults: 18×32 frames, 120 of 130 frames, mice with \
            40 and 48 neurons, 60 train trials, oracle 4 clips × 3 repeats, low-rank receptive fields (K = 4). \
            Options override a YAML --config (keys: seed, height, width, frames, padded_frames, neuron_counts, \
            train_trials, oracle_clips, oracle_repeats, live_test_clips, live_test_repeats, shared_positions, \
            speed_coupling, long_trial_frames). Score the ceiling with `kinema neural evaluate --data OUT --rates`.
            """
    )

    @Argument(help: "Output folder (created).")
    var out: String

    @Option(help: "YAML file with synthetic-data settings.")
    var config: String?

    @Option(help: "Random seed.")
    var seed: UInt64?

    @Option(help: ArgumentHelp("Neurons per mouse, comma-separated (one mouse each).", valueName: "LIST"))
    var neurons: String?

    @Option(help: "Train trials per mouse.")
    var trainTrials: Int?

    @Option(help: "Shared receptive-field positions (0 = full rank).")
    var sharedPositions: Int?

    @Flag(help: "Real geometry: 36×64 frames instead of 18×32.")
    var fullSize = false

    func run() throws {
        var settings = try config.map { try SyntheticConfig.load(yaml: URL(fileURLWithPath: $0)) } ?? SyntheticConfig()
        if let seed { settings.seed = seed }
        if let neurons {
            let counts = neurons.split(separator: ",").compactMap { Int($0.trimmingCharacters(in: .whitespaces)) }
            guard !counts.isEmpty, counts.count == neurons.split(separator: ",").count else {
                throw ValidationError("--neurons must be comma-separated integers, e.g. 40,48")
            }
            settings.neuronCounts = counts
        }
        if let trainTrials { settings.trainTrials = trainTrials }
        if let sharedPositions { settings.sharedPositions = sharedPositions }
        if fullSize { settings.height = 36; settings.width = 64 }
        let generator = try SyntheticGenerator(config: settings)
        // Writing into an earlier data set would mix two sessions' trials in one folder.
        if let earlier = try? FileManager.default.contentsOfDirectory(atPath: out), !earlier.isEmpty {
            throw PathProblem("\(out) already holds files; neural synth writes a new data set into a new or empty folder")
        }
        try OutputFolder.create(out, option: "OUT")
        let progress = ProgressLine(total: settings.trialsPerMouse * settings.neuronCounts.count, unit: "trials", quietSeconds: 1)
        let folders = try generator.write(to: URL(fileURLWithPath: out)) { done, _ in progress.update(done) }
        progress.finish()
        for folder in folders { print("wrote \(folder.path)") }
    }
}
