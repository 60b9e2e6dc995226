// Unlabelled video clips for semi-supervised training (LP reference §5.2–5.3): contiguous clips at
// random positions of every video, decoded exactly (VideoIO's frame index), resized to the model
// size and augmented once per clip, on background threads a bounded number of clips ahead.
import Foundation
import VideoIO

// MARK: - Clips

/// Which clip number `n` of a source is: its video, first frame and augmentation. A pure function of
/// the source's seed and `n`, whatever thread decodes it.
public struct UnlabeledClipSpec: Sendable, Equatable {
    /// Position in the source's endless sequence of clips.
    public var number: Int
    /// Index into `UnlabeledClipSource.videos`.
    public var video: Int
    /// First frame (presentation order, 0-based).
    public var start: Int
    /// Frames in the clip.
    public var length: Int
    public var augmentation: ClipAugmentation

    public init(number: Int, video: Int, start: Int, length: Int, augmentation: ClipAugmentation) {
        self.number = number
        self.video = video
        self.start = start
        self.length = length
        self.augmentation = augmentation
    }

    /// The frames of the clip, in order.
    public var frames: Range<Int> { start..<(start + length) }
}

/// One decoded, resized and augmented clip.
public struct UnlabeledClip: Sendable {
    public var spec: UnlabeledClipSpec
    /// The video file.
    public var path: String
    /// The video's frame size (original pixels, what the keypoints map back to).
    public var frameWidth: Int
    public var frameHeight: Int
    /// `length × 3 × H × W` at the model size, ImageNet-normalised (the layout of `PoseBatch.images`).
    public var images: [Float]

    public var augmentation: ClipAugmentation { spec.augmentation }

    /// Augmented model pixels → original frame pixels (§5.3), as a 2×3 map.
    public var augmentedToFrame: Affine2D {
        spec.augmentation.augmentedToFrame(frameWidth: frameWidth, frameHeight: frameHeight)
    }

    /// Keypoints predicted on this clip's frames (`[x, y, …]` in augmented model pixels, any layout of
    /// frames × keypoints) in original frame pixels; NaN stays NaN.
    public func mapToFrame(_ points: [Float]) -> [Float] {
        spec.augmentation.mapToFrame(points, frameWidth: frameWidth, frameHeight: frameHeight)
    }
}

/// The clips of one training step, with how long the consumer waited for them.
public struct UnlabeledClipBatch: Sendable {
    /// 0 for the first batch taken from the stream.
    public var number: Int
    public var clips: [UnlabeledClip]
    /// Seconds `next()` blocked waiting for the decoding threads (0 when they were ahead).
    public var idleSeconds: Double
}

// MARK: - Source: the videos and the clip schedule

/// The videos clips are drawn from, and which clip comes when. Opening indexes every video once;
/// after that the source is a pure description (Sendable): clip `n` is always the same clip.
///
/// Schedule: an epoch visits every video once per `clipLength` frames — each video holds
/// `⌊frames / clipLength⌋` non-overlapping clip slots, shifted by a random offset per video and epoch,
/// and the epoch visits all slots of all videos in a seeded random order. So every video is
/// sampled in proportion to its length (as LP's shuffled DALI reader does), every part of it once
/// per epoch, and positions differ between epochs.
public struct UnlabeledClipSource: Sendable {
    /// The videos clips are taken from (those at least one clip long), in the order given.
    public let videos: [VideoInfo]
    /// One line per video that was left out or is only partly used (e.g. shorter than a clip).
    public let notes: [String]
    public let clipLength: Int
    public let modelWidth: Int
    public let modelHeight: Int
    public let seed: Int
    public let augmentation: ClipAugmentationSettings
    /// Camera views per clip (separate cameras), else 1; `videos` then holds each session's views in turn.
    public let views: Int
    /// Readers each decoding thread keeps open (least recently used ones are closed).
    public var openReadersPerThread = 4
    let indexed: [IndexedVideo]
    private let schedule: ClipSchedule

