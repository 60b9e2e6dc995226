// Background decoding into Sendable host frames: every frame in order (`FramePrefetcher`) or clips
// at any position on several threads (`ClipPrefetcher`), both through `OrderedHandoff`.
import Foundation

// MARK: - Which frames to prefetch

/// The frames a `FramePrefetcher` decodes, in the order it hands them out.
public enum FrameSelection: Sendable, Equatable {
    /// Every frame, in order; on a truncated file the sequence ends with `VideoError.truncated`.
    case all
    /// Consecutive frames.
    case range(Range<Int>)
    /// Any frames, in the order given (increasing indices decode fastest).
    case indices([Int])

    func resolve(frameCount: Int) -> [Int] {
        switch self {
        case .all: return Array(0..<frameCount)
        case let .range(range): return Array(range)
        case let .indices(indices): return indices
        }
    }
}

// MARK: - FramePrefetcher

/// Decodes frames of one video on a background thread and hands them over as Sendable host
/// buffers, at most `capacity` frames ahead of the consumer, so a model never waits on decoding.
///
/// Take frames with `next()` (blocking) or `for try await frame in prefetcher`; use one consumer.
/// Errors (a bad index, a truncated file) arrive in order, in place of the frame that failed.
/// Releasing the prefetcher stops the worker after its current frame.
public final class FramePrefetcher: AsyncSequence, @unchecked Sendable {
    public typealias Element = Frame

    /// Metadata of the video.
    public let info: VideoInfo
    /// Frames that will be handed out (before a final truncation error, if any).
    public let count: Int
    private let handoff: OrderedHandoff<Frame>

    /// Opens `path` now (so a missing or broken file throws here) and starts decoding.
    /// - Parameters:
    ///   - frames: which frames, in which order.
    ///   - output: pixel format and size.
    ///   - capacity: frames decoded ahead of the consumer.
    ///   - decoderThreads: FFmpeg threads for the decoder (0: FFmpeg's choice).
    public init(
        path: String, frames: FrameSelection = .all, output: FrameOutput = FrameOutput(),
        capacity: Int = 16, decoderThreads: Int = 0
    ) throws {
        let reader = try VideoReader(path: path, output: output, decoderThreads: decoderThreads)
        let indices = frames.resolve(frameCount: reader.frameCount)
        info = reader.info
        count = indices.count
        // On a cut file, reading everything ends with the truncation error as one more "frame".
        let endsWithDamage = frames == .all && reader.info.damage != nil
        let handoff = OrderedHandoff<Frame>(jobCount: indices.count + (endsWithDamage ? 1 : 0), capacity: capacity)
        self.handoff = handoff
        let transfer = ThreadTransfer(reader)
        startWorker(name: "kinema.decode") {
            guard let reader = transfer.take() else { return }
            while let job = handoff.claim() {
                let result = Result<Frame, any Error> {
                    if job < indices.count { return try reader.frame(at: indices[job]) }
                    if let frame = try reader.nextFrame() { return frame }
                    throw VideoError.corrupt(path: reader.path, frame: reader.frameCount, reason: "unexpected end")
                }
                handoff.deliver(job, result)
            }
        }
    }

    deinit { handoff.stop() }

    /// The next frame, waiting for the decoder if it is behind; `nil` after the last one.
    public func next() throws -> Frame? { try handoff.take() }

    /// Stops decoding; later calls to `next()` return `nil`.
    public func cancel() { handoff.stop() }

    public struct AsyncIterator: AsyncIteratorProtocol {
        let owner: FramePrefetcher
        /// The next item; cancelling the awaiting task stops the workers.
        public mutating func next() async throws -> Frame? {
            let handoff = owner.handoff
            return try await withTaskCancellationHandler {
                try await handoff.take()
            } onCancel: {
                handoff.stop()
            }
        }
    }

    public func makeAsyncIterator() -> AsyncIterator { AsyncIterator(owner: self) }
}

// MARK: - ClipPrefetcher

/// `count` consecutive frames starting at frame `start`.
public struct ClipRequest: Sendable, Hashable {
    public var start: Int
    public var count: Int
    public init(start: Int, count: Int) {
        self.start = start
        self.count = count
    }
}

/// Reads clips at arbitrary positions with several worker threads, each with its own reader
/// (sharing one packet index), and hands them out in request order, at most `capacity` ahead.
public final class ClipPrefetcher: AsyncSequence, @unchecked Sendable {
    public typealias Element = [Frame]

    /// Metadata of the video.
    public let info: VideoInfo
    private let handoff: OrderedHandoff<[Frame]>

    /// Opens `path` now (errors throw here) and starts `workers` decoding threads.
    /// - Parameter decoderThreads: FFmpeg threads per worker; 1 suits random access best.
    public init(
        path: String, clips: [ClipRequest], output: FrameOutput = FrameOutput(), workers: Int = 2,
        capacity: Int = 8, decoderThreads: Int = 1
    ) throws {
        let first = try VideoReader(path: path, output: output, decoderThreads: decoderThreads)
        info = first.info
        let index = first.index
        let handoff = OrderedHandoff<[Frame]>(jobCount: clips.count, capacity: Swift.max(capacity, workers))
        self.handoff = handoff
        for worker in 0..<Swift.max(1, workers) {
            let transfer = ThreadTransfer(worker == 0 ? first : nil)
            startWorker(name: "kinema.clips.\(worker)") {
                var opened: Result<VideoReader, any Error>
                if let reader = transfer.take() ?? nil {
                    opened = .success(reader)
                } else {
                    opened = Result { try VideoReader(path: path, output: output, decoderThreads: decoderThreads, sharedIndex: index) }
                }
                while let job = handoff.claim() {
                    let request = clips[job]
                    handoff.deliver(
                        job,
                        opened.flatMap { reader in
                            Result { try reader.clip(start: request.start, count: request.count) }
                        })
                }
            }
        }
    }

    deinit { handoff.stop() }

    /// The next clip in request order, waiting if the workers are behind; `nil` after the last one.
    public func next() throws -> [Frame]? { try handoff.take() }

    /// Stops the workers; later calls to `next()` return `nil`.
    public func cancel() { handoff.stop() }

    public struct AsyncIterator: AsyncIteratorProtocol {
        let owner: ClipPrefetcher
        /// The next item; cancelling the awaiting task stops the workers.
        public mutating func next() async throws -> [Frame]? {
            let handoff = owner.handoff
            return try await withTaskCancellationHandler {
                try await handoff.take()
            } onCancel: {
                handoff.stop()
            }
        }
    }

    public func makeAsyncIterator() -> AsyncIterator { AsyncIterator(owner: self) }
}
