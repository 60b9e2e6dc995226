// `kinema bench semi`: supervised against semi-supervised training (each loss, all losses, the context model, an
// ensemble with EKS) at an equal wall-clock budget, scored on synthetic held-out sessions with ground truth in
// every frame.
import ArgumentParser
import Foundation
import KinemaConsole
import KinemaFiles
import PoseData
import PoseFormats

struct BenchSemi: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "semi",
        abstract: "Semi-supervised vs supervised pose training at equal wall-clock time, on held-out synthetic sessions.",
        discussion: """
            Generates a mirrored two-view project of the synthetic animal (WORK/project): labelled frames from the \
            training sessions only, the training sessions' videos as unlabelled data (with --unlabeled all, the \
            held-out sessions' videos too), and held-out sessions \
            (WORK/project/heldout, truth in WORK/project/truth) whose background, lighting, occluders and \
            distractor texture all differ from training. Each configuration then trains through `kinema train` \
            in a child process with the same wall-clock budget (training.max_minutes), predicts the held-out \
            videos with `kinema predict` and is scored against the truth: mean and 95th-percentile error, the \
            share of keypoint-frames off by more than 5% of a view's side, and the temporal norm. The ensemble's \
            members are trained one after another, EACH with the same budget as a single model (so the ensemble \
            costs N budgets), and predicted with `kinema predict ENSEMBLE` (every member, then EKS).

            Figures are printed as `bench semi_<configuration>_<figure> <value> <unit> ratio=<r> vs <baseline>`, \
            ratio = value ÷ baseline's (below 1: lower than the baseline), against `supervised` of the same run \
            and, for the ensemble, against `all_losses` too; then a table. Each configuration's result is kept in \
            WORK/results as soon as it is scored: an interrupted run keeps them, and rerunning the same command \
            with the same --work continues with the configurations not yet scored.
            """)

    @Option(name: .customLong("budget-minutes"), help: "Training wall-clock budget of every model (and of each ensemble member).")
    var budgetMinutes = 3.0

    @Option(help: "Working folder: the project, models, predictions, logs and results.")
    var work = NSTemporaryDirectory() + "kinema-bench-semi"

    @Option(help: "Labelled frames, all from the training sessions (20–50 is the benchmark's range).")
    var labelled = 30

    @Option(help: "Side of each view in pixels (a multiple of 32); frames are 2·size × size.")
    var size = 96

    @Option(
        help: ArgumentHelp(
            "Configurations to run, comma-separated (default: all, in this order).",
            valueName: SemiConfiguration.all.map(\.name).joined(separator: ",")))
    var configs = SemiConfiguration.all.map(\.name).joined(separator: ",")

    @Option(help: "Ensemble members (ensemble_eks).")
    var members = 4

    @Option(name: .customLong("training-frames"), help: "Frames of each of the 4 training sessions' videos.")
    var trainingFrames = 400

    @Option(name: .customLong("heldout-frames"), help: "Frames of each of the 3 held-out sessions' videos.")
    var heldoutFrames = 300

    @Option(
        name: .customLong("log-weight"),
        help: "λ of every unsupervised loss (weight 1/(2e^λ)); default: the config's default, Lightning Pose's 11.")
    var logWeight: Double?

    @Option(
        help: ArgumentHelp(
            "The unlabelled videos: the training sessions' (the default), or all: the held-out sessions' videos too, as Lightning Pose is used (the videos to be predicted are unlabelled data of the run).",
            valueName: "training|all"))
    var unlabeled = "training"

    @Option(
        name: .customLong("clip-length"),
        help:
            "Frames of each unlabelled clip (dali.base.train.sequence_length and dali.context.train.batch_size); default LP's 32 (16 context)."
    )
    var clipLength: Int?

    @Option(
        help:
            "Seed of every model's training (training.rng_seed_data_pt and rng_seed_model_pt: split, batches, augmentation, initial weights); run several to see the spread."
    )
    var seed = 0

    func validate() throws {
        guard ["training", "all"].contains(unlabeled) else {
            throw ValidationError(
                "--unlabeled \(unlabeled): choose training (the training sessions' videos) or all (the held-out ones too)")
        }
        if let clipLength, clipLength < 5 {
            throw ValidationError("--clip-length \(clipLength): at least 5 frames (the context model's window)")
        }
        guard budgetMinutes > 0, budgetMinutes.isFinite else {
            throw ValidationError("--budget-minutes \(budgetMinutes): must be a positive number of minutes")
        }
        guard labelled >= 20 else {
            throw ValidationError("--labelled \(labelled): give at least 20 labelled frames (the pose PCA needs 18 training frames)")
        }
        guard size >= 64, size % 32 == 0 else {
            throw ValidationError("--size \(size): must be a multiple of 32, at least 64 (the networks' input is 2·size × size)")
        }
        guard members >= 2 else { throw ValidationError("--members \(members): an ensemble needs at least 2 members") }
        guard trainingFrames >= 64 else {
            throw ValidationError("--training-frames \(trainingFrames): at least 64 (32-frame clips and labels)")
        }
        guard heldoutFrames >= 2 else { throw ValidationError("--heldout-frames \(heldoutFrames): at least 2") }
        guard labelled <= 4 * (trainingFrames / 8) else {
            throw ValidationError(
                "--labelled \(labelled): too many for 4 sessions of \(trainingFrames) frames (at most \(4 * (trainingFrames / 8)))")
        }
        _ = try selectedConfigurations()
    }

    func selectedConfigurations() throws -> [SemiConfiguration] {
        let names = configs.split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces) }
        var chosen: [SemiConfiguration] = []
        for name in names {
            guard let configuration = SemiConfiguration.all.first(where: { $0.name == name }) else {
                throw ValidationError(
                    "--configs: '\(name)' is not a configuration; choose from \(SemiConfiguration.all.map(\.name).joined(separator: ", "))")
            }
            if !chosen.contains(where: { $0.name == name }) { chosen.append(configuration) }
        }
        guard !chosen.isEmpty else { throw ValidationError("--configs: name at least one configuration") }
        return chosen
    }

    var settings: SemiSettings {
        SemiSettings(
            budgetMinutes: budgetMinutes, labelled: labelled, size: size, members: members, trainingFrames: trainingFrames,
            heldoutFrames: heldoutFrames, logWeight: logWeight, unlabeled: unlabeled == "training" ? nil : unlabeled,
            clipLength: clipLength, seed: seed == 0 ? nil : seed)
    }

    func run() throws {
        let chosen = try selectedConfigurations()
        Interruption.install()
        let bench = try SemiBenchRun(work: work, settings: settings)
        printLoad("start")
        print(
            "cores: \(ProcessInfo.processInfo.activeProcessorCount); KINEMA_THREADS=\(ProcessInfo.processInfo.environment["KINEMA_THREADS"] ?? "unset")"
        )
        try bench.prepare()
        var results: [String: SemiResult] = [:]
        var interrupted = false
        for configuration in chosen {
            do {
                results[configuration.name] = try bench.result(of: configuration)
            } catch is SemiInterrupted {
                interrupted = true
                break
            }
        }
        printLoad("end")
        bench.report(chosen.compactMap { results[$0.name] })
        if interrupted {
            print("interrupted: the results above are kept in \(bench.folder("results")); rerun the same command to continue")
            throw ExitCode(130)
        }
    }
}

