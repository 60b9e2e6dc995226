import ArgumentParser
import CFFmpeg
import Foundation
import VideoIO

// MARK: - kinema bench video

/// `kinema bench video [FILE]`: Kinema's video reader against a bare FFmpeg decode loop written on
/// the libav C API (the limit), for the work the pose predictor does: decode every frame and
/// resize it to 256x256 RGB; plus random-access reads of 16-frame clips.
struct BenchVideo: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "video",
        abstract: "Video decode to 256x256 RGB and random-access clips, against bare FFmpeg.",
        discussion: """
        Without FILE, writes a 1280x720 H.264 test video (300 frames at 30 fps, a keyframe every 60 \
        frames, B-frames) to a temporary folder first. Each measurement is repeated and the best run \
        of each side is compared. Prints `bench <name> <value> <unit> ratio=<r> vs <baseline>` lines.
        """
    )

    @Argument(help: "Video to decode (default: a generated 1280x720 H.264 video).")
    var file: String?

    @Option(help: "Output size (square) of the decoded frames.")
    var size: Int = 256

    @Option(help: "Random-access clips to read per run.")
    var clips: Int = 20

    @Option(help: "Frames per clip.")
    var clipLength: Int = 16

    @Option(help: "Runs per measurement; the best run counts.")
    var repeats: Int = 3

    @Option(help: "FFmpeg decoder threads for the full decode, both sides (0: FFmpeg's choice).")
    var threads: Int = 0

    func validate() throws {
        guard size > 0, clips > 0, clipLength > 0, repeats > 0, threads >= 0 else {
            throw ValidationError("--size, --clips, --clip-length and --repeats must be positive, --threads non-negative")
        }
    }

    func run() async throws {
        let path = try file ?? generateTestVideo()
        let info = try VideoReader(path: path).info
        print("video \(path): \(info.width)x\(info.height) \(info.codec), \(info.frameCount) frames, "
            + "\(info.keyframeCount) keyframes\(info.hasBFrames ? ", B-frames" : ""); output \(size)x\(size) RGB")

        // Full decode: best of `repeats`, alternating sides so both see the same machine load.
        var bare = 0.0, kinema = 0.0
        for _ in 0..<repeats {
            bare = max(bare, try bareDecode(path: path))
            kinema = max(kinema, try prefetchedDecode(path: path))
        }
        let decodeName = "video_decode_\(size)_rgb", bareName = "ffmpeg_c_decode_\(size)_rgb"
        benchLine(bareName, bare, "frames/s", ratio: 1, baseline: bareName)
        benchLine(decodeName, kinema, "frames/s", ratio: kinema / bare, baseline: bareName)

        // Random-access clips at seeded random positions, the same for every side.
        guard info.frameCount >= clipLength else {
            print("video has fewer than \(clipLength) frames: no clip benchmark")
            return
        }
        var random = BenchRandom(state: 42)
        let starts = (0..<clips).map { _ in Int.random(in: 0...(info.frameCount - clipLength), using: &random) }
        var bareClips = 0.0, kinemaClips = 0.0, parallelClips = 0.0
        for _ in 0..<repeats {
            bareClips = max(bareClips, try bareClipReads(path: path, starts: starts))
            kinemaClips = max(kinemaClips, try readerClipReads(path: path, starts: starts))
            parallelClips = max(parallelClips, try prefetchedClipReads(path: path, starts: starts, workers: 2))
        }
        let clipName = "video_clips\(clipLength)_\(size)_rgb", bareClipName = "ffmpeg_c_clips\(clipLength)_\(size)_rgb"
        benchLine(bareClipName, bareClips, "clips/s", ratio: 1, baseline: bareClipName)
        benchLine(clipName, kinemaClips, "clips/s", ratio: kinemaClips / bareClips, baseline: bareClipName)
        benchLine(clipName + "_2workers", parallelClips, "clips/s", ratio: parallelClips / bareClips, baseline: bareClipName)
    }


    // MARK: - Kinema's side

    /// Frames per second through `FramePrefetcher` (background decode), opening and indexing included.
    private func prefetchedDecode(path: String) throws -> Double {
        let start = Date()
        let prefetcher = try FramePrefetcher(path: path, output: FrameOutput(width: size, height: size, filter: .area),
                                             capacity: 16, decoderThreads: threads)
        var count = 0, checksum = 0
        while let frame = try prefetcher.next() {
            count += 1
            checksum &+= Int(frame.pixels[frame.pixels.count / 2])
        }
        blackHole(checksum)
        return Double(count) / Date().timeIntervalSince(start)
    }

    /// Clips per second with one `VideoReader` (the caller's thread), opening included.
    private func readerClipReads(path: String, starts: [Int]) throws -> Double {
        let start = Date()
        let reader = try VideoReader(path: path, output: FrameOutput(width: size, height: size, filter: .area), decoderThreads: 1)
        var checksum = 0
        for first in starts {
            let clip = try reader.clip(start: first, count: clipLength)
            checksum &+= Int(clip[clipLength - 1].pixels[0])
        }
        blackHole(checksum)
        return Double(starts.count) / Date().timeIntervalSince(start)
    }

    /// Clips per second with `ClipPrefetcher` and `workers` background readers.
    private func prefetchedClipReads(path: String, starts: [Int], workers: Int) throws -> Double {
        let start = Date()
        let requests = starts.map { ClipRequest(start: $0, count: clipLength) }
        let prefetcher = try ClipPrefetcher(path: path, clips: requests, output: FrameOutput(width: size, height: size, filter: .area),
                                            workers: workers, capacity: 8, decoderThreads: 1)
        var count = 0
        while let clip = try prefetcher.next() { count += clip.isEmpty ? 0 : 1 }
        return Double(count) / Date().timeIntervalSince(start)
    }

    // MARK: - Test video

    /// Writes a 1280x720 H.264 video with moving shapes over texture, like a camera would see.
    private func generateTestVideo() throws -> String {
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("kinema-bench-video-\(getpid())")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        let path = folder.appendingPathComponent("bench-1280x720.mp4").path
        let (width, height, count) = (1280, 720, 300)
        let options = VideoWriterOptions(crf: 20, preset: "veryfast", keyframeInterval: 60, maxBFrames: 3)
        let writer = try VideoWriter(path: path, width: width, height: height, framesPerSecond: 30, options: options)
        FileHandle.standardError.write(Data("writing a \(width)x\(height) test video (\(count) frames, \(writer.encoderName))...\n".utf8))
        var texture = BenchRandom(state: 7)
        let noise = (0..<(width * height)).map { _ in UInt8.random(in: 0...24, using: &texture) }
        for i in 0..<count {
            var pixels = [UInt8](repeating: 0, count: width * height * 3)
            let cx = Double(width) * (0.5 + 0.35 * sin(Double(i) / 23)), cy = Double(height) * (0.5 + 0.3 * cos(Double(i) / 17))
            for y in 0..<height {
                for x in 0..<width {
                    let dx = Double(x) - cx, dy = Double(y) - cy
                    let inside = dx * dx + dy * dy < 120 * 120
                    let base = (x + y + i) & 0xFF
                    let o = (y * width + x) * 3, n = noise[(y * width + x + i * 3) % noise.count]
                    pixels[o] = inside ? 230 &- n : UInt8(base / 2) &+ n
                    pixels[o + 1] = inside ? 180 : UInt8((y * 255) / height / 2) &+ n
                    pixels[o + 2] = inside ? 60 &+ n : UInt8((x * 255) / width / 2)
                }
            }
            try writer.write(Frame(width: width, height: height, channels: 3, index: i, pixels: pixels))
        }
        try writer.finish()
        return path
    }
}

