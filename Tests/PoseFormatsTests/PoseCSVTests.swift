import Foundation
import KinemaTestSupport
import PoseFormats
import Testing

// MARK: - Helpers

let testData = TestFiles.data

func temporaryFile(_ name: String) -> URL {
    let dir = FileManager.default.temporaryDirectory
        .appendingPathComponent("kinema-poseformats-\(UUID().uuidString)")
    try? FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
    return dir.appendingPathComponent(name)
}

/// Writes `text` with `PoseTable.parse` → `write(to:)` and returns the bytes written.
func roundTrip(_ text: String) throws -> (PoseTable, String) {
    let table = try PoseTable.parse(csv: text)
    let url = temporaryFile("t.csv")
    try table.write(to: url)
    let back = try String(contentsOf: url, encoding: .utf8)
    let reread = try PoseTable.read(from: url)
    #expect(reread.keypoints == table.keypoints)
    #expect(reread.rowKeys == table.rowKeys)
    #expect(reread.indexStyle == table.indexStyle)
    return (table, back)
}

// MARK: - Flavours

@Test func framePredictionsRoundTripByteExact() throws {
    let text = """
        scorer,heatmap_tracker,heatmap_tracker,heatmap_tracker,heatmap_tracker,heatmap_tracker,heatmap_tracker
        bodyparts,nose,nose,nose,tail,tail,tail
        coords,x,y,likelihood,x,y,likelihood
        0,123.41,88.02,0.998,1e-05,250.0,0.5
        1,,,0.01,-3.25,7.0,1.0

        """
    let (table, back) = try roundTrip(text)
    #expect(back == text)
    #expect(table.indexStyle == .frameNumber)
    #expect(table.frameNumbers == [0, 1])
    #expect(table.scorer == "heatmap_tracker")
    #expect(table.coords == ["x", "y", "likelihood"])
    #expect(table.value(row: 0, keypoint: 1, coord: 0) == 1e-05)
    #expect(table.value(row: 1, keypoint: 0, coord: 0).isNaN)
    #expect(table.column(keypoint: "tail", coord: "y") == [250, 7])
}

@Test func imagePathLabelsRoundTripWithNaN() throws {
    let text = """
        scorer,rick,rick,rick,rick
        bodyparts,paw,paw,nose,nose
        coords,x,y,x,y
        labeled-data/vid1/img01.png,77.25,36.25,,
        labeled-data/vid1/img02.png,37.25,110.75,253.5,101.900392541708

        """
    let (table, back) = try roundTrip(text)
    #expect(back == text)
    #expect(table.indexStyle == .imagePath)
    #expect(table.coords == ["x", "y"])
    #expect(table.rowKeys[1] == "labeled-data/vid1/img02.png")
    #expect(table.value(row: 0, keypoint: 1, coord: 1).isNaN)
    #expect(table.frameNumbers == nil)
}

@Test func dlcThreeLevelIndexRoundTrip() throws {
    let text = """
        scorer,,,Ana,Ana,Ana,Ana
        bodyparts,,,nose,nose,tail,tail
        coords,,,x,y,x,y
        labeled-data,trial1,img003.png,101.5,55.25,,
        labeled-data,trial1,img117.png,98.0,60.125,140.75,61.5

        """
    let (table, back) = try roundTrip(text)
    #expect(back == text)
    #expect(table.indexStyle == .dlcThreeLevel)
    #expect(table.rowKeys == ["labeled-data/trial1/img003.png", "labeled-data/trial1/img117.png"])
    #expect(table.value(row: 1, keypoint: 1, coord: 0) == 140.75)
}

@Test func lightningPoseSetColumnAndNanTextAndCRLF() throws {
    let text =
        "scorer,t,t,t,set\r\nbodyparts,a,a,a,\r\ncoords,x,y,likelihood,\r\n"
        + "labeled-data/v/img1.png,nan,NaN,0.5,train\r\nlabeled-data/v/img2.png,1.5,2.5,0.25,test\r\n"
    let (table, back) = try roundTrip(text)
    #expect(table.extraColumns.count == 1)
    #expect(table.extraColumns[0].cells == ["train", "test"])
    #expect(table.value(row: 0, keypoint: 0, coord: 0).isNaN)
    #expect(
        back == "scorer,t,t,t,set\nbodyparts,a,a,a,\ncoords,x,y,likelihood,\n"
            + "labeled-data/v/img1.png,,,0.5,train\nlabeled-data/v/img2.png,1.5,2.5,0.25,test\n")
}

