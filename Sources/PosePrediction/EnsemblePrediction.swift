// `kinema predict ENSEMBLE VIDEO...`: every member on each video from one decode, the members' CSVs, and the EKS
// result (posterior variances and the ensemble's spread) through the Smoothing library, in this process.
import Foundation
import KinemaConsole
import PoseData
import PoseFormats
import PoseModels
import Smoothing
import Torch

/// An ensemble folder opened in one call: its manifest, every member with its best weights, and its camera set-up.
public struct TrainedEnsemble {
    public let directory: EnsembleDirectory
    public let manifest: EnsembleDirectory.Manifest
    public let members: [TrainedModel]
    /// From the members' config: which EKS mode smooths their predictions.
    public let views: EnsembleViews

    /// The folder's path, as given.
    public var path: String { directory.path }

    /// Opens an ensemble folder, its members' weights on `device`; a member that is missing or not trained yet is one
    /// line naming it.
    public init(directory path: String, device: Device = .cpu) throws {
        let directory = EnsembleDirectory(path)
        let manifest = try directory.readManifest()
        let unfinished = directory.unfinishedMembers(manifest)
        guard unfinished.isEmpty else {
            throw PoseModelError(
                "\(path): \(unfinished.joined(separator: "; ")) (ensemble.yaml lists \(manifest.members.count) members); finish the ensemble with: kinema train --resume \(path)"
            )
        }
        let members = try manifest.members.indices.map { try TrainedModel(directory: directory.member($0).path, device: device) }
        let first = members[0].model
        for (i, member) in members.enumerated().dropFirst()
        where member.model.keypointNames != first.keypointNames || member.model.config.resizeWidth != first.config.resizeWidth
            || member.model.config.resizeHeight != first.config.resizeHeight
        {
            throw PoseModelError(
                "\(directory.member(i).path): its keypoints or input size differ from \(directory.member(0).path)'s; the members of an ensemble are trained from one config"
            )
        }
        self.directory = directory
        self.manifest = manifest
        self.members = members
        views = try EnsembleViews(config: members[0].project.config, keypoints: first.keypointNames)
    }
}

/// What an ensemble prediction wrote.
public struct EnsemblePredictionRun: Sendable {
    /// The members' CSVs, `members/member-<i>/<stem>.csv`.
    public var memberFiles: [String] = []
    /// The EKS results, `<stem>.csv`.
    public var smoothedFiles: [String] = []
    /// Recordings cut off mid-file, one line each (already logged): their CSVs hold the frames before the cut.
    public var truncated: [String] = []
    /// Per recording, the smoothing summary (s per keypoint, mean posterior standard deviation).
    public var summary: [String] = []
    /// Seconds spent running the members on the videos (one decode each), and in EKS.
    public var predictionSeconds = 0.0, smoothingSeconds = 0.0
}

