import Foundation
import KinemaTestSupport
import Testing

// `kinema outliers` and `kinema merge` as a user runs them on the mirror-mouse test video (994 frames), and their
// bad input.
@Suite(.serialized) struct OutliersCommandTests {
    let video = TestFiles.data.appendingPathComponent("mirror-mouse-example/videos/test_vid.mp4").path

    /// A pose of three keypoints at position `s`: b and c at fixed offsets from a, plus `noise` (deterministic, by `t`).
    static func pose(_ s: Double, t: Int, noise: Double) -> [Double] {
        let ax = 150 + 60 * sin(s * 0.37), ay = 200 + 50 * cos(s * 0.23)
        let n = (0..<4).map { noise * sin(Double(t * 4 + $0) * 12.9898) }
        return [ax, ay, ax + 30 + n[0], ay + n[1], ax + n[2], ay + 30 + n[3]]
    }

    static func header(_ scorer: String, _ keypoints: [String], _ coords: [String]) -> String {
        let columns = keypoints.flatMap { k in coords.map { (k, $0) } }
        return "scorer," + columns.map { _ in scorer }.joined(separator: ",") + "\nbodyparts,"
            + columns.map(\.0).joined(separator: ",") + "\ncoords," + columns.map(\.1).joined(separator: ",") + "\n"
    }

    /// 60 labelled frames (the project's CollectedData.csv: images need not exist for the PCA).
    static func labels(_ keypoints: [String] = ["a", "b", "c"]) -> String {
        header("ana", keypoints, ["x", "y"])
            + (0..<60).map { t in
                "labeled-data/test_vid/img\(String(format: "%03d", t * 16)).png,"
                    + pose(Double(t), t: t, noise: 0.6).map { "\($0)" }.joined(separator: ",")
            }
            .joined(separator: "\n") + "\n"
    }

    /// A single model's prediction of `frames` frames: exact poses moving under half a pixel a frame, except `broken`
    /// frames whose c is off by (10, −5) px: no jump (11 px < 20) but far from the labels' pose subspace.
    static func prediction(frames: Int, broken: Set<Int> = [], keypoints: [String] = ["a", "b", "c"]) -> String {
        header("model", keypoints, ["x", "y", "likelihood"])
            + (0..<frames).map { t in
                var p = pose(Double(t) / 50, t: t, noise: 0)
                if broken.contains(t) { p[4] += 10; p[5] -= 5 }
                return "\(t)," + [0, 1, 2].map { "\(p[2 * $0]),\(p[2 * $0 + 1]),0.95" }.joined(separator: ",")
            }.joined(separator: "\n") + "\n"
    }

    @Test func outliersThenMergeStartTheNextIteration() throws {
        let folder = try TestFiles.temporaryDirectory("cli-outliers")
        defer { try? FileManager.default.removeItem(at: folder) }
        let project = folder.appendingPathComponent("mouse").path
        try KinemaProcess.succeed(["project", "create", project, "--videos", video, "--keypoints", "a,b,c"])
        try Data(Self.labels().utf8).write(to: URL(fileURLWithPath: project + "/CollectedData.csv"))
        let predictionFile = folder.appendingPathComponent("test_vid.csv").path
        try Data(Self.prediction(frames: 994, broken: [300, 301, 302, 700]).utf8).write(to: URL(fileURLWithPath: predictionFile))

        let run = try KinemaProcess.succeed(["outliers", project, predictionFile, "--by", "pca", "--count", "10"])
        #expect(run.stdout.contains("test_vid.mp4: 4 candidate frames (pca 4)"), "\(run)")
        #expect(run.stdout.contains("pose PCA: ") && run.stdout.contains("from 60 labelled frames"), "\(run)")
        #expect(run.stdout.contains("4 new frames → \(project)/labeled-data/test_vid"), "\(run)")
        #expect(run.stdout.contains("img300.png  pca error") && run.stdout.contains("(c)"), "\(run)")
        #expect(run.stdout.contains("machine labels: machinelabels-iter0.csv"), "\(run)")
        let images = project + "/labeled-data/test_vid"
        let written = try FileManager.default.contentsOfDirectory(atPath: images).filter { $0.hasPrefix("img") }.sorted()
        #expect(written == ["img300.png", "img301.png", "img302.png", "img700.png"])
        let machine = try String(contentsOfFile: images + "/machinelabels-iter0.csv", encoding: .utf8)
        #expect(machine.hasPrefix("scorer,machine,") && machine.contains("\nlabeled-data/test_vid/img700.png,"))

        // The default (auto) sees the same frames as jumps and pca outliers, and no frame twice.
        let auto = try KinemaProcess.succeed(["outliers", project, predictionFile])
        #expect(
            auto.stdout.contains("test_vid.mp4: 0 candidate frames (jump 0, likelihood 0, pca 0); 4 frames already extracted, left out"),
            "\(auto)")

