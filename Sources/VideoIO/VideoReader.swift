import CFFmpeg
import Foundation

// MARK: - VideoReader

/// Reads the frames of one video file: metadata, sequential decode, frame-accurate random access
/// and clips, as packed RGB or grey host buffers of the video's size or a chosen one.
///
/// Frame `i` is the `i`th picture in presentation order. On open the reader demuxes the whole video
/// stream once (no decoding) to index every frame's timestamp, so the count is exact and
/// `frame(at:)` lands on the exact picture even with long GOPs and B-frames: it seeks to the
/// keyframe at or before the target and decodes forward to the target's timestamp. Reading forward
/// (`nextFrame`, `clip`, increasing indices in one GOP) never seeks.
///
/// Not thread-safe: use one reader per thread, or `FramePrefetcher` / `ClipPrefetcher` to decode on
/// background threads. FFmpeg contexts are freed when the reader is released.
public final class VideoReader {
    /// Metadata, fixed at open.
    public let info: VideoInfo
    /// Pixel format and size of the frames handed out; may change between calls.
    public var output: FrameOutput
    /// How frames were obtained so far.
    public private(set) var statistics = ReaderStatistics()

    /// The file.
    public var path: String { info.path }
    /// Exact number of frames.
    public var frameCount: Int { info.frameCount }

    private(set) var index: FrameIndex
    private var format: InputFormatHandle
    private let decoder: CodecContextHandle
    private let streamIndex: Int32
    private let timeBase: Double
    private let packet: PacketHandle
    private let decoded: FrameHandle
    private let converter = FrameConverter()

    /// Index of the last frame that came out of the decoder; -1 at the start.
    private var position = -1
    /// Set after an error: the decoder state is unknown, so the next read seeks.
    private var mustSeek = false
    /// The packet in `packet` was read ahead (to check a seek) and is still to be decoded.
    private var packetPending = false
    private var draining = false
    /// Counts frames out of the decoder since the start, for streams without timestamps.
    private var framesSinceStart = 0
    /// The last frame handed out, so asking for it again costs nothing.
    private var cached: (frame: Frame, output: FrameOutput)? = nil

    /// Opens `path` and indexes its video stream.
    /// - Parameters:
    ///   - output: pixel format and size of the frames handed out (default: RGB at the video's size).
    ///   - decoderThreads: FFmpeg decoder threads; 0 lets FFmpeg choose from the CPU count.
    /// - Throws: `VideoError.fileNotFound`, `.notAVideo`, `.unsupportedCodec`, `.corrupt`.
    public convenience init(path: String, output: FrameOutput = FrameOutput(), decoderThreads: Int = 0) throws {
        try self.init(path: path, output: output, decoderThreads: decoderThreads, sharedIndex: nil)
    }

