import Foundation
import KinemaTestSupport
import Testing

// `kinema project create` and `kinema extract-frames` as a user runs them, and their bad input.
@Suite(.serialized) struct ProjectCommandTests {
    let video = TestFiles.data.appendingPathComponent("mirror-mouse-example/videos/test_vid.mp4").path

    @Test func createThenExtractFrames() throws {
        let folder = try TestFiles.temporaryDirectory("cli-project")
        defer { try? FileManager.default.removeItem(at: folder) }
        let project = folder.appendingPathComponent("mouse").path
        let created = try KinemaProcess.succeed([
            "project", "create", project, "--videos", video, "--keypoints", "nose,paw", "--skeleton", "nose-paw",
        ])
        #expect(created.stdout.contains("created \(project) (Kinema / Lightning Pose layout)"), "\(created)")
        #expect(created.stdoutLines.last == "next: kinema extract-frames \(project) --method kmeans --count 20")

        let first = try KinemaProcess.succeed(["extract-frames", project, "--method", "kmeans", "--count", "3", "--sample", "30"])
        let images = folder.appendingPathComponent("mouse/labeled-data/test_vid").path
        #expect(first.stdout.contains("test_vid.mp4: 3 new frames (k-means over 30 of "), "\(first)")
        #expect(try FileManager.default.contentsOfDirectory(atPath: images).filter { $0.hasPrefix("img") }.count == 3)
        let second = try KinemaProcess.succeed(["extract-frames", project, "--method", "uniform", "--count", "2", "--seed", "4"])
        #expect(
            second.stdout.contains("test_vid.mp4: 2 new frames (uniform over") && second.stdout.contains("3 already there, kept"),
            "\(second)")
        #expect(try FileManager.default.contentsOfDirectory(atPath: images).filter { $0.hasPrefix("img") }.count == 5)
    }

    @Test func badInputGivesOneLineAndChangesNothing() throws {
        let folder = try TestFiles.temporaryDirectory("cli-project-bad")
        defer { try? FileManager.default.removeItem(at: folder) }
        let taken = folder.appendingPathComponent("taken").path
        try FileManager.default.createDirectory(atPath: taken, withIntermediateDirectories: true)
        try Data("mine".utf8).write(to: URL(fileURLWithPath: taken + "/notes.txt"))
        let before = snapshot(folder)
        expectOneErrorLine(
            try KinemaProcess.run(["project", "create", taken, "--videos", video, "--keypoints", "a,b"]),
            naming: "\(taken) already exists and is not empty")
        expectOneErrorLine(
            try KinemaProcess.run(["project", "create", folder.path + "/new", "--videos", video, "missing-day3.mp4", "--keypoints", "a"]),
            naming: "missing-day3.mp4")
        expectOneErrorLine(
            try KinemaProcess.run(["project", "create", folder.path + "/new", "--videos", video, "--keypoints", "a,b,a"]),
            naming: "--keypoints: a given more than once")
        #expect(snapshot(folder) == before)
        #expect(!FileManager.default.fileExists(atPath: folder.path + "/new"))

        let project = folder.appendingPathComponent("p").path
        try KinemaProcess.succeed(["project", "create", project, "--videos", video, "--keypoints", "a", "--dlc"])
        let made = snapshot(folder)
        expectOneErrorLine(try KinemaProcess.run(["extract-frames", project, "--method", "random"]), naming: "--method 'random'")
        expectOneErrorLine(try KinemaProcess.run(["extract-frames", project, "--count", "0"]), naming: "--count 0")
        expectOneErrorLine(try KinemaProcess.run(["extract-frames", project, "--videos", "nowhere.mp4"]), naming: "nowhere.mp4")
        expectOneErrorLine(try KinemaProcess.run(["extract-frames", folder.path + "/nothing-here"]), naming: "nothing-here")
        #expect(snapshot(folder) == made)
    }
}
