// The "between" decode schedule: each batch is decoded just before its network pass, on libtorch's
// own threads, one video segment per thread.
import Foundation
import PoseData
import Torch
import VideoIO

/// Decodes prediction batches on libtorch's intra-op threads between network passes.
///
/// The video is cut at keyframes into one segment per thread, and every batch takes frames from all
/// segments, each decoded, converted and resized by its own thread in one `Runtime.parallelFor`. On a
/// CPU whose cores all run the network this beats a decode thread running alongside it: that thread
/// can only take a core from one of libtorch's threads in the middle of a parallel region while the
/// other waits, and libtorch's threads spin while the decoder works (docs/arch/pose.md). Here both
/// kinds of work use every core in turn and no thread waits for another.
///
/// Segments get frames in proportion to what they have left, so they end together. With one segment
/// (one libtorch thread, or a labelled video, which needs frames in order) batches are consecutive.
final class SegmentedFrameDecoder: FrameBatchSource, @unchecked Sendable {
    /// One part of the video and what decodes it. Only the thread that runs its chunk touches it.
    private final class Segment {
        let reader: VideoReader
        let end: Int
        var position: Int
        var started = false
        var resizer: PredictionResizer
        var failure: (any Error)?
        var cpuSeconds = 0.0
        init(reader: VideoReader, start: Int, end: Int, resizer: PredictionResizer) {
            self.reader = reader
            self.position = start
            self.end = end
            self.resizer = resizer
        }
        var remaining: Int { end - position }
    }

    let info: VideoInfo
    private let segments: [Segment]
    private let batchSize: Int
    private let planeSize: Int
    private let keepOriginals: Bool
    /// True when the whole video is read, so a cut file must report `.truncated` at its end.
    private let readsToEnd: Bool
    private var checkedEnd = false

    var decodeCPUSeconds: Double { segments.reduce(0) { $0 + $1.cpuSeconds } }

    /// - Parameter segments: the wanted number of segments (libtorch's thread count); fewer when the
    ///   video has too few keyframes to cut it evenly.
    init(path: String, batchSize: Int, outputWidth: Int, outputHeight: Int, keepOriginals: Bool,
         segments wanted: Int, frameLimit: Int? = nil) throws {
        // Opened here so that a missing or broken file throws to the caller.
        let first = try VideoReader(path: path, output: FrameOutput(pixelFormat: .rgb24), decoderThreads: 1)
        info = first.info
        self.batchSize = max(1, batchSize)
        planeSize = 3 * outputWidth * outputHeight
        self.keepOriginals = keepOriginals
        let total = min(first.frameCount, frameLimit ?? Int.max)
        readsToEnd = frameLimit == nil || frameLimit! >= first.frameCount
        let starts = VideoSegments.starts(keyframes: first.keyframes, total: total, wanted: wanted, minimumLength: self.batchSize)
        var segments: [Segment] = []
        for (i, start) in starts.enumerated() {
            let end = i + 1 < starts.count ? starts[i + 1] : total
            let reader = i == 0 ? first : try first.sibling(decoderThreads: 1)
            segments.append(Segment(reader: reader, start: start, end: end,
                                    resizer: PredictionResizer(outputWidth: outputWidth, outputHeight: outputHeight)))
        }
        self.segments = segments
    }

