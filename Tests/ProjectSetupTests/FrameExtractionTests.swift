import Foundation
import KinemaTestSupport
import ProjectSetup
import Testing
import VideoIO

@Suite struct FrameExtractionTests {
    /// DeepLabCut's names: `img` + index padded to ⌈log10(frames)⌉ digits.
    @Test func imageNamesArePaddedAsDeepLabCutPadsThem() {
        #expect(FrameExtraction.imageName(frame: 42, frameCount: 12_000) == "img00042.png")  // ⌈4.08⌉ = 5
        #expect(FrameExtraction.imageName(frame: 42, frameCount: 1000) == "img042.png")  // log10 exactly 3
        #expect(FrameExtraction.imageName(frame: 999, frameCount: 1001) == "img0999.png")
        #expect(FrameExtraction.imageName(frame: 7, frameCount: 100) == "img07.png")
        #expect(FrameExtraction.imageName(frame: 12345, frameCount: 99_999) == "img12345.png")
    }

    @Test func existingFramesAreReadWhateverThePadding() throws {
        let folder = try TestFiles.temporaryDirectory("existing")
        defer { try? FileManager.default.removeItem(at: folder) }
        for name in ["img0042.png", "img7.png", "img00100.png", "CollectedData.csv", "imgx.png", "img12.jpg"] {
            _ = FileManager.default.createFile(atPath: folder.appendingPathComponent(name).path, contents: Data())
        }
        #expect(FrameExtraction.existingFrames(in: folder.path) == [42, 7, 100])
    }

    /// DeepLabCut's uniform: `count` distinct frames drawn at random over `[floor(n·start), ceil(n·stop))` =
    /// `0..<n`, without replacement; repeatable by seed; frames already extracted are never drawn again.
    @Test func uniformDrawsDistinctFramesOverTheWholeVideo() {
        let n = 1000
        let chosen = FrameExtraction.uniformChoice(frameCount: n, count: 50, excluding: [], seed: 3)
        #expect(chosen.count == 50 && Set(chosen).count == 50 && chosen == chosen.sorted())
        #expect(chosen.allSatisfy { (0..<n).contains($0) })
        #expect(FrameExtraction.uniformChoice(frameCount: n, count: 50, excluding: [], seed: 3) == chosen)
        #expect(FrameExtraction.uniformChoice(frameCount: n, count: 50, excluding: [], seed: 4) != chosen)
        // Random over the whole range, not the first frames: both halves are drawn from (P(miss) = 2·2^-50).
        #expect(chosen.contains { $0 < n / 2 } && chosen.contains { $0 >= n / 2 })
        let again = FrameExtraction.uniformChoice(frameCount: n, count: 50, excluding: Set(chosen), seed: 3)
        #expect(Set(again).isDisjoint(with: chosen) && again.count == 50)
        // Fewer frames left than asked for: all of them (DeepLabCut would refuse).
        #expect(FrameExtraction.uniformChoice(frameCount: 10, count: 20, excluding: [2, 5], seed: 0) == [0, 1, 3, 4, 6, 7, 8, 9])
    }

    /// k-means looks at a bounded, evenly spread subsample: 1000 frames of a two-hour video (216,000 frames), the
    /// middle of each of 1000 equal stretches.
    @Test func kmeansSampleIsBoundedAndSpreadOverTheVideo() {
        let n = 216_000
        let samples = FrameExtraction.sampleIndices(frameCount: n, limit: 1000, excluding: [])
        #expect(samples.count == 1000 && Set(samples).count == 1000 && samples == samples.sorted())
        #expect(samples.first == 108 && samples.last == n - 108)
        #expect(zip(samples, samples.dropFirst()).allSatisfy { $1 - $0 == 216 })
        let without = FrameExtraction.sampleIndices(frameCount: 30, limit: 100, excluding: [0, 29])
        #expect(without == Array(1..<29))
    }

    /// Every PNG written holds exactly the decoded frame of its index (long-GOP, B-frames: exact seeks), named as
    /// DeepLabCut names it.
    @Test func writtenFramesEqualTheDecodedFrameAtTheirIndex() throws {
        let folder = try TestFiles.temporaryDirectory("extract-pixels")
        defer { try? FileManager.default.removeItem(at: folder) }
        let video = try TestVideos.moving("session1.mp4", in: folder, frames: 90, keyframeInterval: 25)
        var options = ExtractionOptions()
        options.method = .uniform
        options.count = 6
        options.seed = 5
        let labeled = folder.appendingPathComponent("labeled-data").path
        let result = try FrameExtraction.extract(video: video, labeledData: labeled, options: options)
        #expect(result.written.count == 6 && result.frameCount == 90 && result.folder == labeled + "/session1")
        let reader = try VideoReader(path: video)
        for index in result.written {
            let png = try ImageIO.read(path: "\(result.folder)/img\(String(format: "%02d", index)).png")
            let frame = try reader.frame(at: index)
            #expect(png.width == 64 && png.height == 48 && png.pixels == frame.pixels, "frame \(index)")
            // and not the neighbouring frame (the frames differ)
            let next = try reader.frame(at: index == 89 ? 88 : index + 1)
            #expect(png.pixels != next.pixels)
        }
    }

