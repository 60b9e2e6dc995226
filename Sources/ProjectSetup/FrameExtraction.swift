// Frames to label, chosen from videos with DeepLabCut's `extract_frames` semantics and written as exact-index PNGs
// into labeled-data/<video>/, next to whatever labels are already there.
import ConfigDecoding
import Foundation
import KinemaFiles
import PoseData
import VideoIO

/// How frames are chosen (DeepLabCut's automatic modes).
public enum FrameSelection: String, Sendable, CaseIterable {
    /// Grey thumbnails of frames spread over the video, clustered; one frame from each cluster: varied postures.
    case kmeans
    /// Frames drawn at random over the whole video, without replacement (DeepLabCut's `uniform`).
    case uniform
}

public struct ExtractionOptions: Sendable, Equatable {
    public var method: FrameSelection = .kmeans
    /// New frames per video.
    public var count = 20
    /// Seeds every random choice: the same seed picks the same frames.
    public var seed: UInt64 = 0
    /// k-means: at most this many frames are decoded (as thumbnails) to cluster, spread evenly over the video. DLC
    /// decodes and holds every frame, which exhausts memory on long videos (DLC issue #1826); this bounds it.
    public var sampleLimit = 1000
    /// k-means: thumbnail width in pixels (DeepLabCut's `cluster_resizewidth`), aspect kept.
    public var thumbnailWidth = 30
    public init() {}
}

/// What one video gave.
public struct ExtractionResult: Sendable, Equatable {
    public var video: String
    /// `labeled-data/<video stem>`, absolute.
    public var folder: String
    /// Frame indices written now, ascending.
    public var written: [Int]
    /// Frames that were already extracted (skipped, never rewritten).
    public var alreadyThere: Int
    /// k-means: frames decoded as thumbnails (at most `sampleLimit`); 0 for uniform.
    public var sampled: Int
    public var frameCount: Int
}

/// A project's folder, its layout, videos and keypoints, as `extract-frames`, `outliers` and `merge` need them.
public struct ProjectVideos: Sendable, Equatable {
    /// The folder that holds `labeled-data/` (an LP config's `data_dir`; a DeepLabCut project's folder).
    public var root: String
    public var config: String
    public var layout: ProjectLayout
    public var videos: [String]
    /// The label columns, in order (DeepLabCut's `bodyparts`; the Kinema config's `keypoint_names`).
    public var keypoints: [String] = []
    /// DeepLabCut's `scorer` (`CollectedData_<scorer>`); "" for a Kinema/LP project.
    public var scorer = ""
    /// A Kinema/LP project's one label file (its `csv_file`), absolute; "" for DeepLabCut's per-video files.
    public var labelsCSV = ""
    /// A multi-camera project's views (`data.view_names` with one CSV per view) and their CSVs, absolute, in view
    /// order; empty for one camera.
    public var views: [String] = []
    public var viewLabelsCSVs: [String] = []

    /// The label CSV of the frames in `labeled-data/<folder>` of a Kinema/LP project: the one `csv_file`, or in a
    /// multi-camera project the CSV of the view the folder names (`<session>_<view>`); nil when it names no view.
    public func labelsCSV(folder: String) -> String? {
        guard !views.isEmpty else { return labelsCSV }
        let matched = views.indices.filter { ViewSession.containsWord(folder, views[$0]) }
        return matched.count == 1 ? viewLabelsCSVs[matched[0]] : nil
    }

    /// `labeled-data/<stem>`, absolute.
    public func labeledFolder(stem: String) -> String {
        (root as NSString).appendingPathComponent("labeled-data/\(stem)")
    }
}

public enum FrameExtraction {
    public enum Stage: String, Sendable { case sampling, writing }

    // MARK: - The project

