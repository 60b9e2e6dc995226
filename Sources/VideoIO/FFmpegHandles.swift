import CFFmpeg

// MARK: - Owned FFmpeg objects
// Each wrapper owns one FFmpeg object and frees it in deinit. None is Sendable: each lives on
// the thread (reader, writer, worker) that created it.

/// An `AVPacket`, reused across reads.
final class PacketHandle {
    let pointer: UnsafeMutablePointer<AVPacket>
    init(path: String) throws {
        guard let packet = av_packet_alloc() else {
            throw VideoError.ffmpeg(path: path, operation: "av_packet_alloc", message: "out of memory")
        }
        pointer = packet
    }
    deinit {
        var packet: UnsafeMutablePointer<AVPacket>? = pointer
        av_packet_free(&packet)
    }
}

/// An `AVFrame`, reused across decodes.
final class FrameHandle {
    let pointer: UnsafeMutablePointer<AVFrame>
    init(path: String) throws {
        guard let frame = av_frame_alloc() else {
            throw VideoError.ffmpeg(path: path, operation: "av_frame_alloc", message: "out of memory")
        }
        pointer = frame
    }
    deinit {
        var frame: UnsafeMutablePointer<AVFrame>? = pointer
        av_frame_free(&frame)
    }
}

/// An `AVCodecContext` (decoder or encoder).
final class CodecContextHandle {
    let pointer: UnsafeMutablePointer<AVCodecContext>
    init(codec: UnsafePointer<AVCodec>, path: String) throws {
        guard let context = avcodec_alloc_context3(codec) else {
            throw VideoError.ffmpeg(path: path, operation: "avcodec_alloc_context3", message: "out of memory")
        }
        pointer = context
    }
    deinit {
        var context: UnsafeMutablePointer<AVCodecContext>? = pointer
        avcodec_free_context(&context)
    }
}

/// An input `AVFormatContext` opened on a file.
final class InputFormatHandle {
    let pointer: UnsafeMutablePointer<AVFormatContext>
    init(path: String) throws {
        var context: UnsafeMutablePointer<AVFormatContext>? = nil
        let opened = avformat_open_input(&context, path, nil, nil)
        guard opened >= 0, let context else {
            throw VideoError.notAVideo(path: path, reason: "FFmpeg cannot open it: \(ffmpegErrorText(opened))")
        }
        pointer = context
    }
    deinit {
        var context: UnsafeMutablePointer<AVFormatContext>? = pointer
        avformat_close_input(&context)
    }
}

// MARK: - Scaling to packed host buffers

/// Converts decoded `AVFrame`s to packed RGB24/GRAY8 `Frame`s of a chosen size (swscale), caching
/// the `SwsContext` while source and output settings stay the same.
final class FrameConverter {
    private var context: OpaquePointer? = nil
    /// What the cached context converts: source size and format, output size and settings.
    private struct Key: Equatable {
        var width: Int32, height: Int32, format: Int32, outWidth: Int, outHeight: Int, output: FrameOutput
    }
    private var key: Key? = nil

    deinit { sws_freeContext(context) }

    /// Converts `frame` to `output`; `path` names the file in errors.
    func convert(_ frame: UnsafePointer<AVFrame>, output: FrameOutput, index: Int, time: Double, path: String) throws -> Frame {
        let source = frame.pointee
        let (width, height) = output.size(sourceWidth: Int(source.width), sourceHeight: Int(source.height))
        guard width > 0, height > 0, width <= 16384, height <= 16384 else {
            throw VideoError.invalidArgument(path: path, reason: "output size \(width)x\(height) is not usable")
        }
        let wanted = Key(
            width: source.width, height: source.height, format: source.format, outWidth: width, outHeight: height, output: output)
        if key != wanted {
            sws_freeContext(context)
            context = sws_getContext(
                source.width, source.height, AVPixelFormat(source.format), Int32(width), Int32(height),
                output.pixelFormat.avFormat, output.filter.swsFlags, nil, nil, nil)
            guard context != nil else {
                key = nil
                let name = av_get_pix_fmt_name(AVPixelFormat(source.format)).map { String(cString: $0) } ?? "unknown"
                throw VideoError.ffmpeg(
                    path: path, operation: "sws_getContext", message: "cannot convert \(name) to \(output.pixelFormat.rawValue)")
            }
            cffmpeg_set_source_colorspace(context, Int32(source.colorspace.rawValue), source.color_range == AVCOL_RANGE_JPEG ? 1 : 0)
            key = wanted
        }
        let stride = width * output.pixelFormat.channels
        let count = stride * height
        var failure: Int32 = 0
        // Spare capacity at the end: some SIMD paths of swscale store whole vectors past a row's end.
        let pixels = [UInt8](unsafeUninitializedCapacity: count + 64) { buffer, initialized in
            let rows = cffmpeg_scale_frame_to_packed(context, frame, buffer.baseAddress, Int32(stride))
            if rows != Int32(height) { failure = rows }
            initialized = count
        }
        if failure != 0 {
            throw VideoError.ffmpeg(
                path: path, operation: "sws_scale", message: failure < 0 ? ffmpegErrorText(failure) : "wrote \(failure) of \(height) rows")
        }
        return Frame(width: width, height: height, channels: output.pixelFormat.channels, index: index, time: time, pixels: pixels)
    }
}

// MARK: - Loading

/// Loads FFmpeg on first use (CFFmpeg's loader: a command that reads no video never maps it) and quietens it. Every
/// entry point of VideoIO calls it first, so a missing FFmpeg is one line naming the file and what to install.
func requireFFmpeg(for path: String) throws(VideoError) {
    guard cffmpeg_load() == Int32(CFFMPEG_LOADED.rawValue) else {
        throw .ffmpegUnavailable(path: path, reason: String(cString: cffmpeg_load_error()))
    }
    _ = quietFFmpegLogging
}

/// Makes FFmpeg quiet unless asked: Kinema reports failures itself, one line each.
let quietFFmpegLogging: Void = { av_log_set_level(AV_LOG_FATAL) }()

/// Sets FFmpeg's own log level (e.g. `AV_LOG_INFO` = 32) to see its messages when debugging.
public func setFFmpegLogLevel(_ level: Int32) {
    _ = quietFFmpegLogging
    av_log_set_level(level)
}
