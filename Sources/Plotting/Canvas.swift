// A raster canvas (RGBA, 8 bits per channel) with anti-aliasing-free primitives: lines of any
// width, filled rectangles and polygons, markers and bitmap text. Saves as PNG.

// MARK: - Colour

/// An RGBA colour with 8-bit channels.
public struct Color: Sendable, Equatable {
    public var r: UInt8, g: UInt8, b: UInt8, a: UInt8
    public init(_ r: UInt8, _ g: UInt8, _ b: UInt8, _ a: UInt8 = 255) { self.r = r; self.g = g; self.b = b; self.a = a }

    /// The same colour with another opacity (0…1).
    public func withAlpha(_ alpha: Double) -> Color { Color(r, g, b, UInt8(max(0, min(255, alpha * 255)).rounded())) }

    public static let white = Color(255, 255, 255), black = Color(0, 0, 0)
    public static let grey = Color(128, 128, 128), lightGrey = Color(225, 225, 225)
    /// A qualitative palette (matplotlib's "tab10").
    public static let palette: [Color] = [
        Color(31, 119, 180), Color(255, 127, 14), Color(44, 160, 44), Color(214, 39, 40), Color(148, 103, 189),
        Color(140, 86, 75), Color(227, 119, 194), Color(127, 127, 127), Color(188, 189, 34), Color(23, 190, 207),
    ]
}

// MARK: - Canvas

/// A width × height RGBA image; (0, 0) is the top-left pixel. Drawing blends with the colour's alpha.
public struct Canvas: Sendable {
    public let width: Int
    public let height: Int
    /// Row-major RGBA bytes.
    public var pixels: [UInt8]

    public init(width: Int, height: Int, background: Color = .white) {
        self.width = max(1, width)
        self.height = max(1, height)
        pixels = [UInt8](repeating: 0, count: self.width * self.height * 4)
        for i in 0..<(self.width * self.height) {
            pixels[4 * i] = background.r; pixels[4 * i + 1] = background.g
            pixels[4 * i + 2] = background.b; pixels[4 * i + 3] = background.a
        }
    }

    /// The colour at (x, y).
    public func pixel(_ x: Int, _ y: Int) -> Color {
        let o = (y * width + x) * 4
        return Color(pixels[o], pixels[o + 1], pixels[o + 2], pixels[o + 3])
    }

    /// Blends `color` into (x, y); ignores points outside the canvas.
    @inline(__always)
    public mutating func plot(_ x: Int, _ y: Int, _ color: Color) {
        guard x >= 0, y >= 0, x < width, y < height else { return }
        let o = (y * width + x) * 4
        if color.a == 255 {
            pixels[o] = color.r; pixels[o + 1] = color.g; pixels[o + 2] = color.b; pixels[o + 3] = 255
            return
        }
        // Porter–Duff "over", so drawing onto transparent canvases composites correctly later.
        let a = Double(color.a) / 255, oldA = Double(pixels[o + 3]) / 255
        let outA = a + oldA * (1 - a)
        guard outA > 0 else { return }
        func mix(_ c: UInt8, _ old: UInt8) -> UInt8 {
            UInt8(max(0, min(255, ((Double(c) * a + Double(old) * oldA * (1 - a)) / outA).rounded())))
        }
        pixels[o] = mix(color.r, pixels[o]); pixels[o + 1] = mix(color.g, pixels[o + 1]); pixels[o + 2] = mix(color.b, pixels[o + 2])
        pixels[o + 3] = UInt8((outA * 255).rounded())
    }

    // MARK: - Shapes

    /// Fills the rectangle with corners (x0, y0) inclusive and (x1, y1) exclusive.
    public mutating func fillRect(x0: Int, y0: Int, x1: Int, y1: Int, _ color: Color) {
        for y in max(0, min(y0, y1))..<min(height, max(y0, y1)) {
            for x in max(0, min(x0, x1))..<min(width, max(x0, x1)) { plot(x, y, color) }
        }
    }

