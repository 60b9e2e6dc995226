// Images in host memory: 8-bit, interleaved channels, row-major.

/// An 8-bit image in host memory (interleaved channels, rows top to bottom).
public struct HostImage: Sendable, Equatable {
    public var width: Int
    public var height: Int
    /// 1 (grey) or 3 (RGB).
    public var channels: Int
    /// `height × width × channels` bytes.
    public var pixels: [UInt8]

    public init(width: Int, height: Int, channels: Int, pixels: [UInt8]) {
        self.width = width
        self.height = height
        self.channels = channels
        self.pixels = pixels
    }

    /// A black image.
    public init(width: Int, height: Int, channels: Int = 3) {
        self.init(
            width: width, height: height, channels: channels,
            pixels: [UInt8](repeating: 0, count: width * height * channels))
    }

    /// The same image with 3 channels (grey is replicated), as Lightning Pose feeds its networks.
    public func rgb() -> HostImage {
        if channels == 3 { return self }
        var out = [UInt8](repeating: 0, count: width * height * 3)
        for i in 0..<(width * height) {
            let v = pixels[i * channels]
            out[i * 3] = v; out[i * 3 + 1] = v; out[i * 3 + 2] = v
        }
        return HostImage(width: width, height: height, channels: 3, pixels: out)
    }

    /// Pixel value at integer coordinates (clamped to the image).
    @inlinable
    public func value(x: Int, y: Int, channel: Int) -> UInt8 {
        let cx = min(max(x, 0), width - 1), cy = min(max(y, 0), height - 1)
        return pixels[(cy * width + cx) * channels + channel]
    }

    /// Fills a disk of `radius` pixels (pixel centres at `i + 0.5`) with a colour.
    public mutating func fillDisk(x: Double, y: Double, radius: Double, color: [UInt8]) {
        guard x.isFinite, y.isFinite else { return }
        let x0 = max(0, Int((x - radius).rounded(.down))), x1 = min(width - 1, Int((x + radius).rounded(.up)))
        let y0 = max(0, Int((y - radius).rounded(.down))), y1 = min(height - 1, Int((y + radius).rounded(.up)))
        guard x0 <= x1, y0 <= y1 else { return }
        let r2 = radius * radius
        for py in y0...y1 {
            for px in x0...x1 {
                let dx = Double(px) + 0.5 - x, dy = Double(py) + 0.5 - y
                if dx * dx + dy * dy <= r2 {
                    for c in 0..<channels { pixels[(py * width + px) * channels + c] = color[c % color.count] }
                }
            }
        }
    }

    /// Draws an anti-aliasing-free line of the given thickness.
    public mutating func drawLine(x0: Double, y0: Double, x1: Double, y1: Double, thickness: Double, color: [UInt8]) {
        guard x0.isFinite, y0.isFinite, x1.isFinite, y1.isFinite else { return }
        let length = ((x1 - x0) * (x1 - x0) + (y1 - y0) * (y1 - y0)).squareRoot()
        let steps = max(1, Int(length / max(0.5, thickness * 0.5)))
        for s in 0...steps {
            let t = Double(s) / Double(steps)
            fillDisk(x: x0 + (x1 - x0) * t, y: y0 + (y1 - y0) * t, radius: thickness / 2, color: color)
        }
    }
}
