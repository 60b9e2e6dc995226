// The `--plot` picture: per keypoint and view, x and y over time with the ensemble members, the
// ensemble median and the smoothed trajectory with its ±2σ posterior band.
import Foundation
import Plotting

/// Figures of smoothing results.
public enum SmoothingPlot {
    /// One figure (x over time above y over time) for `keypoint` in `view`.
    /// - Parameters:
    ///   - members: the view's ensemble members, drawn as thin lines (nil to omit them).
    ///   - frames: the frame window to draw (default: all frames).
    public static func figure(
        result: SmoothingResult, view: Int, keypoint: Int, members: EnsembleMembers? = nil,
        frames: Range<Int>? = nil, width: Int = 1400, height: Int = 900
    ) -> Figure {
        let track = result.tracks[view][keypoint]
        let T = track.x.count
        let window = frames.map { max(0, $0.lowerBound)..<min(T, $0.upperBound) } ?? 0..<T
        let t = window.map(Double.init)
        let name = result.keypoints[keypoint] + (result.views[view].isEmpty ? "" : " (\(result.views[view]))")
        let sText = keypoint < result.smoothingParameters.count ? String(format: "s = %.4g", result.smoothingParameters[keypoint]) : ""
        var figure = Figure(width: width, height: height, rows: 2, columns: 1, title: "\(name)   \(sText)", textScale: 2)
        let smoothColor = Color(214, 39, 40), medianColor = Color.black
        for (row, coord) in ["x", "y"].enumerated() {
            var axes = Axes(title: "", xLabel: row == 1 ? "frame" : "", yLabel: "\(coord) (px)")
            if let members, keypoint < members.keypoints.count, members.frames == T {
                for m in 0..<members.memberCount {
                    let values = window.map { members.value(member: m, frame: $0, keypoint: keypoint, coord: row) }
                    let memberColors = [0, 2, 4, 9, 8, 6, 5, 1].map { Color.palette[$0] }  // no red: red is the smoothed track
                    let color = memberColors[m % memberColors.count].withAlpha(0.55)
                    axes.line(x: t, y: values, color: color, width: 1, label: m == 0 ? "members (\(members.memberCount))" : nil)
                }
            }
            let mean = row == 0 ? track.x : track.y
            let variance = row == 0 ? track.xPosteriorVariance : track.yPosteriorVariance
            let median = row == 0 ? track.xEnsembleMedian : track.yEnsembleMedian
            let sd = window.map { variance[$0].squareRoot() }
            axes.band(
                x: t, lower: zip(window, sd).map { mean[$0] - 2 * $1 }, upper: zip(window, sd).map { mean[$0] + 2 * $1 },
                color: smoothColor.withAlpha(0.22), label: "smoothed +/- 2 sd")
            axes.markers(
                x: t, y: window.map { median[$0] }, color: medianColor, marker: .dot, size: window.count > 600 ? 1.5 : 3,
                label: "ensemble median")
            axes.line(x: t, y: window.map { mean[$0] }, color: smoothColor, width: 2, label: "smoothed")
            figure.axes[row] = axes
        }
        return figure
    }

    /// All figures of a result, one per (view, keypoint), written as `<prefix><keypoint>[_<view>].png`.
    /// Returns the written files.
    @discardableResult
    public static func writeAll(
        result: SmoothingResult, members: [EnsembleMembers?], folder: URL, prefix: String = "eks_",
        frames: Range<Int>? = nil
    ) throws -> [URL] {
        var written: [URL] = []
        for v in 0..<result.views.count {
            for k in 0..<result.keypoints.count {
                let suffix = result.views[v].isEmpty ? "" : "_\(result.views[v])"
                let url = folder.appendingPathComponent("\(prefix)\(result.keypoints[k])\(suffix).png")
                try figure(result: result, view: v, keypoint: k, members: v < members.count ? members[v] : nil, frames: frames).save(
                    to: url)
                written.append(url)
            }
        }
        return written
    }
}
