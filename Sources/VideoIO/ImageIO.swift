import CFFmpeg
import Foundation
import KinemaFiles

// MARK: - Image files

/// Still-image formats Kinema reads and writes through FFmpeg's image codecs.
public enum ImageFormat: String, Sendable, CaseIterable {
    case png
    case jpeg

    /// The format a file name's extension asks for (`.png`, `.jpg`, `.jpeg`), if any.
    public init?(pathExtension: String) {
        switch pathExtension.lowercased() {
        case "png": self = .png
        case "jpg", "jpeg": self = .jpeg
        default: return nil
        }
    }
}

/// Reads and writes PNG and JPEG images as `Frame`s (packed RGB or grey, HWC).
public enum ImageIO {
    /// Reads a PNG or JPEG file (recognised by its first bytes) as RGB or grey pixels.
    /// - Throws: `VideoError.fileNotFound`, `.unsupportedImage`.
    public static func read(path: String, pixelFormat: PixelFormat = .rgb24) throws -> Frame {
        try requireFFmpeg(for: path)
        guard FileManager.default.fileExists(atPath: path) else { throw VideoError.fileNotFound(path: path) }
        guard let data = FileManager.default.contents(atPath: path) else {
            throw VideoError.unsupportedImage(path: path, reason: "the file cannot be read")
        }
        let bytes = [UInt8](data)
        let codecID: AVCodecID
        if bytes.starts(with: [0x89, 0x50, 0x4E, 0x47]) {
            codecID = AV_CODEC_ID_PNG
        } else if bytes.starts(with: [0xFF, 0xD8, 0xFF]) {
            codecID = AV_CODEC_ID_MJPEG
        } else {
            throw VideoError.unsupportedImage(path: path, reason: "not a PNG or JPEG file")
        }
        return try decode(bytes, codecID: codecID, pixelFormat: pixelFormat, path: path)
    }

    /// Writes `frame` as PNG (lossless) or JPEG, chosen by `format` or else by the file extension.
    /// The file is written under a temporary name and renamed into place.
    /// - Parameter quality: JPEG quality 1…100 (ignored for PNG).
    public static func write(_ frame: Frame, to path: String, format: ImageFormat? = nil, quality: Int = 95) throws {
        try requireFFmpeg(for: path)
        try frame.validate(path: path)
        let ext = URL(fileURLWithPath: path).pathExtension
        guard let format = format ?? ImageFormat(pathExtension: ext) else {
            throw VideoError.invalidArgument(path: path, reason: "unknown image extension '.\(ext)': use .png, .jpg or .jpeg")
        }
        let bytes = try encode(frame, format: format, quality: quality, path: path)
        try writeAtomically(bytes, to: path)
    }

    // MARK: - Decoding

    private static func decode(_ bytes: [UInt8], codecID: AVCodecID, pixelFormat: PixelFormat, path: String) throws -> Frame {
        guard let codec = avcodec_find_decoder(codecID) else {
            throw VideoError.unsupportedCodec(path: path, codec: String(cString: avcodec_get_name(codecID)))
        }
        let context = try CodecContextHandle(codec: codec, path: path)
        context.pointer.pointee.thread_count = 1
        guard avcodec_open2(context.pointer, codec, nil) >= 0 else {
            throw VideoError.unsupportedCodec(path: path, codec: String(cString: codec.pointee.name))
        }
        let packet = try PacketHandle(path: path)
        guard bytes.count < Int(Int32.max), av_new_packet(packet.pointer, Int32(bytes.count)) >= 0 else {
            throw VideoError.unsupportedImage(path: path, reason: "file too large")
        }
        bytes.withUnsafeBufferPointer { source in
            if let base = source.baseAddress { packet.pointer.pointee.data?.update(from: base, count: bytes.count) }
        }
        let picture = try FrameHandle(path: path)
        var status = avcodec_send_packet(context.pointer, packet.pointer)
        if status >= 0 { status = avcodec_receive_frame(context.pointer, picture.pointer) }
        if status == AVCode.again {
            avcodec_send_packet(context.pointer, nil)
            status = avcodec_receive_frame(context.pointer, picture.pointer)
        }
        guard status >= 0 else {
            throw VideoError.unsupportedImage(path: path, reason: "decoding failed: \(ffmpegErrorText(status))")
        }
        return try FrameConverter().convert(
            picture.pointer, output: FrameOutput(pixelFormat: pixelFormat, filter: .nearest),
            index: 0, time: 0, path: path)
    }

