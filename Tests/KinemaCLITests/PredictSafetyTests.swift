// `kinema predict`, `demo` and `video info|frames` with the accidents of a lab's first hour (issue #11): odd
// video sizes, cut recordings, unwritable or full output folders, long names, and every bad input as one
// line that names the file, with nothing earlier destroyed.
import ArgumentParser
import Foundation
import KinemaCLI
import KinemaTestSupport
import PoseData
import Testing

/// A trained (one epoch) model and test videos, made once for the suite.
private struct Fixture {
    let dir: URL
    /// The model folder, relative to `dir`.
    let model = "model"
    /// 333×251 yuv444p H.264, 10 frames.
    let oddVideo: URL
    /// A faststart MP4 of 100 frames cut at 70 % of its bytes.
    let cutVideo: URL
    /// The same MP4 whole.
    let wholeVideo: URL

    static let shared: Result<Fixture, any Error> = Result { try Fixture() }

    init() throws {
        guard let ffmpeg = TestFiles.tool("ffmpeg") else { throw Skip("the ffmpeg tool is not on PATH (needed to make test videos)") }
        let folder = try TestFiles.temporaryDirectory("predict-safety")
        removeAtExit(folder)
        dir = folder
        _ = try trainTinyModel(in: dir)
        oddVideo = dir.appendingPathComponent("odd.mp4")
        try Self.make(
            ffmpeg,
            [
                "-f", "lavfi", "-i", "testsrc=size=333x251:rate=10", "-frames:v", "10", "-c:v", "libx264", "-pix_fmt", "yuv444p",
                oddVideo.path,
            ])
        wholeVideo = dir.appendingPathComponent("whole.mp4")
        try Self.make(
            ffmpeg,
            [
                "-f", "lavfi", "-i", "testsrc=size=96x80:rate=25", "-frames:v", "100", "-c:v", "libx264", "-pix_fmt", "yuv420p",
                "-movflags", "+faststart", wholeVideo.path,
            ])
        let bytes = try Data(contentsOf: wholeVideo)
        cutVideo = dir.appendingPathComponent("cut.mp4")
        try bytes.prefix(bytes.count * 7 / 10).write(to: cutVideo)
    }

    private static func make(_ ffmpeg: String, _ arguments: [String]) throws {
        let status = try runTool(ffmpeg, ["-loglevel", "error", "-y"] + arguments)
        guard status == 0 else { throw Skip("ffmpeg could not make \(arguments.last!) (status \(status))") }
    }

    /// A fresh folder inside the fixture's, for one test's outputs.
    func scratch(_ name: String) throws -> URL {
        let url = dir.appendingPathComponent("\(name)-\(UInt32.random(in: 0...UInt32.max))")
        try FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
        return url
    }
}

private func fixture() throws -> Fixture? { try suiteFixture(Fixture.shared) }

/// Lines of a text file.
private func lines(_ path: String) throws -> [String] {
    try String(contentsOfFile: path, encoding: .utf8).split(separator: "\n").map(String.init)
}

/// A small tmpfs mounted at a new folder (root only); nil with the reason printed when mounting is not permitted.
private func mountTmpfs(_ options: String, in parent: URL) -> URL? {
    let mountPoint = parent.appendingPathComponent("tmpfs-\(UInt32.random(in: 0...UInt32.max))")
    try? FileManager.default.createDirectory(at: mountPoint, withIntermediateDirectories: true)
    guard let mount = TestFiles.tool("mount"),
        (try? runTool(mount, ["-t", "tmpfs", "-o", options, "tmpfs", mountPoint.path])) == 0
    else {
        print("skipped the \(options) tmpfs rows: mounting a tmpfs is not permitted here (tests not run as root)")
        return nil
    }
    return mountPoint
}

private func unmount(_ mountPoint: URL) {
    if let umount = TestFiles.tool("umount") { _ = try? runTool(umount, [mountPoint.path]) }
    try? FileManager.default.removeItem(at: mountPoint)
}

