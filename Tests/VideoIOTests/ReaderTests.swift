import Foundation
import Testing
import VideoIO

// MARK: - Frame-accurate reading

/// Reads frame `i` at 50 seeded random positions and checks each shows its own index.
private func checkRandomSeeks(_ reader: VideoReader, seed: UInt64) throws {
    var random = SplitMix(state: seed)
    for _ in 0..<50 {
        let i = Int.random(in: 0..<reader.frameCount, using: &random)
        let frame = try reader.frame(at: i)
        #expect(frame.index == i)
        #expect(Pattern.decode(frame) == i, "frame \(i) of \(reader.path)")
    }
}

@Test func writerOutputReadsBackWithExactCountAndSeeks() throws {
    let path = try Fixtures.shortGOP.get()
    let reader = try VideoReader(path: path)
    #expect(reader.frameCount == 240)
    #expect(reader.info.width == Fixtures.width && reader.info.height == Fixtures.height)
    #expect(abs(reader.info.framesPerSecond - Fixtures.fps) < 1e-6)
    #expect(abs(reader.info.duration - 8.0) < 1e-3)
    #expect(reader.info.codec == (canEncodeH264 ? "h264" : "mpeg4"))
    #expect(reader.info.keyframeCount == 20)
    #expect(!reader.info.hasBFrames)
    #expect(reader.info.damage == nil)
    try checkRandomSeeks(reader, seed: 1)
    #expect(reader.statistics.restartsFromStart == 0)
}

@Test func longGOPWithBFramesSeeksExactly() throws {
    let path = try Fixtures.longGOP.get()
    let reader = try VideoReader(path: path)
    #expect(reader.frameCount == 300)
    #expect(reader.info.hasBFrames, "the fixture must hold B-frames to test reordering")
    #expect(reader.info.keyframeCount >= 4 && reader.info.keyframeCount <= 8)
    try checkRandomSeeks(reader, seed: 2)
    // Seeks land on the keyframe they aim for instead of falling back to decoding from frame 0.
    #expect(reader.statistics.restartsFromStart == 0)
    #expect(reader.statistics.seeks > 10)
}

@Test func openGOPMatroskaFromFFmpegSeeksExactly() throws {
    guard Fixtures.ffmpegTool != nil, canEncodeH264 else { return }  // needs the ffmpeg tool to make the file
    let source = try Fixtures.longGOP.get()
    let path = try Fixtures.temporaryFolder() + "/open-gop.mkv"
    let made = try Fixtures.runFFmpeg([
        "-i", source, "-c:v", "libx264", "-preset", "veryfast", "-crf", "18",
        "-x264-params", "keyint=60:min-keyint=60:scenecut=0:bframes=3:b-pyramid=normal:open-gop=1",
        path,
    ])
    #expect(made)
    let reader = try VideoReader(path: path)
    #expect(reader.frameCount == 300)
    #expect(reader.info.hasBFrames)
    try checkRandomSeeks(reader, seed: 3)
}

@Test func sequentialDecodeMatchesRandomAccess() throws {
    let path = try Fixtures.longGOP.get()
    let sequential = try VideoReader(path: path)
    var frames: [Frame] = []
    while let frame = try sequential.nextFrame() { frames.append(frame) }
    #expect(frames.count == 300)
    #expect(frames.map(\.index) == Array(0..<300))
    #expect(frames.map(Pattern.decode) == Array(0..<300))
    #expect(sequential.statistics.seeks == 0)

    let random = try VideoReader(path: path)
    var generator = SplitMix(state: 4)
    for _ in 0..<25 {
        let i = Int.random(in: 0..<300, using: &generator)
        #expect(try random.frame(at: i).pixels == frames[i].pixels, "frame \(i)")
    }
    // After a random access, sequential reading continues from the next frame.
    _ = try random.frame(at: 150)
    #expect(try random.nextFrame()?.pixels == frames[151].pixels)
}

@Test func clipsAreConsecutiveFrames() throws {
    let reader = try VideoReader(path: try Fixtures.longGOP.get())
    for start in [0, 85, 170, 284] {
        let clip = try reader.clip(start: start, count: 16)
        #expect(clip.map(\.index) == Array(start..<(start + 16)))
        #expect(clip.map(Pattern.decode) == Array(start..<(start + 16)))
    }
    #expect(throws: VideoError.frameOutOfRange(path: reader.path, index: 300, frameCount: 300)) {
        try reader.clip(start: 290, count: 11)
    }
}

