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
/// <path>/train_status.json               LP's progress file (TRAINING, EVALUATING, then COMPLETED/INTERRUPTED/FAILED)
/// <path>/predictions.csv                 evaluation on the labelled frames (+ predictions_pixel_error.csv)
/// <path>/video_preds/                    default output folder of `kinema predict`
/// ```
/// Only paths: nothing is read or created by building one. `checkNewRun`/`startNewRun` are the one guard
/// every command that creates a model folder goes through (an earlier run is never overwritten by accident).
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
    /// A multi-camera model's evaluation of one view (LP's names): `predictions_<view>.csv`.
    public func predictions(view: String) -> String { file("predictions_\(view).csv") }
    /// `predictions_<view>_pixel_error.csv`.
    public func predictionErrors(view: String) -> String { file("predictions_\(view)_pixel_error.csv") }
    /// Where `kinema predict` writes when no output folder is given.
    public var videoPredictions: String { file("video_preds") }

    /// Where `kinema train` puts a new model when no folder is given, under the project's refinement round
    /// (`iteration`): in a DeepLabCut project `<project>/dlc-models/iteration-<N>/<model_name>-<date>-<time>` (DeepLabCut's
    /// iteration folders); for a Kinema/LP config `models/iteration-<N>/<model_name>-<date>-<time>` once it has been
    /// merged (N ≥ 1), else `models/<model_name>-<date>-<time>` as before; `models/` is in the working directory.
    /// `kind` follows the model name (`-ensemble` for an ensemble folder).
    public static func defaultPath(
        for config: PoseConfig, deepLabCutProject: String?, kind: String = "", date: Date = Date()
    ) -> String {
        let formatter = DateFormatter()
        formatter.locale = Locale(identifier: "en_US_POSIX")
        formatter.dateFormat = "yyyy-MM-dd-HH-mm-ss"
        let name = "\(config.modelName)\(kind)-\(formatter.string(from: date))"
        let iteration = config.iteration ?? 0
        if let project = deepLabCutProject {
            return (project as NSString).appendingPathComponent("dlc-models/iteration-\(iteration)/\(name)")
        }
        return iteration > 0 ? "models/iteration-\(iteration)/\(name)" : "models/\(name)"
    }

    /// The checkpoint prediction loads: `best`, else `last` (a run stopped before its first
    /// validation); nil when neither exists yet.
    public func checkpointForPrediction() -> String? {
        [bestCheckpoint, lastCheckpoint].first { FileManager.default.fileExists(atPath: $0) }
    }

    /// Writes LP's `train_status.json`: `status` is `TRAINING` or `EVALUATING` while a run works, and one of the
    /// final states when it ends: `COMPLETED`, `INTERRUPTED` (Ctrl-C, time budget; resumable) or `FAILED`, the
    /// last two with the one-line `reason`. Best effort (a progress file must never stop training): when the
    /// atomic write fails (a full disk), the old file is overwritten in place so it never keeps a stale state.
    public func writeTrainStatus(_ status: String, completed: Int, total: Int, reason: String? = nil, date: Date = Date()) {
        var fields = "\"status\": \"\(status)\", "
        if let reason { fields += "\"reason\": \(Self.jsonString(reason)), " }
        let text =
            "{\(fields)\"progress\": {\"completed\": \(completed), \"total\": \(total), \"timestamp\": \(Int(date.timeIntervalSince1970))}}\n"
        do { try AtomicFile.write(text, to: trainStatus) } catch {
            guard let handle = FileHandle(forWritingAtPath: trainStatus) else { return }
            try? handle.truncate(atOffset: 0)
            try? handle.write(contentsOf: Data(text.utf8))
            try? handle.close()
        }
    }

    static func jsonString(_ text: String) -> String {
        var out = "\""
        for scalar in text.unicodeScalars {
            switch scalar {
            case "\"": out += "\\\""
            case "\\": out += "\\\\"
            case _ where scalar.value < 0x20: out += String(format: "\\u%04x", scalar.value)
            default: out.unicodeScalars.append(scalar)
            }
        }
        return out + "\""
    }

    // MARK: - The one guard for a new run

    /// Checks, without writing anything, that a new training run may write its files here: the path is a
    /// folder (or can be made one) on a writable disk, and holds no earlier run unless `overwrite` says to
    /// replace it. Every command that creates a model folder calls this before its first write.
    public func checkNewRun(overwrite: Bool) throws {
        let fm = FileManager.default
        var isFolder: ObjCBool = false
        if fm.fileExists(atPath: path, isDirectory: &isFolder) {
            guard isFolder.boolValue else {
                throw PoseDataError(file: path, message: "is a file, not a model folder", hint: "choose another --model-dir")
            }
            let present = ((try? fm.contentsOfDirectory(atPath: path)) ?? []).sorted()
            if !present.isEmpty, !overwrite {
                let known = present.filter { ["config.yaml", "checkpoints", "metrics.csv"].contains($0) }
                let shown = (known.isEmpty ? Array(present.prefix(3)) : known).joined(separator: ", ")
                throw PoseDataError(
                    file: path,
                    message: known.isEmpty ? "already holds files (\(shown))" : "already holds a model (\(shown))",
                    hint: "use --resume to continue or --overwrite to replace")
            }
        }
        try checkWritable()
    }

    /// Checks, without writing anything, that files can be written here: the nearest folder of `path` that
    /// exists must take new files (EACCES, and EROFS even for root on a read-only disk, show here).
    public func checkWritable() throws {
        let fm = FileManager.default
        var isFolder: ObjCBool = false
        var existing = PoseConfig.absolute(path)
        while !fm.fileExists(atPath: existing) { existing = (existing as NSString).deletingLastPathComponent }
        guard fm.fileExists(atPath: existing, isDirectory: &isFolder), isFolder.boolValue else {
            throw PoseDataError(file: path, message: "cannot be made: \(existing) is a file", hint: "choose another folder")
        }
        if access(existing, W_OK) != 0 {
            throw PoseDataError(
                file: path, message: "cannot be written: \(String(cString: strerror(errno))) (\(existing))",
                hint: "make it writable or choose another folder")
        }
    }

    /// Makes the folder ready for a new run (after `checkNewRun` passed and the run's own checks passed):
    /// creates it, and with `overwrite` removes what an earlier run left in it.
    public func startNewRun(overwrite: Bool) throws {
        let fm = FileManager.default
        do {
            if overwrite {
                for name in (try? fm.contentsOfDirectory(atPath: path)) ?? [] { try fm.removeItem(atPath: file(name)) }
            }
            try fm.createDirectory(atPath: checkpoints, withIntermediateDirectories: true)
        } catch {
            throw PoseDataError(
                file: path, message: "cannot prepare the model folder: \(Self.reason(error))", hint: "choose a writable --model-dir")
        }
    }

    /// The plain reason of a Foundation file error ("Permission denied"), without its domain and user info.
    static func reason(_ error: Error) -> String {
        let ns = error as NSError
        if let underlying = ns.userInfo[NSUnderlyingErrorKey] as? NSError, underlying.domain == NSPOSIXErrorDomain {
            return String(cString: strerror(Int32(underlying.code)))
        }
        return ns.domain == NSPOSIXErrorDomain ? String(cString: strerror(Int32(ns.code))) : ns.localizedDescription
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
