// Video → keypoints: frames decoded and resized (ahead on a background thread, or between network
// passes on libtorch's own threads), the network and read-out on this thread.
import KinemaConsole
import Foundation
import PoseData
import PoseFormats
import Torch
import VideoIO

/// When frames are decoded relative to the network (measured in docs/arch/pose.md).
public enum DecodeSchedule: String, Sendable, CaseIterable {
    /// `between` when libtorch's threads fill every core (a CPU-only run), else `ahead`.
    case automatic = "auto"
    /// One background thread decodes a few batches ahead of the network (`FrameBatchPipeline`): best
    /// when a core is free for it (the network on a GPU, or fewer libtorch threads than cores).
    case ahead
    /// Each batch is decoded just before its network pass, on libtorch's own threads, each working
    /// through its own part of the video (`SegmentedFrameDecoder`): best when the network uses every
    /// core, where a decode thread could only take a core from libtorch in the middle of a parallel region.
    case between

    /// The schedule `automatic` stands for with the current libtorch thread count (pose models run on the CPU).
    public var resolved: DecodeSchedule {
        guard self == .automatic else { return self }
        return Runtime.threads >= ProcessInfo.processInfo.activeProcessorCount ? .between : .ahead
    }
}

/// How the decoding side of video prediction runs (defaults measured in docs/arch/pose.md).
public struct DecodeSettings: Sendable, Equatable {
    /// When frames are decoded relative to the network.
    public var schedule: DecodeSchedule = .automatic
    /// `between` schedule: also decode on an idle-priority thread while the network runs.
    public var fillGaps = true
    /// FFmpeg decoder threads; 1 keeps FFmpeg's own frame threads from competing with libtorch's.
    public var decoderThreads = 1
    /// Batches decoded and resized ahead of the network (`ahead` schedule).
    public var batchesAhead = 2
    /// Scheduling of the decode thread (`ahead` schedule). `.normal`: on a busy shared machine a niced decoder lost its
    /// turn to other processes (measured in docs/arch/pose.md); the others are kept for experiments.
    public var priority: DecodePriority = .normal

    public init() {}
}

/// Linux scheduling of the decode thread.
public enum DecodePriority: String, Sendable, CaseIterable {
    /// Same as the rest of the process.
    case normal
    /// `nice +10` for this thread only: libtorch's threads win when both want a core.
    case background
    /// `SCHED_IDLE`: runs only on otherwise idle cores.
    case idle
}

/// A batch of preprocessed video frames: `3 × H × W` floats per frame, the frame numbers they came
/// from (consecutive, or from several segments of the video), and the originals when a labelled
/// video is drawn.
struct FrameBatch: @unchecked Sendable {
    var images: [Float]
    var originals: [HostImage]
    var frameNumbers: [Int]
    var count: Int { frameNumbers.count }
}

/// Where prediction batches come from (see `DecodeSchedule`).
protocol FrameBatchSource: AnyObject {
    var info: VideoInfo { get }
    /// The next batch; nil after the last. Rethrows a decoding error.
    func next() throws -> FrameBatch?
    /// Waits for decoding to end, after `next()` returned nil.
    func finish()
    /// Stops early (an error in the consumer); idempotent.
    func stop()
    /// CPU seconds spent decoding, converting and resizing; valid after `finish()`.
    var decodeCPUSeconds: Double { get }
}

/// What `predictVideo` produced.
public struct VideoPredictionResult: Sendable {
    public var table: PoseTable
    public var frames: Int
    public var seconds: Double
    public var framesPerSecond: Double { seconds > 0 ? Double(frames) / seconds : 0 }
    /// Seconds from the call to the first batch being ready for the network.
    public var startupSeconds: Double
    /// Seconds from the call to the first batch's keypoints.
    public var firstBatchSeconds: Double
    /// CPU seconds spent by the decode thread (decoding, RGB conversion, resizing).
    public var decodeCPUSeconds: Double
}

/// Set `KINEMA_REPORT_FIRST_FRAME=1` to have prediction print one line on standard error when the
/// first frames are processed: `kinema-first-frame <seconds since the process started>` (used by
/// `kinema bench predict` to measure start-up from the outside).
private let reportFirstFrame = ProcessInfo.processInfo.environment["KINEMA_REPORT_FIRST_FRAME"] == "1"

extension PoseModel {
    /// The batch source for `decode.schedule` (a labelled video needs frames in order: one segment).
    func frameSource(path: String, batchSize: Int, keepOriginals: Bool, decode: DecodeSettings,
                     frameLimit: Int?) throws -> any FrameBatchSource {
        switch decode.schedule.resolved {
        case .between:
            return try SegmentedFrameDecoder(path: path, batchSize: batchSize, outputWidth: config.resizeWidth,
                                             outputHeight: config.resizeHeight, keepOriginals: keepOriginals,
                                             workers: keepOriginals ? 1 : Runtime.threads, fillGaps: decode.fillGaps,
                                             frameLimit: frameLimit)
        case .ahead, .automatic:
            return try FrameBatchPipeline(path: path, batchSize: batchSize, outputWidth: config.resizeWidth,
                                          outputHeight: config.resizeHeight, keepOriginals: keepOriginals,
                                          settings: decode, frameLimit: frameLimit)
        }
    }