    /// Reads PROJECT (a project folder with `config.yaml`, or the config file itself): DeepLabCut's videos are the
    /// `video_sets` (looked for in `videos/` when the paths are from another machine), else `videos/`; a Kinema/LP
    /// config's are those in `video_dir`.
    public static func openProject(_ path: String) throws -> ProjectVideos {
        var isFolder: ObjCBool = false
        guard FileManager.default.fileExists(atPath: path, isDirectory: &isFolder) else {
            throw ProjectSetupError.notAProject(path: path, reason: "no such folder or file")
        }
        let config = PoseConfig.absolute(isFolder.boolValue ? (path as NSString).appendingPathComponent("config.yaml") : path)
        guard FileManager.default.fileExists(atPath: config) else {
            throw ProjectSetupError.notAProject(path: path, reason: "it has no config.yaml (create one with `kinema project create`)")
        }
        guard let data = FileManager.default.contents(atPath: config), let text = String(data: data, encoding: .utf8) else {
            throw ProjectSetupError.notAProject(path: config, reason: "the config cannot be read as text")
        }
        let node = try ConfigNode.parse(text, file: config)
        let folder = (config as NSString).deletingLastPathComponent
        if node["Task"] != nil, node["bodyparts"] != nil {
            let videosFolder = (folder as NSString).appendingPathComponent("videos")
            var videos: [String] = []
            for key in node["video_sets"]?.entries?.map(\.key) ?? [] {
                let here = (videosFolder as NSString).appendingPathComponent((key as NSString).lastPathComponent)
                if FileManager.default.fileExists(atPath: key) {
                    videos.append(key)
                } else if FileManager.default.fileExists(atPath: here) {
                    videos.append(here)
                }
            }
            if videos.isEmpty { videos = videoFiles(in: videosFolder) }
            var project = ProjectVideos(root: folder, config: config, layout: .deepLabCut, videos: videos)
            project.keypoints = node["bodyparts"]?.items?.compactMap(\.text) ?? []
            project.scorer = node["scorer"]?.text ?? ""
            return project
        }
        let loaded = try PoseConfig.load(path: config)
        var project = ProjectVideos(root: loaded.dataDir, config: config, layout: .kinema, videos: loaded.findVideos().videos)
        project.keypoints = loaded.keypointNames ?? []
        project.labelsCSV = loaded.csvPath
        project.views = loaded.cameraViews
        project.viewLabelsCSVs = loaded.cameraViews.isEmpty ? [] : loaded.csvPaths
        return project
    }

    private static func videoFiles(in folder: String) -> [String] {
        let names = (try? FileManager.default.contentsOfDirectory(atPath: folder)) ?? []
        return names.filter { PoseConfig.videoExtensions.contains(($0 as NSString).pathExtension.lowercased()) }.sorted()
            .map { (folder as NSString).appendingPathComponent($0) }
    }

    // MARK: - Names

    /// DeepLabCut's image name: `img` + the frame index zero-padded to ⌈log10(frames)⌉ digits (`img00042.png` in a
    /// 12,000-frame video).
    public static func imageName(frame: Int, frameCount: Int) -> String {
        let digits = frameCount > 1 ? Int(log10(Double(frameCount)).rounded(.up)) : 0
        let number = String(frame)
        return "img" + String(repeating: "0", count: max(0, digits - number.count)) + number + ".png"
    }

    /// Frame indices already extracted into `folder` (`img<digits>.png`, any padding).
    public static func existingFrames(in folder: String) -> Set<Int> {
        let names = (try? FileManager.default.contentsOfDirectory(atPath: folder)) ?? []
        return Set(
            names.compactMap { name -> Int? in
                guard name.hasPrefix("img"), name.lowercased().hasSuffix(".png") else { return nil }
                let digits = name.dropFirst(3).dropLast(4)
                return !digits.isEmpty && digits.allSatisfy(\.isASCII) ? Int(digits) : nil
            })
    }

    // MARK: - Choosing frames

    /// DeepLabCut's `uniform`: `count` distinct frames drawn at random from `0..<frameCount` (its range with
    /// start 0, stop 1: `[floor(n·0), ceil(n·1))`), leaving out `excluding`; all that remain when fewer. Ascending.
    public static func uniformChoice(frameCount: Int, count: Int, excluding: Set<Int>, seed: UInt64) -> [Int] {
        var available = (0..<frameCount).filter { !excluding.contains($0) }
        guard available.count > count else { return available }
        var random = SeededGenerator(seed: seed)
        for i in 0..<count { available.swapAt(i, Int.random(in: i..<available.count, using: &random)) }
        return available[..<count].sorted()
    }