    /// Opens and indexes `paths` (on this thread). With `views` > 1 the paths are sessions of separate cameras, view
    /// after view (session s's view v at s·views + v; `ViewSession`): a clip is then one position in a session, taken
    /// from every view at the same frames, each view with its own augmentation.
    /// - Throws: `PoseDataError` naming a file that cannot be opened as a video, a session whose views differ in
    ///   frame count, or when no video is at least one clip long.
    public init(
        videos paths: [String], clipLength: Int = 32, modelWidth: Int, modelHeight: Int, seed: Int = 0,
        augmentation: ClipAugmentationSettings = .resizeOnly, views: Int = 1
    ) throws {
        guard clipLength > 0, modelWidth > 0, modelHeight > 0, views > 0, paths.count % views == 0 else {
            throw PoseDataError(
                file: "unlabelled clips",
                message:
                    "clip length \(clipLength) and model size \(modelWidth)x\(modelHeight) must be positive, with every view of each session"
            )
        }
        var indexed: [IndexedVideo] = [], notes: [String] = []
        for first in stride(from: 0, to: paths.count, by: views) {
            var session: [IndexedVideo] = []
            for path in paths[first..<(first + views)] {
                do {
                    session.append(try VideoReader(path: path, output: FrameOutput(pixelFormat: .rgb24), decoderThreads: 1).indexed)
                } catch {
                    var reason = String(describing: error)
                    if reason.hasPrefix(path + ": ") { reason.removeFirst(path.count + 2) }
                    throw PoseDataError(
                        file: path, message: "cannot be read as unlabelled video: \(reason)",
                        hint: "re-encode it or move it out of the unlabelled videos")
                }
            }
            let counts = session.map(\.info.frameCount), path = paths[first]
            guard Set(counts).count == 1 else {
                let listed = zip(paths[first..<(first + views)], counts).map { "\(($0 as NSString).lastPathComponent) \($1)" }
                throw PoseDataError(
                    file: path, message: "the views of this session differ in frame count (\(listed.joined(separator: ", ")))",
                    hint: "the cameras' videos must hold the same instants; trim them to the same frames")
            }
            let frames = counts[0]
            if frames < clipLength {
                notes.append("\(path): \(frames) frames, shorter than one \(clipLength)-frame clip: not used for unlabelled clips")
                continue
            }
            for (video, p) in zip(session, paths[first..<(first + views)]) where video.info.damage != nil {
                notes.append("\(p): cut off; unlabelled clips use its \(frames) decodable frames (0-\(frames - 1))")
            }
            indexed += session
        }
        guard !indexed.isEmpty else {
            throw PoseDataError(
                file: paths.count == 1 ? paths[0] : "unlabelled videos",
                message: paths.isEmpty ? "no videos given" : "no video is at least one \(clipLength)-frame clip long",
                hint: "give longer videos or a shorter clip length")
        }
        self.indexed = indexed
        self.videos = indexed.map(\.info)
        self.notes = notes
        self.clipLength = clipLength
        self.modelWidth = modelWidth
        self.modelHeight = modelHeight
        self.seed = seed
        self.augmentation = augmentation
        self.views = views
        self.schedule = ClipSchedule(
            frameCounts: stride(from: 0, to: indexed.count, by: views).map { indexed[$0].info.frameCount }, clipLength: clipLength,
            seed: UInt64(bitPattern: Int64(seed)))
    }

    /// The same for every video file in `folder` (by extension, as `PoseConfig.videoExtensions`), sorted by name.
    public init(
        folder: String, clipLength: Int = 32, modelWidth: Int, modelHeight: Int, seed: Int = 0,
        augmentation: ClipAugmentationSettings = .resizeOnly
    ) throws {
        try self.init(
            videos: try Self.videos(inFolder: folder), clipLength: clipLength, modelWidth: modelWidth,
            modelHeight: modelHeight, seed: seed, augmentation: augmentation)
    }

