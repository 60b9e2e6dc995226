import Foundation
import Testing
import VideoIO

// MARK: - Clear errors for bad input

@Test func missingFileNamesThePath() throws {
    let path = "/nonexistent/kinema/mouse.mp4"
    #expect(throws: VideoError.fileNotFound(path: path)) { try VideoReader(path: path) }
    #expect(VideoError.fileNotFound(path: path).description.contains(path))
    #expect(throws: VideoError.fileNotFound(path: path)) { try FramePrefetcher(path: path) }
    #expect(throws: VideoError.fileNotFound(path: path)) { try ImageIO.read(path: path) }
}

@Test func textFilesAreNotVideos() throws {
    let folder = try Fixtures.temporaryFolder()
    for name in ["notes.txt", "notes.mp4", "empty.avi"] {
        let path = folder + "/" + name
        let text = name.hasPrefix("empty") ? "" : String(repeating: "frame,x,y\n0,1.5,2.5\n", count: 200)
        try text.write(toFile: path, atomically: true, encoding: .utf8)
        do {
            _ = try VideoReader(path: path)
            Issue.record("\(name) opened as a video")
        } catch let error as VideoError {
            guard case .notAVideo(let reported, _) = error else {
                Issue.record("\(name): expected notAVideo, got \(error)")
                continue
            }
            #expect(reported == path)
            #expect(error.description.hasPrefix(path + ": not a video"))
            #expect(!error.description.contains("\n"))
        }
    }
    #expect(throws: VideoError.notAVideo(path: folder, reason: "it is a directory")) { try VideoReader(path: folder) }
}

@Test func outOfRangeIndicesAreRefused() throws {
    let reader = try VideoReader(path: try Fixtures.shortGOP.get())
    for bad in [-1, 240, 1_000_000] {
        #expect(throws: VideoError.frameOutOfRange(path: reader.path, index: bad, frameCount: 240)) { try reader.frame(at: bad) }
    }
    #expect(
        VideoError.frameOutOfRange(path: "a.mp4", index: 250, frameCount: 240).description
            == "a.mp4: frame 250 is out of range (the video has 240 frames, valid indices 0...239)")
    // The reader still works after refusing.
    #expect(Pattern.decode(try reader.frame(at: 239)) == 239)
}

@Test func truncatedFileDecodesWhatIsThereThenSaysWhereItBroke() throws {
    let source = try Fixtures.longGOP.get()
    let bytes = try Data(contentsOf: URL(fileURLWithPath: source))
    let path = try Fixtures.temporaryFolder() + "/cut.mp4"
    try bytes.prefix(bytes.count / 2).write(to: URL(fileURLWithPath: path))

    let reader = try VideoReader(path: path)
    let available = reader.frameCount
    #expect(reader.info.damage != nil)
    #expect(available > 60 && available < 250, "half the bytes hold roughly half the frames, got \(available)")
    var decoded: [Int] = []
    do {
        while let frame = try reader.nextFrame() { decoded.append(Pattern.decode(frame)) }
        Issue.record("reading a truncated file ended without an error")
    } catch let error as VideoError {
        guard case let .truncated(reported, frame, expected, _) = error else {
            Issue.record("expected a truncation error, got \(error)")
            return
        }
        #expect(reported == path)
        #expect(frame == available)
        #expect(expected == 300)
        #expect(error.description.contains("truncated at frame \(available) of 300"))
    }
    #expect(decoded == Array(0..<available))
    // Frames past the cut (but inside the original length) report the truncation, not a bad index.
    #expect(throws: VideoError.self) { try reader.frame(at: available + 5) }
    do { _ = try reader.frame(at: available + 5) } catch let error as VideoError {
        if case .truncated = error {} else { Issue.record("expected truncated, got \(error)") }
    }
    // Random access inside the intact part still works.
    #expect(Pattern.decode(try reader.frame(at: available / 2)) == available / 2)

    // The background prefetcher delivers the same frames, then the same error.
    let prefetcher = try FramePrefetcher(path: path, output: FrameOutput(pixelFormat: .gray8))
    var count = 0
    #expect(throws: VideoError.self) { while try prefetcher.next() != nil { count += 1 } }
    #expect(count == available)
}

