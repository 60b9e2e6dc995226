import Foundation
import PoseFormats
import Smoothing
import Testing

// MARK: - Synthetic ensembles

/// An ensemble of `members` noisy copies of a smooth 2-keypoint track (deterministic noise).
func syntheticTables(members: Int, frames: Int, noise: Double = 0.5) throws -> [PoseTable] {
    try (0..<members).map { m in
        var x: [Double] = [], y: [Double] = [], l: [Double] = []
        for t in 0..<frames {
            for k in 0..<2 {
                let phase = Double(t) / 20 + Double(k)
                let jitter = noise * sin(Double(37 * t + 11 * m + 5 * k))
                x.append(100 + 30 * sin(phase) + jitter)
                y.append(80 + 20 * cos(phase) - jitter)
                l.append(0.9)
            }
        }
        return try PoseTable.predictions(scorer: "model\(m)", keypoints: ["nose", "tail"], x: x, y: y, likelihood: l)
    }
}

func singleCam(_ tables: [PoseTable], _ options: SmoothingOptions = fixedOptions(10)) throws -> SmoothingResult {
    try EnsembleKalmanSmoother.singleCamera(
        try EnsembleMembers(tables: tables, names: tables.indices.map { "m\($0).csv" }), options: options)
}

// MARK: - Edge cases

@Test func oneMemberUsesInverseLikelihoodVariance() throws {
    let result = try singleCam(try syntheticTables(members: 1, frames: 200))
    let track = result.tracks[0][0]
    #expect(track.xEnsembleVariance.allSatisfy { abs($0 - 1 / 0.9) < 1e-12 })
    #expect(track.x.allSatisfy { $0.isFinite } && track.xPosteriorVariance.allSatisfy { $0 > 0 && $0 < 1 / 0.9 })
    let auto = try singleCam(try syntheticTables(members: 1, frames: 200), SmoothingOptions())
    #expect(auto.smoothingParameters.allSatisfy { $0 > 0 && $0.isFinite })
}

@Test func nanFramesArePredictedNotShifted() throws {
    var tables = try syntheticTables(members: 3, frames: 300)
    // Frame 150: every member lost the nose; frame 40: one member lost it.
    for m in 0..<3 { tables[m].setValue(.nan, row: 150, keypoint: 0, coord: 0); tables[m].setValue(.nan, row: 150, keypoint: 0, coord: 1) }
    tables[1].setValue(.nan, row: 40, keypoint: 0, coord: 0)
    for options in [fixedOptions(10), SmoothingOptions()] {
        let result = try singleCam(tables, options)
        let nose = result.tracks[0][0]
        #expect(result.frames == 300)
        #expect(nose.xEnsembleMedian[150].isNaN)
        #expect(nose.x.allSatisfy { $0.isFinite }, "smoothed track must bridge the gap")
        // The gap frame has a larger posterior variance than its neighbours, and lies between them.
        #expect(nose.xPosteriorVariance[150] > nose.xPosteriorVariance[149])
        #expect(nose.xPosteriorVariance[150] > nose.xPosteriorVariance[151])
        #expect(abs(nose.x[150] - (nose.x[149] + nose.x[151]) / 2) < 2)
        // Frame 40 uses the other two members' median.
        let expected = (tables[0].value(row: 40, keypoint: 0, coord: 0) + tables[2].value(row: 40, keypoint: 0, coord: 0)) / 2
        let median40 = nose.xEnsembleMedian[40]
        #expect(abs(median40 - expected) < 1e-12)
        // The tail is untouched by the nose's gap.
        #expect(result.tracks[0][1].x.allSatisfy { $0.isFinite })
    }
}

@Test func identicalMembersGiveZeroVarianceAndFollowTheData() throws {
    let tables = try syntheticTables(members: 1, frames: 100)
    let copies = [tables[0], tables[0], tables[0]]
    for options in [fixedOptions(10), SmoothingOptions()] {
        let result = try singleCam(copies, options)
        let nose = result.tracks[0][0]
        #expect(nose.xEnsembleVariance.allSatisfy { $0 < 1e-20 })  // 0 up to the mean's rounding
        let worst = (0..<100).map { abs(nose.x[$0] - nose.xEnsembleMedian[$0]) }.max() ?? .infinity
        #expect(worst < 1e-3)
        #expect(nose.xPosteriorVariance.allSatisfy { $0 >= 0 && $0 < 1e-6 })
    }
}

@Test func singleFrame() throws {
    let result = try singleCam(try syntheticTables(members: 3, frames: 1), SmoothingOptions())
    #expect(result.frames == 1)
    #expect(abs(result.tracks[0][0].x[0] - result.tracks[0][0].xEnsembleMedian[0]) < 1e-6)
    #expect(result.smoothingParameters.allSatisfy { $0.isFinite && $0 > 0 })
    // Multi-view needs at least two frames for its PCA: a clear error, not a crash.
    let views = try (0..<2).map { _ in try EnsembleMembers(tables: try syntheticTables(members: 2, frames: 1), names: ["a", "b"]) }
    #expect(throws: SmoothingError.self) { try EnsembleKalmanSmoother.multiView(views, viewNames: ["a", "b"], options: fixedOptions(10)) }
}

