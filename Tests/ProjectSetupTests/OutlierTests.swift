import Foundation
import KinemaTestSupport
import PoseFormats
import ProjectSetup
import Testing
import VideoIO

/// A hand-made prediction: keypoints drift smoothly (under 1 px a frame), with the outliers planted by the test.
struct PlantedPrediction {
    var keypoints = ["nose", "paw", "tail"]
    var frames = 200
    /// EKS layout (ensemble variances) or a single model's x, y, likelihood.
    var ensemble = true
    var x: [[Double]] = [], y: [[Double]] = [], likelihood: [[Double]] = [], variance: [[Double]] = []

    init(frames: Int = 200, ensemble: Bool = true) {
        self.frames = frames
        self.ensemble = ensemble
        for t in 0..<frames {
            let dx: Double = 8 * sin(Double(t) / 15), dy: Double = 6 * cos(Double(t) / 20)
            x.append([40 + dx, 45 + dx, 50 + dx])
            y.append([20 + dy, 23 + dy, 26 + dy])
        }
        likelihood = Array(repeating: [0.9, 0.95, 0.99], count: frames)
        variance = Array(repeating: [4, 9, 2.5], count: frames)  // spreads 2.8, 4.2, 2.2 px: all under 10
    }

    func table() throws -> PoseTable {
        let coords =
            ensemble
            ? ["x", "y", "likelihood", "x_ens_median", "y_ens_median", "x_ens_var", "y_ens_var", "x_posterior_var", "y_posterior_var"]
            : ["x", "y", "likelihood"]
        var values: [Double] = []
        for t in 0..<frames {
            for j in 0..<keypoints.count {
                values += [x[t][j], y[t][j], likelihood[t][j]]
                if ensemble { values += [x[t][j], y[t][j], variance[t][j], variance[t][j], 1, 1] }
            }
        }
        return try PoseTable(
            scorer: "ensemble", keypoints: keypoints, coords: coords, rowKeys: (0..<frames).map(String.init), values: values)
    }
}

