// `kinema bench semi` (issue #12's synthetic benchmark): bad options and working folders are one line before any
// work; a tiny run trains, predicts and scores through child `kinema` processes and keeps its results for a rerun.
import Foundation
import KinemaTestSupport
import Testing

@Suite("kinema bench semi", .serialized)
struct BenchSemiTests {
    @Test func refusalsAreOneLine() throws {
        let dir = try TestFiles.temporaryDirectory("bench-semi-refusals")
        defer { try? FileManager.default.removeItem(at: dir) }
        try KinemaProcess.fail(["bench", "semi", "--configs", "supervised,semi"], saying: "--configs: 'semi' is not a configuration")
        try KinemaProcess.fail(["bench", "semi", "--size", "80"], saying: "--size 80: must be a multiple of 32")
        try KinemaProcess.fail(["bench", "semi", "--labelled", "12"], saying: "--labelled 12: give at least 20 labelled frames")
        try KinemaProcess.fail(["bench", "semi", "--budget-minutes", "0"], saying: "--budget-minutes 0.0: must be a positive number")
        try Data("x".utf8).write(to: dir.appendingPathComponent("file"))
        try KinemaProcess.fail(["bench", "semi", "--work", "file"], saying: "--work file: is a file, not a folder", in: dir)
        try KinemaProcess.fail(["bench", "semi", "--work", "."], saying: "--work .: the folder holds other files", in: dir)
        // A folder of an earlier run with other settings is never reused (nor overwritten).
        let earlier = dir.appendingPathComponent("earlier")
        try FileManager.default.createDirectory(at: earlier, withIntermediateDirectories: true)
        let settings = #"{"budgetMinutes":2,"labelled":30,"size":96,"members":4,"trainingFrames":400,"heldoutFrames":300,"version":1}"#
        try Data(settings.utf8).write(to: earlier.appendingPathComponent("bench.json"))
        try KinemaProcess.fail(
            ["bench", "semi", "--work", "earlier", "--budget-minutes", "3"],
            saying: "--work earlier: holds a run with other settings (budget 2.0 min",
            in: dir)
        #expect(try Data(contentsOf: earlier.appendingPathComponent("bench.json")) == Data(settings.utf8))
    }

    /// Two configurations with a 2-second budget on the smallest project: both are trained by `kinema train`,
    /// predicted and scored (supervised is its own baseline, ratio 1); a rerun keeps both results and prints the same
    /// figures without training again.
    @Test func tinyRunScoresAndKeepsItsResults() throws {
        setenv("KINEMA_THREADS", "1", 1)
        defer { unsetenv("KINEMA_THREADS") }
        let dir = try TestFiles.temporaryDirectory("bench-semi-run")
        defer { try? FileManager.default.removeItem(at: dir) }
        let arguments = [
            "bench", "semi", "--work", "work", "--budget-minutes", "0.03", "--configs", "supervised,temporal", "--size", "64",
            "--labelled", "20", "--training-frames", "64", "--heldout-frames", "10",
        ]
        let first = try KinemaProcess.succeed(arguments, in: dir, timeout: 180)
        let lines = BenchBreakdownTests.benchLines(first.stdout)
        for name in ["supervised", "temporal"] {
            for figure in ["mean_px", "p95_px", "over_5pct", "temporal_norm"] {
                let line = try #require(lines["semi_\(name)_\(figure)"], "\(first.stdout)")
                #expect(line.value.isFinite && line.value >= 0 && line.ratio?.isFinite == true, "\(name) \(figure)")
                if name == "supervised" { #expect(line.ratio == 1) }
            }
        }
        #expect(first.stdout.contains("| supervised ") && first.stdout.contains("| temporal "), "\(first.stdout)")
        let work = dir.appendingPathComponent("work")
        for name in ["supervised", "temporal"] {
            #expect(FileManager.default.fileExists(atPath: work.appendingPathComponent("results/\(name).json").path))
            #expect(FileManager.default.fileExists(atPath: work.appendingPathComponent("models/\(name)/metrics.csv").path))
        }
        let unlabelled = try FileManager.default.contentsOfDirectory(atPath: work.appendingPathComponent("project/videos").path)
        #expect(unlabelled.allSatisfy { $0.hasPrefix("train") }, "\(unlabelled)")

        let second = try KinemaProcess.succeed(arguments, in: dir, timeout: 60)
        #expect(second.stdout.contains("-- supervised: scored by an earlier run, kept"), "\(second.stdout)")
        #expect(BenchBreakdownTests.benchLines(second.stdout).mapValues(\.value) == lines.mapValues(\.value))
    }
}
