// `kinema bench predict --breakdown`: where a video's prediction time goes (decoding, resizing, the network,
// the files) and whether memory stays flat over a long video (docs/arch/pose.md, *Prediction cost*).
import Foundation
import PoseData
import PoseFormats
import PoseModels
import PosePrediction
import VideoIO

/// CPU (the whole process: libtorch's threads included) and wall seconds of one part of the pipeline.
struct PartTime {
    var cpu = 0.0
    var wall = 0.0

    /// Runs `body`, adding its CPU and wall time.
    mutating func time<T>(_ body: () throws -> T) rethrows -> T {
        let cpu0 = processCPUSeconds(), wall0 = DispatchTime.now().uptimeNanoseconds
        defer {
            cpu += processCPUSeconds() - cpu0
            wall += Double(DispatchTime.now().uptimeNanoseconds - wall0) / 1e9
        }
        return try body()
    }
}

/// The parts of video prediction, each timed on its own over the same frames, and those frames end to end.
struct PredictionBreakdown {
    var frames = 0
    /// FFmpeg's decoding and its conversion to RGB (`VideoReader.nextFrame`, as both decode schedules call it).
    var decode = PartTime()
    /// `PredictionResizer`: RGB frame → the network's normalised planes.
    var resize = PartTime()
    /// The network and the read-out, keypoints in frame pixels (`PoseModel.predict`, `toFrame`).
    var forward = PartTime()
    /// The table, its CSV and the files beside it (`PredictionFiles`, as `kinema predict` writes them).
    var files = PartTime()
    /// The same frames through `predictVideo` (its decode schedule) and `PredictionFiles`.
    var endToEnd = PartTime()
    var endToEndFrames = 0
    /// Largest difference between the values of the parts' CSV and the end-to-end one (same code, same numbers).
    var largestDifference = 0.0
    /// The end-to-end run's decode schedule.
    var schedule = ""

    var parts: [(name: String, time: PartTime)] { [("decode", decode), ("resize", resize), ("forward", forward), ("files", files)] }
}

/// A `kinema predict` child: its whole run from outside, resident memory sampled as it goes.
struct ChildPrediction {
    var frames = 0
    /// The child's own figure for its frame loop (its log line).
    var loopFramesPerSecond = 0.0
    var wallSeconds = 0.0
    /// User + system CPU seconds of the child (`wait4`).
    var cpuSeconds = 0.0
    /// The child's peak resident memory, bytes (`ru_maxrss`, the kernel's high-water mark).
    var peakRSS = 0.0
    /// Seconds since the start at which the first frames were predicted (the child's `kinema-first-frame` line).
    var firstFrameSeconds: Double?
    /// (seconds since the start, resident bytes), every `interval`.
    var samples: [(seconds: Double, rss: Double)] = []

    /// Resident memory at `fraction` of the prediction (from the first predicted frames to the child's exit): the
    /// sample nearest that time.
    func rss(at fraction: Double) -> Double {
        let from = firstFrameSeconds ?? 0
        let target = from + fraction * (wallSeconds - from)
        return samples.min { abs($0.seconds - target) < abs($1.seconds - target) }?.rss ?? .nan
    }
}

extension BenchPredict {
    /// `--breakdown`: the parts on the first `breakdownFrames` frames in this process, against the same frames end
    /// to end; then the whole video in a `kinema predict` child for frames/s and memory over the run.
    func measureBreakdown(modelDirectory: String?, video: String, decode: DecodeSettings) throws {
        let scratch = NSTemporaryDirectory() + "kinema-bench-breakdown-\(getpid())"
        defer { try? FileManager.default.removeItem(atPath: scratch) }
        let modelPath = modelDirectory ?? scratch + "/model"
        if modelDirectory == nil { try writeModelDirectory(benchModel(backbone: "unet", size: 128), to: modelPath) }
        let trained = try TrainedModel(directory: modelPath)
        let c = trained.model.config
        let name = "predict_breakdown_\(modelDirectory == nil ? "default_" : "")\(c.backbone)_\(c.resizeWidth)"
        let info = try VideoReader(path: video).info
        let limit = breakdownFrames > 0 ? min(breakdownFrames, info.frameCount) : info.frameCount
        print(
            "-- \(name): \(c.backbone) \(c.resizeWidth)×\(c.resizeHeight), batch \(batchSize); \(info.width)×\(info.height), \(info.frameCount) frames"
        )
        print("   frames 0-\(limit - 1): each part alone in this process, then the same frames end to end (predictVideo + files)")
        let b = try measureParts(trained, video: video, frames: limit, decode: decode, scratch: scratch)
        reportParts(b, name: name)

        print("   the whole video in a child `kinema predict` (\(info.frameCount) frames), resident memory sampled")
        let child = try predictInChild(model: modelPath, video: video, output: scratch + "/child")
        reportChild(child, parts: b, name: name, videoFrames: info.frameCount)
    }

