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

    /// The model folder's `predictions.csv` (LP layout with the `set` column) and `predictions_pixel_error.csv`.
    public func write(to directory: ModelDirectory, rowKeys: [String], scorer: String) throws {
        var values: [Double] = []
        for row in predictions { for e in row { values += [e.x, e.y, e.likelihood] } }
        let table = try PoseTable(
            scorer: scorer, keypoints: keypointNames, coords: ["x", "y", "likelihood"], rowKeys: rowKeys,
            indexStyle: .imagePath, values: values,
            extraColumns: [.init(header: ["set", "", ""], cells: sets)])
        try table.write(to: URL(fileURLWithPath: directory.predictions))
        var text = "," + keypointNames.joined(separator: ",") + ",set\n"
        for (f, row) in errors.enumerated() {
            text += csvField(rowKeys[f]) + "," + row.map { $0.isFinite ? String($0) : "" }.joined(separator: ",") + "," + sets[f] + "\n"
        }
        try AtomicFile.write(text, to: directory.predictionErrors)
    }
}

func csvField(_ s: String) -> String {
    s.contains(",") || s.contains("\"") ? "\"" + s.replacingOccurrences(of: "\"", with: "\"\"") + "\"" : s
}

extension PoseModel {
    /// Predicts every labelled frame (resize only) and measures the error against its labels.
    public func evaluate(dataset: LabeledDataset, split: DataSplit, batchSize: Int = 16) throws -> LabeledEvaluation {
        let resizer = self.resizer()
        var predictions: [[KeypointEstimate]] = []
        var errors: [[Double]] = []
        for start in stride(from: 0, to: dataset.count, by: batchSize) {
            let frames = Array(dataset.frames[start..<Swift.min(dataset.count, start + batchSize)])
            var images: [Float] = []
            for frame in frames {
                let transform = Affine2D(
                    a: Double(config.resizeWidth) / Double(frame.image.width), b: 0, c: 0,
                    d: Double(config.resizeHeight) / Double(frame.image.height), tx: 0, ty: 0)
                // The context model reads frames t−2…t+2.
                for image in framesPerSample > 1 ? frame.context ?? Array(repeating: frame.image, count: framesPerSample) : [frame.image] {
                    var planes = resizer.warp(image, transform: transform)
                    resizer.normalize(&planes)
                    images += planes
                }
            }
            let estimates = try predict(images: images, count: frames.count)
            for (b, frame) in frames.enumerated() {
                let row = estimates[b].map { toFrame($0, width: frame.image.width, height: frame.image.height) }
                predictions.append(row)
                errors.append(
                    row.enumerated().map { j, e in
                        let x = frame.keypoints[2 * j], y = frame.keypoints[2 * j + 1]
                        return x.isFinite && y.isFinite ? ((e.x - x) * (e.x - x) + (e.y - y) * (e.y - y)).squareRoot() : .nan
                    })
            }
        }
        return LabeledEvaluation(
            keypointNames: keypointNames, predictions: predictions, errors: errors,
            sets: split.setNames(count: dataset.count))
    }
}