/// Fills a tmpfs to the last byte.
private func fill(_ mountPoint: URL) {
    let path = mountPoint.appendingPathComponent("filler").path
    FileManager.default.createFile(atPath: path, contents: nil)
    guard let handle = FileHandle(forWritingAtPath: path) else { return }
    for size in [65536, 4096, 1] {
        let block = Data(count: size)
        while (try? handle.write(contentsOf: block)) != nil {}
    }
    try? handle.close()
}

@Suite("kinema predict safety", .serialized)
struct PredictSafetyTests {
    /// #11.3: a 333×251 yuv444p video gets its CSV and a labelled video padded to 334×252.
    @Test func oddSizedVideoGetsItsLabeledVideo() throws {
        guard let f = try fixture() else { return }
        let out = try f.scratch("odd")
        let run = try KinemaProcess.succeed(["predict", f.model, f.oddVideo.path, "--labeled-video", "--output", out.path], in: f.dir)
        let csv = out.appendingPathComponent("odd.csv").path
        #expect(try lines(csv).count == 3 + 10, "\(run)")
        let labeled = out.appendingPathComponent("labeled_videos/odd_labeled.mp4").path
        #expect(run.stdoutLines == [csv, labeled], "\(run)")
        let info = try KinemaProcess.succeed(["video", "info", labeled])
        #expect(info.stdoutLines.contains("size        334x252") && info.stdoutLines.contains("frames      10"), "\(info)")
    }

    /// #11.3: a labelled video that cannot be written is one warning line and exit status 3; the CSV is written.
    @Test func failedLabeledVideoKeepsThePredictions() throws {
        guard let f = try fixture() else { return }
        let out = try f.scratch("labeled-fails")
        // A file where the labelled videos' folder must go.
        try Data("not a folder".utf8).write(to: out.appendingPathComponent("labeled_videos"))
        let run = try KinemaProcess.run(["predict", f.model, f.oddVideo.path, "--labeled-video", "--output", out.path], in: f.dir)
        #expect(run.status == 3, "\(run)")
        let csv = out.appendingPathComponent("odd.csv").path
        #expect(try lines(csv).count == 3 + 10, "\(run)")
        #expect(run.stdoutLines == [csv], "\(run)")
        let warnings = run.stderrLines.filter { $0.contains("labelled video") }
        #expect(warnings.count == 1 && warnings[0].hasPrefix("warning: no labelled video for \(f.oddVideo.path): "), "\(run)")
        #expect(!rawErrorMarkers.contains { run.stderr.contains($0) }, "\(run)")
    }

    /// #11.4: a recording cut off mid-file gives the CSV of every decodable frame, one line saying where it broke,
    /// exit 0 (4 with --strict, the CSV still written); `video info` says the same.
    @Test func cutRecordingKeepsWhatWasDecoded() throws {
        guard let f = try fixture() else { return }
        let info = try KinemaProcess.succeed(["video", "info", f.cutVideo.path])
        let framesLine = try #require(info.stdoutLines.first { $0.hasPrefix("frames ") }, "\(info)")
        let decodable = try #require(Int(framesLine.split(separator: " ")[1]), "\(info)")
        #expect(decodable > 30 && decodable < 100, "\(info)")
        let seconds = String(format: "%g", Double(decodable) / 25)
        let cutLine = try #require(info.stdoutLines.first { $0.hasPrefix("cut off ") }, "\(info)")
        #expect(cutLine.contains("at frame \(decodable) (\(seconds) s) of the 100 the container header lists"), "\(info)")

        for strict in [false, true] {
            let out = try f.scratch("cut")
            let run = try KinemaProcess.run(
                ["predict", f.model, f.cutVideo.path, "--output", out.path] + (strict ? ["--strict"] : []), in: f.dir)
            #expect(run.status == (strict ? 4 : 0), "\(run)")
            let csv = try lines(out.appendingPathComponent("cut.csv").path)
            #expect(csv.count == 3 + decodable, "\(run)")
            #expect(csv.last?.hasPrefix("\(decodable - 1),") == true)
            let said = run.stderrLines.filter { $0.contains("cut off") }
            #expect(said.count == 1 && said[0].contains("cut off at frame \(decodable)") && said[0].contains("s)"), "\(run)")
        }
    }

