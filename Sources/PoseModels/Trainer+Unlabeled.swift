// Semi-supervised training (LP §4.1, §5.2–5.3): each step also predicts one unlabelled clip, maps its keypoints back
// to frame pixels and adds the weighted unsupervised losses to the supervised loss (one backward, one optimizer step).
import Foundation
import PoseData
import Torch

/// What a semi-supervised run adds to `PoseTrainer`: its losses and the videos its unlabelled clips come from.
public final class UnlabeledTraining {
    public let losses: UnsupervisedLosses
    public let source: UnlabeledClipSource
    /// The folder of videos (recorded in the checkpoints: a resumed run must read the same clips).
    public let folder: String
    /// Clip batches taken so far in the run: the stream's position, saved in checkpoints for `--resume`.
    public internal(set) var batchesTaken = 0
    /// Data-parallel ranks share the clip sequence: rank `index` of `count` takes clips index, index + count, ….
    public var shard = (index: 0, count: 1)
    var stream: UnlabeledClipStream?

    public init(losses: UnsupervisedLosses, source: UnlabeledClipSource, folder: String) {
        (self.losses, self.source, self.folder) = (losses, source, folder)
    }

    /// The losses `config` asks for, fitted on the labels of the `training` frames (validation and test frames stay
    /// out), and the clips of the videos in `folder` (default: `data.video_dir`).
    /// - Throws: one line naming the key, option or folder (no videos, a bad loss setting).
    public convenience init(
        config: PoseConfig, dataset: LabeledDataset, training: [Int], folder: String?, clipLength: Int
    ) throws {
        // Separate cameras: a sample's keypoints are every view's, side by side (V·K).
        let settings = try UnsupervisedLossSettings(config: config, keypointCount: dataset.keypointNames.count * dataset.viewCount)
        guard let folder = folder ?? config.videoDir else {
            throw PoseDataError(
                file: config.configFile.isEmpty ? "config" : config.configFile,
                message: "model.losses_to_use asks for \(config.lossesToUse.joined(separator: ", ")) but sets no data.video_dir",
                hint: "set data.video_dir or give --unlabeled-videos DIR (or train supervised with --losses none)")
        }
        let losses = try UnsupervisedLosses(settings: settings, trainingFrames: training.map { dataset.frames[$0].keypoints })
        let source = try UnlabeledClipSource(config: config, folder: folder, clipLength: clipLength, seed: config.rngSeedDataPt)
        self.init(losses: losses, source: source, folder: folder)
    }

    /// What the run uses, for the training log.
    public var summary: [String] {
        let frames = source.videos.reduce(0) { $0 + $1.frameCount }
        let videos =
            source.views == 1
            ? "\(source.videos.count) video(s)"
            : "\(source.videos.count / source.views) session(s) of \(source.views) views, the same frames of every view,"
        return ["unlabelled clips: \(source.clipLength) frames from \(videos) in \(folder) (\(frames) frames)"]
            + source.notes + losses.summary
    }

    /// Starts the decoding threads at the recorded position.
    func start() {
        stream?.stop()
        stream = UnlabeledClipStream(
            source: source, clipsPerBatch: source.views, workers: 2, firstClip: batchesTaken * shard.count + shard.index,
            clipStride: shard.count)
    }

    public func stop() {
        stream?.stop()
        stream = nil
    }
}

