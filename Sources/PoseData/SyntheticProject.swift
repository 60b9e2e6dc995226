// Writes the synthetic animal as a complete Lightning-Pose-style project on disk (`kinema demo`).
import Foundation
import KinemaFiles
import PoseFormats
import VideoIO

/// What `SyntheticProject.write` produced.
public struct SyntheticProject: Sendable {
    /// The project's `config.yaml`.
    public var configPath: String
    /// The unlabelled video.
    public var videoPath: String
    /// True keypoints of every video frame (`x, y, likelihood = 1`), CSV in the LP layout.
    public var truthPath: String
    public var labeledFrames: Int
    public var videoFrames: Int

    /// Generates images, labels, a video with its ground truth and a config in `directory`.
    ///
    /// Layout: `config.yaml`, `CollectedData.csv`, `labeled-data/img0000.png…`,
    /// `videos/walk.mp4`, `videos/walk_truth.csv`.
    public static func write(
        to directory: String, labeledFrames: Int = 300, videoFrames: Int = 300,
        size: Int = 256, seed: UInt64 = 7, modelSize: Int = 128,
        progress: (String) -> Void = { _ in }
    ) throws -> SyntheticProject {
        let fm = FileManager.default
        let labeledDir = (directory as NSString).appendingPathComponent("labeled-data")
        let videoDir = (directory as NSString).appendingPathComponent("videos")
        try fm.createDirectory(atPath: labeledDir, withIntermediateDirectories: true)
        try fm.createDirectory(atPath: videoDir, withIntermediateDirectories: true)
        let scene = SyntheticAnimalScene(width: size, height: size, seed: seed)
        let names = SyntheticAnimalScene.keypointNames

        // Labelled frames and their CSV.
        progress("rendering \(labeledFrames) labelled frames")
        let frames = scene.labeledFrames(count: labeledFrames)
        var keys: [String] = []
        var values: [Double] = []
        for (i, frame) in frames.enumerated() {
            let key = String(format: "labeled-data/img%04d.png", i)
            try ImageIO.write(
                Frame(width: size, height: size, channels: 3, pixels: frame.image.pixels),
                to: (directory as NSString).appendingPathComponent(key))
            keys.append(key)
            values += frame.keypoints
        }
        let labels = try PoseTable(
            scorer: "synthetic", keypoints: names, coords: ["x", "y"], rowKeys: keys,
            indexStyle: .imagePath, values: values)
        try labels.write(to: URL(fileURLWithPath: (directory as NSString).appendingPathComponent("CollectedData.csv")))

        // The unlabelled video and its ground truth.
        progress("rendering a \(videoFrames)-frame video")
        let (videoImages, truth) = scene.video(frames: videoFrames)
        let videoPath = (videoDir as NSString).appendingPathComponent("walk.mp4")
        let writer = try VideoWriter(path: videoPath, width: size, height: size, framesPerSecond: 30)
        for (i, image) in videoImages.enumerated() {
            try writer.write(Frame(width: size, height: size, channels: 3, index: i, time: Double(i) / 30, pixels: image.pixels))
        }
        try writer.finish()
        let flat = truth.flatMap { $0 }
        let k = names.count
        let truthTable = try PoseTable.predictions(
            scorer: "ground_truth", keypoints: names,
            x: (0..<(flat.count / 2)).map { flat[2 * $0] }, y: (0..<(flat.count / 2)).map { flat[2 * $0 + 1] },
            likelihood: [Double](repeating: 1, count: videoFrames * k))
        let truthPath = (videoDir as NSString).appendingPathComponent("walk_truth.csv")
        try truthTable.write(to: URL(fileURLWithPath: truthPath))

        // A config with Kinema's from-scratch defaults.
        var config = PoseConfig()
        config.dataDir = directory
        config.videoDir = videoDir
        config.testVideosDirectory = videoDir
        config.keypointNames = names
        config.skeleton = SyntheticAnimalScene.skeleton
        config.resizeHeight = modelSize
        config.resizeWidth = modelSize
        config.backbone = "unet"
        config.heatmapSigma = 2
        config.imgaugHflip = true
        config.trainProb = 0.9
        config.valProb = 0.1
        config.modelName = "demo"
        config.colormap = "rainbow"
        let configPath = (directory as NSString).appendingPathComponent("config.yaml")
        try AtomicFile.write(config.yamlText(), to: configPath)
        return SyntheticProject(
            configPath: configPath, videoPath: videoPath, truthPath: truthPath,
            labeledFrames: labeledFrames, videoFrames: videoFrames)
    }
}
