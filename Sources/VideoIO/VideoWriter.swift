import CFFmpeg
import Foundation
import KinemaFiles

// MARK: - Writer settings

/// Encoding settings for `VideoWriter`.
public struct VideoWriterOptions: Sendable, Equatable {
    /// Constant rate factor for libx264 (0 lossless … 51 worst; 18 is visually lossless). For the
    /// MPEG-4 fallback it maps to a fixed quantiser.
    public var crf: Int
    /// libx264 speed preset (`ultrafast` … `veryslow`).
    public var preset: String
    /// Frames between keyframes (GOP length).
    public var keyframeInterval: Int
    /// Largest run of B-frames (0 for none).
    public var maxBFrames: Int
    /// Encoder threads; 0 lets FFmpeg choose.
    public var threads: Int

    public init(crf: Int = 18, preset: String = "medium", keyframeInterval: Int = 250, maxBFrames: Int = 3, threads: Int = 0) {
        self.crf = crf
        self.preset = preset
        self.keyframeInterval = keyframeInterval
        self.maxBFrames = maxBFrames
        self.threads = threads
    }
}

/// True when this FFmpeg build can encode H.264 (libx264); otherwise `VideoWriter` writes MPEG-4 part 2.
public var canEncodeH264: Bool { avcodec_find_encoder_by_name("libx264") != nil }

// MARK: - VideoWriter

/// Writes RGB or grey frames to an MP4 file: H.264 (libx264, yuv420p) when FFmpeg has it, else
/// MPEG-4 part 2 (Debian's FFmpeg has libx264). The file is written under a temporary name in the
/// same folder and renamed to `path` by `finish()`, so a crash never leaves a half-written video;
/// `moov` is placed at the front (faststart) so players and readers can start before the end.
///
/// Not thread-safe: one writer per thread.
public final class VideoWriter {
    /// The final file name.
    public let path: String
    /// Picture width and height (even, as yuv420p needs).
    public let width: Int, height: Int
    /// Frames per second.
    public let framesPerSecond: Double
    /// The encoder used: `libx264` or `mpeg4`.
    public let encoderName: String
    /// Frames written so far.
    public private(set) var frameCount = 0

    private let temporaryPath: String
    private var output: UnsafeMutablePointer<AVFormatContext>?
    private let encoder: CodecContextHandle
    private let stream: UnsafeMutablePointer<AVStream>
    private let picture: FrameHandle
    private let packet: PacketHandle
    private var scaler: OpaquePointer? = nil
    private var scalerChannels = 0
    private var finished = false
    private var headerWritten = false

    /// Starts a video of `width`×`height` pixels at `framesPerSecond`.
    /// - Throws: `VideoError.invalidArgument` for odd or non-positive sizes, `.writeFailed` when the folder is not writable.
    public init(path: String, width: Int, height: Int, framesPerSecond: Double, options: VideoWriterOptions = VideoWriterOptions()) throws {
        try requireFFmpeg(for: path)
        guard width > 0, height > 0, width % 2 == 0, height % 2 == 0, width <= 16384, height <= 16384 else {
            throw VideoError.invalidArgument(
                path: path, reason: "video size \(width)x\(height): H.264 in yuv420p needs positive, even width and height")
        }
        guard framesPerSecond.isFinite, framesPerSecond > 0, framesPerSecond <= 100_000 else {
            throw VideoError.invalidArgument(path: path, reason: "frame rate \(framesPerSecond) must be positive")
        }
        self.path = path
        self.width = width
        self.height = height
        self.framesPerSecond = framesPerSecond
        temporaryPath = AtomicFile.temporaryPath(for: path)

        var context: UnsafeMutablePointer<AVFormatContext>? = nil
        guard avformat_alloc_output_context2(&context, nil, "mp4", temporaryPath) >= 0, let context else {
            throw VideoError.writeFailed(path: path, reason: "FFmpeg has no MP4 muxer")
        }
        output = context
        guard let codec = avcodec_find_encoder_by_name("libx264") ?? avcodec_find_encoder(AV_CODEC_ID_MPEG4) else {
            avformat_free_context(context)
            throw VideoError.unsupportedCodec(path: path, codec: "h264 (libx264) or mpeg4 encoder")
        }
        encoderName = String(cString: codec.pointee.name)
        encoder = try CodecContextHandle(codec: codec, path: path)
        picture = try FrameHandle(path: path)
        packet = try PacketHandle(path: path)
        guard let stream = avformat_new_stream(context, nil) else {
            avformat_free_context(context)
            throw VideoError.writeFailed(path: path, reason: "cannot add a video stream")
        }
        self.stream = stream

        let rate = av_d2q(framesPerSecond, 100_000)
        let e = encoder.pointer
        e.pointee.width = Int32(width)
        e.pointee.height = Int32(height)
        e.pointee.pix_fmt = AV_PIX_FMT_YUV420P
        e.pointee.time_base = AVRational(num: rate.den, den: rate.num)
        e.pointee.framerate = rate
        e.pointee.gop_size = Int32(max(1, options.keyframeInterval))
        e.pointee.max_b_frames = Int32(max(0, options.maxBFrames))
        e.pointee.thread_count = Int32(max(0, options.threads))
        if context.pointee.oformat.pointee.flags & AVFMT_GLOBALHEADER != 0 {
            e.pointee.flags |= Int32(AV_CODEC_FLAG_GLOBAL_HEADER)
        }
        if encoderName == "libx264" {
            av_opt_set(e.pointee.priv_data, "crf", String(min(max(options.crf, 0), 51)), 0)
            av_opt_set(e.pointee.priv_data, "preset", options.preset, 0)
        } else {
            // MPEG-4 part 2: a fixed quantiser roughly matching the CRF's quality.
            e.pointee.flags |= Int32(AV_CODEC_FLAG_QSCALE)
            e.pointee.global_quality = cffmpeg_lambda_for_qscale(Int32(min(max(options.crf / 6, 1), 31)))
        }
        let opened = avcodec_open2(e, codec, nil)
        guard opened >= 0 else {
            avformat_free_context(context)
            output = nil
            throw VideoError.ffmpeg(path: path, operation: "opening the \(encoderName) encoder", message: ffmpegErrorText(opened))
        }
        avcodec_parameters_from_context(stream.pointee.codecpar, e)
        stream.pointee.time_base = e.pointee.time_base
        stream.pointee.avg_frame_rate = rate

        let opening = avio_open(&context.pointee.pb, temporaryPath, AVIO_FLAG_WRITE)
        guard opening >= 0 else {
            avformat_free_context(context)
            output = nil
            throw VideoError.writeFailed(path: path, reason: fileErrorText(opening))
        }
        var muxerOptions: OpaquePointer? = nil
        av_dict_set(&muxerOptions, "movflags", "+faststart", 0)
        let header = avformat_write_header(context, &muxerOptions)
        av_dict_free(&muxerOptions)
        guard header >= 0 else {
            abandon()
            throw VideoError.writeFailed(path: path, reason: "MP4 header: \(ffmpegErrorText(header))")
        }
        headerWritten = true

        picture.pointer.pointee.format = AV_PIX_FMT_YUV420P.rawValue
        picture.pointer.pointee.width = Int32(width)
        picture.pointer.pointee.height = Int32(height)
        guard av_frame_get_buffer(picture.pointer, 0) >= 0 else {
            abandon()
            throw VideoError.writeFailed(path: path, reason: "out of memory for a \(width)x\(height) picture")
        }
    }

