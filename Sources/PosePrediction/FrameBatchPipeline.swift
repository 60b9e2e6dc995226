// The "ahead" decode schedule: one background thread decodes and resizes a few batches ahead of
// the network, handing them over through VideoIO's `OrderedHandoff`.
import Foundation
import PoseData
import VideoIO

/// Decodes, converts to RGB and resizes/normalises frames on one background thread, a few batches
/// ahead of the consumer, so the network never waits for the decoder when it is the slower stage.
/// One thread (not a decode thread plus a resize thread) keeps the process at one runnable thread
/// besides libtorch's, which matters on a 2-core machine.
final class FrameBatchPipeline: FrameBatchSource, @unchecked Sendable {
    /// Batch `j` holds frames `j·batchSize ..< (j+1)·batchSize`; the decode thread ends the sequence
    /// at the end of the video (or of `frameLimit`).
    private let handoff: OrderedHandoff<FrameBatch>
    /// Signalled once when the decode thread ends; `decodeCPUSeconds` is written before.
    private let threadEnded = DispatchSemaphore(value: 0)
    let info: VideoInfo
    /// CPU seconds the decode thread used, valid after `finish()`.
    private(set) var decodeCPUSeconds = 0.0

    init(
        path: String, batchSize: Int, outputWidth: Int, outputHeight: Int, keepOriginals: Bool,
        settings: DecodeSettings = DecodeSettings(), frameLimit: Int? = nil
    ) throws {
        // Opened here so that a missing or broken file throws to the caller.
        let reader = try VideoReader(path: path, output: FrameOutput(pixelFormat: .rgb24), decoderThreads: settings.decoderThreads)
        info = reader.info
        // `batchesAhead` decoded batches wait for the network while the thread decodes one more.
        let handoff = OrderedHandoff<FrameBatch>(jobCount: nil, capacity: max(1, settings.batchesAhead) + 1)
        self.handoff = handoff
        let planeSize = 3 * outputWidth * outputHeight
        let limit = frameLimit ?? Int.max  // without a limit, read to the end (a cut file then throws `.truncated`)
        let transfer = ThreadTransfer(reader)
        startWorker(name: "kinema.decode") { [self] in
            applyPriority(settings.priority)
            let cpuStart = threadCPUSeconds()
            var resizer = PredictionResizer(outputWidth: outputWidth, outputHeight: outputHeight)
            if let reader = transfer.take() {
                var decoded = 0
                while let job = handoff.claim() {
                    var originals: [HostImage] = []
                    var count = 0, done = false
                    var failure: (any Error)?
                    let first = decoded
                    let images = [Float](unsafeUninitializedCapacity: batchSize * planeSize) { buffer, initialized in
                        defer { initialized = count * planeSize }
                        do {
                            while count < batchSize {
                                guard decoded < limit else { done = true; break }
                                guard let frame = try reader.nextFrame() else { done = true; break }
                                frame.pixels.withUnsafeBufferPointer {
                                    resizer.resize(
                                        $0, width: frame.width, height: frame.height, channels: frame.channels,
                                        into: buffer.baseAddress! + count * planeSize)
                                }
                                if keepOriginals {
                                    originals.append(
                                        HostImage(width: frame.width, height: frame.height, channels: frame.channels, pixels: frame.pixels))
                                }
                                count += 1
                                decoded += 1
                            }
                        } catch {
                            failure = error
                        }
                    }
                    // The frames decoded before an error go first (a cut file keeps every frame before the cut,
                    // as in the `between` schedule), then the error as the next job.
                    if count > 0 {
                        handoff.deliver(
                            job, .success(FrameBatch(images: images, originals: originals, frameNumbers: Array(first..<(first + count)))))
                    }
                    if let failure {
                        if count == 0 {
                            handoff.deliver(job, .failure(failure))
                        } else if let next = handoff.claim() {
                            handoff.deliver(next, .failure(failure))
                        }
                        break
                    }
                    if done {
                        handoff.end(at: count > 0 ? job + 1 : job)
                        break
                    }
                }
            }
            decodeCPUSeconds = threadCPUSeconds() - cpuStart
            threadEnded.signal()
        }
    }

    /// The next batch; nil at the end. Rethrows a decoding error.
    func next() throws -> FrameBatch? { try handoff.take() }

    /// Waits for the decode thread to end (after `next()` returned nil or `stop()`).
    func finish() {
        threadEnded.wait()
        threadEnded.signal()  // later calls return at once
    }

    func stop() { handoff.stop() }
}
