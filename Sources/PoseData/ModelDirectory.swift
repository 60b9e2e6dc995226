// The layout of a model folder written by `kinema train` (Lightning Pose's names), in one place, so
// that the trainer, evaluation, prediction and the command line agree on every path.
import Foundation
import KinemaFiles

/// A model folder: where each file `kinema train`, `evaluate` and `predict` read or write lives.
///
/// ```
/// <path>/config.yaml                     the config training used (read back to rebuild the network)
/// <path>/checkpoints/best.safetensors    weights with the best validation loss
/// <path>/checkpoints/last.safetensors    weights, optimizer and RNG after the last epoch (resume)
/// <path>/metrics.csv                     one row per epoch
/// <path>/train_status.json               LP's progress file (TRAINING, EVALUATING, COMPLETED)
/// <path>/predictions.csv                 evaluation on the labelled frames (+ predictions_pixel_error.csv)
/// <path>/video_preds/                    default output folder of `kinema predict`
/// ```
/// Only paths: nothing is read or created by building one.
public struct ModelDirectory: Sendable, Equatable {
    /// The folder itself, as given.
    public let path: String

    public init(_ path: String) { self.path = path }

    /// `<path>/<name>`.
    public func file(_ name: String) -> String { path + "/" + name }

    public var config: String { file("config.yaml") }
    public var checkpoints: String { file("checkpoints") }
    /// Weights with the best validation loss (what evaluation and prediction load).
    public var bestCheckpoint: String { checkpoints + "/best.safetensors" }
    /// Everything needed to resume after the last finished epoch.
    public var lastCheckpoint: String { checkpoints + "/last.safetensors" }
    public var metrics: String { file("metrics.csv") }
    public var trainStatus: String { file("train_status.json") }
    /// Evaluation on the labelled frames (LP layout with the `set` column).
    public var predictions: String { file("predictions.csv") }
    public var predictionErrors: String { file("predictions_pixel_error.csv") }
    /// Where `kinema predict` writes when no output folder is given.
    public var videoPredictions: String { file("video_preds") }

    /// The checkpoint prediction loads: `best`, else `last` (a run stopped before its first
    /// validation); nil when neither exists yet.
    public func checkpointForPrediction() -> String? {
        [bestCheckpoint, lastCheckpoint].first { FileManager.default.fileExists(atPath: $0) }
    }

    /// Writes LP's `train_status.json`: `status` is `TRAINING`, `EVALUATING` or `COMPLETED`. Best effort
    /// (a progress file must never stop training).
    public func writeTrainStatus(_ status: String, completed: Int, total: Int, date: Date = Date()) {
        let text =
            "{\"status\": \"\(status)\", \"progress\": {\"completed\": \(completed), \"total\": \(total), \"timestamp\": \(Int(date.timeIntervalSince1970))}}\n"
        try? AtomicFile.write(text, to: trainStatus)
    }
}

/// Names of the files prediction writes into its output folder (default `ModelDirectory.videoPredictions`).
public struct PredictionOutputs: Sendable, Equatable {
    /// The output folder.
    public let path: String

    public init(_ path: String) { self.path = path }

    /// The stem of a video's file name: `videos/a.mp4` → `a`.
    public static func stem(of video: String) -> String {
        ((video as NSString).lastPathComponent as NSString).deletingPathExtension
    }

    /// `<stem>.csv`, or `<stem><scorer>.csv` for DeepLabCut projects (DLC's naming).
    public func keypoints(video: String, dlcScorer: String? = nil) -> String {
        path + "/" + Self.stem(of: video) + (dlcScorer ?? "") + ".csv"
    }

    /// LP's frame-to-frame displacement table, `<stem>_temporal_norm.csv`.
    public func temporalNorm(video: String) -> String { path + "/" + Self.stem(of: video) + "_temporal_norm.csv" }

    public var labeledVideos: String { path + "/labeled_videos" }
    /// `labeled_videos/<stem>_labeled.mp4`.
    public func labeledVideo(video: String) -> String { labeledVideos + "/" + Self.stem(of: video) + "_labeled.mp4" }

    /// An image folder's predictions: `<folder name>/predictions.csv`.
    public func imageFolder(_ folder: String) -> String { path + "/" + (folder as NSString).lastPathComponent }
    public func imagePredictions(folder: String) -> String { imageFolder(folder) + "/predictions.csv" }
}
