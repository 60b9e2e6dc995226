// LP's per-frame metrics (§1.4) against hand computations on tiny arrays: temporal norm, pose PCA and multiview PCA
// errors, their summary and their CSV layout.
import Foundation
import KinemaTestSupport
import Plotting
import PoseAnalysis
import PoseData
import PoseFormats
import PoseModels
import PosePrediction
import Testing

/// Three frames of two keypoints: `a` moves (3, 4) then stays; `b` is missing in frame 1.
private func tinyPrediction() throws -> PoseTable {
    try PoseTable.predictions(
        scorer: "heatmap_tracker", keypoints: ["a", "b"],
        x: [0, 10, 3, .nan, 3, 13], y: [0, 10, 4, .nan, 4, 10], likelihood: [1, 1, 1, 0.5, 1, 1])
}

@Test func temporalNormIsTheFrameToFrameDistance() throws {
    let norm = try FrameMetric.temporalNorm(try tinyPrediction())
    #expect(norm.name == "temporal_norm" && norm.rowKeys == ["0", "1", "2"])
    let v = norm.values
    #expect(v[0].isNaN && v[1].isNaN)  // the first row is NaN
    #expect(v[2] == 5 && v[3].isNaN)  // a: (0,0)→(3,4); b: missing
    #expect(v[4] == 0 && v[5].isNaN)  // a stays; b: missing before
}

@Test func summaryIsNaNIgnoringMedianAnd95thPercentile() {
    let metric = FrameMetric(
        name: "temporal_norm", keypoints: ["a", "b"], rowKeys: ["0", "1", "2", "3", "4"],
        values: [.nan, .nan, 1, 7, 2, 7, 3, 7, 4, 7])
    let a = metric.summaries[0], b = metric.summaries[1]
    #expect(a.keypoint == "a" && a.count == 4 && a.median == 2.5 && a.mean == 2.5)
    #expect(abs(a.percentile95 - 3.85) < 1e-12)  // numpy: 3 + 0.85·(4 − 3)
    #expect(b.median == 7 && b.percentile95 == 7)
    let lines = MetricsReport(metrics: [metric]).summaryLines(title: "per-frame metrics of v.mp4")
    #expect(lines[0] == "per-frame metrics of v.mp4 (median / 95th percentile, px):")
    #expect(lines[1].hasPrefix("keypoint") && lines[1].contains("temporal norm"))
    #expect(lines[2].hasPrefix("a ") && lines[2].contains("2.50 / 3.85"))
    #expect(lines[3].contains("7.00 / 7.00"))
}

@Test func metricCSVHasLightningPosesLayout() throws {
    let norm = try FrameMetric.temporalNorm(try tinyPrediction())
    #expect(norm.csvText() == ",a,b\n0,,\n1,5.0,\n2,0.0,\n")
    let folder = try TestFiles.temporaryDirectory("metric-csv")
    defer { try? FileManager.default.removeItem(at: folder) }
    let path = folder.appendingPathComponent("v_temporal_norm.csv").path
    try norm.write(to: path)
    #expect(try String(contentsOfFile: path, encoding: .utf8) == norm.csvText())
    #expect(try FileManager.default.contentsOfDirectory(atPath: folder.path) == ["v_temporal_norm.csv"])
}

/// A metric longer than one write block is written (a block at a time, never the whole text in memory) exactly as
/// its whole text.
@Test func longMetricIsWrittenInBlocksAsItsText() throws {
    let rows = 40_000
    let metric = FrameMetric(
        name: "temporal_norm", keypoints: ["a", "b", "c"], rowKeys: (0..<rows).map(String.init),
        values: (0..<(3 * rows)).map { $0 % 89 == 0 ? .nan : Double($0) / 7 })
    let folder = try TestFiles.temporaryDirectory("metric-blocks")
    defer { try? FileManager.default.removeItem(at: folder) }
    let path = folder.appendingPathComponent("v_temporal_norm.csv").path
    try metric.write(to: path)
    let written = try String(contentsOfFile: path, encoding: .utf8)
    #expect(written == metric.csvText())
    #expect(written.split(separator: "\n").count == rows + 1 && written.hasPrefix(",a,b,c\n0,,"))
}

