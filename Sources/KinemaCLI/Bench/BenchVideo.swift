import ArgumentParser
import Foundation
import VideoIO

// MARK: - kinema bench video

/// `kinema bench video [FILE]`: Kinema's video reader against the `ffmpeg` command-line tool (FFmpeg's own
/// decode and swscale, run in the same measurement), for the work the pose predictor does: decode every frame
/// and resize it to 256x256 RGB; plus random-access reads of 16-frame clips.
struct BenchVideo: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "video",
        abstract: "Video decode to 256x256 RGB and random-access clips, against the ffmpeg command-line tool.",
        discussion: """
            Without FILE, writes a 1280x720 H.264 test video (300 frames at 30 fps, a keyframe every 60 \
            frames, B-frames) to a temporary folder first. Each measurement is repeated and the best run \
            of each side is compared. The baseline is `ffmpeg` decoding to `-f null` (whole process, one \
            process per clip for random access). Prints `bench <name> <value> <unit> ratio=<r> vs <baseline>` lines.
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

    @Option(help: "The ffmpeg command-line tool measured as the baseline (a path, or a name looked up on PATH).")
    var ffmpeg: String = "ffmpeg"

    func validate() throws {
        guard size > 0, clips > 0, clipLength > 0, repeats > 0, threads >= 0 else {
            throw ValidationError("--size, --clips, --clip-length and --repeats must be positive, --threads non-negative")
        }
    }

    func run() async throws {
        let path = try file ?? generateTestVideo()
        let info = try VideoReader(path: path).info
        print(
            "video \(path): \(info.width)x\(info.height) \(info.codec), \(info.frameCount) frames, "
                + "\(info.keyframeCount) keyframes\(info.hasBFrames ? ", B-frames" : ""); output \(size)x\(size) RGB")

        let tool = executableOnPath(ffmpeg)
        if tool == nil { print("note: no \(ffmpeg) command-line tool for the baseline; install FFmpeg's or pass --ffmpeg to measure it") }
        let baseline = tool.map { FFmpegTool(path: $0, size: size) }

        // Full decode: best of `repeats`, alternating sides so both see the same machine load.
        var bare = 0.0, kinema = 0.0
        for _ in 0..<repeats {
            if let baseline { bare = max(bare, try baseline.decode(path: path, threads: threads)) }
            kinema = max(kinema, try prefetchedDecode(path: path))
        }
        let decodeName = "video_decode_\(size)_rgb", bareName = "ffmpeg_cli_decode_\(size)_rgb"
        if baseline != nil { benchLine(bareName, bare, "frames/s", ratio: 1, baseline: bareName) }
        benchLine(decodeName, kinema, "frames/s", ratio: baseline == nil ? nil : kinema / bare, baseline: bareName)

        // Random-access clips at seeded random positions, the same for every side.
        guard info.frameCount >= clipLength else {
            print("video has fewer than \(clipLength) frames: no clip benchmark")
            return
        }
        var random = BenchRandom(state: 42)
        let starts = (0..<clips).map { _ in Int.random(in: 0...(info.frameCount - clipLength), using: &random) }
        var bareClips = 0.0, kinemaClips = 0.0, parallelClips = 0.0
        for _ in 0..<repeats {
            if let baseline {
                bareClips = max(
                    bareClips, try baseline.clips(path: path, starts: starts, count: clipLength, framesPerSecond: info.framesPerSecond))
            }
            kinemaClips = max(kinemaClips, try readerClipReads(path: path, starts: starts))
            parallelClips = max(parallelClips, try prefetchedClipReads(path: path, starts: starts, workers: 2))
        }
        let clipName = "video_clips\(clipLength)_\(size)_rgb", bareClipName = "ffmpeg_cli_clips\(clipLength)_\(size)_rgb"
        let clipRatio = { (clips: Double) -> Double? in baseline == nil ? nil : clips / bareClips }
        if baseline != nil { benchLine(bareClipName, bareClips, "clips/s", ratio: 1, baseline: bareClipName) }
        benchLine(clipName, kinemaClips, "clips/s", ratio: clipRatio(kinemaClips), baseline: bareClipName)
        benchLine(clipName + "_2workers", parallelClips, "clips/s", ratio: clipRatio(parallelClips), baseline: bareClipName)
    }

    // MARK: - Kinema's side

    /// Frames per second through `FramePrefetcher` (background decode), opening and indexing included.
    private func prefetchedDecode(path: String) throws -> Double {
        let start = Date()
        let prefetcher = try FramePrefetcher(
            path: path, output: FrameOutput(width: size, height: size, filter: .area),
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
        let prefetcher = try ClipPrefetcher(
            path: path, clips: requests, output: FrameOutput(width: size, height: size, filter: .area),
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

// MARK: - The baseline: the ffmpeg command-line tool

/// FFmpeg's own command-line tool doing the same work: demux, decode, swscale (area filter) to size x size
/// RGB, output discarded (`-f null -`). Timed as whole processes, start-up included, as a user would run it.
private struct FFmpegTool {
    let path: String
    let size: Int

    /// Arguments shared by every run; `-progress pipe:1` reports the frames it decoded on standard output.
    /// One filter thread, as swscale runs once per frame on one thread in Kinema's reader too.
    private func arguments(input: [String], frames: Int?) -> [String] {
        ["-nostdin", "-v", "error", "-nostats", "-progress", "pipe:1", "-filter_threads", "1"] + input
            + (frames.map { ["-frames:v", "\($0)"] } ?? [])
            + ["-an", "-vf", "scale=\(size):\(size):flags=area,format=rgb24", "-f", "null", "-"]
    }

    /// The last `frame=N` of the progress report.
    private func frames(_ progress: String) -> Int {
        progress.split(separator: "\n").last { $0.hasPrefix("frame=") }.flatMap { Int($0.dropFirst(6)) } ?? 0
    }

    /// Frames per second of a full decode with `threads` decoder threads (0: FFmpeg's choice).
    func decode(path file: String, threads: Int) throws -> Double {
        var count = 0
        let seconds = try timed {
            count = frames(try runProcess(path, arguments(input: ["-threads", "\(threads)", "-i", file], frames: nil)))
        }
        return Double(count) / seconds
    }

    /// Clips per second, one process per clip: input seek (`-ss` before `-i`: to the keyframe before, then
    /// decoded forward to the timestamp) to start frame / fps, then `count` frames, one decoder thread. Like any
    /// seek by time it trusts a constant frame rate, which Kinema's frame index does not assume.
    func clips(path file: String, starts: [Int], count: Int, framesPerSecond: Double) throws -> Double {
        var complete = 0
        let seconds = try timed {
            for first in starts {
                // A quarter frame early, so rounding cannot skip the first frame of the clip.
                let time = String(format: "%.6f", max(0, (Double(first) - 0.25) / framesPerSecond))
                let output = try runProcess(path, arguments(input: ["-threads", "1", "-ss", time, "-i", file], frames: count))
                if frames(output) == count { complete += 1 }
            }
        }
        return Double(complete) / seconds
    }
}
