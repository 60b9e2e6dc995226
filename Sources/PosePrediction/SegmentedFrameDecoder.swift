// The "between" decode schedule: each batch is decoded just before its network pass, on libtorch's
// own threads, each thread working through its own run of whole groups of pictures.
import Foundation
import PoseData
import PoseModels
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
        let frames: ResizingReader
        var chunks: [Range<Int>] = []
        /// Next frame to decode, inside `chunks[0]`.
        var position = 0
        var failure: (any Error)?
        /// Frames decoded in the current batch (fewer than its share after a failure).
        var produced = 0
        var cpuSeconds = 0.0
        init(_ frames: ResizingReader) { self.frames = frames }
        var remaining: Int { chunks.isEmpty ? 0 : chunks.dropFirst().reduce(chunks[0].upperBound - position) { $0 + $1.count } }

        func take(_ chunk: Range<Int>) {
            if chunks.isEmpty { position = chunk.lowerBound }
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

    /// What the planner (between batches) and the gap filler (any time) share, under `condition`.
    private final class Shared: @unchecked Sendable {
        let condition = NSCondition()
        /// Chunks nobody has started, in video order.
        var pool: ArraySlice<Range<Int>>
        /// Frames the gap filler finished, with their normalised planes.
        var ready: [(frame: Int, planes: [Float])] = []
        /// The gap filler's chunk: it decodes `next` (in progress) up to `limit` (lowered when the
        /// planner takes the rest over).
        var next = 0, limit = 0
        var stopped = false
        var failure: (any Error)?
        var fillerCPUSeconds = 0.0
        init(pool: [Range<Int>]) { self.pool = pool[...] }
    }

    let info: VideoInfo
    private let workers: [Worker]
    private let shared: Shared
    /// The reader the others were opened from, for the end-of-file check.
    private let firstReader: VideoReader
    private let batchSize: Int
    private let planeSize: Int
    private let keepOriginals: Bool
    /// True when the whole video is read, so a cut file must report `.truncated` at its end.
    private let readsToEnd: Bool
    private let total: Int
    private var checkedEnd = false
    /// A worker's error, thrown by the `next()` after the batch of the frames decoded before it.
    private var pendingFailure: (any Error)?

    var decodeCPUSeconds: Double {
        workers.reduce(0) { $0 + $1.cpuSeconds } + shared.condition.withLock { shared.fillerCPUSeconds }
    }

    /// - Parameters:
    ///   - workers: decoding threads (libtorch's thread count; 1 keeps frames in order).
    ///   - fillGaps: also decode on a `SCHED_IDLE` thread while the network runs (not with originals).
    init(
        path: String, batchSize: Int, outputWidth: Int, outputHeight: Int, keepOriginals: Bool,
        workers wanted: Int, fillGaps: Bool = false, frameLimit: Int? = nil
    ) throws {
        // Opened here so that a missing or broken file throws to the caller.
        let first = try VideoReader(path: path, output: FrameOutput(pixelFormat: .rgb24), decoderThreads: 1)
        info = first.info
        self.batchSize = max(1, batchSize)
        planeSize = 3 * outputWidth * outputHeight
        self.keepOriginals = keepOriginals
        total = min(first.frameCount, frameLimit ?? Int.max)
        readsToEnd = frameLimit == nil || frameLimit! >= first.frameCount
        let chunks = VideoSegments.chunks(
            keyframes: first.keyframes, total: total, workers: max(1, wanted),
            minimumLength: 2 * self.batchSize)
        let count = max(1, min(wanted, chunks.count))
        var workers: [Worker] = []
        for i in 0..<count {
            let reader = i == 0 ? first : try first.sibling(decoderThreads: 1)
            workers.append(Worker(ResizingReader(reader, outputWidth: outputWidth, outputHeight: outputHeight)))
        }
        self.workers = workers
        firstReader = first
        shared = Shared(pool: chunks)
        if fillGaps && !keepOriginals && chunks.count > count {
            try startGapFiller(reader: first.sibling(decoderThreads: 1), outputWidth: outputWidth, outputHeight: outputHeight)
        }
    }

    deinit { stop() }

    /// The gap filler: a `SCHED_IDLE` thread that decodes whole chunks while the network runs, using
    /// the cores libtorch leaves idle (its serial stretches; ~15 % of two cores for the default U-Net)
    /// and nothing else: any other thread preempts it at once. The planner takes its finished frames
    /// first and, when the rest of the video is short, takes over its unfinished chunk instead of
    /// waiting for it, so a machine too busy to leave idle time never waits for the filler.
    private func startGapFiller(reader: VideoReader, outputWidth: Int, outputHeight: Int) {
        let shared = self.shared, capacity = 2 * batchSize, plane = planeSize
        let transfer = ThreadTransfer(reader)
        startWorker(name: "kinema.gapfill") {
            applyPriority(.idle)
            let cpuStart = threadCPUSeconds()
            guard let reader = transfer.take() else { return }
            let frames = ResizingReader(reader, outputWidth: outputWidth, outputHeight: outputHeight)
            shared.condition.lock()
            while true {
                while !shared.stopped && shared.ready.count >= capacity { shared.condition.wait() }
                if shared.stopped { break }
                if shared.next >= shared.limit {
                    guard let chunk = shared.pool.popFirst() else { break }
                    shared.next = chunk.lowerBound
                    shared.limit = chunk.upperBound
                }
                let frameNumber = shared.next
                shared.condition.unlock()
                var planes: [Float] = []
                var failure: (any Error)?
                do {
                    planes = try [Float](unsafeUninitializedCapacity: plane) { buffer, initialized in
                        try frames.decode(frameNumber, into: buffer.baseAddress!)
                        initialized = plane
                    }
                } catch {
                    failure = error
                }
                shared.condition.lock()
                shared.fillerCPUSeconds = threadCPUSeconds() - cpuStart
                if frameNumber < shared.limit {  // not taken over meanwhile
                    if let failure { shared.failure = failure; shared.limit = frameNumber; break }
                    shared.ready.append((frameNumber, planes))
                    shared.next = frameNumber + 1
                }
                shared.condition.broadcast()
            }
            shared.condition.broadcast()
            shared.condition.unlock()
        }
    }

    /// Takes the gap filler's finished frames, gives chunks to workers and returns the filler's frames
    /// and each worker's share of the rest of the batch: equal shares, a worker short of frames taking
    /// more chunks, and what none can take moved to those with spare.
    private func plan() throws -> (filled: [(frame: Int, planes: [Float])], quota: [Int]) {
        shared.condition.lock()
        defer { shared.condition.unlock() }
        if let failure = shared.failure { throw failure }
        let filled = Array(shared.ready.prefix(batchSize))
        shared.ready.removeFirst(filled.count)
        shared.condition.broadcast()
        for worker in workers where worker.chunks.isEmpty {
            guard let chunk = shared.pool.popFirst() else { break }
            worker.take(chunk)
        }
        var left = workers.reduce(0) { $0 + $1.remaining } + shared.pool.reduce(0) { $0 + $1.count }
        // Near the end, the filler's unfinished chunk goes to a worker (from the frame in progress,
        // whose result the filler then drops) rather than being waited for.
        if left < batchSize - filled.count && shared.next < shared.limit {
            let rest = shared.next..<shared.limit
            shared.limit = shared.next
            workers.min { $0.remaining < $1.remaining }!.take(rest)
            left += rest.count
        }
        let count = min(batchSize - filled.count, left)
        var quota = workers.indices.map { count / workers.count + ($0 < count % workers.count ? 1 : 0) }
        var deficit = 0
        for (i, worker) in workers.enumerated() {
            while worker.remaining < quota[i], let chunk = shared.pool.popFirst() { worker.take(chunk) }
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
        return (filled, quota)
    }

    func next() throws -> FrameBatch? {
        if let pendingFailure { throw pendingFailure }
        let (filled, quota) = try plan()
        let count = filled.count + quota.reduce(0, +)
        guard count > 0 else {
            try checkEnd()
            return nil
        }
        var offsets = [filled.count]
        for q in quota { offsets.append(offsets.last! + q) }
        let frameNumbers = filled.map(\.frame) + zip(workers, quota).flatMap { $0.upcoming($1) }

        var originals = [[HostImage]](repeating: [], count: workers.count)
        let images = try originals.withUnsafeMutableBufferPointer { slots in
            // Each chunk of the loop writes only its own workers' slots and part of the batch.
            let perWorker = UncheckedPointer(slots.baseAddress!)
            return try [Float](unsafeUninitializedCapacity: count * planeSize) { buffer, initialized in
                let base = UncheckedPointer(buffer.baseAddress!)
                for (i, frame) in filled.enumerated() {
                    frame.planes.withUnsafeBufferPointer { (base.pointer + i * planeSize).update(from: $0.baseAddress!, count: planeSize) }
                }
                for worker in workers { worker.produced = 0 }
                try Runtime.parallelFor(workers.count) { range in
                    for i in range where quota[i] > 0 {
                        self.decode(
                            worker: self.workers[i], count: quota[i], into: base.pointer + offsets[i] * self.planeSize,
                            originals: &perWorker.pointer[i])
                    }
                }
                initialized = count * planeSize
            }
        }
        guard let failure = workers.lazy.compactMap(\.failure).first else {
            return FrameBatch(images: images, originals: keepOriginals ? originals.flatMap { $0 } : [], frameNumbers: frameNumbers)
        }
        // The frames decoded before the error go to the network first (a cut file keeps every frame before
        // the cut, as in the `ahead` schedule); the next call throws it.
        pendingFailure = failure
        var keptImages = Array(images[..<(filled.count * planeSize)])
        var keptFrames = Array(frameNumbers[..<filled.count])
        for (i, worker) in workers.enumerated() {
            keptImages += images[(offsets[i] * planeSize)..<((offsets[i] + worker.produced) * planeSize)]
            keptFrames += frameNumbers[offsets[i]..<(offsets[i] + worker.produced)]
        }
        guard !keptFrames.isEmpty else { throw failure }
        return FrameBatch(images: keptImages, originals: keepOriginals ? originals.flatMap { $0 } : [], frameNumbers: keptFrames)
    }

    /// Decodes the worker's next `count` frames into `destination` (runs on a libtorch thread).
    private func decode(
        worker: Worker, count: Int, into destination: UnsafeMutablePointer<Float>,
        originals: inout [HostImage]
    ) {
        guard worker.failure == nil else { return }
        let cpuStart = threadCPUSeconds()
        defer { worker.cpuSeconds += threadCPUSeconds() - cpuStart }
        do {
            for n in 0..<count {
                if worker.position == worker.chunks[0].upperBound {
                    worker.chunks.removeFirst()
                    worker.position = worker.chunks[0].lowerBound
                }
                let frame = try worker.frames.decode(worker.position, into: destination + n * planeSize)
                if keepOriginals {
                    originals.append(HostImage(width: frame.width, height: frame.height, channels: frame.channels, pixels: frame.pixels))
                }
                worker.position += 1
                worker.produced += 1
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
        // The worker that decoded the last frame reads on; else (no frames, or the gap filler had the
        // last chunk) the first reader goes there.
        if let last = workers.first(where: { $0.frames.last == total - 1 }) {
            _ = try last.frames.reader.nextFrame()
            return
        }
        if total > 0 { _ = try firstReader.frame(at: total - 1) }
        _ = try firstReader.nextFrame()
    }

    func finish() {}

    func stop() {
        shared.condition.withLock {
            shared.stopped = true
            shared.condition.broadcast()
        }
    }
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

/// A reader that decodes any frame into the model's normalised planes, reading on when the frame
/// follows the last one given and seeking (to the keyframe before it) otherwise.
private final class ResizingReader {
    let reader: VideoReader
    private var resizer: PredictionResizer
    /// The frame the reader gave last (−1: none yet).
    private(set) var last = -1

    init(_ reader: VideoReader, outputWidth: Int, outputHeight: Int) {
        self.reader = reader
        resizer = PredictionResizer(outputWidth: outputWidth, outputHeight: outputHeight)
    }

    /// Decodes frame `n` and writes its `3 × H × W` planes to `destination`; returns the frame.
    @discardableResult
    func decode(_ n: Int, into destination: UnsafeMutablePointer<Float>) throws -> Frame {
        let frame: Frame
        if n == last + 1 {
            guard let next = try reader.nextFrame() else {
                throw PoseModelError("\(reader.path): frame \(n) could not be decoded although the file's index lists it")
            }
            frame = next
        } else {
            frame = try reader.frame(at: n)
        }
        last = n
        frame.pixels.withUnsafeBufferPointer {
            resizer.resize($0, width: frame.width, height: frame.height, channels: frame.channels, into: destination)
        }
        return frame
    }
}

/// A pointer handed to the chunks of one `parallelFor`, each of which writes a disjoint part.
private struct UncheckedPointer<T>: @unchecked Sendable {
    let pointer: UnsafeMutablePointer<T>
    init(_ pointer: UnsafeMutablePointer<T>) { self.pointer = pointer }
}