        // Nobody reviewed them: merge says so and changes nothing.
        let before = snapshot(folder)
        expectOneErrorLine(try KinemaProcess.run(["merge", project]), naming: "4 frames with machine labels have not been reviewed")
        #expect(snapshot(folder) == before)
        let merged = try KinemaProcess.succeed(["merge", project, "--include-unreviewed"])
        #expect(merged.stdout.contains("4 not reviewed, added with their machine labels"), "\(merged)")
        #expect(merged.stdout.contains("iteration is now 1"), "\(merged)")
        let collected = try String(contentsOfFile: project + "/CollectedData.csv", encoding: .utf8)
        #expect(collected.hasPrefix(Self.labels()) && collected.split(separator: "\n").count == 3 + 64)
        #expect(try String(contentsOfFile: project + "/config.yaml", encoding: .utf8).hasSuffix("iteration: 1\n"))
        // The next round names its machine labels after iteration 1.
        try Data(Self.prediction(frames: 994, broken: [450]).utf8).write(to: URL(fileURLWithPath: predictionFile))
        try KinemaProcess.succeed(["outliers", project, predictionFile, "--by", "pca"])
        #expect(FileManager.default.fileExists(atPath: images + "/machinelabels-iter1.csv"))
    }

    @Test func badInputGivesOneLineAndChangesNothing() throws {
        let folder = try TestFiles.temporaryDirectory("cli-outliers-bad")
        defer { try? FileManager.default.removeItem(at: folder) }
        let project = folder.appendingPathComponent("p").path
        try KinemaProcess.succeed(["project", "create", project, "--videos", video, "--keypoints", "a,b,c", "--dlc"])
        func write(_ name: String, _ text: String) throws -> String {
            let path = folder.appendingPathComponent(name).path
            try Data(text.utf8).write(to: URL(fileURLWithPath: path))
            return path
        }
        let otherVideo = try write("day2.csv", Self.prediction(frames: 10, broken: [5]))
        let tooLong = try write("test_vid.csv", Self.prediction(frames: 995, broken: [5]))
        let unknown = try write("test_vid_unknown.csv", Self.prediction(frames: 10, broken: [5], keypoints: ["a", "b", "tail"]))
        let short = try write("test_vid_short.csv", Self.prediction(frames: 10, broken: [5]))
        let before = snapshot(folder)
        expectOneErrorLine(
            try KinemaProcess.run(["outliers", project, otherVideo]),
            naming: "day2.csv: its name matches no video of the project (test_vid.mp4)")
        expectOneErrorLine(
            try KinemaProcess.run(["outliers", project, tooLong]),
            naming: "test_vid.csv: it has frame 994, outside the video (frames 0…993)")
        expectOneErrorLine(try KinemaProcess.run(["outliers", project, unknown]), naming: "keypoint tail not in the project")
        expectOneErrorLine(try KinemaProcess.run(["outliers", project, folder.path + "/missing.csv"]), naming: "missing.csv: no such file")
        expectOneErrorLine(
            try KinemaProcess.run(["outliers", project, short, "--by", "spread"]), naming: "--by spread needs ensemble variance")
        expectOneErrorLine(try KinemaProcess.run(["outliers", project, otherVideo, "--by", "speed"]), naming: "--by 'speed'")
        expectOneErrorLine(
            try KinemaProcess.run(["outliers", project, otherVideo, "--threshold", "jump=-3"]), naming: "--threshold 'jump=-3'")
        expectOneErrorLine(
            try KinemaProcess.run(["outliers", project, otherVideo, "--video", folder.path + "/gone.mp4"]), naming: "gone.mp4")
        expectOneErrorLine(try KinemaProcess.run(["merge", project, "--include-unreviewed", "--leave-unreviewed"]), naming: "not both")
        #expect(snapshot(folder) == before)
    }
}
