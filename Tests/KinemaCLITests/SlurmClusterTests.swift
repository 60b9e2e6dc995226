// `kinema predict --slurm` and `kinema jobs` on a real Slurm cluster (#15.5): the one-node cluster that
// scripts/ci/start-slurm.sh starts on this machine (CI runs it before `make test`). Without one (sinfo missing or
// showing no usable node) the tests say so and skip. The stand-in-Slurm test in BatchPredictTests checks the same
// commands' logic everywhere; these check what only the real daemons do: sbatch's reading of the script, a task
// cancelled mid-video, sacct's and squeue's answers as they change, srun's tasks.
import Foundation
import KinemaTestSupport
import PoseData
import PosePrediction
import Testing

/// A tool's exit status and output.
private struct ToolResult {
    var status: Int32
    var output: String
}

/// Runs `tool` (found on PATH) with its output captured; killed after `timeout` seconds (status 124 then).
private func runCapturing(_ tool: String, _ arguments: [String], timeout: TimeInterval = 30) throws -> ToolResult {
    guard let path = TestFiles.tool(tool) else { return ToolResult(status: 127, output: "\(tool) is not on PATH") }
    let process = Process()
    process.executableURL = URL(fileURLWithPath: path)
    process.arguments = arguments
    let file = FileManager.default.temporaryDirectory.appendingPathComponent("kinema-tool-\(UUID().uuidString)")
    _ = FileManager.default.createFile(atPath: file.path, contents: nil)
    defer { try? FileManager.default.removeItem(at: file) }
    let handle = try FileHandle(forWritingTo: file)
    process.standardOutput = handle
    process.standardError = handle
    process.standardInput = FileHandle.nullDevice
    try process.run()
    let deadline = Date().addingTimeInterval(timeout)
    while process.isRunning && Date() < deadline { Thread.sleep(forTimeInterval: 0.02) }
    if process.isRunning {
        process.terminate()
        process.waitUntilExit()
        try handle.close()
        return ToolResult(status: 124, output: "\(tool) \(arguments.joined(separator: " ")) ran longer than \(Int(timeout)) s")
    }
    try handle.close()
    return ToolResult(status: process.terminationStatus, output: (try? String(contentsOf: file, encoding: .utf8)) ?? "")
}

/// Why no Slurm cluster can be used here, or nil when `sinfo` shows a node that takes jobs (the detection that
/// scripts/ci/start-slurm.sh documents).
private func clusterAbsence() -> String? {
    let hint = "scripts/ci/start-slurm.sh starts a one-node cluster (CI runs it)"
    guard TestFiles.tool("sinfo") != nil else { return "no Slurm here: sinfo is not on PATH; \(hint)" }
    guard let result = try? runCapturing("sinfo", ["-h", "-o", "%t"], timeout: 10), result.status == 0 else {
        return "no Slurm cluster answers (sinfo failed); \(hint)"
    }
    let states = result.output.split(whereSeparator: \.isNewline).map(String.init)
    guard states.contains(where: { ["idle", "mix", "alloc", "comp"].contains(where: $0.hasPrefix) }) else {
        return "no Slurm node takes jobs (sinfo: \(states.joined(separator: ", "))); \(hint)"
    }
    return nil
}

/// The cluster, a trained (one epoch) model and a maker of short test videos, made once for the suite.
private struct ClusterFixture {
    let dir: URL
    let model = "model"
    let ffmpeg: String

    static let shared: Result<ClusterFixture, any Error> = Result { try ClusterFixture() }

    init() throws {
        if let absence = clusterAbsence() { throw Skip(absence) }
        guard let ffmpeg = TestFiles.tool("ffmpeg") else { throw Skip("the ffmpeg tool is not on PATH (needed to make test videos)") }
        self.ffmpeg = ffmpeg
        // Slurm's tasks run as this user on this machine, so a temporary folder is shared with them.
        let folder = try TestFiles.temporaryDirectory("slurm-cluster")
        removeAtExit(folder)
        dir = folder
        _ = try trainTinyModel(in: dir)
    }

    /// Videos `v0.mp4`… in a new folder, `frames[i]` frames each.
    func videos(_ name: String, frames: [Int]) throws -> URL {
        try makeTestVideos(ffmpeg: ffmpeg, in: dir, name: name, frames: frames)
    }
}

private func fixture() throws -> ClusterFixture? { try suiteFixture(ClusterFixture.shared) }

/// Polls `condition` every 50 ms until it holds or `seconds` pass; whether it held.
private func waitFor(_ seconds: TimeInterval, _ condition: () throws -> Bool) rethrows -> Bool {
    let deadline = Date().addingTimeInterval(seconds)
    while Date() < deadline {
        if try condition() { return true }
        Thread.sleep(forTimeInterval: 0.05)
    }
    return try condition()
}

