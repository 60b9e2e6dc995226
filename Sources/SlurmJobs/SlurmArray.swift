// A batch on a Slurm cluster: the `sbatch` job-array script (one task per chunk of videos, or of whole sessions of
// separate cameras), its submission, and
// the record of what was submitted (`DIR/slurm/job.json`) that `kinema jobs status|wait|retry` read.
import Foundation
import KinemaFiles

/// Something Slurm or the job folder would not do, in one line.
public struct SlurmError: Error, CustomStringConvertible, Sendable {
    public var description: String
    public init(_ description: String) { self.description = description }
}

/// What each array task asks of Slurm.
public struct SlurmSettings: Codable, Equatable, Sendable {
    public var partition: String?
    /// `--time` as Slurm reads it (`30`, `2:00:00`, `1-00:00:00`).
    public var time: String?
    public var gpusPerTask: Int?
    public var cpusPerTask: Int?
    /// At most this many tasks at once (`--array=…%N`).
    public var maxParallel: Int?
    /// Further `#SBATCH` lines: `mem=16G` or `--mem=16G` (or a whole `#SBATCH …` line).
    public var extraLines: [String]

    public init(
        partition: String? = nil, time: String? = nil, gpusPerTask: Int? = nil, cpusPerTask: Int? = nil, maxParallel: Int? = nil,
        extraLines: [String] = []
    ) {
        self.partition = partition
        self.time = time
        self.gpusPerTask = gpusPerTask
        self.cpusPerTask = cpusPerTask
        self.maxParallel = maxParallel
        self.extraLines = extraLines
    }
}

/// The job folder `DIR/slurm`: the script, the logs, and the record of the submitted jobs.
public struct SlurmJobFolder: Sendable {
    public let path: String
    public init(output: String) { path = (output as NSString).appendingPathComponent("slurm") }
    public var script: String { path + "/predict.sbatch" }
    public var record: String { path + "/job.json" }
    public var logs: String { path + "/logs" }
    /// The videos, one absolute path a line, in task order (a session's views together).
    public var videoList: String { path + "/videos.txt" }
    /// Task K's manifest (each task records its own videos; `kinema jobs` reads them all).
    public func manifest(task: Int) -> String { path + "/manifests/task-\(task).json" }
    public func log(job: String, task: Int) -> String { logs + "/\(job)_\(task).log" }
}

/// What was submitted: every job (the first submission and each retry) over the same tasks.
public struct SlurmJobRecord: Codable, Equatable, Sendable {
    /// Videos in `DIR/slurm/videos.txt`; task K predicts units (videos, or sessions) K·videosPerTask ..<
    /// (K+1)·videosPerTask.
    public var videos: Int
    /// Sessions in the list, for a multi-camera model (nil for one camera): the tasks' units, never split.
    public var sessions: Int?
    /// Units per task: videos, or sessions.
    public var videosPerTask: Int
    public var settings: SlurmSettings
    /// Job ids, oldest first; a task's state is that of its latest job.
    public var jobs: [String]

    public init(videos: Int, sessions: Int? = nil, videosPerTask: Int, settings: SlurmSettings, jobs: [String] = []) {
        self.videos = videos
        self.sessions = sessions
        self.videosPerTask = videosPerTask
        self.settings = settings
        self.jobs = jobs
    }

    /// What a task's share counts (and the tasks' manifests record, one entry each): videos, or sessions.
    public var units: Int { sessions ?? videos }
    public var unit: String { sessions == nil ? "videos" : "sessions" }

    public var tasks: Int { (units + videosPerTask - 1) / videosPerTask }

    /// The indices (into the list of units) of task `task`'s units.
    public func chunk(_ task: Int) -> Range<Int> { Self.chunk(task, of: units, perTask: videosPerTask) }

    /// Task `task`'s share of `count` units, `perTask` a task: empty for a task past the end.
    public static func chunk(_ task: Int, of count: Int, perTask: Int) -> Range<Int> {
        let start = min(count, max(0, task) * perTask)
        return start..<(task < 0 ? start : min(count, start + perTask))
    }

