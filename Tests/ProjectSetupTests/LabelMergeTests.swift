import Foundation
import KinemaTestSupport
import PoseData
import PoseFormats
import ProjectSetup
import Testing

@Suite struct ProjectIterationTests {
    /// Only the `iteration:` line changes (DeepLabCut rejects other keys; comments and order are kept); a config
    /// without it gains it; the value is read back; a bad value is one line naming the file and line.
    @Test func advancingChangesOnlyTheIterationLine() throws {
        let folder = try TestFiles.temporaryDirectory("iteration")
        defer { try? FileManager.default.removeItem(at: folder) }
        let dlc = folder.appendingPathComponent("dlc.yaml").path
        let text = "# Project definitions (do not edit)\nTask: reach\nbodyparts:\n- nose\niteration: 3\nsnapshotindex: -1\n"
        try Data(text.utf8).write(to: URL(fileURLWithPath: dlc))
        #expect(try ProjectIteration.current(config: dlc) == 3)
        #expect(try ProjectIteration.advance(config: dlc) == 4)
        #expect(try String(contentsOfFile: dlc, encoding: .utf8) == text.replacingOccurrences(of: "iteration: 3", with: "iteration: 4"))

        let kinema = folder.appendingPathComponent("config.yaml").path
        try Data("data:\n  data_dir: .\nmodel:\n  model_name: m".utf8).write(to: URL(fileURLWithPath: kinema))
        #expect(try ProjectIteration.current(config: kinema) == 0)
        #expect(try ProjectIteration.advance(config: kinema) == 1)
        #expect(try String(contentsOfFile: kinema, encoding: .utf8) == "data:\n  data_dir: .\nmodel:\n  model_name: m\niteration: 1\n")
        #expect(try PoseConfig.load(path: kinema).iteration == 1)

        try Data("Task: t\niteration: two\n".utf8).write(to: URL(fileURLWithPath: dlc))
        #expect(throws: ProjectSetupError.notAProject(path: dlc, reason: "line 2: iteration must be a whole number ≥ 0, found 'two'")) {
            try ProjectIteration.current(config: dlc)
        }
    }

    /// `kinema train`'s default folder follows the iteration: DeepLabCut's `dlc-models/iteration-<N>/` in the project;
    /// `models/iteration-<N>/` for a merged Kinema config, `models/` as before for one never merged.
    @Test func defaultModelFolderIsUnderTheIteration() {
        var config = PoseConfig()
        config.modelName = "mouse"
        let date = Date(timeIntervalSince1970: 0)
        #expect(ModelDirectory.defaultPath(for: config, deepLabCutProject: nil, date: date).hasPrefix("models/mouse-19"))
        config.iteration = 2
        #expect(ModelDirectory.defaultPath(for: config, deepLabCutProject: nil, date: date).hasPrefix("models/iteration-2/mouse-19"))
        #expect(
            ModelDirectory.defaultPath(for: config, deepLabCutProject: "/p/reach", date: date).hasPrefix(
                "/p/reach/dlc-models/iteration-2/mouse-19"))
        config.iteration = nil
        #expect(
            ModelDirectory.defaultPath(for: config, deepLabCutProject: "/p/reach", date: date).hasPrefix("/p/reach/dlc-models/iteration-0/")
        )
    }
}

