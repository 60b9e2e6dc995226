// Unlabelled clips: exact frames, contiguity, the schedule, determinism across threads, the
// augmentation undone (keypoints and pixels), bounded memory, and the one-line reports.
import Foundation
import KinemaTestSupport
import PoseData
import Testing
import VideoIO

// MARK: - Numbered test videos

/// Frames that show their own index as 8 black/white blocks along the top (readable after resizing),
/// over a moving texture below, so the encoder makes real P- and B-frames.
private enum NumberedVideo {
    static let bits = 8

    static func frame(_ index: Int, width: Int, height: Int) -> Frame {
        var pixels = [UInt8](repeating: 0, count: width * height * 3)
        for y in 0..<height {
            for x in 0..<width {
                let o = (y * width + x) * 3
                if y < height / 2 {
                    let on = (index >> (x * bits / width)) & 1 == 1
                    pixels[o] = on ? 230 : 25; pixels[o + 1] = pixels[o]; pixels[o + 2] = pixels[o]
                } else {
                    let texture = ((x * 7 + y * 13 + 5 * index) % 23) * 4
                    pixels[o] = UInt8(texture); pixels[o + 1] = UInt8((y * 3 + index) % 200); pixels[o + 2] = UInt8((x * 2) % 256)
                }
            }
        }
        return Frame(width: width, height: height, channels: 3, index: index, pixels: pixels)
    }

    static func write(_ path: String, count: Int, width: Int = 96, height: Int = 64, keyframeInterval: Int = 30, bFrames: Int = 2) throws {
        let options = VideoWriterOptions(crf: 16, preset: "veryfast", keyframeInterval: keyframeInterval, maxBFrames: bFrames, threads: 1)
        let writer = try VideoWriter(path: path, width: width, height: height, framesPerSecond: 30, options: options)
        for i in 0..<count { try writer.write(frame(i, width: width, height: height)) }
        try writer.finish()
    }

    /// The index shown by frame `t` of a clip (normalised `3 × H × W` planes, resized).
    static func read(_ images: [Float], frame t: Int, width W: Int, height H: Int) -> Int {
        let plane = 3 * W * H
        var value = 0
        for bit in 0..<bits {
            let x0 = bit * W / bits, x1 = (bit + 1) * W / bits
            var sum: Float = 0, n: Float = 0
            for y in (H / 8)..<(3 * H / 8) {
                for x in (x0 + (x1 - x0) / 4)..<(x1 - (x1 - x0) / 4) {
                    sum += images[t * plane + y * W + x] * Augmenter.imagenetStd[0] + Augmenter.imagenetMean[0]
                    n += 1
                }
            }
            if sum / n > 0.5 { value |= 1 << bit }
        }
        return value
    }
}

/// The model pixels PredictionResizer makes of frame `index` of `path` (what the clip must hold).
private func resizedFrame(_ reader: VideoReader, _ index: Int, width: Int, height: Int) throws -> [Float] {
    var resizer = PredictionResizer(outputWidth: width, outputHeight: height)
    let frame = try reader.frame(at: index)
    return resizer.resize(HostImage(width: frame.width, height: frame.height, channels: frame.channels, pixels: frame.pixels))
}

/// ffmpeg, when installed: transcodes `source` into `path` with `arguments`; false when it cannot.
private func transcode(_ source: String, _ path: String, _ arguments: [String]) throws -> Bool {
    guard let tool = TestFiles.tool("ffmpeg") else { return false }
    let process = Process()
    process.executableURL = URL(fileURLWithPath: tool)
    process.arguments = ["-hide_banner", "-loglevel", "error", "-y", "-i", source] + arguments + [path]
    try process.run()
    process.waitUntilExit()
    return process.terminationStatus == 0
}

@Suite struct UnlabeledClipTests {
    static let modelWidth = 64, modelHeight = 48

    // MARK: Exact, contiguous frames

    /// Every clip's frames are the frames at its indices, resized exactly as prediction resizes them,
    /// and show consecutive numbers starting at the clip's start.
    private func checkClips(_ path: String, count expected: Int, clipLength: Int = 8, clips: Int = 12) throws {
        let source = try UnlabeledClipSource(
            videos: [path], clipLength: clipLength, modelWidth: Self.modelWidth, modelHeight: Self.modelHeight, seed: 5)
        #expect(source.videos[0].frameCount == expected, "\(path)")
        let decoder = source.makeDecoder()
        let reader = try VideoReader(path: path)
        let plane = 3 * Self.modelWidth * Self.modelHeight
        for n in 0..<clips {
            let clip = try decoder.clip(number: n)
            #expect(clip.spec.start >= 0 && clip.spec.start + clipLength <= expected)
            #expect(clip.images.count == clipLength * plane)
            for t in 0..<clipLength {
                let shown = NumberedVideo.read(clip.images, frame: t, width: Self.modelWidth, height: Self.modelHeight)
                #expect(shown == clip.spec.start + t, "\(path) clip \(n) frame \(t) shows \(shown), not \(clip.spec.start + t)")
                let reference = try resizedFrame(reader, clip.spec.start + t, width: Self.modelWidth, height: Self.modelHeight)
                #expect(Array(clip.images[(t * plane)..<((t + 1) * plane)]) == reference, "\(path) clip \(n) frame \(t)")
            }
        }
    }

