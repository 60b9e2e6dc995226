// Video → keypoints: decoding and resizing on one background thread, the network on this one.
import Foundation
import PoseData
import PoseFormats
import VideoIO

/// How the decoding side of video prediction runs (defaults measured in docs/arch/pose.md).
public struct DecodeSettings: Sendable, Equatable {
    /// FFmpeg decoder threads; 1 keeps FFmpeg's own frame threads from competing with libtorch's.
    public var decoderThreads = 1
    /// Batches decoded and resized ahead of the network.
    public var batchesAhead = 2
    /// Scheduling of the decode thread. `.normal`: on a busy shared machine a niced decoder lost its
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

/// A batch of preprocessed video frames (and the originals when a labelled video is drawn).
struct FrameBatch: @unchecked Sendable {
    var images: [Float]
    var originals: [HostImage]
    var count: Int
}

/// Decodes, converts to RGB and resizes/normalises frames on one background thread, a few batches
/// ahead of the consumer, so the network never waits for the decoder when it is the slower stage.
/// One thread (not a decode thread plus a resize thread) keeps the process at one runnable thread
/// besides libtorch's, which matters on a 2-core machine.
final class FrameBatchPipeline: @unchecked Sendable {
    private let condition = NSCondition()
    private var queue: [FrameBatch] = []
    private var finished = false
    private var failure: (any Error)?
    private var stopped = false
    let info: VideoInfo
    /// CPU seconds the decode thread used, valid once `next()` returned nil.
    private(set) var decodeCPUSeconds = 0.0

    init(path: String, batchSize: Int, outputWidth: Int, outputHeight: Int, keepOriginals: Bool,
         settings: DecodeSettings = DecodeSettings(), frameLimit: Int? = nil) throws {
        // Opened here so that a missing or broken file throws to the caller.
        let reader = try VideoReader(path: path, output: FrameOutput(pixelFormat: .rgb24), decoderThreads: settings.decoderThreads)
        info = reader.info
        let capacity = max(1, settings.batchesAhead)
        let planeSize = 3 * outputWidth * outputHeight
        let limit = frameLimit ?? Int.max  // without a limit, read to the end (a cut file then throws `.truncated`)
        let transfer = ReaderTransfer(reader)
        let thread = Thread { [self] in
            applyPriority(settings.priority)
            let cpuStart = threadCPUSeconds()
            var resizer = PredictionResizer(outputWidth: outputWidth, outputHeight: outputHeight)
            do {
                let reader = transfer.reader
                var done = false, decoded = 0
                while !done && !isStopped {
                    var originals: [HostImage] = []
                    var count = 0
                    let images = try [Float](unsafeUninitializedCapacity: batchSize * planeSize) { buffer, initialized in
                        defer { initialized = count * planeSize }
                        while count < batchSize {
                            guard decoded < limit else { done = true; break }
                            guard let frame = try reader.nextFrame() else { done = true; break }
                            frame.pixels.withUnsafeBufferPointer {
                                resizer.resize($0, width: frame.width, height: frame.height, channels: frame.channels,
                                               into: buffer.baseAddress! + count * planeSize)
                            }
                            if keepOriginals {
                                originals.append(HostImage(width: frame.width, height: frame.height, channels: frame.channels, pixels: frame.pixels))
                            }
                            count += 1
                            decoded += 1
                        }
                    }
                    guard count > 0 else { break }
                    condition.lock()
                    while queue.count >= capacity && !stopped { condition.wait() }
                    if !stopped { queue.append(FrameBatch(images: images, originals: originals, count: count)) }
                    condition.broadcast()
                    condition.unlock()
                }
            } catch {
                condition.lock(); failure = error; condition.unlock()
            }
            let cpu = threadCPUSeconds() - cpuStart
            condition.lock(); finished = true; decodeCPUSeconds = cpu; condition.broadcast(); condition.unlock()
        }
        thread.name = "kinema.decode"  // Linux thread names hold 15 characters
        thread.start()
    }

    private var isStopped: Bool {
        condition.lock(); defer { condition.unlock() }
        return stopped
    }

    /// The next batch; nil at the end. Rethrows a decoding error.
    func next() throws -> FrameBatch? {
        condition.lock()
        defer { condition.unlock() }
        while queue.isEmpty && !finished { condition.wait() }
        if !queue.isEmpty {
            let batch = queue.removeFirst()
            condition.broadcast()
            return batch
        }
        if let failure { throw failure }
        return nil
    }

    /// Waits for the decode thread to end (after `next()` returned nil or `stop()`).
    func waitUntilFinished() {
        condition.lock(); defer { condition.unlock() }
        while !finished { condition.wait() }
    }

