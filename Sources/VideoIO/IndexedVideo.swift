// A video that was indexed once and can be opened on any thread without scanning the file again.

/// A video's metadata and frame index, with nothing open: Sendable, so that worker threads can each
/// open their own reader of the file (`open`) without demuxing it again, and a program that samples
/// many videos keeps only the readers it is using open.
public struct IndexedVideo: Sendable {
    /// Metadata, as the reader that built the index saw it.
    public let info: VideoInfo
    let index: FrameIndex

    /// The file.
    public var path: String { info.path }

    /// A new reader of the file with this index (for one thread).
    /// - Throws: the errors of `VideoReader.init` (the file may have changed or gone since).
    public func open(output: FrameOutput = FrameOutput(), decoderThreads: Int = 1) throws -> VideoReader {
        try VideoReader(path: info.path, output: output, decoderThreads: decoderThreads, sharedIndex: index)
    }
}

extension VideoReader {
    /// This reader's file, metadata and frame index, for opening more readers of it elsewhere.
    public var indexed: IndexedVideo { IndexedVideo(info: info, index: index) }
}
