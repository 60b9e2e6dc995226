// `kinema demo`: synthetic project → training with defaults → video prediction → report vs ground truth.
import Foundation
import KinemaConsole
import KinemaFiles
import PoseData
import PoseFormats
import PoseModels
import Torch

/// Settings of the demo run.
public struct DemoOptions: Sendable {
    public var directory = "kinema-demo"
    public var labeledFrames = 300
    public var videoFrames = 300
    public var imageSize = 256
    public var modelSize = 128
    public var epochs = 20
    /// Training stops early when this budget is spent (keeps the demo under 10 minutes).
    public var maxMinutes = 6.0
    public var showProgress = true
    /// Where training and prediction compute (`--device`), and their autocast.
    public var device = Device.cpu
    public var precision = Precision.fp32
    public init() {}
}

/// The demo's figures.
public struct DemoSummary: Sendable {
    public var modelDir: String
    public var predictionsCSV: String
    public var labeledVideo: String
    public var reportPath: String
    /// Mean error over all frames and keypoints visible in the video (pixels).
    public var meanError: Double
    public var medianError: Double
    public var seconds: Double
}

public enum PoseDemo {
    /// Runs the whole demo and writes `<directory>/report.md`.
    public static func run(_ options: DemoOptions, log: @escaping @Sendable (String) -> Void = { logLine($0) }) throws -> DemoSummary {
        let start = Date()
        let dir = (options.directory as NSString).standardizingPath
        let absolute = dir.hasPrefix("/") ? dir : FileManager.default.currentDirectoryPath + "/" + dir
        // An earlier demo (or anything else) there is never replaced: a second run would destroy its model.
        if let contents = try? FileManager.default.contentsOfDirectory(atPath: absolute), !contents.isEmpty {
            throw PoseModelError(
                "--directory \(options.directory) already holds files (an earlier demo?); remove it or choose another --directory")
        }
        try PoseWorkflows.checkWritableFolder(absolute)
        log("1/4 generating a synthetic project in \(absolute)")
        let synthetic = try SyntheticProject.write(
            to: absolute + "/project", labeledFrames: options.labeledFrames,
            videoFrames: options.videoFrames, size: options.imageSize,
            modelSize: options.modelSize, progress: { log("    " + $0) })
        var project = try PoseProject.load(configPath: synthetic.configPath)
        project.config.maxEpochs = options.epochs
        project.config.minEpochs = options.epochs
        project.config.milestones = [Int(Double(options.epochs) * 0.6), Int(Double(options.epochs) * 0.85)]
        project.config.checkValEveryNEpoch = 5
        project.config.trainBatchSize = 8
        project.config.maxMinutes = options.maxMinutes
        project.config.predictVidsAfterTraining = false
        let modelDir = absolute + "/model"
        log("2/4 training \(project.config.backbone) from scratch (\(options.epochs) epochs, at most \(options.maxMinutes) min)")
        var train = TrainOptions(modelDir: modelDir)
        train.showProgress = options.showProgress
        train.log = log
        train.device = options.device
        train.precision = options.precision
        let result = try PoseWorkflows.train(project: project, options: train, predictVideos: false)
        log("3/4 predicting the video with a labelled copy")
        let trained = try TrainedModel(directory: modelDir, device: options.device)
        trained.model.precision = options.precision
        let files = try PoseWorkflows.predict(
            trained, inputs: [synthetic.videoPath], labeledVideo: true,
            showProgress: options.showProgress, log: log
        ).files
        let predictionsCSV = files[0]
        log("4/4 comparing with the ground truth")
        let predicted = try PoseTable.read(from: URL(fileURLWithPath: predictionsCSV))
        let truth = try PoseTable.read(from: URL(fileURLWithPath: synthetic.truthPath))
        let scene = SyntheticAnimalScene(width: options.imageSize, height: options.imageSize, seed: 7)
        var errors: [Double] = [], occludedErrors: [Double] = []
        var perKeypoint = [[Double]](repeating: [], count: truth.keypoints.count)
        for r in 0..<truth.rowCount {
            for k in 0..<truth.keypoints.count {
                let tx = truth.value(row: r, keypoint: k, coord: 0), ty = truth.value(row: r, keypoint: k, coord: 1)
                let px = predicted.value(row: r, keypoint: k, coord: 0), py = predicted.value(row: r, keypoint: k, coord: 1)
                let e = ((tx - px) * (tx - px) + (ty - py) * (ty - py)).squareRoot()
                if !scene.inside(x: tx, y: ty) { continue }
                if scene.occluded(x: tx, y: ty) { occludedErrors.append(e) } else { errors.append(e); perKeypoint[k].append(e) }
            }
        }
        func mean(_ v: [Double]) -> Double { v.isEmpty ? .nan : v.reduce(0, +) / Double(v.count) }
        func median(_ v: [Double]) -> Double { v.isEmpty ? .nan : v.sorted()[v.count / 2] }
        let seconds = Date().timeIntervalSince(start)
        let within5 = Double(errors.filter { $0 < 5 }.count) / Double(Swift.max(1, errors.count))
        var report = """
            # Kinema demo report

            A synthetic four-legged animal (\(truth.keypoints.count) keypoints) walks over a textured arena past an
            occluding pillar, with motion blur and sensor noise. \(options.labeledFrames) labelled frames trained a
            `\(project.config.backbone)` model from scratch; it then predicted an unseen \(options.videoFrames)-frame video.

            | figure | value |
            |---|---|
            | training epochs | \(result.records.count) |
            | training time | \(formatDuration(result.records.last?.elapsed ?? 0)) |
            | validation error (labelled frames) | \(String(format: "%.2f px", result.evaluation.meanError(set: "validation"))) |
            | video error, visible keypoints: mean | \(String(format: "%.2f px", mean(errors))) |
            | video error, visible keypoints: median | \(String(format: "%.2f px", median(errors))) |
            | visible keypoints within 5 px | \(String(format: "%.1f%%", 100 * within5)) |
            | video error, keypoints behind the pillar: mean | \(String(format: "%.2f px", mean(occludedErrors))) (\(occludedErrors.count) points) |
            | total demo time | \(formatDuration(seconds)) |

            Image size \(options.imageSize)×\(options.imageSize) px; the network sees \(options.modelSize)×\(options.modelSize).

            ## Per keypoint (visible, mean px)

            | keypoint | error |
            |---|---|

            """
        for (k, name) in truth.keypoints.enumerated() { report += "| \(name) | \(String(format: "%.2f", mean(perKeypoint[k]))) |\n" }
        report += """

            ## Files

            - predictions: `\(predictionsCSV)`
            - labelled video: `\(files.count > 1 ? files[1] : "")`
            - ground truth: `\(synthetic.truthPath)`
            - model: `\(modelDir)` (metrics.csv, predictions.csv on the labelled frames)

            """
        let reportPath = absolute + "/report.md"
        try AtomicFile.write(report, to: reportPath)
        return DemoSummary(
            modelDir: modelDir, predictionsCSV: predictionsCSV, labeledVideo: files.count > 1 ? files[1] : "",
            reportPath: reportPath, meanError: mean(errors), medianError: median(errors), seconds: seconds)
    }
}
