// MARK: - Video metadata

/// What a video holds, from its header and from the packet index Kinema builds on open.
public struct VideoInfo: Sendable, Equatable {
    /// The file.
    public var path: String
    /// Exact number of decodable frames, counted from the packet index (not the container's guess).
    public var frameCount: Int
    /// Frames per second (the stream's average rate).
    public var framesPerSecond: Double
    /// Picture width in pixels.
    public var width: Int
    /// Picture height in pixels.
    public var height: Int
    /// FFmpeg's short codec name, e.g. `h264`.
    public var codec: String
    /// FFmpeg's long codec name, e.g. `H.264 / AVC / MPEG-4 AVC / MPEG-4 part 10`.
    public var codecDescription: String
    /// Container format name, e.g. `mov,mp4,m4a,3gp,3g2,mj2`.
    public var container: String
    /// Pixel format of the decoded pictures, e.g. `yuv420p`.
    public var sourcePixelFormat: String
    /// Seconds from the first frame's start to the last frame's end.
    public var duration: Double
    /// Frames the decoder can start from.
    public var keyframeCount: Int
    /// True when pictures are stored out of display order (B-frames).
    public var hasBFrames: Bool
    /// Bits per second of the video stream (0 when unknown).
    public var bitRate: Int
    /// The frame count the container's header states (0 when it states none).
    public var containerFrameCount: Int
    /// Why the file is incomplete, when it is (`nil` for an intact file).
    public var damage: String?

    /// A few lines for people: size, rate, count, codec.
    public var summary: String {
        var lines = [
            "file        \(path)",
            "frames      \(frameCount)"
                + (containerFrameCount > 0 && containerFrameCount != frameCount ? " (container header says \(containerFrameCount))" : ""),
            "size        \(width)x\(height)",
            "fps         \(formatted(framesPerSecond))",
            "duration    \(formatted(duration)) s",
            "codec       \(codec) (\(codecDescription)), \(sourcePixelFormat)",
            "container   \(container)",
            "keyframes   \(keyframeCount)" + (hasBFrames ? ", B-frames" : ", no B-frames"),
        ]
        if bitRate > 0 { lines.append("bit rate    \(bitRate / 1000) kb/s") }
        if let damage {
            lines.append("cut off     " + cutOff(decodable: frameCount))
            lines.append("damage      \(damage)")
        }
        return lines.joined(separator: "\n")
    }

    /// Where a damaged file breaks, in frames and seconds: "at frame 74 (2.467 s): frames 0-73 decode, …".
    public func cutOff(decodable: Int) -> String {
        let time = framesPerSecond > 0 ? " (\(formatted(Double(decodable) / framesPerSecond)) s)" : ""
        let listed = containerFrameCount > decodable ? " of the \(containerFrameCount) the container header lists" : ""
        let decode = decodable > 0 ? "frames 0-\(decodable - 1) decode" : "no frame decodes"
        return "at frame \(decodable)\(time)\(listed): \(decode), the rest of the recording is missing"
    }

    private func formatted(_ value: Double) -> String {
        let rounded = (value * 1000).rounded() / 1000
        return rounded == rounded.rounded() ? String(Int(rounded)) : String(rounded)
    }
}

/// Counters that show how a reader got its frames (for tests and tuning).
public struct ReaderStatistics: Sendable, Equatable {
    /// Seeks to a keyframe.
    public var seeks = 0
    /// Times a seek landed after the wanted keyframe and decoding restarted from the first frame.
    public var restartsFromStart = 0
    /// Frames that came out of the decoder (including those skipped on the way to a target).
    public var decodedFrames = 0
    /// Frames converted to host buffers and handed out.
    public var deliveredFrames = 0
    /// Packets the decoder rejected as invalid.
    public var rejectedPackets = 0
}