    func next() throws -> FrameBatch? {
        let remaining = segments.map(\.remaining)
        let left = remaining.reduce(0, +)
        guard left > 0 else {
            try checkEnd()
            return nil
        }
        // Frames per segment in proportion to what each has left (largest remainders get the rest).
        let count = min(batchSize, left)
        var quota = remaining.map { $0 * count / left }
        var spare = count - quota.reduce(0, +)
        for i in remaining.indices.sorted(by: { remaining[$0] * count % left > remaining[$1] * count % left }) where spare > 0 {
            if quota[i] < remaining[i] { quota[i] += 1; spare -= 1 }
        }
        var offsets = [0]
        for q in quota { offsets.append(offsets.last! + q) }
        var frameNumbers: [Int] = []
        for (segment, q) in zip(segments, quota) { frameNumbers += segment.position..<(segment.position + q) }

        var originals = [[HostImage]](repeating: [], count: segments.count)
        let images = try originals.withUnsafeMutableBufferPointer { slots in
            // Each chunk writes only its own segments' slots and part of the batch.
            let perSegment = UncheckedPointer(slots.baseAddress!)
            return try [Float](unsafeUninitializedCapacity: count * planeSize) { buffer, initialized in
                let base = UncheckedPointer(buffer.baseAddress!)
                try Runtime.parallelFor(segments.count) { range in
                    for i in range where quota[i] > 0 {
                        self.decode(segment: self.segments[i], count: quota[i], into: base.pointer + offsets[i] * self.planeSize,
                                    originals: &perSegment.pointer[i])
                    }
                }
                initialized = count * planeSize
            }
        }
        for segment in segments { if let failure = segment.failure { throw failure } }
        return FrameBatch(images: images, originals: keepOriginals ? originals.flatMap { $0 } : [], frameNumbers: frameNumbers)
    }

    /// Decodes the next `count` frames of `segment` into `destination` (runs on a libtorch thread).
    private func decode(segment: Segment, count: Int, into destination: UnsafeMutablePointer<Float>,
                        originals: inout [HostImage]) {
        guard segment.failure == nil else { return }
        let cpuStart = threadCPUSeconds()
        defer { segment.cpuSeconds += threadCPUSeconds() - cpuStart }
        do {
            for n in 0..<count {
                let frame: Frame
                if segment.started {
                    guard let next = try segment.reader.nextFrame() else {
                        throw PoseModelError("\(info.path): frame \(segment.position) could not be decoded although the file's index lists it")
                    }
                    frame = next
                } else {
                    frame = try segment.reader.frame(at: segment.position)  // seeks to the segment's keyframe
                    segment.started = true
                }
                frame.pixels.withUnsafeBufferPointer {
                    segment.resizer.resize($0, width: frame.width, height: frame.height, channels: frame.channels,
                                           into: destination + n * planeSize)
                }
                if keepOriginals {
                    originals.append(HostImage(width: frame.width, height: frame.height, channels: frame.channels, pixels: frame.pixels))
                }
                segment.position += 1
            }
        } catch {
            segment.failure = error
        }
    }

    /// After the last frame of a whole video: a cut file reports `.truncated`, as reading on would.
    private func checkEnd() throws {
        guard readsToEnd, !checkedEnd, let last = segments.last, last.started || last.end == 0 else { return }
        checkedEnd = true
        _ = try last.reader.nextFrame()
    }

    func finish() {}
    func stop() {}
}

/// How a video is cut for decoding on several threads.
public enum VideoSegments {
    /// Where segments start: frame 0, then the keyframes nearest to equal cuts of `total` frames,
    /// skipping cuts that would leave a segment shorter than `minimumLength`.
    public static func starts(keyframes: [Int], total: Int, wanted: Int, minimumLength: Int) -> [Int] {
        var starts = [0]
        guard wanted > 1, total > 0 else { return starts }
        let candidates = keyframes.filter { $0 > 0 && $0 < total }
        for cut in 1..<wanted {
            let target = total * cut / wanted
            guard let nearest = candidates.min(by: { abs($0 - target) < abs($1 - target) }) else { break }
            if nearest - starts.last! >= minimumLength && total - nearest >= minimumLength { starts.append(nearest) }
        }
        return starts
    }
}

/// A pointer handed to the chunks of one `parallelFor`, each of which writes a disjoint part.
private struct UncheckedPointer<T>: @unchecked Sendable {
    let pointer: UnsafeMutablePointer<T>
    init(_ pointer: UnsafeMutablePointer<T>) { self.pointer = pointer }
}