    /// The frames k-means looks at: all of `0..<frameCount` not in `excluding`, or `limit` of them spread evenly
    /// (the middle of each of `limit` equal stretches). Ascending.
    public static func sampleIndices(frameCount: Int, limit: Int, excluding: Set<Int>) -> [Int] {
        let available = (0..<frameCount).filter { !excluding.contains($0) }
        guard available.count > limit else { return available }
        return (0..<limit).map { available[Int((Double($0) + 0.5) * Double(available.count) / Double(limit))] }
    }

    /// DeepLabCut's k-means choice: `count` clusters of the thumbnails (`samples.count × dimension`), one member of
    /// each drawn at random; every sample when there are no more than `count`. Returns positions in `samples`.
    public static func kmeansChoice(thumbnails: [Float], dimension: Int, count: Int, seed: UInt64) -> [Int] {
        let n = dimension > 0 ? thumbnails.count / dimension : 0
        guard n > count else { return Array(0..<n) }
        guard count > 0 else { return [] }
        // DLC subtracts the mean frame first; that moves every point alike and changes no distance, so it is left out.
        let clusters = KMeans(vectors: thumbnails, dimension: dimension, k: count, seed: seed)
        var random = SeededGenerator(seed: seed ^ 0x5EED)
        return clusters.members.compactMap { $0.randomElement(using: &random) }.sorted()
    }

    // MARK: - Reading and writing frames

    /// Grey thumbnails `width` px wide (aspect kept, area-averaged) of the frames at `indices`, decoded one at a time
    /// through exact seeks, as one row-major matrix (`decoded × dimension`). A recording cut off before the end gives
    /// the frames before the cut (`decoded` < `indices.count`).
    /// - Parameter progress: called with the number of thumbnails decoded so far.
    public static func thumbnails(
        of indices: [Int], reader: VideoReader, width: Int, progress: (Int) -> Void = { _ in }
    ) throws -> (vectors: [Float], dimension: Int, decoded: Int) {
        reader.output = FrameOutput(pixelFormat: .gray8, width: min(max(1, width), reader.info.width), filter: .area)
        defer { reader.output = FrameOutput() }
        var vectors: [Float] = []
        var dimension = 0, decoded = 0
        for index in indices {
            let frame: Frame
            do {
                frame = try reader.frame(at: index)
            } catch VideoError.truncated {
                break  // a recording cut off: the frames before the cut
            }
            dimension = frame.pixels.count
            vectors.append(contentsOf: frame.pixels.map { Float($0) })
            decoded += 1
            progress(decoded)
        }
        return (vectors, dimension, decoded)
    }