@Suite("kinema predict --slurm on a real Slurm cluster", .serialized)
struct SlurmClusterTests {
    /// A job array of 4 tasks over 8 videos on the real cluster. Task 1 is cancelled (`scancel JOB_1`) while it
    /// predicts its second, long video, after its first is done: its manifest keeps the first done and the second
    /// pending (nothing half-written), `kinema jobs status` reports the task CANCELLED with 1 video not done (once
    /// sacct has it), `kinema jobs retry` resubmits that task alone, which predicts only the missing video, and in
    /// the end every CSV is byte for byte the one a local batch (`--workers 2`, 1 thread each) writes.
    @Test func cancelledTaskIsRetriedAloneAndOutputsMatchALocalRun() throws {
        guard let f = try fixture() else { return }
        // Tasks take their thread count from the CPUs Slurm gives them (1), not from this process's setting.
        let slurmThreads = ["KINEMA_THREADS": ""]
        // Task K predicts v2K and v2K+1. v3 (task 1's second video) is long enough to be cancelled mid-way: seconds,
        // not the 0.5 s by which a task's manifest may record v2 late (it is saved at most twice a second).
        let frames = [6, 7, 8, 4000, 10, 11, 12, 13]
        let videos = try f.videos("array", frames: frames)
        let out = f.dir.appendingPathComponent("array-out-\(UInt32.random(in: 0...UInt32.max))")
        let slurm = out.appendingPathComponent("slurm")
        let submitted = try KinemaProcess.run(
            [
                "predict", f.model, "--videos", videos.path, "--output", out.path, "--slurm", "--videos-per-task", "2", "--time", "10",
            ], in: f.dir, environment: slurmThreads)
        #expect(submitted.status == 0, "\(submitted)")
        let job = try #require(submitted.stdoutLines.last, "\(submitted)")
        #expect(!job.isEmpty && job.allSatisfy { $0.isNumber }, "\(submitted)")

        // Task 1 mid-way: v2 recorded done while v3 is being predicted.
        let taskManifest = slurm.appendingPathComponent("manifests/task-1.json").path
        func entry(_ video: Int, in manifest: BatchManifest?) -> BatchManifest.Entry? {
            manifest?.videos.first { $0.video == videos.appendingPathComponent("v\(video).mp4").path }
        }
        let midWay = try waitFor(240) { try entry(2, in: BatchManifest.load(file: taskManifest))?.state == .done }
        let queue = try runCapturing("squeue", []).output
        try #require(midWay, "task 1 of job \(job) never finished its first video; squeue:\n\(queue)")
        #expect(try runCapturing("scancel", ["\(job)_1"]).status == 0)
        // The task ends (SIGTERM, then SIGKILL after KillWait) and sacct records it.
        let recorded = try waitFor(60) {
            try runCapturing("sacct", ["-j", "\(job)_1", "-X", "-n", "-P", "-o", "State"]).output.hasPrefix("CANCELLED")
                && !runCapturing("squeue", ["-h", "-r", "-j", job, "-o", "%i"]).output.contains("\(job)_1\n")
        }
        #expect(recorded, "task \(job)_1 not recorded as cancelled")
        let stopped = try #require(try BatchManifest.load(file: taskManifest))
        let firstDone = try #require(entry(2, in: stopped))
        #expect(firstDone.state == .done && BatchManifest.isCurrent(firstDone), "\(stopped)")
        #expect(entry(3, in: stopped)?.state == .pending, "v3 was cut off mid-way, so pending: \(stopped)")
        #expect(!FileManager.default.fileExists(atPath: out.appendingPathComponent("v3.csv").path))
        #expect(!((try? FileManager.default.contentsOfDirectory(atPath: out.path)) ?? []).contains { $0.hasSuffix(".tmp") })

        let status = try KinemaProcess.run(["jobs", "status", out.path])
        #expect(status.status == 5, "\(status)")
        let cancelledLine = status.stdoutLines.first { $0.hasPrefix("task 1: ") } ?? ""
        #expect(
            cancelledLine.hasPrefix("task 1: CANCELLED")
                && cancelledLine.contains(", 1 videos not done, log \(slurm.path)/logs/\(job)_1.log"),
            "\(status)")
        #expect(!status.stdout.contains("task 0: ") && !status.stdout.contains("note: "), "\(status)")

        // Only task 1 is resubmitted (tasks 2 and 3 may still be pending or running: they are left to finish).
        let retry = try KinemaProcess.run(["jobs", "retry", out.path], environment: slurmThreads)
        #expect(retry.status == 0, "\(retry)")
        let retryJob = try #require(retry.stdoutLines.first?.split(separator: " ").last.map(String.init), "\(retry)")
        #expect(retry.stdoutLines == ["resubmitted tasks 1 as Slurm job \(retryJob)"], "\(retry)")
        let waited = try KinemaProcess.run(["jobs", "wait", out.path, "--interval", "1"], timeout: 300)
        #expect(waited.status == 0 && waited.stdoutLines.contains("videos: 8 done, 0 failed, 0 not done, of 8"), "\(waited)")
        // Once slurmdbd has every end, sacct's word: the 3 first tasks and the retried one completed.
        let accounted = try waitFor(60) { try KinemaProcess.run(["jobs", "status", out.path]).stdout.contains("tasks: 4 COMPLETED\n") }
        let lastStatus = try KinemaProcess.run(["jobs", "status", out.path])
        #expect(accounted, "\(lastStatus)")