    /// The parts, then the same frames end to end; the network is called once first (first-call allocations).
    func measureParts(_ trained: TrainedModel, video: String, frames: Int, decode: DecodeSettings, scratch: String) throws
        -> PredictionBreakdown
    {
        let m = trained.model, c = m.config
        let plane = 3 * c.resizeWidth * c.resizeHeight, k = m.keypointCount
        try forwardAlone(m, images: [Float](repeating: 0.1, count: batchSize * plane), frames: batchSize, batchSize: batchSize)
        let notes: (String) -> Void = { line in if line.hasPrefix("note") || line.hasPrefix("warning") { print("   " + line) } }
        var decodeTime = PartTime(), resizeTime = PartTime(), forwardTime = PartTime(), filesTime = PartTime()

        // The parts, one after the other, frame by frame as the pipeline runs them.
        let reader = try VideoReader(path: video, output: FrameOutput(pixelFormat: .rgb24), decoderThreads: decode.decoderThreads)
        var resizer = PredictionResizer(outputWidth: c.resizeWidth, outputHeight: c.resizeHeight)
        let windows = m.framesPerSample > 1 ? try ContextVideoWindows(model: m, frameCount: frames) : nil
        var xs = [Double](repeating: .nan, count: frames * k), ys = xs, ls = xs
        var images = [Float](repeating: 0, count: batchSize * plane)
        var batchFrames: [Int] = [], count = 0
        let (width, height) = (reader.info.width, reader.info.height)
        func record(_ f: Int, _ row: [KeypointEstimate]) {
            for (j, e) in row.enumerated() {
                let p = m.toFrame(e, width: width, height: height)
                (xs[f * k + j], ys[f * k + j], ls[f * k + j]) = (p.x, p.y, p.likelihood)
            }
        }
        func runBatch() throws {
            let n = batchFrames.count
            let input = n == batchSize ? images : Array(images.prefix(n * plane))
            try forwardTime.time {
                if let windows {
                    for (f, row) in try windows.add(images: input, frames: batchFrames) { record(f, row) }
                } else {
                    for (i, row) in try m.predict(images: input, count: n).enumerated() { record(batchFrames[i], row) }
                }
            }
            batchFrames.removeAll(keepingCapacity: true)
        }
        while count < frames, let frame = try decodeTime.time({ try reader.nextFrame() }) {
            let slot = batchFrames.count
            images.withUnsafeMutableBufferPointer { destination in
                frame.pixels.withUnsafeBufferPointer { pixels in
                    resizeTime.time {
                        resizer.resize(
                            pixels, width: frame.width, height: frame.height, channels: frame.channels,
                            into: destination.baseAddress! + slot * plane)
                    }
                }
            }
            batchFrames.append(count)
            count += 1
            if batchFrames.count == batchSize { try runBatch() }
        }
        if !batchFrames.isEmpty { try runBatch() }
        let decoded = count
        try forwardTime.time { for (f, row) in try windows?.finish(frameCount: decoded) ?? [] { record(f, row) } }
        let partsFiles = PredictionFiles(trained, outputDirectory: scratch + "/parts", log: notes)
        try FileManager.default.createDirectory(atPath: partsFiles.outputs.path, withIntermediateDirectories: true)
        let partsTable = try filesTime.time {
            let table = try PoseTable.predictions(
                scorer: trained.scorer, keypoints: m.keypointNames, x: Array(xs.prefix(decoded * k)),
                y: Array(ys.prefix(decoded * k)), likelihood: Array(ls.prefix(decoded * k)))
            _ = try partsFiles.write(table, video: video, log: { _ in })
            return table
        }

        // The same frames end to end, through the code `kinema predict` runs.
        let files = PredictionFiles(trained, outputDirectory: scratch + "/end-to-end", log: { _ in })
        try FileManager.default.createDirectory(atPath: files.outputs.path, withIntermediateDirectories: true)
        var endToEndTime = PartTime()
        let result = try endToEndTime.time {
            let result = try m.predictVideo(
                path: video, scorer: trained.scorer, batchSize: batchSize, showProgress: false, decode: decode, frameLimit: frames)
            _ = try files.write(result.table, video: video, log: { _ in })
            return result
        }
        var b = PredictionBreakdown(
            frames: decoded, decode: decodeTime, resize: resizeTime, forward: forwardTime, files: filesTime, endToEnd: endToEndTime,
            endToEndFrames: result.frames, schedule: decode.schedule.resolved.rawValue)
        let (a, e) = (partsTable.values, result.table.values)
        b.largestDifference =
            a.count != e.count
            ? .infinity
            : zip(a, e).reduce(0) { largest, pair in
                pair.0.isNaN && pair.1.isNaN ? largest : max(largest, pair.0.isNaN || pair.1.isNaN ? .infinity : abs(pair.0 - pair.1))
            }
        return b
    }

