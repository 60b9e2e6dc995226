import ArgumentParser
import Foundation
// `kinema train`: train a pose model on a Lightning Pose / Kinema config or a DeepLabCut project.
import KinemaConsole
import PoseData
import PoseModels
import PosePrediction

struct PoseTrain: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "train",
        abstract: "Train a pose model on labelled frames (Lightning Pose config or DeepLabCut config.yaml).",
        discussion: """
            Checks every label and image first, then trains with Lightning Pose's recipe and writes the model \
            directory (config.yaml, checkpoints/, metrics.csv, predictions.csv, video_preds/). \
            Ctrl-C stops cleanly after the last finished epoch; continue with `kinema train --resume DIR`. \
            Without --pretrained the model trains from scratch; `--backbone unet` (the default for Kinema \
            configs) trains far faster from scratch than a ResNet on a CPU.
            """)

    @Argument(help: "Project config (Kinema/LP YAML or DeepLabCut config.yaml). Omit with --resume.")
    var config: String?

    @Option(name: .customLong("model-dir"), help: "Output directory (default: models/<model_name>-<date>-<time>).")
    var modelDir: String?

    @Option(help: "Resume the model directory from its last checkpoint.")
    var resume: String?

    @Option(help: "torchvision ResNet state dict (.pth/.pt/.safetensors) for the backbone.")
    var pretrained: String?

    @Option(name: .customLong("max-minutes"), help: "Stop after this much training time (minutes).")
    var maxMinutes: Double?

    @Option(help: "Override model.backbone (unet, resnet18, resnet34, resnet50, resnet101).")
    var backbone: String?

    @Option(help: "Override training.max_epochs (and min_epochs).")
    var epochs: Int?

    @Option(name: .customLong("image-size"), help: "Override data.image_resize_dims (square, multiple of 32).")
    var imageSize: Int?

    @Flag(name: .customLong("no-videos"), help: "Do not predict the project's videos after training.")
    var noVideos = false

    func run() throws {
        Interruption.install()
        do {
            let project: PoseProject
            let directory: String
            if let resume {
                project = try PoseProject.load(configPath: ModelDirectory(resume).config)
                directory = resume
            } else {
                guard let config else { throw ValidationError("give a project config, or --resume MODEL_DIR") }
                var loaded = try PoseProject.load(configPath: config)
                if let backbone { loaded.config.backbone = backbone }
                if let epochs { loaded.config.maxEpochs = epochs; loaded.config.minEpochs = epochs }
                if let imageSize { loaded.config.resizeWidth = imageSize; loaded.config.resizeHeight = imageSize }
                if let maxMinutes { loaded.config.maxMinutes = maxMinutes }
                project = loaded
                let formatter = DateFormatter()
                formatter.dateFormat = "yyyy-MM-dd-HH-mm-ss"
                directory = modelDir ?? "models/\(project.config.modelName)-\(formatter.string(from: Date()))"
            }
            var options = TrainOptions(modelDir: directory)
            options.resume = resume != nil
            options.pretrained = pretrained
            options.maxMinutes = resume != nil ? maxMinutes : nil
            let result = try PoseWorkflows.train(project: project, options: options, predictVideos: noVideos ? false : nil)
            logLine("model directory: \(result.directory)")
        } catch let error as TrainingInterrupted {
            logLine(error.description)
            throw ExitCode(130)
        }
    }
}
