// Labelled videos: keypoints drawn on each frame (one colour per keypoint), skeleton lines,
// points below the likelihood threshold hidden (DLC §11.1 / LP `confidence_thresh_for_vid`).
import Foundation
import PoseData
import PoseModels
import VideoIO

/// Colours sampled evenly from a matplotlib-like colormap (`rainbow`, `cool`, `jet`, `viridis`).
public func colormapColors(_ name: String, count: Int) -> [[UInt8]] {
    func rainbow(_ t: Double) -> [Double] {
        // matplotlib's rainbow: r = |2t − 0.5|, g = sin(πt), b = cos(πt/2)
        [Swift.min(1, abs(2 * t - 0.5)), sin(Double.pi * t), cos(Double.pi * t / 2)]
    }
    func cool(_ t: Double) -> [Double] { [t, 1 - t, 1] }
    func jet(_ t: Double) -> [Double] {
        func c(_ x: Double) -> Double { Swift.max(0, Swift.min(1, 1.5 - abs(4 * t - x))) }
        return [c(3), c(2), c(1)]
    }
    func viridis(_ t: Double) -> [Double] {
        [0.267 + t * (0.993 - 0.267), 0.005 + t * (0.906 - 0.005), 0.329 + sin(Double.pi * t) * 0.3 - t * 0.19]
    }
    let map: (Double) -> [Double]
    switch name.lowercased() {
    case "cool": map = cool
    case "jet": map = jet
    case "viridis": map = viridis
    default: map = rainbow
    }
    return (0..<count).map { i in
        let t = count > 1 ? Double(i) / Double(count - 1) : 0.5
        return map(t).map { UInt8(clamping: Int(($0 * 255).rounded())) }
    }
}

/// Writes an H.264 MP4 with keypoints drawn over the original frames.
public final class LabeledVideoWriter {
    let writer: VideoWriter
    let colors: [[UInt8]]
    let threshold: Double
    let edges: [(Int, Int)]
    let radius: Double
    var index = 0
    let fps: Double

    /// - Parameters:
    ///   - threshold: points with likelihood ≤ this are not drawn (LP: 0.9, DLC: pcutoff).
    ///   - skeleton: pairs of keypoint names joined by lines when both ends are shown.
    public init(
        path: String, width: Int, height: Int, framesPerSecond: Double, keypointNames: [String],
        colormap: String, threshold: Double, skeleton: [[String]]
    ) throws {
        try FileManager.default.createDirectory(atPath: (path as NSString).deletingLastPathComponent, withIntermediateDirectories: true)
        writer = try VideoWriter(
            path: path, width: width, height: height, framesPerSecond: framesPerSecond,
            options: VideoWriterOptions(crf: 20, preset: "veryfast"))
        colors = colormapColors(colormap, count: keypointNames.count)
        self.threshold = threshold
        edges = skeleton.compactMap { pair in
            guard pair.count == 2, let a = keypointNames.firstIndex(of: pair[0]), let b = keypointNames.firstIndex(of: pair[1]) else {
                return nil
            }
            return (a, b)
        }
        radius = Swift.max(2, Double(Swift.min(width, height)) / 120)
        fps = framesPerSecond
    }

    /// Draws one frame's keypoints (frame pixels) and appends it to the video.
    public func write(frame: HostImage, keypoints: [KeypointEstimate]) throws {
        var image = frame.rgb()
        let shown = keypoints.map { $0.likelihood > threshold && $0.x.isFinite && $0.y.isFinite }
        for (a, b) in edges where shown[a] && shown[b] {
            image.drawLine(
                x0: keypoints[a].x, y0: keypoints[a].y, x1: keypoints[b].x, y1: keypoints[b].y,
                thickness: Swift.max(1, radius / 2), color: [235, 235, 235])
        }
        for (j, k) in keypoints.enumerated() where shown[j] {
            image.fillDisk(x: k.x, y: k.y, radius: radius + 1, color: [0, 0, 0])
            image.fillDisk(x: k.x, y: k.y, radius: radius, color: colors[j])
        }
        try writer.write(image.frame(index: index, time: Double(index) / fps))
        index += 1
    }

    public func finish() throws { try writer.finish() }
}
