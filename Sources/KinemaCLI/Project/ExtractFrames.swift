import ArgumentParser
import Foundation
import KinemaConsole
import PoseData
import ProjectSetup

/// `kinema extract-frames PROJECT --method kmeans --count 20`: frames to label, as DeepLabCut's extract_frames.
struct ExtractFrames: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "extract-frames",
        abstract: "Choose frames of a project's videos to label and write them into labeled-data/ (DeepLabCut's extract_frames).",
        discussion: """
            Each chosen frame is written full size as labeled-data/<video name>/img<index>.png, where <index> is \
            the exact 0-based frame number, zero-padded as DeepLabCut does (img00042.png in a 12,000-frame video).

            --method kmeans (the default, as in DeepLabCut) decodes up to --sample frames spread evenly over the \
            video as small grey thumbnails (30 px wide), clusters them into --count groups with k-means and takes \
            one frame from each: frames that look different, e.g. varied postures. Only the thumbnails are held in \
            memory, so a two-hour video is as safe as a short one. --method uniform draws --count frames at random \
            over the whole video (DeepLabCut's uniform; random, not evenly spaced).

            Running it again adds new frames: frames already in labeled-data/ are never chosen again nor \
            rewritten, and the label files (CollectedData*) are not touched. --seed makes the choice repeatable.

            PROJECT is a project folder (with config.yaml: Kinema/LP or DeepLabCut) or its config file; its \
            videos are DeepLabCut's video_sets, or the LP config's video_dir; --videos picks others.

            Multi-camera projects (data.view_names with one csv_file per view): the videos are grouped into \
            sessions by the view name in their file names (<session>_<view>.mp4, as LP), the frames are chosen \
            on the first view's video, and the same frame indices are written from every view's video into \
            labeled-data/<session>_<view>/, so each chosen instant has one image per camera (what `kinema \
            label` and training pair up). The views of a session must have the same frame count; --count is per \
            session.

            Examples:
              kinema extract-frames reach --method kmeans --count 20
              kinema extract-frames reach --videos reach/videos/day2.mp4 \\
                --method uniform --count 10 --seed 3
            """
    )

    @Argument(help: "The project folder (or its config.yaml).")
    var project: String

    @Option(parsing: .upToNextOption, help: ArgumentHelp("Only these videos (default: the project's).", valueName: "video"))
    var videos: [String] = []

    @Option(help: "How frames are chosen: kmeans or uniform.")
    var method = "kmeans"

    @Option(help: "New frames per video.")
    var count = 20

    @Option(help: "Seed of the random choices (the same seed picks the same frames).")
    var seed: UInt64 = 0

    @Option(help: "kmeans: at most this many frames, spread over the video, are clustered.")
    var sample = ExtractionOptions().sampleLimit

    func validate() throws {
        guard FrameSelection(rawValue: method) != nil else {
            throw ValidationError("--method '\(method)': choose kmeans or uniform")
        }
        guard count >= 1 else { throw ValidationError("--count \(count): give at least 1 frame per video") }
        guard sample >= 1 else { throw ValidationError("--sample \(sample): give at least 1 frame") }
    }

    func run() async throws {
        let opened = try FrameExtraction.openProject(project)
        let chosenVideos = videos.isEmpty ? opened.videos : videos
        let missing = chosenVideos.filter { !FileManager.default.fileExists(atPath: $0) }
        guard missing.isEmpty else { throw ProjectSetupError.missingVideos(missing) }
        guard !chosenVideos.isEmpty else {
            throw ProjectSetupError.noVideos(project: project, reason: "its videos folder is empty; add videos or give --videos")
        }
        var options = ExtractionOptions()
        options.method = FrameSelection(rawValue: method) ?? .kmeans
        options.count = count
        options.seed = seed
        options.sampleLimit = sample
        let labeledData = (opened.root as NSString).appendingPathComponent("labeled-data")
        if !opened.views.isEmpty {
            try extractSessions(chosenVideos, project: opened, labeledData: labeledData, options: options)
            return
        }
        var total = 0
        for video in chosenVideos {
            let name = (video as NSString).lastPathComponent
            var line: (stage: FrameExtraction.Stage, progress: ProgressLine)? = nil
            let result = try FrameExtraction.extract(video: video, labeledData: labeledData, options: options) { stage, done, of in
                if line?.stage != stage {
                    line?.progress.finish()
                    let unit = stage == .sampling ? "thumbnails" : "frames written"
                    line = (stage, ProgressLine(label: name, total: of, unit: unit, quietSeconds: 1))
                }
                line?.progress.update(done)
            }
            line?.progress.finish()
            total += result.written.count
            let how =
                options.method == .kmeans
                ? "k-means over \(result.sampled) of \(result.frameCount) frames" : "uniform over \(result.frameCount) frames"
            let before = result.alreadyThere > 0 ? "; \(result.alreadyThere) already there, kept" : ""
            let short = result.written.count < count ? " (no more frames to choose from)" : ""
            print("\(name): \(result.written.count) new frames\(short) (\(how)) → \(result.folder)\(before)")
        }
        let labels = opened.layout == .deepLabCut ? "labeled-data/<video>/CollectedData_<scorer>.csv" : "CollectedData.csv"
        print(
            "wrote \(total) frames for \(chosenVideos.count) video\(chosenVideos.count == 1 ? "" : "s"); next: label them (\(labels)), then `kinema train \(opened.config)`"
        )
    }

    /// A multi-camera project: one choice per session (on its first view), the same frames from every view.
    func extractSessions(_ videos: [String], project: ProjectVideos, labeledData: String, options: ExtractionOptions) throws {
        let sessions = try ViewSession.group(videos, views: project.views)
        // Every session's views must be the same instants: checked for all before any frame is written.
        let frameCounts = try sessions.map { try $0.frameCount() }
        var instants = 0
        for (session, frameCount) in zip(sessions, frameCounts) {
            var line: (video: String, stage: FrameExtraction.Stage, progress: ProgressLine)? = nil
            let results = try FrameExtraction.extract(
                session: session, frameCount: frameCount, labeledData: labeledData, options: options
            ) {
                video, stage, done, of in
                if line?.stage != stage || line?.video != video {
                    line?.progress.finish()
                    let unit = stage == .sampling ? "thumbnails" : "frames written"
                    line = (
                        video, stage, ProgressLine(label: (video as NSString).lastPathComponent, total: of, unit: unit, quietSeconds: 1)
                    )
                }
                line?.progress.update(done)
            }
            line?.progress.finish()
            let chosen = results[0].written.count
            instants += chosen
            let how =
                options.method == .kmeans
                ? "k-means on \(project.views[0]) over \(results[0].sampled) of \(results[0].frameCount) frames"
                : "uniform over \(results[0].frameCount) frames"
            let short = chosen < count ? " (no more frames to choose from)" : ""
            let before = results[0].alreadyThere > 0 ? "; \(results[0].alreadyThere) already there, kept" : ""
            print("session \(session.name.isEmpty ? "(unnamed)" : session.name): \(chosen) new instants\(short) (\(how))\(before)")
            for (view, result) in zip(project.views, results) {
                let filled = result.written.count - chosen
                print(
                    "  \(view): \(result.written.count) frames → \(result.folder)\(filled > 0 ? " (\(filled) that only other views had)" : "")"
                )
            }
        }
        print(
            "wrote \(instants) instants × \(project.views.count) views for \(sessions.count) session\(sessions.count == 1 ? "" : "s"); next: `kinema label \(project.config)`, then `kinema train \(project.config)`"
        )
    }
}
