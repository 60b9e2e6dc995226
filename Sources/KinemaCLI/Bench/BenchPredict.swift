import ArgumentParser
import Foundation
import PoseData
import PoseModels

// MARK: - kinema bench predict

/// `kinema bench predict MODEL VIDEO`: end-to-end video prediction (decode, resize, network, read-out,
/// CSV) against the network alone on frames already in memory, and against `litpose predict` when a
/// Lightning Pose installation is found.
struct BenchPredict: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "predict",
        abstract: "Video prediction frames/s: end to end vs the forward pass alone (and vs litpose predict).",
        discussion: """
        ratio=1 for end-to-end means decoding is fully hidden behind the network. The litpose baseline \
        runs only when `--litpose` names an executable (e.g. /tmp/lp-baseline/lp-venv/bin/litpose) and \
        `--litpose-model` an LP model directory; otherwise it is reported as not measured.
        """)

    @Argument(help: "Model directory written by `kinema train`.")
    var model: String

    @Argument(help: "Video to predict.")
    var video: String

    @Option(name: .customLong("batch-size"), help: "Frames per forward pass.")
    var batchSize = 16

    @Option(help: "litpose executable for the baseline.")
    var litpose: String?

    @Option(name: .customLong("litpose-model"), help: "Lightning Pose model directory for the baseline.")
    var litposeModel: String?

    func run() throws {
        let trained = try TrainedModel.open(model)
        let m = trained.model
        // End to end, through the same code as `kinema predict`.
        let output = NSTemporaryDirectory() + "kinema-bench-predict-\(getpid())"
        let result = try m.predictVideo(path: video, scorer: trained.scorer, batchSize: batchSize, showProgress: false)
        try? FileManager.default.removeItem(atPath: output)
        // The network and read-out alone, on the same number of frames already in memory.
        let frames = result.frames
        let one = [Float](repeating: 0.1, count: 3 * m.config.resizeWidth * m.config.resizeHeight)
        let batch = Array([[Float]](repeating: one, count: batchSize).joined())
        _ = try m.predict(images: Array(batch.prefix(one.count)), count: 1)  // warm-up
        let start = Date()
        var done = 0
        while done < frames {
            let n = min(batchSize, frames - done)
            _ = try m.predict(images: Array(batch.prefix(n * one.count)), count: n)
            done += n
        }
        let forward = Double(frames) / Date().timeIntervalSince(start)
        let endToEnd = result.framesPerSecond
        let name = "predict_\(m.config.backbone)_\(m.config.resizeWidth)"
        benchLine(name + "_forward_only", forward, "frames/s", ratio: 1, baseline: name + "_forward_only")
        benchLine(name + "_end_to_end", endToEnd, "frames/s", ratio: endToEnd / forward, baseline: name + "_forward_only")
        print(String(format: "start-up before the first batch: %.2f s", result.startupSeconds))
        if let litpose, let litposeModel {
            let process = Process()
            process.executableURL = URL(fileURLWithPath: litpose)
            process.arguments = ["predict", litposeModel, video]
            let t0 = Date()
            try process.run()
            process.waitUntilExit()
            let lp = Double(frames) / Date().timeIntervalSince(t0)
            benchLine("litpose_predict", lp, "frames/s", ratio: 1, baseline: "litpose_predict")
            benchLine(name + "_end_to_end", endToEnd, "frames/s", ratio: endToEnd / lp, baseline: "litpose_predict")
        } else {
            print("litpose predict: not measured (no --litpose/--litpose-model given; Lightning Pose is not installed here)")
        }
    }

}