    /// Draws a line of the given width (in pixels) between two points.
    public mutating func drawLine(_ x0: Double, _ y0: Double, _ x1: Double, _ y1: Double, _ color: Color, width lineWidth: Double = 1) {
        guard x0.isFinite, y0.isFinite, x1.isFinite, y1.isFinite else { return }
        let dx = x1 - x0, dy = y1 - y0
        let steps = max(1, Int(max(abs(dx), abs(dy)).rounded(.up)))
        guard steps < 100_000 else { return }
        let r = max(0, (lineWidth - 1) / 2)
        let ri = Int(r.rounded(.up))
        var lastX = Int.min, lastY = Int.min
        for s in 0...steps {
            let t = Double(s) / Double(steps)
            let cx = Int((x0 + dx * t).rounded()), cy = Int((y0 + dy * t).rounded())
            if cx == lastX && cy == lastY { continue }
            lastX = cx; lastY = cy
            if ri == 0 { plotOnce(cx, cy, color); continue }
            for oy in -ri...ri { for ox in -ri...ri where Double(ox * ox + oy * oy) <= r * r + 0.5 { plotOnce(cx + ox, cy + oy, color) } }
        }
        stamp &+= 1
    }

    /// Fills a polygon (even-odd rule) given its vertices in pixel coordinates.
    public mutating func fillPolygon(_ points: [(Double, Double)], _ color: Color) {
        let finite = points.filter { $0.0.isFinite && $0.1.isFinite }
        guard finite.count >= 3 else { return }
        let ys = finite.map(\.1)
        let yMin = max(0, Int(ys.min()!.rounded(.down))), yMax = min(height - 1, Int(ys.max()!.rounded(.up)))
        guard yMin <= yMax else { return }
        var xs: [Double] = []
        for y in yMin...yMax {
            let sy = Double(y) + 0.5
            xs.removeAll(keepingCapacity: true)
            for i in 0..<finite.count {
                let (ax, ay) = finite[i], (bx, by) = finite[(i + 1) % finite.count]
                if (ay <= sy && by > sy) || (by <= sy && ay > sy) { xs.append(ax + (sy - ay) / (by - ay) * (bx - ax)) }
            }
            xs.sort()
            var i = 0
            while i + 1 < xs.count {
                let from = max(0, Int((xs[i] - 0.5).rounded(.up))), to = min(width - 1, Int((xs[i + 1] - 0.5).rounded(.down)))
                if from <= to { for x in from...to { plot(x, y, color) } }
                i += 2
            }
        }
    }

    /// Marker shapes.
    public enum Marker: Sendable { case dot, square, cross, plus }

    /// Draws a marker of the given size (pixels) centred at (x, y).
    public mutating func drawMarker(_ x: Double, _ y: Double, _ marker: Marker, size: Double, _ color: Color) {
        guard x.isFinite, y.isFinite else { return }
        let h = size / 2
        switch marker {
        case .dot:
            let r = Int(h.rounded(.up)), cx = Int(x.rounded()), cy = Int(y.rounded())
            for oy in -r...r { for ox in -r...r where Double(ox * ox + oy * oy) <= h * h + 0.25 { plot(cx + ox, cy + oy, color) } }
        case .square:
            fillRect(
                x0: Int((x - h).rounded()), y0: Int((y - h).rounded()), x1: Int((x + h).rounded()) + 1, y1: Int((y + h).rounded()) + 1,
                color)
        case .cross:
            drawLine(x - h, y - h, x + h, y + h, color); drawLine(x - h, y + h, x + h, y - h, color)
        case .plus:
            drawLine(x - h, y, x + h, y, color); drawLine(x, y - h, x, y + h, color)
        }
    }

    // MARK: - Single blending per stroke

    /// Per-stroke stamp so translucent thick lines do not darken where their discs overlap.
    private var stamp: UInt32 = 1
    private var stamps: [UInt32] = []

    private mutating func plotOnce(_ x: Int, _ y: Int, _ color: Color) {
        guard x >= 0, y >= 0, x < width, y < height else { return }
        if color.a == 255 { plot(x, y, color); return }
        if stamps.count != width * height { stamps = [UInt32](repeating: 0, count: width * height) }
        let i = y * width + x
        if stamps[i] == stamp { return }
        stamps[i] = stamp
        plot(x, y, color)
    }
}
