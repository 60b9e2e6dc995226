import ArgumentParser
import Foundation
import KinemaConsole
import KinemaFiles
import VideoIO

// MARK: - kinema video

/// `kinema video`: look inside videos and pull out exact frames.
struct Video: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Inspect videos and extract exact frames (FFmpeg).",
        discussion: """
            Frame numbers count from 0 in display order. Kinema indexes every packet of the video when it \
            opens it, so frame counts are exact and `frames --at` returns exactly the frames asked for, \
            also in long-GOP and B-frame H.264.
            """,
        subcommands: [VideoInfoCommand.self, VideoFramesCommand.self]
    )
}

// MARK: - kinema video info

/// `kinema video info FILE`: metadata, human readable.
struct VideoInfoCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "info",
        abstract: "Show a video's frame count, size, frame rate, duration and codec.",
        discussion: """
            The frame count is counted from the packets, not taken from the container's header. For a \
            recording cut off mid-file, the last group of pictures is decoded to confirm how many frames \
            decode, and a `cut off` line says where the file breaks (frame and time); `kinema predict` \
            predicts exactly those frames.
            """
    )

    @Argument(help: "The video file (mp4, avi, mkv, mov, ...).")
    var file: String

    func run() async throws {
        let reader = try VideoReader(path: file)
        var info = reader.info
        if info.damage != nil {
            // Decode from the last keyframe to the cut: the frames that really come out are what prediction gets.
            info.frameCount = decodableFrames(reader)
        }
        print(info.summary)
    }

    /// Frames that decode in a damaged file: the indexed count, or fewer if the last group of pictures
    /// breaks earlier.
    private func decodableFrames(_ reader: VideoReader) -> Int {
        var next = reader.keyframes.last ?? 0
        do {
            _ = try reader.frame(at: next)
            next += 1
            while try reader.nextFrame() != nil { next += 1 }
        } catch {}
        return min(next, reader.frameCount)
    }
}

// MARK: - kinema video frames

/// `kinema video frames FILE --at 0,17,250 --out DIR`: those exact frames as PNG (or JPEG) files.
struct VideoFramesCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "frames",
        abstract: "Write chosen frames of a video as PNG images.",
        discussion: """
            Each frame is written to DIR as <video name>_frame<NNNNNN>.png, where NNNNNN is the 0-based \
            frame index. Examples:
              kinema video frames mouse.mp4 --at 0,17,250 --out frames/
              kinema video frames mouse.mp4 --at 100-115 --out clip/ --gray --width 256 --height 256
            """
    )

    @Argument(help: "The video file.")
    var file: String

    @Option(help: ArgumentHelp("Frame indices: a comma-separated list of numbers and ranges A-B (inclusive).", valueName: "LIST"))
    var at: String

    @Option(help: ArgumentHelp("Folder for the images (created if missing).", valueName: "DIR"))
    var out: String

    @Flag(help: "Write grey images instead of RGB.")
    var gray = false

    @Option(help: "Resize to this width (keeps the aspect ratio unless --height is given too).")
    var width: Int?

    @Option(help: "Resize to this height.")
    var height: Int?

    @Option(help: "Image format: png (lossless) or jpg.")
    var format: String = "png"

    func validate() throws {
        _ = try parseFrameList(at)
        guard ["png", "jpg", "jpeg"].contains(format.lowercased()) else {
            throw ValidationError("--format must be png or jpg, not '\(format)'")
        }
        if let width, width <= 0 { throw ValidationError("--width must be positive") }
        if let height, height <= 0 { throw ValidationError("--height must be positive") }
    }

    func run() async throws {
        let indices = try parseFrameList(at)
        let output = FrameOutput(pixelFormat: gray ? .gray8 : .rgb24, width: width, height: height, filter: .area)
        let reader = try VideoReader(path: file, output: output)
        // Check every index before writing anything, so a typo does not leave half a folder.
        for index in indices { try reader.validate(frameIndex: index) }
        do {
            try FileManager.default.createDirectory(atPath: out, withIntermediateDirectories: true)
        } catch {
            throw VideoError.writeFailed(path: out, reason: "cannot create the --out folder: \(FileProblem.describe(error))")
        }
        let stem = URL(fileURLWithPath: file).deletingPathExtension().lastPathComponent
        let imageFormat: ImageFormat = format.lowercased() == "png" ? .png : .jpeg
        let progress = ProgressLine(total: indices.count, unit: "frames", quietSeconds: 1)
        // Sorted order decodes forward through each GOP instead of seeking back and forth.
        // (The progress line ends before any error is printed.)
        defer { progress.finish() }
        for (done, index) in indices.sorted().enumerated() {
            let frame = try reader.frame(at: index)
            let name = String(format: "%@_frame%06d.%@", stem, index, imageFormat == .png ? "png" : "jpg")
            try ImageIO.write(frame, to: URL(fileURLWithPath: out).appendingPathComponent(name).path, format: imageFormat)
            progress.update(done + 1)
        }
        progress.finish()
        print("wrote \(indices.count) frame\(indices.count == 1 ? "" : "s") of \(file) to \(out)")
    }
}

/// Parses "0,17,250" and "100-115" into sorted unique indices.
func parseFrameList(_ text: String) throws -> [Int] {
    var indices = Set<Int>()
    for item in text.split(separator: ",").map({ $0.trimmingCharacters(in: .whitespaces) }) where !item.isEmpty {
        let bounds = item.split(separator: "-", omittingEmptySubsequences: false).map { Int($0) }
        if bounds.count == 1, let single = bounds[0], single >= 0 {
            indices.insert(single)
        } else if bounds.count == 2, let first = bounds[0], let last = bounds[1], first >= 0, first <= last {
            guard last - first < 1_000_000 else { throw ValidationError("--at range '\(item)' is too long") }
            indices.formUnion(first...last)
        } else {
            throw ValidationError("--at: '\(item)' is not a frame index (0, 1, ...) or a range like 10-20")
        }
    }
    guard !indices.isEmpty else { throw ValidationError("--at needs at least one frame index, e.g. --at 0,17,250") }
    return indices.sorted()
}