    /// The clips a project's config asks for: the videos of `folder` (default: `data.video_dir`) at the
    /// model size `data.image_resize_dims`, with LP's clip augmentation when `training.imgaug` is `dlc` or
    /// `dlc-top-down` (§5.2), else resize only.
    public init(config: PoseConfig, folder: String? = nil, clipLength: Int = 32, seed: Int = 0) throws {
        guard let folder = folder ?? config.data.videoDir else {
            throw PoseDataError(
                file: config.configFile.isEmpty ? "config" : config.configFile,
                message: "sets no data.video_dir, so there are no videos for unlabelled clips",
                hint: "set data.video_dir or give a folder of unlabelled videos")
        }
        let views = config.cameraViews
        guard !views.isEmpty else {
            try self.init(
                folder: folder, clipLength: clipLength, modelWidth: config.resizeWidth, modelHeight: config.resizeHeight,
                seed: seed, augmentation: .forImgaug(config.training.imgaug))
            return
        }
        // Separate cameras: the folder's videos by session, each session's views in view order.
        let sessions = try ViewSession.group(try Self.videos(inFolder: folder), views: views)
        try self.init(
            videos: sessions.flatMap(\.videos), clipLength: clipLength, modelWidth: config.resizeWidth,
            modelHeight: config.resizeHeight, seed: seed, augmentation: .forImgaug(config.training.imgaug), views: views.count)
    }

    /// The video files in `folder`, sorted absolute paths.
    /// - Throws: `PoseDataError` when the folder is missing or holds no video files.
    public static func videos(inFolder folder: String) throws -> [String] {
        var isFolder: ObjCBool = false
        guard FileManager.default.fileExists(atPath: folder, isDirectory: &isFolder), isFolder.boolValue else {
            throw PoseDataError(file: folder, message: "no such folder of unlabelled videos", hint: "check the path")
        }
        let names = (try? FileManager.default.contentsOfDirectory(atPath: folder)) ?? []
        let videos = names.filter { PoseConfig.videoExtensions.contains(($0 as NSString).pathExtension.lowercased()) }.sorted()
        guard !videos.isEmpty else {
            throw PoseDataError(
                file: folder, message: "holds no video files",
                hint: "unlabelled clips are read from \(PoseConfig.videoExtensions.sorted().joined(separator: ", ")) files")
        }
        return videos.map { (folder as NSString).appendingPathComponent($0) }
    }

    /// Clips per epoch: every video's non-overlapping clip slots.
    public var clipsPerEpoch: Int { schedule.total }

    /// Clip number `n` (of view `view` for separate cameras): video, first frame and augmentation. The views of a
    /// clip share the session and frames; each draws its own augmentation.
    public func spec(ofClip n: Int, view: Int = 0) -> UnlabeledClipSpec {
        let (session, start) = schedule.position(ofClip: n)
        var seed = mixSeeds(UInt64(bitPattern: Int64(self.seed)) ^ 0xC11B_5EED, UInt64(n))
        if view > 0 { seed = mixSeeds(seed, UInt64(view)) }
        var rng = MersenneTwister(seed: seed)
        let augmentation = ClipAugmentation.draw(augmentation, modelWidth: modelWidth, modelHeight: modelHeight, rng: &rng)
        return UnlabeledClipSpec(number: n, video: session * views + view, start: start, length: clipLength, augmentation: augmentation)
    }

    /// A decoder for one thread (the stream's workers use one each; a caller may decode clips itself).
    public func makeDecoder(decoderThreads: Int = 1) -> UnlabeledClipDecoder {
        UnlabeledClipDecoder(source: self, decoderThreads: decoderThreads)
    }
}

/// The epoch plans behind `UnlabeledClipSource.spec`: computed once per epoch (a shuffle of all
/// slots) and cached, since the decoding threads ask for neighbouring clips.
final class ClipSchedule: @unchecked Sendable {
    let total: Int
    private let frameCounts: [Int]
    private let clipLength: Int
    private let seed: UInt64
    /// Slots of the videos before video `v` (prefix sums), and the slot count after the last.
    private let firstSlot: [Int]
    private let lock = NSLock()
    /// The most recent epoch plans (guarded by `lock`).
    private var plans: [(epoch: Int, order: [Int], offsets: [Int])] = []

    init(frameCounts: [Int], clipLength: Int, seed: UInt64) {
        self.frameCounts = frameCounts
        self.clipLength = clipLength
        self.seed = seed
        var first = [0]
        for count in frameCounts { first.append(first.last! + count / clipLength) }
        firstSlot = first
        total = first.last!
    }

