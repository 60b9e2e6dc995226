import Foundation

/// Prints one benchmark figure in the collected format: `bench <name> <value> <unit> ratio=<r> vs <baseline>`.
func benchLine(_ name: String, _ value: Double, _ unit: String, ratio: Double?, baseline: String) {
    let r = ratio.map { String(format: "%.3f", $0) } ?? "n/a"
    print("bench \(name) \(String(format: value < 10 ? "%.4g" : "%.1f", value)) \(unit) ratio=\(r) vs \(baseline)")
}

/// The Python that runs PyTorch baselines: `--python`, else $KINEMA_BENCH_PYTHON, else ./.venv-bench (made by
/// scripts/bench-venv.sh). Nil (with a printed hint) when none can import torch.
func baselinePython(_ explicit: String?) -> String? {
    let candidates = [explicit, ProcessInfo.processInfo.environment["KINEMA_BENCH_PYTHON"],
                      FileManager.default.currentDirectoryPath + "/.venv-bench/bin/python"].compactMap { $0 }
    for python in candidates where FileManager.default.isExecutableFile(atPath: python) {
        if (try? runProcess(python, ["-c", "import torch"])) != nil { return python }
    }
    print("note: no Python with torch for the baseline; run scripts/bench-venv.sh (or pass --python) to measure it")
    return nil
}

/// Runs a program and returns its standard output; throws with its standard error when it fails.
@discardableResult
func runProcess(_ executable: String, _ arguments: [String]) throws -> String {
    let process = Process()
    process.executableURL = URL(fileURLWithPath: executable)
    process.arguments = arguments
    let out = Pipe(), err = Pipe()
    process.standardOutput = out
    process.standardError = err
    try process.run()
    let output = out.fileHandleForReading.readDataToEndOfFile()
    let errors = err.fileHandleForReading.readDataToEndOfFile()
    process.waitUntilExit()
    guard process.terminationStatus == 0 else {
        throw BenchError("\(executable) failed: \(String(decoding: errors, as: UTF8.self).suffix(2000))")
    }
    return String(decoding: output, as: UTF8.self)
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