@Test func mismatchedFilesAreRejectedWithTheirNames() throws {
    let long = try syntheticTables(members: 1, frames: 100)[0], short = try syntheticTables(members: 1, frames: 90)[0]
    do {
        _ = try EnsembleMembers(tables: [long, short], names: ["a.csv", "b.csv"])
        Issue.record("different frame counts must be rejected")
    } catch { #expect("\(error)".contains("b.csv") && "\(error)".contains("90 frames")) }
    var renamed = long
    renamed.keypoints[1] = "tailbase"
    do {
        _ = try EnsembleMembers(tables: [long, renamed], names: ["a.csv", "b.csv"])
        Issue.record("a missing keypoint must be rejected")
    } catch { #expect("\(error)".contains("b.csv") && "\(error)".contains("'tail' is missing")) }
    var shifted = long
    shifted.rowKeys[5] = "500"
    #expect(throws: SmoothingError.self) { try EnsembleMembers(tables: [long, shifted], names: ["a.csv", "b.csv"]) }
    let labels = try PoseTable.parse(csv: "scorer,s,s\nbodyparts,a,a\ncoords,x,y\n0,1,2\n")
    do {
        _ = try EnsembleMembers(tables: [labels], names: ["labels.csv"])
        Issue.record("label files have no likelihood")
    } catch { #expect("\(error)".contains("likelihood")) }
    #expect(throws: SmoothingError.self) {
        try singleCam(
            try syntheticTables(members: 2, frames: 50),
            {
                var o = SmoothingOptions(); o.smoothing = .fixed([1, 2, 3]); return o
            }())
    }
}

@Test func calibrationWithMissingCameraIsRejected() throws {
    let out = FileManager.default.temporaryDirectory.appendingPathComponent("kinema-eks-\(UUID().uuidString)")
    defer { try? FileManager.default.removeItem(at: out) }
    let inputs = try fixtureFiles("calibrated/input").filter { !$0.lastPathComponent.contains("camC") }
    let job = SmoothingJob(
        mode: .calibrated(calibration: fixtures.appendingPathComponent("calibrated/calibration.toml")),
        inputs: inputs, outputFolder: out, options: fixedOptions(5))
    do {
        _ = try job.run()
        Issue.record("a camera without files must be rejected")
    } catch { #expect("\(error)".contains("camC")) }
    // And a calibration listing fewer cameras than the views given to the library.
    let calibration = try CameraCalibration.read(from: fixtures.appendingPathComponent("calibrated/calibration.toml"))
    let two = CameraCalibration(cameras: Array(calibration.cameras.prefix(2)))
    let views = try calibration.cameras.map { cam in
        try EnsembleMembers(
            tables: try PoseTable.read(from: try fixtureFiles("calibrated/input", containing: cam.name)), names: [], keypoints: ["nose"])
    }
    #expect(throws: SmoothingError.self) { try EnsembleKalmanSmoother.calibrated(views, calibration: two, options: fixedOptions(5)) }
}

@Test func jobWritesPackageFilesAndPlots() throws {
    let out = FileManager.default.temporaryDirectory.appendingPathComponent("kinema-eks-\(UUID().uuidString)")
    defer { try? FileManager.default.removeItem(at: out) }
    var job = SmoothingJob(
        mode: .multiCamera(cameras: ["top", "bot"]), inputs: try csvFiles("mirror-mouse-separate"), outputFolder: out,
        keypoints: ["paw1LH"], options: fixedOptions(10))
    job.plot = true
    job.plotFrames = 0..<100
    let report = try job.run()
    #expect(report.files.map(\.lastPathComponent) == ["multicam_top_results.csv", "multicam_bot_results.csv"])
    #expect(report.plots.map(\.lastPathComponent) == ["eks_paw1LH_top.png", "eks_paw1LH_bot.png"])
    let png = try decodePNG([UInt8](try Data(contentsOf: report.plots[0])))
    #expect(png.width == 1400 && png.height == 900)
    // The smoothed track's red appears in the picture.
    var red = 0
    for i in stride(from: 0, to: png.rgba.count, by: 4) where png.rgba[i] == 214 && png.rgba[i + 1] == 39 && png.rgba[i + 2] == 40 {
        red += 1
    }
    #expect(red > 500)
    let written = try PoseTable.read(from: report.files[0])
    #expect(written.keypoints == ["paw1LH"] && written.rowCount == 501 && written.coords.count == 9)
    #expect(report.summary[0] == "frames 501, keypoints 1, views top bot")
}

@Test func blocksShareOneSmoothingParameter() throws {
    let ens = try members(try csvFiles("mirror-mouse"))
    var options = SmoothingOptions()
    options.blocks = [[0], [1, 2, 3, 4, 5, 6, 7]]
    let blocked = try EnsembleKalmanSmoother.singleCamera(ens, options: options)
    // A singleton block is the ordinary per-keypoint search (package float64 value for paw1LH_top).
    #expect(abs(blocked.smoothingParameters[0] - 44.472694396972656) / 44.47 < 1e-5)
    #expect(Set(blocked.smoothingParameters[1...]).count == 1)
    #expect(blocked.smoothingParameters[1] > 10 && blocked.smoothingParameters[1] < 35)
    options.blocks = [[0, 1]]
    #expect(throws: SmoothingError.self) { try EnsembleKalmanSmoother.singleCamera(ens, options: options) }
    // s chosen on a subset of frames differs from the full-sequence choice but smooths every frame.
    var subset = SmoothingOptions()
    subset.smoothing = .automatic(frames: [FrameRange(start: 0, end: 500)])
    let partial = try EnsembleKalmanSmoother.singleCamera(ens, options: subset)
    #expect(partial.frames == 2000)
    #expect(abs(partial.smoothingParameters[0] - 44.4727) > 0.01)
}
