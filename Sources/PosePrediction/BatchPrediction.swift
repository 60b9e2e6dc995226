// `kinema predict MODEL --videos … --output DIR`: many videos (sessions of a multi-camera model) through N local
// worker processes (`BatchWorker`), resumable through `BatchManifest`: what is done is skipped, failures are kept
// with their reason, Ctrl-C loses nothing.
import Foundation
import KinemaConsole
import KinemaFiles
import PoseData
import PoseModels

/// How a batch runs.
public struct BatchOptions: Sendable {
    /// The model folder and the output folder (absolute).
    public var model: String
    public var output: String
    /// Worker processes, each with `threadsPerWorker` libtorch threads (so that they share the cores).
    public var workers: Int
    public var threadsPerWorker: Int
    /// Predict again the videos (sessions) an earlier run recorded as failed.
    public var retryFailed: Bool
    /// The executable and arguments that start one worker (`kinema predict MODEL --batch-worker …`).
    public var workerCommand: [String]
    public var showProgress: Bool
    /// The manifest file: `DIR/manifest.json`, or one per Slurm task.
    public var manifest: String

    public init(
        model: String, output: String, workers: Int, threadsPerWorker: Int, retryFailed: Bool, workerCommand: [String],
        showProgress: Bool = true, manifest: String? = nil
    ) {
        self.manifest = manifest ?? BatchManifest.path(in: output)
        self.model = model
        self.output = output
        self.workers = workers
        self.threadsPerWorker = threadsPerWorker
        self.retryFailed = retryFailed
        self.workerCommand = workerCommand
        self.showProgress = showProgress
    }
}

/// What a batch did, in figures and in the lines printed at its end.
public struct BatchSummary: Sendable {
    /// Videos in the list.
    public var videos = 0
    /// Sessions in the list (a multi-camera model; 0 otherwise): the counts below are then sessions.
    public var sessions = 0
    /// Predicted by this run.
    public var done = 0
    /// Done by an earlier run and unchanged.
    public var skipped = 0
    /// Failed in this run, and failures of earlier runs left alone (no --retry-failed): video (session) and reason.
    public var failed: [(video: String, reason: String)] = []
    /// Left pending by an interruption.
    public var pending = 0
    public var interrupted = false
    public var wallSeconds = 0.0
    /// Seconds the workers spent predicting, over the videos (sessions) this run finished.
    public var predictionSeconds = 0.0
    public var workers = 0
    /// From the start of the batch until the last worker had its model loaded.
    public var workersReadySeconds = 0.0

    /// Worker time not spent predicting (start-up, model loading, hand-offs, workers idle at the end), per video
    /// (session) run.
    public var overheadPerVideo: Double {
        let ran = done + failedThisRun
        return ran > 0 ? (wallSeconds * Double(workers) - predictionSeconds) / Double(ran) : 0
    }
    var failedThisRun = 0

    /// What the counts count: "video", or "session" for a multi-camera model.
    public var unit: String { sessions > 0 ? "session" : "video" }

    public var lines: [String] {
        var lines = [
            (sessions > 0 ? "\(sessions) sessions (\(videos) videos)" : "\(videos) videos")
                + ": \(done) predicted now, \(skipped) done earlier (skipped), \(failed.count) failed"
                + (pending > 0 ? ", \(pending) pending" : "")
        ]
        lines += failed.map { "failed: \(sessions > 0 ? "session " : "")\($0.video): \($0.reason)" }
        if failed.count > failedThisRun {
            lines.append("\(failed.count - failedThisRun) of the failures are from an earlier run; --retry-failed predicts them again")
        }
        if done + failedThisRun > 0 {
            lines.append(
                String(
                    format: "%.1f s wall with %d worker%@ (all ready after %.1f s): %.2f s predicting and %.2f s overhead per %@",
                    wallSeconds, workers, workers == 1 ? "" : "s", workersReadySeconds,
                    predictionSeconds / Double(done + failedThisRun), overheadPerVideo, unit))
        }
        if interrupted {
            lines.append("interrupted: \(pending) \(unit)s left pending; run the same command again to predict only those")
        }
        return lines
    }
}

