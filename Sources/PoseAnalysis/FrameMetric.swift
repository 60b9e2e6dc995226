// Per-frame, per-keypoint quality metrics of a prediction (LP's §1.4 files): one value per (frame, keypoint), NaN
// where it is not defined, written as Lightning Pose writes them: a single header row (an empty cell, then the
// keypoint names) and the prediction's own row index.
import Foundation
import KinemaFiles
import PoseFormats
import Smoothing

/// One per-frame metric of one prediction, e.g. LP's temporal norm.
public struct FrameMetric: Sendable, Equatable {
    /// LP's file suffix without the underscore: `temporal_norm`, `pca_singleview_error`, `pca_multiview_error`,
    /// `pixel_error`.
    public var name: String
    public var keypoints: [String]
    /// The prediction's row keys (frame numbers for videos).
    public var rowKeys: [String]
    /// `values[row * keypoints.count + keypoint]`, frame pixels; NaN where undefined.
    public var values: [Double]

    public init(name: String, keypoints: [String], rowKeys: [String], values: [Double]) {
        precondition(values.count == keypoints.count * rowKeys.count, "metric shape")
        (self.name, self.keypoints, self.rowKeys, self.values) = (name, keypoints, rowKeys, values)
    }

    public var rowCount: Int { rowKeys.count }

    /// One keypoint's values over the rows.
    public func column(_ keypoint: Int) -> [Double] { (0..<rowCount).map { values[$0 * keypoints.count + keypoint] } }

    /// A title a person reads: `temporal norm`, `pose PCA error`, …
    public var title: String {
        switch name {
        case "temporal_norm": "temporal norm (px moved since the previous frame)"
        case "pca_singleview_error": "pose PCA error (px from the labels' pose subspace)"
        case "pca_multiview_error": "multiview PCA error (px from agreement between views)"
        case "pixel_error": "pixel error (px from the label)"
        default: name.replacingOccurrences(of: "_", with: " ")
        }
    }

    // MARK: - LP's definitions

    /// LP's temporal norm: ‖p_t − p_{t−1}‖₂ per keypoint in frame pixels; the first row is NaN.
    public static func temporalNorm(_ table: PoseTable) throws -> FrameMetric {
        guard let xi = table.coordIndex("x"), let yi = table.coordIndex("y") else {
            throw PoseAnalysisError("the prediction has no x and y columns (found \(table.coords.joined(separator: ", ")))")
        }
        let k = table.keypoints.count
        var values = [Double](repeating: .nan, count: table.rowCount * k)
        for r in 1..<max(1, table.rowCount) {
            for j in 0..<k {
                let dx = table.value(row: r, keypoint: j, coord: xi) - table.value(row: r - 1, keypoint: j, coord: xi)
                let dy = table.value(row: r, keypoint: j, coord: yi) - table.value(row: r - 1, keypoint: j, coord: yi)
                values[r * k + j] = (dx * dx + dy * dy).squareRoot()
            }
        }
        return FrameMetric(name: "temporal_norm", keypoints: table.keypoints, rowKeys: table.rowKeys, values: values)
    }

    /// LP's pixel error: the distance between prediction and label for the rows both have (`rows` pairs a prediction
    /// row with a label row); NaN where the label is missing.
    public static func pixelError(prediction: PoseTable, labels: PoseTable, rows: [(prediction: Int, label: Int)]) throws -> FrameMetric {
        guard let px = prediction.coordIndex("x"), let py = prediction.coordIndex("y"), let lx = labels.coordIndex("x"),
            let ly = labels.coordIndex("y")
        else { throw PoseAnalysisError("the prediction and the labels both need x and y columns") }
        let k = prediction.keypoints.count
        let labelIndex = prediction.keypoints.map { labels.keypointIndex($0) }
        var values = [Double](repeating: .nan, count: rows.count * k)
        for (i, pair) in rows.enumerated() {
            for j in 0..<k {
                guard let lj = labelIndex[j] else { continue }
                let dx =
                    prediction.value(row: pair.prediction, keypoint: j, coord: px) - labels.value(row: pair.label, keypoint: lj, coord: lx)
                let dy =
                    prediction.value(row: pair.prediction, keypoint: j, coord: py) - labels.value(row: pair.label, keypoint: lj, coord: ly)
                values[i * k + j] = (dx * dx + dy * dy).squareRoot()
            }
        }
        return FrameMetric(
            name: "pixel_error", keypoints: prediction.keypoints, rowKeys: rows.map { labels.rowKeys[$0.label] }, values: values)
    }

    // MARK: - Summary

    /// A keypoint's typical and bad-case values over the frames where the metric is defined.
    public struct KeypointSummary: Sendable, Equatable {
        public var keypoint: String
        /// NaN when no frame has a value.
        public var median: Double
        /// numpy's `nanpercentile(values, 95)` (linear interpolation).
        public var percentile95: Double
        public var mean: Double
        public var count: Int
    }

    /// Median, 95th percentile and mean per keypoint, NaN-ignoring.
    public var summaries: [KeypointSummary] {
        keypoints.indices.map { j in
            let finite = column(j).filter(\.isFinite)
            return KeypointSummary(
                keypoint: keypoints[j], median: Stats.nanMedian(finite),
                percentile95: finite.isEmpty ? .nan : Stats.percentile(finite, 95), mean: Stats.nanMean(finite), count: finite.count)
        }
    }

    // MARK: - File

    /// LP's CSV: `,kp0,kp1,…` then one line per row, NaN as an empty cell (as pandas writes it).
    public func csvText() -> String { header + lines(0..<rowCount) }

    /// Writes the CSV atomically (temporary file, then rename), a block of rows at a time: a long video's metric
    /// file is never all in memory.
    public func write(to path: String) throws {
        let file = try AtomicFile.Writer(url: URL(fileURLWithPath: path))
        try file.write(Array(header.utf8))
        for start in stride(from: 0, to: rowCount, by: Self.rowsPerWriteBlock) {
            try file.write(Array(lines(start..<min(rowCount, start + Self.rowsPerWriteBlock)).utf8))
        }
        try file.commit()
    }

    /// Rows formatted and written at a time by `write(to:)`.
    static let rowsPerWriteBlock = 16_384

    private var header: String { "," + keypoints.map(csvCell).joined(separator: ",") + "\n" }

    private func lines(_ rows: Range<Int>) -> String {
        var text = ""
        let k = keypoints.count
        for r in rows {
            text += csvCell(rowKeys[r])
            for j in 0..<k {
                let v = values[r * k + j]
                text += v.isNaN ? "," : "," + v.description
            }
            text += "\n"
        }
        return text
    }

    private func csvCell(_ s: String) -> String {
        s.contains(",") || s.contains("\"") || s.contains("\n") ? "\"" + s.replacingOccurrences(of: "\"", with: "\"\"") + "\"" : s
    }
}
