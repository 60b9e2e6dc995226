import ArgumentParser
import Foundation
import KinemaConsole
import NeuralData
import NeuralModels
import SmoothCLI
import Torch

// MARK: - kinema neural train

/// `kinema neural train --data ROOT --out MODEL_DIR`: trains DwiseNeuro.
struct NeuralTrainCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "train",
        abstract: "Train a DwiseNeuro model on Sensorium-format data (all mice share core and cortex).",
        discussion: """
            Examples:
              kinema neural train --data syn --out model          (tiny, 600 steps: CPU-sized)
              kinema neural train --data real --out e7 --preset full-e7 --recipe --device cuda:0
              kinema neural train --data real --out e6 --preset full --recipe --teacher e7 \\
                --device cuda:0                                  (stage 2, distillation)

            Stage 1 trains on recorded responses only. Stage 2 (distillation, as the winning solution): give one or \
            more trained models with --teacher (the same fold's stage-1 model; several = their mean). Every readout \
            then runs on every sample; the readouts of the other mice learn the teachers' predictions on the same \
            input, weighted so that these pairs carry --distillation-ratio (0.36) of the loss. Needs ≥ 2 mice; the \
            winner used expansion 6 (preset full) for students of expansion-7 (full-e7) teachers.

            Readout start: by default (calibrate_readouts) each readout's bias starts at the training data's mean \
            response and its weights ×0.1, so runs of a few hundred CPU steps learn patterns instead of the mean \
            rate. This departs from the reference (zero bias); --no-calibrate-readouts (or --recipe) gives the \
            reference initialisation.

            Settings come from --config YAML (keys of TrainingConfig: preset, model, steps, batch_size, learning_rate, \
            weight_decay, warmup_fraction, min_learning_rate_factor, ema_decay, cutmix_probability, seed, folds, \
            validation_fold, train_tiers, validation_tier, validate_every, score_skip, validation_window_stride, \
            cache_trials, calibrate_readouts, teachers, distillation_ratio); options override it. Defaults: tiny \
            preset, 600 steps of batch 8, EMA 0.99 of the whole state (BatchNorm statistics included); \
            --recipe uses the winner's recipe (47,250 steps of batch 32, EMA 0.999: too slow for short runs, \
            where it keeps most of the initial state). \
            Writes OUT/checkpoint.safetensors (exact resume with --resume) and OUT/model.yaml + OUT/model.safetensors \
            (EMA weights; the best validation score) for `kinema neural predict`. Ctrl-C stops after the current \
            step and writes the checkpoint; run the same command with --resume to continue exactly. Progress (loss, batch correlation, \
            samples/s) goes to stderr; validation prints the single-trial correlation on the validation tier (oracle).
            """
    )

    @OptionGroup var data: SensoriumDataOption

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

    @OptionGroup var device: DeviceOption

    @Option(help: ArgumentHelp("Teacher model folder for distillation (repeat for an ensemble).", valueName: "MODEL_DIR"))
    var teacher: [String] = []

    @Option(help: "Share of the loss carried by the distilled pairs (reference 0.36).")
    var distillationRatio: Double?

    @Flag(inversion: .prefixedNo, help: "Start readouts at the data's mean rate (default on; off = reference init).")
    var calibrateReadouts: Bool?

    @Flag(help: "Continue from OUT/checkpoint.safetensors.")
    var resume = false

    @Flag(help: "Replace the model already in OUT (without it, an existing model is refused; --resume continues it).")
    var overwrite = false

    @Flag(help: "No progress line.")
    var quiet = false

    /// The YAML (or the default/recipe settings) with the options laid over it.
    func trainingConfig() throws -> TrainingConfig {
        var settings = recipe ? TrainingConfig.fullRecipe : TrainingConfig()
        if let config { settings = try TrainingConfig.load(yaml: URL(fileURLWithPath: config)) }
        if let preset { settings.preset = preset }
        if let steps { settings.steps = steps }
        if let batchSize { settings.batchSize = batchSize }
        if let seed { settings.seed = seed }
        if !teacher.isEmpty { settings.teachers = teacher }
        if let distillationRatio { settings.distillationRatio = distillationRatio }
        if let calibrateReadouts { settings.calibrateReadouts = calibrateReadouts }
        return settings
    }

    /// The model folder, checked before the data are read: a model trained earlier is never replaced by accident.
    func checkOutput() throws {
        let folder = try OutputFolder.create(out, option: "--out")
        let earlier = ["model.safetensors", "checkpoint.safetensors"].filter {
            FileManager.default.fileExists(atPath: folder.appendingPathComponent($0).path)
        }
        if !earlier.isEmpty, !resume, !overwrite {
            throw PathProblem(
                "\(out) already holds a model (\(earlier.joined(separator: ", "))); "
                    + "give --resume to continue it, --overwrite to replace it, or another --out")
        }
    }

    func run() throws {
        Interruption.install()
        let settings = try trainingConfig()
        let target = try device.target()
        try checkOutput()
        let dataset = try data.dataset()
        let training = try NeuralTraining(config: settings, dataset: dataset, folder: URL(fileURLWithPath: out), device: target)
        let trainer = training.trainer
        if resume {
            guard FileManager.default.fileExists(atPath: training.checkpointURL.path) else {
                throw ValidationError("--resume: no checkpoint at \(training.checkpointURL.path)")
            }
            try training.resume()
            logLine("resumed at step \(trainer.step)")
        }
        logLine(
            "model: \(trainer.model.parameterCount()) parameters, \(dataset.mice.count) mice, training trials \(trainer.trainTrials.map(\.count))"
        )
        if let teachers = trainer.teachers {
            if dataset.mice.count < 2 { logLine("warning: distillation needs ≥ 2 mice; with one mouse the teachers are not used") }
            logLine("distillation from \(teachers.models.count) teacher(s), ratio \(settings.distillationRatio)")
        }
        let progress = ProgressLine(total: settings.steps, unit: "steps", enabled: !quiet, quietSeconds: 1)
        do {
            try training.run { event in
                switch event {
                case .step(let p):
                    progress.update(
                        p.step,
                        extra: String(
                            format: "loss %.3f  corr %.3f  %.1f samples/s  lr %.2e",
                            p.smoothedLoss, p.smoothedCorrelation, p.samplesPerSecond, p.learningRate))
                case .validated(let v):
                    progress.finish()
                    let perMouse = v.score.perMouse.map { String(format: "%.4f", $0) }.joined(separator: " ")
                    print(String(format: "step %d  %@ single-trial corr %.4f  (per mouse: %@)", v.step, v.tier, v.score.mean, perMouse))
                }
            }
        } catch let error as NeuralTrainingInterrupted {
            progress.stop("interrupted")
            logLine(error.description)
            throw ExitCode(130)
        }
        progress.finish()
        print("saved \(training.modelURL.path)")
    }
}