    public static func load(_ folder: SlurmJobFolder) throws -> SlurmJobRecord {
        guard let data = FileManager.default.contents(atPath: folder.record) else {
            throw SlurmError("\(folder.record): no Slurm batch was submitted into this folder (kinema predict … --slurm writes it)")
        }
        guard let record = try? JSONDecoder().decode(SlurmJobRecord.self, from: data) else {
            throw SlurmError("\(folder.record) is not a record of Slurm jobs Kinema can read (damaged?)")
        }
        return record
    }

    public func save(_ folder: SlurmJobFolder) throws {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]
        try AtomicFile.write(try encoder.encode(self) + Data("\n".utf8), to: URL(fileURLWithPath: folder.record))
    }
}

public enum SlurmArray {
    /// The job-array script: one task per chunk; each runs `command` with its task index appended
    /// (`--batch-chunk $SLURM_ARRAY_TASK_ID`) and the script's own arguments (`"$@"`, e.g. `--retry-failed`).
    /// Which tasks run is given at submission (`sbatch --array=…`), so a retry reuses the script.
    public static func script(settings: SlurmSettings, jobName: String, logs: String, command: [String]) -> String {
        var lines = ["#!/bin/bash", "#SBATCH --job-name=\(jobName)", "#SBATCH --output=\(directiveValue(logsPattern(logs)))"]
        if let partition = settings.partition { lines.append("#SBATCH --partition=\(partition)") }
        if let time = settings.time { lines.append("#SBATCH --time=\(time)") }
        if let gpus = settings.gpusPerTask { lines.append("#SBATCH --gpus-per-task=\(gpus)") }
        if let cpus = settings.cpusPerTask { lines.append("#SBATCH --cpus-per-task=\(cpus)") }
        for line in settings.extraLines {
            let trimmed = line.trimmingCharacters(in: .whitespaces)
            lines.append(trimmed.hasPrefix("#SBATCH") ? trimmed : trimmed.hasPrefix("-") ? "#SBATCH \(trimmed)" : "#SBATCH --\(trimmed)")
        }
        lines += [
            "# Written by kinema predict --slurm; submitted with sbatch --array=TASKS (kinema jobs retry does that again).",
            "set -euo pipefail",
            "# Threads follow the CPUs Slurm gave the task, also where tasks are not bound to them (TaskPlugin=task/none).",
            "export KINEMA_THREADS=\"${KINEMA_THREADS:-${SLURM_CPUS_ON_NODE:-}}\"",
            "exec " + (command + ["--batch-chunk"]).map(shellQuoted).joined(separator: " ") + " \"$SLURM_ARRAY_TASK_ID\" \"$@\"",
        ]
        return lines.joined(separator: "\n") + "\n"
    }

    /// The `--output` pattern of the tasks' logs in `logs`: `%` in the folder's name doubled (sbatch reads `%`
    /// as the start of a replacement symbol such as `%A`).
    static func logsPattern(_ logs: String) -> String {
        logs.replacingOccurrences(of: "%", with: "%%") + "/%A_%a.log"
    }

    /// A `#SBATCH` option's value, in double quotes when it holds white space: sbatch splits directives at white
    /// space and refuses the script ("Invalid directive found in batch script") for the word after a space.
    static func directiveValue(_ value: String) -> String {
        value.contains(where: \.isWhitespace) ? "\"" + value + "\"" : value
    }

    /// `sbatch`'s `--array` value for the tasks: ranges (`0-3,7`) and the limit (`%4`).
    public static func arraySpec(_ tasks: [Int], maxParallel: Int?) -> String {
        var parts: [String] = []
        var index = 0
        let sorted = Array(Set(tasks)).sorted()
        while index < sorted.count {
            var end = index
            while end + 1 < sorted.count && sorted[end + 1] == sorted[end] + 1 { end += 1 }
            parts.append(end == index ? "\(sorted[index])" : "\(sorted[index])-\(sorted[end])")
            index = end + 1
        }
        return parts.joined(separator: ",") + (maxParallel.map { "%\($0)" } ?? "")
    }