@Suite struct LabelMergeTests {
    /// A Kinema project with two labelled frames and a round of three machine-labelled outliers, one of which was
    /// refined in the labelling app (it is in CollectedData with moved points).
    static func refinedProject(_ folder: URL, layout: ProjectLayout) throws -> ProjectVideos {
        let project = try OutlierFramesTests.project(folder, layout: layout, frames: 30)
        let images = project.labeledFolder(stem: "session1")
        try FileManager.default.createDirectory(atPath: images, withIntermediateDirectories: true)
        for frame in [2, 5, 11, 17, 23] {
            try Data("png".utf8).write(to: URL(fileURLWithPath: "\(images)/img\(String(format: "%02d", frame)).png"))
        }
        let style: RowIndexStyle = layout == .deepLabCut ? .dlcThreeLevel : .imagePath
        let labels = try PoseTable(
            scorer: "ana", keypoints: ["nose", "paw", "tail"], coords: ["x", "y"],
            rowKeys: ["labeled-data/session1/img02.png", "labeled-data/session1/img05.png", "labeled-data/session1/img11.png"],
            indexStyle: style, values: [1, 2, 3, 4, 5, 6, 7, 8, .nan, .nan, 11, 12, 21, 22, 23, 24, 25, 26])
        let machine = try PoseTable(
            scorer: "machine", keypoints: ["nose", "paw", "tail"], coords: ["x", "y", "likelihood"],
            rowKeys: ["labeled-data/session1/img11.png", "labeled-data/session1/img17.png", "labeled-data/session1/img23.png"],
            indexStyle: style, values: (0..<27).map { Double($0) + 0.5 })
        if layout == .deepLabCut {
            try labels.write(to: URL(fileURLWithPath: images + "/CollectedData_ana.h5"))
            try labels.write(to: URL(fileURLWithPath: images + "/CollectedData_ana.csv"))
        } else {
            try labels.write(to: URL(fileURLWithPath: project.labelsCSV))
        }
        try machine.write(to: URL(fileURLWithPath: images + "/machinelabels-iter0.csv"))
        return project
    }

