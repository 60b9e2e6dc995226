// `kinema predict MODEL --videos … --slurm`: the batch as a Slurm job array, and one task of it (`--batch-chunk K`).
import ArgumentParser
import Foundation
import KinemaConsole
import KinemaFiles
import PosePrediction
import SlurmJobs

/// The options of a batch submitted to Slurm.
struct SlurmOptions: ParsableArguments {
    @Flag(help: "With --videos: submit the batch to Slurm as a job array (one task per --videos-per-task videos or sessions).")
    var slurm = false

    @Option(help: "Slurm partition of the tasks.")
    var partition: String?

    @Option(help: "Time limit of each task, as Slurm reads it (e.g. 2:00:00).")
    var time: String?

    @Option(name: .customLong("gpus-per-task"), help: "GPUs per task.")
    var gpusPerTask: Int?

    @Option(name: .customLong("cpus-per-task"), help: "CPU cores per task (a task runs as many threads as Slurm gives it CPUs).")
    var cpusPerTask: Int?

    @Option(name: .customLong("max-parallel"), help: "At most this many tasks running at once.")
    var maxParallel: Int?

    @Option(name: .customLong("sbatch-line"), help: "A further #SBATCH line (repeatable): mem=16G, account=lab, ...")
    var sbatchLines: [String] = []

    @Option(name: .customLong("videos-per-task"), help: "Videos per array task (sessions, for a multi-camera model).")
    var videosPerTask = 10

    @Option(name: .customLong("batch-chunk"), help: .hidden)
    var batchChunk: Int?

    var settings: SlurmSettings {
        SlurmSettings(
            partition: partition, time: time, gpusPerTask: gpusPerTask, cpusPerTask: cpusPerTask, maxParallel: maxParallel,
            extraLines: sbatchLines)
    }

    /// Whether any option other than `--slurm` itself was given.
    var givesSlurmSettings: Bool { settings != SlurmSettings() }

    func validate(batch: Bool) throws {
        guard videosPerTask > 0 else { throw ValidationError("--videos-per-task must be positive, not \(videosPerTask)") }
        if let maxParallel, maxParallel <= 0 { throw ValidationError("--max-parallel must be positive, not \(maxParallel)") }
        if (slurm || batchChunk != nil) && !batch { throw ValidationError("--slurm applies to a batch given with --videos") }
        if !slurm && givesSlurmSettings {
            throw ValidationError("--partition, --time, --gpus-per-task, --cpus-per-task, --max-parallel and --sbatch-line go with --slurm")
        }
    }
}

extension PosePredict {
    /// Writes `DIR/slurm` (the video list, the script) and submits the array.
    func submitToSlurm(items: [BatchItem], model: String, output: String, workerCommand: [String]) throws {
        let folder = SlurmJobFolder(output: output)
        guard !FileManager.default.fileExists(atPath: folder.record) else {
            throw ValidationError(
                "\(folder.record): a Slurm batch was already submitted into \(output); follow it with kinema jobs status|wait|retry \(output)"
            )
        }
        do {
            try FileManager.default.createDirectory(atPath: folder.logs, withIntermediateDirectories: true)
        } catch {
            throw ValidationError("\(folder.logs): cannot create it: \(FileProblem.describe(error))")
        }
        // Session by session (each task groups the list again into the same sessions, sorted by name).
        let list = items.flatMap(\.videos)
        try AtomicFile.write(list.map { $0 + "\n" }.joined(), to: folder.videoList)
        let sessions = items.contains { $0.views != nil } ? items.count : nil
        var record = SlurmJobRecord(
            videos: list.count, sessions: sessions, videosPerTask: slurmOptions.videosPerTask, settings: slurmOptions.settings)
        // The task command: this executable on the video list, one chunk per task (the index is the script's).
        var command = [workerCommand[0], "predict", model, "--videos", folder.videoList, "--output", output]
        command += ["--videos-per-task", String(record.videosPerTask), "--workers", String(workers), "--batch-size", String(batchSize)]
        if labeledVideo { command.append("--labeled-video") }
        if let threshold { command += ["--threshold", String(threshold)] }
        let script = SlurmArray.script(settings: record.settings, jobName: "kinema-predict", logs: folder.logs, command: command)
        try AtomicFile.write(script, to: folder.script)
        chmod(folder.script, 0o755)
        let job = try SlurmArray.submit(
            script: folder.script, tasks: Array(0..<record.tasks), maxParallel: record.settings.maxParallel)
        record.jobs = [job]
        try record.save(folder)
        logLine(
            "submitted Slurm job \(job): \(record.tasks) tasks of up to \(record.videosPerTask) \(record.unit) (\(record.units) in all); follow it with kinema jobs status \(output)"
        )
        print(job)
    }

    /// Task `chunk` of a submitted array: its share of the list (whole sessions for separate cameras), and a
    /// manifest of its own.
    func chunk(_ chunk: Int, of items: [BatchItem], options: inout BatchOptions) throws -> [BatchItem] {
        let range = SlurmJobRecord.chunk(chunk, of: items.count, perTask: slurmOptions.videosPerTask)
        guard chunk >= 0, !range.isEmpty else {
            let unit = items.contains { $0.views != nil } ? "sessions" : "videos"
            throw ValidationError("--batch-chunk \(chunk): the list has \(items.count) \(unit), \(slurmOptions.videosPerTask) a task")
        }
        options.manifest = SlurmJobFolder(output: options.output).manifest(task: chunk)
        options.showProgress = false  // a log file, not a terminal
        return Array(items[range])
    }
}
