// Line plots on a grid of subplots: axes with "nice" ticks and labels, lines, filled bands,
// markers and a legend, rendered onto a Canvas.
import Foundation

// MARK: - Series

/// Something drawn in data coordinates on one subplot.
public enum PlotSeries: Sendable {
    /// A polyline; NaN values break the line.
    case line(x: [Double], y: [Double], color: Color, width: Double = 1.5, label: String? = nil)
    /// A filled band between `lower` and `upper`; NaN values break the band.
    case band(x: [Double], lower: [Double], upper: [Double], color: Color, label: String? = nil)
    /// Unconnected markers.
    case markers(x: [Double], y: [Double], color: Color, marker: Canvas.Marker = .dot, size: Double = 3, label: String? = nil)
}

/// One subplot: series plus title and axis labels; ranges default to the data's extent.
public struct Axes: Sendable {
    public var title: String
    public var xLabel: String
    public var yLabel: String
    public var series: [PlotSeries] = []
    public var xRange: ClosedRange<Double>? = nil
    public var yRange: ClosedRange<Double>? = nil
    public var showLegend = true

    public init(title: String = "", xLabel: String = "", yLabel: String = "") {
        self.title = title; self.xLabel = xLabel; self.yLabel = yLabel
    }

    public mutating func line(x: [Double], y: [Double], color: Color, width: Double = 1.5, label: String? = nil) {
        series.append(.line(x: x, y: y, color: color, width: width, label: label))
    }
    public mutating func band(x: [Double], lower: [Double], upper: [Double], color: Color, label: String? = nil) {
        series.append(.band(x: x, lower: lower, upper: upper, color: color, label: label))
    }
    public mutating func markers(
        x: [Double], y: [Double], color: Color, marker: Canvas.Marker = .dot, size: Double = 3, label: String? = nil
    ) {
        series.append(.markers(x: x, y: y, color: color, marker: marker, size: size, label: label))
    }

    /// Data extent over all series (finite values only).
    func extent() -> (ClosedRange<Double>, ClosedRange<Double>) {
        var xs: [Double] = [], ys: [Double] = []
        for s in series {
            switch s {
            case .line(let x, let y, _, _, _), .markers(let x, let y, _, _, _, _): xs += x; ys += y
            case .band(let x, let lo, let hi, _, _): xs += x; ys += lo; ys += hi
            }
        }
        func range(_ v: [Double]) -> ClosedRange<Double> {
            let f = v.filter(\.isFinite)
            guard let lo = f.min(), let hi = f.max() else { return 0...1 }
            if lo == hi { return (lo - 1)...(hi + 1) }
            let pad = (hi - lo) * 0.03
            return (lo - pad)...(hi + pad)
        }
        return (xRange ?? range(xs), yRange ?? range(ys))
    }
}

// MARK: - Figure

/// A grid of subplots rendered to a PNG.
public struct Figure: Sendable {
    public var width: Int
    public var height: Int
    public var rows: Int
    public var columns: Int
    public var title: String
    /// Subplots in row-major order (`rows × columns`).
    public var axes: [Axes]
    /// Integer text scale (1 = 5×7 pixel glyphs).
    public var textScale: Int

    public init(width: Int = 1200, height: Int = 800, rows: Int = 1, columns: Int = 1, title: String = "", textScale: Int = 1) {
        self.width = width; self.height = height; self.rows = max(1, rows); self.columns = max(1, columns)
        self.title = title; self.textScale = max(1, textScale)
        axes = Array(repeating: Axes(), count: self.rows * self.columns)
    }

    /// Renders all subplots.
    public func render() -> Canvas {
        var canvas = Canvas(width: width, height: height)
        let s = textScale
        let top = title.isEmpty ? 0 : Canvas.textHeight(scale: s + 1) + 10
        if !title.isEmpty {
            canvas.drawText(title, x: (width - Canvas.textWidth(title, scale: s + 1)) / 2, y: 6, .black, scale: s + 1)
        }
        let cellW = width / columns, cellH = (height - top) / rows
        for (i, ax) in axes.enumerated() where i < rows * columns {
            let r = i / columns, c = i % columns
            draw(ax, on: &canvas, x: c * cellW, y: top + r * cellH, w: cellW, h: cellH)
        }
        return canvas
    }