public enum BatchPrediction {
    /// Predicts `items` (videos, or sessions of a multi-camera model, from `BatchVideoList.items`) into
    /// `options.output`.
    ///
    /// The manifest is read first: items done and unchanged (a session: every view's video) are skipped, earlier
    /// failures are skipped unless `retryFailed`, every other item is predicted. It is written once the first worker
    /// is ready and again as items finish (at most twice a second, and at the end). On Ctrl-C or SIGTERM the workers
    /// are ended, the items they held go back to pending and the manifest is written: a rerun predicts only what is
    /// missing.
    /// Process-wide settings are the caller's (as `kinema predict` does): route SIGINT and SIGTERM to `Interruption`,
    /// and ignore SIGPIPE, so that writing to a worker that died is an error rather than the end of the batch.
    public static func run(_ items: [BatchItem], options: BatchOptions, log: (String) -> Void = logLine) throws -> BatchSummary {
        let start = Date()
        try PoseWorkflows.checkWritableFolder(options.output)
        var manifest = try BatchManifest.load(file: options.manifest) ?? BatchManifest(model: options.model)
        guard manifest.model == options.model else {
            throw PoseModelError(
                "\(options.manifest) records predictions of the model \(manifest.model), not \(options.model); predict into another --output folder"
            )
        }
        var index: [String: Int] = [:]
        for (i, entry) in manifest.videos.enumerated() { index[entry.video] = i }
        var summary = BatchSummary()
        summary.videos = items.map(\.videos.count).reduce(0, +)
        summary.sessions = items.filter { $0.views != nil }.count
        var queue: [BatchItem] = []
        for item in items {
            let i = index[item.name] ?? manifest.videos.count
            if i == manifest.videos.count {
                manifest.videos.append(.init(video: item.name, views: item.views))
                index[item.name] = i
            }
            let entry = manifest.videos[i]
            switch entry.state {
            case .done where BatchManifest.isCurrent(entry) && entry.views == item.views:
                summary.skipped += 1
                continue
            case .done:
                log(
                    item.views == nil
                        ? "\(item.name): done earlier, but the video or its outputs changed since; predicting it again"
                        : "session \(item.name): done earlier, but a view's video or an output changed since; predicting it again")
            case .failed where !options.retryFailed && entry.views == item.views:
                summary.failed.append((item.name, entry.reason ?? "failed"))
                continue
            default: break
            }
            manifest.videos[i] = .init(video: item.name, views: item.views)
            queue.append(item)
        }
        guard !queue.isEmpty else {
            summary.wallSeconds = Date().timeIntervalSince(start)
            return summary
        }

        Interruption.reset()
        let events = EventQueue()
        var workers: [Worker] = []
        func spawn() throws {
            let worker = Worker(id: workers.count)
            try worker.start(options: options, events: events)
            workers.append(worker)
        }
        summary.workers = min(options.workers, queue.count)
        for _ in 0..<summary.workers { try spawn() }

        let progress = ProgressLine(label: "batch", total: queue.count, unit: summary.unit + "s", enabled: options.showProgress)
        var next = 0, finished = 0, failedNow = 0
        var manifestWritten = false, unsaved = false, lastSave = Date.distantPast
        var fatal: String?
        func save(force: Bool) throws {
            guard force || Date().timeIntervalSince(lastSave) >= 0.5 else { return }
            try manifest.save(file: options.manifest)
            lastSave = Date()
            manifestWritten = true
            unsaved = false
        }
        func record(_ message: BatchWorkerMessage, video: String) {
            guard let i = index[video] else { return }
            var entry = BatchManifest.Entry(video: video, views: manifest.videos[i].views)
            entry.seconds = message.seconds
            entry.finished = Date()
            if let error = message.error {
                entry.state = .failed
                entry.reason = error
                failedNow += 1
            } else {
                entry.state = .done
                entry.outputs = (message.files ?? []).compactMap(BatchManifest.FileStamp.of)
                if let views = entry.views {
                    entry.sources = views.compactMap(BatchManifest.FileStamp.of)
                } else {
                    entry.source = .of(video)
                }
                if let warnings = message.warnings, !warnings.isEmpty { entry.warnings = warnings }
                summary.done += 1
            }
            summary.predictionSeconds += message.seconds ?? 0
            manifest.videos[i] = entry
            unsaved = true
            finished += 1
            progress.update(finished, extra: failedNow > 0 ? "\(failedNow) failed" : "")
        }
        /// Records what a worker said, or that it ended.
        func handle(_ event: Event, stopping: Bool) throws {
            // Ctrl-C reaches the workers too: one that dies of it is not a failure of its video (session).
            let stopping = stopping || Interruption.isRequested
            switch event {
            case .message(let id, let message):
                let worker = workers[id]
                if message.ready == true {
                    worker.ready = true
                    summary.workersReadySeconds = max(summary.workersReadySeconds, Date().timeIntervalSince(start))
                    if !manifestWritten { try save(force: true) }
                } else if let video = message.video, video == worker.video {
                    worker.video = nil
                    record(message, video: video)
                    try save(force: false)
                } else if let error = message.error, fatal == nil {
                    fatal = error
                }
            case .ended(let id, let status, let signaled):
                let worker = workers[id]
                worker.alive = false
                let how = signaled ? "was killed by signal \(status)" : "ended with exit status \(status)"
                if let video = worker.video, !stopping {
                    worker.video = nil
                    record(BatchWorkerMessage(video: video, error: "the worker process \(how) while predicting it"), video: video)
                    try save(force: false)
                }
                if !worker.ready && fatal == nil && !stopping {
                    fatal = "a worker process \(how) before its model was loaded"
                }
                if fatal == nil && !stopping && next < queue.count { try spawn() }
            }
        }

        while fatal == nil && !Interruption.isRequested && workers.contains(where: \.alive) {
            for event in events.take(timeout: 0.2) { try handle(event, stopping: false) }
            // A result held back by the twice-a-second limit is written within it, not only with the next
            // result (which may be a long video away): a SIGKILL (a node lost, a scheduler's kill after its grace
            // time) then costs at most half a second of finished videos.
            if unsaved { try save(force: false) }
            for worker in workers where worker.alive && worker.ready && worker.video == nil && !worker.inputClosed {
                if next < queue.count {
                    worker.video = queue[next].name
                    worker.send(queue[next])
                    next += 1
                } else {
                    worker.closeInput()  // no more work: the worker ends when stdin does
                }
            }
        }
        summary.interrupted = Interruption.isRequested
        if fatal != nil || summary.interrupted {
            // Items in flight are given up (their outputs are written by rename, so none is half there); results
            // that arrive while the workers end are still recorded.
            for worker in workers where worker.alive { worker.terminate() }
            while workers.contains(where: \.alive) {
                for event in events.take(timeout: 0.2) { try handle(event, stopping: true) }
            }
            removeTemporaryFiles(in: options.output, of: workers.map(\.pid))
        }
        if let fatal {
            if manifestWritten { try save(force: true) }
            throw PoseModelError(fatal)
        }
        try save(force: true)
        if summary.interrupted { progress.stop("interrupted") } else { progress.finish() }
        summary.failedThisRun = failedNow
        let queued = Set(queue.map(\.name))
        summary.failed =
            manifest.videos.filter { $0.state == .failed && queued.contains($0.video) }
            .map { ($0.video, $0.reason ?? "failed") } + summary.failed
        summary.pending = queue.count - finished
        summary.wallSeconds = Date().timeIntervalSince(start)
        return summary
    }

