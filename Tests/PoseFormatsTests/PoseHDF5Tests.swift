import Foundation
// DeepLabCut .h5 files: fixtures written by pandas + PyTables (scripts/dev/make-dlc-h5-fixtures.py), checked
// against the CSV pandas wrote from the same DataFrame.
import KinemaTestSupport
import PoseFormats
import Testing

private let h5Fixtures = TestFiles.fixtures("PoseFormatsTests")

private func fixture(_ name: String) -> URL { h5Fixtures.appendingPathComponent(name) }

/// Same labels, same order, and bit-identical values (NaN where the other has NaN).
private func expectSame(_ a: PoseTable, _ b: PoseTable, sourceLocation: SourceLocation = #_sourceLocation) {
    #expect(a.scorer == b.scorer, sourceLocation: sourceLocation)
    #expect(a.keypoints == b.keypoints, sourceLocation: sourceLocation)
    #expect(a.coords == b.coords, sourceLocation: sourceLocation)
    #expect(a.rowKeys == b.rowKeys, sourceLocation: sourceLocation)
    #expect(a.indexStyle == b.indexStyle, sourceLocation: sourceLocation)
    #expect(a.values.count == b.values.count, sourceLocation: sourceLocation)
    let differing = zip(a.values, b.values).filter { x, y in x.isNaN != y.isNaN || (!x.isNaN && x.bitPattern != y.bitPattern) }
    #expect(differing.isEmpty, "\(differing.count) values differ, e.g. \(differing.prefix(3))", sourceLocation: sourceLocation)
}

