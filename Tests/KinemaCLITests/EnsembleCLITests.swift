// `kinema train CONFIG --ensemble N` and `kinema predict ENSEMBLE VIDEO` (issue #13.4) from the command line: the
// folder's layout, the EKS file equal to `kinema smooth singlecam` on the members' CSVs, and bad input as one line.
import Foundation
import KinemaTestSupport
import PoseData
import Testing

/// A 2-member ensemble (one epoch each) of a 12-frame synthetic project at 64×64 with a 20-frame video, made once.
private struct Fixture {
    let dir: URL
    let config: String
    let video: String
    static let shared: Result<Fixture, any Error> = Result { try Fixture() }

    init() throws {
        dir = try TestFiles.temporaryDirectory("ensemble-cli")
        removeAtExit(dir)
        let project = try SyntheticProject.write(
            to: dir.appendingPathComponent("project").path, labeledFrames: 12, videoFrames: 20, size: 64, modelSize: 64)
        var config = try PoseConfig.load(path: project.configPath)
        config.trainBatchSize = 4
        config.unetFilters = 8
        config.predictVidsAfterTraining = false
        try config.yamlText().write(toFile: project.configPath, atomically: true, encoding: .utf8)
        self.config = project.configPath
        video = project.videoPath
        let train = try KinemaProcess.run(
            ["train", config.configFile, "--ensemble", "2", "--output", "ens", "--epochs", "1", "--image-size", "64"], in: dir,
            timeout: 300)
        guard train.status == 0 else { throw Skip("the ensemble could not be trained here:\n\(train)") }
    }
}

private func fixture() throws -> Fixture? { try suiteFixture(Fixture.shared) }

@Suite("kinema ensembles", .serialized)
struct EnsembleCLITests {
    @Test func trainWritesTheEnsembleLayout() throws {
        guard let f = try fixture() else { return }
        let ens = f.dir.appendingPathComponent("ens")
        let names = try FileManager.default.contentsOfDirectory(atPath: ens.path).sorted()
        #expect(names == ["config.yaml", "ensemble.yaml", "member-0", "member-1"])
        let manifest = try String(contentsOf: ens.appendingPathComponent("ensemble.yaml"), encoding: .utf8)
        #expect(manifest.contains("rng_seed_data_pt: 0") && manifest.contains("rng_seed_data_pt: 1"), "\(manifest)")
        for member in ["member-0", "member-1"] {
            let folder = ens.appendingPathComponent(member)
            for file in ["config.yaml", "checkpoints/best.safetensors", "metrics.csv", "train_status.json", "predictions.csv"] {
                #expect(FileManager.default.fileExists(atPath: folder.appendingPathComponent(file).path), "\(member)/\(file)")
            }
        }
        // A member alone is an ordinary model folder.
        let out = f.dir.appendingPathComponent("single-\(UInt32.random(in: 0...UInt32.max))")
        let single = try KinemaProcess.succeed(["predict", "ens/member-1", f.video, "--output", out.path], in: f.dir)
        #expect(single.stdoutLines == [out.appendingPathComponent("walk.csv").path], "\(single)")
        // Running the command again keeps both members and says so.
        let again = try KinemaProcess.succeed(
            ["train", f.config, "--ensemble", "2", "--output", "ens", "--epochs", "1", "--image-size", "64"], in: f.dir)
        #expect(again.stderr.components(separatedBy: "finished earlier, kept").count - 1 >= 2, "\(again)")
    }