    /// Opens `path`, reusing `sharedIndex` (built by another reader of the same file) when given.
    init(path: String, output: FrameOutput, decoderThreads: Int, sharedIndex: FrameIndex?) throws {
        try requireFFmpeg(for: path)
        var isDirectory: ObjCBool = false
        guard FileManager.default.fileExists(atPath: path, isDirectory: &isDirectory) else {
            throw VideoError.fileNotFound(path: path)
        }
        if isDirectory.boolValue { throw VideoError.notAVideo(path: path, reason: "it is a directory") }
        let format: InputFormatHandle
        do {
            format = try InputFormatHandle(path: path)
        } catch let error as VideoError {
            if startsWithMP4Header(path) {
                throw VideoError.truncated(
                    path: path, frame: 0, expectedFrames: nil,
                    reason: "the MP4 index (moov box) is missing: the recording was cut off before it was finished")
            }
            throw error
        }
        let found = avformat_find_stream_info(format.pointer, nil)
        if found < 0 {
            throw VideoError.notAVideo(path: path, reason: "FFmpeg finds no streams: \(ffmpegErrorText(found))")
        }
        let containerName = format.pointer.pointee.iformat.map { String(cString: $0.pointee.name) } ?? "unknown"
        var codec: UnsafePointer<AVCodec>? = nil
        let best = av_find_best_stream(format.pointer, AVMEDIA_TYPE_VIDEO, -1, -1, &codec, 0)
        if best == cffmpeg_averror_decoder_not_found() {
            let stream = av_find_best_stream(format.pointer, AVMEDIA_TYPE_VIDEO, -1, -1, nil, 0)
            let id = cffmpeg_stream(format.pointer, stream)?.pointee.codecpar.pointee.codec_id ?? AV_CODEC_ID_NONE
            throw VideoError.unsupportedCodec(path: path, codec: String(cString: avcodec_get_name(id)))
        }
        guard best >= 0, let codec, let stream = cffmpeg_stream(format.pointer, best) else {
            throw VideoError.notAVideo(path: path, reason: "no video stream in this \(containerName) file")
        }
        let parameters = stream.pointee.codecpar.pointee
        // Text files probe as "tty" (ANSI art) and audio files may carry a cover picture: neither is a video.
        if parameters.codec_id == AV_CODEC_ID_ANSI || containerName == "tty" {
            throw VideoError.notAVideo(path: path, reason: "FFmpeg reads it as text, not video")
        }
        if stream.pointee.disposition & AV_DISPOSITION_ATTACHED_PIC != 0 {
            throw VideoError.notAVideo(path: path, reason: "the only picture is attached cover art")
        }
        for i in 0..<Int32(format.pointer.pointee.nb_streams) where i != best {
            cffmpeg_stream(format.pointer, i)?.pointee.discard = AVDISCARD_ALL
        }

        let decoder = try CodecContextHandle(codec: codec, path: path)
        guard avcodec_parameters_to_context(decoder.pointer, stream.pointee.codecpar) >= 0 else {
            throw VideoError.unsupportedCodec(path: path, codec: String(cString: codec.pointee.name))
        }
        decoder.pointer.pointee.thread_count = Int32(max(0, decoderThreads))
        decoder.pointer.pointee.pkt_timebase = stream.pointee.time_base
        let opened = avcodec_open2(decoder.pointer, codec, nil)
        guard opened >= 0 else {
            throw VideoError.unsupportedCodec(path: path, codec: "\(String(cString: codec.pointee.name)): \(ffmpegErrorText(opened))")
        }

        let index =
            try sharedIndex
            ?? FrameIndex.build(
                format: format.pointer, stream: best,
                containerFrameCount: Int(stream.pointee.nb_frames),
                reorderDelay: Int(parameters.video_delay), path: path)
        guard index.count > 0 else {
            if let damage = index.damage {
                throw VideoError.truncated(path: path, frame: 0, expectedFrames: index.expectedFrameCount, reason: damage)
            }
            throw VideoError.notAVideo(path: path, reason: "the video stream holds no frames")
        }

        let timeBase = av_q2d(stream.pointee.time_base)
        var fps = av_q2d(stream.pointee.avg_frame_rate)
        if !(fps.isFinite && fps > 0) { fps = av_q2d(stream.pointee.r_frame_rate) }
        if !(fps.isFinite && fps > 0), index.count > 1, index.hasTimestamps {
            fps = Double(index.count - 1) / (Double(index.pts[index.count - 1] - index.pts[0]) * timeBase)
        }
        if !(fps.isFinite && fps > 0) { fps = 0 }
        var duration = Double(format.pointer.pointee.duration) / Double(AV_TIME_BASE)
        if index.hasTimestamps, index.count > 1, fps > 0 {
            duration = Double(index.pts[index.count - 1] - index.pts[0]) * timeBase + 1 / fps
        } else if fps > 0 {
            duration = Double(index.count) / fps
        }
        let pixelFormat = av_get_pix_fmt_name(AVPixelFormat(parameters.format)).map { String(cString: $0) } ?? "unknown"
        self.info = VideoInfo(
            path: path, frameCount: index.count, framesPerSecond: fps,
            width: Int(parameters.width), height: Int(parameters.height),
            codec: String(cString: avcodec_get_name(parameters.codec_id)),
            codecDescription: codec.pointee.long_name.map { String(cString: $0) } ?? "",
            container: containerName, sourcePixelFormat: pixelFormat,
            duration: max(duration, 0), keyframeCount: index.keyframeCount, hasBFrames: index.hasReorderedFrames,
            bitRate: Int(parameters.bit_rate), containerFrameCount: Int(stream.pointee.nb_frames), damage: index.damage)
        self.output = output
        self.index = index
        self.format = format
        self.decoder = decoder
        self.streamIndex = best
        self.timeBase = timeBase
        self.packet = try PacketHandle(path: path)
        self.decoded = try FrameHandle(path: path)
        // Indexing read to the end (or another reader's index was shared): start again from frame 0.
        try seekToStart()
        if self.index.reconstructedTimestamps && sharedIndex == nil {
            try checkRebuiltTimestamps(reorderDelay: Int(parameters.video_delay))
        }
        statistics = ReaderStatistics()
    }