        // The retried task predicted v3 alone; v2's record (and so its CSV) is the one written before the cancel.
        let retryLog = try String(contentsOf: slurm.appendingPathComponent("logs/\(retryJob)_1.log"), encoding: .utf8)
        #expect(retryLog.contains("2 videos: 1 predicted now, 1 done earlier (skipped), 0 failed"), "\(retryLog)")
        let finished = try #require(try BatchManifest.load(file: taskManifest))
        #expect(entry(2, in: finished) == firstDone)
        #expect(entry(3, in: finished)?.state == .done)
        for task in 0..<4 {
            let manifest = try BatchManifest.load(file: slurm.appendingPathComponent("manifests/task-\(task).json").path)
            #expect(manifest?.videos.count == 2 && manifest?.videos.allSatisfy(BatchManifest.isCurrent) == true, "task \(task)")
        }

        // A local batch over the same videos, 1 thread per worker as each Slurm task had (1 CPU each).
        let local = f.dir.appendingPathComponent("array-local-\(UInt32.random(in: 0...UInt32.max))")
        let localRun = try KinemaProcess.run(
            ["predict", f.model, "--videos", videos.path, "--output", local.path, "--workers", "2"], in: f.dir, timeout: 300,
            environment: ["KINEMA_THREADS": "2"])
        #expect(localRun.status == 0, "\(localRun)")
        for (i, count) in frames.enumerated() {
            for file in ["v\(i).csv", "v\(i)_temporal_norm.csv"] {
                let a = try Data(contentsOf: out.appendingPathComponent(file)), b = try Data(contentsOf: local.appendingPathComponent(file))
                #expect(a == b && !a.isEmpty, "\(file) from Slurm differs from the local batch's")
            }
            let rows = try String(contentsOf: out.appendingPathComponent("v\(i).csv"), encoding: .utf8).split(separator: "\n").count
            #expect(rows == 3 + count)
        }
    }

    /// What the real sbatch refuses is one line naming it, and nothing is recorded as submitted (the same command,
    /// mended, can run into the same folder): an unknown partition, and an array past the cluster's MaxArraySize
    /// (1001 by default: 1,200 videos at one a task), which says what to change.
    @Test func refusedSubmissionsAreOneLineSayingWhatToChange() throws {
        guard let f = try fixture() else { return }
        let one = try f.videos("refused", frames: [6])
        let many = f.dir.appendingPathComponent("many-\(UInt32.random(in: 0...UInt32.max))")
        try FileManager.default.createDirectory(at: many, withIntermediateDirectories: true)
        for i in 0..<1200 {
            try FileManager.default.createSymbolicLink(
                at: many.appendingPathComponent("v\(i).mp4"), withDestinationURL: one.appendingPathComponent("v0.mp4"))
        }
        let out = f.dir.appendingPathComponent("refused-out-\(UInt32.random(in: 0...UInt32.max))")
        let submit = ["predict", f.model, "--videos", many.path, "--output", out.path, "--slurm", "--videos-per-task", "1"]
        try KinemaProcess.fail(
            submit,
            saying:
                "sbatch refused the job: sbatch: error: Batch job submission failed: Invalid job array specification (the highest task index is 1199;",
            in: f.dir)
        try KinemaProcess.fail(
            ["predict", f.model, "--videos", one.path, "--output", out.path, "--slurm", "--partition", "nosuchpartition"],
            saying: "sbatch refused the job: sbatch: error: invalid partition specified: nosuchpartition",
            in: f.dir)
        #expect(!FileManager.default.fileExists(atPath: out.appendingPathComponent("slurm/job.json").path))
    }

    /// `srun -n 2` runs two tasks on the node, numbered as `kinema train --distributed` reads them (SLURM_PROCID,
    /// SLURM_NTASKS, SLURM_LOCALID, SLURM_JOB_NODELIST).
    @Test func srunRunsTwoRanks() throws {
        if let absence = clusterAbsence() {
            print("skipped: \(absence)")
            return
        }
        let result = try runCapturing(
            "srun", ["-n", "2", "--time", "1", "bash", "-c", "echo $SLURM_PROCID/$SLURM_NTASKS/$SLURM_LOCALID/$SLURM_JOB_NODELIST"],
            timeout: 120)
        #expect(result.status == 0, "\(result.output)")
        let host = try runCapturing("sinfo", ["-h", "-o", "%N"]).output.trimmingCharacters(in: .whitespacesAndNewlines)
        let lines = result.output.split(whereSeparator: \.isNewline).map(String.init).sorted()
        #expect(lines == ["0/2/0/\(host)", "1/2/1/\(host)"], "\(result.output)")
    }
}
