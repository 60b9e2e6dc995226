// `kinema plot`: numbers behind the pictures (jump histogram counts, label errors) and pixels where a known point must
// be drawn.
import Foundation
import KinemaTestSupport
import Plotting
import PoseAnalysis
import PoseFormats
import Testing

private let black = Color.black

/// The plot rectangle of the subplot in rows `band` of the picture: its frame is the only black line longer than
/// 100 px (text is shorter).
private func plotRectangle(_ c: Canvas, rows band: Range<Int>) -> (left: Int, right: Int, top: Int, bottom: Int)? {
    let columns = (0..<c.width).filter { x in band.filter { c.pixel(x, $0) == black }.count > 100 }
    guard let left = columns.min(), let right = columns.max(), right - left > 100 else { return nil }
    let rows = band.filter { y in (left...right).filter { c.pixel($0, y) == black }.count > (right - left) * 9 / 10 }
    guard let top = rows.min(), let bottom = rows.max() else { return nil }
    return (left, right, top, bottom)
}

@Test func trajectoryPointsAreDrawnWhereTheyMustBeAndUnsurePointsAreLeftOut() throws {
    // One keypoint moving right by 10 px a frame; frame 3 is a wild point the network was unsure of.
    var x = (0..<8).map { 10 * Double($0) + 10 }
    x[3] = 400
    var likelihood = [Double](repeating: 0.9, count: 8)
    likelihood[3] = 0.1
    let table = try PoseTable.predictions(
        scorer: "s", keypoints: ["nose"], x: x, y: [Double](repeating: 50, count: 8), likelihood: likelihood)
    let picture = try PosePlots.trajectories(table, pcutoff: 0.6, title: "test").render()
    let frame = try #require(plotRectangle(picture, rows: 0..<(picture.height / 2)))
    let xr = PosePlots.paddedRange((0..<8).map(Double.init))
    let yr = PosePlots.paddedRange(x.enumerated().map { $0.offset == 3 ? .nan : $0.element })
    #expect(yr.upperBound < 100)  // the unsure point does not stretch the axis
    func pixel(_ t: Double, _ v: Double) -> (Int, Int) {
        let px = Double(frame.left) + (t - xr.lowerBound) / (xr.upperBound - xr.lowerBound) * Double(frame.right - frame.left)
        let py = Double(frame.bottom) - (v - yr.lowerBound) / (yr.upperBound - yr.lowerBound) * Double(frame.bottom - frame.top)
        return (frame.left + Int((px - Double(frame.left)).rounded()), frame.top + Int((py - Double(frame.top)).rounded()))
    }
    for t in [0, 1, 2, 4, 5] {  // (frame 7 is under the legend)
        let (px, py) = pixel(Double(t), x[t])
        #expect(picture.pixel(px, py) == PosePlots.color(0), "frame \(t) is not drawn at (\(px), \(py))")
    }
    // Frame 3 is left out: the line breaks, so nothing of the keypoint's colour is in its column.
    let (column, _) = pixel(3, 40)
    #expect(!(frame.top..<frame.bottom).contains { picture.pixel(column, $0) == PosePlots.color(0) })
}

@Test func jumpHistogramCountsConfidentJumpsByHand() throws {
    // a: jumps 3, 4, 0, then 30 (into frame 4); b: 1, 0, then into an unsure frame and out of it (both left out).
    let table = try PoseTable.predictions(
        scorer: "s", keypoints: ["a", "b"],
        x: [0, 0, 3, 1, 7, 1, 7, 2, 37, 2], y: [0, 0, 0, 0, 0, 0, 0, 0, 0, 0],
        likelihood: [1, 1, 1, 1, 1, 1, 1, 0.2, 1, 1])
    let stats = try JumpStatistics(table, pcutoff: 0.6, bins: 10)
    #expect(stats.total == 6)
    #expect(stats.edges.first == 0 && stats.edges.last == 30 && stats.edges.count == 11)
    #expect(stats.counts == [3, 2, 0, 0, 0, 0, 0, 0, 0, 1])  // [0, 3): 0, 1, 0; [3, 6): 3, 4; [27, 30]: 30
    #expect(stats.largest.first?.keypoint == "a" && stats.largest.first?.row == "4" && stats.largest.first?.pixels == 30)
}

