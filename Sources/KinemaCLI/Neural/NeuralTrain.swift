import ArgumentParser
import Foundation
import NeuralData
import NeuralModels
import Torch

// MARK: - kinema neural train

/// `kinema neural train --data ROOT --out MODEL_DIR`: trains DwiseNeuro.
struct NeuralTrainCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "train",
        abstract: "Train a DwiseNeuro model on Sensorium-format data (all mice share core and cortex).",
        discussion: """
        Settings come from --config YAML (keys of TrainingConfig: preset, model, steps, batch_size, learning_rate, \
        weight_decay, warmup_fraction, min_learning_rate_factor, ema_decay, cutmix_probability, seed, folds, \
        validation_fold, train_tiers, validation_tier, validate_every, score_skip, validation_window_stride) \
        and the options below. Defaults: tiny preset, 600 steps of batch 8 (a CPU-sized run); \
        --preset full --recipe uses the winner's recipe (47,250 steps of batch 32 with EMA 0.999).
        Writes OUT/checkpoint.safetensors (exact resume with --resume) and OUT/model.yaml + OUT/model.safetensors \
        (EMA weights) for `kinema neural predict`. Progress (loss, batch correlation, samples/s) goes to stderr; \
        validation reports the single-trial correlation on the validation tier (oracle).
        """
    )

    @Option(help: "Data folder: one mouse folder or a folder of mouse folders.")
    var data: String

    @Option(help: "Output folder for the model and checkpoints.")
    var out: String

    @Option(help: "Training settings (YAML).")
    var config: String?

    @Option(help: "Model preset: tiny, full, full-e7.")
    var preset: String?

    @Flag(help: "Start from the reference's full training recipe.")
    var recipe = false

    @Option(help: "Optimiser steps.")
    var steps: Int?

    @Option(help: "Samples per step.")
    var batchSize: Int?

    @Option(help: "Random seed.")
    var seed: UInt64?

    @Option(help: "Device: cpu or cuda:N.")
    var device = "cpu"

    @Flag(help: "Continue from OUT/checkpoint.safetensors.")
    var resume = false

    @Flag(help: "No progress line.")
    var quiet = false

    func run() throws {
        var settings = recipe ? TrainingConfig.fullRecipe : TrainingConfig()
        if let config { settings = try TrainingConfig.load(yaml: URL(fileURLWithPath: config)) }
        if let preset { settings.preset = preset }
        if let steps { settings.steps = steps }
        if let batchSize { settings.batchSize = batchSize }
        if let seed { settings.seed = seed }
        let target = try Device(parsing: device)
        let dataset = try SensoriumDataset(root: URL(fileURLWithPath: data))
        let outURL = URL(fileURLWithPath: out)
        try FileManager.default.createDirectory(at: outURL, withIntermediateDirectories: true)
        let checkpoint = outURL.appendingPathComponent("checkpoint.safetensors")

        let trainer = try NeuralTrainer(config: settings, dataset: dataset, device: target)
        if resume {
            guard FileManager.default.fileExists(atPath: checkpoint.path) else {
                throw ValidationError("--resume: no checkpoint at \(checkpoint.path)")
            }
            try trainer.resume(from: checkpoint)
            printError("resumed at step \(trainer.step)")
        }
        printError("model: \(trainer.model.parameterCount()) parameters, \(dataset.mice.count) mice, training trials \(trainer.trainTrials.map(\.count))")
        var progress = ProgressLine(total: settings.steps, unit: "steps", enabled: !quiet)
        var smoothLoss: Double?, smoothCorrelation: Double?
        let start = Date()
        let firstStep = trainer.step
        var best = -Double.infinity
        while trainer.step < settings.steps {
            let result = try trainer.trainStep()
            smoothLoss = smoothLoss.map { 0.95 * $0 + 0.05 * result.loss } ?? result.loss
            smoothCorrelation = smoothCorrelation.map { 0.95 * $0 + 0.05 * result.correlation } ?? result.correlation
            let samplesPerSecond = Double((trainer.step - firstStep) * settings.batchSize) / max(Date().timeIntervalSince(start), 1e-9)
            progress.update(trainer.step, extra: String(format: "loss %.3f  corr %.3f  %.1f samples/s  lr %.2e",
                                                       smoothLoss ?? 0, smoothCorrelation ?? 0, samplesPerSecond, trainer.optimizer.learningRate))
            let last = trainer.step == settings.steps
            if last || (settings.validateEvery > 0 && trainer.step % settings.validateEvery == 0) {
                progress.finish()
                try trainer.saveCheckpoint(to: checkpoint)
                let score = try trainer.validate()
                let perMouse = score.perMouse.map { String(format: "%.4f", $0) }.joined(separator: " ")
                print(String(format: "step %d  %@ single-trial corr %.4f  (per mouse: %@)", trainer.step, settings.validationTier, score.mean, perMouse))
                if score.mean > best || last {
                    best = max(best, score.mean)
                    try trainer.saveModel(to: outURL, metadata: ["step": String(trainer.step), "validation": String(score.mean)])
                }
            }
        }
        progress.finish()
        print("saved \(outURL.appendingPathComponent("model.safetensors").path)")
    }
}

