import Foundation
import KinemaTestSupport
import Testing
import VideoIO

// MARK: - Frame-numbered test videos
// Each frame shows its own index as 12 big black/white blocks (6 columns x 2 rows, in the top half
// of the picture), which survive lossy compression and resizing; the bottom half holds a moving
// gradient with texture so the encoder has real motion to predict (P- and B-frames).

enum Pattern {
    static let columns = 6, bitRows = 2, gridRows = 4

    /// An RGB frame of `width`×`height` showing `index`.
    static func frame(_ index: Int, width: Int, height: Int) -> Frame {
        var pixels = [UInt8](repeating: 0, count: width * height * 3)
        for y in 0..<height {
            for x in 0..<width {
                let cellRow = y * gridRows / height, cellColumn = x * columns / width
                let offset = (y * width + x) * 3
                if cellRow < bitRows {
                    let bit = cellRow * columns + cellColumn
                    let on = (index >> bit) & 1 == 1
                    pixels[offset] = on ? 220 : 30
                    pixels[offset + 1] = on ? 220 : 30
                    pixels[offset + 2] = on ? 220 : 30
                } else {
                    let moving = (x + 3 * index) % width
                    let texture = ((x * 7 + y * 13) % 17) * 3
                    pixels[offset] = UInt8((moving * 200 / width + texture) % 256)
                    pixels[offset + 1] = UInt8((y * 255 / height + texture) % 256)
                    pixels[offset + 2] = UInt8(((x + y + 2 * index) * 2) % 256)
                }
            }
        }
        return Frame(width: width, height: height, channels: 3, index: index, pixels: pixels)
    }

    /// Reads back the index a decoded frame (any size, RGB or grey) shows.
    static func decode(_ frame: Frame) -> Int {
        var value = 0
        for bit in 0..<(columns * bitRows) {
            let row = bit / columns, column = bit % columns
            let cellWidth = frame.width / columns, cellHeight = frame.height / gridRows
            let x0 = column * cellWidth + cellWidth / 4, y0 = row * cellHeight + cellHeight / 4
            var sum = 0, count = 0
            for y in y0..<(y0 + max(1, cellHeight / 2)) {
                for x in x0..<(x0 + max(1, cellWidth / 2)) {
                    for c in 0..<frame.channels { sum += Int(frame[y, x, c]); count += 1 }
                }
            }
            if sum / count > 125 { value |= 1 << bit }
        }
        return value
    }
}

// MARK: - Fixture files

enum Fixtures {
    static let width = 192, height = 128, fps = 30.0

    /// A fresh temporary folder.
    static func temporaryFolder() throws -> String {
        let url = FileManager.default.temporaryDirectory.appendingPathComponent("kinema-video-tests-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
        return url.path
    }

    /// Writes `count` numbered frames with the given GOP and B-frame settings.
    static func writeNumbered(to path: String, count: Int, keyframeInterval: Int, maxBFrames: Int) throws {
        let options = VideoWriterOptions(
            crf: 18, preset: "veryfast", keyframeInterval: keyframeInterval, maxBFrames: maxBFrames, threads: 1)
        let writer = try VideoWriter(path: path, width: width, height: height, framesPerSecond: fps, options: options)
        for i in 0..<count { try writer.write(Pattern.frame(i, width: width, height: height)) }
        try writer.finish()
    }

    /// 240 frames, a keyframe every 12, no B-frames (written once, shared by tests).
    static let shortGOP: Result<String, any Error> = Result {
        let path = try temporaryFolder() + "/short-gop.mp4"
        try writeNumbered(to: path, count: 240, keyframeInterval: 12, maxBFrames: 0)
        return path
    }

    /// 300 frames, a keyframe every 90, up to 3 B-frames.
    static let longGOP: Result<String, any Error> = Result {
        let path = try temporaryFolder() + "/long-gop.mp4"
        try writeNumbered(to: path, count: 300, keyframeInterval: 90, maxBFrames: 3)
        return path
    }

    /// The `ffmpeg` command-line tool, when installed (used only to make odd fixtures).
    static var ffmpegTool: String? {
        TestFiles.tool("ffmpeg")
    }

    /// Runs the ffmpeg tool quietly; true on success.
    static func runFFmpeg(_ arguments: [String]) throws -> Bool {
        guard let tool = ffmpegTool else { return false }
        let process = Process()
        process.executableURL = URL(fileURLWithPath: tool)
        process.arguments = ["-hide_banner", "-loglevel", "error", "-y"] + arguments
        try process.run()
        process.waitUntilExit()
        return process.terminationStatus == 0
    }

    /// The real mouse video of LP's example project (`Tests/Data`).
    static let mirrorMouseVideo = TestFiles.data.appendingPathComponent("mirror-mouse-example/videos/test_vid.mp4").path
}

/// A small deterministic random generator, so failures reproduce.
struct SplitMix: RandomNumberGenerator {
    var state: UInt64
    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
}
