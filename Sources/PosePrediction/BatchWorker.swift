// One worker process of a batch prediction: the model loaded once, then videos (sessions of a multi-camera model)
// read from stdin one JSON line each, predicted through `PoseWorkflows.predict` (atomic CSVs) and answered with one
// JSON line on stdout.
import Foundation
import KinemaFiles
import PoseData
import PoseModels
import Torch

/// A line between a batch and its workers: `ready` once the model is loaded; then, per video (session: `video` is its
/// name), its files or the one-line reason it failed. An `error` without a `video` means the worker could not start.
public struct BatchWorkerMessage: Codable, Equatable, Sendable {
    public var ready: Bool?
    public var video: String?
    public var files: [String]?
    public var warnings: [String]?
    public var seconds: Double?
    public var error: String?

    public init(
        ready: Bool? = nil, video: String? = nil, files: [String]? = nil, warnings: [String]? = nil, seconds: Double? = nil,
        error: String? = nil
    ) {
        self.ready = ready
        self.video = video
        self.files = files
        self.warnings = warnings
        self.seconds = seconds
        self.error = error
    }

    /// The message as one line (no newline inside: JSON escapes them).
    public var line: String {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        return String(decoding: (try? encoder.encode(self)) ?? Data("{}".utf8), as: UTF8.self)
    }

    public static func parse(_ line: Substring) -> BatchWorkerMessage? {
        try? JSONDecoder().decode(BatchWorkerMessage.self, from: Data(line.utf8))
    }
}

/// The settings a worker predicts with (those of `kinema predict` that apply to one video).
public struct BatchPredictionSettings: Sendable {
    public var batchSize: Int
    public var labeledVideo: Bool
    public var threshold: Double?
    /// Where the worker's model computes, and its autocast.
    public var device: Device
    public var precision: Precision

    public init(
        batchSize: Int = 16, labeledVideo: Bool = false, threshold: Double? = nil, device: Device = .cpu,
        precision: Precision = .fp32
    ) {
        self.batchSize = batchSize
        self.labeledVideo = labeledVideo
        self.threshold = threshold
        self.device = device
        self.precision = precision
    }
}

public enum BatchWorker {
    /// Serves batch items (`line(_:)`, one a line) until stdin ends: a video, or a session whose views are predicted
    /// together as `kinema predict MODEL VIDEOS…` does (the views' frame counts checked, one CSV per view, then the
    /// session's metrics). The batch, not the worker, decides what an interruption means, so the worker ignores
    /// SIGINT (Ctrl-C reaches the whole process group) and is ended by the batch instead.
    public static func serve(model: String, output: String, settings: BatchPredictionSettings) {
        signal(SIGINT, SIG_IGN)
        signal(SIGPIPE, SIG_IGN)
        let trained: TrainedModel
        do {
            trained = try TrainedModel(directory: model, device: settings.device)
            trained.model.precision = settings.precision
        } catch {
            send(BatchWorkerMessage(error: oneLine(error)))
            return
        }
        send(BatchWorkerMessage(ready: true))
        while let text = readLine(strippingNewline: true) {
            if text.isEmpty { continue }
            guard let item = try? JSONDecoder().decode(BatchItem.self, from: Data(text.utf8)) else {
                send(BatchWorkerMessage(error: "the batch sent a line that is not a video or session: \(text)"))
                return
            }
            let video = item.name
            let start = Date()
            do {
                let run = try PoseWorkflows.predict(
                    trained, inputs: item.videos, outputDirectory: output, labeledVideo: settings.labeledVideo,
                    threshold: settings.threshold, batchSize: settings.batchSize, showProgress: false, log: { _ in })
                send(
                    BatchWorkerMessage(
                        video: video, files: run.files + run.extras,
                        warnings: run.truncated + run.failedOutputs, seconds: Date().timeIntervalSince(start)))
            } catch {
                send(BatchWorkerMessage(video: video, seconds: Date().timeIntervalSince(start), error: oneLine(error)))
            }
        }
    }

    /// `item` as the one line a worker reads (JSON escapes any newline in a path).
    static func line(_ item: BatchItem) -> String {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        return String(decoding: (try? encoder.encode(item)) ?? Data("{}".utf8), as: UTF8.self)
    }

    private static func send(_ message: BatchWorkerMessage) {
        try? FileHandle.standardOutput.write(contentsOf: Data((message.line + "\n").utf8))
    }

    static func oneLine(_ error: any Error) -> String {
        FileProblem.sentence(error).split(whereSeparator: \.isNewline).joined(separator: " ")
    }
}
