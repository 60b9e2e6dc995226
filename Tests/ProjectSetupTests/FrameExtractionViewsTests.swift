import Foundation
import KinemaTestSupport
import PoseData
import ProjectSetup
import Testing
import VideoIO

/// `extract-frames` on a multi-camera project: one choice per session, the same frame indices from every view.
@Suite struct FrameExtractionViewsTests {
    /// A two-view project: `walk_top.mp4` (moving texture) and `walk_bot.mp4` (its negative), `frames` frames each
    /// (the bottom camera `botFrames` when given), config with view_names [top, bot] and one CSV per view.
    static func project(_ name: String, frames: Int, botFrames: Int? = nil) throws -> URL {
        let root = try TestFiles.temporaryDirectory(name)
        let videos = root.appendingPathComponent("videos")
        try FileManager.default.createDirectory(at: videos, withIntermediateDirectories: true)
        let top = try TestVideos.moving("walk_top.mp4", in: videos, frames: frames, keyframeInterval: 10)
        let reader = try VideoReader(path: top)
        _ = try TestVideos.make("walk_bot.mp4", in: videos, frames: botFrames ?? frames, keyframeInterval: 7) { t in
            (try? reader.frame(at: min(t, frames - 1)).pixels.map { 255 - $0 }) ?? []
        }
        try """
        data:
          data_dir: .
          video_dir: videos
          view_names: [top, bot]
          csv_file: [top.csv, bot.csv]
          keypoint_names: [nose, tail]
        """.write(to: root.appendingPathComponent("config.yaml"), atomically: true, encoding: .utf8)
        return root
    }

    /// k-means picks on the top view; both views get exactly those indices, as `labeled-data/walk_<view>/img<i>.png`,
    /// each PNG the decoded frame of its own view's video at that index.
    @Test func sameIndicesInEveryViewReadBackAgainstTheDecodedFrames() throws {
        let root = try Self.project("extract-views", frames: 50)
        defer { try? FileManager.default.removeItem(at: root) }
        let opened = try FrameExtraction.openProject(root.path)
        #expect(opened.views == ["top", "bot"])
        let sessions = try ViewSession.group(opened.videos, views: opened.views)
        #expect(sessions.map(\.name) == ["walk"])
        var options = ExtractionOptions()
        options.count = 6
        options.seed = 4
        let labeled = root.appendingPathComponent("labeled-data").path
        let results = try FrameExtraction.extract(session: sessions[0], labeledData: labeled, options: options)
        #expect(results.count == 2)
        #expect(results[0].written.count == 6 && results[0].written == results[1].written, "\(results.map(\.written))")
        #expect(results[0].sampled == 50 && results.allSatisfy { $0.frameCount == 50 })
        #expect(results.map(\.folder) == [labeled + "/walk_top", labeled + "/walk_bot"])
        for (result, video) in zip(results, sessions[0].videos) {
            let reader = try VideoReader(path: video)
            for index in result.written {
                let png = try ImageIO.read(path: "\(result.folder)/\(FrameExtraction.imageName(frame: index, frameCount: 50))")
                #expect(png.pixels == (try reader.frame(at: index)).pixels, "\(video) frame \(index)")
            }
        }
        // The two views differ (negatives), so each folder holds its own camera's frames.
        let index = results[0].written[0], name = FrameExtraction.imageName(frame: index, frameCount: 50)
        let top = try ImageIO.read(path: "\(labeled)/walk_top/\(name)"), bot = try ImageIO.read(path: "\(labeled)/walk_bot/\(name)")
        #expect(top.pixels != bot.pixels)

        // Again: new instants for both views, none chosen twice; a frame missing in one view is filled in.
        try FileManager.default.removeItem(atPath: "\(labeled)/walk_bot/\(name)")
        options.method = .uniform
        let again = try FrameExtraction.extract(session: sessions[0], labeledData: labeled, options: options)
        #expect(again[0].written.count == 6 && Set(again[0].written).isDisjoint(with: results[0].written))
        #expect(again[1].written == (again[0].written + [index]).sorted())
        #expect(FrameExtraction.existingFrames(in: "\(labeled)/walk_top") == FrameExtraction.existingFrames(in: "\(labeled)/walk_bot"))
    }

    /// Views of different lengths are not the same instants: one line naming both counts, nothing written.
    @Test func viewsOfDifferentLengthsAreRefused() throws {
        let root = try Self.project("extract-views-lengths", frames: 30, botFrames: 24)
        defer { try? FileManager.default.removeItem(at: root) }
        let opened = try FrameExtraction.openProject(root.path)
        let sessions = try ViewSession.group(opened.videos, views: opened.views)
        let labeled = root.appendingPathComponent("labeled-data").path
        do {
            _ = try FrameExtraction.extract(session: sessions[0], labeledData: labeled, options: ExtractionOptions())
            Issue.record("views of 30 and 24 frames were extracted")
        } catch {
            let line = "\(error)"
            #expect(
                line.contains("differ in frame count") && line.contains("walk_top.mp4 30") && line.contains("walk_bot.mp4 24"), "\(line)")
            #expect(!line.contains("\n"))
        }
        #expect(!FileManager.default.fileExists(atPath: labeled))
    }
}
