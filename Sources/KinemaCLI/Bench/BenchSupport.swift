import Foundation

/// Prints one benchmark figure in the collected format: `bench <name> <value> <unit> ratio=<r> vs <baseline>`.
func benchLine(_ name: String, _ value: Double, _ unit: String, ratio: Double?, baseline: String) {
    let r = ratio.map { String(format: "%.3f", $0) } ?? "n/a"
    print("bench \(name) \(String(format: value < 10 ? "%.4g" : "%.1f", value)) \(unit) ratio=\(r) vs \(baseline)")
}

/// The Python that runs PyTorch baselines: `--python`, else $KINEMA_BENCH_PYTHON, else ./.venv-bench (made by
/// scripts/bench-venv.sh). Nil (with a printed hint) when none can import torch.
func baselinePython(_ explicit: String?) -> String? {
    let candidates = [
        explicit, ProcessInfo.processInfo.environment["KINEMA_BENCH_PYTHON"],
        FileManager.default.currentDirectoryPath + "/.venv-bench/bin/python",
    ].compactMap { $0 }
    for python in candidates where FileManager.default.isExecutableFile(atPath: python) {
        if (try? runProcess(python, ["-c", "import torch"])) != nil { return python }
    }
    print("note: no Python with torch for the baseline; run scripts/bench-venv.sh (or pass --python) to measure it")
    return nil
}

/// The path of a baseline script in `scripts/bench/`, nil (with a printed note) when it cannot be found.
///
/// The bench is run from a checkout (its PyTorch baselines already need the checkout's `.venv-bench`), so the
/// scripts are looked up in the source tree this binary was compiled from (`#filePath` of this file, fixed at
/// build time: it works whether the binary runs from `.build/release` or elsewhere, from any folder), then
/// under the current folder, for a binary built elsewhere and run from a checkout.
func benchScript(_ name: String) -> String? {
    let candidates = benchRepositories.map { $0 + "/scripts/bench/" + name }
    if let found = candidates.first(where: { FileManager.default.fileExists(atPath: $0) }) { return found }
    print(
        "note: baseline script scripts/bench/\(name) not found (looked in \(candidates.joined(separator: ", "))); run from the repository to measure the baseline"
    )
    return nil
}

/// Where a checkout may be: the source tree this binary was compiled from (`#filePath`, see `benchScript`), then
/// the current folder.
let benchRepositories: [String] = [
    URL(fileURLWithPath: #filePath)  // <repo>/Sources/KinemaCLI/Bench/BenchSupport.swift
        .deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent().path,
    FileManager.default.currentDirectoryPath,
]

/// LP's mirror-mouse example as the repository carries it (Tests/Data), the data `kinema bench train|predict`
/// and `scripts/bench/lp-baseline.sh` use by default; `relative` is a path inside it.
func benchExampleData(_ relative: String) -> String? {
    benchRepositories.map { $0 + "/Tests/Data/mirror-mouse-example/" + relative }
        .first { FileManager.default.fileExists(atPath: $0) }
}

/// Where `scripts/bench/lp-baseline.sh` writes Lightning Pose's figures (its defaults: $KINEMA_LP_DIR, else
/// /tmp/kinema-lp-baseline, and 15 epochs).
let defaultLPSummary =
    (ProcessInfo.processInfo.environment["KINEMA_LP_DIR"] ?? "/tmp/kinema-lp-baseline") + "/model-e15/peer_summary.json"

/// The full path of `program` on $PATH (or `program` itself when it names a file), nil when absent.
func executableOnPath(_ program: String) -> String? {
    if program.contains("/") { return FileManager.default.isExecutableFile(atPath: program) ? program : nil }
    let folders = (ProcessInfo.processInfo.environment["PATH"] ?? "/usr/bin:/bin").split(separator: ":")
    return folders.map { "\($0)/\(program)" }.first { FileManager.default.isExecutableFile(atPath: $0) }
}

/// Runs a program and returns its standard output; throws with its standard error when it fails.
///
/// posix_spawn + waitpid rather than Foundation's `Process`: whole-process timings of 20–60 ms jobs need the
/// parent to sleep in the kernel until the child exits (Process's wait polls a run loop), and output goes to
/// temporary files so a chatty child can never block on a full pipe.
@discardableResult
func runProcess(_ executable: String, _ arguments: [String]) throws -> String {
    let scratch = FileManager.default.temporaryDirectory.path + "/kinema-bench-\(getpid())-\(UInt32.random(in: 0...UInt32.max))"
    let outPath = scratch + ".out", errPath = scratch + ".err"
    defer { unlink(outPath); unlink(errPath) }
    var actions = posix_spawn_file_actions_t()
    posix_spawn_file_actions_init(&actions)
    defer { posix_spawn_file_actions_destroy(&actions) }
    posix_spawn_file_actions_addopen(&actions, 1, outPath, O_WRONLY | O_CREAT | O_TRUNC, 0o600)
    posix_spawn_file_actions_addopen(&actions, 2, errPath, O_WRONLY | O_CREAT | O_TRUNC, 0o600)
    let argv: [UnsafeMutablePointer<CChar>?] = ([executable] + arguments).map { strdup($0) } + [nil]
    defer { for a in argv { free(a) } }
    var pid: pid_t = 0
    let spawned = posix_spawn(&pid, executable, &actions, nil, argv, environ)
    guard spawned == 0 else { throw BenchError("cannot run \(executable): \(String(cString: strerror(spawned)))") }
    var status: Int32 = 0
    while waitpid(pid, &status, 0) < 0 {
        guard errno == EINTR else { throw BenchError("waiting for \(executable): \(String(cString: strerror(errno)))") }
    }
    let output = (try? String(contentsOfFile: outPath, encoding: .utf8)) ?? ""
    // WIFEXITED && WEXITSTATUS == 0 (the C macros are not imported).
    guard status & 0x7f == 0, (status >> 8) & 0xff == 0 else {
        let errors = (try? String(contentsOfFile: errPath, encoding: .utf8)) ?? ""
        throw BenchError("\(executable) failed (wait status \(status)): \(errors.suffix(2000))")
    }
    return output
}

struct BenchError: Error, CustomStringConvertible {
    let description: String
    init(_ description: String) { self.description = description }
}

/// Seconds taken by `body`.
func timed(_ body: () throws -> Void) rethrows -> Double {
    let start = DispatchTime.now().uptimeNanoseconds
    try body()
    return Double(DispatchTime.now().uptimeNanoseconds - start) / 1e9
}

/// The median (the mean of the middle two for an even count); 0 for no values.
func median(_ values: [Double]) -> Double {
    guard !values.isEmpty else { return 0 }
    let sorted = values.sorted(), middle = sorted.count / 2
    return sorted.count % 2 == 1 ? sorted[middle] : (sorted[middle - 1] + sorted[middle]) / 2
}