@Suite struct OutlierSelectionTests {
    /// Planted outliers are found, and nothing else: a step of the paw at frame 50 (a jump into frame 50 only), a
    /// one-frame spike of the tail at 120 (jumps into 120 and back into 121, as DeepLabCut's frame difference has
    /// it), a low likelihood at 80 and an ensemble that disagrees at 150.
    @Test func plantedOutliersAreFoundExactly() throws {
        var planted = PlantedPrediction()
        for t in 50..<200 { planted.x[t][1] += 40 }
        planted.y[120][2] += 35
        planted.likelihood[80][0] = 0.004
        planted.variance[150][2] = 80  // √(80 + 80) = 12.6 px
        let table = try planted.table()
        #expect(OutlierSelection.available(in: table) == [.spread, .jump, .likelihood])

        let found = OutlierSelection.candidates(in: table, by: [.spread, .jump, .likelihood], thresholds: OutlierThresholds())
        #expect(found.map(\.frame) == [50, 80, 120, 121, 150])
        let why = Dictionary(uniqueKeysWithValues: found.map { ($0.frame, $0.reasons) })
        #expect(why[50]?.map(\.criterion) == [.jump] && why[50]?.first?.keypoint == "paw")
        #expect(abs((why[50]?.first?.value ?? 0) - 40) < 1)  // the step plus under a pixel of drift
        #expect(why[80] == [OutlierReason(criterion: .likelihood, value: 0.004, keypoint: "nose")])
        #expect(why[120]?.first?.keypoint == "tail" && why[121]?.first?.keypoint == "tail")
        #expect(why[150]?.map(\.criterion) == [.spread] && abs((why[150]?.first?.value ?? 0) - 160.0.squareRoot()) < 1e-9)
        // Severity: value / threshold; likelihood 1 + shortfall / p_bound.
        #expect(abs((found.first { $0.frame == 80 }?.severity ?? 0) - 1.6) < 1e-9)

        // One criterion at a time, thresholds changed, frames already extracted left out.
        #expect(OutlierSelection.candidates(in: table, by: [.jump], thresholds: OutlierThresholds()).map(\.frame) == [50, 120, 121])
        var looser = OutlierThresholds()
        looser.jump = 38
        looser.spread = 13
        #expect(OutlierSelection.candidates(in: table, by: [.jump, .spread], thresholds: looser).map(\.frame) == [50])
        #expect(
            OutlierSelection.candidates(in: table, by: [.jump, .likelihood], thresholds: OutlierThresholds(), excluding: [50, 121])
                .map(\.frame) == [80, 120])
        // A single model's file has no spread.
        planted.ensemble = false
        #expect(OutlierSelection.available(in: try planted.table()) == [.jump, .likelihood])
    }

    /// Missing values and gaps: a NaN keypoint is no jump; rows that are not consecutive frames are not compared.
    @Test func missingValuesAndGapsAreNoJumps() throws {
        var planted = PlantedPrediction(frames: 10, ensemble: false)
        planted.x[4][0] = .nan
        planted.x[7][1] = 500  // jump into 7 and back into 8
        var table = try planted.table()
        #expect(OutlierSelection.candidates(in: table, by: [.jump], thresholds: OutlierThresholds()).map(\.frame) == [7, 8])
        table.rowKeys[8] = "30"  // rows 7 and 8 are frames 7 and 30: not consecutive
        table.rowKeys[9] = "31"
        #expect(OutlierSelection.candidates(in: table, by: [.jump], thresholds: OutlierThresholds()).map(\.frame) == [7])
    }

    /// Pose-PCA errors are compared with their ε (or --threshold pca), and name the worst keypoint.
    @Test func pcaErrorsAboveEpsilonAreCandidates() throws {
        let table = try PlantedPrediction(frames: 4, ensemble: false).table()
        let errors = PoseErrors(
            errors: [[1, 2, 0.5], [9, 12, .nan], [3, 3, 3], [.nan, .nan, .nan]], keypoints: ["nose", "paw", "tail"], epsilon: 5,
            summary: "")
        let found = OutlierSelection.candidates(in: table, by: [.pca], thresholds: OutlierThresholds(), pca: errors)
        #expect(found == [OutlierCandidate(frame: 1, reasons: [OutlierReason(criterion: .pca, value: 12, keypoint: "paw")], severity: 2.4)])
        var thresholds = OutlierThresholds()
        thresholds.pca = 2.5
        #expect(OutlierSelection.candidates(in: table, by: [.pca], thresholds: thresholds, pca: errors).map(\.frame) == [1, 2])
    }

    /// k-means thinning: three groups of look-alike thumbnails give three distinct frames, one per group, each its
    /// group's most severe; with no more candidates than asked, all of them.
    @Test func kmeansThinningTakesTheWorstFrameOfEachGroup() {
        let candidates = (0..<12).map { OutlierCandidate(frame: $0 * 10, reasons: [], severity: Double(($0 * 7) % 12) + 1) }
        var thumbnails: [Float] = []
        for i in 0..<12 {
            let group: Float = Float(i % 3) * 100
            let a: Float = Float(i % 4), b: Float = Float(i % 5)
            thumbnails += [group + a, group - b, group]
        }
        let chosen = OutlierSelection.thin(candidates, thumbnails: thumbnails, dimension: 3, count: 3, seed: 1)
        #expect(chosen.count == 3 && Set(chosen.map(\.frame)).count == 3)
        #expect(Set(chosen.map { ($0.frame / 10) % 3 }) == [0, 1, 2])
        for pick in chosen {
            let group = candidates.filter { ($0.frame / 10) % 3 == (pick.frame / 10) % 3 }
            #expect(pick.severity == group.map(\.severity).max())
        }
        #expect(OutlierSelection.thin(Array(candidates.prefix(3)), thumbnails: [], dimension: 0, count: 3, seed: 1).count == 3)
        #expect(OutlierSelection.mostSevere(candidates, limit: 2).map(\.severity) == [12, 11])
    }
}

@Suite struct OutlierFramesTests {
    /// A project (Kinema layout) with one video whose 60 frames all differ (long GOP with B-frames).
    static func project(_ folder: URL, layout: ProjectLayout = .kinema, frames: Int = 60, scenes: Bool = false) throws -> ProjectVideos {
        let video =
            scenes
            ? try sceneVideo("session1.mp4", in: folder)
            : try TestVideos.moving("session1.mp4", in: folder, frames: frames, keyframeInterval: 25)
        var spec = ProjectSpec(directory: folder.appendingPathComponent("proj").path, videos: [video], keypoints: ["nose", "paw", "tail"])
        spec.layout = layout
        spec.scorer = "ana"
        _ = try ProjectCreation.create(spec)
        return try FrameExtraction.openProject(spec.directory)
    }

