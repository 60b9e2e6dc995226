// `kinema bench predict --breakdown` (#14.4) on a short synthetic video: every frame is counted, the parts timed one
// by one add up to the same frames end to end, they predict the same numbers, and the child's memory figures hang
// together (the 30-minute 1080p run itself is in docs/arch/pose.md, *Prediction cost*).
import Foundation
import KinemaTestSupport
import Testing

@Suite("kinema bench predict --breakdown", .serialized)
struct BenchBreakdownTests {
    /// `bench <name> <value> <unit> ratio=<r> vs <baseline>` lines by name.
    static func benchLines(_ output: String) -> [String: (value: Double, unit: String, ratio: Double?)] {
        var lines: [String: (Double, String, Double?)] = [:]
        for line in output.split(separator: "\n") where line.hasPrefix("bench ") {
            let fields = line.split(separator: " ")
            guard fields.count >= 5, let value = Double(fields[2]) else { continue }
            lines[String(fields[1])] = (value, String(fields[3]), Double(fields[4].dropFirst("ratio=".count)))
        }
        return lines
    }

    @Test func partsAddUpToTheRunAndEveryFrameIsCounted() throws {
        guard let ffmpeg = TestFiles.tool("ffmpeg") else {
            print("skipped: the ffmpeg tool is not on PATH (needed to make the test video)")
            return
        }
        let dir = try TestFiles.temporaryDirectory("bench-breakdown")
        defer { try? FileManager.default.removeItem(at: dir) }
        _ = try trainTinyModel(in: dir)
        // 240 frames in groups of 60: with batches of 8 every batch is full in both runs (same numbers expected).
        let video = dir.appendingPathComponent("testsrc2.mp4").path
        let made = try runTool(
            ffmpeg,
            [
                "-loglevel", "error", "-y", "-f", "lavfi", "-i", "testsrc2=size=320x240:rate=30", "-frames:v", "240", "-g", "60",
                "-c:v", "libx264", "-pix_fmt", "yuv420p", video,
            ])
        try #require(made == 0, "ffmpeg could not make the test video")

        let result = try KinemaProcess.run(
            ["bench", "predict", "model", video, "--breakdown", "--breakdown-frames", "0", "--batch-size", "8"], in: dir, timeout: 300)
        try #require(result.status == 0, "\(result)")
        let lines = Self.benchLines(result.stdout)
        let name = "predict_breakdown_unet_64"
        func line(_ suffix: String) throws -> (value: Double, unit: String, ratio: Double?) {
            try #require(lines[name + suffix], "no line \(name + suffix) in \(result.stdout)")
        }

        // Every frame, in the parts, end to end and in the child.
        #expect(try line("_frames").value == 240)
        #expect(try line("_frames").ratio == 1)
        #expect(try line("_child_frames").value == 240)
        #expect(try line("_child_frames").ratio == 1)

        // The parts, each timed alone, add up to the same frames end to end (CPU: every thread's).
        var sum = 0.0, shares = 0.0
        for part in ["decode", "resize", "forward", "files"] {
            let l = try line("_\(part)_cpu")
            #expect(l.unit == "ms/frame")
            #expect(l.value > 0, "\(part)")
            sum += l.value
            shares += l.ratio ?? .nan
        }
        let parts = try line("_parts_cpu")
        #expect(abs(parts.value - sum) <= 0.002 * sum + 0.05)
        #expect(abs((parts.ratio ?? .nan) - shares) <= 0.005)
        #expect((0.7...1.3).contains(parts.ratio ?? .nan), "the parts' CPU share of the end-to-end run: \(parts.ratio ?? .nan)")
        #expect(try line("_end_to_end_cpu").ratio == 1)
        let endToEnd = try line("_end_to_end_cpu").value
        #expect(abs(endToEnd * (parts.ratio ?? .nan) - parts.value) <= 0.01 * parts.value + 0.05)

        // Same code, same numbers: the parts' CSV is the end-to-end one.
        #expect(try line("_parts_vs_end_to_end_largest_difference").value <= 1e-6)

        // Memory: a peak at least every sample, ratios against the sample at 10 % of the run.
        let r10 = try line("_child_rss_10pct"), r50 = try line("_child_rss_50pct"), r90 = try line("_child_rss_90pct")
        let peak = try line("_child_peak_rss")
        #expect(r10.unit == "MB" && r10.value > 10)
        #expect(abs((r50.ratio ?? .nan) - r50.value / r10.value) <= 0.01)
        #expect(abs((r90.ratio ?? .nan) - r90.value / r10.value) <= 0.01)
        #expect(peak.value >= max(r10.value, r50.value, r90.value) * 0.999)
        #expect(try line("_child_end_to_end").value > 0)
    }
}