    /// Removes the temporary files (`AtomicFile`'s `.<name>.<pid>.<n>.tmp`) that ended workers left behind.
    static func removeTemporaryFiles(in output: String, of pids: [Int32]) {
        let marks = pids.map { ".\($0)." }
        for folder in [output, (output as NSString).appendingPathComponent("labeled_videos")] {
            for name in (try? FileManager.default.contentsOfDirectory(atPath: folder)) ?? []
            where name.hasPrefix(".") && name.hasSuffix(".tmp") && marks.contains(where: name.contains) {
                try? FileManager.default.removeItem(atPath: (folder as NSString).appendingPathComponent(name))
            }
        }
    }
}

/// What the reader threads tell the batch loop.
enum Event: Sendable {
    case message(worker: Int, BatchWorkerMessage)
    /// The worker's output ended and the process with it: its exit status or the signal that killed it.
    case ended(worker: Int, status: Int32, signaled: Bool)
}

/// Events from the reader threads to the batch loop, which waits for them.
final class EventQueue: @unchecked Sendable {
    private let condition = NSCondition()
    private var events: [Event] = []

    func post(_ event: Event) {
        condition.lock()
        events.append(event)
        condition.signal()
        condition.unlock()
    }

    /// The events so far, waiting up to `timeout` seconds for one.
    func take(timeout: Double) -> [Event] {
        condition.lock()
        defer { condition.unlock() }
        if events.isEmpty { _ = condition.wait(until: Date().addingTimeInterval(timeout)) }
        let taken = events
        events = []
        return taken
    }
}