    /// Renders and writes the PNG atomically.
    public func save(to url: URL) throws { try render().writePNG(to: url) }

    // MARK: - One subplot

    private func draw(_ ax: Axes, on canvas: inout Canvas, x: Int, y: Int, w: Int, h: Int) {
        let s = textScale, th = Canvas.textHeight(scale: s)
        let left = x + 14 + th + 8 * 6 * s, right = x + w - 12
        let plotTop = y + (ax.title.isEmpty ? 8 : th + 14), bottom = y + h - (2 * th + 22)
        guard right - left > 20, bottom - plotTop > 20 else { return }
        let (xr, yr) = ax.extent()
        let xTicks = niceTicks(xr), yTicks = niceTicks(yr)
        func px(_ v: Double) -> Double { Double(left) + (v - xr.lowerBound) / (xr.upperBound - xr.lowerBound) * Double(right - left) }
        func py(_ v: Double) -> Double { Double(bottom) - (v - yr.lowerBound) / (yr.upperBound - yr.lowerBound) * Double(bottom - plotTop) }
        // Grid and tick labels.
        for t in yTicks.values {
            let yy = py(t)
            canvas.drawLine(Double(left), yy, Double(right), yy, .lightGrey)
            let label = format(t, step: yTicks.step)
            canvas.drawText(label, x: left - 6 - Canvas.textWidth(label, scale: s), y: Int(yy) - th / 2, .black, scale: s)
        }
        for t in xTicks.values {
            let xx = px(t)
            canvas.drawLine(xx, Double(plotTop), xx, Double(bottom), .lightGrey)
            let label = format(t, step: xTicks.step)
            canvas.drawText(label, x: Int(xx) - Canvas.textWidth(label, scale: s) / 2, y: bottom + 6, .black, scale: s)
        }
        // Series, clipped to the plot rectangle by drawing onto a sub-canvas.
        var plot = Canvas(width: right - left + 1, height: bottom - plotTop + 1, background: Color(0, 0, 0, 0))
        let ox = Double(left), oy = Double(plotTop)
        for series in ax.series {
            switch series {
            case .band(let xs, let lo, let hi, let color, _):
                for run in finiteRuns(xs.count, { xs[$0].isFinite && lo[$0].isFinite && hi[$0].isFinite }) {
                    let upper = run.map { (px(xs[$0]) - ox, py(hi[$0]) - oy) }
                    let lower = run.reversed().map { (px(xs[$0]) - ox, py(lo[$0]) - oy) }
                    plot.fillPolygon(upper + lower, color)
                }
            case .line(let xs, let ys, let color, let width, _):
                for run in finiteRuns(xs.count, { xs[$0].isFinite && ys[$0].isFinite }) {
                    for (a, b) in zip(run, run.dropFirst()) {
                        plot.drawLine(px(xs[a]) - ox, py(ys[a]) - oy, px(xs[b]) - ox, py(ys[b]) - oy, color, width: width)
                    }
                    if run.count == 1 { plot.drawMarker(px(xs[run[0]]) - ox, py(ys[run[0]]) - oy, .dot, size: width + 1, color) }
                }
            case .markers(let xs, let ys, let color, let marker, let size, _):
                for i in 0..<min(xs.count, ys.count) { plot.drawMarker(px(xs[i]) - ox, py(ys[i]) - oy, marker, size: size, color) }
            }
        }
        for yy in 0..<plot.height {
            for xx in 0..<plot.width { let p = plot.pixel(xx, yy); if p.a > 0 { canvas.plot(left + xx, plotTop + yy, p) } }
        }
        // Frame, title, labels.
        for (a, b, c, d) in [
            (left, plotTop, right, plotTop), (left, bottom, right, bottom), (left, plotTop, left, bottom), (right, plotTop, right, bottom),
        ] {
            canvas.drawLine(Double(a), Double(b), Double(c), Double(d), .black)
        }
        if !ax.title.isEmpty {
            canvas.drawText(ax.title, x: (left + right - Canvas.textWidth(ax.title, scale: s)) / 2, y: y + 6, .black, scale: s)
        }
        if !ax.xLabel.isEmpty {
            canvas.drawText(ax.xLabel, x: (left + right - Canvas.textWidth(ax.xLabel, scale: s)) / 2, y: bottom + th + 12, .black, scale: s)
        }
        if !ax.yLabel.isEmpty {
            canvas.drawTextVertical(
                ax.yLabel, x: x + 6, y: (plotTop + bottom + Canvas.textWidth(ax.yLabel, scale: s)) / 2, .black, scale: s)
        }
        if ax.showLegend { drawLegend(ax, on: &canvas, right: right, top: plotTop) }
    }

