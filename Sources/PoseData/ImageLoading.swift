// Decoding labelled images through VideoIO (PNG/JPEG via FFmpeg).
import VideoIO

extension HostImage {
    /// Reads a PNG or JPEG file as RGB.
    public static func read(path: String) throws -> HostImage {
        let frame = try ImageIO.read(path: path, pixelFormat: .rgb24)
        return HostImage(width: frame.width, height: frame.height, channels: frame.channels, pixels: frame.pixels)
    }

    /// Writes the image as PNG (or JPEG, by extension).
    public func write(to path: String) throws {
        try ImageIO.write(frame(), to: path)
    }

    /// The image as a VideoIO frame (for writing PNGs and videos).
    public func frame(index: Int = 0, time: Double = 0) -> Frame {
        let rgb = self.rgb()
        return Frame(width: width, height: height, channels: 3, index: index, time: time, pixels: rgb.pixels)
    }
}

extension LabeledDataset {
    /// Loads and validates a project's labelled frames, decoding images with VideoIO.
    public static func load(project: PoseProject) throws -> LabeledDataset {
        try load(project: project, loadImage: HostImage.read(path:))
    }
}
