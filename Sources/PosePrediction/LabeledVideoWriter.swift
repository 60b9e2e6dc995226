// Labelled videos: keypoints drawn on each frame (one colour per keypoint), skeleton lines, a legend of
// the colours, points below the likelihood threshold hidden (DLC §11.1 / LP `confidence_thresh_for_vid`).
import Foundation
import Plotting
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
///
/// Videos of any size: yuv420p H.264 needs even sides, so an odd width or height gets one black column
/// (right) or row (bottom) of padding; nothing is scaled, so keypoints keep their pixel coordinates.
public final class LabeledVideoWriter {
    let writer: VideoWriter
    let colors: [[UInt8]]
    let threshold: Double
    let edges: [(Int, Int)]
    let radius: Double
    var index = 0
    let fps: Double
    /// The frames' size and the video's (one more where a side is odd).
    let width: Int, height: Int, paddedWidth: Int, paddedHeight: Int
    /// The legend: pixels darkened behind it, then coloured pixels (offsets into the padded RGB frame).
    private var legendShade: [Int] = []
    private var legendInk: [(offset: Int, color: [UInt8])] = []
    /// Keypoints with finite coordinates, and those of them not drawn because of the threshold.
    public private(set) var pointCount = 0, hiddenCount = 0

    /// - Parameters:
    ///   - threshold: points with likelihood ≤ this are not drawn (LP: 0.9, DLC: pcutoff).
    ///   - skeleton: pairs of keypoint names joined by lines when both ends are shown.
    public init(
        path: String, width: Int, height: Int, framesPerSecond: Double, keypointNames: [String],
        colormap: String, threshold: Double, skeleton: [[String]]
    ) throws {
        try FileManager.default.createDirectory(atPath: (path as NSString).deletingLastPathComponent, withIntermediateDirectories: true)
        self.width = width
        self.height = height
        paddedWidth = width + width % 2
        paddedHeight = height + height % 2
        writer = try VideoWriter(
            path: path, width: paddedWidth, height: paddedHeight, framesPerSecond: framesPerSecond,
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
        layOutLegend(keypointNames)
    }

    /// One line per keypoint in the top-left corner, "● name" in its colour on a darkened box; further
    /// columns when the names do not fit in the height, and as many as fit in the width.
    private func layOutLegend(_ names: [String]) {
        let scale = Swift.max(1, Swift.min(paddedWidth, paddedHeight) / 360)
        let line = 9 * scale, margin = 3 * scale, dot = 7 * scale
        let perColumn = Swift.max(1, (paddedHeight - 2 * margin) / line)
        var shaded = Set<Int>()
        var x0 = margin
        for start in stride(from: 0, to: names.count, by: perColumn) {
            let column = Array(names[start..<Swift.min(names.count, start + perColumn)])
            let columnWidth = dot + 3 * scale + (column.map { Canvas.textWidth($0, scale: scale) }.max() ?? 0)
            guard x0 + columnWidth + margin <= paddedWidth else { break }
            for (row, name) in column.enumerated() {
                let y0 = margin + row * line, color = colors[start + row]
                for y in Swift.max(0, y0 - scale)..<Swift.min(paddedHeight, y0 + line - scale) {
                    for x in Swift.max(0, x0 - margin / 2)..<Swift.min(paddedWidth, x0 + columnWidth + margin / 2) {
                        shaded.insert(y * paddedWidth + x)
                    }
                }
                for y in 0..<dot { for x in 0..<dot { legendInk.append(((y0 + y) * paddedWidth + x0 + x, color)) } }
                for p in TextStamp.pixels(name, scale: scale) {
                    legendInk.append(((y0 + p.y) * paddedWidth + x0 + dot + 3 * scale + p.x, color))
                }
            }
            x0 += columnWidth + 2 * margin
        }
        legendShade = shaded.sorted()
        legendInk.removeAll { $0.offset < 0 || $0.offset >= paddedWidth * paddedHeight }
    }

    /// Draws one frame's keypoints (frame pixels) and appends it to the video.
    public func write(frame: HostImage, keypoints: [KeypointEstimate]) throws {
        guard frame.width == width, frame.height == height else {
            throw VideoError.invalidArgument(
                path: writer.path, reason: "frame \(index) is \(frame.width)x\(frame.height), the video is \(width)x\(height)")
        }
        var image = padded(frame.rgb())
        let finite = keypoints.map { $0.x.isFinite && $0.y.isFinite }
        let shown = keypoints.indices.map { keypoints[$0].likelihood > threshold && finite[$0] }
        pointCount += finite.filter { $0 }.count
        hiddenCount += zip(finite, shown).filter { $0 && !$1 }.count
        for offset in legendShade {
            for c in 0..<3 { image.pixels[offset * 3 + c] /= 3 }
        }
        for (offset, color) in legendInk {
            for c in 0..<3 { image.pixels[offset * 3 + c] = color[c] }
        }
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

    /// The frame (`width`×`height`) with a black column and/or row added where a side is odd.
    private func padded(_ image: HostImage) -> HostImage {
        guard image.width != paddedWidth || image.height != paddedHeight else { return image }
        var out = HostImage(width: paddedWidth, height: paddedHeight, channels: 3)
        let rowBytes = image.width * 3
        for y in 0..<image.height {
            out.pixels.replaceSubrange(
                (y * paddedWidth * 3)..<(y * paddedWidth * 3 + rowBytes),
                with: image.pixels[(y * image.width * 3)..<(y * image.width * 3 + rowBytes)])
        }
        return out
    }

    /// Completes the video and puts it in place.
    public func finish() throws { try writer.finish() }

    /// Stops without a video (the temporary file is removed; an earlier video at the path stays).
    public func abandon() { writer.abandon() }

    /// A one-line warning when at least half the keypoints were hidden by the threshold (a weak model's
    /// labelled video would otherwise look empty without a word); nil otherwise.
    public var thresholdWarning: String? {
        guard pointCount > 0, hiddenCount * 2 >= pointCount else { return nil }
        return String(
            format:
                "%@: %d of %d keypoints (%.0f%%) have a likelihood at or below %g and are not drawn; lower it with `kinema predict --threshold` (e.g. 0.5) or the config's confidence_thresh_for_vid",
            writer.path, hiddenCount, pointCount, 100 * Double(hiddenCount) / Double(pointCount), threshold)
    }
}
