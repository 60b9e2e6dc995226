import ArgumentParser
import Foundation
import KinemaConsole
import NeuralData
import NeuralModels
import PythonFormats
import SmoothCLI
import Torch

// MARK: - kinema neural predict

/// `kinema neural predict --model DIR --data ROOT --out PRED [--submission FILE]`: whole-trial predictions.
struct NeuralPredictCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "predict",
        abstract: "Predict whole trials with a trained model (sliding windows, overlapping outputs averaged).",
        discussion: """
            Examples:
              kinema neural predict --model model --data syn --out pred --tiers oracle
              kinema neural predict --model model --data real --submission main.parquet \\
                --tiers live_test_main,final_test_main

            --out writes OUT/<mouse>/<trial>.npy, float32 (neurons, L) with column t = frame t (raw response scale); \
            score them with `kinema neural evaluate --data ROOT --predictions OUT`. \
            --submission writes the competition's submission table (reference 4.4): one row per trial with the \
            columns mouse (session folder name), trial_indices (trial id), prediction (one list of frame values per \
            neuron) and neuron_ids (unit ids). FILE ending in .parquet gets a Parquet file (uncompressed; the \
            original was brotli-compressed, which pandas/pyarrow read alike), any other name JSON Lines (one \
            object per line). Frames 50 … min(L,300)−1 are written \
            (--drop-last: … −2, as DwiseNeuro), multiplied by the organisers' precision 1/std from \
            responses/all/std.npy as for the official server (--unscaled: raw values). Score it with \
            `kinema neural evaluate --data ROOT --submission FILE`. Files are written atomically. \
            The data's mice must be in the order the model was trained on (same neuron counts).
            """
    )

    @Option(help: "Model folder written by `kinema neural train`.")
    var model: String

    @OptionGroup var data: SensoriumDataOption

    @Option(help: "Output folder for per-trial .npy predictions.")
    var out: String?

    @Option(help: ArgumentHelp("Submission table to write (Parquet if FILE ends in .parquet, else JSON Lines).", valueName: "FILE"))
    var submission: String?

    @Option(help: "Tiers to predict, comma-separated.")
    var tiers = "oracle,live_test_main,final_test_main,live_test_bonus,final_test_bonus"

    @Option(help: "Windows per forward pass.")
    var batchSize = 32

    @Option(help: "Use every k-th window end (plus the last two); 1 = all, as the reference; k must be odd.")
    var windowStride = 1

    @Flag(help: "Submission: also drop the last frame (DwiseNeuro's 50 … min(L,300)−2).")
    var dropLast = false

    @Flag(help: "Submission: raw predictions, without the precision (1/std) scaling.")
    var unscaled = false

    @OptionGroup var device: DeviceOption

    func validate() throws {
        if windowStride < 1 || (windowStride > 1 && windowStride % 2 == 0) {
            throw ValidationError("--window-stride must be 1 or odd (step-2 windows ending on even frames never predict odd frames)")
        }
        if out == nil && submission == nil { throw ValidationError("give --out DIR (per-trial .npy files), --submission FILE, or both") }
    }

    func run() throws {
        let target = try device.target()  // before any folder is made
        if let out { try OutputFolder.create(out, option: "--out") }
        if let submission { try OutputFolder.createParent(of: submission, option: "--submission") }
        let folder = URL(fileURLWithPath: model)
        let network = try DwiseNeuro(config: try SavedModel.config(in: folder), weights: folder, device: target)
        let dataset = try data.dataset()
        guard dataset.mice.map(\.neuronCount) == network.config.readoutNeurons else {
            throw ValidationError(
                "the data's mice have \(dataset.mice.map(\.neuronCount)) neurons but the model's readouts \(network.config.readoutNeurons); pass the same mouse folders as in training"
            )
        }
        let predictor = SlidingWindowPredictor(model: network, batchSize: batchSize, windowStride: windowStride)
        let wanted = parseTiers(tiers)
        let jobs = dataset.mice.enumerated().flatMap { m, mouse in mouse.trialIDs(inTiers: wanted).map { (m, $0) } }
        guard !jobs.isEmpty else { throw ValidationError("no trials of tiers \(tiers) in \(data.data)") }
        let format = SubmissionFormat(frames: ScoredFrames(dropLast: dropLast), precisionScaled: !unscaled)
        let writer = try submission.map { try SubmissionWriter(url: URL(fileURLWithPath: $0)) }
        let progress = ProgressLine(total: jobs.count, unit: "trials", quietSeconds: 1)
        for (done, (m, id)) in jobs.enumerated() {
            let mouse = dataset.mice[m]
            let trial = try mouse.loadTrial(id)
            let prediction = try predictor.predict(trial, mouse: m)
            if let out {
                try NpyArray(float32: prediction, shape: [mouse.neuronCount, trial.length])
                    .write(to: URL(fileURLWithPath: out).appendingPathComponent("\(mouse.name)/\(id).npy"))
            }
            if let writer {
                try writer.append(
                    try submissionRow(prediction: prediction, length: trial.length, mouse: mouse, trialID: id, format: format))
            }
            progress.update(done + 1)
        }
        progress.finish()
        if let out { print("wrote \(jobs.count) prediction files under \(out)") }
        if let writer, let submission {
            try writer.finish()
            print("wrote \(writer.rowCount) submission rows to \(submission)")
        }
    }
}
