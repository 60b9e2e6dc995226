import KinemaConsole
import KinemaFiles
// The end-to-end steps behind `kinema train / evaluate / predict / demo`, kept out of the CLI so
// that tests and the demo call exactly the same code.
import Foundation
import PoseData
import PoseFormats
import Torch
import VideoIO

// MARK: - Train status

/// Writes LP's `train_status.json`.
func writeTrainStatus(_ directory: String, _ status: String, completed: Int, total: Int) {
    let text = "{\"status\": \"\(status)\", \"progress\": {\"completed\": \(completed), \"total\": \(total), \"timestamp\": \(Int(Date().timeIntervalSince1970))}}\n"
    try? AtomicFile.write(text, to: directory + "/train_status.json")
}

// MARK: - Threads

/// libtorch intra-op threads: `KINEMA_THREADS` if set; otherwise one per core on a quiet machine, and
/// a single thread when other processes already keep the cores busy (1-minute load ≥ cores − 0.5).
/// OpenMP threads spin while they wait for each other; on an oversubscribed machine that made a
/// training epoch 4× slower with 2 threads than with 1 (measured on mirror-mouse-example).
/// Returns the thread count chosen.
@discardableResult
public func configureThreads() -> Int {
    let cores = ProcessInfo.processInfo.activeProcessorCount
    var threads = cores
    if let text = ProcessInfo.processInfo.environment["KINEMA_THREADS"], let n = Int(text), n > 0 {
        threads = n
    } else if let load = try? String(contentsOfFile: "/proc/loadavg", encoding: .utf8).split(separator: " ").first.flatMap({ Double($0) }),
              load >= Double(cores) - 0.5 {
        threads = 1
    }
    Runtime.threads = threads
    return threads
}

// MARK: - After training

public enum PoseWorkflows {
    /// Evaluates a trained model on its labelled frames: writes `predictions.csv` and
    /// `predictions_pixel_error.csv` into the model directory and returns the evaluation.
    public static func evaluate(_ trained: TrainedModel, dataset: LabeledDataset? = nil) throws -> LabeledEvaluation {
        let data = try dataset ?? LabeledDataset.load(project: trained.project)
        let config = trained.model.config
        let split = DataSplit.lightningPose(count: data.count, trainProb: config.trainProb, valProb: config.valProb,
                                            seed: config.rngSeedDataPt, trainFrames: config.trainFrames)
        let evaluation = try trained.model.evaluate(dataset: data, split: split)
        try evaluation.write(to: trained.directory, rowKeys: data.frames.map(\.key), scorer: trained.scorer)
        return evaluation
    }

