// `kinema filter`: SciPy's medfilt and savgol_filter (fixtures from scripts/dev/make-filter-fixtures.py), the
// handling of unsure and missing points, EKS on one prediction, and the files written beside the input.
import Foundation
import KinemaTestSupport
import PoseAnalysis
import PoseFormats
import Testing

/// The fixture: the input column, its likelihood, and SciPy's answer per case.
private struct ScipyCases {
    struct Case {
        let name: String, window: Int, order: Int, pBound: Double
        let expected: [Double]
    }
    let x: [Double], likelihood: [Double], cases: [Case]

    static let shared: ScipyCases = {
        let url = TestFiles.fixtures("PoseAnalysisTests").appendingPathComponent("filter-fixtures.csv")
        let text = try! String(contentsOf: url, encoding: .utf8)
        let rows = text.split(separator: "\n").dropFirst().map { $0.split(separator: ",").map(String.init) }
        func numbers(_ row: [String]) -> [Double] { row.dropFirst(4).map { Double($0)! } }
        return ScipyCases(
            x: numbers(rows[0]), likelihood: numbers(rows[1]),
            cases: rows.dropFirst(2).map {
                Case(name: $0[0], window: Int($0[1])!, order: Int($0[2])!, pBound: Double($0[3])!, expected: numbers($0))
            })
    }()
}

private func maxDifference(_ a: [Double], _ b: [Double]) -> Double {
    zip(a, b).map { abs($0 - $1) }.max() ?? .infinity
}

/// One keypoint `paw` whose x is the fixture's column, y a scaled copy, and the fixture's likelihood.
private func fixtureTable() throws -> PoseTable {
    let f = ScipyCases.shared
    return try PoseTable.predictions(
        scorer: "heatmap_tracker", keypoints: ["paw"], x: f.x, y: f.x.map { 0.5 * $0 + 3 }, likelihood: f.likelihood)
}

@Test func medianAndSavitzkyGolayEqualSciPy() {
    let f = ScipyCases.shared
    #expect(f.cases.count == 12)
    for c in f.cases where c.pBound == 0 {
        let got =
            c.name == "median"
            ? SignalFilters.median(f.x, window: c.window) : SignalFilters.savitzkyGolay(f.x, window: c.window, order: c.order)
        #expect(got.count == f.x.count)
        #expect(maxDifference(got, c.expected) < 1e-6, "\(c.name) window \(c.window) order \(c.order)")
    }
    // medfilt's zero padding: a window reaching past the start takes zeros into the median
    #expect(SignalFilters.median([5, 6, 7], window: 5) == [5, 5, 5])
    #expect(SignalFilters.median([5, 6, 7], window: 3) == [5, 6, 6])
}

@Test func unsurePointsAreFilledFromNeighboursLikeTheSciPyReference() throws {
    let f = ScipyCases.shared
    for c in f.cases where c.pBound > 0 {
        let method: PredictionFilter.Method = c.name.hasPrefix("median") ? .median : .savgol
        let filter = PredictionFilter(method: method, window: c.window, order: c.order, pBound: c.pBound)
        let table = try fixtureTable()
        let out = try filter.apply(table, name: "fixture")
        #expect(maxDifference(out.column(keypoint: 0, coord: 0), c.expected) < 1e-6, "\(c.name)")
        // y is a linear function of x, and so are both filters' outputs
        #expect(maxDifference(out.column(keypoint: 0, coord: 1), c.expected.map { 0.5 * $0 + 3 }) < 1e-6, "\(c.name)")
        #expect(out.column(keypoint: 0, coord: 2) == f.likelihood)  // likelihoods are kept
        #expect(out.rowKeys == table.rowKeys && out.scorer == table.scorer)
    }
}

