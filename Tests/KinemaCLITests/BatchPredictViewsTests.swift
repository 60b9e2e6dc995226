// `kinema predict MODEL --videos … --output DIR` with a multi-camera model (data.view_names): a batch of sessions
// (one video per view), each predicted whole by a worker as `kinema predict MODEL VIDEOS…` predicts it; resumable
// session by session; an incomplete session stops the command before any work; Slurm tasks never split a session.
import Foundation
import KinemaTestSupport
import PoseData
import PoseFormats
import PosePrediction
import Testing

/// A two-camera model (the synthetic `top`/`bot` project, one epoch) and a maker of sessions, made once for the suite.
private struct ViewsFixture {
    let dir: URL
    let model = "model"
    let ffmpeg: String
    /// The project's own session: `walk_top.mp4`, `walk_bot.mp4` (10 frames of the synthetic animal).
    let walk: (top: URL, bot: URL)

    static let shared: Result<ViewsFixture, any Error> = Result { try ViewsFixture() }

    init() throws {
        guard let ffmpeg = TestFiles.tool("ffmpeg") else { throw Skip("the ffmpeg tool is not on PATH (needed to make test videos)") }
        self.ffmpeg = ffmpeg
        dir = try TestFiles.temporaryDirectory("batch-views")
        removeAtExit(dir)
        let project = try SyntheticProject.writeTwoViews(
            to: dir.appendingPathComponent("project").path, labeledFrames: 16, videoFrames: 10)
        _ = try KinemaProcess.succeed(
            ["train", project.configPath, "--model-dir", model, "--epochs", "1", "--image-size", "64", "--no-videos"], in: dir,
            timeout: 600)
        let videos = dir.appendingPathComponent("project/videos")
        walk = (videos.appendingPathComponent("walk_top.mp4"), videos.appendingPathComponent("walk_bot.mp4"))
    }

    /// A new folder `<name>-<random>` of sessions: `walk` gives the project's session under that name; any other
    /// session gets FFmpeg test pictures, `frames[view]` frames per view (`top` testsrc, `bot` testsrc2).
    func sessions(_ name: String, _ sessions: [(name: String, frames: [String: Int])]) throws -> URL {
        let folder = dir.appendingPathComponent("\(name)-\(UInt32.random(in: 0...UInt32.max))")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        for session in sessions {
            for (view, frames) in session.frames {
                try video(
                    folder.appendingPathComponent("\(session.name)_\(view).mp4"), frames: frames,
                    source: view == "top" ? "testsrc" : "testsrc2")
            }
        }
        return folder
    }

    /// The project's session copied into `folder` as `<name>_top.mp4` and `<name>_bot.mp4`.
    func copyWalk(to folder: URL, as name: String) throws {
        try FileManager.default.copyItem(at: walk.top, to: folder.appendingPathComponent("\(name)_top.mp4"))
        try FileManager.default.copyItem(at: walk.bot, to: folder.appendingPathComponent("\(name)_bot.mp4"))
    }

    /// Writes (or replaces) an H.264 video of FFmpeg's `source` test picture, 64×64.
    func video(_ path: URL, frames: Int, source: String) throws {
        let status = try runTool(
            ffmpeg,
            [
                "-loglevel", "error", "-y", "-f", "lavfi", "-i", "\(source)=size=64x64:rate=10", "-frames:v", "\(frames)", "-c:v",
                "libx264", "-pix_fmt", "yuv420p", path.path,
            ])
        guard status == 0 else { throw Skip("ffmpeg could not make \(path.path) (status \(status))") }
    }
}

private func fixture() throws -> ViewsFixture? { try suiteFixture(ViewsFixture.shared) }