    /// Predicts videos (`.mp4`, `.avi`, `.mov`, `.mkv`) or folders of images; returns the CSVs written.
    ///
    /// Videos go to `<output>/<stem>.csv` (DLC projects: `<stem><scorer>.csv`), with
    /// `labeled_videos/<stem>_labeled.mp4` when `labeledVideo` is set; an image folder gives
    /// `<output>/<folder>/predictions.csv` indexed by image path.
    public static func predict(_ trained: TrainedModel, inputs: [String], outputDirectory: String? = nil,
                               labeledVideo: Bool = false, threshold: Double? = nil, batchSize: Int = 16,
                               showProgress: Bool = true, log: (String) -> Void = logLine) throws -> [String] {
        let output = outputDirectory ?? trained.directory + "/video_preds"
        try FileManager.default.createDirectory(atPath: output, withIntermediateDirectories: true)
        var written: [String] = []
        let videoExtensions: Set<String> = ["mp4", "avi", "mov", "mkv", "m4v"]
        for input in inputs {
            var isDirectory: ObjCBool = false
            guard FileManager.default.fileExists(atPath: input, isDirectory: &isDirectory) else {
                throw PoseModelError("\(input) does not exist; pass video files or folders of images")
            }
            if isDirectory.boolValue {
                let files = try FileManager.default.contentsOfDirectory(atPath: input).sorted()
                let videos = files.filter { videoExtensions.contains(($0 as NSString).pathExtension.lowercased()) }
                let images = files.filter { ["png", "jpg", "jpeg"].contains(($0 as NSString).pathExtension.lowercased()) }
                if !images.isEmpty {
                    written.append(try predictImages(trained, folder: input, files: images, output: output, batchSize: batchSize))
                }
                written += try predict(trained, inputs: videos.map { input + "/" + $0 }, outputDirectory: output,
                                       labeledVideo: labeledVideo, threshold: threshold, batchSize: batchSize,
                                       showProgress: showProgress, log: log)
                if images.isEmpty && videos.isEmpty { throw PoseModelError("\(input) holds no videos or images") }
                continue
            }
            let stem = ((input as NSString).lastPathComponent as NSString).deletingPathExtension
            let csvName = trained.project.kind == .deepLabCut ? "\(stem)\(trained.scorer).csv" : "\(stem).csv"
            var drawer: LabeledVideoWriter?
            if labeledVideo {
                let info = try VideoReader(path: input).info
                let config = trained.model.config
                drawer = try LabeledVideoWriter(
                    path: output + "/labeled_videos/\(stem)_labeled.mp4", width: info.width, height: info.height,
                    framesPerSecond: info.framesPerSecond > 0 ? info.framesPerSecond : 30, keypointNames: trained.model.keypointNames,
                    colormap: config.colormap, threshold: threshold ?? (trained.project.kind == .deepLabCut ? trained.project.pcutoff : config.confidenceThreshForVid),
                    skeleton: config.skeleton)
            }
            let result = try trained.model.predictVideo(path: input, scorer: trained.scorer, batchSize: batchSize,
                                                        showProgress: showProgress, drawer: drawer)
            let csv = output + "/" + csvName
            try result.table.write(to: URL(fileURLWithPath: csv))
            try writeTemporalNorm(result.table, to: output + "/\(stem)_temporal_norm.csv")
            log(String(format: "%@: %d frames in %.1f s (%.1f frames/s, first batch after %.2f s) -> %@", input, result.frames,
                       result.seconds, result.framesPerSecond, result.startupSeconds, csv))
            written.append(csv)
            if labeledVideo { written.append(output + "/labeled_videos/\(stem)_labeled.mp4") }
        }
        return written
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
            for image in images {
                var p = resizer.warp(image, transform: Affine2D(a: Double(resizer.outputWidth) / Double(image.width), b: 0, c: 0,
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
        let table = try PoseTable(scorer: trained.scorer, keypoints: model.keypointNames, coords: ["x", "y", "likelihood"],
                                  rowKeys: files.map { name + "/" + $0 }, indexStyle: .imagePath, values: values)
        let path = output + "/\(name)/predictions.csv"
        try FileManager.default.createDirectory(atPath: output + "/\(name)", withIntermediateDirectories: true)
        try table.write(to: URL(fileURLWithPath: path))
        return path
    }

    /// LP's `<stem>_temporal_norm.csv`: frame-to-frame displacement per keypoint (first row NaN).
    static func writeTemporalNorm(_ table: PoseTable, to path: String) throws {
        guard let xi = table.coordIndex("x"), let yi = table.coordIndex("y") else { return }
        var text = "," + table.keypoints.joined(separator: ",") + "\n"
        for r in 0..<table.rowCount {
            text += table.rowKeys[r]
            for k in 0..<table.keypoints.count {
                if r == 0 { text += ","; continue }
                let dx = table.value(row: r, keypoint: k, coord: xi) - table.value(row: r - 1, keypoint: k, coord: xi)
                let dy = table.value(row: r, keypoint: k, coord: yi) - table.value(row: r - 1, keypoint: k, coord: yi)
                text += "," + String((dx * dx + dy * dy).squareRoot())
            }
            text += "\n"
        }
        try AtomicFile.write(text, to: path)
    }

    // MARK: - Training

    /// Validates the project, trains, then evaluates the labelled frames and (as LP does) predicts the
    /// project's videos. Returns the model directory.
    @discardableResult
    public static func train(project: PoseProject, options: TrainOptions, predictVideos: Bool? = nil) throws -> (directory: String, records: [EpochRecord], evaluation: LabeledEvaluation) {
        let dataset = try LabeledDataset.load(project: project)
        options.log("\(dataset.count) labelled frames, \(dataset.keypointNames.count) keypoints: checked")
        if !project.config.lossesToUse.isEmpty {
            options.log("note: model.losses_to_use \(project.config.lossesToUse) are semi-supervised losses, not implemented yet; training supervised only")
        }
        let trainer = try PoseTrainer(project: project, dataset: dataset, options: options)
        writeTrainStatus(options.modelDir, "TRAINING", completed: 0, total: project.config.maxEpochs)
        let records = try trainer.train()
        writeTrainStatus(options.modelDir, "EVALUATING", completed: records.count, total: project.config.maxEpochs)
        let trained = try TrainedModel.open(options.modelDir)
        let evaluation = try evaluate(trained, dataset: dataset)
        options.log(evaluation.report(pcutoff: project.pcutoff))
        let config = project.config
        if predictVideos ?? config.predictVidsAfterTraining, let dir = config.testVideosDirectory ?? config.videoDir,
           FileManager.default.fileExists(atPath: dir) {
            let videos = ((try? FileManager.default.contentsOfDirectory(atPath: dir)) ?? []).filter { $0.hasSuffix(".mp4") }.sorted()
            if !videos.isEmpty {
                _ = try predict(trained, inputs: videos.map { dir + "/" + $0 }, labeledVideo: config.saveVidsAfterTraining,
                                showProgress: options.showProgress, log: options.log)
            }
        }
        writeTrainStatus(options.modelDir, "COMPLETED", completed: records.count, total: project.config.maxEpochs)
        return (options.modelDir, records, evaluation)
    }
}
