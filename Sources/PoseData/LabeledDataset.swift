// Labelled frames: read the label CSVs, load the images, and check everything before training.
import Foundation
import PoseFormats

// MARK: - Labelled frames

/// One labelled image with its keypoints in frame pixels (NaN = not visible / not labelled).
public struct LabeledFrame: Sendable {
    /// The row key as written in the CSV (`labeled-data/<video>/img0042.png`).
    public var key: String
    /// The image file on disk.
    public var imagePath: String
    /// `[x0, y0, x1, y1, …]` in frame pixels.
    public var keypoints: [Double]
    public var image: HostImage
    /// The context model's frames t−2…t+2 (the centre is `image`, at index 2), five per view, view after view; nil
    /// for other models.
    public var context: [HostImage]?
    /// A multi-camera project's images of this instant, one per view (`image` is the first); nil for one view.
    /// `keypoints` then holds every view's, view after view (keypoint j of view v at pair v·K + j).
    public var views: [HostImage]?

    /// The image of view `v` (the only image of a single-view frame).
    public func image(view v: Int) -> HostImage { views?[v] ?? image }

    /// The context model's frames t−2…t+2 of view `v` (its image five times when no context was loaded).
    public func contextImages(view v: Int) -> [HostImage] {
        let n = ContextFrames.offsets.count
        guard let context, context.count >= (v + 1) * n else { return Array(repeating: image(view: v), count: n) }
        return Array(context[(v * n)..<((v + 1) * n)])
    }

    public init(key: String, imagePath: String, keypoints: [Double], image: HostImage) {
        self.key = key
        self.imagePath = imagePath
        self.keypoints = keypoints
        self.image = image
    }
}

/// All labelled frames of a project, validated.
public struct LabeledDataset: Sendable {
    /// Per view (a multi-camera project's views share them).
    public var keypointNames: [String]
    public var frames: [LabeledFrame]
    /// A multi-camera project's views (`data.view_names`); empty for one view. Each frame is then one instant.
    public var viewNames: [String] = []
    /// Images per frame: the views of a multi-camera project, else 1.
    public var viewCount: Int { max(1, viewNames.count) }
    /// The scorer written in the label files.
    public var scorer: String
    /// For a context model: how many neighbour frames were found (`loadContextFrames`).
    public var contextNote: String?

    public init(keypointNames: [String], frames: [LabeledFrame], scorer: String = "kinema") {
        self.keypointNames = keypointNames
        self.frames = frames
        self.scorer = scorer
    }

    public var count: Int { frames.count }

    /// Reads the labels of a project and loads every image, reporting all problems at once.
    ///
    /// Checked: readable CSV; body-part count and names against the config; one image per row,
    /// present and decodable; x and y either both set or both empty; every label inside its image.
    /// `loadImage` decodes one image file (PNG/JPEG). A context model's config also loads each frame's neighbours.
    public static func load(
        project: PoseProject,
        loadImage: (String) throws -> HostImage
    ) throws -> LabeledDataset {
        if !project.config.cameraViews.isEmpty { return try loadViews(project: project, loadImage: loadImage) }
        var errors: [PoseDataError] = []
        var frames: [LabeledFrame] = []
        var names: [String]? = project.config.keypointNames
        var scorer = "kinema"
        for file in project.labelFiles {
            let table: PoseTable
            do {
                table = try PoseTable.read(from: URL(fileURLWithPath: file))
            } catch let error as PoseFormatError {
                errors.append(
                    PoseDataError(
                        file: file, row: error.row, message: error.message,
                        hint: "fix the label file (3 header rows: scorer, bodyparts, coords)"))
                continue
            }
            scorer = table.scorer
            guard let xi = table.coordIndex("x"), let yi = table.coordIndex("y") else {
                errors.append(
                    PoseDataError(
                        file: file, row: 3, message: "the coords row has no x/y columns (found \(table.coords))",
                        hint: "each body part needs an x and a y column"))
                continue
            }
            if let expected = names {
                if expected.count != table.keypoints.count {
                    errors.append(
                        PoseDataError(
                            file: file, row: 2,
                            message:
                                "\(table.keypoints.count) body parts in the CSV (\(table.keypoints.count * table.coords.count) coordinate columns) but the config lists \(expected.count)",
                            hint: "make `keypoint_names` (or DLC `bodyparts`) match the CSV columns"))
                    continue
                }
                if expected != table.keypoints {
                    let firstDiff = zip(expected, table.keypoints).first { $0 != $1 }
                    errors.append(
                        PoseDataError(
                            file: file, row: 2,
                            message:
                                "body part names differ from the config (CSV has `\(firstDiff?.1 ?? "")` where the config has `\(firstDiff?.0 ?? "")`)",
                            hint: "use the same names in the same order in the config and the CSV"))
                    continue
                }
            } else {
                names = table.keypoints
            }
            let k = table.keypoints.count
            for row in 0..<table.rowCount {
                let line = row + 4  // three header rows, 1-based lines
                let key = table.rowKeys[row]
                let path = project.config.resolve(key)
                var keypoints = [Double](repeating: .nan, count: 2 * k)
                for j in 0..<k {
                    let x = table.value(row: row, keypoint: j, coord: xi), y = table.value(row: row, keypoint: j, coord: yi)
                    if x.isNaN != y.isNaN {
                        errors.append(
                            PoseDataError(
                                file: file, row: line,
                                message: "keypoint `\(table.keypoints[j])` has only one of x and y",
                                hint: "set both, or leave both empty for 'not visible'"))
                        continue
                    }
                    keypoints[2 * j] = x
                    keypoints[2 * j + 1] = y
                }
                guard FileManager.default.fileExists(atPath: path) else {
                    errors.append(
                        PoseDataError(
                            file: file, row: line, message: "image `\(key)` does not exist (looked for \(path))",
                            hint: "restore the image or delete its row; paths are relative to data_dir"))
                    continue
                }
                let image: HostImage
                do { image = try loadImage(path) } catch {
                    errors.append(
                        PoseDataError(
                            file: file, row: line, message: "cannot decode image `\(key)` (\(error))",
                            hint: "re-export the image as PNG or JPEG"))
                    continue
                }
                for j in 0..<k {
                    let x = keypoints[2 * j], y = keypoints[2 * j + 1]
                    guard x.isFinite, y.isFinite else { continue }
                    if x < 0 || y < 0 || x > Double(image.width) || y > Double(image.height) {
                        errors.append(
                            PoseDataError(
                                file: file, row: line,
                                message:
                                    "keypoint `\(table.keypoints[j])` at (\(x), \(y)) is outside the \(image.width)×\(image.height) image `\(key)`",
                                hint: "move the label onto the image, or clear both cells if the point is not visible"))
                    }
                }
                frames.append(LabeledFrame(key: key, imagePath: path, keypoints: keypoints, image: image))
            }
        }
        if !errors.isEmpty {
            if errors.count == 1 { throw errors[0] }
            throw PoseDataErrors(errors)
        }
        guard let keypointNames = names, !frames.isEmpty else {
            throw PoseDataError(
                file: project.labelFiles.first ?? project.config.configFile,
                message: "no labelled frames found", hint: "label some frames first")
        }
        var dataset = LabeledDataset(keypointNames: keypointNames, frames: frames, scorer: scorer)
        if project.config.isContextModel {
            dataset.contextNote = dataset.loadContextFrames(loadImage: loadImage, videoFolder: project.config.videoDir)
        }
        return dataset
    }
}
