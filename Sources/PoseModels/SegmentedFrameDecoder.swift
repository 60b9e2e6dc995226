// The "between" decode schedule: each batch is decoded just before its network pass, on libtorch's
// own threads, each thread working through its own run of whole groups of pictures.
import Foundation
import PoseData
import Torch
import VideoIO

/// Decodes prediction batches on libtorch's intra-op threads between network passes.
///
/// The video is cut at keyframes into chunks of whole groups of pictures (`VideoSegments.chunks`).
/// Each libtorch thread has a reader and decodes chunks one after the other; every batch takes an
/// equal share of frames from every thread, all decoded, converted and resized in one
/// `Runtime.parallelFor`. A thread that finishes its chunk takes the next one from a shared list
/// (starting a chunk is a seek to its keyframe, which costs one frame), so threads finish together
/// also on short videos with few keyframes.
///
/// On a CPU whose cores all run the network this beats a decode thread running alongside it: such a
/// thread can only take a core from one of libtorch's threads in the middle of a parallel region while
/// the others wait for it (docs/arch/pose.md). Here decoding and the network use every core in turn.
/// With one worker (one libtorch thread, or a labelled video, which needs frames in order) batches
/// are consecutive frames.
final class SegmentedFrameDecoder: FrameBatchSource, @unchecked Sendable {
    /// One thread's reader and the chunks it was given. Only planning (between batches) and the
    /// thread that decodes for it (during one) touch it.
    private final class Worker {
        let reader: VideoReader
        var chunks: [Range<Int>] = []
        /// Next frame to decode, inside `chunks[0]`.
        var position = 0
        /// Whether the reader sits just before `position` (else decoding starts with a seek).
        var positioned = false
        var resizer: PredictionResizer
        var failure: (any Error)?
        var cpuSeconds = 0.0
        init(reader: VideoReader, resizer: PredictionResizer) {
            self.reader = reader
            self.resizer = resizer
        }
        var remaining: Int { chunks.isEmpty ? 0 : chunks.dropFirst().reduce(chunks[0].upperBound - position) { $0 + $1.count } }

        func take(_ chunk: Range<Int>) {
            if chunks.isEmpty { position = chunk.lowerBound; positioned = false }
            chunks.append(chunk)
        }

        /// The next `count` frame numbers this worker will decode, in order.
        func upcoming(_ count: Int) -> [Int] {
            var frames: [Int] = [], position = self.position
            for chunk in chunks where frames.count < count {
                let from = max(position, chunk.lowerBound)
                frames += from..<min(chunk.upperBound, from + count - frames.count)
                position = chunk.upperBound
            }
            return frames
        }
    }

    let info: VideoInfo
    private let workers: [Worker]
    /// Chunks nobody has started, in video order.
    private var pool: ArraySlice<Range<Int>>
    private let batchSize: Int
    private let planeSize: Int
    private let keepOriginals: Bool
    /// True when the whole video is read, so a cut file must report `.truncated` at its end.
    private let readsToEnd: Bool
    private let total: Int
    private var checkedEnd = false

    var decodeCPUSeconds: Double { workers.reduce(0) { $0 + $1.cpuSeconds } }

    /// - Parameter workers: decoding threads (libtorch's thread count; 1 keeps frames in order).
    init(path: String, batchSize: Int, outputWidth: Int, outputHeight: Int, keepOriginals: Bool,
         workers wanted: Int, frameLimit: Int? = nil) throws {
        // Opened here so that a missing or broken file throws to the caller.
        let first = try VideoReader(path: path, output: FrameOutput(pixelFormat: .rgb24), decoderThreads: 1)
        info = first.info
        self.batchSize = max(1, batchSize)
        planeSize = 3 * outputWidth * outputHeight
        self.keepOriginals = keepOriginals
        total = min(first.frameCount, frameLimit ?? Int.max)
        readsToEnd = frameLimit == nil || frameLimit! >= first.frameCount
        let chunks = VideoSegments.chunks(keyframes: first.keyframes, total: total, workers: max(1, wanted),
                                          minimumLength: 2 * self.batchSize)
        let count = max(1, min(wanted, chunks.count))
        var workers: [Worker] = []
        for i in 0..<count {
            let reader = i == 0 ? first : try first.sibling(decoderThreads: 1)
            workers.append(Worker(reader: reader, resizer: PredictionResizer(outputWidth: outputWidth, outputHeight: outputHeight)))
        }
        self.workers = workers
        pool = chunks[...]
    }

    /// Gives chunks to workers and returns each worker's share of the next batch: equal shares, a
    /// worker short of frames taking more chunks, and what none can take moved to those with spare.
    private func plan() -> [Int] {
        for worker in workers where worker.chunks.isEmpty {
            guard let chunk = pool.popFirst() else { break }
            worker.take(chunk)
        }
        let left = workers.reduce(0) { $0 + $1.remaining } + pool.reduce(0) { $0 + $1.count }
        let count = min(batchSize, left)
        var quota = workers.indices.map { count / workers.count + ($0 < count % workers.count ? 1 : 0) }
        var deficit = 0
        for (i, worker) in workers.enumerated() {
            while worker.remaining < quota[i], let chunk = pool.popFirst() { worker.take(chunk) }
            if worker.remaining < quota[i] {
                deficit += quota[i] - worker.remaining
                quota[i] = worker.remaining
            }
        }
        for (i, worker) in workers.enumerated() where deficit > 0 {
            let extra = min(deficit, worker.remaining - quota[i])
            quota[i] += extra
            deficit -= extra
        }
        return quota
    }