    func position(ofClip n: Int) -> (video: Int, start: Int) {
        let epoch = n / total, plan = self.plan(epoch: epoch)
        let slot = plan.order[n % total]
        var low = 0, high = frameCounts.count - 1  // the video whose slots hold `slot`
        while low < high {
            let middle = (low + high + 1) / 2
            if firstSlot[middle] <= slot { low = middle } else { high = middle - 1 }
        }
        return (low, plan.offsets[low] + (slot - firstSlot[low]) * clipLength)
    }

    private func plan(epoch: Int) -> (order: [Int], offsets: [Int]) {
        lock.lock()
        defer { lock.unlock() }
        if let cached = plans.first(where: { $0.epoch == epoch }) { return (cached.order, cached.offsets) }
        var rng = MersenneTwister(seed: mixSeeds(seed, UInt64(epoch)))
        func below(_ n: Int) -> Int { Int((UInt64(rng.next()) << 32 | UInt64(rng.next())) % UInt64(n)) }
        let offsets = frameCounts.map { below($0 - ($0 / clipLength) * clipLength + 1) }
        var order = Array(0..<total)
        for i in stride(from: total - 1, to: 0, by: -1) { order.swapAt(i, below(i + 1)) }
        plans.append((epoch, order, offsets))
        if plans.count > 2 { plans.removeFirst() }
        return (order, offsets)
    }
}

// MARK: - Decoding clips on one thread

/// Decodes, resizes and augments clips of a source on the calling thread. Keeps a few readers
/// open (least recently used closed first) and its scratch buffers between clips. Not thread-safe:
/// one per thread.
public final class UnlabeledClipDecoder {
    private let source: UnlabeledClipSource
    private let decoderThreads: Int
    private var readers: [(video: Int, reader: VideoReader)] = []
    private var resizer: PredictionResizer
    private var augmenter: ClipAugmenter
    private var scratch: [Float]

    init(source: UnlabeledClipSource, decoderThreads: Int) {
        self.source = source
        self.decoderThreads = decoderThreads
        resizer = PredictionResizer(outputWidth: source.modelWidth, outputHeight: source.modelHeight)
        augmenter = ClipAugmenter(width: source.modelWidth, height: source.modelHeight)
        scratch = [Float](repeating: 0, count: 3 * source.modelWidth * source.modelHeight)
    }

    /// Clip number `n` of the source.
    public func clip(number n: Int) throws -> UnlabeledClip {
        try decode(source.spec(ofClip: n))
    }

    /// Decodes `spec`'s frames exactly, resizes them as prediction does (`PredictionResizer`) and
    /// augments them; writes into `buffer` when it is uniquely held (no allocation).
    /// - Throws: `VideoError` (one line naming the file and frame) when decoding fails.
    public func decode(_ spec: UnlabeledClipSpec, reusing buffer: consuming [Float] = []) throws -> UnlabeledClip {
        let W = source.modelWidth, H = source.modelHeight, plane = 3 * W * H
        var images = consume buffer
        if images.count != spec.length * plane { images = [Float](repeating: 0, count: spec.length * plane) }
        let reader = try self.reader(for: spec.video)
        let augmented = !(spec.augmentation.isGeometricIdentity && spec.augmentation.isPhotometricIdentity)
        var size = (width: 0, height: 0)
        for t in 0..<spec.length {
            let frame = try reader.frame(at: spec.start + t)
            size = (frame.width, frame.height)
            images.withUnsafeMutableBufferPointer { out in
                scratch.withUnsafeMutableBufferPointer { scratch in
                    frame.pixels.withUnsafeBufferPointer { pixels in
                        let target = out.baseAddress! + t * plane
                        resizer.resize(
                            pixels, width: frame.width, height: frame.height, channels: frame.channels,
                            into: augmented ? scratch.baseAddress! : target)
                        if augmented {
                            augmenter.apply(spec.augmentation, frame: t, source: scratch.baseAddress!, into: target)
                        }
                    }
                }
            }
        }
        return UnlabeledClip(
            spec: spec, path: reader.path, frameWidth: size.width, frameHeight: size.height, images: images)
    }

