// The "ahead" decode schedule: one background thread decodes and resizes a few batches ahead of
// the network.
import Foundation
import PoseData
import VideoIO

/// Decodes, converts to RGB and resizes/normalises frames on one background thread, a few batches
/// ahead of the consumer, so the network never waits for the decoder when it is the slower stage.
/// One thread (not a decode thread plus a resize thread) keeps the process at one runnable thread
/// besides libtorch's, which matters on a 2-core machine.
final class FrameBatchPipeline: FrameBatchSource, @unchecked Sendable {
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
        let transfer = ThreadTransfer(reader)
        let thread = Thread { [self] in
            applyPriority(settings.priority)
            let cpuStart = threadCPUSeconds()
            var resizer = PredictionResizer(outputWidth: outputWidth, outputHeight: outputHeight)
            do {
                let reader = transfer.value
                var done = false, decoded = 0
                while !done && !isStopped {
                    var originals: [HostImage] = []
                    var count = 0
                    let first = decoded
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
                    if !stopped { queue.append(FrameBatch(images: images, originals: originals, frameNumbers: Array(first..<(first + count)))) }
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
    func finish() {
        condition.lock(); defer { condition.unlock() }
        while !finished { condition.wait() }
    }

    func stop() {
        condition.lock(); stopped = true; queue.removeAll(); condition.broadcast(); condition.unlock()
    }
}

/// CPU time of the calling thread.
func threadCPUSeconds() -> Double {
    var t = timespec()
    clock_gettime(CLOCK_THREAD_CPUTIME_ID, &t)
    return Double(t.tv_sec) + Double(t.tv_nsec) / 1e9
}

/// Lowers the calling thread's scheduling priority (Linux applies nice and policy per thread).
func applyPriority(_ priority: DecodePriority) {
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

/// Hands a value that is not Sendable (a reader: it must live on one thread) to the one thread that
/// will use it from then on.
final class ThreadTransfer<T>: @unchecked Sendable {
    let value: T
    init(_ value: T) { self.value = value }
}
