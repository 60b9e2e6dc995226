// `kinema train CONFIG --losses …` (issue #12): semi-supervised training from the command line on a tiny synthetic
// project, and the one-line refusals (no videos, a misspelt loss, unlabelled videos without a loss).
import Foundation
import KinemaTestSupport
import PoseData
import Testing

/// A 30-frame synthetic project at 64×64 with one `videoFrames`-frame video (`video_dir: videos`, or none), the U-Net
/// with 8 filters, 1 epoch, no video prediction: `<dir>/project/config.yaml`.
private func makeProject(in dir: URL, videoFrames: Int = 32, videos: Bool = true) throws -> URL {
    let folder = dir.appendingPathComponent("project")
    _ = try SyntheticProject.write(to: folder.path, labeledFrames: 30, videoFrames: videoFrames, size: 64, modelSize: 64)
    var config = try PoseConfig.load(path: folder.appendingPathComponent("config.yaml").path)
    config.dataDir = "."
    config.videoDir = videos ? "videos" : nil
    config.testVideosDirectory = nil
    config.trainBatchSize = 4
    config.maxEpochs = 1
    config.minEpochs = 1
    config.unetFilters = 8
    config.predictVidsAfterTraining = false
    try config.yamlText().write(to: folder.appendingPathComponent("config.yaml"), atomically: true, encoding: .utf8)
    return folder
}

@Suite("kinema train --losses", .serialized)
struct SemiSupervisedCLITests {
    /// `--losses temporal` trains on 32-frame clips of the project's video: the losses are summarised at the start and
    /// their values logged per epoch in metrics.csv, and the model folder records them for `--resume`.
    @Test func lossesOptionTrainsSemiSupervised() throws {
        setenv("KINEMA_THREADS", "1", 1)
        defer { unsetenv("KINEMA_THREADS") }
        let dir = try TestFiles.temporaryDirectory("train-semi")
        defer { try? FileManager.default.removeItem(at: dir) }
        _ = try makeProject(in: dir)
        let result = try KinemaProcess.succeed(
            ["train", "project/config.yaml", "--model-dir", "model", "--losses", "temporal,pca_singleview"], in: dir, timeout: 240)
        #expect(result.stderrLines.contains { $0.hasPrefix("unlabelled clips: 32 frames from 1 video(s) in ") }, "\(result)")
        #expect(result.stderrLines.contains { $0.hasPrefix("temporal: ε = 20.0 px") }, "\(result)")
        #expect(result.stderrLines.contains { $0.hasPrefix("annealing: factor 0.0 until epoch 60") }, "\(result)")
        #expect(!result.stderr.contains("not implemented"), "\(result)")
        let model = dir.appendingPathComponent("model")
        let metrics = try String(contentsOf: model.appendingPathComponent("metrics.csv"), encoding: .utf8).split(separator: "\n")
        #expect(metrics.first?.hasSuffix(",temporal_loss,pca_singleview_loss") == true, "\(metrics)")
        let row = metrics[1].split(separator: ",", omittingEmptySubsequences: false)
        #expect(row.count == 9 && Double(row[7])!.isFinite && Double(row[8])! > 0, "\(metrics)")
        let config = try PoseConfig.load(path: model.appendingPathComponent("config.yaml").path)
        #expect(config.lossesToUse == ["temporal", "pca_singleview"])
    }

    @Test func refusalsAreOneLineBeforeAnyWork() throws {
        let dir = try TestFiles.temporaryDirectory("train-semi-refusals")
        defer { try? FileManager.default.removeItem(at: dir) }
        _ = try makeProject(in: dir, videoFrames: 3, videos: false)
        let cases: [([String], String)] = [
            (["--losses", "temporal"], "model.losses_to_use asks for temporal but sets no data.video_dir"),
            (["--losses", "temporl"], "--losses: names 'temporl', which is not a loss; did you mean 'temporal'?"),
            (["--unlabeled-videos", "project/videos"], "--unlabeled-videos project/videos: is only read for unsupervised losses"),
            (["--losses", "temporal", "--unlabeled-videos", "nowhere"], "nowhere: no such folder of unlabelled videos"),
            (["--losses", "temporal", "--unlabeled-videos", "project/videos"], "no video is at least one 32-frame clip long"),
        ]
        for (options, message) in cases {
            let result = try KinemaProcess.run(["train", "project/config.yaml", "--model-dir", "model"] + options, in: dir)
            expectOneErrorLine(result, naming: message)
            #expect(!FileManager.default.fileExists(atPath: dir.appendingPathComponent("model").path), "\(options) wrote nothing")
        }
    }
}
