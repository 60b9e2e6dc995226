import CFFmpeg

// MARK: - Pixel formats and output settings

/// The layout of decoded pixels handed to callers: packed, 8 bits per channel, rows without padding.
public enum PixelFormat: String, Sendable, CaseIterable, Codable {
    /// Three bytes per pixel, R G B.
    case rgb24
    /// One byte per pixel, luma.
    case gray8

    /// Bytes per pixel.
    public var channels: Int { self == .rgb24 ? 3 : 1 }

    var avFormat: AVPixelFormat { self == .rgb24 ? AV_PIX_FMT_RGB24 : AV_PIX_FMT_GRAY8 }

    init?(channels: Int) {
        switch channels {
        case 3: self = .rgb24
        case 1: self = .gray8
        default: return nil
        }
    }
}

/// How frames are resampled when the output size differs from the video's.
public enum ResizeFilter: String, Sendable, CaseIterable, Codable {
    /// Averages the source pixels under each output pixel: the right choice for shrinking.
    case area
    /// Bilinear interpolation: smooth, and the right choice for enlarging.
    case bilinear
    /// Nearest neighbour: fastest, blocky.
    case nearest

    var swsFlags: Int32 {
        switch self {
        case .area: return Int32(SWS_AREA)
        case .bilinear: return Int32(SWS_BILINEAR)
        case .nearest: return Int32(SWS_POINT)
        }
    }
}

/// What the reader hands out: pixel format and, optionally, a fixed size.
public struct FrameOutput: Sendable, Equatable {
    /// Packed RGB or grey.
    public var pixelFormat: PixelFormat
    /// Output width; `nil` keeps the video's width (or scales it with `height`, keeping the aspect).
    public var width: Int?
    /// Output height; `nil` keeps the video's height (or scales it with `width`, keeping the aspect).
    public var height: Int?
    /// Resampling filter used when the size changes.
    public var filter: ResizeFilter

    public init(pixelFormat: PixelFormat = .rgb24, width: Int? = nil, height: Int? = nil, filter: ResizeFilter = .area) {
        self.pixelFormat = pixelFormat
        self.width = width
        self.height = height
        self.filter = filter
    }

    /// The output size for a source of `sourceWidth`×`sourceHeight`.
    public func size(sourceWidth: Int, sourceHeight: Int) -> (width: Int, height: Int) {
        switch (width, height) {
        case let (w?, h?): return (w, h)
        case let (w?, nil): return (w, max(1, Int((Double(sourceHeight) * Double(w) / Double(sourceWidth)).rounded())))
        case let (nil, h?): return (max(1, Int((Double(sourceWidth) * Double(h) / Double(sourceHeight)).rounded())), h)
        case (nil, nil): return (sourceWidth, sourceHeight)
        }
    }
}

// MARK: - Frame

/// One decoded picture in host memory: `height` rows of `width` pixels of `channels` bytes (HWC),
/// with no row padding. Frames of a video carry their index; images read from files have index 0.
public struct Frame: Sendable, Equatable {
    /// Pixels per row.
    public var width: Int
    /// Rows.
    public var height: Int
    /// Bytes per pixel: 3 (RGB) or 1 (grey).
    public var channels: Int
    /// Position in the video, counting from 0 in presentation order.
    public var index: Int
    /// Presentation time in seconds from the first frame.
    public var time: Double
    /// `height * width * channels` bytes, row-major, channels last.
    public var pixels: [UInt8]

    public init(width: Int, height: Int, channels: Int, index: Int = 0, time: Double = 0, pixels: [UInt8]) {
        self.width = width
        self.height = height
        self.channels = channels
        self.index = index
        self.time = time
        self.pixels = pixels
    }

    /// RGB or grey, from `channels`.
    public var pixelFormat: PixelFormat? { PixelFormat(channels: channels) }

    /// The byte at row `y`, column `x`, channel `c`.
    public subscript(y: Int, x: Int, c: Int) -> UInt8 { pixels[(y * width + x) * channels + c] }

    /// Checks that the sizes agree with the pixel count and the channel count is 1 or 3.
    func validate(path: String) throws {
        guard width > 0, height > 0, channels == 1 || channels == 3 else {
            throw VideoError.invalidArgument(
                path: path, reason: "frame of \(width)x\(height)x\(channels): need positive sizes and 1 or 3 channels")
        }
        guard pixels.count == width * height * channels else {
            throw VideoError.invalidArgument(
                path: path, reason: "frame of \(width)x\(height)x\(channels) needs \(width * height * channels) bytes, got \(pixels.count)")
        }
    }
}
