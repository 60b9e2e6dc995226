import Foundation
import Testing
import VideoIO

// MARK: - PNG and JPEG

@Test func pngRoundTripIsExact() throws {
    let folder = try Fixtures.temporaryFolder()
    var random = SplitMix(state: 6)
    for channels in [3, 1] {
        let pixels = (0..<(37 * 23 * channels)).map { _ in UInt8.random(in: 0...255, using: &random) }
        let image = Frame(width: 37, height: 23, channels: channels, pixels: pixels)
        let path = folder + "/noise\(channels).png"
        try ImageIO.write(image, to: path)
        let back = try ImageIO.read(path: path, pixelFormat: channels == 3 ? .rgb24 : .gray8)
        #expect(back == image)
    }
    #expect(try FileManager.default.contentsOfDirectory(atPath: folder).sorted() == ["noise1.png", "noise3.png"])
}

@Test func jpegRoundTripIsClose() throws {
    let folder = try Fixtures.temporaryFolder()
    let image = Pattern.frame(77, width: 96, height: 64)
    let path = folder + "/pattern.jpg"
    try ImageIO.write(image, to: path, quality: 95)
    let back = try ImageIO.read(path: path)
    #expect(back.width == 96 && back.height == 64 && back.channels == 3)
    let errors = zip(back.pixels, image.pixels).map { abs(Int($0) - Int($1)) }
    let mean = Double(errors.reduce(0, +)) / Double(errors.count)
    #expect(mean < 3, "mean absolute error \(mean)")
    #expect(mean > 0, "JPEG is lossy; an exact match means the encoder was bypassed")
    #expect(Pattern.decode(back) == 77)
    // Lower quality loses more.
    try ImageIO.write(image, to: folder + "/low.jpg", quality: 10)
    let low = try ImageIO.read(path: folder + "/low.jpg")
    let lowMean = Double(zip(low.pixels, image.pixels).map { abs(Int($0) - Int($1)) }.reduce(0, +)) / Double(errors.count)
    #expect(lowMean > mean)
    // Grey read of a colour JPEG.
    #expect(try ImageIO.read(path: path, pixelFormat: .gray8).channels == 1)
}

@Test func imageErrorsAreClear() throws {
    let folder = try Fixtures.temporaryFolder()
    let text = folder + "/labels.png"
    try "not an image".write(toFile: text, atomically: true, encoding: .utf8)
    #expect(throws: VideoError.unsupportedImage(path: text, reason: "not a PNG or JPEG file")) { try ImageIO.read(path: text) }
    let frame = Frame(width: 2, height: 2, channels: 3, pixels: [UInt8](repeating: 0, count: 12))
    #expect(throws: VideoError.self) { try ImageIO.write(frame, to: folder + "/x.gif") }
    let wrong = Frame(width: 2, height: 2, channels: 3, pixels: [1, 2, 3])
    #expect(throws: VideoError.self) { try ImageIO.write(wrong, to: folder + "/x.png") }
}

// MARK: - A real recording

@Test func realMouseVideoSeeksAgreeWithSequentialDecode() throws {
    let path = Fixtures.mirrorMouseVideo
    let output = FrameOutput(pixelFormat: .gray8, width: 64, height: 64)
    let sequential = try VideoReader(path: path, output: output)
    #expect(sequential.info.codec == "h264")
    #expect(sequential.info.damage == nil)
    var frames: [[UInt8]] = []
    while let frame = try sequential.nextFrame() { frames.append(frame.pixels) }
    #expect(frames.count == sequential.frameCount)
    #expect(sequential.info.containerFrameCount == 0 || sequential.info.containerFrameCount == frames.count)
    #expect(abs(sequential.info.duration - Double(frames.count) / sequential.info.framesPerSecond) < 0.01)

    let random = try VideoReader(path: path, output: output)
    var generator = SplitMix(state: 7)
    for _ in 0..<20 {
        let i = Int.random(in: 0..<frames.count, using: &generator)
        #expect(try random.frame(at: i).pixels == frames[i], "frame \(i)")
    }
    #expect(try random.frame(at: frames.count - 1).pixels == frames[frames.count - 1])
    #expect(try random.frame(at: 0).pixels == frames[0])
}