    /// Frames no one reviewed stop the merge: one line naming them, nothing changed, the iteration kept.
    @Test func unreviewedFramesStopTheMerge() throws {
        let folder = try TestFiles.temporaryDirectory("merge-refuse")
        defer { try? FileManager.default.removeItem(at: folder) }
        let project = try Self.refinedProject(folder, layout: .kinema)
        let before = snapshot(folder)
        #expect(
            throws: ProjectSetupError.unreviewedFrames(
                count: 2, examples: ["labeled-data/session1/img17.png", "labeled-data/session1/img23.png"])
        ) {
            try LabelMerge.merge(project: project, options: MergeOptions())
        }
        #expect(snapshot(folder) == before)
    }

    /// --include-unreviewed adds the machine's x and y of the unreviewed frames after the existing rows, which are
    /// kept value for value (the refined frame keeps the person's points); the old file is backed up; the iteration
    /// goes to 1 and the config still loads. A frame whose image was deleted is dropped.
    @Test func includeUnreviewedKeepsEveryLabelAndAdvances() throws {
        let folder = try TestFiles.temporaryDirectory("merge-include")
        defer { try? FileManager.default.removeItem(at: folder) }
        let project = try Self.refinedProject(folder, layout: .kinema)
        try FileManager.default.removeItem(atPath: project.labeledFolder(stem: "session1") + "/img23.png")
        let old = try PoseTable.read(from: URL(fileURLWithPath: project.labelsCSV))
        let oldBytes = FileManager.default.contents(atPath: project.labelsCSV)
        var options = MergeOptions()
        options.includeUnreviewed = true
        let report = try LabelMerge.merge(project: project, options: options)
        #expect(report.iteration == 0 && report.nextIteration == 1 && report.reviewed == ["session1": 1])
        #expect(report.unreviewed == ["labeled-data/session1/img17.png"] && report.addedUnreviewed)
        #expect(report.imageRemoved == ["labeled-data/session1/img23.png"])
        #expect(report.written == [project.labelsCSV] && report.backups[project.labelsCSV] == project.labelsCSV + ".before-merge-iter0")
        #expect(FileManager.default.contents(atPath: project.labelsCSV + ".before-merge-iter0") == oldBytes)
        let merged = try PoseTable.read(from: URL(fileURLWithPath: project.labelsCSV))
        #expect(merged.rowKeys == old.rowKeys + ["labeled-data/session1/img17.png"])
        #expect(merged.values.prefix(old.values.count).elementsEqual(old.values) { $0 == $1 || ($0.isNaN && $1.isNaN) })
        #expect(Array(merged.values.suffix(6)) == [9.5, 10.5, 12.5, 13.5, 15.5, 16.5])  // row 1 of the machine's, no likelihood
        #expect(try ProjectIteration.current(config: project.config) == 1)
        #expect(try PoseProject.load(configPath: project.config).config.iteration == 1)
    }

    /// DeepLabCut layout: --leave-unreviewed merges without them (labels untouched) and advances `iteration:` in
    /// config.yaml, which DeepLabCut's strict reader and Kinema's still accept; with --include-unreviewed the
    /// .h5 and the .csv are both written, equal.
    @Test func deepLabCutProjectsAdvanceTheirIteration() throws {
        let folder = try TestFiles.temporaryDirectory("merge-dlc")
        defer { try? FileManager.default.removeItem(at: folder) }
        let project = try Self.refinedProject(folder, layout: .deepLabCut)
        let images = project.labeledFolder(stem: "session1")
        let labelsBefore = FileManager.default.contents(atPath: images + "/CollectedData_ana.h5")
        var options = MergeOptions()
        options.leaveUnreviewed = true
        let report = try LabelMerge.merge(project: project, options: options)
        #expect(report.nextIteration == 1 && report.unreviewed.count == 2 && !report.addedUnreviewed && report.written.isEmpty)
        #expect(FileManager.default.contents(atPath: images + "/CollectedData_ana.h5") == labelsBefore)
        let loaded = try PoseProject.load(configPath: project.config)
        #expect(loaded.config.iteration == 1)

        // The next round: machine labels of iteration 1.
        try FileManager.default.moveItem(atPath: images + "/machinelabels-iter0.csv", toPath: images + "/machinelabels-iter1.csv")
        // A backup left by an earlier, interrupted merge of this round holds older labels: it is kept as it is.
        let olderBackup = images + "/CollectedData_ana.csv.before-merge-iter1"
        try Data("older labels".utf8).write(to: URL(fileURLWithPath: olderBackup))
        options = MergeOptions()
        options.includeUnreviewed = true
        let second = try LabelMerge.merge(project: project, options: options)
        #expect(second.iteration == 1 && second.nextIteration == 2)
        #expect(FileManager.default.contents(atPath: olderBackup) == Data("older labels".utf8))
        #expect(second.backups[images + "/CollectedData_ana.h5"] == images + "/CollectedData_ana.h5.before-merge-iter1")
        #expect(FileManager.default.contents(atPath: images + "/CollectedData_ana.h5.before-merge-iter1") == labelsBefore)
        #expect(second.written == [images + "/CollectedData_ana.h5", images + "/CollectedData_ana.csv"])
        let h5 = try PoseTable.read(from: URL(fileURLWithPath: images + "/CollectedData_ana.h5"))
        let csv = try PoseTable.read(from: URL(fileURLWithPath: images + "/CollectedData_ana.csv"))
        #expect(h5.rowKeys.count == 5 && h5.scorer == "ana" && h5.indexStyle == .dlcThreeLevel)
        #expect(h5.values.elementsEqual(csv.values) { $0 == $1 || ($0.isNaN && $1.isNaN) } && h5.rowKeys == csv.rowKeys)
        #expect(try PoseProject.load(configPath: project.config).config.iteration == 2)
    }

    /// Machine labels with a keypoint the project does not have: one line naming the file, nothing changed.
    @Test func unknownKeypointsChangeNothing() throws {
        let folder = try TestFiles.temporaryDirectory("merge-unknown")
        defer { try? FileManager.default.removeItem(at: folder) }
        let project = try Self.refinedProject(folder, layout: .kinema)
        let path = project.labeledFolder(stem: "session1") + "/machinelabels-iter0.csv"
        var machine = try PoseTable.read(from: URL(fileURLWithPath: path))
        machine.keypoints[1] = "whisker"
        try machine.write(to: URL(fileURLWithPath: path))
        let before = snapshot(folder)
        var options = MergeOptions()
        options.includeUnreviewed = true
        #expect(throws: ProjectSetupError.unknownKeypoints(path: path, keypoints: ["whisker"], project: ["nose", "paw", "tail"])) {
            try LabelMerge.merge(project: project, options: options)
        }
        #expect(snapshot(folder) == before)
    }
}