    /// Predicts every frame of a video. With `drawer`, each frame is also drawn into a labelled video.
    /// - Parameters:
    ///   - decode: when and how frames are decoded (schedule, decoder threads, read-ahead, priority).
    ///   - frameLimit: predict only the first frames (benchmarks).
    public func predictVideo(path: String, scorer: String, batchSize: Int = 16, showProgress: Bool = true,
                             drawer: LabeledVideoWriter? = nil, decode: DecodeSettings = DecodeSettings(),
                             frameLimit: Int? = nil) throws -> VideoPredictionResult {
        let start = Date()
        let source = try frameSource(path: path, batchSize: batchSize, keepOriginals: drawer != nil,
                                     decode: decode, frameLimit: frameLimit)
        defer { source.stop() }
        let total = min(source.info.frameCount, frameLimit ?? Int.max)
        let width = source.info.width, height = source.info.height
        let progress = ProgressLine(label: (path as NSString).lastPathComponent, total: total, unit: "frames", enabled: showProgress)
        // Batches may hold frames of several segments: results go to their frame's row.
        let k = keypointCount
        var xs = [Double](repeating: .nan, count: total * k), ys = xs, ls = xs
        var startup = 0.0, firstBatch = 0.0
        var done = 0, rows = 0
        while let batch = try source.next() {
            if done == 0 { startup = Date().timeIntervalSince(start) }
            let estimates = try predict(images: batch.images, count: batch.count)
            for (b, row) in estimates.enumerated() {
                let frameRow = row.map { toFrame($0, width: width, height: height) }
                let f = batch.frameNumbers[b]
                for (j, e) in frameRow.enumerated() { xs[f * k + j] = e.x; ys[f * k + j] = e.y; ls[f * k + j] = e.likelihood }
                rows = max(rows, f + 1)
                if let drawer { try drawer.write(frame: batch.originals[b], keypoints: frameRow) }
            }
            if done == 0 {
                firstBatch = Date().timeIntervalSince(start)
                if reportFirstFrame { reportProcessAge() }
            }
            done += batch.count
            progress.update(done)
        }
        source.finish()
        progress.finish()
        try drawer?.finish()
        guard done == rows else {
            throw PoseModelError("\(path): predicted \(done) frames but the last was frame \(rows - 1); frames were skipped or repeated (a decoding bug, please report it)")
        }
        let table = try PoseTable.predictions(scorer: scorer, keypoints: keypointNames, x: Array(xs.prefix(rows * k)),
                                              y: Array(ys.prefix(rows * k)), likelihood: Array(ls.prefix(rows * k)))
        return VideoPredictionResult(table: table, frames: done, seconds: Date().timeIntervalSince(start), startupSeconds: startup,
                                     firstBatchSeconds: firstBatch, decodeCPUSeconds: source.decodeCPUSeconds)
    }
}

/// Decoding, RGB conversion and resizing alone, through the prediction pipeline.
public struct DecodeTiming: Sendable {
    public var frames: Int
    public var seconds: Double
    /// CPU seconds spent decoding, converting and resizing (all threads that did it).
    public var cpuSeconds: Double
}

extension PoseModel {
    /// Runs the prediction pipeline without the network (for `kinema bench predict`).
    public func timeDecoding(path: String, batchSize: Int = 16, decode: DecodeSettings = DecodeSettings(),
                             frameLimit: Int? = nil) throws -> DecodeTiming {
        let start = Date()
        let source = try frameSource(path: path, batchSize: batchSize, keepOriginals: false, decode: decode, frameLimit: frameLimit)
        defer { source.stop() }
        var frames = 0
        while let batch = try source.next() { frames += batch.count }
        source.finish()
        return DecodeTiming(frames: frames, seconds: Date().timeIntervalSince(start), cpuSeconds: source.decodeCPUSeconds)
    }
}

/// Prints `kinema-first-frame <s>` on standard error: seconds since this process started
/// (`/proc/self/stat` start time against `/proc/uptime`, 10 ms resolution).
private func reportProcessAge() {
    guard let stat = try? String(contentsOfFile: "/proc/self/stat", encoding: .utf8),
          let uptime = (try? String(contentsOfFile: "/proc/uptime", encoding: .utf8))?.split(separator: " ").first.flatMap({ Double($0) }),
          let close = stat.lastIndex(of: ")") else { return }
    // Fields after the command name; the start time is field 22 of the whole line (20th after ")").
    let fields = stat[stat.index(after: close)...].split(separator: " ")
    guard fields.count > 19, let ticks = Double(fields[19]) else { return }
    let hz = Double(sysconf(Int32(_SC_CLK_TCK)))
    FileHandle.standardError.write("kinema-first-frame \(String(format: "%.3f", uptime - ticks / hz))\n".data(using: .utf8)!)
}
