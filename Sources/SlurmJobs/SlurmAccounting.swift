// The state of a job array's tasks, from `sacct` (finished and running tasks, when accounting is on) and `squeue`
// (pending and running ones, always).
import Foundation

/// One array task as Slurm reports it.
public struct SlurmTaskState: Equatable, Sendable {
    public var job: String
    public var task: Int
    /// Slurm's state word: PENDING, RUNNING, COMPLETED, FAILED, CANCELLED, TIMEOUT, OUT_OF_MEMORY, NODE_FAIL, …
    public var state: String
    /// `exit:signal` from sacct (`1:0`), when known.
    public var exitCode: String?

    public init(job: String, task: Int, state: String, exitCode: String? = nil) {
        self.job = job
        self.task = task
        self.state = state
        self.exitCode = exitCode
    }

    /// Waiting, starting, running or finishing: not to be submitted again.
    public var isActive: Bool {
        ["PENDING", "RUNNING", "CONFIGURING", "COMPLETING", "REQUEUED", "RESIZING", "SUSPENDED", "STAGE_OUT"].contains(state)
    }
}

public enum SlurmAccounting {
    /// The arguments of the `sacct` query `parseSacct` reads.
    public static func sacctArguments(jobs: [String]) -> [String] {
        ["-j", jobs.joined(separator: ","), "-X", "-n", "-P", "-o", "JobID,State,ExitCode"]
    }

    /// The arguments of the `squeue` query `parseSqueue` reads (`-r`: one line per array task, pending ones too).
    public static func squeueArguments(jobs: [String]) -> [String] {
        ["-h", "-r", "-j", jobs.joined(separator: ","), "-o", "%i|%T"]
    }

    /// `sacct -X -n -P -o JobID,State,ExitCode` lines: `4242_3|COMPLETED|0:0`, `4242_[4-9%2]|PENDING|0:0`,
    /// `4242_5|CANCELLED by 1000|0:15`. Lines of jobs that are not arrays are left out.
    public static func parseSacct(_ text: String) -> [SlurmTaskState] {
        text.split(whereSeparator: \.isNewline).flatMap { line -> [SlurmTaskState] in
            let fields = line.split(separator: "|", omittingEmptySubsequences: false).map(String.init)
            guard fields.count >= 2 else { return [] }
            let state = fields[1].split(separator: " ").first.map(String.init) ?? ""
            return tasks(of: fields[0]).map {
                SlurmTaskState(job: $0.job, task: $0.task, state: state, exitCode: fields.count > 2 ? fields[2] : nil)
            }
        }
    }

    /// `squeue -h -r -o %i|%T` lines: `4242_3|RUNNING`, `4242_[7-9]|PENDING`.
    public static func parseSqueue(_ text: String) -> [SlurmTaskState] {
        parseSacct(text).map { SlurmTaskState(job: $0.job, task: $0.task, state: $0.state) }
    }

    /// The tasks a JobID names: `4242_3` → 3; `4242_[0-2,5%4]` → 0, 1, 2, 5; `4242` (no array) → none.
    static func tasks(of id: String) -> [(job: String, task: Int)] {
        let parts = id.split(separator: "_", maxSplits: 1).map(String.init)
        guard parts.count == 2, !parts[0].isEmpty else { return [] }
        let job = parts[0]
        var spec = parts[1]
        if spec.hasPrefix("[") && spec.hasSuffix("]") { spec = String(spec.dropFirst().dropLast()) }
        spec = String(spec.prefix { $0 != "%" })
        var result: [(String, Int)] = []
        for range in spec.split(separator: ",") {
            let bounds = range.split(separator: "-").map { Int($0) }
            if bounds.count == 1, let one = bounds[0] {
                result.append((job, one))
            } else if bounds.count == 2, let low = bounds[0], let high = bounds[1], low <= high {
                result += (low...high).map { (job, $0) }
            }
        }
        return result
    }

    /// Each task's state in its latest job (`jobs` oldest first). squeue's word overrides sacct's for the same job,
    /// being the more current: slurmdbd records a task's start and end a moment after slurmctld, so sacct may
    /// still call a task PENDING or RUNNING (or a whole range, `4242_[2-3]`) after it left the queue. When squeue
    /// answered (`squeue` not nil), such a pending or running word for a task squeue does not list is stale: the task
    /// is then reported as not in the queue, not as active (which would keep `wait` waiting and `retry` from
    /// resubmitting it).
    public static func latest(sacct: [SlurmTaskState], squeue: [SlurmTaskState]?, jobs: [String]) -> [Int: SlurmTaskState] {
        let order = Dictionary(jobs.enumerated().map { ($1, $0) }, uniquingKeysWith: { a, _ in a })
        var result: [Int: SlurmTaskState] = [:]
        for state in sacct + (squeue ?? []) {
            guard let rank = order[state.job] else { continue }
            if let current = result[state.task], let currentRank = order[current.job], currentRank > rank { continue }
            var merged = state
            if merged.exitCode == nil, let current = result[state.task], current.job == state.job { merged.exitCode = current.exitCode }
            result[state.task] = merged
        }
        if let squeue {
            let queued = Set(squeue.map { "\($0.job)_\($0.task)" })
            result = result.filter { !$0.value.isActive || queued.contains("\($0.value.job)_\($0.key)") }
        }
        return result
    }

    /// squeue's tasks, or nil when squeue did not answer. `Invalid job id specified` (every job asked about has
    /// left slurmctld's memory, MinJobAge after it ended) is an answer: none of them is queued.
    public static func queued(_ result: Slurm.Result) -> [SlurmTaskState]? {
        if result.status == 0 { return parseSqueue(result.output) }
        return (result.error + result.output).contains("Invalid job id specified") ? [] : nil
    }

    /// Asks Slurm about `jobs`. Without accounting (sacct fails) only squeue's tasks are known; the others have
    /// left the queue, and the manifests say what they did.
    public static func query(jobs: [String]) throws -> (tasks: [Int: SlurmTaskState], note: String?) {
        let fromQueue = queued(try Slurm.run("squeue", squeueArguments(jobs: jobs)))
        var note: String?
        var fromAccounting: [SlurmTaskState] = []
        if let accounting = try? Slurm.run("sacct", sacctArguments(jobs: jobs)), accounting.status == 0 {
            fromAccounting = parseSacct(accounting.output)
        } else {
            note = "sacct gave nothing (accounting off?): finished tasks are judged by their manifests only"
        }
        return (latest(sacct: fromAccounting, squeue: fromQueue, jobs: jobs), note)
    }
}