    /// #11.9: an output name near the 255-byte limit is written (the temporary name is shortened).
    @Test func longOutputNamesAreWritten() throws {
        guard let f = try fixture() else { return }
        let out = try f.scratch("long")
        let stem = String(repeating: "m", count: 230)  // <stem>_temporal_norm.csv is 252 bytes
        let video = out.appendingPathComponent(stem + ".mp4")
        try FileManager.default.copyItem(at: f.oddVideo, to: video)
        let run = try KinemaProcess.succeed(["predict", f.model, video.path, "--output", out.path], in: f.dir)
        #expect(FileManager.default.fileExists(atPath: out.appendingPathComponent(stem + ".csv").path), "\(run)")
        #expect(FileManager.default.fileExists(atPath: out.appendingPathComponent(stem + "_temporal_norm.csv").path), "\(run)")
        let left = try FileManager.default.contentsOfDirectory(atPath: out.path).filter { $0.hasSuffix(".tmp") }
        #expect(left.isEmpty, "temporary files left: \(left)")
    }

    /// #11.9: no abstract or discussion has a hard line break inside a paragraph (ArgumentParser wraps paragraphs
    /// to the terminal itself, so such a break shows as a sentence cut in the middle of a line). A line may end a
    /// paragraph (blank line next), introduce a list or examples (ends with ':'), or be an indented example or list item.
    @Test func helpIsNotBrokenMidSentence() {
        var commands: [(path: String, type: any ParsableCommand.Type)] = [("kinema", Kinema.self)]
        var index = 0
        while index < commands.count {
            let (path, type) = commands[index]
            index += 1
            for sub in type.configuration.subcommands { commands.append(("\(path) \(sub._commandName)", sub)) }
            #expect(!type.configuration.abstract.contains("\n"), "\(path): abstract spans lines")
            let lines = type.configuration.discussion.split(separator: "\n", omittingEmptySubsequences: false)
            for (line, next) in zip(lines, lines.dropFirst()) {
                let paragraphEnds = line.isEmpty || next.isEmpty
                let structured = line.hasSuffix(":") || next.hasPrefix(" ") || next.hasPrefix("- ") || line.hasPrefix(" ")
                #expect(paragraphEnds || structured, "\(path) --help breaks a paragraph: '\(line)' / '\(next)'")
            }
        }
        #expect(commands.count > 15, "found \(commands.count) commands")
    }

    // MARK: - The bad-input matrix

    /// One row: the arguments, the exit status, a word the one error line must contain (the file or option),
    /// and files that must be unchanged afterwards.
    private struct Row {
        var name: String
        var arguments: [String]
        var status: Int32 = 1
        var names: String
        var untouched: [URL] = []
    }