    func reportParts(_ b: PredictionBreakdown, name: String) {
        let n = Double(max(1, b.frames))
        benchLine(
            name + "_frames", Double(b.frames), "frames", ratio: Double(b.frames) / Double(max(1, b.endToEndFrames)),
            baseline: name + "_end_to_end_frames")
        for (kind, e2e) in [("cpu", b.endToEnd.cpu), ("wall", b.endToEnd.wall)] {
            let baseline = "\(name)_end_to_end_\(kind)"
            benchLine(baseline, e2e / n * 1000, "ms/frame", ratio: 1, baseline: baseline)
            var sum = 0.0
            for (part, time) in b.parts {
                let seconds = kind == "cpu" ? time.cpu : time.wall
                sum += seconds
                benchLine("\(name)_\(part)_\(kind)", seconds / n * 1000, "ms/frame", ratio: seconds / e2e, baseline: baseline)
            }
            benchLine("\(name)_parts_\(kind)", sum / n * 1000, "ms/frame", ratio: sum / e2e, baseline: baseline)
        }
        benchLine(name + "_end_to_end", n / b.endToEnd.wall, "frames/s", ratio: nil, baseline: "n/a")
        benchLine(name + "_parts_vs_end_to_end_largest_difference", b.largestDifference, "px", ratio: nil, baseline: "n/a")
        print(
            "   ratio = share of the end-to-end time. CPU is every thread's; the end-to-end run decodes on libtorch's threads"
                + " (schedule \(b.schedule)), the parts one after the other, so wall shares can sum past 1.")
    }

    func reportChild(_ child: ChildPrediction, parts b: PredictionBreakdown, name: String, videoFrames: Int) {
        let mb = 1.0 / 1_048_576
        let n = Double(max(1, child.frames))
        benchLine(
            name + "_child_frames", Double(child.frames), "frames", ratio: Double(child.frames) / Double(max(1, videoFrames)),
            baseline: "video_frames")
        let inProcess = Double(b.endToEndFrames) / b.endToEnd.wall
        benchLine(
            name + "_child_end_to_end", n / child.wallSeconds, "frames/s", ratio: n / child.wallSeconds / inProcess,
            baseline: name + "_end_to_end")
        let e2eCPU = b.endToEnd.cpu / Double(max(1, b.endToEndFrames))
        benchLine(
            name + "_child_cpu", child.cpuSeconds / n * 1000, "ms/frame", ratio: child.cpuSeconds / n / e2eCPU,
            baseline: name + "_end_to_end_cpu")
        let (r10, r50, r90) = (child.rss(at: 0.1), child.rss(at: 0.5), child.rss(at: 0.9))
        let base = name + "_child_rss_10pct"
        benchLine(base, r10 * mb, "MB", ratio: 1, baseline: base)
        benchLine(name + "_child_rss_50pct", r50 * mb, "MB", ratio: r50 / r10, baseline: base)
        benchLine(name + "_child_rss_90pct", r90 * mb, "MB", ratio: r90 / r10, baseline: base)
        benchLine(name + "_child_peak_rss", child.peakRSS * mb, "MB", ratio: child.peakRSS / r90, baseline: name + "_child_rss_90pct")
        let shares = b.parts.map { String(format: "%@ %.3f", $0.name, $0.time.cpu / Double(max(1, b.frames)) / (child.cpuSeconds / n)) }
        let growth = (r90 - r10) / (0.8 * n)
        print(
            String(
                format:
                    "   child: %d frames in %.1f s (its frame loop %.1f frames/s), first frames after %.2f s, %d memory samples; RSS 10 %%→90 %% %+.1f MB = %.0f bytes/frame (%.1f MB per hour at 30 frames/s); the parts' shares of the child's CPU: %@",
                child.frames, child.wallSeconds, child.loopFramesPerSecond, child.firstFrameSeconds ?? .nan, child.samples.count,
                (r90 - r10) * mb, growth, growth * 108_000 * mb, shares.joined(separator: ", ")))
    }