/// One worker process; its state is the batch loop's (one thread), its output is read on a thread of its own.
final class Worker: @unchecked Sendable {
    let id: Int
    private let process = Process()
    private let input = Pipe(), output = Pipe()
    var ready = false, alive = true, inputClosed = false
    /// The video (session name) it is predicting.
    var video: String?
    var pid: Int32 { process.processIdentifier }

    init(id: Int) { self.id = id }

    func start(options: BatchOptions, events: EventQueue) throws {
        process.executableURL = URL(fileURLWithPath: options.workerCommand[0])
        process.arguments = Array(options.workerCommand.dropFirst())
        var environment = ProcessInfo.processInfo.environment
        environment["KINEMA_THREADS"] = String(options.threadsPerWorker)
        process.environment = environment
        process.standardInput = input
        process.standardOutput = output
        process.standardError = FileHandle.standardError
        do {
            try process.run()
        } catch {
            throw PoseModelError("cannot start a worker process (\(options.workerCommand[0])): \(FileProblem.describe(error))")
        }
        let id = id, process = process, reading = output.fileHandleForReading
        Thread.detachNewThread {
            var buffer = Data()
            while true {
                let chunk = reading.availableData
                if chunk.isEmpty { break }
                buffer.append(chunk)
                while let newline = buffer.firstIndex(of: 10) {
                    let line = String(decoding: buffer[buffer.startIndex..<newline], as: UTF8.self)
                    buffer.removeSubrange(buffer.startIndex...newline)
                    if let message = BatchWorkerMessage.parse(Substring(line)) { events.post(.message(worker: id, message)) }
                }
            }
            while process.isRunning { usleep(5000) }
            events.post(.ended(worker: id, status: process.terminationStatus, signaled: process.terminationReason == .uncaughtSignal))
        }
    }

    /// Hands it `item`, as one JSON line (`BatchWorker.serve` reads it).
    func send(_ item: BatchItem) {
        try? input.fileHandleForWriting.write(contentsOf: Data((BatchWorker.line(item) + "\n").utf8))
    }

    func closeInput() {
        inputClosed = true
        try? input.fileHandleForWriting.close()
    }

    func terminate() {
        closeInput()
        if process.isRunning { process.terminate() }
    }
}