    private func reader(for video: Int) throws -> VideoReader {
        if let i = readers.firstIndex(where: { $0.video == video }) {
            let entry = readers.remove(at: i)
            readers.append(entry)
            return entry.reader
        }
        let reader = try source.indexed[video].open(output: FrameOutput(pixelFormat: .rgb24), decoderThreads: decoderThreads)
        readers.append((video, reader))
        if readers.count > max(1, source.openReadersPerThread) { readers.removeFirst() }
        return reader
    }
}

// MARK: - Stream: decoding on background threads

/// How the stream has run so far.
public struct UnlabeledClipStatistics: Sendable, Equatable {
    /// Batches and clips handed to the consumer.
    public var batches = 0
    public var clips = 0
    /// Seconds the consumer waited in `next()`, in all and at most for one batch.
    public var idleSeconds = 0.0
    public var maxIdleSeconds = 0.0
    /// The most clips that were being decoded or waiting for the consumer at once (at most `clipsInFlight`).
    public var maxClipsInFlight = 0
    /// Clip buffers allocated (the rest were reused through `recycle`).
    public var buffersAllocated = 0
}

/// Batches of unlabelled clips, decoded by `workers` background threads at most `clipsInFlight`
/// clips ahead of the consumer, and handed out in clip order: batch `j` holds clips
/// `j·clipsPerBatch ..< (j+1)·clipsPerBatch` of the source, so the sequence does not depend on
/// thread timing. Memory stays bounded: at most `clipsInFlight` clips are being decoded or waiting,
/// and buffers given back with `recycle` are reused. Endless; `stop()` (or releasing the stream)
/// ends the threads. One consumer.
public final class UnlabeledClipStream: @unchecked Sendable {
    public let source: UnlabeledClipSource
    public let clipsPerBatch: Int
    public let clipsInFlight: Int
    private let handoff: OrderedHandoff<UnlabeledClip>
    private let gate: InFlightGate
    private let pool: ClipBufferPool
    // Consumer-side state (one consumer).
    private var batchesTaken = 0
    private var consumerStatistics = UnlabeledClipStatistics()

    /// Starts `workers` decoding threads at once.
    /// - Parameters:
    ///   - clipsInFlight: clips decoded or waiting at most (default: enough for every worker and two batches).
    ///   - firstClip: the clip number to start from (resuming a run).
    ///   - clipStride: take every `clipStride`-th clip from `firstClip` on (rank r of n data-parallel ranks: firstClip
    ///     r, stride n, so the ranks share the sequence without overlap).
    public init(
        source: UnlabeledClipSource, clipsPerBatch: Int = 1, workers: Int = 2, clipsInFlight: Int? = nil,
        firstClip: Int = 0, clipStride: Int = 1, decoderThreads: Int = 1
    ) {
        let workers = max(1, workers)
        self.source = source
        self.clipsPerBatch = max(1, clipsPerBatch)
        self.clipsInFlight = max(1, clipsInFlight ?? max(2, workers, 2 * self.clipsPerBatch))
        let handoff = OrderedHandoff<UnlabeledClip>(jobCount: nil, capacity: self.clipsInFlight)
        let gate = InFlightGate(capacity: self.clipsInFlight)
        let pool = ClipBufferPool(limit: self.clipsInFlight + self.clipsPerBatch)
        self.handoff = handoff
        self.gate = gate
        self.pool = pool
        for worker in 0..<workers {
            startWorker(name: "kinema.unlab.\(worker)") {
                let decoder = source.makeDecoder(decoderThreads: decoderThreads)
                while gate.enter() {
                    guard let job = handoff.claim() else { gate.leave(); break }
                    // A job is one view of a clip: a clip's views are consecutive jobs (a batch of `views` clips).
                    let views = source.views
                    let spec = source.spec(ofClip: firstClip + job / views * max(1, clipStride), view: job % views)
                    let buffer = pool.take()
                    let storage = buffer.withUnsafeBufferPointer { $0.baseAddress }
                    do {
                        let clip = try decoder.decode(spec, reusing: consume buffer)
                        // Counted where it happens: a new size, or a buffer the consumer still holds, is copied.
                        if clip.images.withUnsafeBufferPointer({ $0.baseAddress }) != storage { pool.countAllocation() }
                        handoff.deliver(job, .success(clip))
                    } catch {
                        handoff.deliver(job, .failure(error))
                    }
                }
            }
        }
    }

