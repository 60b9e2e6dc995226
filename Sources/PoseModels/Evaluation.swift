// Pixel errors on the labelled frames: per keypoint and split, LP's prediction CSVs, DLC's tables.
import Foundation
import KinemaFiles
import PoseData
import PoseFormats

/// Predictions and errors of a model on every labelled frame.
public struct LabeledEvaluation: Sendable {
    public var keypointNames: [String]
    /// `[frame][keypoint]` in frame pixels.
    public var predictions: [[KeypointEstimate]]
    /// `[frame][keypoint]` Euclidean error in frame pixels (NaN where the label is missing).
    public var errors: [[Double]]
    /// `train`, `validation`, `test` per frame.
    public var sets: [String]

    /// Mean error over the frames of a split (all keypoints), NaN if none.
    public func meanError(set: String? = nil, keypoint: Int? = nil, minLikelihood: Double? = nil) -> Double {
        var sum = 0.0, n = 0
        for (f, row) in errors.enumerated() where set == nil || sets[f] == set {
            for (j, e) in row.enumerated() where (keypoint == nil || keypoint == j) && e.isFinite {
                if let cut = minLikelihood, predictions[f][j].likelihood < cut { continue }
                sum += e
                n += 1
            }
        }
        return n > 0 ? sum / Double(n) : .nan
    }

    /// The human-readable report: overall and per-keypoint errors for each split, and DLC's table.
    public func report(pcutoff: Double) -> String {
        let splits = ["train", "validation", "test"].filter { sets.contains($0) }
        var lines = ["pixel error (mean Euclidean distance, original image pixels)"]
        let header =
            "keypoint".padding(toLength: 18, withPad: " ", startingAt: 0)
            + splits.map { $0.padding(toLength: 12, withPad: " ", startingAt: 0) }.joined()
        lines.append(header)
        func cell(_ v: Double) -> String {
            (v.isFinite ? String(format: "%.2f", v) : "-").padding(toLength: 12, withPad: " ", startingAt: 0)
        }
        for (j, name) in keypointNames.enumerated() {
            lines.append(
                name.padding(toLength: 18, withPad: " ", startingAt: 0) + splits.map { cell(meanError(set: $0, keypoint: j)) }.joined())
        }
        lines.append("all".padding(toLength: 18, withPad: " ", startingAt: 0) + splits.map { cell(meanError(set: $0)) }.joined())
        lines.append("")
        lines.append("DeepLabCut table (rmse = mean distance; _pcutoff counts only likelihood ≥ \(pcutoff))")
        lines.append("train rmse, train rmse_pcutoff, test rmse, test rmse_pcutoff")
        let testSet = sets.contains("test") ? "test" : "validation"
        lines.append(
            [
                meanError(set: "train"), meanError(set: "train", minLikelihood: pcutoff),
                meanError(set: testSet), meanError(set: testSet, minLikelihood: pcutoff),
            ]
            .map { $0.isFinite ? String(format: "%.2f", $0) : "nan" }.joined(separator: ", ")
                + (testSet == "test" ? "" : "   (no test split: the test columns use validation)"))
        return lines.joined(separator: "\n")
    }

    /// One view's part of a multi-camera evaluation (whose keypoints are every view's, view after view).
    public func view(_ v: Int, of views: Int, keypointNames names: [String]) -> LabeledEvaluation {
        let k = names.count
        return LabeledEvaluation(
            keypointNames: names, predictions: predictions.map { Array($0[(v * k)..<((v + 1) * k)]) },
            errors: errors.map { Array($0[(v * k)..<((v + 1) * k)]) }, sets: sets)
    }

    /// The model folder's `predictions.csv` (LP layout with the `set` column) and `predictions_pixel_error.csv`.
    public func write(to directory: ModelDirectory, rowKeys: [String], scorer: String) throws {
        try write(predictions: directory.predictions, errors: directory.predictionErrors, rowKeys: rowKeys, scorer: scorer)
    }

    /// The same into the given files (a multi-camera model writes one pair per view).
    public func write(predictions predictionsPath: String, errors errorsPath: String, rowKeys: [String], scorer: String) throws {
        var values: [Double] = []
        for row in predictions { for e in row { values += [e.x, e.y, e.likelihood] } }
        let table = try PoseTable(
            scorer: scorer, keypoints: keypointNames, coords: ["x", "y", "likelihood"], rowKeys: rowKeys,
            indexStyle: .imagePath, values: values,
            extraColumns: [.init(header: ["set", "", ""], cells: sets)])
        try table.write(to: URL(fileURLWithPath: predictionsPath))
        var text = "," + keypointNames.joined(separator: ",") + ",set\n"
        for (f, row) in errors.enumerated() {
            text += csvField(rowKeys[f]) + "," + row.map { $0.isFinite ? String($0) : "" }.joined(separator: ",") + "," + sets[f] + "\n"
        }
        try AtomicFile.write(text, to: errorsPath)
    }
}

func csvField(_ s: String) -> String {
    s.contains(",") || s.contains("\"") ? "\"" + s.replacingOccurrences(of: "\"", with: "\"\"") + "\"" : s
}

extension PoseModel {
    /// Predicts every labelled frame (resize only) and measures the error against its labels. A multi-camera
    /// frame's row holds every view's keypoints, view after view, named `<keypoint>_<view>`.
    public func evaluate(dataset: LabeledDataset, split: DataSplit, batchSize: Int = 16) throws -> LabeledEvaluation {
        let resizer = self.resizer(), views = dataset.viewCount
        var predictions: [[KeypointEstimate]] = []
        var errors: [[Double]] = []
        for start in stride(from: 0, to: dataset.count, by: batchSize) {
            let frames = Array(dataset.frames[start..<Swift.min(dataset.count, start + batchSize)])
            var images: [Float] = []
            for frame in frames {
                for v in 0..<views {
                    let image = frame.image(view: v)
                    let transform = Affine2D(
                        a: Double(config.resizeWidth) / Double(image.width), b: 0, c: 0,
                        d: Double(config.resizeHeight) / Double(image.height), tx: 0, ty: 0)
                    // The context model reads frames t−2…t+2.
                    for input in framesPerSample > 1 ? frame.contextImages(view: v) : [image] {
                        var planes = resizer.warp(input, transform: transform)
                        resizer.normalize(&planes)
                        images += planes
                    }
                }
            }
            let estimates = try predict(images: images, count: frames.count * views)
            for (b, frame) in frames.enumerated() {
                let row = (0..<views).flatMap { v in
                    let image = frame.image(view: v)
                    return estimates[b * views + v].map { toFrame($0, width: image.width, height: image.height) }
                }
                predictions.append(row)
                errors.append(
                    row.enumerated().map { j, e in
                        let x = frame.keypoints[2 * j], y = frame.keypoints[2 * j + 1]
                        return x.isFinite && y.isFinite ? ((e.x - x) * (e.x - x) + (e.y - y) * (e.y - y)).squareRoot() : .nan
                    })
            }
        }
        let names = views == 1 ? keypointNames : dataset.viewNames.flatMap { view in keypointNames.map { "\($0)_\(view)" } }
        return LabeledEvaluation(
            keypointNames: names, predictions: predictions, errors: errors,
            sets: split.setNames(count: dataset.count))
    }
}