    @Test func clipsHoldTheExactContiguousFramesOfBFrameVideo() throws {
        let folder = try temporaryDirectory("clips-exact")
        let path = folder + "/bframes.mp4"
        try NumberedVideo.write(path, count: 150, keyframeInterval: 45, bFrames: 3)
        #expect(try VideoReader(path: path).info.hasBFrames)
        try checkClips(path, count: 150)
    }

    @Test func oddVideosGiveExactClips() throws {
        let folder = try temporaryDirectory("clips-odd")
        let base = folder + "/base.mp4"
        try NumberedVideo.write(base, count: 90)
        // 4:4:4 at an odd size; variable frame rate (every third frame held longer) with B-frames; MJPEG in AVI.
        let variants: [(String, [String])] = [
            ("odd444.mp4", ["-vf", "scale=95:63", "-c:v", "libx264", "-pix_fmt", "yuv444p", "-crf", "12", "-g", "40"]),
            ("vfr.mkv", ["-vf", "setpts='(N+floor(N/3)*0.5)/30/TB'", "-fps_mode", "vfr", "-c:v", "libx264", "-bf", "3", "-crf", "12"]),
            ("mjpeg.avi", ["-c:v", "mjpeg", "-q:v", "2"]),
        ]
        var made = 0
        for (name, arguments) in variants where try transcode(base, folder + "/" + name, arguments) {
            made += 1
            try checkClips(folder + "/" + name, count: 90)
        }
        if TestFiles.tool("ffmpeg") != nil && canEncodeH264 { #expect(made == variants.count) }
    }

    @Test func aConfigGivesItsVideosSizeAndAugmentation() throws {
        let folder = try temporaryDirectory("clips-config")
        try NumberedVideo.write(folder + "/a.mp4", count: 20)
        var config = PoseConfig()
        config.data.videoDir = folder
        config.resizeWidth = 48
        config.resizeHeight = 40
        for (imgaug, augmented) in [("dlc", true), ("dlc-top-down", true), ("dlc-lr", false), ("default", false)] {
            config.training.imgaug = imgaug
            let source = try UnlabeledClipSource(config: config, clipLength: 16)
            #expect(source.videos.count == 1 && source.modelWidth == 48 && source.modelHeight == 40)
            #expect((source.augmentation == .lightningPose) == augmented && (source.augmentation == .resizeOnly) == !augmented, "\(imgaug)")
        }
        config.data.videoDir = nil
        config.configFile = folder + "/config.yaml"
        let error = #expect(throws: PoseDataError.self) { try UnlabeledClipSource(config: config) }
        #expect(error?.description.hasPrefix(folder + "/config.yaml: sets no data.video_dir") == true)
    }

    // MARK: Schedule and determinism

    @Test func anEpochVisitsEveryVideoInNonOverlappingSlots() throws {
        let folder = try temporaryDirectory("clips-epoch")
        try NumberedVideo.write(folder + "/a.mp4", count: 70)
        try NumberedVideo.write(folder + "/b.mp4", count: 45)
        let source = try UnlabeledClipSource(folder: folder, clipLength: 8, modelWidth: 32, modelHeight: 32, seed: 3)
        #expect(source.videos.map { ($0.path as NSString).lastPathComponent } == ["a.mp4", "b.mp4"])
        #expect(source.clipsPerEpoch == 70 / 8 + 45 / 8)
        for epoch in 0..<3 {
            let specs = (0..<source.clipsPerEpoch).map { source.spec(ofClip: epoch * source.clipsPerEpoch + $0) }
            for (video, frames) in [(0, 70), (1, 45)] {
                let starts = specs.filter { $0.video == video }.map(\.start).sorted()
                #expect(starts.count == frames / 8, "epoch \(epoch) video \(video)")
                // One random offset per video and epoch, then slots one clip apart: no overlap, all inside.
                #expect(starts.first! >= 0 && starts.last! + 8 <= frames)
                #expect(zip(starts, starts.dropFirst()).allSatisfy { $1 - $0 == 8 }, "\(starts)")
            }
        }
        // Orders and offsets differ between epochs and seeds.
        let epochs = (0..<2).map { e in (0..<source.clipsPerEpoch).map { source.spec(ofClip: e * source.clipsPerEpoch + $0).start } }
        #expect(epochs[0] != epochs[1])
        let other = try UnlabeledClipSource(folder: folder, clipLength: 8, modelWidth: 32, modelHeight: 32, seed: 4)
        #expect((0..<13).map { other.spec(ofClip: $0) } != (0..<13).map { source.spec(ofClip: $0) })
    }

    @Test func theSameSeedGivesTheSameClipsWhateverTheThreads() throws {
        let folder = try temporaryDirectory("clips-determinism")
        try NumberedVideo.write(folder + "/a.mp4", count: 60)
        try NumberedVideo.write(folder + "/b.mp4", count: 40)
        func source() throws -> UnlabeledClipSource {
            try UnlabeledClipSource(
                folder: folder, clipLength: 6, modelWidth: Self.modelWidth, modelHeight: Self.modelHeight, seed: 11,
                augmentation: .lightningPose)
        }
        let first = try source(), second = try source()
        #expect((0..<40).map { first.spec(ofClip: $0) } == (0..<40).map { second.spec(ofClip: $0) })
        // One thread, three threads, and the serial decoder: the same pixels, noise included.
        let serial = first.makeDecoder()
        let one = UnlabeledClipStream(source: first, clipsPerBatch: 2, workers: 1)
        let three = UnlabeledClipStream(source: second, clipsPerBatch: 2, workers: 3, clipsInFlight: 5)
        for b in 0..<4 {
            let x = try #require(try one.next()), y = try #require(try three.next())
            #expect(x.number == b && y.number == b)
            #expect(x.clips.map(\.spec) == y.clips.map(\.spec))
            #expect(x.clips.map(\.spec.number) == [2 * b, 2 * b + 1])
            for c in 0..<2 {
                #expect(x.clips[c].images == y.clips[c].images, "batch \(b) clip \(c)")
                #expect(x.clips[c].images == (try serial.clip(number: 2 * b + c)).images)
            }
        }
        // Augmentation really happened (not a trivially equal identity).
        #expect(!(try serial.clip(number: 0)).augmentation.isGeometricIdentity)
        // A stream resumed at clip 6 continues the same sequence.
        let resumed = UnlabeledClipStream(source: first, clipsPerBatch: 2, workers: 2, firstClip: 6)
        let batch = try #require(try resumed.next())
        #expect(batch.clips.map(\.spec) == [first.spec(ofClip: 6), first.spec(ofClip: 7)])
    }

    // MARK: Undoing the augmentation

    /// Frame → model → augmented → back to the frame, for each kind of augmentation.
    @Test(arguments: [
        ("none", 0.0, 1.0, 1.0), ("rotation", 9.5, 1.0, 1.0), ("rotation the other way", -10.0, 1.0, 1.0),
        ("scale", 0.0, 0.8, 1.2), ("rotation and scale", 7.0, 1.15, 0.85),
    ])
    func mappingBackReturnsTheOriginalKeypoints(kind: String, degrees: Double, sx: Double, sy: Double) {
        let augmentation = ClipAugmentation(
            rotationDegrees: degrees, scaleX: sx, scaleY: sy, brightness: 1.2, contrast: 0.8, shotNoiseFactor: 4,
            modelWidth: 256, modelHeight: 192)
        let frameWidth = 640, frameHeight = 500
        var rng = MersenneTwister(seed: 9)
        let original = (0..<40).flatMap { _ in [rng.uniform(0, 640), rng.uniform(0, 500)] }
        let toModel = Affine2D(a: 256.0 / 640, b: 0, c: 0, d: 192.0 / 500, tx: 0, ty: 0)
        var model: [Double] = [], augmented: [Double] = []
        for j in 0..<40 {
            let (mx, my) = toModel.apply(original[2 * j], original[2 * j + 1])
            let (ax, ay) = augmentation.transform.apply(mx, my)
            model += [mx, my]
            augmented += [ax, ay]
        }
        #expect((augmented == model) == augmentation.isGeometricIdentity, "\(kind)")
        let back = augmentation.mapToFrame(augmented, frameWidth: frameWidth, frameHeight: frameHeight)
        #expect(zip(back, original).allSatisfy { abs($0 - $1) < 1e-9 }, "\(kind)")
        // Single precision, as a network's read-out gives them: to 1e-3 frame pixels.
        let backFloat = augmentation.mapToFrame(augmented.map(Float.init), frameWidth: frameWidth, frameHeight: frameHeight)
        #expect(zip(backFloat, original).allSatisfy { abs(Double($0) - $1) < 1e-3 }, "\(kind)")
        // NaN (a keypoint not found) stays NaN.
        #expect(augmentation.mapToFrame([Double.nan, 3], frameWidth: frameWidth, frameHeight: frameHeight)[0].isNaN)
    }

    /// The pixels move the way the matrix says: a bright marker's centroid in the augmented clip, mapped
    /// back, lands on the marker drawn in the frame (a mismatch in rotation sense or centre would be pixels off).
    @Test(arguments: [(25.0, 1.0, 1.0), (-25.0, 1.0, 1.0), (0.0, 0.8, 1.2), (12.0, 1.2, 0.85)])
    func augmentedPixelsMapBackOntoTheirMarkers(degrees: Double, sx: Double, sy: Double) throws {
        let folder = try temporaryDirectory("clips-marker")
        let path = folder + "/marker.mp4"
        let (width, height) = (160, 120)
        let centres: [(Double, Double)] = (0..<6).map { i -> (Double, Double) in
            let d = Double(i)
            return (40 + 12 * d, 30 + 9 * d)
        }
        let writer = try VideoWriter(
            path: path, width: width, height: height, framesPerSecond: 30,
            options: VideoWriterOptions(crf: 10, preset: "veryfast", threads: 1))
        for (i, centre) in centres.enumerated() {
            var image = HostImage(width: width, height: height, channels: 3)
            image.fillDisk(x: centre.0, y: centre.1, radius: 7, color: [255, 255, 255])
            try writer.write(image.frame(index: i))
        }
        try writer.finish()
        let (W, H) = (96, 80)
        let source = try UnlabeledClipSource(videos: [path], clipLength: 6, modelWidth: W, modelHeight: H)
        let augmentation = ClipAugmentation(
            rotationDegrees: degrees, scaleX: sx, scaleY: sy, brightness: 1.1, contrast: 1.2, modelWidth: W, modelHeight: H)
        let clip = try source.makeDecoder().decode(UnlabeledClipSpec(number: 0, video: 0, start: 0, length: 6, augmentation: augmentation))
        for t in 0..<6 {
            var sx = 0.0, sy = 0.0, total = 0.0
            for y in 0..<H {
                for x in 0..<W {
                    let v = Double(clip.images[t * 3 * W * H + y * W + x] * Augmenter.imagenetStd[0] + Augmenter.imagenetMean[0])
                    guard v > 0.3 else { continue }
                    sx += (Double(x) + 0.5) * v; sy += (Double(y) + 0.5) * v; total += v
                }
            }
            let back = clip.mapToFrame([Float(sx / total), Float(sy / total)])
            let error = hypot(Double(back[0]) - centres[t].0, Double(back[1]) - centres[t].1)
            #expect(error < 0.6, "frame \(t): marker at \(centres[t]), mapped back to \(back) (\(error) px)")
        }
    }

    @Test func photometricAugmentationFollowsItsDraw() throws {
        let folder = try temporaryDirectory("clips-photometric")
        let path = folder + "/grey.mp4"
        let writer = try VideoWriter(
            path: path, width: 64, height: 48, framesPerSecond: 30, options: VideoWriterOptions(crf: 0, threads: 1))
        for i in 0..<4 {
            try writer.write(
                HostImage(width: 64, height: 48, channels: 3, pixels: .init(repeating: 100, count: 64 * 48 * 3)).frame(index: i))
        }
        try writer.finish()
        let source = try UnlabeledClipSource(videos: [path], clipLength: 4, modelWidth: 32, modelHeight: 24)
        let decoder = source.makeDecoder()
        func meanAndVariance(_ augmentation: ClipAugmentation) throws -> (Double, Double) {
            let clip = try decoder.decode(UnlabeledClipSpec(number: 0, video: 0, start: 0, length: 4, augmentation: augmentation))
            // Every value of the clip on a 0–255 scale (the 4 frames are the same grey: 9216 samples).
            let n = 32 * 24
            let values = clip.images.enumerated().map { i, v in
                let c = (i / n) % 3
                return Double(v * Augmenter.imagenetStd[c] + Augmenter.imagenetMean[c]) * 255
            }
            let mean = values.reduce(0, +) / Double(values.count)
            return (mean, values.map { ($0 - mean) * ($0 - mean) }.reduce(0, +) / Double(values.count))
        }
        let plain = try meanAndVariance(ClipAugmentation(modelWidth: 32, modelHeight: 24))
        #expect(abs(plain.0 - 100) < 1.5 && plain.1 < 0.5)
        // b·(128 + k·(v − 128)) on a 0–255 scale: 1.2·(127.5 + 0.8·(v − 127.5)).
        let lit = try meanAndVariance(ClipAugmentation(brightness: 1.2, contrast: 0.8, modelWidth: 32, modelHeight: 24))
        #expect(abs(lit.0 - 1.2 * (127.5 + 0.8 * (plain.0 - 127.5))) < 0.5)
        // Shot noise f·Poisson(v/f): mean v, variance f·v (f = 4: 25 counts, the normal branch; f = 10:
        // 10 counts, the tabulated Poisson CDF).
        for factor in [4.0, 10.0] {
            let noisy = try meanAndVariance(ClipAugmentation(shotNoiseFactor: factor, noiseSeed: 1, modelWidth: 32, modelHeight: 24))
            #expect(abs(noisy.0 - plain.0) < 1.5, "factor \(factor): mean \(noisy.0)")
            #expect(abs(noisy.1 / (factor * plain.0) - 1) < 0.1, "factor \(factor): variance \(noisy.1), expected \(factor * plain.0)")
        }
    }

    // MARK: Memory and the stream's counters

    @Test func clipsInFlightNeverExceedTheCapAndBuffersAreReused() throws {
        let folder = try temporaryDirectory("clips-memory")
        try NumberedVideo.write(folder + "/a.mp4", count: 60)
        let source = try UnlabeledClipSource(folder: folder, clipLength: 4, modelWidth: 32, modelHeight: 32, seed: 1)
        let stream = UnlabeledClipStream(source: source, clipsPerBatch: 2, workers: 3, clipsInFlight: 3)
        var idle = 0.0
        for b in 0..<8 {
            let batch = try #require(try stream.next())
            #expect(batch.number == b && batch.clips.count == 2 && batch.idleSeconds >= 0)
            idle += batch.idleSeconds
            Thread.sleep(forTimeInterval: 0.02)  // a slow consumer: the workers fill every permit
            stream.recycle(batch)
        }
        let statistics = stream.statistics
        #expect(statistics.batches == 8 && statistics.clips == 16)
        #expect(statistics.maxClipsInFlight == 3)
        // 16 clips from at most (in flight + one held batch) buffers.
        #expect(statistics.buffersAllocated <= 3 + 2, "\(statistics)")
        #expect(abs(statistics.idleSeconds - idle) < 1e-12)
        stream.stop()
        #expect(try stream.next() == nil)
    }

    // MARK: Bad or short videos: one line each

    @Test func aShortVideoIsSkippedWithOneLine() throws {
        let folder = try temporaryDirectory("clips-short")
        try NumberedVideo.write(folder + "/long.mp4", count: 40)
        try NumberedVideo.write(folder + "/short.mp4", count: 5)
        let source = try UnlabeledClipSource(folder: folder, clipLength: 8, modelWidth: 32, modelHeight: 32)
        #expect(source.videos.count == 1)
        #expect(source.notes.count == 1)
        #expect(source.notes[0].hasPrefix(folder + "/short.mp4: 5 frames, shorter than one 8-frame clip"))
        #expect(!source.notes[0].contains("\n"))
        // Only short videos: an error, in one line.
        let error = #expect(throws: PoseDataError.self) {
            try UnlabeledClipSource(videos: [folder + "/short.mp4"], clipLength: 8, modelWidth: 32, modelHeight: 32)
        }
        #expect(error?.description.contains("short.mp4: no video is at least one 8-frame clip long") == true)
    }

    @Test func aBrokenVideoIsNamedInOneLine() throws {
        let folder = try temporaryDirectory("clips-broken")
        try NumberedVideo.write(folder + "/good.mp4", count: 20)
        try Data("this is not a video\n".utf8).write(to: URL(fileURLWithPath: folder + "/broken.mp4"))
        let error = #expect(throws: PoseDataError.self) {
            try UnlabeledClipSource(folder: folder, clipLength: 8, modelWidth: 32, modelHeight: 32)
        }
        let line = error?.description ?? ""
        #expect(line.hasPrefix(folder + "/broken.mp4: cannot be read as unlabelled video: not a video"), "\(line)")
        #expect(!line.contains("\n") && line.components(separatedBy: folder + "/broken.mp4").count == 2, "\(line)")
        let missing = #expect(throws: PoseDataError.self) {
            try UnlabeledClipSource(folder: folder + "/nowhere", modelWidth: 32, modelHeight: 32)
        }
        #expect(missing?.description.hasPrefix(folder + "/nowhere: no such folder") == true)
    }
}
