import Foundation
import KinemaTestSupport
import PoseFormats
import ProjectSetup
import Testing

/// `kinema merge` on a multi-camera project: a frame refined in the labelling app is in its own view's CSV.
@Suite struct LabelMergeViewsTests {
    @Test func framesReviewedIntoEachViewsCSVCountAsReviewed() throws {
        let root = try FrameExtractionViewsTests.project("merge-views", frames: 10)
        defer { try? FileManager.default.removeItem(at: root) }
        for view in ["top", "bot"] {
            let folder = root.appendingPathComponent("labeled-data/walk_\(view)")
            try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
            let key = "labeled-data/walk_\(view)/img05.png"
            try Data("png".utf8).write(to: root.appendingPathComponent(key))
            let machine = try PoseTable(
                scorer: "machine", keypoints: ["nose", "tail"], coords: ["x", "y", "likelihood"], rowKeys: [key], indexStyle: .imagePath,
                values: [1, 2, 0.9, 3, 4, 0.8])
            try machine.write(to: folder.appendingPathComponent("machinelabels-iter0.csv"))
            let labels = try PoseTable(
                scorer: "ana", keypoints: ["nose", "tail"], coords: ["x", "y"], rowKeys: [key], indexStyle: .imagePath,
                values: [5, 6, 7, 8])
            try labels.write(to: root.appendingPathComponent("\(view).csv"))
        }
        let project = try FrameExtraction.openProject(root.path)
        #expect(project.labelsCSV(folder: "walk_bot") == root.appendingPathComponent("bot.csv").path)
        #expect(project.labelsCSV(folder: "walk") == nil)

        var include = MergeOptions()
        include.includeUnreviewed = true
        let refused = #expect(throws: ProjectSetupError.self) { try LabelMerge.merge(project: project, options: include) }
        #expect(refused?.description.hasPrefix("--include-unreviewed: not available for multi-camera projects") == true)
        let before = try [
            Data(contentsOf: root.appendingPathComponent("top.csv")), Data(contentsOf: root.appendingPathComponent("bot.csv")),
        ]

        let report = try LabelMerge.merge(project: project, options: MergeOptions())
        #expect(report.reviewed == ["walk_top": 1, "walk_bot": 1] && report.unreviewed.isEmpty && report.written.isEmpty)
        #expect(report.nextIteration == 1)
        #expect(
            try [Data(contentsOf: root.appendingPathComponent("top.csv")), Data(contentsOf: root.appendingPathComponent("bot.csv"))]
                == before)
    }
}
