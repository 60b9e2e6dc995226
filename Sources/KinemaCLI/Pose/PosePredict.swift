// `kinema predict`: keypoints for videos or image folders, optionally a labelled video.
import ArgumentParser
import Foundation
import KinemaConsole
import PoseData
import PoseModels
import PosePrediction
import ProcessPolicy

struct PosePredict: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "predict",
        abstract: "Predict keypoints for videos or folders of images (LP/DLC CSV layout).",
        discussion: """
            Each video's CSV is written as soon as it is predicted, replacing the CSV of an earlier run in one \
            step. A recording cut off mid-file keeps what was decoded: its CSV has one row per frame before \
            the cut (as many as any reader of the file finds) and one warning line says where it broke. \
            Beside each video's CSV go Lightning Pose's per-frame metrics, <stem>_temporal_norm.csv, \
            <stem>_pca_singleview_error.csv and <stem>_pca_multiview_error.csv (projects whose config sets \
            data.mirrored_column_matches, and separate cameras), with a summary (median and 95th percentile per \
            keypoint) and <stem>_metrics.png; the PCA is fitted on the model's training labels as training fits \
            it. With --h5, and always in DeepLabCut projects, the prediction is also written as DeepLabCut's .h5. \
            Labelled videos of any size are written (an odd width or height gets one black column or row of \
            padding); if one cannot be written, that is one warning line and the CSVs are kept.

            Separate cameras (data.view_names, one video per camera): give every view's videos, or their folder. \
            They are grouped into sessions by LP's rule (the view name as a word in the file name: \
            <session>_<view>.mp4), every session is checked (one video per view, the same frame count) before any \
            work, and each view's video gets its own <stem>.csv and metrics; the multiview PCA error compares the \
            views of the same frame.

            Exit status: 0 when everything was written; 1 on an error (the CSVs of the videos finished before \
            it are kept); 3 when every CSV was written but a labelled video, the metrics or the .h5 failed; 4 with --strict when a \
            recording was cut off (its CSV is still written).

            Many videos: `kinema predict MODEL --videos LIST|FOLDER|PATTERN... --output DIR [--workers N]` runs a \
            resumable batch. DIR/manifest.json records each video as done (with its outputs), failed (with the \
            reason) or pending; a rerun skips the videos done and unchanged, and predicts failed ones again only \
            with --retry-failed. N worker processes share the cores (each uses cores/N threads). Ctrl-C ends the \
            workers and puts their videos back to pending. LIST is a text file of video paths, one a line \
            (relative to the list's folder; # comments). Exit status: 0 when every video is done; 5 when some \
            failed (the others' outputs are kept); 130 when interrupted.

            A batch of separate cameras (data.view_names) is a batch of sessions: the videos are grouped by the \
            rule above before any work, and a video of no view, or a session missing a view or with two videos of \
            one, stops the command with one line naming the session (nothing is predicted). A worker predicts a \
            whole session (the views' frame counts checked, one CSV per view, then the metrics); the manifest has \
            one entry per session with its videos, done only while every view's video and every output is \
            unchanged, and a session whose views differ in frame count fails alone, with its reason.

            On a Slurm cluster, --slurm writes DIR/slurm/predict.sbatch, a job array with one task per \
            --videos-per-task videos (sessions, for separate cameras: a session is never split between tasks; \
            each task a batch of its own, with its manifest under DIR/slurm/manifests), and submits it with \
            sbatch; `kinema jobs status|wait|retry DIR` follow it up and resubmit only the tasks whose videos \
            are not all done.

            An ensemble folder (`kinema train --ensemble N`) as MODEL: each video is decoded once and every member \
            predicts it; OUT/members/member-<i>/<stem>.csv hold the members' predictions and OUT/<stem>.csv the \
            ensemble Kalman smoother's result (x, y, likelihood, ensemble median and variance, posterior variance), \
            for one camera, mirrored views or separate cameras (<session>_<view> videos) as the project's config \
            says. The smoothing parameter s is chosen per keypoint as `kinema smooth` does; --smooth-s fixes it.
            """)

    @Argument(help: "Model directory (or ensemble folder) written by `kinema train`.")
    var model: String

    @Argument(help: "Videos and/or folders of images.")
    var inputs: [String] = []

    @Option(
        parsing: .upToNextOption,
        help:
            "Predict many videos as a resumable batch (of sessions, for separate cameras): video files, folders, text files listing videos, or patterns."
    )
    var videos: [String] = []

    @Option(help: "Worker processes for --videos.")
    var workers = 1

    @Flag(name: .customLong("retry-failed"), help: "With --videos: predict again the videos an earlier run recorded as failed.")
    var retryFailed = false

    @Flag(name: .customLong("batch-worker"), help: .hidden)
    var batchWorker = false

    @OptionGroup(title: "Slurm (with --videos)")
    var slurmOptions: SlurmOptions

    @Option(name: .customLong("output"), help: "Output folder (default: MODEL/video_preds).")
    var output: String?

    @Flag(name: .customLong("labeled-video"), help: "Also write <stem>_labeled.mp4 with the keypoints drawn.")
    var labeledVideo = false

    @Flag(help: "Also write <stem>.h5 (DeepLabCut's layout) beside each video's CSV (default in DeepLabCut projects).")
    var h5 = false

    @Option(help: "Hide keypoints at or below this likelihood in labelled videos (default: config).")
    var threshold: Double?

    @Option(name: .customLong("batch-size"), help: "Frames per forward pass.")
    var batchSize = 16

    @Flag(help: "Treat a recording cut off mid-file as an error (exit status 4; its CSV is still written).")
    var strict = false

    @Option(
        name: .customLong("smooth-s"), parsing: .upToNextOption,
        help: "Ensembles: fixed EKS smoothing parameter, one for all keypoints or one per keypoint (default: chosen).")
    var smoothS: [Double] = []

    /// Exit statuses after a run that wrote every CSV (documented in the discussion above).
    static let labeledVideoFailed: Int32 = 3, cutOffWhenStrict: Int32 = 4, batchHadFailures: Int32 = 5
    static let interrupted: Int32 = 130

    func validate() throws {
        if let threshold, !(0...1).contains(threshold) {
            throw ValidationError("--threshold must be a likelihood between 0 and 1, not \(threshold)")
        }
        guard batchSize > 0 else { throw ValidationError("--batch-size must be positive, not \(batchSize)") }
        guard workers > 0 else { throw ValidationError("--workers must be positive, not \(workers)") }
        if batchWorker { return }
        if !videos.isEmpty && !inputs.isEmpty {
            throw ValidationError("give the videos either after MODEL or with --videos, not both")
        }
        if videos.isEmpty && inputs.isEmpty {
            throw ValidationError("give videos or folders of images after MODEL, or a batch with --videos")
        }
        if videos.isEmpty && (workers != 1 || retryFailed) {
            throw ValidationError("--workers and --retry-failed apply to a batch given with --videos")
        }
        if !videos.isEmpty && strict { throw ValidationError("--strict applies to videos given after MODEL, not to --videos") }
        if !videos.isEmpty && h5 {
            throw ValidationError("--h5 applies to videos given after MODEL (batches of DeepLabCut projects write .h5 anyway)")
        }
        try slurmOptions.validate(batch: !videos.isEmpty)
    }

    @OptionGroup var device: DeviceOption
    @OptionGroup var precision: PrecisionOption

    func run() throws {
        let target = try device.target()
        let settings = BatchPredictionSettings(
            batchSize: batchSize, labeledVideo: labeledVideo, threshold: threshold, device: target,
            precision: try precision.resolved(on: target))
        if batchWorker {
            return BatchWorker.serve(model: model, output: output ?? ModelDirectory(model).videoPredictions, settings: settings)
        }
        if EnsembleDirectory.isEnsemble(model) { return try runEnsemble() }
        if !smoothS.isEmpty {
            throw ValidationError("--smooth-s applies to an ensemble folder (kinema train --ensemble N); \(model) is one model")
        }
        if !videos.isEmpty { return try runBatch() }
        let trained = try TrainedModel(directory: model, device: target)
        trained.model.precision = settings.precision
        let run = try PoseWorkflows.predict(
            trained, inputs: inputs, outputDirectory: output, labeledVideo: labeledVideo,
            threshold: threshold, batchSize: batchSize, h5: h5 ? true : nil,
            onFirstBatch: FirstFrameReport.hookIfRequested)
        for file in run.files { print(file) }
        if strict && !run.truncated.isEmpty { throw ExitCode(Self.cutOffWhenStrict) }
        if !run.failedOutputs.isEmpty { throw ExitCode(Self.labeledVideoFailed) }
    }
}

