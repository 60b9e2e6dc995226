// The batch manifest (what a batch prediction has done), the worker's message lines and the `--videos` list.
import Foundation
import KinemaTestSupport
import PoseData
import PoseModels
import PosePrediction
import Testing

@Suite("batch manifest and video list")
struct BatchManifestTests {
    /// Every field survives a write and a read, and the file is the JSON a person can read.
    @Test func manifestRoundTrip() throws {
        let dir = try TestFiles.temporaryDirectory("batch-manifest")
        defer { try? FileManager.default.removeItem(at: dir) }
        var done = BatchManifest.Entry(video: "/data/a.mp4", state: .done)
        done.outputs = [.init(path: "/out/a.csv", bytes: 1234, modified: 1_780_000_000.25)]
        done.source = .init(path: "/data/a.mp4", bytes: 99, modified: 1_770_000_000.5)
        done.seconds = 1.5
        done.finished = Date(timeIntervalSince1970: 1_780_000_001)
        done.warnings = ["warning: /data/a.mp4 is cut off at frame 3"]
        var failed = BatchManifest.Entry(video: "/data/b.mp4", state: .failed)
        failed.reason = "/data/b.mp4: not a video FFmpeg can read"
        failed.seconds = 0.25
        failed.finished = Date(timeIntervalSince1970: 1_780_000_002)
        let manifest = BatchManifest(model: "/models/m", videos: [done, failed, .init(video: "/data/c.mp4")])
        try manifest.save(to: dir.path)
        #expect(try BatchManifest.load(from: dir.path) == manifest)
        let text = try String(contentsOfFile: BatchManifest.path(in: dir.path), encoding: .utf8)
        #expect(text.contains("\"state\" : \"failed\"") && text.contains("\"finished\" : \"2026-05-28T20:26:41Z\""), "\(text)")
        // A folder without one has none; a damaged one is one line naming it.
        #expect(try BatchManifest.load(from: dir.appendingPathComponent("none").path) == nil)
        try Data("{\"format\": 1".utf8).write(to: URL(fileURLWithPath: BatchManifest.path(in: dir.path)))
        #expect {
            _ = try BatchManifest.load(from: dir.path)
        } throws: { error in
            "\(error)".contains(BatchManifest.path(in: dir.path)) && "\(error)".contains("not a batch manifest")
                && !"\(error)".contains("\n")
        }
    }

    /// A done video stays done only while its outputs and its video are the files the batch wrote and read.
    @Test func doneMeansOutputsAsWritten() throws {
        let dir = try TestFiles.temporaryDirectory("batch-current")
        defer { try? FileManager.default.removeItem(at: dir) }
        let video = dir.appendingPathComponent("v.mp4").path, csv = dir.appendingPathComponent("v.csv").path
        try Data("video".utf8).write(to: URL(fileURLWithPath: video))
        try Data("a,b\n".utf8).write(to: URL(fileURLWithPath: csv))
        var entry = BatchManifest.Entry(video: video, state: .done)
        entry.source = .of(video)
        entry.outputs = [try #require(.of(csv))]
        #expect(entry.outputs?.first?.bytes == 4)
        #expect(BatchManifest.isCurrent(entry))
        entry.state = .failed
        #expect(!BatchManifest.isCurrent(entry))
        entry.state = .done
        try Data("a,b,c\n".utf8).write(to: URL(fileURLWithPath: csv))
        #expect(!BatchManifest.isCurrent(entry))
        entry.outputs = [try #require(.of(csv))]
        #expect(BatchManifest.isCurrent(entry))
        try FileManager.default.removeItem(atPath: csv)
        #expect(!BatchManifest.isCurrent(entry))
    }

    /// A session (separate cameras) is one entry with its views' videos: done only while every view's video and
    /// every output is as the batch read and wrote it; its file is readable JSON and one camera's entries keep
    /// their old fields only.
    @Test func sessionEntryIsCurrentOnlyWhileEveryViewIs() throws {
        let dir = try TestFiles.temporaryDirectory("batch-session")
        defer { try? FileManager.default.removeItem(at: dir) }
        let top = dir.appendingPathComponent("s1_top.mp4").path, bot = dir.appendingPathComponent("s1_bot.mp4").path
        let csv = dir.appendingPathComponent("s1_top.csv").path
        for path in [top, bot, csv] { try Data(path.utf8).write(to: URL(fileURLWithPath: path)) }
        var entry = BatchManifest.Entry(video: "s1", views: [top, bot], state: .done)
        #expect(entry.videos == [top, bot])
        entry.outputs = [try #require(.of(csv))]
        #expect(!BatchManifest.isCurrent(entry))  // no stamps of the videos read
        entry.sources = [try #require(.of(top)), try #require(.of(bot))]
        #expect(BatchManifest.isCurrent(entry))
        // Stamps of other videos than the session's (a view moved to another folder) do not count.
        entry.sources = [try #require(.of(top)), try #require(.of(csv))]
        #expect(!BatchManifest.isCurrent(entry))
        entry.sources = [try #require(.of(top)), try #require(.of(bot))]
        try Data("another recording".utf8).write(to: URL(fileURLWithPath: bot))
        #expect(!BatchManifest.isCurrent(entry))
        entry.sources = [try #require(.of(top)), try #require(.of(bot))]
        #expect(BatchManifest.isCurrent(entry))
        // Pending again, it keeps its videos.
        var again = entry
        again.reset()
        #expect(again == BatchManifest.Entry(video: "s1", views: [top, bot]))

        let single = BatchManifest.Entry(video: "/data/a.mp4")
        let manifest = BatchManifest(model: "/models/m", videos: [entry, single])
        try manifest.save(to: dir.path)
        #expect(try BatchManifest.load(from: dir.path) == manifest)
        let text = try String(contentsOfFile: BatchManifest.path(in: dir.path), encoding: .utf8)
        #expect(text.contains("\"views\" : [\n        \"\(top)\",\n        \"\(bot)\"\n      ]"), "\(text)")
        #expect(text.components(separatedBy: "\"views\"").count == 2 && text.components(separatedBy: "\"sources\"").count == 2)
    }

    /// A multi-camera model's videos become sessions (LP's `<session>_<view>` rule), sorted by name, views in the
    /// config's order; a session missing a view is one line naming it; one camera keeps one video an item.
    @Test func batchItemsAreSessions() throws {
        let videos = ["/d/b_top.mp4", "/d/a_bot.mp4", "/d/a_top.mp4", "/d/b_bot.mp4"]
        let items = try BatchVideoList.items(videos, views: ["top", "bot"])
        #expect(
            items == [
                BatchItem(session: .init(name: "a", videos: ["/d/a_top.mp4", "/d/a_bot.mp4"])),
                BatchItem(session: .init(name: "b", videos: ["/d/b_top.mp4", "/d/b_bot.mp4"])),
            ])
        #expect(items.map(\.name) == ["a", "b"] && items[1].videos == ["/d/b_top.mp4", "/d/b_bot.mp4"])
        #expect(try BatchVideoList.items(videos, views: []) == videos.map(BatchItem.init(video:)))
        #expect(try BatchVideoList.items(videos, views: []).map(\.videos) == videos.map { [$0] })
        func fails(_ videos: [String], saying words: String) {
            #expect {
                _ = try BatchVideoList.items(videos, views: ["top", "bot"])
            } throws: { error in
                "\(error)".contains(words) && !"\(error)".contains("\n")
            }
        }
        fails(videos + ["/d/c_top.mp4"], saying: "session c has no bot video (found c_top.mp4)")
        fails(videos + ["/e/a_top.mp4"], saying: "session a has two top videos")
        fails(videos + ["/d/c_side.mp4"], saying: "/d/c_side.mp4: the file name names none of the views top, bot")
    }

    /// A worker's answer is one line, read back as sent.
    @Test func workerMessagesAreOneLine() throws {
        let message = BatchWorkerMessage(
            video: "/data/a b.mp4", files: ["/out/a b.csv"], warnings: ["two\nlines"], seconds: 0.5, error: nil)
        #expect(!message.line.contains("\n"))
        #expect(BatchWorkerMessage.parse(Substring(message.line)) == message)
        #expect(BatchWorkerMessage.parse("not json") == nil)
    }

    /// Folders, list files (comments, paths relative to the list), patterns and videos, in order, once each.
    @Test func videoListResolves() throws {
        let dir = try TestFiles.temporaryDirectory("batch-list")
        defer { try? FileManager.default.removeItem(at: dir) }
        let sessions = dir.appendingPathComponent("sessions"), more = dir.appendingPathComponent("more")
        for folder in [sessions, more] { try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true) }
        for name in ["s2.mp4", "s1.MP4", "notes.txt"] {
            try Data().write(to: sessions.appendingPathComponent(name))
        }
        for name in ["m1.avi", "m2.mov", "m3.mkv"] { try Data().write(to: more.appendingPathComponent(name)) }
        try "# videos of May\n\nmore/m2.mov\n  more/m1.avi  \n".write(
            to: dir.appendingPathComponent("list.txt"), atomically: true, encoding: .utf8)
        let base = dir.resolvingSymlinksInPath().path
        let videos = try BatchVideoList.resolve(["sessions", "list.txt", "more/*.m[ko]*", "sessions/s1.MP4"], relativeTo: base)
        #expect(videos == ["sessions/s1.MP4", "sessions/s2.mp4", "more/m2.mov", "more/m1.avi", "more/m3.mkv"].map { base + "/" + $0 })

        func fails(_ items: [String], saying words: String) {
            #expect {
                _ = try BatchVideoList.resolve(items, relativeTo: base)
            } throws: { error in
                "\(error)".contains(words) && !"\(error)".contains("\n")
            }
        }
        fails(["nowhere"], saying: "--videos nowhere: no such file or folder")
        fails(["more/*.mp4"], saying: "--videos more/*.mp4: the pattern matches no videos")
        try "more/m1.avi\nmore/gone.mp4\n".write(to: dir.appendingPathComponent("bad.txt"), atomically: true, encoding: .utf8)
        fails(["bad.txt"], saying: "bad.txt line 2: \(base)/more/gone.mp4: no such video")
        try "sessions/notes.txt\n".write(to: dir.appendingPathComponent("notes.list"), atomically: true, encoding: .utf8)
        fails(["notes.list"], saying: "is not a video")
        try FileManager.default.createDirectory(at: dir.appendingPathComponent("other"), withIntermediateDirectories: true)
        try Data().write(to: dir.appendingPathComponent("other/s1.mp4"))
        fails(["sessions", "other"], saying: "would both be written as s1.csv")
    }
}
