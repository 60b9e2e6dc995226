import ArgumentParser
import Foundation
// `kinema train`: train a pose model on a Lightning Pose / Kinema config or a DeepLabCut project.
import KinemaConsole
import PoseData
import PoseModels
import PosePrediction
import ProcessPolicy
import SmoothCLI

struct PoseTrain: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "train",
        abstract: "Train a pose model on labelled frames (Lightning Pose config or DeepLabCut config.yaml).",
        discussion: """
            Checks the options, every label and image first, then trains with Lightning Pose's recipe and writes \
            the model folder (config.yaml, checkpoints/, metrics.csv, predictions.csv, video_preds/). An \
            existing model folder is never replaced by accident: continue it with --resume, replace it with \
            --overwrite. Ctrl-C and --max-minutes stop at the next step, resumably: continue with \
            `kinema train --resume DIR` (add --epochs N to train a finished run longer). Without --pretrained \
            the model trains from scratch; `--backbone unet` (the default for Kinema configs and for DeepLabCut \
            projects without pretrained weights) learns far faster from scratch than a ResNet on a CPU. \
            When model.losses_to_use lists unsupervised losses (or --losses temporal,pca_singleview,pca_multiview \
            says so; --losses none turns them off), every step also predicts one clip (32 frames, or LP's dali.base.train.sequence_length) of the project's \
            videos (data.video_dir, or --unlabeled-videos DIR) and adds Lightning Pose's weighted losses on it; \
            metrics.csv gains one column per loss. `--model-type heatmap_mhcrnn` (or model.model_type) trains \
            Lightning Pose's context model: each labelled frame is read with its neighbours t-2..t+2 from the same \
            folder (img0041.png -> img0039..img0043), unlabelled clips are 16 frames (or dali.context.train.batch_size), and predictions keep the more \
            confident of its two heads. Separate cameras (data.view_names with one label CSV per view in \
            data.csv_file, videos named <session>_<view>.mp4): one network sees every view of a labelled instant, \
            unlabelled clips take the same frames of every view, pca_singleview is fitted per view and \
            pca_multiview compares the views of each keypoint; the context model reads each view's neighbour \
            frames and runs over each view's clip.

            Ensembles: `--ensemble N [--output ENSEMBLE]` trains N members that differ only in \
            training.rng_seed_data_pt (the config's seed + i: split, batch order, augmentation), one after \
            another, into ENSEMBLE/member-0 … member-(N-1) with ENSEMBLE/ensemble.yaml. Rerunning the command (or \
            `kinema train --resume ENSEMBLE`) keeps finished members, resumes an interrupted one exactly and trains \
            the rest. Predict with `kinema predict ENSEMBLE VIDEO...` (every member, then EKS).
            """)

    @Argument(help: "Project config (Kinema/LP YAML or DeepLabCut config.yaml). Omit with --resume.")
    var config: String?

    @Option(
        name: .customLong("model-dir"),
        help:
            "Output directory (default: models/<model_name>-<date>-<time>, under iteration-<N>/ once merged; DeepLabCut projects: dlc-models/iteration-<N>/ in the project)."
    )
    var modelDir: String?

    @Option(help: "Resume the model directory from its last checkpoint.")
    var resume: String?

    @Flag(help: "Replace what an earlier run left in --model-dir (after every check has passed).")
    var overwrite = false

    @Option(help: "torchvision ResNet state dict (.pth/.pt/.safetensors) for the backbone.")
    var pretrained: String?

    @Option(
        name: .customLong("model-type"),
        help: "Override model.model_type: heatmap, heatmap_mhcrnn (the context model: frames t-2..t+2) or regression.")
    var modelType: String?

    @Option(name: .customLong("max-minutes"), help: "Stop this run after this much training time (minutes), resumably.")
    var maxMinutes: Double?

    @Option(help: "Override model.backbone (unet, resnet18, resnet34, resnet50, resnet101).")
    var backbone: String?

    @Option(help: "Override training.max_epochs (and min_epochs); with --resume, train a run longer.")
    var epochs: Int?

    @Option(name: .customLong("image-size"), help: "Override data.image_resize_dims (square, multiple of 32).")
    var imageSize: Int?

    @Option(
        help: ArgumentHelp(
            "Unsupervised losses on unlabelled video, overriding model.losses_to_use: e.g. temporal,pca_singleview (or none).",
            valueName: "temporal,pca_singleview,pca_multiview"))
    var losses: String?

    @Option(
        name: .customLong("unlabeled-videos"),
        help: "Folder of unlabelled videos for the unsupervised losses (default: the project's data.video_dir).")
    var unlabeledVideos: String?

    @Flag(name: .customLong("no-videos"), help: "Do not predict the project's videos after training.")
    var noVideos = false

    @Option(help: "Train an ensemble of N members differing in their data seed (Lightning Pose's procedure for EKS).")
    var ensemble: Int?

    @Option(help: "The ensemble folder, with --ensemble (default: models/<model_name>-ensemble-<date>-<time>).")
    var output: String?

    @Flag(
        help: ArgumentHelp(
            "Data-parallel training: one process per rank, started by srun or torchrun (or RANK, WORLD_SIZE, MASTER_ADDR, MASTER_PORT); the config's batch is shared among them."
        ))
    var distributed = false

    @Option(
        name: .customLong("distributed-timeout"),
        help: "Seconds a rank waits for the others (joining, each exchange) before failing with the missing ranks named.")
    var distributedTimeout: Double = 300

    func validate() throws {
        if config == nil && resume == nil { throw ValidationError("give a project config, or --resume MODEL_DIR") }
        if config != nil && resume != nil {
            throw ValidationError("give either a project config (a new run) or --resume MODEL_DIR (continue one), not both")
        }
    }

    /// Every option checked before any file is read or written: one line naming the option.
    func checkOptions() throws {
        if let epochs, epochs < 1 { throw OptionError("--epochs", "\(epochs)", "must be at least 1") }
        if let maxMinutes, !(maxMinutes > 0 && maxMinutes.isFinite) {
            throw OptionError("--max-minutes", "\(maxMinutes)", "must be a positive number of minutes")
        }
        if let imageSize, imageSize < 32 || imageSize % 32 != 0 {
            let below = max(32, imageSize / 32 * 32), above = below + 32
            throw OptionError(
                "--image-size", "\(imageSize)",
                "the networks take multiples of 32 (their total stride), e.g. \(below == imageSize ? above : below) or \(above)")
        }
        if let backbone, !PoseConfig.ModelSection.isKnownBackbone(backbone) {
            throw OptionError("--backbone", backbone, "must be one of \(PoseConfig.ModelSection.backboneNames)")
        }
        if let pretrained, !FileManager.default.fileExists(atPath: pretrained) {
            throw OptionError("--pretrained", pretrained, "no such file")
        }
        if let losses { _ = try UnsupervisedLossSettings.parseLossList(losses) }
        try checkEnsembleOptions()
        if !(distributedTimeout > 0 && distributedTimeout.isFinite) {
            throw OptionError("--distributed-timeout", "\(distributedTimeout)", "must be a positive number of seconds")
        }
        if distributed && ensemble != nil {
            throw ValidationError("--distributed trains one model: train an ensemble without it, or each member with --model-dir")
        }
        if let modelType, !PoseConfig.ModelSection.modelTypes.contains(modelType) {
            throw OptionError("--model-type", modelType, "must be \(PoseConfig.ModelSection.modelTypeNames)")
        }
        if resume != nil {
            for (name, given) in [
                ("--losses", losses != nil), ("--model-type", modelType != nil),
                ("--model-dir", modelDir != nil), ("--backbone", backbone != nil), ("--image-size", imageSize != nil),
                ("--pretrained", pretrained != nil), ("--overwrite", overwrite), ("--ensemble", ensemble != nil),
                ("--output", output != nil),
            ] where given {
                throw OptionError(
                    name, "", "cannot change a run being resumed (only --epochs, --max-minutes, --unlabeled-videos and --no-videos can)")
            }
        }
    }

    @OptionGroup var device: DeviceOption
    @OptionGroup var precision: PrecisionOption

    func run() throws {
        try checkOptions()
        let target = try device.target()
        if let problem = TrainOptions.deviceProblem(device: target, precision: precision.precision, distributed: distributed) {
            throw PathProblem(problem)
        }
        let precision = try precision.resolved(on: target)
        Interruption.install()
        do {
            var project: PoseProject
            let directory: String
            var ensembleRun = ensemble.map { (folder: output ?? "", members: $0, source: config ?? "") }
            if let resume, EnsembleDirectory.isEnsemble(resume) {
                let resumed = try resumedEnsemble(resume)
                project = resumed.project
                ensembleRun = resumed.ensemble
                directory = resume
            } else if let resume {
                let folder = ModelDirectory(resume)
                guard FileManager.default.fileExists(atPath: folder.config) else {
                    throw OptionError("--resume", resume, "is not a Kinema model folder (no config.yaml)")
                }
                project = try PoseProject.load(configPath: folder.config)
                directory = resume
            } else {
                project = try PoseProject.load(configPath: config!)
                if let backbone {
                    project.config.backbone = backbone
                } else if let chosen = project.chooseDefaultBackbone(pretrainedWeights: pretrained != nil) {
                    logLine(chosen)
                }
                if let imageSize { project.config.resizeWidth = imageSize; project.config.resizeHeight = imageSize }
                if let losses { project.config.lossesToUse = try UnsupervisedLossSettings.parseLossList(losses) }
                if let modelType { project.config.modelType = modelType }
                let dlcProject = project.config.deeplabcutConfig.map { ($0 as NSString).deletingLastPathComponent }
                directory = modelDir ?? ModelDirectory.defaultPath(for: project.config, deepLabCutProject: dlcProject)
                if ensembleRun?.folder == "" {
                    ensembleRun?.folder = ModelDirectory.defaultPath(
                        for: project.config, deepLabCutProject: dlcProject, kind: "-ensemble")
                }
            }
            if let epochs { project.config.maxEpochs = epochs; project.config.minEpochs = epochs }
            var options = TrainOptions(modelDir: directory)
            options.resume = resume != nil
            options.pretrained = pretrained
            options.maxMinutes = maxMinutes
            options.userThreads = ProcessPolicy.threadSetting()
            options.device = target
            options.precision = precision
            if let unlabeledVideos {
                guard !project.config.lossesToUse.isEmpty else {
                    throw OptionError(
                        "--unlabeled-videos", unlabeledVideos, "is only read for unsupervised losses: add --losses (e.g. temporal)")
                }
                options.unlabeledVideos = unlabeledVideos
            }
            if distributed {
                options.group = try joinGroup(timeout: distributedTimeout)
                if options.group?.isLeader == false {
                    options.log = { _ in }  // rank 0 speaks for the group
                    options.showProgress = false
                    try PoseTrainer.trainAsFollower(project: project, options: options)
                    return
                }
            }
            if let ensembleRun {
                return try trainEnsemble(
                    project: project, options: options, folder: ensembleRun.folder, members: ensembleRun.members, source: ensembleRun.source
                )
            }
            let result = try PoseWorkflows.train(
                project: project, options: options, overwrite: overwrite, predictVideos: noVideos ? false : nil)
            logLine("model directory: \(result.directory)")
        } catch let error as TrainingInterrupted {
            logLine(error.description)
            throw ExitCode(130)
        }
    }
}

/// A command-line option with a value Kinema cannot use: `--epochs 0: must be at least 1`.
struct OptionError: Error, CustomStringConvertible {
    var option: String, value: String, message: String
    init(_ option: String, _ value: String, _ message: String) {
        self.option = option
        self.value = value
        self.message = message
    }
    var description: String { value.isEmpty ? "\(option): \(message)" : "\(option) \(value): \(message)" }
}
