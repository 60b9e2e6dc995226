import CFFmpeg
import KinemaFiles

// MARK: - Errors

/// Everything that can go wrong reading or writing video and images. Each case prints as one line
/// that names the file, what went wrong and, where there is one, what to do about it.
public enum VideoError: Error, CustomStringConvertible, Equatable, Sendable {
    /// The file does not exist (or cannot be read).
    case fileNotFound(path: String)
    /// FFmpeg cannot open the file as a media container, or it holds no video stream.
    case notAVideo(path: String, reason: String)
    /// The video stream uses a codec this FFmpeg build cannot decode (or encode).
    case unsupportedCodec(path: String, codec: String)
    /// The file ends early: frames `0..<frame` decode, frame `frame` and later are missing.
    case truncated(path: String, frame: Int, expectedFrames: Int?, reason: String)
    /// Decoding broke inside the file at frame `frame`.
    case corrupt(path: String, frame: Int, reason: String)
    /// A frame index outside `0..<frameCount`.
    case frameOutOfRange(path: String, index: Int, frameCount: Int)
    /// An argument the caller gave cannot work (odd H.264 size, empty clip, wrong pixel count...).
    case invalidArgument(path: String, reason: String)
    /// Writing the output failed.
    case writeFailed(path: String, reason: String)
    /// An image file that is not PNG or JPEG, or that does not decode.
    case unsupportedImage(path: String, reason: String)
    /// Any other FFmpeg failure, with the operation that failed and FFmpeg's message.
    case ffmpeg(path: String, operation: String, message: String)
    /// FFmpeg's libraries could not be loaded (`reason`: which, and what to install); `path` is the file that needed
    /// them, "" when none did (`ffmpegVersions()`).
    case ffmpegUnavailable(path: String, reason: String)

    public var description: String {
        switch self {
        case let .fileNotFound(path):
            return "\(path): no such file (check the path)"
        case let .notAVideo(path, reason):
            return "\(path): not a video (\(reason))"
        case let .unsupportedCodec(path, codec):
            return
                "\(path): unsupported codec '\(codec)' (this FFmpeg build has no decoder for it; re-encode the file with H.264, e.g. `ffmpeg -i IN -c:v libx264 OUT.mp4`)"
        case let .truncated(path, frame, expected, reason):
            let of = expected.map { " of \($0)" } ?? ""
            if frame == 0 { return "\(path): truncated, no frame can be decoded (\(reason))" }
            return "\(path): truncated at frame \(frame)\(of): frames 0..<\(frame) decode, the rest is missing (\(reason))"
        case let .corrupt(path, frame, reason):
            return "\(path): corrupt video, decoding broke at frame \(frame) (\(reason))"
        case let .frameOutOfRange(path, index, count):
            return "\(path): frame \(index) is out of range (the video has \(count) frames, valid indices 0...\(max(count - 1, 0)))"
        case let .invalidArgument(path, reason):
            return "\(path): \(reason)"
        case let .writeFailed(path, reason):
            return "\(path): could not write (\(reason))"
        case let .unsupportedImage(path, reason):
            return "\(path): cannot read image (\(reason))"
        case let .ffmpeg(path, operation, message):
            return "\(path): \(operation) failed: \(message)"
        case let .ffmpegUnavailable(path, reason):
            return path.isEmpty ? reason : "\(path): \(reason)"
        }
    }
}

// MARK: - FFmpeg error codes

/// FFmpeg's text for an error code (`av_strerror`).
func ffmpegErrorText(_ code: Int32) -> String {
    var buffer = [CChar](repeating: 0, count: 256)
    let found = buffer.withUnsafeMutableBufferPointer { av_strerror(code, $0.baseAddress, 256) }
    if found < 0 { return "FFmpeg error \(code)" }
    return String(decoding: buffer.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
}

/// An FFmpeg error from writing a file in words: a system error (`AVERROR(errno)`: permission denied, disk
/// full, ...) as KinemaFiles says it, else FFmpeg's text.
func fileErrorText(_ code: Int32) -> String {
    code < 0 && code > -4096 ? FileProblem.describe(errno: -code) : ffmpegErrorText(code)
}

/// Error codes that are macros in C, read once.
enum AVCode {
    static let eof = cffmpeg_averror_eof()
    static let again = cffmpeg_averror_eagain()
    static let invalidData = cffmpeg_averror_invaliddata()
    static let noPTS = cffmpeg_nopts_value()
}