    // MARK: - Reading frames

    /// The frame at `index` (0-based, presentation order), exactly.
    /// - Throws: `VideoError.frameOutOfRange`, `.truncated` (index past the end of a cut file), `.corrupt`.
    public func frame(at index: Int) throws -> Frame {
        try checkIndex(index)
        if let cached, cached.frame.index == index, cached.output == output, position == index, !mustSeek {
            return cached.frame
        }
        let keyframe = self.index.keyframeBefore[index]
        // Reading forward within reach of the current position is cheaper than seeking.
        if mustSeek || index <= position || keyframe > position + 1 {
            try seek(toKeyframe: keyframe)
        }
        return try decodeForward(to: index)
    }

    /// The frame after the last one read (frame 0 after opening), or `nil` after the last frame.
    /// - Throws: `VideoError.truncated` after the last decodable frame of a cut file, `.corrupt`.
    public func nextFrame() throws -> Frame? {
        let next = position + 1
        if next >= frameCount {
            if let damage = index.damage {
                throw VideoError.truncated(path: path, frame: frameCount, expectedFrames: index.expectedFrameCount, reason: damage)
            }
            return nil
        }
        return try frame(at: max(next, 0))
    }

    /// `count` consecutive frames starting at `start`.
    public func clip(start: Int, count: Int) throws -> [Frame] {
        guard count > 0 else {
            throw VideoError.invalidArgument(path: path, reason: "a clip needs at least one frame (asked for \(count))")
        }
        try checkIndex(start)
        try checkIndex(start + count - 1)
        var frames: [Frame] = []
        frames.reserveCapacity(count)
        for i in start..<(start + count) { frames.append(try frame(at: i)) }
        return frames
    }

    /// The frames at `indices`, in the order given (sorted indices read fastest).
    public func frames(at indices: [Int]) throws -> [Frame] {
        try indices.map { try frame(at: $0) }
    }

    /// Goes back to the first frame, so `nextFrame()` returns frame 0.
    public func rewind() throws {
        try seekToStart()
    }

    /// Frames that start a group of pictures (decoding can begin there), ascending; frame 0 first.
    public var keyframes: [Int] {
        index.keyframeBefore.enumerated().compactMap { $0.offset == $0.element ? $0.offset : nil }
    }

    /// Another reader of the same file with the same output, sharing this reader's frame index (the
    /// file is not scanned again), for decoding another part of the video on another thread.
    public func sibling(decoderThreads: Int = 1) throws -> VideoReader {
        try VideoReader(path: path, output: output, decoderThreads: decoderThreads, sharedIndex: index)
    }

    /// Throws the error `frame(at:)` would give for index `i`: `.frameOutOfRange`, or `.truncated`
    /// for a frame that the cut end of a damaged file lost.
    public func validate(frameIndex i: Int) throws {
        try checkIndex(i)
    }

    private func checkIndex(_ i: Int) throws {
        guard i < 0 || i >= frameCount else { return }
        if i >= frameCount, let damage = index.damage, i < (index.expectedFrameCount ?? Int.max) {
            throw VideoError.truncated(path: path, frame: frameCount, expectedFrames: index.expectedFrameCount, reason: damage)
        }
        throw VideoError.frameOutOfRange(path: path, index: i, frameCount: frameCount)
    }