    func stop() {
        condition.lock(); stopped = true; queue.removeAll(); condition.broadcast(); condition.unlock()
    }
}

/// Hands a reader (not Sendable: it must live on one thread) to the decode thread, which is its only user.
private final class ReaderTransfer: @unchecked Sendable {
    let reader: VideoReader
    init(_ reader: VideoReader) { self.reader = reader }
}

/// CPU time of the calling thread.
func threadCPUSeconds() -> Double {
    var t = timespec()
    clock_gettime(CLOCK_THREAD_CPUTIME_ID, &t)
    return Double(t.tv_sec) + Double(t.tv_nsec) / 1e9
}

/// Lowers the calling thread's scheduling priority (Linux applies nice and policy per thread).
private func applyPriority(_ priority: DecodePriority) {
    #if os(Linux)
    // On Linux, who = 0 means the calling thread (not the whole process) for both calls.
    // SCHED_IDLE (5, fixed by the kernel ABI) is missing from Glibc's Swift overlay.
    let schedIdle: Int32 = 5
    switch priority {
    case .normal: break
    case .background: _ = setpriority(__priority_which_t(PRIO_PROCESS.rawValue), 0, 10)
    case .idle:
        var param = sched_param(sched_priority: 0)
        _ = sched_setscheduler(0, schedIdle, &param)
    }
    #endif
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
    /// Predicts every frame of a video. With `drawer`, each frame is also drawn into a labelled video.
    /// - Parameters:
    ///   - decode: decoder threads, read-ahead and priority of the decode thread.
    ///   - frameLimit: predict only the first frames (benchmarks).
    public func predictVideo(path: String, scorer: String, batchSize: Int = 16, showProgress: Bool = true,
                             drawer: LabeledVideoWriter? = nil, decode: DecodeSettings = DecodeSettings(),
                             frameLimit: Int? = nil) throws -> VideoPredictionResult {
        let start = Date()
        let pipeline = try FrameBatchPipeline(path: path, batchSize: batchSize, outputWidth: config.resizeWidth,
                                              outputHeight: config.resizeHeight, keepOriginals: drawer != nil,
                                              settings: decode, frameLimit: frameLimit)
        defer { pipeline.stop() }
        let total = min(pipeline.info.frameCount, frameLimit ?? Int.max)
        let width = pipeline.info.width, height = pipeline.info.height
        let progress = ProgressLine(label: (path as NSString).lastPathComponent, total: total, unit: "frames", enabled: showProgress)
        var xs: [Double] = [], ys: [Double] = [], ls: [Double] = []
        xs.reserveCapacity(total * keypointCount)
        ys.reserveCapacity(total * keypointCount)
        ls.reserveCapacity(total * keypointCount)
        var startup = 0.0, firstBatch = 0.0
        var done = 0
        while let batch = try pipeline.next() {
            if done == 0 { startup = Date().timeIntervalSince(start) }
            let estimates = try predict(images: batch.images, count: batch.count)
            for (b, row) in estimates.enumerated() {
                let frameRow = row.map { toFrame($0, width: width, height: height) }
                for e in frameRow { xs.append(e.x); ys.append(e.y); ls.append(e.likelihood) }
                if let drawer { try drawer.write(frame: batch.originals[b], keypoints: frameRow) }
            }
            if done == 0 {
                firstBatch = Date().timeIntervalSince(start)
                if reportFirstFrame { reportProcessAge() }
            }
            done += batch.count
            progress.update(done: done)
        }
        pipeline.waitUntilFinished()
        progress.finish()
        try drawer?.finish()
        let table = try PoseTable.predictions(scorer: scorer, keypoints: keypointNames, x: xs, y: ys, likelihood: ls)
        return VideoPredictionResult(table: table, frames: done, seconds: Date().timeIntervalSince(start), startupSeconds: startup,
                                     firstBatchSeconds: firstBatch, decodeCPUSeconds: pipeline.decodeCPUSeconds)
    }
}

/// Decoding, RGB conversion and resizing alone, through the prediction pipeline.
public struct DecodeTiming: Sendable {
    public var frames: Int
    public var seconds: Double
    /// CPU seconds of the decode thread.
    public var cpuSeconds: Double
}

extension PoseModel {
    /// Runs the prediction pipeline without the network (for `kinema bench predict`).
    public func timeDecoding(path: String, batchSize: Int = 16, decode: DecodeSettings = DecodeSettings(),
                             frameLimit: Int? = nil) throws -> DecodeTiming {
        let start = Date()
        let pipeline = try FrameBatchPipeline(path: path, batchSize: batchSize, outputWidth: config.resizeWidth,
                                              outputHeight: config.resizeHeight, keepOriginals: false,
                                              settings: decode, frameLimit: frameLimit)
        var frames = 0
        while let batch = try pipeline.next() { frames += batch.count }
        pipeline.waitUntilFinished()
        return DecodeTiming(frames: frames, seconds: Date().timeIntervalSince(start), cpuSeconds: pipeline.decodeCPUSeconds)
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
