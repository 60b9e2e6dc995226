// `kinema predict`: a trained model on videos and image folders, into CSVs (and labelled videos).
import Foundation
import KinemaConsole
import KinemaFiles
import PoseData
import PoseFormats
import PoseModels
import VideoIO

/// What `PoseWorkflows.predict` wrote, and what it could not do without losing a prediction.
public struct PredictionRun: Sendable {
    /// The files written: CSVs, and labelled videos where they succeeded.
    public var files: [String] = []
    /// Recordings cut off mid-file, one line each (already logged): their CSVs hold the frames before the cut.
    public var truncated: [String] = []
    /// Optional outputs (labelled videos, metrics, .h5) that failed, one line each (already logged); the CSVs were written.
    public var failedOutputs: [String] = []
    /// What was written beside the CSVs: per-frame metrics, their picture, `.h5` (`PredictionExtras`).
    public var extras: [String] = []
}

extension PoseWorkflows {
    static let videoExtensions: Set<String> = ["mp4", "avi", "mov", "mkv", "m4v"]
    static let imageExtensions: Set<String> = ["png", "jpg", "jpeg"]

    /// Predicts videos (`.mp4`, `.avi`, `.mov`, `.mkv`) or folders of images.
    ///
    /// Videos go to `<output>/<stem>.csv` (DLC projects: `<stem><scorer>.csv`), with
    /// `labeled_videos/<stem>_labeled.mp4` when `labeledVideo` is set; an image folder gives
    /// `<output>/<folder>/predictions.csv` indexed by image path (names: `PredictionOutputs`). Outputs of an
    /// earlier run are replaced, each in one step (temporary file, then rename).
    ///
    /// Nothing predicted is lost: each CSV is written as soon as its video is predicted; a labelled video
    /// that fails is one line in `failedOutputs`; a recording cut off mid-file gives the CSV of the frames
    /// before the cut and one line in `truncated`. Inputs and the output folder are checked before any work.
    /// `onFirstBatch` is called after each video's first batch (start-up measurements). Beside each video's CSV go
    /// LP's per-frame metrics with their summary and picture, and `<stem>.h5` when `h5` (default: in DLC projects).
    public static func predict(
        _ trained: TrainedModel, inputs: [String], outputDirectory: String? = nil,
        labeledVideo: Bool = false, threshold: Double? = nil, batchSize: Int = 16, h5: Bool? = nil,
        showProgress: Bool = true, log: (String) -> Void = logLine,
        onFirstBatch: (() -> Void)? = nil
    ) throws -> PredictionRun {
        let output = outputDirectory ?? trained.folder.videoPredictions
        if !trained.model.config.cameraViews.isEmpty {
            return try predictSessions(
                trained, inputs: inputs, output: output, labeledVideo: labeledVideo, threshold: threshold, batchSize: batchSize,
                h5: h5, showProgress: showProgress, log: log, onFirstBatch: onFirstBatch)
        }
        // Everything that can be checked is checked before the first frame: the inputs, then the output folder.
        var jobs: [(video: String?, imageFolder: String?, images: [String])] = []
        for input in inputs {
            var isDirectory: ObjCBool = false
            guard FileManager.default.fileExists(atPath: input, isDirectory: &isDirectory) else {
                throw PoseModelError("\(input): no such file or folder; pass video files or folders of images")
            }
            guard isDirectory.boolValue else { jobs.append((input, nil, [])); continue }
            let files = try folderContents(input)
            let videos = files.filter { videoExtensions.contains(($0 as NSString).pathExtension.lowercased()) }
            let images = files.filter { imageExtensions.contains(($0 as NSString).pathExtension.lowercased()) }
            if images.isEmpty && videos.isEmpty {
                throw PoseModelError("\(input) holds no videos (mp4, avi, mov, mkv) or images (png, jpg)")
            }
            if !images.isEmpty { jobs.append((nil, input, images)) }
            jobs += videos.map { ((input as NSString).appendingPathComponent($0), nil, []) }
        }
        try checkWritableFolder(output)

        var run = PredictionRun()
        let outputs = PredictionOutputs(output)
        let extras = jobs.contains { $0.video != nil } ? PredictionExtras(trained, h5: h5, log: log) : nil
        for job in jobs {
            guard let input = job.video else {
                run.files.append(
                    try predictImages(trained, folder: job.imageFolder!, files: job.images, output: output, batchSize: batchSize))
                continue
            }
            let (table, csv) = try predictVideoFile(
                trained, input: input, outputs: outputs, labeledVideo: labeledVideo, threshold: threshold, batchSize: batchSize,
                showProgress: showProgress, log: log, onFirstBatch: onFirstBatch, run: &run)
            do {
                run.extras += try extras?.write(table, video: input, csv: csv, outputs: outputs, log: log) ?? []
            } catch {  // optional outputs, like a labelled video: the CSV is kept
                run.failedOutputs.append("warning: no metrics or .h5 for \(input): \(FileProblem.sentence(error))")
                log(run.failedOutputs.last!)
            }
        }
        return run
    }

    /// The names in `folder`, sorted; one line when it cannot be listed.
    static func folderContents(_ folder: String) throws -> [String] {
        do {
            return try FileManager.default.contentsOfDirectory(atPath: folder).sorted()
        } catch {
            throw PoseModelError("\(folder): cannot list the folder: \(FileProblem.describe(error))")
        }
    }

