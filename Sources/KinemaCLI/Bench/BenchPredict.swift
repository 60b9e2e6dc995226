// `kinema bench predict`: video prediction speed, end to end against the network alone, against
// Lightning Pose, and start-up (docs/arch/pose.md, *Prediction*).
import ArgumentParser
import Foundation
import PoseData
import PoseModels
import PosePrediction
import Torch
import TorchOptim
import VideoIO

// MARK: - kinema bench predict

/// `kinema bench predict [MODEL] [VIDEO]`: end-to-end video prediction (decode, resize, network,
/// read-out, table) against the network alone on frames already in memory; the same for LP's
/// architecture (ResNet-50 at 256²) against Lightning Pose's own `predict_on_video_file` figure from
/// `scripts/bench/lp-baseline.sh`; and the start-up time of `kinema predict`. `--breakdown`: the parts' costs and
/// memory over a long video (`BenchPredict+Breakdown.swift`).
struct BenchPredict: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "predict",
        abstract: "Video prediction frames/s: end to end vs the forward pass alone, vs litpose, and start-up.",
        discussion: """
            ratio=1 for end-to-end means decoding is fully hidden behind the network. Without MODEL, \
            Kinema's default from-scratch network (U-Net, 128²) is benchmarked untrained: speed does not \
            depend on the weights. The Lightning Pose figure is read from the summary that \
            scripts/bench/lp-baseline.sh writes (LP 2.4.3 on this machine, ResNet-50 256², same video); \
            it is a separate run, so its load average is printed next to it. --breakdown measures a long \
            video instead: each part of prediction alone on its first frames against the same frames end to \
            end, then the whole video in a `kinema predict` child with its memory sampled (docs/arch/pose.md, \
            *Prediction cost*).
            """)

    @Argument(help: "Model directory written by `kinema train` (default: Kinema's default network, untrained).")
    var model: String?

    @Argument(help: "Video (default: the video of LP's run, else the repository's Tests/Data/mirror-mouse-example/videos/test_vid.mp4).")
    var video: String?

    @Option(name: .customLong("batch-size"), help: "Frames per forward pass for MODEL (as `kinema predict`).")
    var batchSize = 16

    @Option(name: .customLong("lp-summary"), help: "peer_summary.json of lp-baseline.sh.")
    var lpSummary = defaultLPSummary

    @Option(name: .customLong("resnet-frames"), help: "Frames predicted in the ResNet-50 section (0: the whole video).")
    var resnetFrames = 0

    @Option(
        help:
            "Pairs of runs (end to end, then forward only) per model; medians are reported, and the ratio is the median of the pairs' ratios, so that a shared machine's slow phases cancel out."
    )
    var repeats = 3

    @Option(
        help:
            "When frames are decoded: auto, ahead (a decode thread ahead of the network) or between (between network passes, on libtorch's threads)."
    )
    var schedule = DecodeSettings().schedule.rawValue

    @Flag(name: .customLong("no-gap-filler"), help: "between schedule: no idle-priority decoding while the network runs (experiments).")
    var noGapFiller = false

    @Option(name: .customLong("decoder-threads"), help: "FFmpeg decoder threads (experiments).")
    var decoderThreads = DecodeSettings().decoderThreads

    @Option(help: "Decode thread priority: normal, background (nice 10) or idle (SCHED_IDLE) (experiments).")
    var priority = DecodeSettings().priority.rawValue

    @Option(name: .customLong("batches-ahead"), help: "Batches decoded ahead of the network (experiments).")
    var batchesAhead = DecodeSettings().batchesAhead

    @Flag(name: .customLong("skip-resnet50"), help: "Skip the ResNet-50 (LP architecture) section.")
    var skipResNet50 = false

    @Flag(name: .customLong("skip-startup"), help: "Skip the start-up measurement.")
    var skipStartup = false

    @Flag(
        help:
            "Instead of the sections above: where the time goes (decode, resize, forward, files: CPU and wall per frame, shares of the same frames end to end), then the whole video in a `kinema predict` child: frames/s, peak memory and resident memory at 10/50/90 % of the run."
    )
    var breakdown = false

    @Option(name: .customLong("breakdown-frames"), help: "--breakdown: frames timed part by part (0: the whole video).")
    var breakdownFrames = 3000

    func run() throws {
        guard let priority = DecodePriority(rawValue: priority) else {
            throw ValidationError("--priority must be one of \(DecodePriority.allCases.map(\.rawValue).joined(separator: ", "))")
        }
        guard let schedule = DecodeSchedule(rawValue: schedule) else {
            throw ValidationError("--schedule must be one of \(DecodeSchedule.allCases.map(\.rawValue).joined(separator: ", "))")
        }
        var decode = DecodeSettings()
        decode.schedule = schedule
        decode.fillGaps = !noGapFiller
        decode.decoderThreads = decoderThreads
        decode.priority = priority
        decode.batchesAhead = batchesAhead
        let lp = LPSummary(path: lpSummary)
        guard let video = video ?? lp?.videoPath ?? defaultVideo() else {
            throw ValidationError(
                "no video given and none found (LP summary \(lpSummary), Tests/Data/mirror-mouse-example/videos/test_vid.mp4); pass VIDEO"
            )
        }
        guard FileManager.default.fileExists(atPath: video) else { throw ValidationError("\(video) does not exist") }
        printLoad("start")
        let threads = Runtime.threads  // chosen at start-up (ProcessPolicy)
        let resolved = decode.schedule.resolved
        let details =
            resolved == .ahead
            ? "; decoder threads \(decode.decoderThreads), decode priority \(decode.priority.rawValue), \(decode.batchesAhead) batches ahead"
            : decode.fillGaps ? " with an idle-priority gap filler" : " without gap filler"
        print("video \(video); libtorch threads \(threads); decode schedule \(resolved.rawValue)\(details)")
        if breakdown {
            try measureBreakdown(modelDirectory: model, video: video, decode: decode)
            printLoad("end")
            return
        }

        // 1. The given (or default) model.
        let main: PoseModel
        var name: String
        if let model {
            main = try TrainedModel(directory: model).model
            name = "predict_\(main.config.backbone)_\(main.config.resizeWidth)"
        } else {
            main = try benchModel(backbone: "unet", size: 128)
            name = "predict_default_unet_128"
        }
        try measure(main, name: name, video: video, batchSize: batchSize, frameLimit: nil, decode: decode, lp: nil)

        // 2. Lightning Pose's architecture, batch as LP predicts, against LP's own figure.
        if !skipResNet50 {
            let resnet = try benchModel(backbone: "resnet50", size: 256)
            let lpBatch = lp?.framesPerBatch ?? 64
            try measure(
                resnet, name: "predict_resnet50_256", video: video, batchSize: lpBatch,
                frameLimit: resnetFrames > 0 ? resnetFrames : nil, decode: decode, lp: lp)
        }

        // 3. Start-up of `kinema predict` in a fresh process.
        if !skipStartup { try measureStartup(video: video) }
        printLoad("end")
    }

    // MARK: - Throughput

    /// The network and read-out alone on `frames` frames already in memory, as video prediction runs them: a
    /// context model through its tiled windows (the backbone once per frame), any other a batch at a time.
    func forwardAlone(_ m: PoseModel, images zeros: [Float], frames: Int, batchSize: Int) throws {
        let plane = zeros.count / batchSize
        let windows = m.framesPerSample > 1 ? try ContextVideoWindows(model: m, frameCount: frames) : nil
        var done = 0
        while done < frames {
            let n = min(batchSize, frames - done)
            let images = n == batchSize ? zeros : Array(zeros.prefix(n * plane))
            if let windows {
                _ = try windows.add(images: images, frames: Array(done..<done + n))
            } else {
                _ = try m.predict(images: images, count: n)
            }
            done += n
        }
        _ = try windows?.finish(frameCount: frames)
    }

    func measure(_ m: PoseModel, name: String, video: String, batchSize: Int, frameLimit: Int?, decode: DecodeSettings, lp: LPSummary?)
        throws
    {
        print("-- \(name): \(m.config.backbone) \(m.config.resizeWidth)×\(m.config.resizeHeight), batch \(batchSize)")
        let plane = 3 * m.config.resizeWidth * m.config.resizeHeight
        let zeros = [Float](repeating: 0.1, count: batchSize * plane)
        try forwardAlone(m, images: zeros, frames: batchSize, batchSize: batchSize)  // first-call allocations
        var endToEnd: [Double] = [], forward: [Double] = [], forwardCPU: [Double] = []
        var decodeCPU = 0.0, frames = 0
        for _ in 0..<max(1, repeats) {
            // End to end, through the same code as `kinema predict`.
            let result = try m.predictVideo(
                path: video, scorer: "bench", batchSize: batchSize, showProgress: false,
                decode: decode, frameLimit: frameLimit)
            frames = result.frames
            endToEnd.append(result.framesPerSecond)
            decodeCPU = result.decodeCPUSeconds / Double(max(1, frames))
            // The network and read-out alone, on the same number of frames already in memory.
            let cpu0 = processCPUSeconds()
            let seconds = try timed { try forwardAlone(m, images: zeros, frames: frames, batchSize: batchSize) }
            forward.append(Double(frames) / seconds)
            forwardCPU.append((processCPUSeconds() - cpu0) / Double(frames))
        }
        let decodeOnly = try m.timeDecoding(path: video, batchSize: batchSize, decode: decode, frameLimit: frameLimit)
        let medianForward = median(forward), medianEndToEnd = median(endToEnd)
        let pairRatio = median(zip(endToEnd, forward).map { $0 / $1 })
        benchLine(name + "_forward_only", medianForward, "frames/s", ratio: 1, baseline: name + "_forward_only")
        benchLine(name + "_end_to_end", medianEndToEnd, "frames/s", ratio: pairRatio, baseline: name + "_forward_only")
        let decodeFPS = Double(decodeOnly.frames) / decodeOnly.seconds
        benchLine(name + "_decode_only", decodeFPS, "frames/s", ratio: decodeFPS / medianForward, baseline: name + "_forward_only")
        // Decoding can only be hidden in core time the network leaves idle; beyond that, both kinds of
        // work share the cores, and W_f/(W_f+W_d) is the best ratio.
        let wd = decodeOnly.cpuSeconds / Double(max(1, decodeOnly.frames)), wf = median(forwardCPU)
        let idle = max(0, Double(Runtime.threads) / medianForward - wf)
        print(
            String(
                format: "   %d frames; runs end-to-end %@, forward %@ frames/s; pair ratios %@", frames,
                endToEnd.map { String(format: "%.1f", $0) }.joined(separator: " "),
                forward.map { String(format: "%.1f", $0) }.joined(separator: " "),
                zip(endToEnd, forward).map { String(format: "%.3f", $0 / $1) }.joined(separator: " ")))
        print(
            String(
                format:
                    "   CPU per frame: decode+RGB+resize W_d %.2f ms (%.2f ms inside end-to-end), forward W_f %.2f ms, leaving %.2f ms of %d threads' core time idle; without using idle time the best ratio is W_f/(W_f+W_d) = %.3f",
                wd * 1000, decodeCPU * 1000, wf * 1000, idle * 1000, Runtime.threads, wf / (wf + wd)))
        try compareResize(m, name: name, video: video)
        if let lp {
            let lpFPS = lp.fps
            benchLine("predict_litpose", lpFPS, "frames/s", ratio: 1, baseline: "litpose-2.4.3")
            benchLine(name + "_end_to_end", medianEndToEnd, "frames/s", ratio: medianEndToEnd / lpFPS, baseline: "litpose-2.4.3")
            print("   litpose: \(lp.describeVideo)")
        } else if name.contains("resnet50") {
            benchLine(name + "_end_to_end", medianEndToEnd, "frames/s", ratio: nil, baseline: "litpose-2.4.3")
            print("   litpose predict: not measured: no \(lpSummary) (run scripts/bench/lp-baseline.sh, or pass --lp-summary)")
        }
    }

    /// The prediction resize against the general augmenter warp it replaces (same numbers, bit for bit).
    func compareResize(_ m: PoseModel, name: String, video: String) throws {
        let reader = try VideoReader(path: video)
        var images: [HostImage] = []
        while images.count < 32, let frame = try reader.nextFrame() {
            images.append(HostImage(width: frame.width, height: frame.height, channels: frame.channels, pixels: frame.pixels))
        }
        let augmenter = m.resizer()
        var resizer = PredictionResizer(outputWidth: m.config.resizeWidth, outputHeight: m.config.resizeHeight)
        var sink: Float = 0
        let fast =
            timed {
                for image in images { sink += resizer.resize(image)[0] }
            } / Double(images.count)
        let general =
            timed {
                for image in images {
                    let t = Affine2D(
                        a: Double(augmenter.outputWidth) / Double(image.width), b: 0, c: 0,
                        d: Double(augmenter.outputHeight) / Double(image.height), tx: 0, ty: 0)
                    var planes = augmenter.warp(image, transform: t)
                    augmenter.normalize(&planes)
                    sink += planes[0]
                }
            } / Double(images.count)
        benchLine(name + "_resize_augmenter_warp", general * 1000, "ms/frame", ratio: 1, baseline: "augmenter_warp")
        benchLine(name + "_resize", fast * 1000, "ms/frame", ratio: general / fast, baseline: "augmenter_warp")
        if sink.isNaN { print("   (NaN pixels)") }  // keeps the work from being optimised away
    }

    // MARK: - Start-up

    /// Seconds from launching `kinema predict` to its first processed frames, as seen from outside.
    func measureStartup(video: String) throws {
        let temporary = NSTemporaryDirectory() + "kinema-bench-startup-\(getpid())"
        defer { try? FileManager.default.removeItem(atPath: temporary) }
        var modelDir = model
        if modelDir == nil {
            modelDir = temporary + "/model"
            try writeModelDirectory(benchModel(backbone: "unet", size: 128), to: modelDir!)
        }
        let executable = (try? FileManager.default.destinationOfSymbolicLink(atPath: "/proc/self/exe")) ?? CommandLine.arguments[0]
        var best = Double.infinity, reported = Double.nan
        for _ in 0..<max(1, repeats) {
            let process = Process()
            process.executableURL = URL(fileURLWithPath: executable)
            process.arguments = ["predict", modelDir!, video, "--output", temporary + "/preds"]
            var environment = ProcessInfo.processInfo.environment
            environment["KINEMA_REPORT_FIRST_FRAME"] = "1"
            process.environment = environment
            let errors = Pipe()
            process.standardError = errors
            process.standardOutput = FileHandle.nullDevice
            let start = Date()
            try process.run()
            var buffer = Data(), seen: Double?
            while seen == nil {
                let chunk = errors.fileHandleForReading.availableData
                if chunk.isEmpty { break }
                buffer += chunk
                let text = String(decoding: buffer, as: UTF8.self)
                if let line = text.split(separator: "\n").first(where: { $0.hasPrefix("kinema-first-frame ") }) {
                    seen = Date().timeIntervalSince(start)
                    reported = Double(line.split(separator: " ")[1]) ?? .nan
                }
            }
            // The rest of the video is not needed: stop the child we started.
            if process.isRunning { process.terminate() }
            process.waitUntilExit()
            guard let seen else {
                throw BenchError("kinema predict ended without processing a frame: \(String(decoding: buffer, as: UTF8.self).suffix(500))")
            }
            best = min(best, seen)
        }
        benchLine("predict_startup_first_frame", best, "s", ratio: 2 / best, baseline: "target_2s")  // > 1: within the target
        print(String(format: "   (the child's own clock: %.2f s since its process start)", reported))
    }

    // MARK: - Helpers

    /// An untrained network of Kinema's with mirror-mouse's 17 keypoints.
    func benchModel(backbone: String, size: Int) throws -> PoseModel {
        var config = PoseConfig()
        config.backbone = backbone
        config.resizeWidth = size
        config.resizeHeight = size
        config.heatmapSigma = 2
        config.keypointNames = (0..<17).map { "keypoint\($0)" }
        try Runtime.manualSeed(0)
        return try PoseModel(config: config, keypointNames: config.keypointNames!)
    }

    /// Writes a model directory `kinema predict` can open.
    func writeModelDirectory(_ m: PoseModel, to directory: String) throws {
        let folder = ModelDirectory(directory)
        try FileManager.default.createDirectory(atPath: folder.checkpoints, withIntermediateDirectories: true)
        var config = m.config
        config.dataDir = directory
        try config.yamlText().write(toFile: folder.config, atomically: true, encoding: .utf8)
        try Checkpoint.save(
            to: URL(fileURLWithPath: folder.bestCheckpoint), store: m.network.store,
            metadata: ["epoch": "0"])
    }

    func defaultVideo() -> String? { benchExampleData("videos/test_vid.mp4").map { ($0 as NSString).standardizingPath } }
}