/// Keeps a result alive so the optimiser cannot drop the work that produced it.
@inline(never) private func blackHole(_ value: Int) { if value == Int.min { print("") } }

/// Seeded generator so both sides read the same clips.
private struct BenchRandom: RandomNumberGenerator {
    var state: UInt64
    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
}

// MARK: - The limit: a bare FFmpeg loop on the libav C API

/// A failure in the bare baseline loop.
private struct BareFFmpegError: Error, CustomStringConvertible {
    let description: String
}

/// One opened input with its decoder, freed in deinit. Written as plainly as the C examples.
private final class BareDecoder {
    var format: UnsafeMutablePointer<AVFormatContext>?
    var codecContext: UnsafeMutablePointer<AVCodecContext>?
    var packet = av_packet_alloc()
    var frame = av_frame_alloc()
    var scaler: OpaquePointer? = nil
    let stream: Int32

    init(path: String, threads: Int) throws {
        guard avformat_open_input(&format, path, nil, nil) >= 0, let format, avformat_find_stream_info(format, nil) >= 0 else {
            throw BareFFmpegError(description: "\(path): FFmpeg cannot open it")
        }
        var codec: UnsafePointer<AVCodec>? = nil
        stream = av_find_best_stream(format, AVMEDIA_TYPE_VIDEO, -1, -1, &codec, 0)
        guard stream >= 0, let codec, let parameters = cffmpeg_stream(format, stream)?.pointee.codecpar else {
            throw BareFFmpegError(description: "\(path): no decodable video stream")
        }
        codecContext = avcodec_alloc_context3(codec)
        guard let codecContext, avcodec_parameters_to_context(codecContext, parameters) >= 0 else {
            throw BareFFmpegError(description: "\(path): decoder set-up failed")
        }
        codecContext.pointee.thread_count = Int32(threads)
        guard avcodec_open2(codecContext, codec, nil) >= 0 else { throw BareFFmpegError(description: "\(path): decoder open failed") }
    }