    // MARK: - Encoding

    private static func encode(_ frame: Frame, format: ImageFormat, quality: Int, path: String) throws -> [UInt8] {
        let codecID = format == .png ? AV_CODEC_ID_PNG : AV_CODEC_ID_MJPEG
        guard let codec = avcodec_find_encoder(codecID) else {
            throw VideoError.unsupportedCodec(path: path, codec: format.rawValue + " encoder")
        }
        let source = frame.channels == 3 ? AV_PIX_FMT_RGB24 : AV_PIX_FMT_GRAY8
        // PNG stores RGB and grey as they are; baseline JPEG wants full-range YCbCr (4:4:4 keeps colour edges sharp).
        let target = format == .png ? source : AV_PIX_FMT_YUVJ444P
        let context = try CodecContextHandle(codec: codec, path: path)
        let c = context.pointer
        c.pointee.width = Int32(frame.width)
        c.pointee.height = Int32(frame.height)
        c.pointee.pix_fmt = target
        c.pointee.time_base = AVRational(num: 1, den: 25)
        c.pointee.thread_count = 1
        if format == .jpeg {
            // Quality 100 -> quantiser 1 (best), 1 -> 31 (worst).
            let q = 1 + (100 - min(max(quality, 1), 100)) * 30 / 99
            c.pointee.flags |= Int32(AV_CODEC_FLAG_QSCALE)
            c.pointee.global_quality = cffmpeg_lambda_for_qscale(Int32(q))
            c.pointee.qmin = Int32(q)
            c.pointee.qmax = Int32(q)
        }
        let opened = avcodec_open2(c, codec, nil)
        guard opened >= 0 else {
            throw VideoError.ffmpeg(path: path, operation: "opening the \(format.rawValue) encoder", message: ffmpegErrorText(opened))
        }
        let picture = try FrameHandle(path: path)
        picture.pointer.pointee.format = target.rawValue
        picture.pointer.pointee.width = Int32(frame.width)
        picture.pointer.pointee.height = Int32(frame.height)
        guard av_frame_get_buffer(picture.pointer, 0) >= 0 else {
            throw VideoError.writeFailed(path: path, reason: "out of memory for a \(frame.width)x\(frame.height) image")
        }
        guard
            let scaler = sws_getContext(
                Int32(frame.width), Int32(frame.height), source, Int32(frame.width), Int32(frame.height),
                target, Int32(SWS_POINT), nil, nil, nil)
        else {
            throw VideoError.ffmpeg(path: path, operation: "sws_getContext", message: "cannot convert to the image's pixel format")
        }
        defer { sws_freeContext(scaler) }
        if format == .jpeg { cffmpeg_set_source_colorspace(scaler, Int32(AVCOL_SPC_BT470BG.rawValue), 1) }
        frame.pixels.withUnsafeBufferPointer { pixels in
            _ = cffmpeg_scale_packed_to_frame(
                scaler, pixels.baseAddress, Int32(frame.width * frame.channels), Int32(frame.height), picture.pointer)
        }
        picture.pointer.pointee.pts = 0
        if format == .jpeg { picture.pointer.pointee.quality = c.pointee.global_quality }
        let packet = try PacketHandle(path: path)
        var status = avcodec_send_frame(c, picture.pointer)
        if status >= 0 { status = avcodec_send_frame(c, nil) }
        if status >= 0 { status = avcodec_receive_packet(c, packet.pointer) }
        guard status >= 0, let data = packet.pointer.pointee.data else {
            throw VideoError.ffmpeg(path: path, operation: "encoding \(format.rawValue)", message: ffmpegErrorText(status))
        }
        return Array(UnsafeBufferPointer(start: data, count: Int(packet.pointer.pointee.size)))
    }
}

// MARK: - Atomic file writes

/// Writes `bytes` atomically (KinemaFiles), as a VideoError.
func writeAtomically(_ bytes: [UInt8], to path: String) throws {
    do {
        try AtomicFile.write(bytes, to: path)
    } catch let error as FileWriteError {
        throw VideoError.writeFailed(path: path, reason: error.reason)
    }
}
