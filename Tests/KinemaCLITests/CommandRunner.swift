// Runs the built `kinema` executable as a child process (end-to-end tests) and helpers to check what it wrote.
import Foundation
import Testing

/// Exit status and output of one `kinema` run.
struct CommandResult: CustomStringConvertible {
    var arguments: [String]
    var status: Int32
    var stdout: String
    var stderr: String
    var stdoutLines: [String] { stdout.split(separator: "\n", omittingEmptySubsequences: true).map(String.init) }
    var stderrLines: [String] { stderr.split(separator: "\n", omittingEmptySubsequences: true).map(String.init) }
    var description: String { "kinema \(arguments.joined(separator: " ")) → \(status)\n--- stdout\n\(stdout)--- stderr\n\(stderr)" }
}

enum KinemaProcess {
    struct Missing: Error, CustomStringConvertible {
        var searched: [String]
        var description: String {
            "the kinema executable is not built next to the tests (looked in \(searched.joined(separator: ", "))); run `swift build -c release` (or `swift test`, which builds it) first"
        }
    }

    /// `kinema` in the build folder: `swift test` puts the test bundle (`…PackageTests.xctest`) beside the products.
    static func executable() throws -> URL {
        var folders = [Bundle.main.bundleURL, Bundle.main.bundleURL.deletingLastPathComponent()]
        folders += Bundle.allBundles.map { $0.bundleURL.deletingLastPathComponent() }
        if let first = CommandLine.arguments.first { folders.append(URL(fileURLWithPath: first).deletingLastPathComponent()) }
        for folder in folders {
            let candidate = folder.appendingPathComponent("kinema")
            if FileManager.default.isExecutableFile(atPath: candidate.path) { return candidate }
        }
        throw Missing(searched: Array(Set(folders.map(\.path))).sorted())
    }

    /// Runs `kinema arguments…` (or another built executable) in `directory` with stdin closed; kills it after
    /// `timeout` seconds. `environment` adds to (or replaces in) the test's own environment.
    @discardableResult
    static func run(
        _ arguments: [String], in directory: URL? = nil, timeout: TimeInterval = 120, executable: URL? = nil,
        environment: [String: String] = [:]
    ) throws -> CommandResult {
        let process = Process()
        process.executableURL = try executable ?? Self.executable()
        process.arguments = arguments
        if !environment.isEmpty {
            process.environment = ProcessInfo.processInfo.environment.merging(environment) { $1 }
        }
        if let directory { process.currentDirectoryURL = directory }
        // Output goes to files, so a chatty command cannot fill a pipe and stall.
        let scratch = FileManager.default.temporaryDirectory.appendingPathComponent("kinema-cli-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: scratch, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: scratch) }
        let outURL = scratch.appendingPathComponent("stdout"), errURL = scratch.appendingPathComponent("stderr")
        _ = FileManager.default.createFile(atPath: outURL.path, contents: nil)
        _ = FileManager.default.createFile(atPath: errURL.path, contents: nil)
        let out = try FileHandle(forWritingTo: outURL), err = try FileHandle(forWritingTo: errURL)
        process.standardOutput = out
        process.standardError = err
        process.standardInput = FileHandle.nullDevice
        try process.run()
        let deadline = Date().addingTimeInterval(timeout)
        while process.isRunning {
            if Date() > deadline {
                process.terminate()
                process.waitUntilExit()
                Issue.record("kinema \(arguments.joined(separator: " ")) ran longer than \(Int(timeout)) s and was stopped")
                break
            }
            Thread.sleep(forTimeInterval: 0.02)
        }
        process.waitUntilExit()
        try out.close()
        try err.close()
        return CommandResult(
            arguments: arguments, status: process.terminationStatus,
            stdout: try String(contentsOf: outURL, encoding: .utf8),
            stderr: try String(contentsOf: errURL, encoding: .utf8))
    }

    /// Runs and expects success; the whole output is shown when it fails.
    @discardableResult
    static func succeed(
        _ arguments: [String], in directory: URL? = nil, timeout: TimeInterval = 120,
        sourceLocation: SourceLocation = #_sourceLocation
    ) throws -> CommandResult {
        let result = try run(arguments, in: directory, timeout: timeout)
        #expect(result.status == 0, "\(result)", sourceLocation: sourceLocation)
        return result
    }

    /// A command's one error line: ArgumentParser's `Error: …` for a usage error, `kinema <command>: error: …`
    /// (or `kinema-smooth <command>: error: …`) for anything else.
    static func isErrorLine(_ line: String) -> Bool {
        line.hasPrefix("Error: ") || (line.hasPrefix("kinema") && line.contains(": error: "))
    }

    /// Runs and expects failure with one clear line on stderr containing `message`, no crash report: ArgumentParser's
    /// `Error: …` for a usage error, `kinema <command>: error: …` for anything else.
    static func fail(
        _ arguments: [String], saying message: String, in directory: URL? = nil,
        sourceLocation: SourceLocation = #_sourceLocation
    ) throws {
        let result = try run(arguments, in: directory)
        #expect(result.status != 0 && result.status < 128, "\(result)", sourceLocation: sourceLocation)
        let first = result.stderrLines.first ?? ""
        #expect(isErrorLine(first) && first.contains(message), "\(result)", sourceLocation: sourceLocation)
        #expect(
            !result.stderr.contains("Fatal error") && !result.stderr.contains("Stack dump")
                && !result.stderr.contains("backtrace"), "\(result)", sourceLocation: sourceLocation)
    }
}

/// Runs a tool and returns its exit status (its output is discarded).
@discardableResult
func runTool(_ path: String, _ arguments: [String]) throws -> Int32 {
    let process = Process()
    process.executableURL = URL(fileURLWithPath: path)
    process.arguments = arguments
    process.standardOutput = FileHandle.nullDevice
    process.standardError = FileHandle.nullDevice
    process.standardInput = FileHandle.nullDevice
    try process.run()
    process.waitUntilExit()
    return process.terminationStatus
}