@Test func mp4CutBeforeItsIndexIsReportedAsTruncated() throws {
    // Without faststart the moov index sits at the end; cutting the file loses it entirely.
    guard Fixtures.ffmpegTool != nil else { return }
    let folder = try Fixtures.temporaryFolder()
    let whole = folder + "/moov-at-end.mp4"
    #expect(try Fixtures.runFFmpeg(["-i", try Fixtures.shortGOP.get(), "-c", "copy", whole]))
    let bytes = try Data(contentsOf: URL(fileURLWithPath: whole))
    let path = folder + "/cut.mp4"
    try bytes.prefix(bytes.count * 2 / 3).write(to: URL(fileURLWithPath: path))
    do {
        _ = try VideoReader(path: path)
        Issue.record("a cut MP4 without its index opened")
    } catch let error as VideoError {
        guard case .truncated(path, 0, _, _) = error else { Issue.record("got \(error)"); return }
    }
}

@Test func writerRefusesBadInputAndWritesAtomically() throws {
    let folder = try Fixtures.temporaryFolder()
    let path = folder + "/out.mp4"
    #expect(throws: VideoError.self) { try VideoWriter(path: path, width: 101, height: 100, framesPerSecond: 30) }
    #expect(throws: VideoError.self) { try VideoWriter(path: path, width: 100, height: 100, framesPerSecond: 0) }
    let writer = try VideoWriter(path: path, width: 64, height: 48, framesPerSecond: 25)
    #expect(throws: VideoError.self) { try writer.write(Pattern.frame(0, width: 32, height: 48)) }
    for i in 0..<10 { try writer.write(Pattern.frame(i, width: 64, height: 48)) }
    #expect(!FileManager.default.fileExists(atPath: path), "the final name appears only on finish()")
    try writer.finish()
    #expect(try VideoReader(path: path).frameCount == 10)
    #expect(try FileManager.default.contentsOfDirectory(atPath: folder) == ["out.mp4"], "no temporary file left")

    // Grey frames are written too, and read back as the same numbers.
    let greyPath = folder + "/grey.mp4"
    let grey = try VideoWriter(path: greyPath, width: 96, height: 64, framesPerSecond: 10)
    for i in 0..<12 {
        let rgb = Pattern.frame(i * 5, width: 96, height: 64)
        let luma = stride(from: 0, to: rgb.pixels.count, by: 3).map { rgb.pixels[$0 + 1] }
        try grey.write(Frame(width: 96, height: 64, channels: 1, pixels: luma))
    }
    try grey.finish()
    let back = try VideoReader(path: greyPath, output: FrameOutput(pixelFormat: .gray8))
    #expect(try (0..<12).map { Pattern.decode(try back.frame(at: $0)) } == (0..<12).map { $0 * 5 })
    // An abandoned writer leaves nothing behind.
    do {
        let abandoned = try VideoWriter(path: folder + "/abandoned.mp4", width: 64, height: 48, framesPerSecond: 25)
        try abandoned.write(Pattern.frame(0, width: 64, height: 48))
    }
    #expect(try FileManager.default.contentsOfDirectory(atPath: folder).sorted() == ["grey.mp4", "out.mp4"])
}

@Test func ffmpegVersionsAreReported() throws {
    let versions = try ffmpegVersions()
    for version in [versions.libavformat, versions.libavcodec, versions.libswscale, versions.libavutil] {
        let parts = version.split(separator: ".").compactMap { Int($0) }
        #expect(parts.count == 3 && parts[0] > 0, "\(version)")
    }
    #expect(!versions.ffmpeg.isEmpty)
    #expect(versions.hasH264Encoder == canEncodeH264)
}
