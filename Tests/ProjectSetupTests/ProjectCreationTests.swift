import Foundation
import KinemaTestSupport
import PoseData
import PoseFormats
import ProjectSetup
import Testing
import VideoIO

@Suite struct ProjectCreationTests {
    /// A Kinema/LP project: linked videos, a config `PoseConfig` reads with the keypoints, skeleton and videos; after
    /// extracting frames and writing a CollectedData.csv, `PoseProject` and `LabeledDataset` (what training reads)
    /// open it.
    @Test func kinemaProjectOpensForTraining() throws {
        let folder = try TestFiles.temporaryDirectory("create-lp")
        defer { try? FileManager.default.removeItem(at: folder) }
        let a = try TestVideos.moving("day1.mp4", in: folder, frames: 20)
        let b = try TestVideos.moving("day2.mp4", in: folder, frames: 20)
        var spec = ProjectSpec(directory: folder.appendingPathComponent("reach").path, videos: [a, b], keypoints: ["nose", "paw", "tail"])
        spec.skeleton = try ProjectCreation.parseSkeleton("nose-paw, paw-tail", keypoints: spec.keypoints)
        let created = try ProjectCreation.create(spec)
        #expect(created.layout == .kinema && created.keypoints == ["nose", "paw", "tail"])
        // Linked, not copied: each link points at the recording.
        for (link, source) in zip(created.videos, [a, b]) {
            #expect(try FileManager.default.destinationOfSymbolicLink(atPath: link) == source)
        }
        #expect(FileManager.default.fileExists(atPath: "\(created.directory)/labeled-data/day1"))
        let config = try PoseConfig.load(path: created.config)
        #expect(config.keypointNames == ["nose", "paw", "tail"])
        #expect(config.skeleton == [["nose", "paw"], ["paw", "tail"]])
        #expect(config.dataDir == created.directory && config.backbone == "unet")
        #expect(config.findVideos().videos == created.videos)

        // Frames, then labels for one of them, then the loaders training uses.
        var options = ExtractionOptions()
        options.count = 2
        let opened = try FrameExtraction.openProject(created.directory)
        #expect(opened.layout == .kinema && opened.videos == created.videos && opened.root == created.directory)
        let result = try FrameExtraction.extract(video: opened.videos[0], labeledData: "\(opened.root)/labeled-data", options: options)
        let image = "labeled-data/day1/\(FrameExtraction.imageName(frame: result.written[0], frameCount: 20))"
        let table = try PoseTable(
            scorer: "kinema", keypoints: config.keypointNames!, coords: ["x", "y"], rowKeys: [image], indexStyle: .imagePath,
            values: [10, 12, 30, 20, .nan, .nan])
        try table.write(to: URL(fileURLWithPath: "\(created.directory)/CollectedData.csv"))
        let project = try PoseProject.load(configPath: created.config)
        #expect(project.kind == .lightningPose)
        let dataset = try LabeledDataset.load(project: project)
        #expect(dataset.frames.count == 1 && dataset.frames[0].image.width == 64)
    }

    /// A DeepLabCut project: DeepLabCut's config (project_path, video_sets with each video's crop, bodyparts,
    /// skeleton, numframes2pick), read by `PoseProject` once a CollectedData_<scorer>.csv exists.
    @Test func deepLabCutProjectOpensThroughPoseProject() throws {
        let folder = try TestFiles.temporaryDirectory("create-dlc")
        defer { try? FileManager.default.removeItem(at: folder) }
        let video = try TestVideos.moving("trial 1.mp4", in: folder, frames: 20)
        var spec = ProjectSpec(directory: folder.appendingPathComponent("reach-dlc").path, videos: [video], keypoints: ["nose", "paw"])
        spec.layout = .deepLabCut
        spec.scorer = "ana"
        spec.copyVideos = true
        spec.skeleton = [["nose", "paw"]]
        let created = try ProjectCreation.create(spec)
        let text = try String(contentsOfFile: created.config, encoding: .utf8)
        #expect(text.contains("project_path: \(created.directory)\n"))
        #expect(text.contains("  \(created.directory)/videos/trial 1.mp4:\n    crop: 0, 64, 0, 48\n"))
        #expect(text.contains("bodyparts:\n- nose\n- paw\n") && text.contains("skeleton:\n- - nose\n  - paw\n"))
        #expect(text.contains("numframes2pick: 20\n") && text.contains("Task: reach-dlc\n") && text.contains("scorer: ana\n"))
        // Copied, not linked: the same bytes in a regular file.
        let copy = "\(created.directory)/videos/trial 1.mp4"
        #expect((try? FileManager.default.destinationOfSymbolicLink(atPath: copy)) == nil)
        #expect(FileManager.default.contents(atPath: copy) == FileManager.default.contents(atPath: video))

        let opened = try FrameExtraction.openProject(created.config)
        #expect(opened.layout == .deepLabCut && opened.videos == [copy] && opened.root == created.directory)
        var options = ExtractionOptions()
        options.count = 1
        let result = try FrameExtraction.extract(video: copy, labeledData: "\(opened.root)/labeled-data", options: options)
        let name = FrameExtraction.imageName(frame: result.written[0], frameCount: 20)
        let table = try PoseTable(
            scorer: "ana", keypoints: ["nose", "paw"], coords: ["x", "y"], rowKeys: ["labeled-data/trial 1/\(name)"],
            indexStyle: .dlcThreeLevel, values: [5, 6, 7, 8])
        try table.write(to: URL(fileURLWithPath: "\(created.directory)/labeled-data/trial 1/CollectedData_ana.csv"))
        let project = try PoseProject.load(configPath: created.config)
        #expect(project.kind == .deepLabCut && project.dlcScorer == "ana" && project.dlcTask == "reach-dlc")
        #expect(project.config.keypointNames == ["nose", "paw"] && project.config.skeleton == [["nose", "paw"]])
        let dataset = try LabeledDataset.load(project: project)
        #expect(dataset.frames.count == 1)
    }