    func next() throws -> FrameBatch? {
        let quota = plan()
        let count = quota.reduce(0, +)
        guard count > 0 else {
            try checkEnd()
            return nil
        }
        var offsets = [0]
        for q in quota { offsets.append(offsets.last! + q) }
        let frameNumbers = zip(workers, quota).flatMap { $0.upcoming($1) }

        var originals = [[HostImage]](repeating: [], count: workers.count)
        let images = try originals.withUnsafeMutableBufferPointer { slots in
            // Each chunk of the loop writes only its own workers' slots and part of the batch.
            let perWorker = UncheckedPointer(slots.baseAddress!)
            return try [Float](unsafeUninitializedCapacity: count * planeSize) { buffer, initialized in
                let base = UncheckedPointer(buffer.baseAddress!)
                try Runtime.parallelFor(workers.count) { range in
                    for i in range where quota[i] > 0 {
                        self.decode(worker: self.workers[i], count: quota[i], into: base.pointer + offsets[i] * self.planeSize,
                                    originals: &perWorker.pointer[i])
                    }
                }
                initialized = count * planeSize
            }
        }
        for worker in workers { if let failure = worker.failure { throw failure } }
        return FrameBatch(images: images, originals: keepOriginals ? originals.flatMap { $0 } : [], frameNumbers: frameNumbers)
    }

    /// Decodes the worker's next `count` frames into `destination` (runs on a libtorch thread).
    private func decode(worker: Worker, count: Int, into destination: UnsafeMutablePointer<Float>,
                        originals: inout [HostImage]) {
        guard worker.failure == nil else { return }
        let cpuStart = threadCPUSeconds()
        defer { worker.cpuSeconds += threadCPUSeconds() - cpuStart }
        do {
            for n in 0..<count {
                if worker.position == worker.chunks[0].upperBound {
                    worker.chunks.removeFirst()
                    worker.positioned = worker.chunks[0].lowerBound == worker.position
                    worker.position = worker.chunks[0].lowerBound
                }
                let frame: Frame
                if worker.positioned {
                    guard let next = try worker.reader.nextFrame() else {
                        throw PoseModelError("\(info.path): frame \(worker.position) could not be decoded although the file's index lists it")
                    }
                    frame = next
                } else {
                    frame = try worker.reader.frame(at: worker.position)  // seeks to the chunk's keyframe
                    worker.positioned = true
                }
                frame.pixels.withUnsafeBufferPointer {
                    worker.resizer.resize($0, width: frame.width, height: frame.height, channels: frame.channels,
                                          into: destination + n * planeSize)
                }
                if keepOriginals {
                    originals.append(HostImage(width: frame.width, height: frame.height, channels: frame.channels, pixels: frame.pixels))
                }
                worker.position += 1
            }
            if worker.position == worker.chunks[0].upperBound && worker.chunks.count == 1 { worker.chunks.removeAll() }
        } catch {
            worker.failure = error
        }
    }

    /// After the last frame of a whole video: a cut file reports `.truncated`, as reading on would.
    private func checkEnd() throws {
        guard readsToEnd, !checkedEnd else { return }
        checkedEnd = true
        // The worker that decoded the last frame reads on; with no frames at all, a fresh read does.
        let last = workers.first { $0.position == total && $0.positioned } ?? workers[0]
        if total == 0 || last.position == total { _ = try last.reader.nextFrame() }
    }

    func finish() {}
    func stop() {}
}

/// How a video is cut for decoding on several threads.
public enum VideoSegments {
    /// Chunks of whole groups of pictures (each starts at a keyframe, where decoding can begin),
    /// covering `0..<total` in order. Groups are merged until a chunk holds at least `minimumLength`
    /// frames and about 1/16 of a worker's share, so that seeks stay rare on long videos while the
    /// last chunks are small enough for the workers to finish together.
    public static func chunks(keyframes: [Int], total: Int, workers: Int, minimumLength: Int) -> [Range<Int>] {
        guard total > 0 else { return [] }
        let target = max(minimumLength, total / (16 * max(1, workers)))
        let starts = [0] + keyframes.filter { $0 > 0 && $0 < total }
        var chunks: [Range<Int>] = []
        var start = 0
        for (i, keyframe) in starts.enumerated() where i > 0 && keyframe - start >= target && total - keyframe >= minimumLength {
            chunks.append(start..<keyframe)
            start = keyframe
        }
        chunks.append(start..<total)
        return chunks
    }
}

/// A pointer handed to the chunks of one `parallelFor`, each of which writes a disjoint part.
private struct UncheckedPointer<T>: @unchecked Sendable {
    let pointer: UnsafeMutablePointer<T>
    init(_ pointer: UnsafeMutablePointer<T>) { self.pointer = pointer }
}