    /// Runs a row: exit status, exactly one `error:` line naming the file, no raw dump, nothing destroyed.
    private func check(_ row: Row, in dir: URL, sourceLocation: SourceLocation = #_sourceLocation) throws {
        let before = try row.untouched.map { try Data(contentsOf: $0) }
        let run = try KinemaProcess.run(row.arguments, in: dir)
        #expect(run.status == row.status, "\(row.name): \(run)", sourceLocation: sourceLocation)
        let errors = run.stderrLines.filter { $0.contains("error:") || $0.hasPrefix("Error:") }
        #expect(errors.count == 1, "\(row.name): \(run)", sourceLocation: sourceLocation)
        #expect(
            errors.first?.contains(row.names) == true, "\(row.name): the error line does not name \(row.names): \(run)",
            sourceLocation: sourceLocation)
        #expect(!rawErrorMarkers.contains { run.stderr.contains($0) }, "\(row.name): \(run)", sourceLocation: sourceLocation)
        for (url, data) in zip(row.untouched, before) {
            #expect((try? Data(contentsOf: url)) == data, "\(row.name) changed \(url.path)", sourceLocation: sourceLocation)
        }
    }

    @Test func predictBadInputMatrix() throws {
        guard let f = try fixture() else { return }
        let dir = try f.scratch("matrix")
        let fm = FileManager.default
        // Model folders: missing, empty, a truncated checkpoint.
        try fm.createDirectory(at: dir.appendingPathComponent("empty-model"), withIntermediateDirectories: true)
        try fm.copyItem(at: f.dir.appendingPathComponent(f.model), to: dir.appendingPathComponent("cut-model"))
        for name in ["best", "last"] {
            let checkpoint = dir.appendingPathComponent("cut-model/checkpoints/\(name).safetensors")
            if let data = try? Data(contentsOf: checkpoint) { try data.prefix(data.count / 2).write(to: checkpoint) }
        }
        let model = f.dir.appendingPathComponent(f.model).path
        let video = f.oddVideo.path
        // Inputs: empty, cut before its index, a CSV, an earlier output that must survive failures.
        try Data().write(to: dir.appendingPathComponent("empty.mp4"))
        // Cut before its index (the moov box of a non-faststart MP4 is at the end): no frame can be decoded.
        let odd = try Data(contentsOf: f.oddVideo)
        try odd.prefix(odd.count / 2).write(to: dir.appendingPathComponent("no-index.mp4"))
        try Data("x,y\n1,2\n".utf8).write(to: dir.appendingPathComponent("points.mp4"))
        let out = dir.appendingPathComponent("out")
        try fm.createDirectory(at: out, withIntermediateDirectories: true)
        let earlier = out.appendingPathComponent("odd.csv")
        try Data("an earlier result\n".utf8).write(to: earlier)
        try Data("a file\n".utf8).write(to: dir.appendingPathComponent("plain-file"))

        var rows = [
            Row(
                name: "model missing", arguments: ["predict", "no-model", video, "--output", out.path], names: "no-model",
                untouched: [earlier]),
            Row(
                name: "model folder empty", arguments: ["predict", "empty-model", video, "--output", out.path], names: "empty-model",
                untouched: [earlier]),
            Row(
                name: "truncated checkpoint", arguments: ["predict", "cut-model", video, "--output", out.path], names: "cut-model",
                untouched: [earlier]),
            Row(
                name: "video missing", arguments: ["predict", model, "nothing.mp4", "--output", out.path], names: "nothing.mp4",
                untouched: [earlier]),
            Row(
                name: "empty video", arguments: ["predict", model, "empty.mp4", "--output", out.path], names: "empty.mp4",
                untouched: [earlier]),
            Row(
                name: "truncated video", arguments: ["predict", model, "no-index.mp4", "--output", out.path], names: "no-index.mp4",
                untouched: [earlier]),
            Row(
                name: "wrong type", arguments: ["predict", model, "points.mp4", "--output", out.path], names: "points.mp4",
                untouched: [earlier]),
            Row(name: "output under a file", arguments: ["predict", model, video, "--output", "plain-file/out"], names: "plain-file/out"),
            Row(name: "bad threshold", arguments: ["predict", model, video, "--threshold", "2"], status: 64, names: "--threshold"),
        ]
        if getuid() == 0 {
            print(
                "skipped the 'unreadable video' and 'read-only output folder' chmod rows: tests run as root, where chmod does not stop reads or writes"
            )
        } else {
            try fm.copyItem(at: f.oddVideo, to: dir.appendingPathComponent("locked.mp4"))
            try fm.setAttributes([.posixPermissions: 0o000], ofItemAtPath: dir.appendingPathComponent("locked.mp4").path)
            let readOnly = dir.appendingPathComponent("read-only")
            try fm.createDirectory(at: readOnly, withIntermediateDirectories: true)
            try fm.setAttributes([.posixPermissions: 0o555], ofItemAtPath: readOnly.path)
            rows.append(
                Row(
                    name: "unreadable video", arguments: ["predict", model, "locked.mp4", "--output", out.path], names: "locked.mp4",
                    untouched: [earlier]))
            rows.append(
                Row(name: "read-only output", arguments: ["predict", model, video, "--output", readOnly.path], names: readOnly.path))
        }
        for row in rows { try check(row, in: dir) }

        // A read-only file system and a full disk: tmpfs mounts (root only).
        if let readOnly = mountTmpfs("ro,size=1m", in: dir) {
            defer { unmount(readOnly) }
            try check(
                Row(name: "read-only file system", arguments: ["predict", model, video, "--output", readOnly.path], names: "read-only"),
                in: dir)
        }
        if let full = mountTmpfs("size=1m", in: dir) {
            defer { unmount(full) }
            let kept = full.appendingPathComponent("odd.csv")
            try Data("an earlier result\n".utf8).write(to: kept)
            fill(full)
            try check(
                Row(
                    name: "disk full", arguments: ["predict", model, video, "--output", full.path], names: "disk is full", untouched: [kept]
                ),
                in: dir)
            let left = try fm.contentsOfDirectory(atPath: full.path).filter { $0.hasSuffix(".tmp") }
            #expect(left.isEmpty, "temporary files left on the full disk: \(left)")
        }

        // An existing output is replaced, in one step: the new CSV, no temporary files.
        let replaced = try KinemaProcess.succeed(["predict", model, video, "--output", out.path], in: dir)
        #expect(try lines(earlier.path).count == 3 + 10, "\(replaced)")
        #expect(try fm.contentsOfDirectory(atPath: out.path).filter { $0.hasSuffix(".tmp") }.isEmpty)
    }

    @Test func videoBadInputMatrix() throws {
        guard let f = try fixture() else { return }
        let dir = try f.scratch("video-matrix")
        try Data().write(to: dir.appendingPathComponent("empty.mp4"))
        try Data("x,y\n1,2\n".utf8).write(to: dir.appendingPathComponent("points.csv"))
        let odd = try Data(contentsOf: f.oddVideo)
        try odd.prefix(odd.count / 2).write(to: dir.appendingPathComponent("no-index.mp4"))
        try Data("a file\n".utf8).write(to: dir.appendingPathComponent("plain-file"))
        for command in [["video", "info"], ["video", "frames"]] {
            let tail = command.last == "frames" ? ["--at", "0", "--out", "frames"] : []
            for (file, names) in [
                ("missing.mp4", "missing.mp4"), ("empty.mp4", "empty.mp4"), ("no-index.mp4", "no-index.mp4"), ("points.csv", "points.csv"),
            ] {
                try check(Row(name: "\(command) \(file)", arguments: command + [file] + tail, names: names), in: dir)
            }
        }
        try check(
            Row(
                name: "frames into a path under a file",
                arguments: ["video", "frames", f.oddVideo.path, "--at", "0", "--out", "plain-file/frames"], names: "plain-file"),
            in: dir)
        if let full = mountTmpfs("size=1m", in: dir) {
            defer { unmount(full) }
            let kept = full.appendingPathComponent("odd_frame000000.png")
            try Data("an earlier frame".utf8).write(to: kept)
            fill(full)
            try check(
                Row(
                    name: "frames on a full disk", arguments: ["video", "frames", f.oddVideo.path, "--at", "0", "--out", full.path],
                    names: "disk is full", untouched: [kept]),
                in: dir)
        }
    }

    /// `kinema demo`'s output folder: never replaced, checked before any work.
    @Test func demoOutputFolderMatrix() throws {
        let dir = try TestFiles.temporaryDirectory("demo-matrix")
        defer { try? FileManager.default.removeItem(at: dir) }
        try Data("a file\n".utf8).write(to: dir.appendingPathComponent("plain-file"))
        let earlier = dir.appendingPathComponent("kinema-demo/report.md")
        try FileManager.default.createDirectory(at: earlier.deletingLastPathComponent(), withIntermediateDirectories: true)
        try Data("an earlier demo".utf8).write(to: earlier)
        try check(Row(name: "demo: existing demo", arguments: ["demo"], names: "kinema-demo", untouched: [earlier]), in: dir)
        try check(
            Row(name: "demo: folder under a file", arguments: ["demo", "--directory", "plain-file/demo"], names: "plain-file/demo"), in: dir
        )
        if let readOnly = mountTmpfs("ro,size=1m", in: dir) {
            defer { unmount(readOnly) }
            try check(
                Row(name: "demo: read-only file system", arguments: ["demo", "--directory", readOnly.path + "/demo"], names: "read-only"),
                in: dir)
        }
    }
}
