// End-to-end runs of every command family through the built `kinema` executable, on tiny inputs made here:
// exit status, what is printed, the files written, and one bad input per family (one `Error:` line, no crash).
import Foundation
import KinemaTestSupport
import PoseData
import Testing

/// Names of the files in a folder, sorted (empty when it does not exist).
private func files(in folder: URL) -> [String] {
    ((try? FileManager.default.contentsOfDirectory(atPath: folder.path)) ?? []).sorted()
}

/// Lines of a text file.
private func lines(_ url: URL) throws -> [String] {
    try String(contentsOf: url, encoding: .utf8).split(separator: "\n").map(String.init)
}

@Suite("kinema end to end", .serialized)
struct EndToEndTests {
    @Test func info() throws {
        let result = try KinemaProcess.succeed(["info"])
        let heads = result.stdoutLines.map { $0.split(separator: " ").first.map(String.init) ?? "" }
        #expect(heads == ["libtorch", "threads", "devices", "video"], "\(result)")
        #expect(result.stdout.contains("cpu"))
    }

    @Test func videoInfoAndFrames() throws {
        guard let ffmpeg = TestFiles.tool("ffmpeg") else {
            print("skipped video end-to-end test: the ffmpeg tool is not on PATH (needed to make a test video)")
            return
        }
        let dir = try TestFiles.temporaryDirectory("cli-video")
        defer { try? FileManager.default.removeItem(at: dir) }
        let video = dir.appendingPathComponent("clip.mp4")
        let made = try runTool(
            ffmpeg,
            [
                "-loglevel", "error", "-f", "lavfi", "-i", "testsrc=size=64x48:rate=10", "-frames:v", "12",
                "-c:v", "mpeg4", "-pix_fmt", "yuv420p", video.path,
            ])
        try #require(made == 0, "ffmpeg could not write \(video.path)")

        let info = try KinemaProcess.succeed(["video", "info", video.path])
        #expect(info.stdoutLines.contains("frames      12"), "\(info)")
        #expect(info.stdoutLines.contains("size        64x48"), "\(info)")
        #expect(info.stdoutLines.contains("fps         10"), "\(info)")

        let frames = try KinemaProcess.succeed(
            ["video", "frames", "clip.mp4", "--at", "0,5-6", "--out", "frames", "--width", "32"], in: dir)
        #expect(frames.stdoutLines == ["wrote 3 frames of clip.mp4 to frames"], "\(frames)")
        #expect(
            files(in: dir.appendingPathComponent("frames")) == ["clip_frame000000.png", "clip_frame000005.png", "clip_frame000006.png"])
        let png = try Data(contentsOf: dir.appendingPathComponent("frames/clip_frame000005.png"))
        #expect(png.prefix(8) == Data([0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A]))
        // Width 32 of 64×48 keeps the aspect ratio: the IHDR chunk holds 32 × 24.
        #expect(Array(png[16..<24]) == [0, 0, 0, 32, 0, 0, 0, 24])

