import Foundation
import KinemaTestSupport
import Labelling
import PoseFormats
import Testing

@Suite("Label store: the project's frames, atomic saves, backups, CSV and .h5 round trips")
struct LabelStoreTests {
    @Test("A Kinema/LP project lists its frames, keypoints, skeleton and its one label file")
    func opensKinemaProject() throws {
        let root = try Fixture.kinemaProject("label-open")
        defer { Fixture.remove(root) }
        let project = try LabelProject.open(root.path)
        #expect(project.layout == .kinema)
        #expect(project.keypoints == ["nose", "paw", "tail"])
        #expect(project.skeleton == [[0, 1], [1, 2]])
        #expect(project.videos.map(\.name) == ["vid"])
        #expect(project.videos.map(\.frames) == [["labeled-data/vid/img00.png", "labeled-data/vid/img01.png"]])
        #expect(project.labelFiles == [LabelProject.realPath(root.path) + "/CollectedData.csv"])
    }

    @Test("Saved labels are LP's CSV layout (image-path rows, x/y, NaN for not visible) and read back")
    func savesKinemaCSV() async throws {
        let root = try Fixture.kinemaProject("label-save")
        defer { Fixture.remove(root) }
        let store = try LabelStore(project: LabelProject.open(root.path))
        try await store.save(frame: "labeled-data/vid/img01.png", points: [[10.25, 20.5], nil, [300, 401.75]])
        try await store.save(frame: "labeled-data/vid/img00.png", points: [[1, 2], [3, 4], [5, 6]])

        let csv = try String(contentsOf: root.appendingPathComponent("CollectedData.csv"), encoding: .utf8)
        #expect(
            csv == """
                scorer,kinema,kinema,kinema,kinema,kinema,kinema
                bodyparts,nose,nose,paw,paw,tail,tail
                coords,x,y,x,y,x,y
                labeled-data/vid/img00.png,1.0,2.0,3.0,4.0,5.0,6.0
                labeled-data/vid/img01.png,10.25,20.5,,,300.0,401.75

                """)
        // A new session reads the same labels, and which frames are labelled.
        let again = try LabelStore(project: LabelProject.open(root.path))
        #expect(try await again.labels(frame: "labeled-data/vid/img01.png") == [[10.25, 20.5], nil, [300, 401.75]])
        #expect(await again.labelledFrames() == [[true, true]])
        // Changing a frame rewrites its row only.
        try await again.save(frame: "labeled-data/vid/img00.png", points: [[1, 2], [7, 8], nil])
        let table = try PoseTable.read(from: root.appendingPathComponent("CollectedData.csv"))
        #expect(table.rowKeys == ["labeled-data/vid/img00.png", "labeled-data/vid/img01.png"])
        #expect(table.values[0..<6].map { $0.isNaN ? -1 : $0 } == [1, 2, 7, 8, -1, -1])
        #expect(table.values[6..<12].map { $0.isNaN ? -1 : $0 } == [10.25, 20.5, -1, -1, 300, 401.75])
    }

    @Test("The first save of a session backs the file up as it was; later saves keep that backup")
    func backsUpOncePerSession() async throws {
        let root = try Fixture.kinemaProject("label-backup")
        defer { Fixture.remove(root) }
        let before = """
            scorer,rick,rick,rick,rick,rick,rick
            bodyparts,nose,nose,paw,paw,tail,tail
            coords,x,y,x,y,x,y
            labeled-data/vid/img00.png,5.5,6.5,7,8,,

            """
        let file = root.appendingPathComponent("CollectedData.csv")
        try before.write(to: file, atomically: true, encoding: .utf8)
        let start = Date(timeIntervalSince1970: 1_796_000_000)  // 2026-11-30T00:53:20Z
        let store = try LabelStore(project: LabelProject.open(root.path), sessionStart: start)
        #expect(store.backupFolder.hasSuffix("/label-backups/2026-11-30T00-53-20Z"))
        try await store.save(frame: "labeled-data/vid/img01.png", points: [[1, 1], [2, 2], [3, 3]])
        try await store.save(frame: "labeled-data/vid/img01.png", points: [[4, 4], [2, 2], [3, 3]])
        let backup = try String(contentsOfFile: store.backupFolder + "/CollectedData.csv", encoding: .utf8)
        #expect(backup == before)
        let table = try PoseTable.read(from: file)
        #expect(table.scorer == "rick")  // the file's own scorer is kept
        #expect(table.rowKeys == ["labeled-data/vid/img00.png", "labeled-data/vid/img01.png"])
        #expect(Array(table.values[0..<4]) == [5.5, 6.5, 7, 8])
        #expect(Array(table.values[6..<12]) == [4, 4, 2, 2, 3, 3])
        // No temporary file is left beside the labels.
        #expect(try FileManager.default.contentsOfDirectory(atPath: root.path).filter { $0.hasSuffix(".tmp") }.isEmpty)
    }

    @Test("A label file changed by another program since it was read is not overwritten")
    func refusesFileChangedOnDisk() async throws {
        let root = try Fixture.kinemaProject("label-changed")
        defer { Fixture.remove(root) }
        let store = try LabelStore(project: LabelProject.open(root.path))
        try await store.save(frame: "labeled-data/vid/img00.png", points: [[1, 1], [2, 2], [3, 3]])
        let file = root.appendingPathComponent("CollectedData.csv")
        let theirs = try String(contentsOf: file, encoding: .utf8).replacingOccurrences(of: "1.0,1.0", with: "9.0,9.0")
        try theirs.write(to: file, atomically: true, encoding: .utf8)
        await #expect(throws: LabellingError.changedOnDisk(file: LabelProject.realPath(file.path))) {
            try await store.save(frame: "labeled-data/vid/img01.png", points: [[1, 1], [2, 2], [3, 3]])
        }
        #expect(try String(contentsOf: file, encoding: .utf8) == theirs)
    }

    @Test("Bad input is one line and writes nothing: wrong keypoint count, NaN, a frame not in the project, other keypoints")
    func refusesBadInput() async throws {
        let root = try Fixture.kinemaProject("label-bad")
        defer { Fixture.remove(root) }
        let store = try LabelStore(project: LabelProject.open(root.path))
        await #expect(throws: LabellingError.badRequest(reason: "2 keypoints sent, the project has 3")) {
            try await store.save(frame: "labeled-data/vid/img00.png", points: [[1, 1], [2, 2]])
        }
        await #expect(throws: LabellingError.badRequest(reason: "a keypoint is two finite numbers (x, y) or null")) {
            try await store.save(frame: "labeled-data/vid/img00.png", points: [[1, .nan], nil, nil])
        }
        await #expect(throws: LabellingError.self) {
            try await store.save(frame: "labeled-data/vid/img99.png", points: [nil, nil, nil])
        }
        #expect(!FileManager.default.fileExists(atPath: root.appendingPathComponent("CollectedData.csv").path))

        try "scorer,a,a\nbodyparts,ear,ear\ncoords,x,y\nlabeled-data/vid/img00.png,1,2\n".write(
            to: root.appendingPathComponent("CollectedData.csv"), atomically: true, encoding: .utf8)
        let file = LabelProject.realPath(root.path) + "/CollectedData.csv"
        #expect(throws: LabellingError.keypointsDiffer(file: file, missing: ["nose", "paw", "tail"], extra: ["ear"])) {
            try LabelStore(project: LabelProject.open(root.path))
        }
        #expect(
            LabellingError.keypointsDiffer(file: "C.csv", missing: ["paw"], extra: ["ear"]).description
                == "C.csv: its keypoints are not the project's (it lacks paw; it has ear that the config does not list); fix the config or the file (nothing was changed)"
        )
    }

    @Test("No project, or no frames: one line each")
    func reportsMissingProject() throws {
        #expect(throws: LabellingError.notAProject(path: "/nonexistent/project", reason: "no such folder or file")) {
            try LabelProject.open("/nonexistent/project")
        }
        let root = try Fixture.kinemaProject("label-noframes")
        defer { Fixture.remove(root) }
        try FileManager.default.removeItem(at: root.appendingPathComponent("labeled-data/vid"))
        #expect(try LabelProject.open(root.path).videos.isEmpty)
        #expect(
            LabellingError.noFrames(project: "reach").description
                == "reach: no frames to label in labeled-data/ (extract some first: kinema extract-frames reach --method kmeans --count 20)"
        )
    }

    @Test("Paths outside the project are refused: '..', absolute paths, symbolic links out; linked frames are not listed")
    func refusesPathsOutside() throws {
        let root = try Fixture.kinemaProject("label-paths")
        let outside = try TestFiles.temporaryDirectory("label-paths-outside")
        defer { Fixture.remove(root); Fixture.remove(outside) }
        let secret = outside.appendingPathComponent("secret.png")
        try Data("not yours".utf8).write(to: secret)
        try FileManager.default.createSymbolicLink(
            at: root.appendingPathComponent("labeled-data/vid/img02.png"), withDestinationURL: secret)
        let project = try LabelProject.open(root.path)
        #expect(project.videos[0].frames == ["labeled-data/vid/img00.png", "labeled-data/vid/img01.png"])
        for path in [
            "../secret.png", "labeled-data/../../x.png", "/etc/passwd", "labeled-data/vid/./img00.png", "labeled-data//vid/img00.png", "",
        ] {
            #expect(throws: LabellingError.self) { try LabelProject.inside(root: project.root, path) }
        }
        #expect(throws: LabellingError.refusedPath(path: "labeled-data/vid/img02.png", reason: "it leads outside the project")) {
            try LabelProject.inside(root: project.root, "labeled-data/vid/img02.png")
        }
        #expect(try LabelProject.inside(root: project.root, "labeled-data/vid/img00.png") == project.root + "/labeled-data/vid/img00.png")
        #expect(throws: LabellingError.self) { try project.frameFile("config.yaml") }
    }

    @Test("DeepLabCut: pandas' .h5 is read, other rows stay bit for bit, CSV and .h5 are written with the 3-level index")
    func deepLabCutRoundTrip() async throws {
        let root = try Fixture.deepLabCutProject("label-dlc")
        defer { Fixture.remove(root) }
        let folder = root.appendingPathComponent("labeled-data/trial1")
        let fixtures = TestFiles.fixtures("PoseFormatsTests")
        try FileManager.default.copyItem(
            at: fixtures.appendingPathComponent("dlc-labels-3level.h5"), to: folder.appendingPathComponent("CollectedData_Ana.h5"))
        let original = try PoseTable.readHDF5(from: fixtures.appendingPathComponent("dlc-labels-3level.h5"))
        // Two rows are frames of this project, three are not (img042 is not extracted here, trial2 not at all).
        #expect(
            original.rowKeys == [
                "labeled-data/trial1/img003.png", "labeled-data/trial1/img017.png", "labeled-data/trial1/img042.png",
                "labeled-data/trial2/img005.png", "labeled-data/trial2/img118.png",
            ])

        let project = try LabelProject.open(root.path)
        #expect(project.layout == .deepLabCut)
        #expect(project.skeleton == [[0, 3]])
        let store = try LabelStore(project: project)
        #expect(try await store.labels(frame: "labeled-data/trial1/img003.png")?[1] == nil)  // leftear is NaN there
        try await store.save(frame: "labeled-data/trial1/img017.png", points: [[11.5, 12.5], nil, [13, 14], [15.25, 16.75]])

        for name in ["CollectedData_Ana.h5", "CollectedData_Ana.csv"] {
            let url = folder.appendingPathComponent(name)
            let table = name.hasSuffix(".h5") ? try PoseTable.readHDF5(from: url) : try PoseTable.read(from: url)
            #expect(table.indexStyle == .dlcThreeLevel)
            #expect(table.scorer == "Ana")
            #expect(table.keypoints == original.keypoints)
            #expect(table.rowKeys == original.rowKeys)
            #expect(table.values[0..<8].map(\.bitPattern) == original.values[0..<8].map(\.bitPattern))
            #expect(table.values[16...].map(\.bitPattern) == original.values[16...].map(\.bitPattern))
            #expect(table.values[8..<16].map { $0.isNaN ? -1 : $0 } == [11.5, 12.5, -1, -1, 13, 14, 15.25, 16.75])
        }
        let csv = try String(contentsOf: folder.appendingPathComponent("CollectedData_Ana.csv"), encoding: .utf8)
        #expect(csv.hasPrefix("scorer,,,Ana,Ana,"))
        #expect(csv.contains("\nlabeled-data,trial1,img017.png,11.5,12.5,,,13.0,14.0,15.25,16.75\n"))
        // The pandas file as it was is in the session's backup.
        let backup = URL(fileURLWithPath: store.backupFolder + "/labeled-data/trial1/CollectedData_Ana.h5")
        #expect(try Data(contentsOf: backup) == Data(contentsOf: fixtures.appendingPathComponent("dlc-labels-3level.h5")))
    }

    @Test("Machine labels of the latest iteration show on frames without a human label, until the frame is saved")
    func machineLabelsForRefinement() async throws {
        let root = try Fixture.kinemaProject("label-machine")
        defer { Fixture.remove(root) }
        let folder = root.appendingPathComponent("labeled-data/vid")
        func machine(_ iteration: Int, _ x: Double) throws {
            try """
            scorer,machine,machine,machine,machine,machine,machine,machine,machine,machine
            bodyparts,nose,nose,nose,paw,paw,paw,tail,tail,tail
            coords,x,y,likelihood,x,y,likelihood,x,y,likelihood
            labeled-data/vid/img01.png,\(x),2.5,0.9,,,,7.0,8.0,0.2

            """.write(to: folder.appendingPathComponent("machinelabels-iter\(iteration).csv"), atomically: true, encoding: .utf8)
        }
        try machine(0, 1.0)
        try machine(2, 42.0)
        let store = try LabelStore(project: LabelProject.open(root.path))
        #expect(try await store.machineLabels(frame: "labeled-data/vid/img01.png") == [[42, 2.5], nil, [7, 8]])
        #expect(try await store.machineLabels(frame: "labeled-data/vid/img00.png") == nil)
        try await store.save(frame: "labeled-data/vid/img01.png", points: [[40, 3], nil, [7, 8]])
        #expect(try await store.machineLabels(frame: "labeled-data/vid/img01.png") == nil)
        #expect(try await store.labels(frame: "labeled-data/vid/img01.png") == [[40, 3], nil, [7, 8]])
    }
}