extension PoseWorkflows {
    /// Predicts `videos` with every member of `ensemble` and smooths them with EKS in the mode the project's config
    /// implies (`EnsembleViews`). Each video is decoded once and every member's network runs on each batch.
    ///
    /// Writes `<output>/members/member-<i>/<stem>.csv` (LP's prediction layout) and `<output>/<stem>.csv` (the EKS
    /// package's columns: x, y, likelihood, ensemble median and variance, posterior variance); with separate cameras
    /// the videos are grouped into recordings by their `<session>_<view>` names and each view's video gets its own
    /// `<stem>.csv`. `smoothing` is `kinema smooth`'s (default: s chosen per keypoint). The inputs and the output
    /// folder are checked before any work; each recording's files are written as soon as it is done.
    public static func predict(
        _ ensemble: TrainedEnsemble, videos inputs: [String], outputDirectory: String? = nil,
        smoothing: SmoothingParameterChoice = .automatic(), batchSize: Int = 16,
        showProgress: Bool = true, log: (String) -> Void = logLine
    ) throws -> EnsemblePredictionRun {
        let output = outputDirectory ?? ensemble.directory.videoPredictions
        let recordings = try ensembleRecordings(inputs, views: ensemble.views)
        try checkWritableFolder(output)
        let memberFolders = ensemble.manifest.members.map { output + "/members/" + $0.folder }
        for folder in memberFolders { try checkWritableFolder(folder) }

        var run = EnsemblePredictionRun()
        let models = ensemble.members.map(\.model)
        let scorer = ensemble.members[0].scorer
        log("\(models.count) members, \(ensemble.views.description)")
        for recording in recordings {
            var tables: [[PoseTable]] = [], names: [[String]] = []
            for video in recording {
                let start = Date()
                let results = try PoseModel.predictVideo(
                    models: models, path: video, scorer: scorer, batchSize: batchSize, showProgress: showProgress)
                run.predictionSeconds += Date().timeIntervalSince(start)
                var files: [String] = []
                for (folder, result) in zip(memberFolders, results) {
                    let csv = PredictionOutputs(folder).keypoints(video: video)
                    try result.table.write(to: URL(fileURLWithPath: csv))
                    files.append(csv)
                }
                run.memberFiles += files
                tables.append(results.map(\.table))
                names.append(files)
                let first = results[0]
                log(
                    String(
                        format: "%@: %d frames × %d members in %.1f s (%.1f frames/s, one decode) -> %@/members/", video, first.frames,
                        models.count, first.seconds, first.framesPerSecond, output))
                if let truncation = first.truncation {
                    run.truncated.append("warning: " + cutOffLine(truncation, info: first.video, rows: first.frames))
                    log(run.truncated.last!)
                }
            }
            var options = SmoothingOptions()
            options.smoothing = smoothing
            let progress = ProgressLine(label: "choosing s:", total: 0, unit: "keypoints", enabled: showProgress, quietSeconds: 1)
            options.progress = { done, total in progress.update(done, of: total) }
            let start = Date()
            let smoothed: (result: SmoothingResult, tables: [PoseTable])
            do {
                smoothed = try ensemble.views.smooth(members: tables, names: names, options: options)
            } catch {
                progress.finish()
                throw error
            }
            progress.finish()
            run.smoothingSeconds += Date().timeIntervalSince(start)
            for (video, table) in zip(recording, smoothed.tables) {
                let csv = PredictionOutputs(output).keypoints(video: video)
                try table.write(to: URL(fileURLWithPath: csv))
                run.smoothedFiles.append(csv)
            }
            let title =
                recording.count == 1
                ? PredictionOutputs.stem(of: recording[0]) : recording.map { PredictionOutputs.stem(of: $0) }.joined(separator: " + ")
            let lines = ["\(title): EKS (\(ensemble.views.description))"] + SmoothingJob.summary(smoothed.result).map { "  " + $0 }
            for line in lines { log(line) }
            run.summary += lines
        }
        return run
    }

    /// The input videos as recordings: one video each, or for separate cameras one video per view (in the views'
    /// order) grouped by session (`<session>_<view>.mp4`, `ViewSession.group`). Folders give their videos. One line for anything else.
    static func ensembleRecordings(_ inputs: [String], views: EnsembleViews) throws -> [[String]] {
        var videos: [String] = []
        for input in inputs {
            var isFolder: ObjCBool = false
            guard FileManager.default.fileExists(atPath: input, isDirectory: &isFolder) else {
                throw PoseModelError("\(input): no such file or folder; pass video files or folders of videos")
            }
            guard isFolder.boolValue else {
                guard videoExtensions.contains((input as NSString).pathExtension.lowercased()) else {
                    throw PoseModelError("\(input): not a video (mp4, avi, mov, mkv, m4v); an ensemble predicts videos")
                }
                videos.append(input)
                continue
            }
            let names = ((try? FileManager.default.contentsOfDirectory(atPath: input)) ?? []).sorted()
            let found = names.filter { videoExtensions.contains(($0 as NSString).pathExtension.lowercased()) }
            guard !found.isEmpty else {
                throw PoseModelError("\(input) holds no videos (mp4, avi, mov, mkv, m4v); an ensemble predicts videos")
            }
            videos += found.map { (input as NSString).appendingPathComponent($0) }
        }
        var seen: [String: String] = [:]
        for video in videos {
            let stem = PredictionOutputs.stem(of: video)
            if let earlier = seen[stem] {
                throw PoseModelError("\(earlier) and \(video) would both be written as \(stem).csv; give videos with different names")
            }
            seen[stem] = video
        }
        guard case .multiCamera(let cameras) = views else { return videos.map { [$0] } }
        // Separate cameras: LP's `<session>_<view>` rule (`ViewSession`); each session needs every view.
        return try ViewSession.group(videos, views: cameras).map(\.videos)
    }
}