    deinit { stop() }

    /// The next batch, waiting for the decoding threads if they are behind; nil after `stop()`.
    /// - Throws: the first decoding error (one line naming the file and frame); the stream then ends.
    public func next() throws -> UnlabeledClipBatch? {
        var clips: [UnlabeledClip] = []
        clips.reserveCapacity(clipsPerBatch)
        var idle = 0.0
        while clips.count < clipsPerBatch {
            let waitStart = DispatchTime.now().uptimeNanoseconds
            let taken: UnlabeledClip?
            do {
                taken = try handoff.take()
            } catch {
                gate.leave()
                stop()
                throw error
            }
            idle += Double(DispatchTime.now().uptimeNanoseconds - waitStart) / 1e9
            guard let clip = taken else { return nil }
            gate.leave()
            clips.append(clip)
        }
        let batch = UnlabeledClipBatch(number: batchesTaken, clips: clips, idleSeconds: idle)
        batchesTaken += 1
        consumerStatistics.batches += 1
        consumerStatistics.clips += clips.count
        consumerStatistics.idleSeconds += idle
        consumerStatistics.maxIdleSeconds = max(consumerStatistics.maxIdleSeconds, idle)
        return batch
    }

    /// Gives a batch's buffers back for reuse, once its images are no longer needed (e.g. copied into a tensor).
    public func recycle(_ batch: consuming UnlabeledClipBatch) {
        var clips = batch.clips
        while let clip = clips.popLast() { pool.give(clip.images) }
    }

    /// Stops the decoding threads (after their current clip); `next()` then returns nil.
    public func stop() {
        handoff.stop()
        gate.stop()
    }

    /// Counters so far (the bench prints the idle time).
    public var statistics: UnlabeledClipStatistics {
        var s = consumerStatistics
        s.maxClipsInFlight = gate.maxInFlight
        s.buffersAllocated = pool.allocated
        return s
    }
}

/// Permits for clips in flight: a worker takes one before claiming a clip, the consumer returns it
/// when it takes the clip, so the count is exact (the hand-off's own bound lags by one take).
private final class InFlightGate: @unchecked Sendable {
    private let condition = NSCondition()
    private let capacity: Int
    private var inFlight = 0
    private var highest = 0
    private var stopped = false

    init(capacity: Int) { self.capacity = capacity }

    /// Waits for a permit; false once stopped.
    func enter() -> Bool {
        condition.lock()
        defer { condition.unlock() }
        while !stopped && inFlight >= capacity { condition.wait() }
        guard !stopped else { return false }
        inFlight += 1
        highest = max(highest, inFlight)
        return true
    }

    func leave() {
        condition.lock()
        inFlight = max(0, inFlight - 1)
        condition.broadcast()
        condition.unlock()
    }

    func stop() {
        condition.lock()
        stopped = true
        condition.broadcast()
        condition.unlock()
    }

    var maxInFlight: Int {
        condition.lock()
        defer { condition.unlock() }
        return highest
    }
}

/// Clip buffers given back by the consumer, for the workers to fill again.
private final class ClipBufferPool: @unchecked Sendable {
    private let lock = NSLock()
    private let limit: Int
    private var buffers: [[Float]] = []
    private var fresh = 0

    init(limit: Int) { self.limit = limit }

    /// A returned buffer, or an empty array that the decoder will allocate.
    func take() -> [Float] {
        lock.lock()
        defer { lock.unlock() }
        return buffers.popLast() ?? []
    }

    func countAllocation() {
        lock.lock()
        fresh += 1
        lock.unlock()
    }

    func give(_ buffer: consuming [Float]) {
        lock.lock()
        defer { lock.unlock() }
        if buffers.count < limit { buffers.append(buffer) }
    }

    var allocated: Int {
        lock.lock()
        defer { lock.unlock() }
        return fresh
    }
}