    // MARK: - Decoding forward

    /// Decodes until frame `target` comes out; frames before it are skipped without conversion.
    private func decodeForward(to target: Int) throws -> Frame {
        var restarted = false
        mustSeek = true  // until the target is reached, an error leaves the decoder mid-way
        while true {
            guard try receiveFrame() else {
                if let damage = index.damage {
                    throw VideoError.truncated(path: path, frame: target, expectedFrames: index.expectedFrameCount, reason: damage)
                }
                throw VideoError.corrupt(path: path, frame: target, reason: "the stream ended before this frame came out of the decoder")
            }
            guard let frameIndex = indexOfDecodedFrame() else { continue }
            if frameIndex < target { position = frameIndex; continue }
            if frameIndex > target {
                // The seek landed after the keyframe it needed; decode from the first frame instead.
                if !restarted {
                    restarted = true
                    statistics.restartsFromStart += 1
                    try seekToStart()
                    continue
                }
                throw VideoError.corrupt(path: path, frame: target, reason: "the decoder skipped from frame \(position) to \(frameIndex)")
            }
            position = frameIndex
            let seconds =
                index.hasTimestamps
                ? Double(index.pts[target] - index.pts[0]) * timeBase
                : (info.framesPerSecond > 0 ? Double(target) / info.framesPerSecond : 0)
            let frame = try converter.convert(decoded.pointer, output: output, index: target, time: seconds, path: path)
            av_frame_unref(decoded.pointer)
            statistics.deliveredFrames += 1
            mustSeek = false
            cached = (frame, output)
            return frame
        }
    }

    /// The index of the picture in `decoded`, from its timestamp (or its count, without timestamps).
    private func indexOfDecodedFrame() -> Int? {
        framesSinceStart += 1
        if !index.hasTimestamps { return framesSinceStart - 1 }
        let frame = decoded.pointer.pointee
        let pts = frame.pts != AVCode.noPTS ? frame.pts : frame.best_effort_timestamp
        if pts == AVCode.noPTS {
            // No timestamp (e.g. the last frame drained from an AVI decoder): pictures come out in
            // display order, so it follows the previous one when that one is known.
            return position >= -1 && position + 1 < frameCount ? position + 1 : nil
        }
        return index.frameIndex(ofPTS: pts)
    }

    /// Pulls the next picture out of the decoder into `decoded`, feeding it packets as needed.
    /// Returns false once the stream is fully drained.
    private func receiveFrame() throws -> Bool {
        while true {
            av_frame_unref(decoded.pointer)
            let received = avcodec_receive_frame(decoder.pointer, decoded.pointer)
            if received == 0 { statistics.decodedFrames += 1; return true }
            if received == AVCode.eof { return false }
            if received != AVCode.again {
                throw VideoError.corrupt(path: path, frame: position + 1, reason: "decoder: \(ffmpegErrorText(received))")
            }
            if draining { return false }
            guard readPacket() else {
                avcodec_send_packet(decoder.pointer, nil)
                draining = true
                continue
            }
            defer { av_packet_unref(packet.pointer) }
            if packet.pointer.pointee.flags & AV_PKT_FLAG_CORRUPT != 0 { continue }  // cut short by EOF
            let sent = avcodec_send_packet(decoder.pointer, packet.pointer)
            if sent < 0 && sent != AVCode.again { statistics.rejectedPackets += 1 }
        }
    }

    /// Reads the next packet of the video stream into `packet`; false at the end of the data.
    private func readPacket() -> Bool {
        if packetPending { packetPending = false; return true }
        while true {
            if av_read_frame(format.pointer, packet.pointer) < 0 { return false }
            if packet.pointer.pointee.stream_index == streamIndex { return true }
            av_packet_unref(packet.pointer)
        }
    }

