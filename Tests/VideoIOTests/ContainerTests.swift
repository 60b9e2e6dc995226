import Foundation
import Testing
import VideoIO

// MARK: - Other codecs and containers (made with the ffmpeg tool, when installed)

/// Transcodes the long-GOP fixture with `arguments` and checks count and 50 random seeks.
private func checkTranscode(_ name: String, _ arguments: [String], expectBFrames: Bool? = nil, seeksWithoutRestart: Bool = true) throws {
    guard Fixtures.ffmpegTool != nil else { return }
    let source = try Fixtures.longGOP.get()
    let path = try Fixtures.temporaryFolder() + "/" + name
    guard try Fixtures.runFFmpeg(["-i", source] + arguments + [path]) else {
        return  // this FFmpeg build lacks the encoder; nothing to test
    }
    let reader = try VideoReader(path: path)
    #expect(reader.frameCount == 300, "\(name)")
    if let expectBFrames { #expect(reader.info.hasBFrames == expectBFrames, "\(name)") }
    var random = SplitMix(state: UInt64(name.utf8.count))
    for _ in 0..<50 {
        let i = Int.random(in: 0..<300, using: &random)
        let shown = Pattern.decode(try reader.frame(at: i))
        #expect(shown == i, "\(name): frame \(i) shows \(shown)")
    }
    if seeksWithoutRestart {
        // Random access seeks to keyframes instead of decoding from the first frame each time.
        #expect(reader.statistics.restartsFromStart == 0 && reader.statistics.seeks > 0, "\(name): \(reader.statistics)")
    }
    let sequential = try VideoReader(path: path, output: FrameOutput(pixelFormat: .gray8))
    var count = 0
    while let frame = try sequential.nextFrame() {
        if Pattern.decode(frame) != count { Issue.record("\(name): frame \(count) reads as \(Pattern.decode(frame))"); break }
        count += 1
    }
    #expect(count == 300, "\(name)")
}

@Test func motionJPEGInAVI() throws {
    try checkTranscode("mjpeg.avi", ["-c:v", "mjpeg", "-q:v", "3"], expectBFrames: false)
}

@Test func mpeg4PartTwoWithBFramesInAVI() throws {
    try checkTranscode("mpeg4.avi", ["-c:v", "mpeg4", "-q:v", "3", "-bf", "2", "-g", "60"])
}

@Test func hevcInMatroska() throws {
    try checkTranscode(
        "hevc.mkv", ["-c:v", "libx265", "-preset", "ultrafast", "-x265-params", "log-level=error:keyint=60:bframes=3", "-crf", "20"])
}

@Test func rawH264WithoutTimestamps() throws {
    // A raw stream has no timestamps: random access decodes from the first frame.
    try checkTranscode(
        "raw.h264", ["-c:v", "libx264", "-preset", "veryfast", "-bf", "0", "-g", "60", "-f", "h264"], seeksWithoutRestart: false)
}