/// Prints the 1/5/15-minute load averages: every figure of a shared machine needs them next to it.
func printLoad(_ label: String) {
    let load =
        (try? String(contentsOfFile: "/proc/loadavg", encoding: .utf8))?.split(separator: " ").prefix(3).joined(separator: " ") ?? "?"
    print("load average (\(label)): \(load)")
}

// MARK: - Lightning Pose's summary

/// The fields of lp-baseline.sh's `peer_summary.json` that the benchmarks compare against.
struct LPSummary {
    let path: String
    let json: [String: Any]

    init?(path: String) {
        guard let data = FileManager.default.contents(atPath: path),
            let json = (try? JSONSerialization.jsonObject(with: data)) as? [String: Any]
        else { return nil }
        self.path = path
        self.json = json
    }

    private var video: [String: Any] { json["video"] as? [String: Any] ?? [:] }
    var timing: [String: Any]? { json["timing"] as? [String: Any] }

    var fps: Double { (video["fps"] as? Double) ?? 0 }
    var framesPerBatch: Int? { video["frames_per_batch"] as? Int }

    /// The copy of test_vid.mp4 that LP predicted (the script copies the data next to its model folders).
    var videoPath: String? {
        let work = ((path as NSString).deletingLastPathComponent as NSString).deletingLastPathComponent
        let candidate = work + "/mirror-mouse-example/videos/test_vid.mp4"
        return FileManager.default.fileExists(atPath: candidate) ? candidate : nil
    }

    func timingValue(_ key: String) -> Double? { timing?[key] as? Double }

    var describeVideo: String {
        func f(_ key: String) -> String { (video[key] as? Double).map { String(format: "%.2f", $0) } ?? "?" }
        return "\(video["pred_rows"] ?? "?") frames in \(f("predict_s")) s (model load \(f("model_load_s")) s apart), "
            + "\(video["frames_per_batch"] ?? "?") frames per batch, load average \(f("loadavg1_before"))→\(f("loadavg1_after")); \(path)"
    }
}
