import CFFmpeg

// MARK: - FFmpeg versions

/// The FFmpeg libraries Kinema runs on, as loaded at run time.
public struct FFmpegVersions: Sendable, Equatable, CustomStringConvertible {
    /// FFmpeg's release string, e.g. `5.1.6-0+deb12u1`.
    public var ffmpeg: String
    /// libavformat version, e.g. `59.27.100`.
    public var libavformat: String
    /// libavcodec version.
    public var libavcodec: String
    /// libswscale version.
    public var libswscale: String
    /// libavutil version.
    public var libavutil: String
    /// True when libx264 is available, so `VideoWriter` writes H.264 (else MPEG-4 part 2).
    public var hasH264Encoder: Bool

    public var description: String {
        "FFmpeg \(ffmpeg) (libavformat \(libavformat), libavcodec \(libavcodec), libswscale \(libswscale), libavutil \(libavutil)"
            + (hasH264Encoder ? ", H.264 encoder libx264)" : ", no H.264 encoder: videos are written as MPEG-4 part 2)")
    }
}

/// Versions of the FFmpeg libraries loaded at run time (for `kinema info`); loads them if no video has yet.
/// - Throws: `VideoError.ffmpegUnavailable` when they cannot be loaded.
public func ffmpegVersions() throws(VideoError) -> FFmpegVersions {
    try requireFFmpeg(for: "")
    func dotted(_ version: UInt32) -> String { "\(version >> 16).\((version >> 8) & 0xFF).\(version & 0xFF)" }
    return FFmpegVersions(
        ffmpeg: String(cString: av_version_info()),
        libavformat: dotted(avformat_version()),
        libavcodec: dotted(avcodec_version()),
        libswscale: dotted(swscale_version()),
        libavutil: dotted(avutil_version()),
        hasH264Encoder: canEncodeH264)
}
