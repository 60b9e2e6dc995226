// The context model's neighbour frames of a labelled image (LP §1.1): `img00041.png` reads img00039…img00043 from
// the same folder, or else frames 39…43 of the video the folder was extracted from.
import Foundation
import VideoIO

/// Lightning Pose's rule for the frames t−2…t+2 of a labelled image.
public enum ContextFrames {
    /// Offsets of the five frames from the labelled (centre) frame.
    public static let offsets = -2...2

    /// The five image paths t−2…t+2 of `path`, centre included (index 2), or nil when its file name has no digits.
    ///
    /// As LP: the first run of digits in the file's stem is the frame index; neighbours keep its zero padding
    /// (`img0099` → `img0101`); negative indices become 0 (`img0001` → img0000, img0000, img0001, img0002, img0003).
    /// Only that run is replaced (LP replaces every occurrence of the same digits in the stem).
    public static func paths(around path: String) -> [String]? {
        let url = URL(fileURLWithPath: path)
        let stem = url.deletingPathExtension().lastPathComponent, ext = url.pathExtension
        guard let start = stem.firstIndex(where: \.isASCIIDigit) else { return nil }
        let end = stem[start...].firstIndex { !$0.isASCIIDigit } ?? stem.endIndex
        let digits = stem[start..<end]
        guard let centre = Int(digits) else { return nil }
        let folder = (path as NSString).deletingLastPathComponent
        return offsets.map { offset in
            var index = String(Swift.max(0, centre + offset))
            if index.count < digits.count { index = String(repeating: "0", count: digits.count - index.count) + index }
            let name = String(stem[..<start]) + index + String(stem[end...]) + (ext.isEmpty ? "" : "." + ext)
            return folder.isEmpty ? name : (folder as NSString).appendingPathComponent(name)
        }
    }

    /// The five images around `path` (centre `image` at index 2). A neighbour file that is missing (unreadable, or
    /// of another size) is taken from `videos` when it has the frame, else replaced by the centre frame (LP
    /// replaces missing files so); `fromVideo` and `replaced` count them.
    public static func images(
        around path: String, centre image: HostImage, loadImage: (String) throws -> HostImage, videos: SourceVideos? = nil
    ) -> (images: [HostImage], fromVideo: Int, replaced: Int) {
        guard let paths = paths(around: path) else { return (Array(repeating: image, count: 5), 0, 4) }
        var replaced = 0, fromVideo = 0
        let images = paths.enumerated().map { i, neighbour -> HostImage in
            if i == 2 { return image }
            if FileManager.default.fileExists(atPath: neighbour), let loaded = try? loadImage(neighbour),
                loaded.width == image.width, loaded.height == image.height
            {
                return loaded
            }
            if let frame = videos?.frame(near: path, offset: i - 2), frame.width == image.width, frame.height == image.height {
                fromVideo += 1
                return frame
            }
            replaced += 1
            return image
        }
        return (images, fromVideo, replaced)
    }

    /// The videos labelled frames were extracted from: `labeled-data/<name>/img<n>.png` is frame n of `<name>.mp4`
    /// (or .avi, .mov, .mkv) in the project's video folder (the layout of LP, DeepLabCut and `kinema extract-frames`).
    public final class SourceVideos {
        let folder: String
        private var readers: [String: VideoReader] = [:]
        private var absent: Set<String> = []

        public init(folder: String) { self.folder = folder }

        /// Frame `n + offset` of the video of the labelled image at `path` (n: its frame index), if there is one.
        public func frame(near path: String, offset: Int) -> HostImage? {
            let name = ((path as NSString).deletingLastPathComponent as NSString).lastPathComponent
            guard let reader = reader(for: name), let stem = ContextFrames.paths(around: path)?[2],
                let centre = frameIndex(stem)
            else { return nil }
            let index = centre + offset
            guard index >= 0, index < reader.info.frameCount, let frame = try? reader.frame(at: index) else { return nil }
            return HostImage(width: frame.width, height: frame.height, channels: frame.channels, pixels: frame.pixels)
        }

        private func frameIndex(_ path: String) -> Int? {
            let stem = URL(fileURLWithPath: path).deletingPathExtension().lastPathComponent
            guard let start = stem.firstIndex(where: \.isASCIIDigit) else { return nil }
            return Int(stem[start...].prefix { $0.isASCIIDigit })
        }

        private func reader(for name: String) -> VideoReader? {
            if let reader = readers[name] { return reader }
            guard !absent.contains(name) else { return nil }
            for ext in ["mp4", "avi", "mov", "mkv"] {
                let path = (folder as NSString).appendingPathComponent(name + "." + ext)
                if FileManager.default.fileExists(atPath: path),
                    let reader = try? VideoReader(path: path, output: FrameOutput(pixelFormat: .rgb24), decoderThreads: 1)
                {
                    readers[name] = reader
                    return reader
                }
            }
            absent.insert(name)
            return nil
        }
    }
}

extension LabeledDataset {
    /// Loads the frames t−2…t+2 of every labelled frame (`LabeledFrame.context`) for the context model, and says
    /// in one line how many neighbours were not found on disk (each replaced by its centre frame, as LP does).
    /// Neighbour files not on disk are decoded from the labelled folder's video in `videoFolder` when it is there.
    public mutating func loadContextFrames(loadImage: (String) throws -> HostImage, videoFolder: String? = nil) -> String {
        var replaced = 0, decoded = 0, affected = 0
        let videos = videoFolder.map(ContextFrames.SourceVideos.init(folder:))
        for i in frames.indices {
            let found = ContextFrames.images(
                around: frames[i].imagePath, centre: frames[i].image, loadImage: loadImage, videos: videos)
            frames[i].context = found.images
            replaced += found.replaced
            decoded += found.fromVideo
            if found.replaced > 0 { affected += 1 }
        }
        let total = 4 * frames.count
        let video = decoded > 0 ? "; \(decoded) decoded from the labelled folders' videos" : ""
        if replaced == 0 { return "context frames: all \(total) neighbour images (t−2…t+2) found\(video)" }
        return
            "context frames: \(replaced) of \(total) neighbour images (t−2…t+2) found neither beside \(affected) labelled frame(s) nor in their video\(video); each is replaced by its labelled frame, as Lightning Pose does (for the context model to see motion, put the neighbouring frames next to the labelled images, or the video in the project's video folder)"
    }
}

extension Character {
    fileprivate var isASCIIDigit: Bool { isASCII && isNumber }
}