extension PoseTrainer {
    /// The unsupervised terms of the next unlabelled clip, predicted by the network in training mode.
    func unlabeledTerms(_ unlabeled: UnlabeledTraining, epoch: Int) throws -> UnsupervisedLosses.Terms {
        if unlabeled.stream == nil { unlabeled.start() }
        guard let batch = try unlabeled.stream!.next(), let clip = batch.clips.first else {
            throw PoseModelError("the unlabelled clip stream stopped")
        }
        unlabeled.batchesTaken += 1
        // Separate cameras: the batch holds the clip's views (same frames), run as one batch of V·T images.
        let views = batch.clips.count, maps = batch.clips.map(\.augmentedToFrame)
        let images = try model.upload(
            views == 1 ? clip.images : Array(batch.clips.map(\.images).joined()),
            shape: [views * clip.spec.length, 3, config.resizeHeight, config.resizeWidth])
        unlabeled.stream!.recycle(batch)
        // `output`: the heads' maps of each view's frames, view after view (T per view; T − 4 centre frames for the
        // context model).
        func terms(_ output: Tensor) throws -> UnsupervisedLosses.Terms {
            let (keypoints, confidences) = try model.softKeypoints(output, count: output.size(0))
            let t = output.size(0) / views
            guard views > 1 else {
                let inFrame = try PoseModel.apply(maps[0], to: keypoints)
                return try unlabeled.losses(keypoints: inFrame, confidences: confidences, epoch: epoch)
            }
            // Each view back to its frame pixels, then the instant's views side by side: (T, V·K, 2).
            let k = keypoints.size(1)
            var inFrame: [Tensor] = []
            for (v, map) in maps.enumerated() { inFrame.append(try PoseModel.apply(map, to: keypoints.slice(0, v * t, (v + 1) * t))) }
            let joined = try stack(inFrame, dim: 1).reshape([t, views * k, 2])
            let together = try confidences.map { try $0.reshape([views, t, k]).permute([1, 0, 2]).reshape([t, views * k]) }
            return try unlabeled.losses(keypoints: joined, confidences: together, epoch: epoch)
        }
        func terms() throws -> UnsupervisedLosses.Terms {
            guard let context = model.network as? ContextPoseNetwork else {
                return try terms(model.forward(images, training: true))
            }
            // The context model: both heads on the clip's T−4 centre frames, each head's terms, averaged. LP averages
            // over the concatenation [context; single] instead, whose temporal term has one difference across the
            // seam between the two (§4.3); per head, no keypoint is compared with the other head's.
            let heads = try model.autocast { try context.sequenceHeads(images, sequences: views, training: true) }
            let a = try terms(heads.single.to(.float32)), b = try terms(heads.context.to(.float32))
            var losses: [UnsupervisedLossKind: Tensor] = [:]
            for (kind, value) in a.losses { losses[kind] = try (value + b.losses[kind]!) * 0.5 }
            return UnsupervisedLosses.Terms(total: try (a.total + b.total) * 0.5, losses: losses, factor: a.factor)
        }
        // While annealing holds the factor at 0 the terms add no gradient: computed (logged, and batch norm's running
        // statistics see the clip, as in LP) without recording a graph, which saves the clip's backward pass.
        return try unlabeled.losses.settings.anneal.factor(epoch: epoch) == 0 ? withNoGrad { try terms() } : terms()
    }
}

extension PoseTrainer {
    /// Restores the clip stream's position and the unfinished epoch's loss sums from a checkpoint's metadata; a run
    /// resumed with other unlabelled videos (or none, or without a run's losses) would not continue the same sequence.
    func resumeUnlabeled(_ meta: [String: String], partial: inout [UnsupervisedLossKind: Double]) throws {
        let recorded = meta["unlabeled_videos"]
        guard let unlabeled else {
            if let recorded {
                throw PoseModelError(
                    "\(options.modelDir) trained with unsupervised losses on the videos in \(recorded); resume it with them (model.losses_to_use, --unlabeled-videos)"
                )
            }
            return
        }
        guard let recorded else {
            throw PoseModelError(
                "\(options.modelDir) trained supervised; resume it without unsupervised losses (--losses none) or start a new run")
        }
        guard recorded == unlabeled.folder, meta["unlabeled_clip_length"] == String(unlabeled.source.clipLength) else {
            throw PoseModelError(
                "\(options.modelDir) trained on \(meta["unlabeled_clip_length"] ?? "?")-frame clips of the videos in \(recorded); resume it with --unlabeled-videos \(recorded)"
            )
        }
        unlabeled.batchesTaken = Int(meta["unlabeled_batches"] ?? "") ?? 0
        for kind in UnsupervisedLossKind.allCases {
            if let sum = meta["epoch_\(kind.rawValue)_sum"].flatMap(Double.init) { partial[kind] = sum }
        }
    }
}
