// Multi-camera prediction (issue #12.4): a two-camera model trained, then a session of videos predicted into one
// CSV per view with each view's metrics, the multiview PCA error among them; a session missing a view is one line.
import Foundation
import PoseData
import PoseFormats
import PoseModels
import PosePrediction
import Testing
import Torch

/// The log lines of a run (the trainer logs from its own thread).
private final class LogLines: @unchecked Sendable {
    private let lock = NSLock()
    private var stored: [String] = []
    func append(_ line: String) { lock.lock(); stored.append(line); lock.unlock() }
    var lines: [String] { lock.lock(); defer { lock.unlock() }; return stored }
}

@Suite(.serialized) struct MultiViewPredictionTests {
    @Test func twoCameraModelWritesOneCSVPerView() throws {
        let folder = NSTemporaryDirectory() + "kinema-views-predict-\(getpid())-\(UInt32.random(in: 0...UInt32.max))"
        defer { try? FileManager.default.removeItem(atPath: folder) }
        let threads = Runtime.threads
        defer { Runtime.threads = threads }
        Runtime.threads = 2
        let written = try SyntheticProject.writeTwoViews(to: folder + "/project", labeledFrames: 24, videoFrames: 10)
        var project = try PoseProject.load(configPath: written.configPath)
        project.config.unetFilters = 8
        project.config.trainBatchSize = 8
        project.config.maxEpochs = 2
        project.config.checkValEveryNEpoch = 2
        var options = TrainOptions(modelDir: folder + "/model")
        options.showProgress = false
        let log = LogLines()
        options.log = { log.append($0) }

        // Training predicts the project's videos: the session walk, both views.
        let (directory, _, evaluation) = try PoseWorkflows.train(project: project, options: options, predictVideos: true)
        let k = SyntheticAnimalScene.keypointNames.count
        #expect(evaluation.keypointNames.count == 2 * k)
        let model = ModelDirectory(directory)
        for view in ["top", "bot"] {
            let labelled = try PoseTable.read(from: URL(fileURLWithPath: model.predictions(view: view)))
            #expect(labelled.rowCount == 24 && labelled.keypoints.count == k && labelled.rowKeys[3] == "labeled-data/\(view)/img0003.png")
            #expect(FileManager.default.fileExists(atPath: model.predictionErrors(view: view)))
            let csv = model.videoPredictions + "/walk_\(view).csv"
            let table = try PoseTable.read(from: URL(fileURLWithPath: csv))
            #expect(table.rowCount == 10 && table.keypoints == SyntheticAnimalScene.keypointNames)
            for metric in ["temporal_norm", "pca_singleview_error", "pca_multiview_error"] {
                let path = model.videoPredictions + "/walk_\(view)_\(metric).csv"
                let rows = try String(contentsOfFile: path, encoding: .utf8).split(separator: "\n")
                #expect(rows.count == 11, "\(path): header + 10 frames")
                if metric == "pca_multiview_error" {
                    // Every keypoint of every frame compared across the views (none missing: the network predicts all).
                    let values = rows.dropFirst().flatMap { $0.split(separator: ",", omittingEmptySubsequences: false).dropFirst() }
                    #expect(values.count == 10 * k && values.allSatisfy { Double($0)?.isFinite == true }, "\(rows[1])")
                }
            }
        }
        #expect(log.lines.contains { $0.contains("1 session(s) of 2 views (top, bot): walk") }, "\(log.lines)")

        // The same network on one view's video alone gives that view's CSV.
        let trained = try TrainedModel(directory: directory)
        let alone = try trained.model.predictVideo(
            path: folder + "/project/videos/walk_bot.mp4", scorer: trained.scorer, showProgress: false)
        let bot = try PoseTable.read(from: URL(fileURLWithPath: model.videoPredictions + "/walk_bot.csv"))
        #expect(zip(alone.table.values, bot.values).allSatisfy { abs($0 - $1) < 1e-6 })

        // A session without its bot video: one line, nothing predicted.
        let out = folder + "/out"
        let missing = #expect(throws: PoseDataError.self) {
            try PoseWorkflows.predict(
                trained, inputs: [folder + "/project/videos/walk_top.mp4"], outputDirectory: out, showProgress: false, log: { _ in })
        }
        #expect(missing?.description.contains("session walk has no bot video (found walk_top.mp4)") == true)
        #expect(!FileManager.default.fileExists(atPath: out + "/walk_top.csv"))
    }
}