    /// Runs `kinema predict MODEL VIDEO` in a child process (this executable), sampling its resident memory
    /// (`/proc/PID/statm`) every 50 ms; its peak and CPU time come from `wait4`.
    func predictInChild(model: String, video: String, output: String) throws -> ChildPrediction {
        let executable = (try? FileManager.default.destinationOfSymbolicLink(atPath: "/proc/self/exe")) ?? CommandLine.arguments[0]
        let arguments = ["predict", model, video, "--output", output, "--batch-size", String(batchSize)]
        let errPath = output + ".log"
        try FileManager.default.createDirectory(atPath: (output as NSString).deletingLastPathComponent, withIntermediateDirectories: true)
        var actions = posix_spawn_file_actions_t()
        posix_spawn_file_actions_init(&actions)
        defer { posix_spawn_file_actions_destroy(&actions) }
        posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0)
        posix_spawn_file_actions_addopen(&actions, 1, errPath, O_WRONLY | O_CREAT | O_TRUNC, 0o600)
        posix_spawn_file_actions_adddup2(&actions, 1, 2)
        var environment = ProcessInfo.processInfo.environment
        environment["KINEMA_REPORT_FIRST_FRAME"] = "1"
        let argv: [UnsafeMutablePointer<CChar>?] = ([executable] + arguments).map { strdup($0) } + [nil]
        let envp: [UnsafeMutablePointer<CChar>?] = environment.map { strdup("\($0.key)=\($0.value)") } + [nil]
        defer { for p in argv + envp { free(p) } }
        var pid: pid_t = 0
        let start = DispatchTime.now().uptimeNanoseconds
        let spawned = posix_spawn(&pid, executable, &actions, nil, argv, envp)
        guard spawned == 0 else { throw BenchError("cannot run \(executable): \(String(cString: strerror(spawned)))") }
        func elapsed() -> Double { Double(DispatchTime.now().uptimeNanoseconds - start) / 1e9 }

        var child = ChildPrediction()
        let page = Double(sysconf(Int32(_SC_PAGESIZE)))
        var status: Int32 = 0, usage = rusage()
        while true {
            let waited = wait4(pid, &status, WNOHANG, &usage)
            if waited == pid { break }
            guard waited == 0 || errno == EINTR else { throw BenchError("waiting for kinema predict: \(String(cString: strerror(errno)))") }
            if let statm = try? String(contentsOfFile: "/proc/\(pid)/statm", encoding: .utf8),
                let resident = statm.split(separator: " ").dropFirst().first.flatMap({ Double($0) })
            {
                child.samples.append((elapsed(), resident * page))
            }
            if child.firstFrameSeconds == nil, let log = try? String(contentsOfFile: errPath, encoding: .utf8),
                log.contains("kinema-first-frame ")
            {
                child.firstFrameSeconds = elapsed()
            }
            usleep(50_000)
        }
        child.wallSeconds = elapsed()
        let log = (try? String(contentsOfFile: errPath, encoding: .utf8)) ?? ""
        // WIFEXITED && WEXITSTATUS == 0 (the C macros are not imported).
        guard status & 0x7f == 0, (status >> 8) & 0xff == 0 else {
            throw BenchError("kinema \(arguments.joined(separator: " ")) failed (wait status \(status)): \(log.suffix(2000))")
        }
        child.cpuSeconds =
            Double(usage.ru_utime.tv_sec + usage.ru_stime.tv_sec) + Double(usage.ru_utime.tv_usec + usage.ru_stime.tv_usec) / 1e6
        child.peakRSS = Double(usage.ru_maxrss) * 1024
        // `<video>: <n> frames in <s> s (<f> frames/s, …) -> <csv>`
        if let line = log.split(separator: "\n").last(where: { $0.contains(" frames in ") && $0.contains(" frames/s") }),
            let framesIn = line.range(of: " frames in "), let rate = line.range(of: " frames/s", range: framesIn.upperBound..<line.endIndex)
        {
            child.frames = Int(line[..<framesIn.lowerBound].split(separator: " ").last ?? "") ?? 0
            let open = line[..<rate.lowerBound].lastIndex(of: "(").map { line.index(after: $0) } ?? rate.lowerBound
            child.loopFramesPerSecond = Double(line[open..<rate.lowerBound]) ?? .nan
        } else {
            throw BenchError("kinema predict did not report its frames: \(log.suffix(1000))")
        }
        return child
    }
}