/// Asserts that reading `url` fails with a one-line message naming the file and containing `parts`.
private func expectReadError(_ url: URL, _ parts: [String], sourceLocation: SourceLocation = #_sourceLocation) {
    do {
        _ = try PoseTable.read(from: url)
        Issue.record("reading \(url.lastPathComponent) should fail", sourceLocation: sourceLocation)
    } catch {
        let text = "\(error)"
        #expect(text.hasPrefix(url.path + ": "), "\(text)", sourceLocation: sourceLocation)
        #expect(!text.contains("\n"), "\(text)", sourceLocation: sourceLocation)
        for part in parts { #expect(text.contains(part), "\(text)", sourceLocation: sourceLocation) }
    }
}

// MARK: - Reading what DeepLabCut writes

@Test func dlcLabelsFixedFormatThreeLevelIndexEqualPandasCSV() throws {
    let h5 = try PoseTable.read(from: fixture("dlc-labels-3level.h5"))
    let csv = try PoseTable.read(from: fixture("dlc-labels-3level.csv"))
    expectSame(h5, csv)
    #expect(h5.scorer == "Ana")
    #expect(h5.keypoints == ["snout", "leftear", "rightear", "tailbase"])
    #expect(h5.coords == ["x", "y"])
    #expect(h5.indexStyle == .dlcThreeLevel)
    #expect(h5.rowKeys.first == "labeled-data/trial1/img003.png")
    #expect(h5.rowKeys.last == "labeled-data/trial2/img118.png")
    // unlabelled keypoints: x and y both NaN (row 0 leftear, row 2 snout)
    #expect(h5.value(row: 0, keypoint: 1, coord: 0).isNaN && h5.value(row: 0, keypoint: 1, coord: 1).isNaN)
    #expect(h5.value(row: 2, keypoint: 0, coord: 0).isNaN)
    #expect(h5.values.filter(\.isNaN).count == 8)
}

@Test func dlcLabelsFixedFormatImagePathIndexEqualPandasCSV() throws {
    let h5 = try PoseTable.read(from: fixture("dlc-labels-path.h5"))
    let csv = try PoseTable.read(from: fixture("dlc-labels-path.csv"))
    expectSame(h5, csv)
    #expect(h5.indexStyle == .imagePath)
    #expect(h5.scorer == "Bo")
    // a Windows path in the file is normalised as DeepLabCut does
    #expect(h5.rowKeys[2] == "labeled-data/reach/img0200.png")
}

@Test func dlcAnalyzeVideosTableFormatEqualPandasCSV() throws {
    let h5 = try PoseTable.read(from: fixture("dlc-predictions-table.h5"))
    let csv = try PoseTable.read(from: fixture("dlc-predictions-table.csv"))
    expectSame(h5, csv)
    #expect(h5.scorer == "DLC_Resnet50_openfieldOct30shuffle1_snapshot_200")
    // non-ASCII names come from the pickled column labels (Latin-1 bytes and \u escapes)
    #expect(h5.keypoints == ["snout", "épaule", "鼻"])
    #expect(h5.coords == ["x", "y", "likelihood"])
    #expect(h5.indexStyle == .frameNumber)
    #expect(h5.frameNumbers == Array(0..<40))
    #expect(h5.value(row: 7, keypoint: 1, coord: 0).isNaN)
    #expect(!h5.value(row: 7, keypoint: 1, coord: 2).isNaN)
    let likelihood = try #require(h5.column(keypoint: "鼻", coord: "likelihood"))
    #expect(likelihood.allSatisfy { $0 >= 0 && $0 <= 1 })
}

@Test func napariKeypointsKeyIsReadWhenItIsTheOnlyKey() throws {
    expectSame(try PoseTable.read(from: fixture("napari-keypoints.h5")), try PoseTable.read(from: fixture("dlc-labels-3level.csv")))
}

@Test func dfWithMissingIsPreferredOverOtherKeys() throws {
    // DLC issue #3072: `machinelabels` (2 rows here) next to `df_with_missing` (5 rows)
    let table = try PoseTable.read(from: fixture("df-and-machinelabels.h5"))
    expectSame(table, try PoseTable.read(from: fixture("dlc-labels-3level.csv")))
}

@Test func hdf5FilesAreReadConcurrently() throws {
    let names = ["dlc-labels-3level.h5", "dlc-labels-path.h5", "dlc-predictions-table.h5", "napari-keypoints.h5"]
    let tables = try PoseTable.read(from: (names + names).map(fixture))
    for (i, name) in (names + names).enumerated() { expectSame(tables[i], try PoseTable.read(from: fixture(name))) }
}

// MARK: - Errors

@Test func hdf5ErrorsAreOneLineNamingTheFile() throws {
    expectReadError(fixture("two-keys.h5"), ["no 'df_with_missing' key", "'machinelabels', 'other'"])
    expectReadError(fixture("multi-animal.h5"), ["multi-animal", "individuals"])

    let csvNamedH5 = temporaryFile("labels.h5")
    try Data(contentsOf: fixture("dlc-labels-3level.csv")).write(to: csvNamedH5)
    expectReadError(csvNamedH5, ["not an HDF5 file"])

    expectReadError(temporaryFile("absent.h5"), ["cannot read file", "no such file"])

    let truncated = temporaryFile("truncated.h5")
    try Data(contentsOf: fixture("dlc-labels-3level.h5")).prefix(3000).write(to: truncated)
    expectReadError(truncated, [])

    // Found by the fuzz target (Fuzz/Sources/FuzzPoseHDF5): a fixture whose 'df_with_missing' object header is
    // corrupt. It read as "no groups at all"; it is a damaged file. (libhdf5 1.10 leaks 56 bytes on it, inside
    // H5Oopen; scripts/fuzz/lsan.supp says why that is not ours.)
    expectReadError(fixture("damaged-object-header.h5"), ["the file is damaged", "'df_with_missing' cannot be opened"])
}

// MARK: - Writing

@Test func writeThenReadRoundTripsEveryIndexStyle() throws {
    for name in ["dlc-labels-3level.h5", "dlc-labels-path.h5", "dlc-predictions-table.h5"] {
        let original = try PoseTable.read(from: fixture(name))
        let url = temporaryFile("kinema-" + name)
        try original.write(to: url)
        let back = try PoseTable.read(from: url)
        expectSame(back, original)
        // written atomically: nothing but the file in its folder
        let folder = try FileManager.default.contentsOfDirectory(atPath: url.deletingLastPathComponent().path)
        #expect(folder == ["kinema-" + name])
    }
}

@Test func writingReplacesAnExistingFileAndKeepsLargeTables() throws {
    let frames = 3000, keypoints = ["nose", "paw_l", "paw_r", "tail"]
    let n = frames * keypoints.count
    let x = (0..<n).map { Double($0) * 0.37 + 1e-7 }, y = (0..<n).map { Double($0).squareRoot() }
    var likelihood = (0..<n).map { Double($0 % 97) / 97 }
    likelihood[5] = .nan
    let table = try PoseTable.predictions(
        scorer: "DLC_Resnet50_bigOct30shuffle1_snapshot_10", keypoints: keypoints,
        x: x, y: y, likelihood: likelihood)
    let url = temporaryFile("videoDLC.h5")
    try PoseTable.read(from: fixture("dlc-labels-path.h5")).write(to: url)
    try table.write(to: url)
    expectSame(try PoseTable.read(from: url), table)
}

@Test func writingTextColumnsToHDF5IsRefused() throws {
    let table = try PoseTable(
        scorer: "s", keypoints: ["a"], coords: ["x", "y"], rowKeys: ["labeled-data/v/img1.png"],
        indexStyle: .imagePath, values: [1, 2],
        extraColumns: [.init(header: ["set", "", ""], cells: ["train"])])
    let url = temporaryFile("lp.h5")
    #expect(throws: PoseFormatError.self) { try table.write(to: url) }
    #expect(!FileManager.default.fileExists(atPath: url.path))
}