@Test func medianKeepsEveryPointAsDeepLabCutDoesAndMissingPointsStayMissing() throws {
    let f = ScipyCases.shared
    let dlc = try #require(f.cases.first { $0.name == "median" && $0.window == 5 })
    var table = try fixtureTable()
    let out = try PredictionFilter(method: .median, window: 5).apply(table, name: "fixture")
    #expect(maxDifference(out.column(keypoint: 0, coord: 0), dlc.expected) < 1e-12)  // no p-bound: the unsure spikes count

    // A missing point stays missing and does not punch a hole into its neighbours: they are filtered as if it were the
    // line between its neighbours.
    table.setValue(.nan, row: 30, keypoint: 0, coord: 0)
    let gap = try PredictionFilter(method: .savgol, window: 7, order: 2, pBound: 0).apply(table, name: "fixture")
    let x = gap.column(keypoint: 0, coord: 0)
    #expect(x[30].isNaN)
    #expect(x.enumerated().allSatisfy { $0.offset == 30 || $0.element.isFinite })
    var bridged = f.x
    bridged[30] = (f.x[29] + f.x[31]) / 2
    let expected = SignalFilters.savitzkyGolay(bridged, window: 7, order: 2)
    #expect(abs(x[29] - expected[29]) < 1e-9 && abs(x[33] - expected[33]) < 1e-9)
}

@Test func eksSmoothsNoiseAndIgnoresUnsureSpikes() throws {
    // A slow circle with pixel noise, and three wild points the network was unsure of.
    let n = 200
    var seed: UInt64 = 42
    func noise() -> Double {  // deterministic, roughly normal (sum of uniforms)
        var s = 0.0
        for _ in 0..<6 {
            seed = seed &* 6_364_136_223_846_793_005 &+ 1_442_695_040_888_963_407
            s += Double(seed >> 11) / Double(1 << 53)
        }
        return (s - 3) * 2
    }
    let truthX = (0..<n).map { 100 + 30 * cos(Double($0) / 20) }, truthY = (0..<n).map { 80 + 30 * sin(Double($0) / 20) }
    var x = truthX.map { $0 + noise() }, y = truthY.map { $0 + noise() }
    var likelihood = [Double](repeating: 0.95, count: n)
    for spike in [50, 120, 121] {
        x[spike] += 60
        y[spike] -= 45
        likelihood[spike] = 0.02
    }
    let table = try PoseTable.predictions(scorer: "heatmap_tracker", keypoints: ["nose"], x: x, y: y, likelihood: likelihood)
    let out = try PredictionFilter(method: .eks).apply(table, name: "circle")
    func rms(_ a: [Double], _ b: [Double]) -> Double {
        var sum = 0.0
        for i in a.indices {
            let dx = a[i] - truthX[i], dy = b[i] - truthY[i]
            sum += dx * dx + dy * dy
        }
        return (sum / Double(a.count)).squareRoot()
    }
    func offTruth(_ t: PoseTable, _ r: Int) -> Double {
        hypot(t.value(row: r, keypoint: 0, coord: 0) - truthX[r], t.value(row: r, keypoint: 0, coord: 1) - truthY[r])
    }
    let before = rms(x, y)
    let after = rms(out.column(keypoint: 0, coord: 0), out.column(keypoint: 0, coord: 1))
    #expect(after < 0.6 * before, "EKS error \(after) px against \(before) px raw")
    #expect(out.column(keypoint: 0, coord: 2) == likelihood)
    // Variance 1/likelihood alone only tempers a wild point (the EKS package's rule); with --p-bound it is taken out.
    let bounded = try PredictionFilter(method: .eks, pBound: 0.1).apply(table, name: "circle")
    for spike in [50, 120, 121] {
        #expect(offTruth(out, spike) < 0.8 * hypot(60, 45), "frame \(spike) is \(offTruth(out, spike)) px off")
        #expect(offTruth(bounded, spike) < 5, "frame \(spike) is still \(offTruth(bounded, spike)) px off")
    }
    #expect(rms(bounded.column(keypoint: 0, coord: 0), bounded.column(keypoint: 0, coord: 1)) < 2)
}