    deinit {
        sws_freeContext(scaler)
        av_frame_free(&frame)
        av_packet_free(&packet)
        avcodec_free_context(&codecContext)
        avformat_close_input(&format)
    }

    /// swscale of `frame` into `buffer` as size x size RGB24.
    func scale(into buffer: inout [UInt8], size: Int) {
        guard let frame else { return }
        scaler = sws_getCachedContext(scaler, frame.pointee.width, frame.pointee.height, AVPixelFormat(frame.pointee.format),
                                      Int32(size), Int32(size), AV_PIX_FMT_RGB24, Int32(SWS_AREA), nil, nil, nil)
        buffer.withUnsafeMutableBufferPointer { _ = cffmpeg_scale_frame_to_packed(scaler, frame, $0.baseAddress, Int32(size * 3)) }
    }
}

extension BenchVideo {
    /// Frames per second of demux + decode + swscale to size x size RGB into one reused buffer.
    fileprivate func bareDecode(path: String) throws -> Double {
        let start = Date()
        let bare = try BareDecoder(path: path, threads: threads)
        var buffer = [UInt8](repeating: 0, count: size * size * 3 + 64)
        var count = 0
        func receiveAll() {
            while avcodec_receive_frame(bare.codecContext, bare.frame) == 0 {
                bare.scale(into: &buffer, size: size)
                count += 1
            }
        }
        while av_read_frame(bare.format, bare.packet) >= 0 {
            if bare.packet?.pointee.stream_index == bare.stream {
                avcodec_send_packet(bare.codecContext, bare.packet)
                receiveAll()
            }
            av_packet_unref(bare.packet)
        }
        avcodec_send_packet(bare.codecContext, nil)
        receiveAll()
        blackHole(Int(buffer[buffer.count / 2]))
        return Double(count) / Date().timeIntervalSince(start)
    }

    /// Clips per second the usual bare way: timestamp = start frame / fps, seek backward to a
    /// keyframe, decode forward to that timestamp, then keep `clipLength` frames. (No index: it
    /// trusts a constant frame rate, which is what makes it fast and what Kinema does not assume.)
    fileprivate func bareClipReads(path: String, starts: [Int]) throws -> Double {
        let start = Date()
        let bare = try BareDecoder(path: path, threads: 1)
        guard let stream = cffmpeg_stream(bare.format, bare.stream)?.pointee else { throw BareFFmpegError(description: "no stream") }
        let ticksPerFrame = 1 / (av_q2d(stream.avg_frame_rate) * av_q2d(stream.time_base))
        let firstPTS = stream.start_time == cffmpeg_nopts_value() ? 0 : stream.start_time
        var buffer = [UInt8](repeating: 0, count: size * size * 3 + 64)
        var clipsRead = 0
        for first in starts {
            let target = firstPTS + Int64((Double(first) * ticksPerFrame).rounded())
            avcodec_flush_buffers(bare.codecContext)
            guard av_seek_frame(bare.format, bare.stream, target, AVSEEK_FLAG_BACKWARD) >= 0 else {
                throw BareFFmpegError(description: "\(path): seek to frame \(first) failed")
            }
            var kept = 0, draining = false
            while kept < clipLength {
                let received = avcodec_receive_frame(bare.codecContext, bare.frame)
                if received == 0 {
                    guard let frame = bare.frame?.pointee, frame.best_effort_timestamp >= target else { continue }
                    bare.scale(into: &buffer, size: size)
                    kept += 1
                    continue
                }
                if draining { break }
                if av_read_frame(bare.format, bare.packet) < 0 {
                    avcodec_send_packet(bare.codecContext, nil)
                    draining = true
                    continue
                }
                if bare.packet?.pointee.stream_index == bare.stream { avcodec_send_packet(bare.codecContext, bare.packet) }
                av_packet_unref(bare.packet)
            }
            if kept == clipLength { clipsRead += 1 }
        }
        blackHole(Int(buffer[0]))
        return Double(clipsRead) / Date().timeIntervalSince(start)
    }
}
