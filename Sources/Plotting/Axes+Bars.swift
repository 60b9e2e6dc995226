// Bar charts and histograms on an `Axes` (each bar a filled band from 0), and pasting one canvas into another
// (a figure with a text panel under it).
extension Axes {
    /// One bar per interval `[edges[i], edges[i + 1]]`, from 0 up to `heights[i]`; `edges` has one more value than
    /// `heights`. The label goes into the legend once.
    public mutating func bars(edges: [Double], heights: [Double], color: Color, label: String? = nil) {
        for i in heights.indices where i + 1 < edges.count && heights[i].isFinite && heights[i] != 0 {
            band(x: [edges[i], edges[i + 1]], lower: [0, 0], upper: [heights[i], heights[i]], color: color, label: nil)
        }
        if let label { series.append(.band(x: [], lower: [], upper: [], color: color, label: label)) }
    }
}

extension Canvas {
    /// Copies `other` onto this canvas with its top-left pixel at (x, y), blending by its alpha; what falls outside
    /// is cut off.
    public mutating func draw(_ other: Canvas, x: Int, y: Int) {
        for oy in 0..<other.height {
            for ox in 0..<other.width { plot(x + ox, y + oy, other.pixel(ox, oy)) }
        }
    }

    /// Lines of text in black from (x, y) down, `scale` as `drawText`; returns the y below the last line.
    @discardableResult
    public mutating func drawLines(_ lines: [String], x: Int, y: Int, scale: Int = 1) -> Int {
        var top = y
        for line in lines {
            drawText(line, x: x, y: top, .black, scale: scale)
            top += Canvas.textHeight(scale: scale) + 4 * scale
        }
        return top
    }
}