@Test func greyAndResizedOutput() throws {
    let path = try Fixtures.longGOP.get()
    let rgb = try VideoReader(path: path).frame(at: 123)
    let grey = try VideoReader(path: path, output: FrameOutput(pixelFormat: .gray8)).frame(at: 123)
    #expect(grey.channels == 1 && grey.pixels.count == Fixtures.width * Fixtures.height)
    #expect(Pattern.decode(grey) == 123)
    // Grey is the luma of the RGB picture (BT.601 weights), up to rounding in two conversions.
    var lumaError = 0.0
    for p in 0..<(grey.width * grey.height) {
        let luma = 0.299 * Double(rgb.pixels[3 * p]) + 0.587 * Double(rgb.pixels[3 * p + 1]) + 0.114 * Double(rgb.pixels[3 * p + 2])
        lumaError += abs(luma - Double(grey.pixels[p]))
    }
    #expect(lumaError / Double(grey.pixels.count) < 3)

    // Area resampling to half size equals averaging 2x2 blocks of the full picture.
    let half = try VideoReader(path: path, output: FrameOutput(width: 96, height: 64, filter: .area)).frame(at: 123)
    #expect(half.width == 96 && half.height == 64 && half.channels == 3)
    #expect(Pattern.decode(half) == 123)
    func errorAgainstBoxAverage(_ small: Frame) -> Double {
        var error = 0.0
        for y in 0..<64 {
            for x in 0..<96 {
                for c in 0..<3 {
                    let sum =
                        Int(rgb[2 * y, 2 * x, c]) + Int(rgb[2 * y, 2 * x + 1, c]) + Int(rgb[2 * y + 1, 2 * x, c])
                        + Int(rgb[2 * y + 1, 2 * x + 1, c])
                    error += abs(Double(sum) / 4 - Double(small[y, x, c]))
                }
            }
        }
        return error / Double(small.pixels.count)
    }
    // (Not exact: swscale filters in YUV, where chroma is already at half resolution, then converts.)
    let areaError = errorAgainstBoxAverage(half)
    #expect(areaError < 4)
    let nearest = try VideoReader(path: path, output: FrameOutput(width: 96, height: 64, filter: .nearest)).frame(at: 123)
    #expect(errorAgainstBoxAverage(nearest) > areaError + 1, "area must average, nearest must not")

    // Giving only a width keeps the aspect ratio; bilinear output still shows the right frame.
    let scaled = try VideoReader(path: path, output: FrameOutput(width: 96, filter: .bilinear)).frame(at: 7)
    #expect(scaled.height == 64)
    #expect(Pattern.decode(scaled) == 7)
}

// MARK: - Background decoding

@Test func prefetcherHandsOverEveryFrameInOrder() async throws {
    let path = try Fixtures.longGOP.get()
    let output = FrameOutput(pixelFormat: .rgb24, width: 128, height: 128)
    let prefetcher = try FramePrefetcher(path: path, output: output, capacity: 4)
    #expect(prefetcher.count == 300)
    var indices: [Int] = []
    for try await frame in prefetcher {
        #expect(frame.width == 128 && frame.height == 128)
        #expect(Pattern.decode(frame) == frame.index)
        indices.append(frame.index)
    }
    #expect(indices == Array(0..<300))

    // Blocking use, chosen frames in a chosen order.
    let chosen = [250, 3, 3, 120, 121, 0]
    let picked = try FramePrefetcher(path: path, frames: .indices(chosen), output: output)
    var got: [Int] = []
    while let frame = try picked.next() { got.append(Pattern.decode(frame)) }
    #expect(got == chosen)
}

@Test func clipPrefetcherWorkersReturnClipsInRequestOrder() throws {
    let path = try Fixtures.longGOP.get()
    var random = SplitMix(state: 5)
    let requests = (0..<12).map { _ in ClipRequest(start: Int.random(in: 0...284, using: &random), count: 16) }
    let prefetcher = try ClipPrefetcher(path: path, clips: requests, output: FrameOutput(pixelFormat: .gray8), workers: 3, capacity: 4)
    var seen = 0
    while let clip = try prefetcher.next() {
        let request = requests[seen]
        #expect(clip.map(Pattern.decode) == Array(request.start..<(request.start + request.count)))
        seen += 1
    }
    #expect(seen == requests.count)

    // A bad request arrives as an error in its place, and ends the sequence.
    let failing = try ClipPrefetcher(path: path, clips: [ClipRequest(start: 0, count: 2), ClipRequest(start: 299, count: 2)], workers: 2)
    #expect(try failing.next()?.count == 2)
    #expect(throws: VideoError.frameOutOfRange(path: path, index: 300, frameCount: 300)) { try failing.next() }
    #expect(try failing.next() == nil)
}