    /// Running again adds new frames: the earlier images are not rewritten, the labels file is untouched.
    @Test func rerunAddsFramesWithoutClobbering() throws {
        let folder = try TestFiles.temporaryDirectory("extract-rerun")
        defer { try? FileManager.default.removeItem(at: folder) }
        let video = try TestVideos.moving("trial.mp4", in: folder, frames: 40)
        let labeled = folder.appendingPathComponent("labeled-data").path
        var options = ExtractionOptions()
        options.count = 5
        let first = try FrameExtraction.extract(video: video, labeledData: labeled, options: options)
        #expect(first.written.count == 5 && first.alreadyThere == 0)
        let labels = "\(first.folder)/CollectedData_ana.csv"
        try Data("scorer,ana\n".utf8).write(to: URL(fileURLWithPath: labels))
        // A labelled image that a person has touched must survive byte for byte: mark one.
        let marked = "\(first.folder)/\(FrameExtraction.imageName(frame: first.written[0], frameCount: 40))"
        try Data("not a png any more".utf8).write(to: URL(fileURLWithPath: marked))
        let before = try FileManager.default.contentsOfDirectory(atPath: first.folder).sorted()

        options.method = .uniform
        let second = try FrameExtraction.extract(video: video, labeledData: labeled, options: options)
        #expect(second.alreadyThere == 5 && second.written.count == 5)
        #expect(Set(second.written).isDisjoint(with: first.written))
        #expect(try String(contentsOfFile: labels, encoding: .utf8) == "scorer,ana\n")
        #expect(FileManager.default.contents(atPath: marked) == Data("not a png any more".utf8))
        let after = try FileManager.default.contentsOfDirectory(atPath: first.folder).sorted()
        #expect(Set(before).isSubset(of: after) && after.count == before.count + 5)
        #expect(FrameExtraction.existingFrames(in: first.folder) == Set(first.written + second.written))

        // Asking for more than remain takes what remains, then nothing.
        options.count = 100
        let rest = try FrameExtraction.extract(video: video, labeledData: labeled, options: options)
        #expect(rest.written.count == 30)
        let none = try FrameExtraction.extract(video: video, labeledData: labeled, options: options)
        #expect(none.written.isEmpty && none.alreadyThere == 40)
    }

    /// A video of four scenes (15 frames each, very different pictures): k-means with 4 frames takes one from each.
    @Test func kmeansTakesOneFrameFromEachScene() throws {
        let folder = try TestFiles.temporaryDirectory("extract-kmeans")
        defer { try? FileManager.default.removeItem(at: folder) }
        let w = 64, h = 48
        let noise = TestNoise.bytes(w * h * 3, seed: 2)
        let video = try TestVideos.make("scenes.mp4", in: folder, frames: 60, width: w, height: h) { t in
            let scene = t / 15
            return (0..<(w * h * 3)).map { i -> UInt8 in
                let x = (i / 3) % w, y = (i / 3) / w
                let jitter = noise[(i + t * 7) % noise.count] / 32  // small changes within a scene
                switch scene {
                case 0: return 10 + jitter
                case 1: return 230 - jitter
                case 2: return x < w / 2 ? 20 + jitter : 220 - jitter
                default: return y < h / 2 ? 220 - jitter : 20 + jitter
                }
            }
        }
        var options = ExtractionOptions()
        options.count = 4
        options.seed = 8
        let result = try FrameExtraction.extract(
            video: video, labeledData: folder.appendingPathComponent("labeled-data").path, options: options)
        #expect(result.sampled == 60)
        #expect(Set(result.written.map { $0 / 15 }) == [0, 1, 2, 3], "\(result.written)")
    }

    /// Memory is bounded on long videos: k-means decodes at most `sampleLimit` thumbnails, spread over the video
    /// (here 40 of 3000 frames), whatever the length, and the frames it writes come from all over the video.
    @Test func kmeansHoldsAtMostTheSampleLimit() throws {
        let folder = try TestFiles.temporaryDirectory("extract-bounded")
        defer { try? FileManager.default.removeItem(at: folder) }
        let video = try TestVideos.make("long.mp4", in: folder, frames: 3000, width: 32, height: 32, keyframeInterval: 250) { t in
            [UInt8](repeating: UInt8((t / 100) * 8 % 256), count: 32 * 32 * 3)
        }
        var options = ExtractionOptions()
        options.count = 5
        options.sampleLimit = 40
        var sampled = 0, peakTotal = 0
        let result = try FrameExtraction.extract(video: video, labeledData: folder.appendingPathComponent("ld").path, options: options) {
            stage, done, total in
            if stage == .sampling { sampled = done; peakTotal = max(peakTotal, total) }
        }
        #expect(result.frameCount == 3000)
        #expect(result.sampled == 40 && sampled == 40 && peakTotal == 40)
        #expect(result.written.count == 5)
        #expect(Set(result.written).isSubset(of: FrameExtraction.sampleIndices(frameCount: 3000, limit: 40, excluding: [])))
    }
}