@Test func badSettingsAreOneLineNamingTheOption() throws {
    let table = try fixtureTable()
    let cases: [(PredictionFilter, String)] = [
        (PredictionFilter(method: .median, window: 4), "--window must be an odd number"),
        (PredictionFilter(method: .savgol, window: 5, order: 5), "--order must be at least 0 and smaller than --window (5)"),
        (PredictionFilter(method: .savgol, window: 101, order: 3), "has 61 frames, fewer than the Savitzky–Golay --window 101"),
        (PredictionFilter(method: .median, pBound: 1.5), "--p-bound must be a likelihood"),
    ]
    for (filter, words) in cases {
        do {
            _ = try filter.apply(table, name: "p.csv")
            Issue.record("\(filter) should fail")
        } catch {
            #expect("\(error)".contains(words), "\(error)")
            #expect(!"\(error)".contains("\n"))
        }
    }
    let labels = try PoseTable(scorer: "me", keypoints: ["a"], coords: ["x", "y"], rowKeys: ["0", "1"], values: [1, 2, 3, 4])
    #expect(throws: PoseAnalysisError("p.csv: EKS needs a likelihood column per keypoint (found x, y)")) {
        try PredictionFilter(method: .eks).apply(labels, name: "p.csv")
    }
}

@Test func filteredFilesGoBesideTheInputAndNothingIsOverwritten() throws {
    let folder = try TestFiles.temporaryDirectory("filter-files")
    defer { try? FileManager.default.removeItem(at: folder) }
    let table = try fixtureTable()
    let csv = folder.appendingPathComponent("test_vid.csv"),
        h5 = folder.appendingPathComponent("videoDLC_Resnet50_xOct30shuffle1_snapshot_5.h5")
    try table.write(to: csv)
    try table.write(to: h5)
    let before = try Data(contentsOf: csv)
    let filter = PredictionFilter(method: .savgol, window: 7, order: 2)
    var lines: [String] = []
    let written = try filter.run(inputs: [csv, h5], h5: false, overwrite: false) { lines.append($0) }
    let names = written.map { URL(fileURLWithPath: $0).lastPathComponent }
    #expect(
        names == [
            "test_vid_filtered.csv", "videoDLC_Resnet50_xOct30shuffle1_snapshot_5_filtered.csv",
            "videoDLC_Resnet50_xOct30shuffle1_snapshot_5_filtered.h5",
        ])
    #expect(try Data(contentsOf: csv) == before)
    #expect(lines.count == 2 && lines[0].contains("Savitzky–Golay filter over 7 frames, degree 2"))
    let expected = try filter.apply(table, name: "t")
    for path in written { #expect(try PoseTable.read(from: URL(fileURLWithPath: path)) == expected, "\(path)") }

    // A second run refuses before writing anything; --overwrite replaces.
    let stamp = try FileManager.default.attributesOfItem(atPath: written[0])[.modificationDate] as? Date
    #expect(throws: PoseAnalysisError("\(written[0]) already exists (an earlier filtering?); remove it or pass --overwrite to replace it"))
    {
        try filter.run(inputs: [csv], h5: false, overwrite: false) { _ in }
    }
    #expect(try FileManager.default.attributesOfItem(atPath: written[0])[.modificationDate] as? Date == stamp)
    let again = try PredictionFilter(method: .median).run(inputs: [csv], h5: true, overwrite: true) { _ in }
    #expect(again.map { URL(fileURLWithPath: $0).lastPathComponent } == ["test_vid_filtered.csv", "test_vid_filtered.h5"])
    #expect(!FileManager.default.fileExists(atPath: folder.appendingPathComponent("test_vid_filtered.csv.tmp").path))

    #expect(throws: PoseAnalysisError("\(folder.path)/absent.csv: no such file; pass prediction files (.csv or DeepLabCut .h5)")) {
        try filter.run(inputs: [folder.appendingPathComponent("absent.csv")], h5: false, overwrite: false) { _ in }
    }
}