// MARK: - kinema neural predict

/// `kinema neural predict --model DIR --data ROOT --out PRED`: whole-trial predictions as .npy files.
struct NeuralPredictCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "predict",
        abstract: "Predict whole trials with a trained model (sliding windows, overlapping outputs averaged).",
        discussion: """
        Writes OUT/<mouse>/<trial>.npy, float32 (neurons, L) with column t = frame t, for every trial of the \
        chosen tiers; score them with `kinema neural evaluate --data ROOT --predictions OUT`. The data's mice \
        must be in the order the model was trained on (same neuron counts).
        """
    )

    @Option(help: "Model folder written by `kinema neural train`.")
    var model: String

    @Option(help: "Data folder.")
    var data: String

    @Option(help: "Output folder.")
    var out: String

    @Option(help: "Tiers to predict, comma-separated.")
    var tiers = "oracle,live_test_main,final_test_main,live_test_bonus,final_test_bonus"

    @Option(help: "Windows per forward pass.")
    var batchSize = 32

    @Option(help: "Use every k-th window end (plus the last two); 1 = all, as the reference.")
    var windowStride = 1

    @Option(help: "Device: cpu or cuda:N.")
    var device = "cpu"

    func run() throws {
        let target = try Device(parsing: device)
        let network = try SavedModel.load(from: URL(fileURLWithPath: model), device: target)
        let dataset = try SensoriumDataset(root: URL(fileURLWithPath: data))
        guard dataset.mice.map(\.neuronCount) == network.config.readoutNeurons else {
            throw ValidationError("the data's mice have \(dataset.mice.map(\.neuronCount)) neurons but the model's readouts \(network.config.readoutNeurons); pass the same mouse folders as in training")
        }
        let predictor = SlidingWindowPredictor(model: network, batchSize: batchSize, windowStride: windowStride)
        let wanted = parseTiers(tiers)
        let jobs = dataset.mice.enumerated().flatMap { m, mouse in mouse.trialIDs(inTiers: wanted).map { (m, $0) } }
        var progress = ProgressLine(total: jobs.count, unit: "trials")
        for (done, (m, id)) in jobs.enumerated() {
            let mouse = dataset.mice[m]
            let trial = try mouse.loadTrial(id)
            let prediction = try predictor.predict(trial, mouse: m)
            try NpyArray(float32: prediction, shape: [mouse.neuronCount, trial.length])
                .write(to: URL(fileURLWithPath: out).appendingPathComponent("\(mouse.name)/\(id).npy"))
            progress.update(done + 1)
        }
        progress.finish()
        print("wrote \(jobs.count) prediction files under \(out)")
    }
}