@Test func labelErrorsUseTheVideosLabelledFrames() throws {
    let folder = try TestFiles.temporaryDirectory("plot-labels")
    defer { try? FileManager.default.removeItem(at: folder) }
    let frames = 20
    let prediction = try PoseTable.predictions(
        scorer: "DLC_Resnet50_reachOct30shuffle1_snapshot_best-5", keypoints: ["nose", "paw"],
        x: (0..<(2 * frames)).map { Double($0) }, y: [Double](repeating: 10, count: 2 * frames),
        likelihood: [Double](repeating: 0.9, count: 2 * frames))
    // DeepLabCut's name: <video><scorer>.csv
    let url = folder.appendingPathComponent("reachDLC_Resnet50_reachOct30shuffle1_snapshot_best-5.csv")
    try prediction.write(to: url)
    // Frame 3: nose predicted at (6, 10), labelled at (6, 14) → 4 px; paw (7, 10) vs (10, 14) → 5 px.
    // Frame 10: nose (20, 10) vs (20, 10) → 0; paw unlabelled. Another video's frame 3 must not count.
    let labels = try PoseTable(
        scorer: "Ana", keypoints: ["nose", "paw"], coords: ["x", "y"],
        rowKeys: ["labeled-data/reach/img03.png", "labeled-data/reach/img10.png", "labeled-data/other/img03.png"],
        indexStyle: .imagePath, values: [6, 14, 10, 14, 20, 10, .nan, .nan, 0, 0, 0, 0])
    let labelsURL = folder.appendingPathComponent("CollectedData_Ana.csv")
    try labels.write(to: labelsURL)

    let written = try PosePlots.write(prediction: url, labels: labelsURL, folder: nil, pcutoff: 0.6)
    let out = folder.appendingPathComponent("plot-poses/reachDLC_Resnet50_reachOct30shuffle1_snapshot_best-5")
    #expect(
        written.files
            == [
                "plot.png", "plot-likelihood.png", "hist.png", "label-errors.png",
                "reachDLC_Resnet50_reachOct30shuffle1_snapshot_best-5_pixel_error.csv",
            ]
            .map { out.appendingPathComponent($0).path })
    let csv = try String(
        contentsOf: out.appendingPathComponent("reachDLC_Resnet50_reachOct30shuffle1_snapshot_best-5_pixel_error.csv"), encoding: .utf8)
    #expect(csv == ",nose,paw\nlabeled-data/reach/img03.png,4.0,5.0\nlabeled-data/reach/img10.png,0.0,\n")
    #expect(written.lines.contains { $0.hasPrefix("nose") && $0.contains("2.00 / 3.80") })  // median 2, 95th 0 + 0.95·4
    for file in written.files where file.hasSuffix(".png") {
        let bytes = try Data(contentsOf: URL(fileURLWithPath: file))
        #expect(bytes.starts(with: [0x89, 0x50, 0x4E, 0x47]), "\(file) is not a PNG")
    }

    // A prediction named after no labelled video: one line that says which videos the labels are for.
    let stranger = folder.appendingPathComponent("mouse3.csv")
    try prediction.write(to: stranger)
    #expect(
        throws: PoseAnalysisError(
            "\(labelsURL.path): its labels are for the videos other, reach, and the prediction mouse3.csv is named after none of them (a video prediction is <video>.csv)"
        )
    ) { try PosePlots.write(prediction: stranger, labels: labelsURL, folder: nil, pcutoff: 0.6) }
    #expect(!FileManager.default.fileExists(atPath: folder.appendingPathComponent("plot-poses/mouse3").path))  // nothing written
}