    /// The job id in `sbatch --parsable`'s answer (`4242` or `4242;cluster`).
    public static func jobID(fromParsable text: String) -> String? {
        let id = text.trimmingCharacters(in: .whitespacesAndNewlines).split(separator: ";").first.map(String.init) ?? ""
        return !id.isEmpty && id.allSatisfy(\.isNumber) ? id : nil
    }

    /// Submits the script for `tasks` and returns the job id.
    public static func submit(script: String, tasks: [Int], maxParallel: Int?, scriptArguments: [String] = []) throws -> String {
        let arguments = ["--parsable", "--array=\(arraySpec(tasks, maxParallel: maxParallel))", script] + scriptArguments
        let result = try Slurm.run("sbatch", arguments)
        guard result.status == 0 else { throw SlurmError(refusal(result.errorLine, tasks: tasks)) }
        guard let id = jobID(fromParsable: result.output) else {
            throw SlurmError("sbatch answered \"\(result.output.trimmingCharacters(in: .whitespacesAndNewlines))\", not a job id")
        }
        return id
    }

    /// sbatch's refusal in one line, with what to do when the array is longer than clusters take.
    public static func refusal(_ line: String, tasks: [Int]) -> String {
        var text = "sbatch refused the job: \(line)"
        if line.contains("Invalid job array specification"), let last = tasks.max(), last >= 1000 {
            // MaxArraySize (1001 unless an administrator raised it) bounds the task indices, not their number.
            text += " (the highest task index is \(last); clusters take indices below MaxArraySize, 1001 by default:"
            text += " a larger --videos-per-task makes fewer tasks)"
        }
        return text
    }

    static func shellQuoted(_ word: String) -> String {
        if !word.isEmpty && word.allSatisfy({ $0.isLetter || $0.isNumber || "-_./=:,+@%".contains($0) }) { return word }
        return "'" + word.replacingOccurrences(of: "'", with: "'\\''") + "'"
    }
}

/// Runs Slurm's commands (sbatch, sacct, squeue).
public enum Slurm {
    public struct Result: Sendable {
        public var status: Int32
        public var output: String
        public var error: String

        public init(status: Int32, output: String, error: String) {
            self.status = status
            self.output = output
            self.error = error
        }

        /// The first line of its error output (or of its output), for a one-line message.
        public var errorLine: String {
            let text = error.isEmpty ? output : error
            return text.split(whereSeparator: \.isNewline).first.map(String.init) ?? "exit status \(status)"
        }
    }

    /// Runs `tool` found on PATH; a missing tool is one line saying Slurm is not here.
    public static func run(_ tool: String, _ arguments: [String]) throws -> Result {
        let folders = (ProcessInfo.processInfo.environment["PATH"] ?? "/usr/bin:/bin").split(separator: ":")
        guard let path = folders.map({ "\($0)/\(tool)" }).first(where: { FileManager.default.isExecutableFile(atPath: $0) }) else {
            throw SlurmError("\(tool) is not on PATH: run this on a Slurm login node (or without --slurm, on this machine)")
        }
        let process = Process()
        process.executableURL = URL(fileURLWithPath: path)
        process.arguments = arguments
        let output = Pipe(), error = Pipe()
        process.standardOutput = output
        process.standardError = error
        process.standardInput = FileHandle.nullDevice
        do {
            try process.run()
        } catch {
            throw SlurmError("cannot run \(path): \(FileProblem.describe(error))")
        }
        // Both pipes are drained before waiting, so a chatty tool cannot stall on a full pipe.
        final class Box: @unchecked Sendable { var data = Data() }
        let errorData = Box()
        let done = DispatchSemaphore(value: 0)
        let reading = error.fileHandleForReading
        DispatchQueue.global().async {
            errorData.data = reading.readDataToEndOfFile()
            done.signal()
        }
        let outputData = output.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        done.wait()
        return Result(
            status: process.terminationStatus, output: String(decoding: outputData, as: UTF8.self),
            error: String(decoding: errorData.data, as: UTF8.self))
    }
}
