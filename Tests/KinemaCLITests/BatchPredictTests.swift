// `kinema predict MODEL --videos … --output DIR` (#15.3): a resumable batch through worker processes: the same
// CSVs as one-video prediction, nothing redone on a rerun, failures kept with their reason and retried on request,
// and a batch ended half-way that finishes only what is missing.
import Foundation
import KinemaTestSupport
import PoseData
import PosePrediction
import Testing

/// A trained (one epoch) model and a maker of short test videos, made once for the suite.
private struct Fixture {
    let dir: URL
    let model = "model"
    let ffmpeg: String

    static let shared: Result<Fixture, any Error> = Result { try Fixture() }

    init() throws {
        guard let ffmpeg = TestFiles.tool("ffmpeg") else { throw Skip("the ffmpeg tool is not on PATH (needed to make test videos)") }
        self.ffmpeg = ffmpeg
        let folder = try TestFiles.temporaryDirectory("batch-predict")
        removeAtExit(folder)
        dir = folder
        _ = try trainTinyModel(in: dir)
    }

    /// `count` videos `v0.mp4`… in a new folder, of `frames + i` frames each (so that no two CSVs are alike).
    func videos(_ name: String, count: Int, frames: Int = 6) throws -> URL {
        try makeTestVideos(ffmpeg: ffmpeg, in: dir, name: name, frames: (0..<count).map { frames + $0 })
    }
}

private func fixture() throws -> Fixture? { try suiteFixture(Fixture.shared) }

private func manifest(_ out: URL) throws -> BatchManifest {
    try #require(try BatchManifest.load(from: out.path))
}

private func states(_ manifest: BatchManifest) -> [BatchManifest.Entry.State: Int] {
    manifest.videos.reduce(into: [:]) { $0[$1.state, default: 0] += 1 }
}

private func files(_ folder: URL) -> [String] {
    ((try? FileManager.default.contentsOfDirectory(atPath: folder.path)) ?? []).sorted()
}