    /// The chosen frames are written at their exact indices (pixels equal the decoded frame), the machine labels hold
    /// the prediction's values for exactly those frames and read back equal; a frame already extracted is neither a
    /// candidate nor rewritten, and CollectedData is not touched.
    @Test func framesAndMachineLabelsAreWrittenAtTheirIndices() throws {
        let folder = try TestFiles.temporaryDirectory("outliers-write")
        defer { try? FileManager.default.removeItem(at: folder) }
        let project = try Self.project(folder)
        #expect(project.keypoints == ["nose", "paw", "tail"])
        var planted = PlantedPrediction(frames: 60, ensemble: false)
        for t in [13, 29, 47] { planted.likelihood[t][1] = 0.001 }
        planted.likelihood[33][2] = 0.002
        let images = project.labeledFolder(stem: "session1")
        let marked = images + "/img33.png"
        try Data("a frame a person extracted".utf8).write(to: URL(fileURLWithPath: marked))
        try Data("labels".utf8).write(to: URL(fileURLWithPath: project.labelsCSV))

        let result = try OutlierFrames.extract(
            prediction: try planted.table(), file: "session1.csv", video: project.videos[0], project: project, iteration: 0,
            options: OutlierOptions())
        #expect(result.chosen.map(\.frame) == [13, 29, 47] && result.alreadyThere == 1 && result.candidates == 3)
        #expect(result.candidatesPerCriterion.map(\.criterion) == [.jump, .likelihood])
        #expect(result.machineLabels == [images + "/machinelabels-iter0.csv"])
        #expect(FileManager.default.contents(atPath: marked) == Data("a frame a person extracted".utf8))
        #expect(FileManager.default.contents(atPath: project.labelsCSV) == Data("labels".utf8))
        let reader = try VideoReader(path: project.videos[0])
        for frame in [13, 29, 47] {
            let png = try ImageIO.read(path: "\(images)/img\(frame).png")
            #expect(png.pixels == (try reader.frame(at: frame)).pixels, "frame \(frame)")
            #expect(png.pixels != (try reader.frame(at: frame + 1)).pixels)
        }
        let labels = try PoseTable.read(from: URL(fileURLWithPath: result.machineLabels[0]))
        #expect(labels.scorer == "machine" && labels.keypoints == ["nose", "paw", "tail"] && labels.coords == ["x", "y", "likelihood"])
        #expect(
            labels.rowKeys == ["labeled-data/session1/img13.png", "labeled-data/session1/img29.png", "labeled-data/session1/img47.png"])
        #expect(labels.indexStyle == .imagePath)
        for (row, t) in [13, 29, 47].enumerated() {
            for j in 0..<3 {
                #expect(labels.value(row: row, keypoint: j, coord: 0) == planted.x[t][j])
                #expect(labels.value(row: row, keypoint: j, coord: 1) == planted.y[t][j])
                #expect(labels.value(row: row, keypoint: j, coord: 2) == planted.likelihood[t][j])
            }
        }