private func manifest(_ out: URL) throws -> BatchManifest { try #require(try BatchManifest.load(from: out.path)) }

private func table(_ url: URL) throws -> PoseTable { try PoseTable.read(from: url) }

/// Whether two prediction CSVs hold the same rows, keypoints and values (to 1e-4).
private func same(_ a: URL, _ b: URL) throws -> Bool {
    let x = try table(a), y = try table(b)
    return x.rowCount == y.rowCount && x.keypoints == y.keypoints && x.values.count == y.values.count
        && zip(x.values, y.values).allSatisfy { abs($0 - $1) <= 1e-4 || ($0.isNaN && $1.isNaN) }
}

private func files(_ folder: URL) -> [String] {
    ((try? FileManager.default.contentsOfDirectory(atPath: folder.path)) ?? []).filter { !$0.hasPrefix(".") }.sorted()
}

@Suite("kinema predict --videos with separate cameras (sessions)", .serialized)
struct BatchPredictViewsTests {
    /// Two workers predict three sessions, view for view the CSVs (to 1e-4) and the files that
    /// `kinema predict MODEL VIDEOS…` writes; a rerun predicts nothing; one view's video replaced → that session
    /// alone is predicted again. The batch's time against the one-process command on the same sessions is printed.
    @Test func sessionsMatchTheCommandWithoutVideosAndResume() throws {
        guard let f = try fixture() else { return }
        let folder = try f.sessions("three", [("b", ["top": 8, "bot": 8]), ("c", ["top": 6, "bot": 6])])
        try f.copyWalk(to: folder, as: "a")
        let names = ["a", "b", "c"]
        let out = f.dir.appendingPathComponent("views-batch-\(UInt32.random(in: 0...UInt32.max))")
        // KINEMA_THREADS=2 over 2 workers is 1 thread each, as the one-process run below has.
        let arguments = ["predict", f.model, "--videos", folder.path, "--output", out.path, "--workers", "2"]
        let batch = try KinemaProcess.run(arguments, in: f.dir, timeout: 300, environment: ["KINEMA_THREADS": "2"])
        #expect(batch.status == 0, "\(batch)")
        #expect(batch.stdoutLines == [BatchManifest.path(in: out.path)], "\(batch)")
        #expect(batch.stderr.contains("3 sessions (6 videos): 3 predicted now, 0 done earlier (skipped), 0 failed"), "\(batch)")
        #expect(batch.stderr.contains("overhead per session"), "\(batch)")
        let first = try manifest(out)
        #expect(first.videos.map(\.video) == names && first.videos.allSatisfy { $0.state == .done }, "\(first)")
        for entry in first.videos {
            let views = ["top", "bot"].map { folder.appendingPathComponent("\(entry.video)_\($0).mp4").path }
            #expect(entry.views == views && entry.sources?.map(\.path) == views && entry.source == nil, "\(entry)")
            #expect(entry.outputs?.map(\.path).contains(out.appendingPathComponent("\(entry.video)_bot.csv").path) == true)
            #expect(BatchManifest.isCurrent(entry))
        }

        let single = f.dir.appendingPathComponent("views-single-\(UInt32.random(in: 0...UInt32.max))")
        let one = try KinemaProcess.run(
            ["predict", f.model, folder.path, "--output", single.path], in: f.dir, timeout: 300, environment: ["KINEMA_THREADS": "1"])
        #expect(one.status == 0, "\(one)")
        #expect(files(out) == (["manifest.json"] + files(single)).sorted(), "\(files(out)) vs \(files(single))")
        let frames = ["a": 10, "b": 8, "c": 6]
        for name in names {
            for view in ["top", "bot"] {
                let csv = "\(name)_\(view).csv"
                #expect(try same(out.appendingPathComponent(csv), single.appendingPathComponent(csv)), "\(csv)")
                #expect(try table(out.appendingPathComponent(csv)).rowCount == frames[name])
                for metric in ["temporal_norm", "pca_multiview_error"] {
                    #expect(FileManager.default.fileExists(atPath: out.appendingPathComponent("\(name)_\(view)_\(metric).csv").path))
                }
            }
        }

        let again = try KinemaProcess.run(arguments, in: f.dir, timeout: 300, environment: ["KINEMA_THREADS": "2"])
        #expect(again.status == 0, "\(again)")
        #expect(again.stderr.contains("3 sessions (6 videos): 0 predicted now, 3 done earlier (skipped), 0 failed"), "\(again)")
        #expect(try manifest(out) == first)  // the same finish times: nothing was predicted again

        // b's bot camera replaced (its top video, the same frames): b alone is predicted again, and its bot CSV is
        // now its top CSV (each view's picture goes through the same network).
        let bBot = folder.appendingPathComponent("b_bot.mp4")
        try FileManager.default.removeItem(at: bBot)
        try FileManager.default.copyItem(at: folder.appendingPathComponent("b_top.mp4"), to: bBot)
        let changed = try KinemaProcess.run(arguments, in: f.dir, timeout: 300, environment: ["KINEMA_THREADS": "2"])
        #expect(changed.status == 0, "\(changed)")
        #expect(changed.stderr.contains("3 sessions (6 videos): 1 predicted now, 2 done earlier (skipped), 0 failed"), "\(changed)")
        #expect(changed.stderr.contains("session b: done earlier, but a view's video or an output changed since"), "\(changed)")
        let last = try manifest(out)
        #expect(last.videos.filter { $0.video != "b" } == first.videos.filter { $0.video != "b" })
        #expect(last.videos.first(where: { $0.video == "b" })?.finished != first.videos.first(where: { $0.video == "b" })?.finished)
        #expect(try same(out.appendingPathComponent("b_bot.csv"), out.appendingPathComponent("b_top.csv")))
        #expect(try !same(out.appendingPathComponent("b_bot.csv"), single.appendingPathComponent("b_bot.csv")))

        // Measured: the batch (one worker, one thread) against the command without --videos (one thread), on the
        // same 3 sessions of 2 × 150 frames.
        let long = try f.sessions("long", ["p", "q", "r"].map { ($0, ["top": 150, "bot": 150]) })
        let timedBatch = f.dir.appendingPathComponent("views-timed-\(UInt32.random(in: 0...UInt32.max))")
        let timedSingle = f.dir.appendingPathComponent("views-timed-single-\(UInt32.random(in: 0...UInt32.max))")
        var start = Date()
        let timed = try KinemaProcess.run(
            ["predict", f.model, "--videos", long.path, "--output", timedBatch.path], in: f.dir, timeout: 300,
            environment: ["KINEMA_THREADS": "1"])
        let batchSeconds = Date().timeIntervalSince(start)
        start = Date()
        let plain = try KinemaProcess.run(
            ["predict", f.model, long.path, "--output", timedSingle.path], in: f.dir, timeout: 300, environment: ["KINEMA_THREADS": "1"])
        let plainSeconds = Date().timeIntervalSince(start)
        #expect(timed.status == 0 && plain.status == 0, "\(timed)\n\(plain)")
        print(
            String(
                format:
                    "measured: 3 sessions of 2 views × 150 frames: batch (--workers 1) %.2f s, kinema predict MODEL FOLDER %.2f s: %.2f s more per session",
                batchSeconds, plainSeconds, (batchSeconds - plainSeconds) / 3))
        print("measured: " + (timed.stderrLines.last { $0.contains("overhead per session") } ?? ""))
    }

    /// A session missing a view is one line naming it, before any work (no manifest, no CSV); a session whose views
    /// differ in frame count fails alone with its reason, stays failed on a rerun, and --retry-failed predicts it
    /// once mended.
    @Test func incompleteSessionStopsAndFailedSessionIsRetried() throws {
        guard let f = try fixture() else { return }
        let folder = try f.sessions("incomplete", [("c", ["top": 8])])
        try f.copyWalk(to: folder, as: "a")
        let out = f.dir.appendingPathComponent("views-incomplete-\(UInt32.random(in: 0...UInt32.max))")
        let arguments = ["predict", f.model, "--videos", folder.path, "--output", out.path]
        try KinemaProcess.fail(arguments, saying: "session c has no bot video (found c_top.mp4)", in: f.dir)
        #expect(files(out).isEmpty)
        try KinemaProcess.fail(
            arguments + ["--slurm"], saying: "session c has no bot video (found c_top.mp4)", in: f.dir)
        #expect(files(out).isEmpty)

        let cBot = folder.appendingPathComponent("c_bot.mp4")
        try f.video(cBot, frames: 7, source: "testsrc2")
        let run = try KinemaProcess.run(arguments, in: f.dir, timeout: 300)
        #expect(run.status == 5, "\(run)")
        #expect(run.stderr.contains("2 sessions (4 videos): 1 predicted now, 0 done earlier (skipped), 1 failed"), "\(run)")
        let failedLines = run.stderrLines.filter { $0.hasPrefix("failed: ") }
        #expect(
            failedLines.count == 1 && failedLines[0].hasPrefix("failed: session c: ")
                && failedLines[0].contains("the views of session c differ in frame count (c_top.mp4 8, c_bot.mp4 7)"), "\(run)")
        let first = try manifest(out)
        let failed = try #require(first.videos.first { $0.video == "c" })
        #expect(failed.state == .failed && failed.views == [folder.appendingPathComponent("c_top.mp4").path, cBot.path])
        #expect(failed.reason?.contains("differ in frame count") == true && failed.outputs == nil, "\(failed)")
        #expect(!FileManager.default.fileExists(atPath: out.appendingPathComponent("c_top.csv").path))
        #expect(FileManager.default.fileExists(atPath: out.appendingPathComponent("a_bot.csv").path))

        let again = try KinemaProcess.run(arguments, in: f.dir, timeout: 300)
        #expect(again.status == 5, "\(again)")
        #expect(again.stderr.contains("2 sessions (4 videos): 0 predicted now, 1 done earlier (skipped), 1 failed"), "\(again)")
        #expect(again.stderr.contains("1 of the failures are from an earlier run; --retry-failed predicts them again"), "\(again)")
        #expect(try manifest(out) == first)

        try f.video(cBot, frames: 8, source: "testsrc2")
        let retried = try KinemaProcess.run(arguments + ["--retry-failed"], in: f.dir, timeout: 300)
        #expect(retried.status == 0, "\(retried)")
        #expect(retried.stderr.contains("2 sessions (4 videos): 1 predicted now, 1 done earlier (skipped), 0 failed"), "\(retried)")
        let last = try manifest(out)
        #expect(last.videos.allSatisfy { $0.state == .done })
        #expect(last.videos.first(where: { $0.video == "a" }) == first.videos.first(where: { $0.video == "a" }))
        #expect(try table(out.appendingPathComponent("c_bot.csv")).rowCount == 8)
    }

    /// SIGTERM (Ctrl-C's path) half-way: the session in flight goes back to pending with its views, no temporary
    /// file is left, exit status 130; a rerun predicts only the sessions not done.
    @Test func stoppedBatchOfSessionsFinishesOnlyWhatIsMissing() throws {
        guard let f = try fixture() else { return }
        let names = ["p", "q", "r", "s"]
        let folder = try f.sessions("stopped", names.map { ($0, ["top": 150, "bot": 150]) })
        let out = f.dir.appendingPathComponent("views-stopped-\(UInt32.random(in: 0...UInt32.max))")
        let arguments = ["predict", f.model, "--videos", folder.path, "--output", out.path]
        let process = Process()
        process.executableURL = try KinemaProcess.executable()
        process.arguments = arguments
        process.currentDirectoryURL = f.dir
        process.standardOutput = FileHandle.nullDevice
        process.standardError = FileHandle.nullDevice
        process.standardInput = FileHandle.nullDevice
        try process.run()
        // Stopped once the first session is whole: its bot view's metrics picture is its last output.
        let deadline = Date().addingTimeInterval(240)
        while process.isRunning, Date() < deadline, !files(out).contains("p_bot_metrics.png") { Thread.sleep(forTimeInterval: 0.01) }
        kill(process.processIdentifier, SIGTERM)
        process.waitUntilExit()
        #expect(process.terminationStatus == 130)
        let stopped = try manifest(out)
        let done = stopped.videos.filter { $0.state == .done }
        #expect(done.count >= 1 && done.count < names.count && !stopped.videos.contains { $0.state == .failed }, "\(stopped)")
        #expect(stopped.videos.allSatisfy { $0.views?.count == 2 } && done.allSatisfy(BatchManifest.isCurrent), "\(stopped)")
        #expect(!((try? FileManager.default.contentsOfDirectory(atPath: out.path)) ?? []).contains { $0.hasSuffix(".tmp") })

        let rerun = try KinemaProcess.run(arguments, in: f.dir, timeout: 300)
        #expect(rerun.status == 0, "\(rerun)")
        #expect(
            rerun.stderr.contains(
                "4 sessions (8 videos): \(names.count - done.count) predicted now, \(done.count) done earlier (skipped), 0 failed"),
            "\(rerun)")
        let finished = try manifest(out)
        #expect(finished.videos.map(\.video) == names && finished.videos.allSatisfy { $0.state == .done })
        for entry in done { #expect(finished.videos.first(where: { $0.video == entry.video }) == entry) }
    }

    /// `--slurm` on a stand-in Slurm: 3 sessions, 2 a task, make 2 tasks of whole sessions (task 0 holds a and b,
    /// four videos, though --videos-per-task is 2); `kinema jobs` counts sessions, and retry resubmits the task not run.
    @Test func slurmTasksKeepSessionsWhole() throws {
        guard let f = try fixture() else { return }
        let folder = try f.sessions("slurm", [("b", ["top": 6, "bot": 6]), ("c", ["top": 5, "bot": 5])])
        try f.copyWalk(to: folder, as: "a")
        let fake = try FakeSlurm(in: f.dir)
        let out = f.dir.appendingPathComponent("views-slurm-\(UInt32.random(in: 0...UInt32.max))")
        let submit = ["predict", f.model, "--videos", folder.path, "--output", out.path, "--slurm", "--videos-per-task", "2"]
        let submitted = try KinemaProcess.run(submit, in: f.dir, environment: fake.environment)
        #expect(submitted.status == 0 && submitted.stdoutLines == ["4242"], "\(submitted)")
        #expect(submitted.stderr.contains("2 tasks of up to 2 sessions (3 in all)"), "\(submitted)")
        let slurm = out.appendingPathComponent("slurm")
        let script = slurm.appendingPathComponent("predict.sbatch").path
        #expect(fake.sbatchLog == "--parsable --array=0-1 \(script)\n")
        let listed = try String(contentsOf: slurm.appendingPathComponent("videos.txt"), encoding: .utf8)
        #expect(listed == ["a_top", "a_bot", "b_top", "b_bot", "c_top", "c_bot"].map { folder.path + "/\($0).mp4\n" }.joined())
        let record = try String(contentsOf: slurm.appendingPathComponent("job.json"), encoding: .utf8)
        #expect(record.contains("\"sessions\" : 3") && record.contains("\"videos\" : 6"), "\(record)")

        #expect(try fake.runTask(script, 0) == 0)  // task 1's node failed
        let task0 = try #require(try BatchManifest.load(file: slurm.appendingPathComponent("manifests/task-0.json").path))
        #expect(task0.videos.map(\.video) == ["a", "b"] && task0.videos.allSatisfy { $0.state == .done && $0.views?.count == 2 })
        try fake.setSacct("4242_0|COMPLETED|0:0\n4242_1|NODE_FAIL|0:0\n")
        let status = try KinemaProcess.run(["jobs", "status", out.path], environment: fake.environment)
        #expect(status.status == 5, "\(status)")
        #expect(status.stdoutLines.first == "Slurm job 4242: 2 tasks of up to 2 sessions", "\(status)")
        #expect(status.stdoutLines.contains("sessions: 2 done, 0 failed, 1 not done, of 3 (6 videos)"), "\(status)")
        #expect(
            status.stdoutLines.contains("task 1: NODE_FAIL (exit 0:0), 1 sessions not done, log \(slurm.path)/logs/4242_1.log"),
            "\(status)")

        let retry = try KinemaProcess.run(["jobs", "retry", out.path], environment: fake.environment)
        #expect(retry.status == 0 && retry.stdoutLines == ["resubmitted tasks 1 as Slurm job 4243"], "\(retry)")
        #expect(try fake.runTask(script, 1) == 0)
        let task1 = try #require(try BatchManifest.load(file: slurm.appendingPathComponent("manifests/task-1.json").path))
        #expect(task1.videos.map(\.video) == ["c"] && task1.videos[0].state == .done)
        try fake.setSacct("4242_0|COMPLETED|0:0\n4242_1|NODE_FAIL|0:0\n4243_1|COMPLETED|0:0\n")
        let waited = try KinemaProcess.run(["jobs", "wait", out.path, "--interval", "0.1"], environment: fake.environment)
        #expect(waited.status == 0 && waited.stdoutLines.contains("sessions: 3 done, 0 failed, 0 not done, of 3 (6 videos)"), "\(waited)")
        let nothing = try KinemaProcess.run(["jobs", "retry", out.path], environment: fake.environment)
        #expect(nothing.stdoutLines == ["nothing to resubmit: every session is done"], "\(nothing)")
        for name in ["a", "b", "c"] {
            for view in ["top", "bot"] {
                #expect(FileManager.default.fileExists(atPath: out.appendingPathComponent("\(name)_\(view).csv").path))
            }
        }
    }
}
