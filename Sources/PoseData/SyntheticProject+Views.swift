// The synthetic animal seen by two cameras, as a multi-camera LP project (`data.view_names`): the `bot` camera sees
// the `top` camera's image upside down, so every keypoint of one view is an affine function of the other's (what
// multiview PCA expects of real cameras).
import Foundation
import KinemaFiles
import PoseFormats
import VideoIO

extension SyntheticProject {
    /// The two views' names.
    public static let viewNames = ["top", "bot"]

    /// Writes a two-camera project in `directory`: `top.csv` and `bot.csv` (row n of both the same instant) with
    /// `labeled-data/<view>/img0000.png…`, one session `videos/walk_top.mp4` + `videos/walk_bot.mp4` with its truth
    /// `truth_walk_<view>.csv`, and `config.yaml` (`view_names: [top, bot]`, `csv_file: [top.csv, bot.csv]`).
    /// The `bot` view is the `top` image flipped vertically: y' = size − y.
    public static func writeTwoViews(
        to directory: String, labeledFrames: Int = 40, videoFrames: Int = 40, size: Int = 64, seed: UInt64 = 7, modelSize: Int = 64
    ) throws -> SyntheticProject {
        let fm = FileManager.default
        let videoDir = (directory as NSString).appendingPathComponent("videos")
        try fm.createDirectory(atPath: videoDir, withIntermediateDirectories: true)
        let scene = SyntheticAnimalScene(width: size, height: size, seed: seed)
        let names = SyntheticAnimalScene.keypointNames
        func flipped(_ image: HostImage) -> HostImage {
            let row = image.width * image.channels
            var pixels = [UInt8](repeating: 0, count: image.pixels.count)
            for y in 0..<image.height {
                pixels.replaceSubrange(
                    (y * row)..<((y + 1) * row), with: image.pixels[((image.height - 1 - y) * row)..<((image.height - y) * row)])
            }
            return HostImage(width: image.width, height: image.height, channels: image.channels, pixels: pixels)
        }
        func flippedPoints(_ points: [Double]) -> [Double] {
            points.enumerated().map { $0.offset % 2 == 1 ? Double(size) - $0.element : $0.element }
        }

        let frames = scene.labeledFrames(count: labeledFrames)
        for view in viewNames {
            let folder = (directory as NSString).appendingPathComponent("labeled-data/\(view)")
            try fm.createDirectory(atPath: folder, withIntermediateDirectories: true)
            var keys: [String] = [], values: [Double] = []
            for (i, frame) in frames.enumerated() {
                let key = String(format: "labeled-data/\(view)/img%04d.png", i)
                let image = view == "top" ? frame.image : flipped(frame.image)
                try ImageIO.write(
                    Frame(width: size, height: size, channels: 3, pixels: image.pixels),
                    to: (directory as NSString).appendingPathComponent(key))
                keys.append(key)
                values += view == "top" ? frame.keypoints : flippedPoints(frame.keypoints)
            }
            let labels = try PoseTable(
                scorer: "synthetic", keypoints: names, coords: ["x", "y"], rowKeys: keys, indexStyle: .imagePath, values: values)
            try labels.write(to: URL(fileURLWithPath: (directory as NSString).appendingPathComponent("\(view).csv")))
        }

        let (videoImages, truth) = scene.video(frames: videoFrames)
        var videoPath = ""
        for view in viewNames {
            let path = (videoDir as NSString).appendingPathComponent("walk_\(view).mp4")
            if view == "top" { videoPath = path }
            let writer = try VideoWriter(path: path, width: size, height: size, framesPerSecond: 30)
            for (i, image) in videoImages.enumerated() {
                let shown = view == "top" ? image : flipped(image)
                try writer.write(Frame(width: size, height: size, channels: 3, index: i, time: Double(i) / 30, pixels: shown.pixels))
            }
            try writer.finish()
            let points = truth.map { view == "top" ? $0 : flippedPoints($0) }.flatMap { $0 }
            let table = try PoseTable.predictions(
                scorer: "ground_truth", keypoints: names, x: stride(from: 0, to: points.count, by: 2).map { points[$0] },
                y: stride(from: 1, to: points.count, by: 2).map { points[$0] },
                likelihood: [Double](repeating: 1, count: points.count / 2))
            // Not beside the videos as `walk_top_truth.csv`: that name would read as a third file of view top.
            try table.write(to: URL(fileURLWithPath: (directory as NSString).appendingPathComponent("truth_walk_\(view).csv")))
        }

        var config = PoseConfig()
        config.dataDir = directory
        config.videoDir = videoDir
        config.testVideosDirectory = videoDir
        config.keypointNames = names
        config.viewNames = viewNames
        config.csvFile = LabelFiles(viewNames.map { "\($0).csv" })
        config.skeleton = SyntheticAnimalScene.skeleton
        config.resizeHeight = modelSize
        config.resizeWidth = modelSize
        config.backbone = "unet"
        config.heatmapSigma = 2
        config.trainProb = 0.9
        config.valProb = 0.1
        config.modelName = "two-views"
        let configPath = (directory as NSString).appendingPathComponent("config.yaml")
        try AtomicFile.write(config.yamlText(), to: configPath)
        return SyntheticProject(
            configPath: configPath, videoPath: videoPath,
            truthPath: (directory as NSString).appendingPathComponent("truth_walk_top.csv"), labeledFrames: labeledFrames,
            videoFrames: videoFrames)
    }
}