@Test func realFilesRoundTripByteExact() throws {
    let files = [
        testData.appendingPathComponent("mirror-mouse-example/CollectedData.csv"),
        testData.appendingPathComponent("eks/mirror-mouse/180607_004.train_frames=75.rng=0.csv"),
        testData.appendingPathComponent("eks/golden/mirror-mouse/singlecam_s10_x64/eks_singlecam.csv"),
    ]
    for url in files {
        let original = try String(contentsOf: url, encoding: .utf8)
        let table = try PoseTable.read(from: url)
        #expect(table.csvText() == original, "round trip of \(url.lastPathComponent)")
    }
    let labels = try PoseTable.read(from: files[0])
    #expect(labels.keypoints.count == 17)
    #expect(labels.indexStyle == .imagePath)
    let preds = try PoseTable.read(from: files[1])
    #expect(preds.rowCount == 2000)
    #expect(preds.keypoints.first == "paw1LH_top")
}

// MARK: - Errors

@Test func multiAnimalRejectedWithClearError() {
    let text = "scorer,,,A,A\nindividuals,,,m1,m1\nbodyparts,,,nose,nose\ncoords,,,x,y\nlabeled-data,t,i.png,1,2\n"
    #expect(throws: PoseFormatError.self) { try PoseTable.parse(csv: text, fileName: "ma.csv") }
    do { _ = try PoseTable.parse(csv: text, fileName: "ma.csv") } catch {
        #expect("\(error)".contains("ma.csv"))
        #expect("\(error)".contains("multi-animal"))
    }
}

@Test func badCellsNameFileRowAndColumn() {
    let text = "scorer,s,s\nbodyparts,a,a\ncoords,x,y\n0,1.0,2.0\n1,abc,2.0\n"
    do {
        _ = try PoseTable.parse(csv: text, fileName: "bad.csv")
        Issue.record("expected an error")
    } catch {
        #expect("\(error)" == "bad.csv: line 5: 'abc' in column a/x is not a number")
    }
    let short = "scorer,s,s\nbodyparts,a,a\ncoords,x,y\n0,1.0\n"
    #expect(throws: PoseFormatError.self) { try PoseTable.parse(csv: short) }
    let mixed = "scorer,s,s,s\nbodyparts,a,a,b\ncoords,x,y,x\n0,1,2,3\n"
    #expect(throws: PoseFormatError.self) { try PoseTable.parse(csv: mixed) }
}

@Test func predictionsBuilderMatchesShape() throws {
    let t = try PoseTable.predictions(
        scorer: "s", keypoints: ["a", "b"], x: [1, 2, 3, 4], y: [5, 6, 7, 8],
        likelihood: [0.1, 0.2, 0.3, 0.4])
    #expect(t.rowCount == 2)
    #expect(t.value(row: 1, keypoint: 0, coord: 1) == 7)
    #expect(t.csvText().hasPrefix("scorer,s,s,s,s,s,s\nbodyparts,a,a,a,b,b,b\ncoords,x,y,likelihood,x,y,likelihood\n0,1.0,5.0,0.1"))
    #expect(throws: PoseFormatError.self) {
        try PoseTable.predictions(scorer: "s", keypoints: ["a"], x: [1], y: [], likelihood: [])
    }
}

/// A video, .npy or .h5 given where a CSV belongs: one short line, not a header cell made of binary bytes.
@Test func binaryFileIsNotACSV() throws {
    let dir = try TestFiles.temporaryDirectory("pose-csv-binary")
    defer { try? FileManager.default.removeItem(at: dir) }
    let url = dir.appendingPathComponent("predictions.csv")
    try Data([0x1A, 0x45, 0xDF, 0xA3, 0x00, 0x00, 0x00, 0x1F] + TestNoise.bytes(3000, seed: 3)).write(to: url)
    #expect(throws: PoseFormatError.self) { try PoseTable.read(from: url) }
    do {
        _ = try PoseTable.read(from: url)
    } catch {
        #expect("\(error)" == "\(url.path): not a CSV file (it holds binary data); give the pose CSV (or DeepLabCut .h5) file")
    }
    // Text that is not a pose table quotes at most 40 characters of its first cell.
    try Data((String(repeating: "frame_index_of_the_experiment", count: 5) + ",x\n1,2\n3,4\n").utf8).write(to: url)
    do {
        _ = try PoseTable.read(from: url)
        Issue.record("read a table without a pose header")
    } catch {
        #expect("\(error)".contains("found 'frame_index_of_the_experimentframe_index…'"), "\(error)")
    }
}