/// One configuration of the benchmark: the `kinema train` options that make it.
struct SemiConfiguration: Sendable {
    var name: String
    /// `--losses` (`none`: supervised).
    var losses: String
    var modelType: String?
    var ensemble = false

    static let allLosses = "temporal,pca_singleview,pca_multiview"
    /// In the order they run: the comparisons the targets name first, so an interrupted run has them.
    static let all = [
        SemiConfiguration(name: "supervised", losses: "none"),
        SemiConfiguration(name: "all_losses", losses: allLosses),
        SemiConfiguration(name: "ensemble_eks", losses: allLosses, ensemble: true),
        SemiConfiguration(name: "temporal", losses: "temporal"),
        SemiConfiguration(name: "pca_singleview", losses: "pca_singleview"),
        SemiConfiguration(name: "pca_multiview", losses: "pca_multiview"),
        SemiConfiguration(name: "context", losses: "none", modelType: "heatmap_mhcrnn"),
        SemiConfiguration(name: "context_all_losses", losses: allLosses, modelType: "heatmap_mhcrnn"),
    ]
}

/// What a run was made with; an earlier run's results are reused only under the same settings.
struct SemiSettings: Codable, Equatable {
    var budgetMinutes: Double
    var labelled: Int
    var size: Int
    var members: Int
    var trainingFrames: Int
    var heldoutFrames: Int
    var logWeight: Double?
    /// nil: the training sessions' videos; "all": the held-out sessions' too. (Optional, as the clip length: runs
    /// made before these settings existed decode as the default.)
    var unlabeled: String?
    var clipLength: Int?
    /// The training seed (nil: 0, the config's).
    var seed: Int?
    var version = 1
}

/// One configuration's figures, kept in WORK/results/<name>.json.
struct SemiResult: Codable {
    var name: String
    var score: HeldOutScore
    /// Wall-clock seconds of the `kinema train` processes (start-up and evaluation included; ensembles: all members).
    var trainSeconds: Double
    /// Optimisation steps of each model (completed epochs, from metrics.csv).
    var steps: [Int]
    var predictSeconds: Double
    /// The 1-minute load average when the configuration finished.
    var load: String
    /// Ensembles: each member's own mean error on the held-out sessions.
    var memberMeanErrors: [Double]? = nil
}

struct SemiInterrupted: Error {}