    /// Writes the frames at `indices`, full size, as `folder/img<index>.png` (DeepLabCut's names), in order.
    /// - Parameter wrote: called with the frames written so far, after each one.
    /// - Returns: the indices written (all of them).
    /// - Throws: `ProjectSetupError.stoppedPartWay` when a frame cannot be decoded or written; the frames written
    ///   before it are kept.
    public static func writeFrames(
        _ indices: [Int], of video: String, reader: VideoReader, folder: String, wrote: (Int) -> Void = { _ in }
    ) throws -> [Int] {
        reader.output = FrameOutput()
        var written: [Int] = []
        do {
            if !indices.isEmpty { try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true) }
            for index in indices {
                let frame = try reader.frame(at: index)
                try ImageIO.write(
                    frame, to: (folder as NSString).appendingPathComponent(imageName(frame: index, frameCount: reader.frameCount)),
                    format: .png)
                written.append(index)
                wrote(written.count)
            }
        } catch {
            throw ProjectSetupError.stoppedPartWay(
                video: video, written: written.count, of: indices.count, folder: folder, reason: FileProblem.describe(error))
        }
        return written
    }

    // MARK: - Extracting

    /// Chooses `options.count` new frames of `video` and writes them, full size, as `<labeledData>/<stem>/img<i>.png`.
    /// Frames already there are never chosen again nor rewritten; label files are not touched. k-means holds only
    /// `sampleLimit` thumbnails in memory, whatever the video's length.
    /// - Parameter progress: called as work advances: the stage, frames done, frames in the stage.
    /// - Throws: `VideoError` for a video that cannot be read; `ProjectSetupError.stoppedPartWay` when writing
    ///   stops after some frames (those are kept).
    public static func extract(
        video: String, labeledData: String, options: ExtractionOptions, progress: (Stage, Int, Int) -> Void = { _, _, _ in }
    ) throws -> ExtractionResult {
        guard options.count > 0 else { throw ProjectSetupError.badOption(option: "--count", reason: "must be at least 1") }
        let reader = try VideoReader(path: video)
        let folder = (labeledData as NSString).appendingPathComponent(ProjectCreation.stem(of: video))
        let existing = existingFrames(in: folder)
        let frameCount = reader.frameCount
        let (chosen, sampled) = try choose(frameCount: frameCount, excluding: existing, reader: reader, options: options) {
            progress(.sampling, $0, $1)
        }
        let written = try writeFrames(chosen, of: video, reader: reader, folder: folder) { progress(.writing, $0, chosen.count) }
        return ExtractionResult(
            video: video, folder: folder, written: written, alreadyThere: existing.count, sampled: sampled, frameCount: frameCount)
    }

    /// A multi-camera session: the frames are chosen on the first view's video (as `extract` chooses them), and
    /// the same indices are written from every view's video, each into `<labeledData>/<its stem>/` (LP's
    /// `<session>_<view>` folders), so every view has an image of each chosen instant under the same name.
    /// Frames already extracted in any view are not chosen again; a view lacking one that another view has gets it.
    /// - Parameter frameCount: the session's `frameCount()` when already checked (it indexes every view's video).
    /// - Returns: one result per view, in view order.
    /// - Throws: `PoseDataError` when the views differ in frame count (they would not be the same instants); as
    ///   `extract` otherwise.
    public static func extract(
        session: ViewSession, frameCount: Int? = nil, labeledData: String, options: ExtractionOptions,
        progress: (String, Stage, Int, Int) -> Void = { _, _, _, _ in }
    ) throws -> [ExtractionResult] {
        guard options.count > 0 else { throw ProjectSetupError.badOption(option: "--count", reason: "must be at least 1") }
        let frameCount = try frameCount ?? session.frameCount()
        let folders = session.videos.map { (labeledData as NSString).appendingPathComponent(ProjectCreation.stem(of: $0)) }
        let existing = folders.map(existingFrames(in:))
        let anywhere = existing.reduce(Set<Int>()) { $0.union($1) }
        let first = try VideoReader(path: session.videos[0])
        let (chosen, sampled) = try choose(frameCount: frameCount, excluding: anywhere, reader: first, options: options) {
            progress(session.videos[0], .sampling, $0, $1)
        }
        var results: [ExtractionResult] = []
        for (v, video) in session.videos.enumerated() {
            let reader = try v == 0 ? first : VideoReader(path: video)
            let wanted = Set(chosen).union(anywhere).subtracting(existing[v]).sorted()
            let written = try writeFrames(wanted, of: video, reader: reader, folder: folders[v]) {
                progress(video, .writing, $0, wanted.count)
            }
            results.append(
                ExtractionResult(
                    video: video, folder: folders[v], written: written, alreadyThere: existing[v].count, sampled: v == 0 ? sampled : 0,
                    frameCount: frameCount))
        }
        return results
    }

    /// The frames `options` chooses from the `frameCount` frames `reader` decodes, none of `excluding` (frames
    /// already extracted), and how many thumbnails k-means decoded (0 for uniform).
    private static func choose(
        frameCount: Int, excluding: Set<Int>, reader: VideoReader, options: ExtractionOptions, sampling: (Int, Int) -> Void
    ) throws -> (chosen: [Int], sampled: Int) {
        switch options.method {
        case .uniform:
            return (uniformChoice(frameCount: frameCount, count: options.count, excluding: excluding, seed: options.seed), 0)
        case .kmeans:
            let samples = sampleIndices(frameCount: frameCount, limit: max(options.sampleLimit, options.count), excluding: excluding)
            let grey = try thumbnails(of: samples, reader: reader, width: options.thumbnailWidth) { sampling($0, samples.count) }
            let chosen = kmeansChoice(thumbnails: grey.vectors, dimension: grey.dimension, count: options.count, seed: options.seed)
            return (chosen.map { samples[$0] }, grey.decoded)
        }
    }
}