    deinit {
        if !finished { abandon() }
        sws_freeContext(scaler)
    }

    // MARK: - Writing

    /// Appends one frame (RGB or grey, `width`×`height`).
    public func write(_ frame: Frame) throws {
        guard !finished else { throw VideoError.invalidArgument(path: path, reason: "write after finish()") }
        try frame.validate(path: path)
        guard frame.width == width, frame.height == height else {
            throw VideoError.invalidArgument(
                path: path, reason: "frame \(frameCount) is \(frame.width)x\(frame.height), the video is \(width)x\(height)")
        }
        if scaler == nil || scalerChannels != frame.channels {
            sws_freeContext(scaler)
            let source = frame.channels == 3 ? AV_PIX_FMT_RGB24 : AV_PIX_FMT_GRAY8
            scaler = sws_getContext(
                Int32(width), Int32(height), source, Int32(width), Int32(height), AV_PIX_FMT_YUV420P,
                Int32(SWS_BILINEAR), nil, nil, nil)
            scalerChannels = frame.channels
            guard scaler != nil else { throw VideoError.ffmpeg(path: path, operation: "sws_getContext", message: "RGB to yuv420p") }
        }
        guard av_frame_make_writable(picture.pointer) >= 0 else {
            throw VideoError.writeFailed(path: path, reason: "out of memory")
        }
        frame.pixels.withUnsafeBufferPointer { pixels in
            _ = cffmpeg_scale_packed_to_frame(scaler, pixels.baseAddress, Int32(width * frame.channels), Int32(height), picture.pointer)
        }
        picture.pointer.pointee.pts = Int64(frameCount)
        try encode(picture.pointer)
        frameCount += 1
    }

    /// Flushes the encoder, completes the file and renames it to `path`.
    public func finish() throws {
        guard !finished else { return }
        guard frameCount > 0 else {
            abandon()
            throw VideoError.invalidArgument(path: path, reason: "no frames were written")
        }
        try encode(nil)
        guard let context = output else { return }
        let trailer = av_write_trailer(context)
        avio_closep(&context.pointee.pb)
        avformat_free_context(context)
        output = nil
        finished = true
        guard trailer >= 0 else {
            try? FileManager.default.removeItem(atPath: temporaryPath)
            throw VideoError.writeFailed(path: path, reason: "MP4 trailer: \(fileErrorText(trailer))")
        }
        guard rename(temporaryPath, path) == 0 else {
            let reason = FileProblem.describe(errno: errno)
            try? FileManager.default.removeItem(atPath: temporaryPath)
            throw VideoError.writeFailed(path: path, reason: "renaming the finished file: \(reason)")
        }
    }

    private func encode(_ frame: UnsafeMutablePointer<AVFrame>?) throws {
        let sent = avcodec_send_frame(encoder.pointer, frame)
        guard sent >= 0 else {
            throw VideoError.ffmpeg(path: path, operation: "encoding frame \(frameCount)", message: ffmpegErrorText(sent))
        }
        while true {
            let received = avcodec_receive_packet(encoder.pointer, packet.pointer)
            if received == AVCode.again || received == AVCode.eof { return }
            guard received >= 0, let context = output else {
                throw VideoError.ffmpeg(path: path, operation: "encoding frame \(frameCount)", message: ffmpegErrorText(received))
            }
            av_packet_rescale_ts(packet.pointer, encoder.pointer.pointee.time_base, stream.pointee.time_base)
            packet.pointer.pointee.stream_index = stream.pointee.index
            let written = av_interleaved_write_frame(context, packet.pointer)
            guard written >= 0 else {
                throw VideoError.writeFailed(path: path, reason: fileErrorText(written))
            }
        }
    }

    /// Stops without producing output: closes and deletes the temporary file (an earlier file at `path` stays).
    public func abandon() {
        finished = true
        if let context = output {
            if context.pointee.pb != nil { avio_closep(&context.pointee.pb) }
            avformat_free_context(context)
            output = nil
        }
        try? FileManager.default.removeItem(atPath: temporaryPath)
    }
}
