// `kinema predict`: a trained model on videos and image folders, into CSVs (and labelled videos).
import Foundation
import KinemaConsole
import KinemaFiles
import PoseData
import PoseFormats
import PoseModels
import VideoIO

extension PoseWorkflows {
    /// Predicts videos (`.mp4`, `.avi`, `.mov`, `.mkv`) or folders of images; returns the CSVs written.
    ///
    /// Videos go to `<output>/<stem>.csv` (DLC projects: `<stem><scorer>.csv`), with
    /// `labeled_videos/<stem>_labeled.mp4` when `labeledVideo` is set; an image folder gives
    /// `<output>/<folder>/predictions.csv` indexed by image path (names: `PredictionOutputs`).
    /// `onFirstBatch` is called after each video's first batch (start-up measurements).
    public static func predict(
        _ trained: TrainedModel, inputs: [String], outputDirectory: String? = nil,
        labeledVideo: Bool = false, threshold: Double? = nil, batchSize: Int = 16,
        showProgress: Bool = true, log: (String) -> Void = logLine,
        onFirstBatch: (() -> Void)? = nil
    ) throws -> [String] {
        let output = outputDirectory ?? trained.folder.videoPredictions
        let outputs = PredictionOutputs(output)
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
                written += try predict(
                    trained, inputs: videos.map { input + "/" + $0 }, outputDirectory: output,
                    labeledVideo: labeledVideo, threshold: threshold, batchSize: batchSize,
                    showProgress: showProgress, log: log, onFirstBatch: onFirstBatch)
                if images.isEmpty && videos.isEmpty { throw PoseModelError("\(input) holds no videos or images") }
                continue
            }
            var drawer: LabeledVideoWriter?
            if labeledVideo {
                let info = try VideoReader(path: input).info
                let config = trained.model.config
                drawer = try LabeledVideoWriter(
                    path: outputs.labeledVideo(video: input), width: info.width, height: info.height,
                    framesPerSecond: info.framesPerSecond > 0 ? info.framesPerSecond : 30, keypointNames: trained.model.keypointNames,
                    colormap: config.colormap,
                    threshold: threshold ?? (trained.project.kind == .deepLabCut ? trained.project.pcutoff : config.confidenceThreshForVid),
                    skeleton: config.skeleton)
            }
            let result = try trained.model.predictVideo(
                path: input, scorer: trained.scorer, batchSize: batchSize,
                showProgress: showProgress, drawer: drawer, onFirstBatch: onFirstBatch)
            let csv = outputs.keypoints(video: input, dlcScorer: trained.project.kind == .deepLabCut ? trained.scorer : nil)
            try result.table.write(to: URL(fileURLWithPath: csv))
            try writeTemporalNorm(result.table, to: outputs.temporalNorm(video: input))
            log(
                String(
                    format: "%@: %d frames in %.1f s (%.1f frames/s, first batch after %.2f s) -> %@", input, result.frames,
                    result.seconds, result.framesPerSecond, result.startupSeconds, csv))
            written.append(csv)
            if labeledVideo { written.append(outputs.labeledVideo(video: input)) }
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
}
