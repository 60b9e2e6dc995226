// Writes the synthetic sessions as an ordinary mirrored Lightning Pose project (`kinema bench semi`): labelled frames
// from the training sessions only, their videos as the unlabelled data, and held-out sessions with ground truth in
// every frame kept outside the project's video folder.
import Foundation
import KinemaFiles
import PoseFormats
import VideoIO

/// How many sessions, frames and labels `SyntheticSessionsProject.write` makes.
public struct SyntheticSessionsOptions: Sendable, Equatable {
    /// Side of each view (pixels); the frame is `2·viewSize × viewSize`.
    public var viewSize = 96
    public var labeledFrames = 30
    public var trainingSessions = 4
    public var trainingFrames = 400
    public var heldOutSessions = 3
    public var heldOutFrames = 300
    public var seed: UInt64 = 7
    public init() {}
}

/// What `SyntheticSessionsProject.write` produced.
public struct SyntheticSessionsProject: Sendable {
    public var configPath: String
    /// `heldout/<session>.mp4`, predicted by the benchmark and never seen in training.
    public var heldOutVideos: [String]
    /// `truth/<session>.csv`, one per held-out video (same order).
    public var truthPaths: [String]
    /// The training sessions' videos (`videos/`, the project's `video_dir`).
    public var trainingVideos: [String]
    /// One line per session (`SyntheticSession.summary`), training first.
    public var sessionSummaries: [String]

    /// Writes the project in `directory`:
    ///
    /// - `config.yaml`: `keypoint_names` `<keypoint>_main`, `<keypoint>_mirror`; `mirrored_column_matches` pairing
    ///   them; `columns_for_singleview_pca` the main view's body without the wagging tail_mid and tail_tip (the
    ///   mirror's keypoints are an affine copy, and 18 coordinates keep the pose PCA fit possible with the 18
    ///   training frames of 20 labelled ones); the U-Net at the frame's own size.
    /// - `CollectedData.csv` and `labeled-data/<session>/img%05d.png` (the frame index in its session's video), with
    ///   the neighbours t−2…t+2 beside each labelled frame as LP saves them for the context model. A keypoint behind
    ///   an occluder or off its view is not labelled (empty), as a person labelling the frame would leave it.
    /// - `videos/<session>.mp4`: every training session (the unlabelled video).
    /// - `heldout/<session>.mp4` and `truth/<session>.csv`: the held-out sessions with every frame's true keypoints
    ///   (LP's prediction layout; likelihood 1 when visible, 0 when behind an occluder; x, y empty when off the view).
    public static func write(
        to directory: String, options: SyntheticSessionsOptions = SyntheticSessionsOptions(), progress: (String) -> Void = { _ in }
    ) throws -> SyntheticSessionsProject {
        let fm = FileManager.default
        for folder in ["labeled-data", "videos", "heldout", "truth"] {
            try fm.createDirectory(atPath: directory + "/" + folder, withIntermediateDirectories: true)
        }
        let s = options.viewSize, names = SyntheticSession.keypointNames
        let training = (0..<options.trainingSessions).map {
            SyntheticSession(kind: .training, index: $0, viewSize: s, frames: options.trainingFrames, seed: options.seed)
        }
        let heldOut = (0..<options.heldOutSessions).map {
            SyntheticSession(kind: .heldOut, index: $0, viewSize: s, frames: options.heldOutFrames, seed: options.seed)
        }
        func frame(_ image: HostImage, _ index: Int) -> Frame {
            Frame(width: image.width, height: image.height, channels: 3, index: index, time: Double(index) / 30, pixels: image.pixels)
        }

        // Labelled frames, spread over the training sessions, with their neighbours.
        progress("rendering \(options.labeledFrames) labelled frames (and their neighbours) from \(training.count) training sessions")
        var keys: [String] = [], values: [Double] = []
        for (session, frames) in labeledFrameIndices(options) {
            let folder = "labeled-data/\(training[session].name)"
            try fm.createDirectory(atPath: directory + "/" + folder, withIntermediateDirectories: true)
            var written = Set<Int>()
            for t in frames {
                for n in (t - 2)...(t + 2) where written.insert(n).inserted {
                    try ImageIO.write(
                        frame(training[session].render(frame: n), n), to: directory + "/" + String(format: "\(folder)/img%05d.png", n))
                }
                keys.append(String(format: "\(folder)/img%05d.png", t))
                let truth = training[session].truth(frame: t)
                let hidden = training[session].hidden(frame: t), on = training[session].onView(frame: t)
                for j in names.indices {
                    let labelled = on[j] && !hidden[j]
                    values += labelled ? [truth[2 * j], truth[2 * j + 1]] : [.nan, .nan]
                }
            }
        }
        let labels = try PoseTable(
            scorer: "synthetic", keypoints: names, coords: ["x", "y"], rowKeys: keys, indexStyle: .imagePath, values: values)
        try labels.write(to: URL(fileURLWithPath: directory + "/CollectedData.csv"))

        var trainingVideos: [String] = [], heldOutVideos: [String] = [], truthPaths: [String] = []
        for session in training {
            progress("rendering \(session.name): \(options.trainingFrames) frames")
            let path = directory + "/videos/\(session.name).mp4"
            try writeVideo(session, frames: options.trainingFrames, to: path)
            trainingVideos.append(path)
        }
        for session in heldOut {
            progress("rendering \(session.name) (held out): \(options.heldOutFrames) frames")
            let path = directory + "/heldout/\(session.name).mp4"
            try writeVideo(session, frames: options.heldOutFrames, to: path)
            heldOutVideos.append(path)
            var x: [Double] = [], y: [Double] = [], likelihood: [Double] = []
            for f in 0..<options.heldOutFrames {
                let truth = session.truth(frame: f), hidden = session.hidden(frame: f), on = session.onView(frame: f)
                for j in names.indices {
                    x.append(on[j] ? truth[2 * j] : .nan)
                    y.append(on[j] ? truth[2 * j + 1] : .nan)
                    likelihood.append(hidden[j] ? 0 : 1)
                }
            }
            let table = try PoseTable.predictions(scorer: "ground_truth", keypoints: names, x: x, y: y, likelihood: likelihood)
            let truthPath = directory + "/truth/\(session.name).csv"
            try table.write(to: URL(fileURLWithPath: truthPath))
            truthPaths.append(truthPath)
        }

        var config = PoseConfig()
        config.dataDir = directory
        config.videoDir = directory + "/videos"
        config.testVideosDirectory = nil
        config.predictVidsAfterTraining = false
        config.keypointNames = names
        let k = SyntheticAnimalScene.keypointNames.count
        config.mirroredColumnMatches = [Array(0..<k), Array(k..<(2 * k))]
        let wagging = ["tail_mid", "tail_tip"]
        config.columnsForSingleviewPca = SyntheticAnimalScene.keypointNames.indices.filter {
            !wagging.contains(SyntheticAnimalScene.keypointNames[$0])
        }
        config.skeleton = SyntheticSession.viewNames.flatMap { view in
            SyntheticAnimalScene.skeleton.map { $0.map { "\($0)_\(view)" } }
        }
        config.resizeWidth = 2 * s
        config.resizeHeight = s
        config.backbone = "unet"
        config.heatmapSigma = 2
        config.trainProb = 0.9
        config.valProb = 0.1
        config.modelName = "semi-bench"
        config.colormap = "rainbow"
        let configPath = directory + "/config.yaml"
        try AtomicFile.write(config.yamlText(), to: configPath)
        return SyntheticSessionsProject(
            configPath: configPath, heldOutVideos: heldOutVideos, truthPaths: truthPaths, trainingVideos: trainingVideos,
            sessionSummaries: (training + heldOut).map(\.summary))
    }