@Test func posePCAErrorIsEachKeypointsDistanceFromItsReconstruction() throws {
    // Keypoints a and b in the PCA (4 coordinates, mean 0), only the axis along a's x kept; c not covered.
    let identity = (0..<4).map { i in (0..<4).map { $0 == i ? 1.0 : 0 } }
    let settings = UnsupervisedLossSettings.PCA(
        key: "losses.pca_singleview", observation: .pose(keypoints: [0, 1], centering: nil), logWeight: 0, componentsToKeep: .count(1),
        epsilon: 0)
    let subspace = FittedSubspace(
        settings: settings, pca: PosePCA(mean: [0, 0, 0, 0], components: identity, explainedVariance: [4, 3, 2, 1], keptCount: 1),
        epsilon: 0)
    let table = try PoseTable.predictions(
        scorer: "s", keypoints: ["a", "b", "c"], x: [3, 6, 9, 1, .nan, 0], y: [4, 8, 9, 1, 2, 0], likelihood: [1, 1, 1, 1, 1, 1])
    let error = subspace.frameErrors(table, name: "pca_singleview_error")
    // frame 0: (3,4,6,8) → reconstruction (3,0,0,0): a is 4 px off (its y), b 10 px (all of it)
    #expect(Array(error.values[0..<2]) == [4, 10])
    #expect(error.values[2].isNaN)  // c is not in the PCA
    #expect(error.values[3].isNaN && error.values[4].isNaN)  // frame 1 has a missing point: no projection
}

@Test func multiviewPCAErrorIsPerViewResidual() throws {
    // One body part seen in two views (keypoints 0 and 1); the kept axis says both views see the same x.
    let s = 1 / 2.0.squareRoot()
    let settings = UnsupervisedLossSettings.PCA(
        key: "losses.pca_multiview", observation: .bodyPartInViews([[0], [1]]), logWeight: 0, componentsToKeep: .count(1), epsilon: 0)
    let pca = PosePCA(
        mean: [0, 0, 0, 0], components: [[s, 0, s, 0], [0, 1, 0, 0], [0, 0, 0, 1], [s, 0, -s, 0]], explainedVariance: [4, 1, 1, 1],
        keptCount: 1)
    let table = try PoseTable.predictions(
        scorer: "s", keypoints: ["nose_top", "nose_bot"], x: [2, 4, 5, 5], y: [1, -1, 0, 0], likelihood: [1, 1, 1, 1])
    let error = FittedSubspace(settings: settings, pca: pca, epsilon: 0).frameErrors(table, name: "pca_multiview_error")
    // frame 0: (2,1 | 4,−1) → (3,0 | 3,0): each view is √2 px off; frame 1 agrees exactly
    #expect(abs(error.values[0] - 2.0.squareRoot()) < 1e-12 && abs(error.values[1] - 2.0.squareRoot()) < 1e-12)
    #expect(abs(error.values[2]) < 1e-12 && abs(error.values[3]) < 1e-12)
}

@Test func metricsPictureShowsEveryMetric() throws {
    let norm = try FrameMetric.temporalNorm(
        try PoseTable.predictions(
            scorer: "s", keypoints: ["a", "b"], x: (0..<40).map { Double($0 % 7) }, y: (0..<40).map { Double($0 / 3) },
            likelihood: [Double](repeating: 1, count: 40)))
    let twice = FrameMetric(
        name: "pca_singleview_error", keypoints: norm.keypoints, rowKeys: norm.rowKeys, values: norm.values.map { $0 * 2 })
    let picture = MetricsReport(metrics: [norm, twice]).figure(title: "per-frame metrics of v.mp4")
    #expect(picture.width == 1500 && picture.height > 2 * 330)
    // both rows have their bars (tab10 blue) in the right-hand panels
    for row in 0..<2 {
        let y0 = 40 + row * 330, y1 = y0 + 330
        let blue = (y0..<y1).reduce(0) { n, y in n + (760..<1500).filter { picture.pixel($0, y) == PosePlots.color(0) }.count }
        #expect(blue > 1000, "row \(row) has \(blue) bar pixels")  // more than the legend's swatch
    }
}