    /// Views seen side by side: each keypoint once per view, LP's mirrored_column_matches, the skeleton in each view.
    @Test func viewsMultiplyTheKeypoints() throws {
        let folder = try TestFiles.temporaryDirectory("create-views")
        defer { try? FileManager.default.removeItem(at: folder) }
        let video = try TestVideos.moving("mirror.mp4", in: folder, frames: 4)
        var spec = ProjectSpec(directory: folder.appendingPathComponent("p").path, videos: [video], keypoints: ["paw", "nose"])
        spec.views = ["top", "bottom"]
        spec.skeleton = [["paw", "nose"]]
        let created = try ProjectCreation.create(spec)
        #expect(created.keypoints == ["paw_top", "nose_top", "paw_bottom", "nose_bottom"])
        let config = try PoseConfig.load(path: created.config)
        #expect(config.mirroredColumnMatches == [[0, 1], [2, 3]])
        #expect(config.skeleton == [["paw_top", "nose_top"], ["paw_bottom", "nose_bottom"]])
    }

    /// Bad input: one error naming the problem, and nothing created or changed (no staging folder left either).
    @Test func badInputLeavesNothingBehind() throws {
        let folder = try TestFiles.temporaryDirectory("create-bad")
        defer { try? FileManager.default.removeItem(at: folder) }
        let video = try TestVideos.moving("v.mp4", in: folder, frames: 4)
        let taken = folder.appendingPathComponent("taken")
        try FileManager.default.createDirectory(at: taken, withIntermediateDirectories: true)
        try Data("keep".utf8).write(to: taken.appendingPathComponent("notes.txt"))
        let fresh = folder.appendingPathComponent("fresh").path
        func failure(_ spec: ProjectSpec) -> ProjectSetupError? {
            do { _ = try ProjectCreation.create(spec); return nil } catch { return error as? ProjectSetupError }
        }
        #expect(failure(ProjectSpec(directory: taken.path, videos: [video], keypoints: ["a"])) == .folderNotEmpty(path: taken.path))
        #expect(FileManager.default.contents(atPath: taken.appendingPathComponent("notes.txt").path) == Data("keep".utf8))
        #expect(
            failure(ProjectSpec(directory: fresh, videos: [video, "gone1.mp4", "gone2.avi"], keypoints: ["a"]))
                == .missingVideos(["gone1.mp4", "gone2.avi"]))
        let repeated = failure(ProjectSpec(directory: fresh, videos: [video], keypoints: ["a", "b", "a"]))
        #expect(repeated?.description == "--keypoints: a given more than once (names must be unique)")
        var unknownEdge = ProjectSpec(directory: fresh, videos: [video], keypoints: ["a", "b"])
        unknownEdge.skeleton = try ProjectCreation.parseSkeleton("a-c", keypoints: ["a", "b"])
        #expect(failure(unknownEdge)?.description.contains("'c' is not one of --keypoints") == true)
        let textFile = folder.appendingPathComponent("notes.mp4")
        try Data("hello".utf8).write(to: textFile)
        #expect(throws: VideoError.self) {
            try ProjectCreation.create(ProjectSpec(directory: fresh, videos: [textFile.path], keypoints: ["a"]))
        }
        // An empty folder is fine to create into.
        let empty = folder.appendingPathComponent("empty")
        try FileManager.default.createDirectory(at: empty, withIntermediateDirectories: true)
        _ = try ProjectCreation.create(ProjectSpec(directory: empty.path, videos: [video], keypoints: ["a"]))
        #expect(FileManager.default.fileExists(atPath: empty.appendingPathComponent("config.yaml").path))
        let left = try FileManager.default.contentsOfDirectory(atPath: folder.path).sorted()
        #expect(left == ["empty", "notes.mp4", "taken", "v.mp4"])
    }

    /// Skeleton edges split at the `-` that leaves two keypoints, so names may contain `-` themselves.
    @Test func skeletonParsingHandlesDashesInNames() throws {
        let names = ["paw-left", "paw-right", "nose"]
        #expect(
            try ProjectCreation.parseSkeleton("paw-left-nose,nose-paw-right", keypoints: names) == [
                ["paw-left", "nose"], ["nose", "paw-right"],
            ])
    }
}