    /// What `write(to:options:)` writes in `directory`, without writing (an earlier run's project).
    public static func written(in directory: String, options: SyntheticSessionsOptions) -> SyntheticSessionsProject {
        let training = (0..<options.trainingSessions).map {
            SyntheticSession(kind: .training, index: $0, viewSize: options.viewSize, frames: options.trainingFrames, seed: options.seed)
        }
        let heldOut = (0..<options.heldOutSessions).map {
            SyntheticSession(kind: .heldOut, index: $0, viewSize: options.viewSize, frames: options.heldOutFrames, seed: options.seed)
        }
        return SyntheticSessionsProject(
            configPath: directory + "/config.yaml", heldOutVideos: heldOut.map { directory + "/heldout/\($0.name).mp4" },
            truthPaths: heldOut.map { directory + "/truth/\($0.name).csv" },
            trainingVideos: training.map { directory + "/videos/\($0.name).mp4" },
            sessionSummaries: (training + heldOut).map(\.summary))
    }

    /// Which frames are labelled: per training session (round robin), indices spread evenly over the video with a
    /// seeded jitter, at least 2 frames from either end (so t−2…t+2 exist).
    static func labeledFrameIndices(_ options: SyntheticSessionsOptions) -> [(session: Int, frames: [Int])] {
        var rng = MersenneTwister(seed: options.seed &+ 17)
        let sessions = max(1, options.trainingSessions)
        return (0..<sessions).map { session in
            let count = options.labeledFrames / sessions + (session < options.labeledFrames % sessions ? 1 : 0)
            let usable = options.trainingFrames - 4
            let spacing = Double(usable) / Double(max(1, count))
            let frames = (0..<count).map { i in
                2 + min(usable - 1, Int(Double(i) * spacing + rng.uniform(0, max(1, spacing - 5))))
            }
            return (session, frames)
        }
    }

    static func writeVideo(_ session: SyntheticSession, frames: Int, to path: String) throws {
        let size = session.viewSize
        let writer = try VideoWriter(path: path, width: 2 * size, height: size, framesPerSecond: 30)
        for f in 0..<frames {
            let image = session.render(frame: f)
            try writer.write(Frame(width: 2 * size, height: size, channels: 3, index: f, time: Double(f) / 30, pixels: image.pixels))
        }
        try writer.finish()
    }
}
