// `kinema bench train`: training step and epoch times, LP's configuration and Kinema's default, against
// Lightning Pose's own figures; and the cost of a semi-supervised step against a supervised one.
import ArgumentParser
import Foundation
import PoseData
import PoseModels

// MARK: - kinema bench train

/// `kinema bench train [CONFIG]`: training step and epoch time for Lightning Pose's configuration
/// (ResNet-50 heatmap, 256², batch 16, Adam, from scratch, DLC augmentation) against LP's own figures
/// from `scripts/bench/lp-baseline.sh`, and for Kinema's default from-scratch model.
struct BenchTrain: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "train",
        abstract: "Training step and epoch seconds vs Lightning Pose on the same data and configuration.",
        discussion: """
            Each section trains warm-up steps, then one full epoch of the project's train split (augmentation \
            on, on the batch loader's thread), timing every step. LP's figures are read from the summary \
            lp-baseline.sh writes (median over its epochs, same machine, separate run: its load average is \
            printed next to it). ratio > 1 means Kinema is faster.

            The semi-supervised section trains Kinema's default model with the temporal, pca_singleview and \
            pca_multiview losses (pca_multiview only where the config has mirrored_column_matches) and alternates \
            a supervised step and a semi-supervised step (the same labelled batch size plus one unlabelled clip) \
            on one trainer, for each --semi-clip-lengths value: the ratio is the median of the pairs' ratios, \
            semi / supervised (issue target: at most 2). Its images per step are (batch + clip) / batch times the \
            supervised step's, so the per-image ratio is printed too.
            """)

    @Argument(help: "Project config (default: the repository's Tests/Data/mirror-mouse-example/lp-config.yaml).")
    var config: String?

    @Option(name: .customLong("lp-summary"), help: "peer_summary.json of lp-baseline.sh.")
    var lpSummary = defaultLPSummary

    @Option(name: .customLong("warmup-steps"), help: "Untimed steps before the timed epoch.")
    var warmupSteps = 1

    @Flag(name: .customLong("skip-resnet50"), help: "Skip LP's configuration (ResNet-50, 256²).")
    var skipResNet50 = false

    @Flag(name: .customLong("skip-default"), help: "Skip Kinema's default model (U-Net, 128²).")
    var skipDefault = false

    @Option(
        name: .customLong("semi-clip-lengths"),
        help:
            "Unlabelled clip lengths of the semi-supervised section, comma-separated (LP: 32; 16 in LP's mirror-mouse config and for the context model); none skips it."
    )
    var semiClipLengths = "16,32"

    @Option(name: .customLong("semi-pairs"), help: "Timed supervised/semi-supervised step pairs per clip length.")
    var semiPairs = 8

    func validate() throws {
        guard semiClipLengths == "none" || clipLengths.allSatisfy({ $0 != nil && $0! > 0 }) else {
            throw ValidationError("--semi-clip-lengths: positive whole numbers separated by commas (e.g. 16,32), or none")
        }
        guard semiPairs > 0 else { throw ValidationError("--semi-pairs must be positive") }
    }

    private var clipLengths: [Int?] {
        semiClipLengths == "none" ? [] : semiClipLengths.split(separator: ",").map { Int($0.trimmingCharacters(in: .whitespaces)) }
    }

    func run() throws {
        guard let path = config ?? benchExampleData("lp-config.yaml"), FileManager.default.fileExists(atPath: path) else {
            throw ValidationError(
                "\(config ?? "Tests/Data/mirror-mouse-example/lp-config.yaml") does not exist; pass the project config (e.g. mirror-mouse-example/lp-config.yaml)"
            )
        }
        printLoad("start")
        let base = try PoseProject.load(configPath: path)
        let dataset = try LabeledDataset.load(project: base)
        let lp = LPSummary(path: lpSummary)

        if !skipResNet50 {
            // LP's run: lp-config.yaml with resnet50 from random init, 256², batch 16, Adam, dlc augmentation.
            var project = base
            project.config.backbone = "resnet50"
            project.config.resizeWidth = 256
            project.config.resizeHeight = 256
            project.config.trainBatchSize = 16
            project.config.optimizer = "Adam"
            project.config.imgaug = "dlc"
            let timing = try time(project, dataset: dataset, label: "resnet50_256 (LP's configuration)")
            report(timing, name: "train_resnet50_256", lp: lp)
        }
        if !skipDefault {
            // Kinema's from-scratch default (the demo's): U-Net at 128², same data and batch size.
            let timing = try time(Self.kinemaDefault(base), dataset: dataset, label: "default unet_128")
            report(timing, name: "train_default_unet_128", lp: nil)
        }
        for length in clipLengths.compactMap({ $0 }) {
            try timeSemi(base, dataset: dataset, clipLength: length)
        }
        printLoad("end")
    }

    func time(_ project: PoseProject, dataset: LabeledDataset, label: String) throws -> TrainingTiming {
        let directory = NSTemporaryDirectory() + "kinema-bench-train-\(getpid())"
        defer { try? FileManager.default.removeItem(atPath: directory) }
        var options = TrainOptions(modelDir: directory)
        options.showProgress = false
        options.log = { print("   " + $0) }
        print(
            "-- \(label): \(project.config.backbone) \(project.config.resizeWidth)×\(project.config.resizeHeight), batch \(project.config.trainBatchSize), \(project.config.optimizer), imgaug \(project.config.imgaug)"
        )
        let trainer = try PoseTrainer(project: project, dataset: dataset, options: options)
        let timing = try trainer.timeTrainingEpoch(warmupSteps: warmupSteps)
        print(
            String(
                format: "   %d steps/epoch (%d train frames); steps %@ s; warm-up %.1f s; epoch CPU %.1f s (all threads)",
                timing.stepSeconds.count, timing.batchSizes.reduce(0, +),
                timing.stepSeconds.map { String(format: "%.2f", $0) }.joined(separator: " "),
                timing.warmupSeconds, timing.epochCPUSeconds))
        return timing
    }

    /// `base` with Kinema's from-scratch default model (the demo's): U-Net at 128², batch 16.
    static func kinemaDefault(_ base: PoseProject) -> PoseProject {
        var project = base
        project.config.backbone = "unet"
        project.config.resizeWidth = 128
        project.config.resizeHeight = 128
        project.config.heatmapSigma = 2
        project.config.trainBatchSize = 16
        return project
    }

    /// Kinema's default model with LP's three losses: supervised and semi-supervised steps interleaved.
    func timeSemi(_ base: PoseProject, dataset: LabeledDataset, clipLength: Int) throws {
        var project = Self.kinemaDefault(base)
        project.config.lossesToUse =
            ["temporal", "pca_singleview"] + (project.config.mirroredColumnMatches.isEmpty ? [] : ["pca_multiview"])
        // All labelled frames train (as LP's split does with 90 frames, pca_singleview needs more rows than coordinates).
        project.config.trainProb = 0.95
        project.config.valProb = 0.05
        let directory = NSTemporaryDirectory() + "kinema-bench-semi-step-\(getpid())"
        defer { try? FileManager.default.removeItem(atPath: directory) }
        var options = TrainOptions(modelDir: directory)
        options.showProgress = false
        options.log = { print("   " + $0) }
        print(
            "-- semi-supervised step, \(clipLength)-frame clips: unet 128×128, batch 16, \(project.config.lossesToUse.joined(separator: " + "))"
        )
        let trainer = try PoseTrainer(project: project, dataset: dataset, options: options)
        let unlabeled = try UnlabeledTraining(
            config: project.config, dataset: dataset, training: trainer.split.train, folder: nil, clipLength: clipLength)
        let timing = try trainer.timeSemiSteps(unlabeled, fullBatch: 16, pairs: semiPairs)
        let images = Double(16 + clipLength) / 16
        print(
            String(
                format: "   %d pairs: supervised step median %.3f s, semi-supervised %.3f s; %.1fx the images per step",
                timing.semi.count, timing.supervisedMedian, timing.semiMedian, images))
        benchLine(
            "train_semi_step_clip\(clipLength)", timing.semiMedian, "s", ratio: timing.pairedRatio,
            baseline: "supervised_step_b16_paired")
        benchLine(
            "train_semi_step_clip\(clipLength)_per_image", timing.semiMedian / images, "s", ratio: timing.pairedRatio / images,
            baseline: "supervised_step_per_image_paired")
    }

    func report(_ timing: TrainingTiming, name: String, lp: LPSummary?) {
        let step = timing.fullBatchStepMedian ?? .nan
        let lpStep = lp?.timingValue("full_batch16_step_s_median")
        let lpEpoch = lp?.timingValue("train_s_per_epoch_median")
        if lp != nil {
            if let lpStep { benchLine("train_litpose_step_b16", lpStep, "s", ratio: 1, baseline: "litpose-2.4.3") }
            if let lpEpoch { benchLine("train_litpose_epoch", lpEpoch, "s", ratio: 1, baseline: "litpose-2.4.3") }
        }
        benchLine(name + "_step_b16", step, "s", ratio: lpStep.map { $0 / step }, baseline: lp != nil ? "litpose-2.4.3" : "none")
        benchLine(
            name + "_epoch", timing.epochSeconds, "s", ratio: lpEpoch.map { $0 / timing.epochSeconds },
            baseline: lp != nil ? "litpose-2.4.3" : "none")
        if let lp, let t = lp.timing {
            func f(_ key: String) -> String { (t[key] as? Double).map { String(format: "%.2f", $0) } ?? "?" }
            print(
                "   litpose: \(t["steps_per_epoch"] ?? "?") steps/epoch, \(t["epochs"] ?? "?") epochs, load average during training \(f("loadavg1_mean_during_training")); \(lp.path)"
            )
        } else if name.contains("resnet50") {
            print(
                "   litpose: not measured: no timing in \(lpSummary) (run scripts/bench/lp-baseline.sh, or pass --lp-summary); ratio=n/a")
        }
    }
}