        // Again with a new outlier: the earlier rows stay (first), the new frame is added; the keypoint order of the
        // prediction does not matter.
        planted.likelihood[5][0] = 0.0
        var shuffled = try planted.table()
        shuffled = try reordered(shuffled, ["tail", "nose", "paw"])
        let again = try OutlierFrames.extract(
            prediction: shuffled, file: "session1.csv", video: project.videos[0], project: project, iteration: 0, options: OutlierOptions())
        #expect(again.chosen.map(\.frame) == [5] && again.alreadyThere == 4)
        let both = try PoseTable.read(from: URL(fileURLWithPath: result.machineLabels[0]))
        #expect(both.rowKeys == labels.rowKeys + ["labeled-data/session1/img05.png"])
        #expect(Array(both.values.prefix(labels.values.count)) == labels.values)
        #expect(both.value(row: 3, keypoint: 0, coord: 0) == planted.x[5][0])
    }

    /// 60 frames in four scenes of 15 that look very different (as in FrameExtractionTests).
    static func sceneVideo(_ name: String, in folder: URL) throws -> String {
        let w = 64, h = 48
        let noise = TestNoise.bytes(w * h * 3, seed: 2)
        return try TestVideos.make(name, in: folder, frames: 60, width: w, height: h) { t in
            let scene = t / 15
            return (0..<(w * h * 3)).map { i -> UInt8 in
                let x = (i / 3) % w, y = (i / 3) / w
                let jitter = noise[(i + t * 7) % noise.count] / 32
                switch scene {
                case 0: return 10 + jitter
                case 1: return 230 - jitter
                case 2: return x < w / 2 ? 20 + jitter : 220 - jitter
                default: return y < h / 2 ? 220 - jitter : 20 + jitter
                }
            }
        }
    }

    /// More candidates than --count: k-means over their thumbnails picks distinct, varied frames: with 30
    /// candidates spread over four very different scenes and 4 frames asked for, one from each scene, and in each
    /// scene the most outlying candidate.
    @Test func manyCandidatesAreThinnedToDistinctFrames() throws {
        let folder = try TestFiles.temporaryDirectory("outliers-thin")
        defer { try? FileManager.default.removeItem(at: folder) }
        let project = try Self.project(folder, scenes: true)
        var planted = PlantedPrediction(frames: 60, ensemble: false)
        for t in stride(from: 1, to: 60, by: 2) { planted.likelihood[t][0] = 0.001 }  // 30 candidates
        for t in [9, 17, 41, 51] { planted.likelihood[t][0] = 0 }  // the most outlying of each scene
        var options = OutlierOptions()
        options.count = 4
        options.seed = 3
        let result = try OutlierFrames.extract(
            prediction: try planted.table(), file: "p.csv", video: project.videos[0], project: project, iteration: 2, options: options)
        #expect(result.candidates == 30 && result.chosen.count == 4 && Set(result.chosen.map(\.frame)).count == 4)
        #expect(result.chosen.map(\.frame) == [9, 17, 41, 51])
        #expect(result.machineLabels == [project.labeledFolder(stem: "session1") + "/machinelabels-iter2.csv"])
    }

    /// DeepLabCut projects get the machine labels as `.h5` too (key df_with_missing, DLC's 3-level row index), equal to
    /// the CSV.
    @Test func deepLabCutProjectsGetMachineLabelsAsH5() throws {
        let folder = try TestFiles.temporaryDirectory("outliers-dlc")
        defer { try? FileManager.default.removeItem(at: folder) }
        let project = try Self.project(folder, layout: .deepLabCut)
        #expect(project.scorer == "ana" && project.keypoints == ["nose", "paw", "tail"])
        var planted = PlantedPrediction(frames: 60, ensemble: true)
        planted.variance[21][0] = 200
        let result = try OutlierFrames.extract(
            prediction: try planted.table(), file: "session1.csv", video: project.videos[0], project: project, iteration: 0,
            options: OutlierOptions())
        let base = project.labeledFolder(stem: "session1") + "/machinelabels-iter0"
        #expect(result.chosen.map(\.frame) == [21] && result.machineLabels == [base + ".csv", base + ".h5"])
        let csv = try PoseTable.read(from: URL(fileURLWithPath: base + ".csv"))
        let h5 = try PoseTable.read(from: URL(fileURLWithPath: base + ".h5"))
        #expect(h5 == csv && csv.indexStyle == .dlcThreeLevel && csv.rowKeys == ["labeled-data/session1/img21.png"])
        #expect(csv.values == [0, 1, 2].flatMap { [planted.x[21][$0], planted.y[21][$0], planted.likelihood[21][$0]] })
    }

    /// Bad input is one line and writes nothing: a prediction for no video of the project, a frame outside the
    /// video, a keypoint the project does not have, spread asked of a single model's file.
    @Test func badPredictionsWriteNothing() throws {
        let folder = try TestFiles.temporaryDirectory("outliers-bad")
        defer { try? FileManager.default.removeItem(at: folder) }
        let project = try Self.project(folder, frames: 30)
        #expect(try OutlierFrames.video(for: "/x/session1.csv", in: project) == project.videos[0])
        #expect(try OutlierFrames.video(for: "/x/session1DLC_resnet50_reachJan1shuffle1_100000.h5", in: project) == project.videos[0])
        #expect(throws: ProjectSetupError.self) { try OutlierFrames.video(for: "/x/day2.csv", in: project) }
        do {
            _ = try OutlierFrames.video(for: "/x/day2.csv", in: project)
        } catch {
            #expect("\(error)".contains("/x/day2.csv: its name matches no video of the project (session1.mp4)"))
        }
        let before = snapshot(folder)
        var planted = PlantedPrediction(frames: 31, ensemble: false)
        planted.likelihood[2][0] = 0
        func attempt(_ table: PoseTable, _ options: OutlierOptions = OutlierOptions()) -> String {
            do {
                _ = try OutlierFrames.extract(
                    prediction: table, file: "p.csv", video: project.videos[0], project: project, iteration: 0, options: options)
                return "no error"
            } catch { return "\(error)" }
        }
        #expect(attempt(try planted.table()).contains("p.csv: it has frame 30, outside the video (frames 0…29)"))
        planted = PlantedPrediction(frames: 30, ensemble: false)
        planted.likelihood[2][0] = 0
        planted.keypoints[2] = "tail_tip"
        #expect(
            attempt(try planted.table())
                == "p.csv: keypoint tail_tip not in the project (its keypoints: nose, paw, tail); nothing was changed")
        planted.keypoints[2] = "tail"
        var spread = OutlierOptions()
        spread.criteria = [.spread]
        #expect(attempt(try planted.table(), spread).contains("--by spread needs ensemble variance columns"))
        #expect(snapshot(folder) == before)
    }
}

/// `table` with its keypoints in `order`.
func reordered(_ table: PoseTable, _ order: [String]) throws -> PoseTable {
    var values: [Double] = []
    for row in 0..<table.rowCount {
        for name in order {
            let j = table.keypointIndex(name)!
            for c in table.coords.indices { values.append(table.value(row: row, keypoint: j, coord: c)) }
        }
    }
    return try PoseTable(
        scorer: table.scorer, keypoints: order, coords: table.coords, rowKeys: table.rowKeys, indexStyle: table.indexStyle, values: values)
}