/// Cells of 16–19 significant digits (float32 values printed as float64, as LP writes every prediction) take the
/// reader's extended-precision path; each must equal strtod's correctly rounded value bit for bit, including
/// decimals printed next to the halfway point between two doubles (where the path must defer to strtod).
@Test func longDecimalsParseExactlyAsStrtod() throws {
    var generator = SystemRandomNumberGenerator()
    var cells: [String] = []
    for _ in 0..<20_000 {
        let digits = Int.random(in: 16...19, using: &generator)
        var mantissa = String(UInt64.random(in: 1...9, using: &generator))
        for _ in 1..<digits { mantissa += String(UInt64.random(in: 0...9, using: &generator)) }
        let dot = Int.random(in: 0...digits, using: &generator)
        var cell = dot == digits ? mantissa : String(mantissa.prefix(dot)) + "." + String(mantissa.dropFirst(dot))
        if cell.hasPrefix(".") { cell = "0" + cell }
        if Int.random(in: 0..<4, using: &generator) == 0 { cell += "e\(Int.random(in: -12...8, using: &generator))" }
        cells.append(Bool.random(using: &generator) ? "-" + cell : cell)
    }
    for _ in 0..<5_000 {  // 19 significant digits of the exact midpoint between a double and the next one
        let d = Double.random(in: 1e-6...1e6, using: &generator)
        let midpoint = (Float80(d) + Float80(d.nextUp)) / 2
        cells.append(String(format: "%.18Le", midpoint as CVarArg))
    }
    let keypoints = (0..<(cells.count / 3)).map { "k\($0)" }
    var text = "scorer" + String(repeating: ",s", count: keypoints.count * 3) + "\n"
    text += "bodyparts" + keypoints.map { ",\($0),\($0),\($0)" }.joined() + "\n"
    text += "coords" + String(repeating: ",x,y,likelihood", count: keypoints.count) + "\n"
    text += "0," + cells.prefix(keypoints.count * 3).joined(separator: ",") + "\n"
    let url = temporaryFile("long-decimals.csv")
    try text.write(to: url, atomically: true, encoding: .utf8)
    let table = try PoseTable.read(from: url)
    var differing: [String] = []
    for (cell, value) in zip(cells, table.values) where strtod(cell, nil).bitPattern != value.bitPattern {
        differing.append(cell)
    }
    #expect(table.values.count == keypoints.count * 3)
    #expect(differing.isEmpty, "\(differing.count) cells differ from strtod, e.g. \(differing.prefix(3))")
}

/// A table longer than one write block (`write(to:)` formats and writes 16,384 rows at a time, so a long video's
/// file is never all in memory) is written byte for byte as the whole text, NaN cells and the last partial block
/// included.
@Test func longTableIsWrittenInBlocksByteExact() throws {
    let rows = 40_000, keypoints = ["nose", "tail"], coords = ["x", "y", "likelihood"]
    let values = (0..<(rows * 6)).map { i in i % 97 == 0 ? Double.nan : Double(i) * 0.125 - 3 }
    let table = try PoseTable(
        scorer: "s", keypoints: keypoints, coords: coords, rowKeys: (0..<rows).map(String.init), values: values)
    let folder = try TestFiles.temporaryDirectory("pose-csv-blocks")
    defer { try? FileManager.default.removeItem(at: folder) }
    let url = folder.appendingPathComponent("long.csv")
    try table.write(to: url)
    let written = try Data(contentsOf: url)
    #expect(written == Data(table.csvBytes()), "the file is the table's text")
    let lines = String(decoding: written, as: UTF8.self).split(separator: "\n", omittingEmptySubsequences: false)
    #expect(lines.count == rows + 4 && lines[3 + 16_384].hasPrefix("16384,") && lines[rows + 2].hasPrefix("39999,"))
    let reread = try PoseTable.read(from: url)
    #expect(reread.rowCount == rows)
    #expect(zip(reread.values, values).allSatisfy { $0 == $1 || ($0.isNaN && $1.isNaN) })
}