    @Test func predictWritesMembersAndTheSmoothCommandsResult() throws {
        guard let f = try fixture() else { return }
        let out = f.dir.appendingPathComponent("preds-\(UInt32.random(in: 0...UInt32.max))")
        let run = try KinemaProcess.succeed(["predict", "ens", f.video, "--output", out.path], in: f.dir)
        let members = ["member-0", "member-1"].map { out.appendingPathComponent("members/\($0)/walk.csv").path }
        let smoothed = out.appendingPathComponent("walk.csv").path
        #expect(run.stdoutLines == members + [smoothed], "\(run)")
        let header = try String(contentsOfFile: smoothed, encoding: .utf8).split(separator: "\n")[2]
        #expect(header.hasPrefix("coords,x,y,likelihood,x_ens_median,y_ens_median,x_ens_var,y_ens_var,x_posterior_var,y_posterior_var,"))

        let smooth = f.dir.appendingPathComponent("smooth-\(UInt32.random(in: 0...UInt32.max))")
        _ = try KinemaProcess.succeed(
            ["smooth", "singlecam", "--input-files"] + members + ["--save-dir", smooth.path, "--save-filename", "walk.csv"], in: f.dir)
        #expect(
            FileManager.default.contents(atPath: smooth.appendingPathComponent("walk.csv").path)
                == FileManager.default.contents(atPath: smoothed))

        // A fixed s gives `kinema smooth --s` too.
        let fixed = try KinemaProcess.succeed(["predict", "ens", f.video, "--output", out.path, "--smooth-s", "3"], in: f.dir)
        #expect(fixed.stdoutLines.last == smoothed)
        _ = try KinemaProcess.succeed(
            ["smooth", "singlecam", "--input-files"] + members + ["--save-dir", smooth.path, "--save-filename", "fixed.csv", "--s", "3"],
            in: f.dir)
        #expect(
            FileManager.default.contents(atPath: smooth.appendingPathComponent("fixed.csv").path)
                == FileManager.default.contents(atPath: smoothed))
    }

    @Test func badInputIsOneLine() throws {
        guard let f = try fixture() else { return }
        let before = snapshot(f.dir.appendingPathComponent("ens"))
        expectOneErrorLine(
            try KinemaProcess.run(["train", f.config, "--ensemble", "1", "--output", "e1"], in: f.dir), naming: "--ensemble 1")
        expectOneErrorLine(
            try KinemaProcess.run(
                ["train", f.config, "--ensemble", "3", "--output", "ens", "--epochs", "1", "--image-size", "64"], in: f.dir),
            naming: "holds an ensemble of 2 members, not 3")
        expectOneErrorLine(
            try KinemaProcess.run(
                ["train", f.config, "--ensemble", "2", "--output", "ens", "--epochs", "2", "--image-size", "64"], in: f.dir),
            naming: "other settings")
        expectOneErrorLine(try KinemaProcess.run(["train", f.config, "--output", "e2"], in: f.dir), naming: "--output")
        expectOneErrorLine(try KinemaProcess.run(["predict", "ens", f.video, "--videos", f.video], in: f.dir), naming: "--videos")
        expectOneErrorLine(try KinemaProcess.run(["predict", "ens", f.video, "--labeled-video"], in: f.dir), naming: "--labeled-video")
        expectOneErrorLine(try KinemaProcess.run(["predict", "ens", "nothing.mp4"], in: f.dir), naming: "nothing.mp4")
        expectOneErrorLine(try KinemaProcess.run(["predict", "ens/member-0", f.video, "--smooth-s", "2"], in: f.dir), naming: "--smooth-s")
        #expect(snapshot(f.dir.appendingPathComponent("ens")) == before, "a failed command changed the ensemble")
        #expect(!FileManager.default.fileExists(atPath: f.dir.appendingPathComponent("e1").path))

        // An ensemble with a member missing names it.
        let broken = f.dir.appendingPathComponent("broken")
        try FileManager.default.createDirectory(at: broken, withIntermediateDirectories: true)
        for name in ["ensemble.yaml", "config.yaml", "member-0"] {
            try FileManager.default.copyItem(at: f.dir.appendingPathComponent("ens/\(name)"), to: broken.appendingPathComponent(name))
        }
        expectOneErrorLine(try KinemaProcess.run(["predict", "broken", f.video], in: f.dir), naming: "broken/member-1 is missing")
    }
}
