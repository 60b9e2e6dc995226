// What a person sees of a prediction's per-frame metrics: a one-screen summary (median and 95th percentile per
// keypoint) and `<stem>_metrics.png` (each metric over time, and per keypoint).
import Foundation
import KinemaFiles
import Plotting
import Smoothing

public struct MetricsReport: Sendable {
    public var metrics: [FrameMetric]

    public init(metrics: [FrameMetric]) { self.metrics = metrics }

    /// Short column titles for the summary table.
    static func shortName(_ metric: String) -> String {
        switch metric {
        case "temporal_norm": "temporal norm"
        case "pca_singleview_error": "pose PCA"
        case "pca_multiview_error": "multiview PCA"
        case "pixel_error": "pixel error"
        default: metric
        }
    }

    /// `title`, then one line per keypoint: median / 95th percentile of each metric in pixels (`-` where the metric
    /// does not cover the keypoint).
    public func summaryLines(title: String) -> [String] {
        guard let first = metrics.first else { return [] }
        let width = max(8, first.keypoints.map(\.count).max() ?? 8)
        func pad(_ s: String, _ n: Int) -> String { s.count >= n ? s : s + String(repeating: " ", count: n - s.count) }
        func cell(_ s: FrameMetric.KeypointSummary) -> String {
            s.count == 0 ? "-" : String(format: "%.2f / %.2f", s.median, s.percentile95)
        }
        var lines = [title + " (median / 95th percentile, px):"]
        lines.append(pad("keypoint", width) + metrics.map { "  " + pad(Self.shortName($0.name), 17) }.joined())
        let summaries = metrics.map(\.summaries)
        for (k, name) in first.keypoints.enumerated() {
            lines.append(pad(name, width) + summaries.map { "  " + pad(cell($0[k]), 17) }.joined())
        }
        return lines
    }

    /// One row per metric: on the left its per-frame median and maximum over the keypoints, on the right each
    /// keypoint's median (bar) and 95th percentile (dot); the keypoints' numbers are listed under the plots.
    public func figure(title: String) -> Canvas {
        let rows = max(1, metrics.count)
        var figure = Figure(width: 1500, height: 330 * rows + 40, rows: rows, columns: 2, title: title)
        for (m, metric) in metrics.enumerated() {
            let t = (0..<metric.rowCount).map { Double(Int(metric.rowKeys[$0]) ?? $0) }
            var median: [Double] = [], largest: [Double] = []
            for r in 0..<metric.rowCount {
                let row = (0..<metric.keypoints.count).map { metric.values[r * metric.keypoints.count + $0] }.filter(\.isFinite)
                median.append(row.isEmpty ? .nan : Stats.median(row))
                largest.append(row.max() ?? .nan)
            }
            var time = Axes(title: metric.title, xLabel: "frame", yLabel: "px")
            time.line(x: t, y: largest, color: Color.palette[3].withAlpha(0.6), width: 1, label: "worst keypoint")
            time.line(x: t, y: median, color: Color.palette[0], width: 1.5, label: "median over keypoints")
            time.xRange = PosePlots.paddedRange(t)
            time.yRange = 0...max(1e-6, PosePlots.paddedRange(largest).upperBound)
            figure.axes[2 * m] = time

            let summaries = metric.summaries
            var perKeypoint = Axes(title: "per keypoint", xLabel: "keypoint (numbered below)", yLabel: "px")
            for (k, s) in summaries.enumerated() where s.median.isFinite {
                perKeypoint.band(
                    x: [Double(k) - 0.35, Double(k) + 0.35], lower: [0, 0], upper: [s.median, s.median], color: Color.palette[0])
            }
            perKeypoint.series.append(.band(x: [], lower: [], upper: [], color: Color.palette[0], label: "median"))
            perKeypoint.markers(
                x: summaries.indices.map(Double.init), y: summaries.map(\.percentile95), color: Color.palette[3], size: 7,
                label: "95th percentile")
            perKeypoint.xRange = -0.6...(Double(summaries.count) - 0.4)
            perKeypoint.yRange = 0...max(1e-6, (summaries.map(\.percentile95).filter(\.isFinite).max() ?? 1) * 1.15)
            figure.axes[2 * m + 1] = perKeypoint
        }
        return PosePlots.withNotes(figure.render(), PosePlots.keypointKey(metrics.first?.keypoints ?? [], width: 1500))
    }

    /// Writes the figure as PNG, atomically.
    public func writeFigure(title: String, to path: String) throws {
        try figure(title: title).writePNG(to: URL(fileURLWithPath: path))
    }
}