    private func drawLegend(_ ax: Axes, on canvas: inout Canvas, right: Int, top: Int) {
        let s = textScale, th = Canvas.textHeight(scale: s)
        var entries: [(String, PlotSeries)] = []
        for series in ax.series {
            switch series {
            case .line(_, _, _, _, let l?), .band(_, _, _, _, let l?), .markers(_, _, _, _, _, let l?): entries.append((l, series))
            default: break
            }
        }
        guard !entries.isEmpty else { return }
        let rowH = th + 6, boxW = 22 + 6 + (entries.map { Canvas.textWidth($0.0, scale: s) }.max() ?? 0) + 10
        let x0 = right - boxW - 6, y0 = top + 6
        canvas.fillRect(x0: x0, y0: y0, x1: x0 + boxW, y1: y0 + rowH * entries.count + 6, Color(255, 255, 255, 215))
        for (i, (label, series)) in entries.enumerated() {
            let cy = Double(y0 + 6 + i * rowH + th / 2)
            let sx = Double(x0 + 6)
            switch series {
            case .line(_, _, let color, let width, _): canvas.drawLine(sx, cy, sx + 22, cy, color, width: max(width, 2))
            case .band(_, _, _, let color, _):
                canvas.fillRect(x0: Int(sx), y0: Int(cy) - th / 2, x1: Int(sx) + 22, y1: Int(cy) + th / 2 + 1, color)
            case .markers(_, _, let color, let marker, let size, _): canvas.drawMarker(sx + 11, cy, marker, size: max(size, 4), color)
            }
            canvas.drawText(label, x: x0 + 6 + 22 + 6, y: Int(cy) - th / 2, .black, scale: s)
        }
    }
}

// MARK: - Ticks

/// About five "nice" tick values (1, 2, 5 × 10ⁿ steps) inside the range.
func niceTicks(_ range: ClosedRange<Double>, target: Int = 6) -> (values: [Double], step: Double) {
    let span = range.upperBound - range.lowerBound
    guard span > 0, span.isFinite else { return ([range.lowerBound], 1) }
    let raw = span / Double(target)
    let magnitude = pow(10, floor(log10(raw)))
    let step = [1.0, 2, 5, 10].map { $0 * magnitude }.first { $0 >= raw } ?? 10 * magnitude
    var values: [Double] = []
    var v = ceil(range.lowerBound / step) * step
    while v <= range.upperBound + step * 1e-9 { values.append(abs(v) < step * 1e-9 ? 0 : v); v += step }
    return (values, step)
}

/// Tick label with as many decimals as the step needs.
func format(_ v: Double, step: Double) -> String {
    let decimals = max(0, Int(-floor(log10(step)) + 0.5))
    if abs(v) >= 1e6 || (abs(v) < 1e-4 && v != 0) { return String(format: "%.1e", v) }
    return String(format: "%.\(min(decimals, 6))f", v)
}

/// Index runs where `ok` holds (NaN gaps split lines and bands).
func finiteRuns(_ n: Int, _ ok: (Int) -> Bool) -> [[Int]] {
    var runs: [[Int]] = [], current: [Int] = []
    for i in 0..<n {
        if ok(i) { current.append(i) } else if !current.isEmpty { runs.append(current); current = [] }
    }
    if !current.isEmpty { runs.append(current) }
    return runs
}
