// `kinema plot`: the pictures DeepLabCut users reach for (plot_trajectories), as PNG: x and y over time, likelihood
// over time, the histogram of frame-to-frame jumps, and the error per keypoint on labelled frames.
import Foundation
import Plotting
import PoseFormats

public enum PosePlots {
    /// DeepLabCut's default `pcutoff`: points below it are left out of the trajectory and jump plots.
    public static let defaultPcutoff = 0.6

    /// Keypoint `k`'s colour in every plot (matplotlib's tab10, repeating).
    public static func color(_ k: Int) -> Color { Color.palette[k % Color.palette.count] }

    /// The rows' positions on the time axis: frame numbers for video predictions, else 0, 1, 2, …
    static func times(_ table: PoseTable) -> [Double] { (table.frameNumbers ?? Array(0..<table.rowCount)).map(Double.init) }

    /// The axis range the plots use for `values`: their finite extent with 5% to spare on each side.
    public static func paddedRange(_ values: [Double]) -> ClosedRange<Double> {
        let finite = values.filter(\.isFinite)
        guard let lo = finite.min(), let hi = finite.max() else { return 0...1 }
        if lo == hi { return (lo - 1)...(hi + 1) }
        return (lo - 0.05 * (hi - lo))...(hi + 0.05 * (hi - lo))
    }

    /// A coordinate of one keypoint with the points below `pcutoff` left out (NaN breaks the line).
    static func visible(_ table: PoseTable, keypoint k: Int, coord c: Int, pcutoff: Double) -> [Double] {
        let values = table.column(keypoint: k, coord: c)
        guard let li = table.coordIndex("likelihood") else { return values }
        let likelihood = table.column(keypoint: k, coord: li)
        return zip(values, likelihood).map { $1 >= pcutoff ? $0 : .nan }
    }

    /// x (top) and y (bottom) of every keypoint over time, in frame pixels; points below `pcutoff` left out.
    public static func trajectories(_ table: PoseTable, pcutoff: Double, title: String) throws -> Figure {
        guard let xi = table.coordIndex("x"), let yi = table.coordIndex("y") else {
            throw PoseAnalysisError("the prediction has no x and y columns (found \(table.coords.joined(separator: ", ")))")
        }
        let t = times(table)
        var figure = Figure(width: 1400, height: 900, rows: 2, columns: 1, title: title)
        for (panel, (c, name)) in [(xi, "x"), (yi, "y")].enumerated() {
            var axes = Axes(title: "\(name) over time (likelihood >= \(pcutoff))", xLabel: "frame", yLabel: "\(name) (px)")
            var all: [Double] = []
            for k in table.keypoints.indices {
                let v = visible(table, keypoint: k, coord: c, pcutoff: pcutoff)
                all += v
                axes.line(x: t, y: v, color: color(k), width: 1, label: table.keypoints[k])
            }
            axes.xRange = paddedRange(t)
            axes.yRange = paddedRange(all)
            figure.axes[panel] = axes
        }
        return figure
    }

    /// Every keypoint's likelihood over time, with `pcutoff` as a grey line.
    public static func likelihood(_ table: PoseTable, pcutoff: Double, title: String) throws -> Figure {
        guard let li = table.coordIndex("likelihood") else {
            throw PoseAnalysisError("the prediction has no likelihood column (found \(table.coords.joined(separator: ", ")))")
        }
        let t = times(table)
        var figure = Figure(width: 1400, height: 600, title: title)
        var axes = Axes(title: "likelihood over time", xLabel: "frame", yLabel: "likelihood")
        for k in table.keypoints.indices {
            axes.line(x: t, y: table.column(keypoint: k, coord: li), color: color(k), width: 1, label: table.keypoints[k])
        }
        axes.line(x: [t.first ?? 0, t.last ?? 1], y: [pcutoff, pcutoff], color: .grey, width: 1, label: "pcutoff \(pcutoff)")
        axes.xRange = paddedRange(t)
        axes.yRange = -0.02...1.02
        figure.axes[0] = axes
        return figure
    }

    /// The histogram of jumps, with the largest ones listed under it.
    public static func jumps(_ stats: JumpStatistics, pcutoff: Double, title: String) -> Canvas {
        var figure = Figure(width: 1000, height: 600, title: title)
        var axes = Axes(
            title: "frame-to-frame jumps of every keypoint (\(stats.total) jumps between frames with likelihood >= \(pcutoff))",
            xLabel: "jump (px)", yLabel: "count")
        axes.bars(edges: stats.edges, heights: stats.counts.map(Double.init), color: Color.palette[0])
        axes.xRange = stats.edges.first!...stats.edges.last!
        axes.yRange = 0...Double(max(1, stats.counts.max() ?? 1)) * 1.05
        axes.showLegend = false
        figure.axes[0] = axes
        let notes =
            ["largest jumps:"]
            + stats.largest.map { "  \($0.keypoint) into frame \($0.row): \(String(format: "%.1f", $0.pixels)) px" }
        return withNotes(figure.render(), notes)
    }

    /// Error per keypoint on the labelled frames: the mean as a bar, the median and 95th percentile as markers.
    public static func labelErrors(_ errors: FrameMetric, title: String) -> Canvas {
        var figure = Figure(width: 1200, height: 600, title: title)
        var axes = Axes(
            title: "distance from the label on \(errors.rowCount) labelled frames", xLabel: "keypoint (numbered below)",
            yLabel: "error (px)")
        let summaries = errors.summaries
        let positions = summaries.indices.map(Double.init)
        for (i, s) in summaries.enumerated() where s.mean.isFinite {
            axes.band(x: [Double(i) - 0.35, Double(i) + 0.35], lower: [0, 0], upper: [s.mean, s.mean], color: Color.palette[0])
        }
        axes.series.append(.band(x: [], lower: [], upper: [], color: Color.palette[0], label: "mean"))
        axes.markers(x: positions, y: summaries.map(\.median), color: .black, marker: .plus, size: 9, label: "median")
        axes.markers(
            x: positions, y: summaries.map(\.percentile95), color: Color.palette[3], marker: .dot, size: 7, label: "95th percentile")
        axes.xRange = -0.6...(Double(summaries.count) - 0.4)
        axes.yRange = 0...max(1, summaries.map(\.percentile95).filter(\.isFinite).max() ?? 1) * 1.1
        figure.axes[0] = axes
        let table = summaries.enumerated().map {
            String(
                format: "%3d %@  mean %.2f  median %.2f  95th %.2f px (%d frames)", $0.offset, $0.element.keypoint, $0.element.mean,
                $0.element.median, $0.element.percentile95, $0.element.count)
        }
        return withNotes(figure.render(), table)
    }

    /// `0 nose   1 ear_l   …` wrapped to the picture's width.
    static func keypointKey(_ names: [String], width: Int) -> [String] {
        var lines: [String] = [], line = ""
        for (i, name) in names.enumerated() {
            let entry = "\(i) \(name)"
            if !line.isEmpty, Canvas.textWidth(line + "   " + entry) > width - 20 {
                lines.append(line)
                line = ""
            }
            line += (line.isEmpty ? "" : "   ") + entry
        }
        return line.isEmpty ? lines : lines + [line]
    }

    /// The picture with lines of text under it.
    static func withNotes(_ picture: Canvas, _ lines: [String]) -> Canvas {
        let lineHeight = Canvas.textHeight() + 4
        var canvas = Canvas(width: picture.width, height: picture.height + lines.count * lineHeight + 16)
        canvas.draw(picture, x: 0, y: 0)
        canvas.drawLines(lines, x: 14, y: picture.height + 6)
        return canvas
    }
}
