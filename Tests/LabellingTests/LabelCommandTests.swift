// `kinema label` as a user runs it: the built executable, its printed URL, its one-line errors, Ctrl-C.
import Foundation
import KinemaTestSupport
import Testing

@Suite("kinema label: the command", .serialized)
struct LabelCommandTests {
    /// `kinema` beside the test bundle (`swift test` builds it into the same folder).
    static let kinema: URL? = {
        var folders = [Bundle.main.bundleURL, Bundle.main.bundleURL.deletingLastPathComponent()]
        folders += Bundle.allBundles.map { $0.bundleURL.deletingLastPathComponent() }
        return folders.map { $0.appendingPathComponent("kinema") }.first { FileManager.default.isExecutableFile(atPath: $0.path) }
    }()

    /// Starts `kinema arguments…` with its output going to files.
    static func start(_ arguments: [String], scratch: URL) throws -> Process {
        let process = Process()
        process.executableURL = kinema
        process.arguments = arguments
        for name in ["stdout", "stderr"] {
            _ = FileManager.default.createFile(atPath: scratch.appendingPathComponent(name).path, contents: nil)
        }
        process.standardOutput = try FileHandle(forWritingTo: scratch.appendingPathComponent("stdout"))
        process.standardError = try FileHandle(forWritingTo: scratch.appendingPathComponent("stderr"))
        process.standardInput = FileHandle.nullDevice
        try process.run()
        return process
    }

    static func output(_ scratch: URL, _ name: String) -> String {
        (try? String(contentsOf: scratch.appendingPathComponent(name), encoding: .utf8)) ?? ""
    }

    @Test(
        "It prints the URL with the token, serves the page behind it, and stops on Ctrl-C",
        .enabled(if: kinema != nil, "the kinema executable is not built beside the tests"))
    func servesAndStops() async throws {
        let root = try Fixture.kinemaProject("command-serve")
        let scratch = try TestFiles.temporaryDirectory("command-serve-out")
        defer { Fixture.remove(root); Fixture.remove(scratch) }
        let process = try Self.start(["label", root.path, "--no-browser"], scratch: scratch)
        defer { if process.isRunning { process.terminate() } }
        let deadline = Date().addingTimeInterval(30)
        var url: String?
        while url == nil, process.isRunning, Date() < deadline {
            url = Self.output(scratch, "stdout").split(separator: "\n").first { $0.hasPrefix("open http://127.0.0.1:") }.map {
                String($0.dropFirst(5))
            }
            if url == nil { try await Task.sleep(for: .milliseconds(50)) }
        }
        let page = try #require(url, "no URL printed; stderr: \(Self.output(scratch, "stderr"))")
        #expect(page.contains("/?token="))
        #expect(
            Self.output(scratch, "stdout").hasPrefix(
                "\((root.path as NSString).lastPathComponent): 2 frames in 1 video folder, 0 labelled\n"))
        let ok = try await http("GET", page)
        #expect(ok.status == 200)
        #expect(String(decoding: ok.body, as: UTF8.self).contains("<script src=\"app.js\">"))
        #expect(try await http("GET", String(page[..<page.range(of: "?token=")!.lowerBound])).status == 403)

        process.interrupt()  // Ctrl-C
        let stop = Date().addingTimeInterval(10)
        while process.isRunning, Date() < stop { try await Task.sleep(for: .milliseconds(50)) }
        #expect(!process.isRunning, "still running 10 s after Ctrl-C")
        if !process.isRunning { #expect(process.terminationStatus == 0) }
    }

    @Test(
        "Bad input is one line: no project, no frames to label, a port in use",
        .enabled(if: kinema != nil, "the kinema executable is not built beside the tests"))
    func badInput() async throws {
        let root = try Fixture.kinemaProject("command-bad")
        let scratch = try TestFiles.temporaryDirectory("command-bad-out")
        defer { Fixture.remove(root); Fixture.remove(scratch) }
        func failure(_ arguments: [String]) throws -> String {
            let process = try Self.start(arguments, scratch: scratch)
            process.waitUntilExit()
            #expect(process.terminationStatus == 1, "\(arguments)")
            let lines = Self.output(scratch, "stderr").split(separator: "\n")
            #expect(lines.count == 1, "\(lines)")
            return lines.first.map(String.init) ?? ""
        }
        #expect(
            try failure(["label", root.path + "/nowhere"])
                == "kinema label: error: \(root.path)/nowhere is not a project: no such folder or file")

        let empty = root.appendingPathComponent("labeled-data/vid")
        let kept = root.appendingPathComponent("kept")
        try FileManager.default.moveItem(at: empty, to: kept)
        #expect(try failure(["label", root.path]).hasPrefix("kinema label: error: \(root.path): no frames to label in labeled-data/"))
        try FileManager.default.moveItem(at: kept, to: empty)

        // A port someone listens on.
        let (busy, port) = try #require(LoopbackPort.bind())
        defer { close(busy) }
        try #require(listen(busy, 1) == 0)
        let line = try failure(["label", root.path, "--no-browser", "--port", String(port)])
        #expect(line.hasPrefix("kinema label: error: cannot listen on 127.0.0.1:\(port) ("), "\(line)")
        #expect(!FileManager.default.fileExists(atPath: root.appendingPathComponent("CollectedData.csv").path))
    }
}