    /// Decodes the first frames and compares their timestamps with the rebuilt ones; where they
    /// differ, re-indexes the file to count frames in decoder order instead.
    private func checkRebuiltTimestamps(reorderDelay: Int) throws {
        var agree = true
        for k in 0..<min(frameCount, 48) {
            guard try receiveFrame() else { agree = false; break }
            let frame = decoded.pointer.pointee
            if (frame.pts != AVCode.noPTS ? frame.pts : frame.best_effort_timestamp) != index.pts[k] { agree = false; break }
        }
        if !agree {
            let reopened = try InputFormatHandle(path: path)
            for i in 0..<Int32(reopened.pointer.pointee.nb_streams) where i != streamIndex {
                cffmpeg_stream(reopened.pointer, i)?.pointee.discard = AVDISCARD_ALL
            }
            index = try FrameIndex.build(
                format: reopened.pointer, stream: streamIndex, containerFrameCount: info.containerFrameCount,
                reorderDelay: max(reorderDelay, 1), allowReconstruction: false, path: path)
            format = reopened
        }
        try seekToStart()
    }

    // MARK: - Seeking

    /// Positions the demuxer on keyframe `keyframe` (or earlier) with a flushed decoder.
    private func seek(toKeyframe keyframe: Int) throws {
        guard keyframe > 0, index.hasTimestamps else { try seekToStart(); return }
        statistics.seeks += 1
        let wantedDTS = index.dts[keyframe]
        // Demuxers differ in which timestamp they match (mp4: pts shifted onto its dts timeline;
        // others: pts or dts), so try the keyframe's pts, then its dts, and check where we landed.
        for timestamp in [index.pts[keyframe], wantedDTS] {
            resetDecoder()
            guard av_seek_frame(format.pointer, streamIndex, timestamp, AVSEEK_FLAG_BACKWARD) >= 0 else { continue }
            guard readPacket() else { continue }
            let landed = packet.pointer.pointee
            let landedDTS = landed.dts != AVCode.noPTS ? landed.dts : landed.pts
            if landedDTS != AVCode.noPTS && landedDTS <= wantedDTS {
                packetPending = true
                position = Int.min / 2  // unknown until frames come out
                return
            }
            av_packet_unref(packet.pointer)
        }
        statistics.restartsFromStart += 1
        try seekToStart()
    }

    /// Positions the demuxer on the first packet with a flushed decoder; reopens the file if the
    /// demuxer cannot seek there.
    private func seekToStart() throws {
        resetDecoder()
        position = -1
        framesSinceStart = 0
        let firstDTS = index.firstDTS
        if index.hasTimestamps,
            av_seek_frame(format.pointer, streamIndex, firstDTS, AVSEEK_FLAG_BACKWARD) >= 0
                || av_seek_frame(format.pointer, streamIndex, firstDTS, 0) >= 0
        {
            if readPacket() {
                let landed = packet.pointer.pointee
                let landedDTS = landed.dts != AVCode.noPTS ? landed.dts : landed.pts
                if landedDTS == firstDTS { packetPending = true; return }
                av_packet_unref(packet.pointer)
            }
        }
        // Reopening always starts at the first packet (the codec parameters are already known).
        resetDecoder()
        let reopened = try InputFormatHandle(path: path)
        for i in 0..<Int32(reopened.pointer.pointee.nb_streams) where i != streamIndex {
            cffmpeg_stream(reopened.pointer, i)?.pointee.discard = AVDISCARD_ALL
        }
        format = reopened
    }

    private func resetDecoder() {
        if packetPending { av_packet_unref(packet.pointer); packetPending = false }
        avcodec_flush_buffers(decoder.pointer)
        draining = false
        mustSeek = false
        cached = nil
    }
}

/// True when the file begins with an MP4/QuickTime `ftyp` box.
private func startsWithMP4Header(_ path: String) -> Bool {
    guard let handle = FileHandle(forReadingAtPath: path) else { return false }
    defer { try? handle.close() }
    let head = (try? handle.read(upToCount: 8)) ?? Data()
    return head.count == 8 && Array(head[4..<8]) == Array("ftyp".utf8)
}
