// `kinema jobs status|wait|retry DIR`: a batch submitted with `kinema predict … --slurm`, followed up from Slurm's
// own accounts (sacct, squeue) and the tasks' manifests.
import ArgumentParser
import Foundation
import KinemaConsole
import PosePrediction
import SlurmJobs

struct Jobs: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "jobs",
        abstract: "Follow up a batch submitted to Slurm (kinema predict ... --slurm).",
        subcommands: [Status.self, Wait.self, Retry.self])

    struct Folder: ParsableArguments {
        @Argument(help: "The batch's output folder (--output of kinema predict --slurm).")
        var output: String
    }

    struct Status: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract:
                "Tasks and videos (sessions, for separate cameras): done, failed (with reasons), pending; exit status 5 while not all done."
        )
        @OptionGroup var folder: Folder

        func run() throws {
            try JobsReport(output: folder.output).printAndExit()
        }
    }

    struct Wait: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Wait until no task is pending or running, then report as status does.")
        @OptionGroup var folder: Folder
        @Option(help: "Seconds between looks at the queue.")
        var interval = 30.0

        func validate() throws {
            guard interval > 0 else { throw ValidationError("--interval must be positive, not \(interval)") }
        }

        func run() throws {
            var report = try JobsReport(output: folder.output)
            while report.activeTasks > 0 {
                logLine("\(report.activeTasks) tasks pending or running; looking again in \(Int(interval)) s")
                Thread.sleep(forTimeInterval: interval)
                report = try JobsReport(output: folder.output)
            }
            try report.printAndExit()
        }
    }

    struct Retry: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Resubmit the tasks (neither pending nor running) whose videos (sessions) are not all done.")
        @OptionGroup var folder: Folder
        @Flag(
            name: .customLong("retry-failed"), help: "Also the tasks whose only undone videos (sessions) failed, predicting those again.")
        var retryFailed = false

        func run() throws {
            let report = try JobsReport(output: folder.output)
            let tasks = report.tasksToRetry(retryFailed: retryFailed)
            guard !tasks.isEmpty else {
                print(
                    report.activeTasks > 0
                        ? "nothing to resubmit: \(report.activeTasks) tasks are still pending or running"
                        : report.allDone
                            ? "nothing to resubmit: every \(report.record.unit.dropLast()) is done"
                            : "nothing to resubmit: only failed \(report.record.unit) are left (--retry-failed)")
                return
            }
            var record = report.record
            let job = try SlurmArray.submit(
                script: report.folder.script, tasks: tasks, maxParallel: record.settings.maxParallel,
                scriptArguments: retryFailed ? ["--retry-failed"] : [])
            record.jobs.append(job)
            try record.save(report.folder)
            print("resubmitted tasks \(SlurmArray.arraySpec(tasks, maxParallel: nil)) as Slurm job \(job)")
        }
    }
}

/// What a Slurm batch has done: its tasks' states from Slurm, its videos' (sessions') from the tasks' manifests.
struct JobsReport {
    let folder: SlurmJobFolder
    let record: SlurmJobRecord
    let states: [Int: SlurmTaskState]
    let note: String?
    /// Per task: videos (sessions) done, failed (video or session, reason) and not done.
    var done: [Int] = [], pending: [Int] = []
    var failed: [[(video: String, reason: String)]] = []

    init(output: String) throws {
        folder = SlurmJobFolder(output: output)
        record = try SlurmJobRecord.load(folder)
        (states, note) = try SlurmAccounting.query(jobs: record.jobs)
        for task in 0..<record.tasks {
            let manifest = try BatchManifest.load(file: folder.manifest(task: task))
            let entries = manifest?.videos ?? []
            let taskDone = entries.filter { $0.state == .done }.count
            let taskFailed = entries.filter { $0.state == .failed }.map { ($0.video, $0.reason ?? "failed") }
            done.append(taskDone)
            failed.append(taskFailed)
            pending.append(record.chunk(task).count - taskDone - taskFailed.count)
        }
    }

    var activeTasks: Int { states.values.filter(\.isActive).count }
    var allDone: Bool { done.reduce(0, +) == record.units }

    func tasksToRetry(retryFailed: Bool) -> [Int] {
        (0..<record.tasks).filter { task in
            states[task]?.isActive != true && (pending[task] > 0 || (retryFailed && !failed[task].isEmpty))
        }
    }

    var lines: [String] {
        var lines = [
            "Slurm job\(record.jobs.count == 1 ? "" : "s") \(record.jobs.joined(separator: ", ")): \(record.tasks) tasks of up to \(record.videosPerTask) \(record.unit)"
        ]
        var counts: [String: Int] = [:]
        for task in 0..<record.tasks { counts[states[task]?.state ?? "NOT IN QUEUE", default: 0] += 1 }
        lines.append("tasks: " + counts.sorted { $0.key < $1.key }.map { "\($0.value) \($0.key)" }.joined(separator: ", "))
        let failedCount = failed.map(\.count).reduce(0, +)
        lines.append(
            "\(record.unit): \(done.reduce(0, +)) done, \(failedCount) failed, \(pending.reduce(0, +)) not done, of \(record.units)"
                + (record.sessions == nil ? "" : " (\(record.videos) videos)"))
        for task in 0..<record.tasks where pending[task] > 0 && states[task]?.isActive != true {
            let state = states[task].map { "\($0.state)" + ($0.exitCode.map { " (exit \($0))" } ?? "") } ?? "not in the queue"
            let log = states[task].map { ", log \(folder.log(job: $0.job, task: task))" } ?? ""
            lines.append("task \(task): \(state), \(pending[task]) \(record.unit) not done\(log)")
        }
        lines += failed.flatMap { $0 }.map { "failed: \(record.sessions == nil ? "" : "session ")\($0.video): \($0.reason)" }
        if let note { lines.append("note: " + note) }
        return lines
    }
}

extension JobsReport {
    /// Prints the report; exit status 5 while videos are not all done (status and wait end the same way).
    func printAndExit() throws {
        for line in lines { print(line) }
        if !allDone { throw ExitCode(PosePredict.batchHadFailures) }
    }
}