        try KinemaProcess.fail(["video", "info", "missing.mp4"], saying: "missing.mp4", in: dir)
        try KinemaProcess.fail(["video", "frames", "clip.mp4", "--at", "3,40", "--out", "late"], saying: "40", in: dir)
        #expect(!FileManager.default.fileExists(atPath: dir.appendingPathComponent("late").path), "nothing written on a bad index")
    }

    @Test func smoothSingleCamera() throws {
        let input = TestFiles.fixtures("SmoothingTests").appendingPathComponent("calibrated/input")
        let members = ["seed0.camA.csv", "seed1.camA.csv", "seed2.camA.csv"].map { input.appendingPathComponent($0).path }
        let dir = try TestFiles.temporaryDirectory("cli-smooth")
        defer { try? FileManager.default.removeItem(at: dir) }
        let result = try KinemaProcess.succeed(
            ["smooth", "singlecam", "--input-files"] + members + ["--save-dir", "out", "--s", "5"], in: dir)
        #expect(!result.stdout.isEmpty)
        #expect(files(in: dir.appendingPathComponent("out")) == ["eks_singlecam.csv"], "\(result)")
        let table = try lines(dir.appendingPathComponent("out/eks_singlecam.csv"))
        #expect(table.count == 3 + 120)  // LP header rows, then one row per frame
        #expect(table[1].contains("nose") && table[1].contains("paw"))

        try KinemaProcess.fail(["smooth", "singlecam", "--input-dir", "no-such-folder", "--s", "5"], saying: "no-such-folder", in: dir)
    }

    @Test func neuralSynthTrainPredictEvaluate() throws {
        let dir = try TestFiles.temporaryDirectory("cli-neural")
        defer { try? FileManager.default.removeItem(at: dir) }
        // 2 mice × (3 train + 2×2 oracle) trials of 60 frames; validation and prediction on every 7th window end.
        try "frames: 60\npadded_frames: 66\noracle_clips: 2\noracle_repeats: 2\n"
            .write(to: dir.appendingPathComponent("synth.yaml"), atomically: true, encoding: .utf8)
        try "validation_window_stride: 7\n".write(to: dir.appendingPathComponent("train.yaml"), atomically: true, encoding: .utf8)

        let synth = try KinemaProcess.succeed(
            ["neural", "synth", "syn", "--config", "synth.yaml", "--neurons", "6,5", "--train-trials", "3"], in: dir)
        #expect(synth.stdoutLines.map { $0.hasPrefix("wrote ") && $0.contains("syn/synthetic-mouse-") } == [true, true], "\(synth)")

        let train = try KinemaProcess.succeed(
            [
                "neural", "train", "--data", "syn", "--out", "model", "--config", "train.yaml",
                "--steps", "2", "--batch-size", "2", "--quiet",
            ], in: dir)
        #expect(train.stderrLines.contains { $0.hasPrefix("model: ") && $0.contains("2 mice, training trials [3, 3]") }, "\(train)")
        #expect(train.stdoutLines.count == 2, "\(train)")
        #expect(train.stdoutLines.first?.hasPrefix("step 2  oracle single-trial corr ") == true, "\(train)")
        #expect(train.stdoutLines.last == "saved \(dir.path)/model/model.safetensors", "\(train)")
        #expect(files(in: dir.appendingPathComponent("model")) == ["checkpoint.safetensors", "model.safetensors", "model.yaml"])

        let resumed = try KinemaProcess.succeed(
            [
                "neural", "train", "--data", "syn", "--out", "model", "--config", "train.yaml",
                "--steps", "3", "--batch-size", "2", "--quiet", "--resume",
            ], in: dir)
        #expect(resumed.stderrLines.first == "resumed at step 2", "\(resumed)")
        #expect(resumed.stdoutLines.first?.hasPrefix("step 3  oracle") == true, "\(resumed)")

        let predict = try KinemaProcess.succeed(
            [
                "neural", "predict", "--model", "model", "--data", "syn", "--out", "pred",
                "--tiers", "oracle", "--window-stride", "7", "--submission", "sub.jsonl",
            ], in: dir)
        #expect(predict.stdoutLines == ["wrote 8 prediction files under pred", "wrote 8 submission rows to sub.jsonl"], "\(predict)")
        #expect(files(in: dir.appendingPathComponent("pred")) == ["synthetic-mouse-0", "synthetic-mouse-1"])
        #expect(files(in: dir.appendingPathComponent("pred/synthetic-mouse-0")).count == 4)
        #expect(try lines(dir.appendingPathComponent("sub.jsonl")).count == 8)

        let evaluate = try KinemaProcess.succeed(["neural", "evaluate", "--data", "syn", "--predictions", "pred"], in: dir)
        let rows = evaluate.stdoutLines
        #expect(rows.first == "mouse\ttrials\tneurons\tsingle_trial_corr\tcorr_to_average", "\(evaluate)")
        #expect(
            rows.count == 4 && rows[1].hasPrefix("synthetic-mouse-0\t4\t6\t") && rows[2].hasPrefix("synthetic-mouse-1\t4\t5\t"),
            "\(evaluate)")
        #expect(rows.last?.hasPrefix("all mice\tsingle_trial_corr pooled over neurons ") == true, "\(evaluate)")
        let submission = try KinemaProcess.succeed(["neural", "evaluate", "--data", "syn", "--submission", "sub.jsonl"], in: dir)
        #expect(submission.stdoutLines.count == 4, "\(submission)")

        try KinemaProcess.fail(
            ["neural", "predict", "--model", "nowhere", "--data", "syn", "--out", "p"],
            saying: "nowhere/model.yaml: missing model configuration", in: dir)
        try KinemaProcess.fail(["neural", "evaluate", "--data", "no-data", "--rates"], saying: "no-data", in: dir)
    }

    @Test func poseTrainPredictEvaluate() throws {
        let dir = try TestFiles.temporaryDirectory("cli-pose")
        defer { try? FileManager.default.removeItem(at: dir) }
        // The demo's synthetic animal, small: 12 labelled frames and a 5-frame video at 64×64.
        let project = try SyntheticProject.write(
            to: dir.appendingPathComponent("project").path, labeledFrames: 12,
            videoFrames: 5, size: 64, modelSize: 64)
        let train = try KinemaProcess.succeed(
            [
                "train", project.configPath, "--model-dir", "model", "--epochs", "1",
                "--image-size", "64", "--no-videos",
            ], in: dir, timeout: 240)
        #expect(train.stderrLines.last == "model directory: model", "\(train)")
        let written = files(in: dir.appendingPathComponent("model"))
        #expect(written.contains("config.yaml") && written.contains("metrics.csv"), "\(written)")

        let predict = try KinemaProcess.succeed(["predict", "model", project.videoPath, "--output", "preds"], in: dir)
        let csvPath = try #require(predict.stdoutLines.first { $0.hasSuffix(".csv") }, "\(predict)")
        #expect(csvPath == "preds/walk.csv", "\(predict)")
        let csv = try lines(csvPath.hasPrefix("/") ? URL(fileURLWithPath: csvPath) : dir.appendingPathComponent(csvPath))
        #expect(csv.count == 3 + 5, "3 header rows and one row per video frame")
        #expect(csv[1].hasPrefix("bodyparts,"))

        let evaluate = try KinemaProcess.succeed(["evaluate", "model"], in: dir)
        #expect(!evaluate.stdoutLines.isEmpty, "\(evaluate)")

        try KinemaProcess.fail(["predict", "no-model", project.videoPath], saying: "no-model", in: dir)
    }
}