extension PosePredict {
    /// `--videos`: the batch runs in worker processes of this same executable (`--batch-worker`).
    func runBatch() throws {
        let here = FileManager.default.currentDirectoryPath
        let modelPath = BatchVideoList.absolute(model, relativeTo: here)
        let outputPath = BatchVideoList.absolute(output ?? ModelDirectory(model).videoPredictions, relativeTo: here)
        let list = try BatchVideoList.resolve(videos, relativeTo: here)
        // Separate cameras: the unit is a session, every one complete before any work (as without --videos).
        let items = try BatchVideoList.items(list, views: BatchVideoList.views(ofModel: modelPath))
        let executable = (try? FileManager.default.destinationOfSymbolicLink(atPath: "/proc/self/exe")) ?? CommandLine.arguments[0]
        var worker = [executable, "predict", modelPath, "--batch-worker", "--output", outputPath, "--batch-size", String(batchSize)]
        if labeledVideo { worker.append("--labeled-video") }
        if let threshold { worker += ["--threshold", String(threshold)] }
        // As the user wrote it: a Slurm node resolves `auto` itself.
        worker += ["--device", device.device, "--precision", precision.precision.rawValue]
        if slurmOptions.slurm { return try submitToSlurm(items: items, model: modelPath, output: outputPath, workerCommand: worker) }
        var options = BatchOptions(
            model: modelPath, output: outputPath, workers: workers, threadsPerWorker: 1, retryFailed: retryFailed,
            workerCommand: worker)
        let selected = try slurmOptions.batchChunk.map { try chunk($0, of: items, options: &options) } ?? items
        options.threadsPerWorker = max(1, ProcessPolicy.threadCount() / min(workers, selected.count))
        Interruption.install(signals: [SIGINT, SIGTERM])  // Ctrl-C, scancel and Slurm's time limit alike
        signal(SIGPIPE, SIG_IGN)  // a worker that died must not take the batch with it
        let summary = try BatchPrediction.run(selected, options: options)
        for line in summary.lines { logLine(line) }
        print(options.manifest)
        if summary.interrupted { throw ExitCode(Self.interrupted) }
        if !summary.failed.isEmpty { throw ExitCode(Self.batchHadFailures) }
    }
}