    /// Predicts one video into `<stem>.csv` (and its labelled video); returns the table and the CSV's path. What
    /// could not be done without losing the prediction (labelled video, a cut-off recording) goes into `run`.
    static func predictVideoFile(
        _ trained: TrainedModel, input: String, outputs: PredictionOutputs, labeledVideo: Bool, threshold: Double?,
        batchSize: Int, showProgress: Bool, log: (String) -> Void, onFirstBatch: (() -> Void)?, run: inout PredictionRun
    ) throws -> (table: PoseTable, csv: String) {
        var drawer: LabeledVideoWriter?
        let labeledPath = outputs.labeledVideo(video: input)
        if labeledVideo {
            let info = try VideoReader(path: input).info  // an unreadable video fails here, as below
            let config = trained.model.config
            do {
                drawer = try LabeledVideoWriter(
                    path: labeledPath, width: info.width, height: info.height,
                    framesPerSecond: info.framesPerSecond > 0 ? info.framesPerSecond : 30, keypointNames: trained.model.keypointNames,
                    colormap: config.colormap,
                    threshold: threshold
                        ?? (trained.project.kind == .deepLabCut ? trained.project.pcutoff : config.confidenceThreshForVid),
                    skeleton: config.skeleton)
            } catch {
                run.failedOutputs.append("warning: no labelled video for \(input): \(FileProblem.describe(error))")
                log(run.failedOutputs.last!)
            }
        }
        let result = try trained.model.predictVideo(
            path: input, scorer: trained.scorer, batchSize: batchSize,
            showProgress: showProgress, drawer: drawer, onFirstBatch: onFirstBatch)
        let csv = outputs.keypoints(video: input, dlcScorer: trained.project.kind == .deepLabCut ? trained.scorer : nil)
        try result.table.write(to: URL(fileURLWithPath: csv))
        log(
            String(
                format: "%@: %d frames in %.1f s (%.1f frames/s, first batch after %.2f s) -> %@", input, result.frames,
                result.seconds, result.framesPerSecond, result.startupSeconds, csv))
        run.files.append(csv)
        if let truncation = result.truncation {
            run.truncated.append("warning: " + cutOffLine(truncation, info: result.video, rows: result.frames))
            log(run.truncated.last!)
        }
        if let drawer {
            if let failure = result.labeledVideoFailure {
                run.failedOutputs.append("warning: no labelled video for \(input): \(failure)")
                log(run.failedOutputs.last!)
            } else {
                run.files.append(labeledPath)
                if let warning = drawer.thresholdWarning { log("warning: " + warning) }
            }
        }
        return (result.table, csv)
    }

    /// One line saying where a cut recording broke, in frames and seconds, and what the CSV holds.
    static func cutOffLine(_ truncation: VideoError, info: VideoInfo, rows: Int) -> String {
        guard case .truncated(let path, let frame, let expected, let reason) = truncation else { return "\(truncation)" }
        let time = info.framesPerSecond > 0 ? String(format: " (%.2f s)", Double(frame) / info.framesPerSecond) : ""
        let of = expected.map { " of the \($0) its header lists" } ?? ""
        return "\(path) is cut off at frame \(frame)\(time)\(of) (\(reason)); predicted frames 0-\(frame - 1), the CSV has \(rows) rows"
    }

    /// Creates `folder` if needed and checks that files can be created in it, so that a run does not fail
    /// after all its work.
    static func checkWritableFolder(_ folder: String) throws {
        do {
            try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
        } catch {
            throw PoseModelError("output folder \(folder): cannot create it: \(FileProblem.describe(error))")
        }
        guard access(folder, W_OK | X_OK) == 0 else {
            throw PoseModelError("output folder \(folder): cannot write there: \(FileProblem.describe(errno: errno))")
        }
    }

    /// Predicts a folder of images into `<output>/<folder>/predictions.csv`.
    static func predictImages(_ trained: TrainedModel, folder: String, files: [String], output: String, batchSize: Int) throws -> String {
        let model = trained.model
        let resizer = model.resizer()
        var xs: [Double] = [], ys: [Double] = [], ls: [Double] = []
        for start in stride(from: 0, to: files.count, by: batchSize) {
            let chunk = Array(files[start..<Swift.min(files.count, start + batchSize)])
            let images = try chunk.map { try HostImage.read(path: folder + "/" + $0) }
            var planes: [Float] = []
            // The context model reads each image's neighbours t−2…t+2 from the folder (LP's rule, `ContextFrames`).
            let samples =
                model.framesPerSample > 1
                ? zip(chunk, images).flatMap {
                    ContextFrames.images(around: folder + "/" + $0, centre: $1, loadImage: HostImage.read(path:)).images
                }
                : images
            for image in samples {
                var p = resizer.warp(
                    image,
                    transform: Affine2D(
                        a: Double(resizer.outputWidth) / Double(image.width), b: 0, c: 0,
                        d: Double(resizer.outputHeight) / Double(image.height), tx: 0, ty: 0))
                resizer.normalize(&p)
                planes += p
            }
            let estimates = try model.predict(images: planes, count: images.count)
            for (b, row) in estimates.enumerated() {
                for e in row.map({ model.toFrame($0, width: images[b].width, height: images[b].height) }) {
                    xs.append(e.x); ys.append(e.y); ls.append(e.likelihood)
                }
            }
        }
        var values: [Double] = []
        for i in xs.indices { values += [xs[i], ys[i], ls[i]] }
        let name = (folder as NSString).lastPathComponent
        let table = try PoseTable(
            scorer: trained.scorer, keypoints: model.keypointNames, coords: ["x", "y", "likelihood"],
            rowKeys: files.map { name + "/" + $0 }, indexStyle: .imagePath, values: values)
        let outputs = PredictionOutputs(output)
        let path = outputs.imagePredictions(folder: folder)
        try FileManager.default.createDirectory(atPath: outputs.imageFolder(folder), withIntermediateDirectories: true)
        try table.write(to: URL(fileURLWithPath: path))
        return path
    }
}