@Suite("kinema predict --videos (batch)", .serialized)
struct BatchPredictTests {
    /// Two workers give, video for video, the bytes one-video prediction writes with the same thread count; a
    /// rerun predicts nothing again and touches no file.
    @Test func batchMatchesSingleVideoPredictionAndRerunSkipsAll() throws {
        guard let f = try fixture() else { return }
        let videos = try f.videos("same", count: 6)
        let out = f.dir.appendingPathComponent("batch-\(UInt32.random(in: 0...UInt32.max))")
        // KINEMA_THREADS=2 over 2 workers is 1 thread each, as the one-video run below has.
        let arguments = ["predict", f.model, "--videos", videos.path, "--output", out.path, "--workers", "2"]
        let batch = try KinemaProcess.run(arguments, in: f.dir, timeout: 300, environment: ["KINEMA_THREADS": "2"])
        #expect(batch.status == 0, "\(batch)")
        #expect(batch.stdoutLines == [BatchManifest.path(in: out.path)], "\(batch)")
        #expect(batch.stderr.contains("6 videos: 6 predicted now, 0 done earlier (skipped), 0 failed"), "\(batch)")
        #expect(batch.stderr.contains("with 2 workers"), "\(batch)")
        let first = try manifest(out)
        #expect(states(first) == [.done: 6], "\(first)")
        #expect(first.model == f.dir.appendingPathComponent("model").path)

        let single = f.dir.appendingPathComponent("single-\(UInt32.random(in: 0...UInt32.max))")
        let names = (0..<6).map { "v\($0).mp4" }
        let one = try KinemaProcess.run(
            ["predict", f.model] + names.map { videos.appendingPathComponent($0).path } + ["--output", single.path], in: f.dir,
            timeout: 300, environment: ["KINEMA_THREADS": "1"])
        #expect(one.status == 0, "\(one)")
        for i in 0..<6 {
            for file in ["v\(i).csv", "v\(i)_temporal_norm.csv", "v\(i)_metrics.png"] {
                let a = try Data(contentsOf: out.appendingPathComponent(file)),
                    b = try Data(contentsOf: single.appendingPathComponent(file))
                #expect(a == b && !a.isEmpty, "\(file) differs from one-video prediction")
            }
            let entry = try #require(first.videos.first { $0.video == videos.appendingPathComponent("v\(i).mp4").path })
            #expect(
                entry.outputs?.map(\.path) == [
                    out.appendingPathComponent("v\(i).csv").path, out.appendingPathComponent("v\(i)_temporal_norm.csv").path,
                    out.appendingPathComponent("v\(i)_metrics.png").path,
                ])
            let rows = try String(contentsOf: out.appendingPathComponent("v\(i).csv"), encoding: .utf8).split(separator: "\n").count
            #expect(rows == 3 + 6 + i)
        }
        #expect(
            files(out) == ["manifest.json"] + (0..<6).flatMap { ["v\($0).csv", "v\($0)_temporal_norm.csv", "v\($0)_metrics.png"] }.sorted())

        let again = try KinemaProcess.run(arguments, in: f.dir, timeout: 300, environment: ["KINEMA_THREADS": "2"])
        #expect(again.status == 0, "\(again)")
        #expect(again.stderr.contains("6 videos: 0 predicted now, 6 done earlier (skipped), 0 failed"), "\(again)")
        #expect(try manifest(out) == first)  // the same finish times: nothing was predicted again
        let stamps = first.videos.flatMap { $0.outputs ?? [] }
        #expect(stamps.count == 18 && stamps.allSatisfy(\.isCurrent))

        // A CSV removed since is predicted again, alone.
        try FileManager.default.removeItem(at: out.appendingPathComponent("v3.csv"))
        let repaired = try KinemaProcess.run(arguments, in: f.dir, timeout: 300, environment: ["KINEMA_THREADS": "2"])
        #expect(repaired.stderr.contains("6 videos: 1 predicted now, 5 done earlier (skipped), 0 failed"), "\(repaired)")
        #expect(try Data(contentsOf: out.appendingPathComponent("v3.csv")) == Data(contentsOf: single.appendingPathComponent("v3.csv")))
    }

    /// A video FFmpeg cannot read fails alone, with its one-line reason in the manifest and the summary; the others'
    /// outputs are kept and the exit status says so. A rerun leaves it failed unless --retry-failed, which predicts
    /// only it.
    @Test func failedVideoIsKeptWithItsReasonAndRetriedOnRequest() throws {
        guard let f = try fixture() else { return }
        let videos = try f.videos("failing", count: 3)
        let broken = videos.appendingPathComponent("broken.mp4")
        try Data(repeating: 0x5A, count: 4000).write(to: broken)
        let list = videos.appendingPathComponent("list.txt")
        try "# three good, one broken\nv0.mp4\nbroken.mp4\nv1.mp4\nv2.mp4\n".write(to: list, atomically: true, encoding: .utf8)
        let out = f.dir.appendingPathComponent("failing-out-\(UInt32.random(in: 0...UInt32.max))")
        let arguments = ["predict", f.model, "--videos", list.path, "--output", out.path, "--workers", "2"]

        let run = try KinemaProcess.run(arguments, in: f.dir, timeout: 300)
        #expect(run.status == 5, "\(run)")
        #expect(run.stderr.contains("4 videos: 3 predicted now, 0 done earlier (skipped), 1 failed"), "\(run)")
        let failedLine = run.stderrLines.filter { $0.hasPrefix("failed: ") }
        #expect(failedLine.count == 1 && failedLine[0].hasPrefix("failed: \(broken.path): "), "\(run)")
        #expect(!run.stderr.contains("Fatal error") && !run.stderr.contains("NSCocoaErrorDomain"), "\(run)")
        let first = try manifest(out)
        #expect(states(first) == [.done: 3, .failed: 1], "\(first)")
        let failed = try #require(first.videos.first { $0.state == .failed })
        #expect(failed.video == broken.path)
        #expect(failed.reason.map { $0.contains("broken.mp4") && !$0.contains("\n") } == true, "\(failed)")
        #expect(failed.outputs == nil)
        for i in 0..<3 { #expect(FileManager.default.fileExists(atPath: out.appendingPathComponent("v\(i).csv").path)) }

        let again = try KinemaProcess.run(arguments, in: f.dir, timeout: 300)
        #expect(again.status == 5, "\(again)")
        #expect(again.stderr.contains("4 videos: 0 predicted now, 3 done earlier (skipped), 1 failed"), "\(again)")
        #expect(again.stderr.contains("1 of the failures are from an earlier run; --retry-failed predicts them again"), "\(again)")
        #expect(try manifest(out) == first)

        // Mended (the recording copied again), it is predicted alone with --retry-failed.
        try FileManager.default.removeItem(at: broken)
        try FileManager.default.copyItem(at: videos.appendingPathComponent("v1.mp4"), to: broken)
        let retried = try KinemaProcess.run(arguments + ["--retry-failed"], in: f.dir, timeout: 300)
        #expect(retried.status == 0, "\(retried)")
        #expect(retried.stderr.contains("4 videos: 1 predicted now, 3 done earlier (skipped), 0 failed"), "\(retried)")
        let last = try manifest(out)
        #expect(states(last) == [.done: 4])
        #expect(last.videos.filter { $0.video != broken.path } == first.videos.filter { $0.video != broken.path })
        let lines = { (name: String) in
            try String(contentsOf: out.appendingPathComponent(name), encoding: .utf8).split(separator: "\n").count
        }
        #expect(try lines("broken.csv") == 3 + 7 && lines("v1.csv") == 3 + 7)
    }

    /// SIGTERM (a scheduler's stop; Ctrl-C takes the same path) half-way: the workers end, the videos they held go
    /// back to pending, no temporary file is left, exit status 130; a rerun predicts only the missing videos.
    @Test func stoppedBatchFinishesOnlyWhatIsMissing() throws {
        guard let f = try fixture() else { return }
        let count = 8
        let videos = try f.videos("stopped", count: count, frames: 150)
        let out = f.dir.appendingPathComponent("stopped-out-\(UInt32.random(in: 0...UInt32.max))")
        let arguments = ["predict", f.model, "--videos", videos.path, "--output", out.path, "--workers", "1"]
        let process = Process()
        process.executableURL = try KinemaProcess.executable()
        process.arguments = arguments
        process.currentDirectoryURL = f.dir
        let log = f.dir.appendingPathComponent("stopped-\(UInt32.random(in: 0...UInt32.max)).log")
        _ = FileManager.default.createFile(atPath: log.path, contents: nil)
        let handle = try FileHandle(forWritingTo: log)
        process.standardError = handle
        process.standardOutput = FileHandle.nullDevice
        process.standardInput = FileHandle.nullDevice
        try process.run()
        // Stopped as soon as the first video's outputs are in place (each renamed into place whole; the metrics
        // picture is written last, after the CSV and the metric CSVs).
        let deadline = Date().addingTimeInterval(240)
        while process.isRunning, Date() < deadline, !files(out).contains("v0_metrics.png") { Thread.sleep(forTimeInterval: 0.01) }
        kill(process.processIdentifier, SIGTERM)
        process.waitUntilExit()
        try handle.close()
        let output = (try? String(contentsOf: log, encoding: .utf8)) ?? ""
        #expect(process.terminationStatus == 130, "\(output)")
        #expect(output.contains("interrupted: ") && output.contains("run the same command again"), "\(output)")
        let stopped = try manifest(out)
        let done = stopped.videos.filter { $0.state == .done }
        #expect(states(stopped)[.failed] == nil, "\(stopped)")
        #expect(done.count >= 1 && done.count < count, "stopped after \(done.count) of \(count) videos: \(output)")
        #expect(done.allSatisfy(BatchManifest.isCurrent))
        #expect(!files(out).contains { $0.hasSuffix(".tmp") }, "\(files(out))")

        let rerun = try KinemaProcess.run(arguments, in: f.dir, timeout: 300)
        #expect(rerun.status == 0, "\(rerun)")
        #expect(
            rerun.stderr.contains("\(count) videos: \(count - done.count) predicted now, \(done.count) done earlier (skipped), 0 failed"),
            "\(rerun)")
        let finished = try manifest(out)
        #expect(states(finished) == [.done: count])
        for entry in done { #expect(finished.videos.first { $0.video == entry.video } == entry) }
    }

    /// `--slurm` on a stand-in Slurm (sbatch, sacct, squeue as scripts answering as Slurm does): the array script is
    /// submitted for every task; the tasks run here (the script itself, as Slurm would run it); `kinema jobs status`
    /// finds the task that did not run, `retry` resubmits only it, and then every video is done.
    @Test func slurmArraySubmitsRetriesAndCompletes() throws {
        guard let f = try fixture() else { return }
        let videos = try f.videos("slurm", count: 3)
        let fake = try FakeSlurm(in: f.dir)
        let environment = fake.environment
        let out = f.dir.appendingPathComponent("slurm-out-\(UInt32.random(in: 0...UInt32.max))")
        let submit = [
            "predict", f.model, "--videos", videos.path, "--output", out.path, "--slurm", "--videos-per-task", "2", "--partition", "cpu",
            "--time", "10", "--max-parallel", "2", "--sbatch-line", "mem=1G",
        ]
        let submitted = try KinemaProcess.run(submit, in: f.dir, environment: environment)
        #expect(submitted.status == 0 && submitted.stdoutLines == ["4242"], "\(submitted)")
        let slurm = out.appendingPathComponent("slurm")
        let script = slurm.appendingPathComponent("predict.sbatch").path
        let sbatchLog = { fake.sbatchLog }
        #expect(sbatchLog() == "--parsable --array=0-1%2 \(script)\n")
        let text = try String(contentsOfFile: script, encoding: .utf8)
        #expect(text.contains("#SBATCH --partition=cpu\n#SBATCH --time=10\n#SBATCH --mem=1G\n"), "\(text)")
        #expect(try String(contentsOf: slurm.appendingPathComponent("videos.txt"), encoding: .utf8).split(separator: "\n").count == 3)
        try KinemaProcess.fail(submit, saying: "a Slurm batch was already submitted", in: f.dir)

        func runTask(_ task: Int, _ arguments: [String] = []) throws -> Int32 { try fake.runTask(script, task, arguments) }
        #expect(try runTask(0) == 0)  // task 1 never ran: its node failed
        // Each task keeps its own manifest (tasks run at once must not share one file).
        #expect(try BatchManifest.load(file: slurm.appendingPathComponent("manifests/task-0.json").path)?.videos.count == 2)
        #expect(!FileManager.default.fileExists(atPath: BatchManifest.path(in: out.path)))
        try fake.setSacct("4242_0|COMPLETED|0:0\n4242_1|NODE_FAIL|0:0\n")
        let status = try KinemaProcess.run(["jobs", "status", out.path], environment: environment)
        #expect(status.status == 5, "\(status)")
        #expect(status.stdoutLines.contains("videos: 2 done, 0 failed, 1 not done, of 3"), "\(status)")
        #expect(status.stdoutLines.contains("tasks: 1 COMPLETED, 1 NODE_FAIL"), "\(status)")
        #expect(
            status.stdoutLines.contains("task 1: NODE_FAIL (exit 0:0), 1 videos not done, log \(slurm.path)/logs/4242_1.log"), "\(status)")

        let retry = try KinemaProcess.run(["jobs", "retry", out.path], environment: environment)
        #expect(retry.status == 0 && retry.stdoutLines == ["resubmitted tasks 1 as Slurm job 4243"], "\(retry)")
        #expect(sbatchLog().split(separator: "\n").last == "--parsable --array=1%2 \(script)")
        #expect(try runTask(1) == 0)
        try fake.setSacct("4242_0|COMPLETED|0:0\n4242_1|NODE_FAIL|0:0\n4243_1|COMPLETED|0:0\n")
        let waited = try KinemaProcess.run(["jobs", "wait", out.path, "--interval", "0.1"], environment: environment)
        #expect(waited.status == 0, "\(waited)")
        #expect(
            waited.stdoutLines.contains("videos: 3 done, 0 failed, 0 not done, of 3") && waited.stdoutLines.contains("tasks: 2 COMPLETED"),
            "\(waited)")
        let nothing = try KinemaProcess.run(["jobs", "retry", out.path], environment: environment)
        #expect(nothing.stdoutLines == ["nothing to resubmit: every video is done"], "\(nothing)")
        for i in 0..<3 { #expect(FileManager.default.fileExists(atPath: out.appendingPathComponent("v\(i).csv").path)) }
        // Without Slurm on PATH: one line saying so.
        if TestFiles.tool("squeue") == nil {
            try KinemaProcess.fail(["jobs", "retry", out.path], saying: "squeue is not on PATH", in: f.dir)
        }
    }

    /// Wrong combinations are one usage line before any work.
    @Test func batchOptionsAreChecked() throws {
        guard let f = try fixture() else { return }
        try KinemaProcess.fail(
            ["predict", f.model, "a.mp4", "--videos", "b.mp4"], saying: "either after MODEL or with --videos", in: f.dir)
        try KinemaProcess.fail(["predict", f.model, "a.mp4", "--workers", "2"], saying: "apply to a batch given with --videos", in: f.dir)
        try KinemaProcess.fail(
            ["predict", f.model, "--videos", "x.mp4", "--workers", "0"], saying: "--workers must be positive", in: f.dir)
        try KinemaProcess.fail(["predict", f.model, "--videos", "nowhere/*.mp4"], saying: "the pattern matches no videos", in: f.dir)
        try KinemaProcess.fail(["predict", f.model], saying: "or a batch with --videos", in: f.dir)
        try KinemaProcess.fail(["predict", f.model, "--videos", "x.mp4", "--partition", "gpu"], saying: "go with --slurm", in: f.dir)
        try KinemaProcess.fail(["jobs", "status", "nowhere"], saying: "no Slurm batch was submitted into this folder", in: f.dir)
        // A model folder that is not there: the first worker says so, in one line, and the batch stops.
        let videos = try f.videos("no-model", count: 1)
        try KinemaProcess.fail(
            ["predict", "nomodel", "--videos", videos.path, "--output", "no-model-out"], saying: "nomodel is not a Kinema model directory",
            in: f.dir)
        #expect(!FileManager.default.fileExists(atPath: BatchManifest.path(in: f.dir.appendingPathComponent("no-model-out").path)))
    }
}
