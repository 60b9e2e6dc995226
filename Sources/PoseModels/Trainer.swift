// Supervised training with Lightning Pose's recipe: Adam, multi-step LR, backbone warm-up,
// validation every N epochs, best checkpoint, early stopping, exact resume.
import Foundation
import KinemaConsole
import KinemaFiles
import PoseData
import PoseFormats
import Torch
import TorchNN
import TorchOptim

// MARK: - Options and records

/// How to run `PoseTrainer`.
public struct TrainOptions: Sendable {
    /// Output directory (LP layout: config.yaml, checkpoints/, metrics.csv, predictions.csv, …).
    public var modelDir: String
    /// Continue from `modelDir/checkpoints/last.safetensors`.
    public var resume = false
    /// A torchvision ResNet state dict for the backbone.
    public var pretrained: String?
    /// Wall-clock budget of this run in minutes (overrides `training.max_minutes`); checked after every step.
    public var maxMinutes: Double?
    /// The thread count the user chose for this process (`KINEMA_THREADS`), nil when it is the default. A
    /// resumed run otherwise uses the count its model folder recorded, so that it continues exactly.
    public var userThreads: Int?
    public var showProgress = true
    /// The progress line's label (an ensemble names the member being trained).
    public var progressLabel = "train"
    /// Stop this run after this many epochs as if killed (tests of `--resume`).
    public var stopAfterEpochs: Int?
    /// Stop this run after this many optimisation steps as the time budget does (tests of mid-epoch resume).
    public var stopAfterSteps: Int?
    /// Folder of unlabelled videos for the unsupervised losses (default: the config's `data.video_dir`).
    public var unlabeledVideos: String?
    /// Frames per unlabelled clip; nil: the config's (`PoseConfig.daliClipLength`), else LP's defaults.
    public var unlabeledClipLength: Int?
    /// LP's default clip lengths (`dali.base.train.sequence_length`, and `dali.context.train.batch_size`: 16 frames,
    /// 12 centre frames, for the context model).
    public static let baseClipLength = 32
    public static let contextClipLength = 16

    /// The clip length a run of `config` uses: this option's, else the config's `dali` key, else LP's default.
    /// - Throws: one line naming the `dali` key when its value is not a clip length.
    public func clipLength(for config: PoseConfig) throws -> Int {
        if let unlabeledClipLength { return unlabeledClipLength }
        return try config.daliClipLength() ?? (config.isContextModel ? Self.contextClipLength : Self.baseClipLength)
    }
    public var log: @Sendable (String) -> Void = { logLine($0) }
    /// Data-parallel training with these ranks (`kinema train --distributed`): each takes its share of every
    /// batch; only rank 0 writes (Trainer+Distributed.swift).
    public var group: ProcessGroup?
    /// Where the model and every tensor of training live (`--device`): checkpoints are written from the host and
    /// load onto any device.
    public var device = Device.cpu
    /// The forward passes' autocast (`--precision`): fp32 or bf16 (fp16 would need loss scaling, which is not done).
    public var precision = Precision.fp32

    /// Why a run cannot train on `device` in `precision`, in the options' words; nil when it can.
    public static func deviceProblem(device: Device, precision: Precision, distributed: Bool) -> String? {
        if precision == .fp16 {
            return
                "--precision fp16: training in float16 needs loss scaling, which Kinema does not do; train with bf16 (CUDA) or fp32 (fp16 is for predict and evaluate)"
        }
        if distributed, device != .cpu { return "--distributed trains on the CPU (Gloo; NCCL is not wired): use --device cpu" }
        return nil
    }

    public init(modelDir: String) { self.modelDir = modelDir }
}

/// One row of `metrics.csv`.
public struct EpochRecord: Sendable, Equatable {
    public var epoch: Int
    public var step: Int
    public var trainLoss: Double
    public var valLoss: Double?
    public var valPixelError: Double?
    public var learningRate: Double
    public var elapsed: Double
    /// Each unsupervised loss before weighting, the epoch's mean (semi-supervised runs).
    public var unsupervised: [UnsupervisedLossKind: Double] = [:]
}

/// Training was interrupted; the model directory can be resumed.
public struct TrainingInterrupted: Error, CustomStringConvertible {
    public var modelDir: String
    public var epochsDone: Int
    /// Steps of the unfinished epoch saved in the checkpoint (0: it ended at an epoch boundary).
    public var stepsIntoEpoch = 0
    public var description: String {
        let at = stepsIntoEpoch > 0 ? "in epoch \(epochsDone + 1) after step \(stepsIntoEpoch)" : "after \(epochsDone) complete epoch(s)"
        return "training interrupted \(at); continue with: kinema train --resume \(modelDir)"
    }
}

// MARK: - Trainer

/// Trains a `PoseModel` on a validated `LabeledDataset`.
public final class PoseTrainer {
    public let project: PoseProject
    public let dataset: LabeledDataset
    public let model: PoseModel
    public let split: DataSplit
    public let options: TrainOptions
    let optimizer: Adam
    let schedule: MultiStepLR
    let trainLoader: BatchLoader
    let evaluationLoader: BatchLoader
    var pretrainedLoaded = false
    /// Set for a semi-supervised run (before `train()`): its losses and unlabelled clips.
    public var unlabeled: UnlabeledTraining?
    /// The epoch `startEpoch` started (the annealing factor of the unsupervised losses).
    var epochInProgress = 0
    /// Why the last `train()` stopped before its last epoch (time budget); nil when it finished.
    public private(set) var stoppedEarly: String?

    public var config: PoseConfig { model.config }
    /// The folder being written (`options.modelDir`).
    public var directory: ModelDirectory { ModelDirectory(options.modelDir) }
    public var lastCheckpoint: String { directory.lastCheckpoint }
    public var bestCheckpoint: String { directory.bestCheckpoint }

    public init(project: PoseProject, dataset: LabeledDataset, options: TrainOptions) throws {
        self.project = project
        self.dataset = dataset
        self.options = options
        let config = project.config
        if let problem = TrainOptions.deviceProblem(device: options.device, precision: options.precision, distributed: options.group != nil)
        {
            throw PoseModelError(problem)
        }
        try Runtime.manualSeed(UInt64(truncatingIfNeeded: config.rngSeedModelPt))
        model = try PoseModel(config: config, keypointNames: dataset.keypointNames, device: options.device)
        model.precision = options.precision
        split = DataSplit.of(config, count: dataset.count)
        let decoupled = config.optimizer.lowercased() == "adamw"
        optimizer = Adam(model.network.store, learningRate: config.learningRate, weightDecay: decoupled ? 0.01 : 0, decoupled: decoupled)
        schedule = MultiStepLR(base: config.learningRate, milestones: config.milestones, gamma: config.gamma)
        let permutation =
            config.imgaugHflip
            ? try flipPermutation(names: dataset.keypointNames, pairs: config.flipPairs)
            : Array(0..<dataset.keypointNames.count)
        let images = dataset.frames.map(\.image), keypoints = dataset.frames.map(\.keypoints)
        // The context model's samples are frames t−2…t+2 (the dataset loads them for a context config).
        let context =
            model.framesPerSample > 1
            ? dataset.frames.map { frame in (0..<dataset.viewCount).flatMap { frame.contextImages(view: $0) } } : nil
        let augmenter = Augmenter(
            settings: .preset(config.imgaug, horizontalFlip: config.imgaugHflip),
            outputWidth: config.resizeWidth, outputHeight: config.resizeHeight, flipPermutation: permutation)
        let grid = model.network.style == .regression ? nil : model.grid
        // Separate cameras: a sample is an instant, one image per view (LP's non-fusion multiview model: the same
        // network on every view, the views folded into the batch).
        let views = dataset.viewNames.isEmpty ? nil : dataset.frames.map { $0.views ?? [$0.image] }
        trainLoader = BatchLoader(
            images: images, keypoints: keypoints, indices: split.train, batchSize: config.trainBatchSize,
            augmenter: augmenter, grid: grid, seed: config.rngSeedDataPt, shuffle: true,
            uniformForMissing: config.uniformHeatmapsForNanKeypoints, context: context, views: views)
        evaluationLoader = BatchLoader(
            images: images, keypoints: keypoints, indices: Array(0..<dataset.count),
            batchSize: config.valBatchSize, augmenter: model.resizer(), grid: grid,
            seed: 0, shuffle: false, uniformForMissing: config.uniformHeatmapsForNanKeypoints, context: context, views: views)
        if let group = options.group { trainLoader.shard = (group.rank, group.size) }
        if let pretrained = options.pretrained {
            options.log(try model.loadPretrained(path: pretrained))
            pretrainedLoaded = true
        }
    }

    // MARK: - Learning rates

    /// LP's backbone warm-up (§6): 0 before `unfreezing_epoch`, then 0.1·lr ramping ×1.5 per epoch up
    /// to the head's rate. Only with pretrained weights: warming up a random backbone would only waste epochs.
    func backboneFactor(epoch: Int) -> Double {
        guard pretrainedLoaded, !model.network.backbonePrefix.isEmpty else { return 1 }
        let e0 = config.unfreezingEpoch
        if epoch < e0 { return 0 }
        return Swift.min(1, 0.1 * pow(1.5, Double(epoch - e0)))
    }

    // MARK: - Run

    /// Trains to the end (or the time budget, or early stopping) and returns every epoch's record.
    @discardableResult
    public func train() throws -> [EpochRecord] {
        let fm = FileManager.default
        if writes { try fm.createDirectory(atPath: directory.checkpoints, withIntermediateDirectories: true) }
        var records: [EpochRecord] = []
        var resumedEpoch = 0, stepCount = 0, bestLoss = Double.infinity, badChecks = 0, previousElapsed = 0.0
        // An epoch a checkpoint stopped in: its steps done and their sums (so its metrics row comes out the same).
        var skip = 0, partial = (loss: 0.0, errorSum: 0.0, errorCount: 0)
        var partialUnsupervised: [UnsupervisedLossKind: Double] = [:]
        stoppedEarly = nil
        if options.resume {
            guard fm.fileExists(atPath: lastCheckpoint) else {
                throw PoseModelError("nothing to resume in \(options.modelDir): no checkpoints/last.safetensors; start without --resume")
            }
            let meta = try Checkpoint.load(from: URL(fileURLWithPath: lastCheckpoint), store: model.network.store, optimizer: optimizer)
            resumedEpoch = Int(meta["epoch"] ?? "") ?? 0
            stepCount = Int(meta["step"] ?? "") ?? 0
            bestLoss = Double(meta["best_val_loss"] ?? "") ?? .infinity
            badChecks = Int(meta["bad_checks"] ?? "") ?? 0
            previousElapsed = Double(meta["elapsed"] ?? "") ?? 0
            pretrainedLoaded = meta["pretrained"] == "1"
            skip = Int(meta["epoch_steps"] ?? "") ?? 0
            partial = (
                Double(meta["epoch_loss_sum"] ?? "") ?? 0, Double(meta["epoch_error_sum"] ?? "") ?? 0,
                Int(meta["epoch_error_count"] ?? "") ?? 0
            )
            guard resumedEpoch < config.maxEpochs else {
                throw PoseModelError(
                    "\(options.modelDir) has already trained \(resumedEpoch) of max_epochs \(config.maxEpochs) epochs; to train longer, resume with --epochs N (N > \(resumedEpoch))"
                )
            }
            adoptRecordedThreads(meta["threads"].flatMap { Int($0) })
            try resumeUnlabeled(meta, partial: &partialUnsupervised)
            records = try readMetrics().filter { $0.epoch < resumedEpoch }
            // new max_epochs, paths
            if writes { try AtomicFile.write(config.forModelFolder(options.modelDir).yamlText(), to: directory.config) }
            let at = skip > 0 ? "in epoch \(resumedEpoch + 1) after step \(skip)" : "after epoch \(resumedEpoch)"
            options.log("resuming \(options.modelDir) \(at) (step \(stepCount)), to epoch \(config.maxEpochs)")
        } else {
            options.log("libtorch threads: \(Runtime.threads) (recorded in the checkpoints; --resume uses the same)")
            if writes { try AtomicFile.write(config.forModelFolder(options.modelDir).yamlText(), to: directory.config) }
            for file in project.labelFiles where writes {
                let copy = directory.file((file as NSString).lastPathComponent)
                if !fm.fileExists(atPath: copy) { try? fm.copyItem(atPath: file, toPath: copy) }
            }
            if !pretrainedLoaded {
                options.log(
                    "training \(config.backbone) from scratch (no --pretrained weights): \(model.network.store.parameterCount) parameters")
            }
        }
        var raised = ""
        if let minimum = config.minValFrames {
            var lp = config
            lp.minValFrames = nil
            let lpCount = DataSplit.of(lp, count: dataset.count).validation.count
            if lpCount < split.validation.count {
                raised = " (at least training.min_val_frames \(minimum), at most a quarter; LP's rule gives \(lpCount))"
            }
        }
        options.log(
            "split: \(split.train.count) train, \(split.validation.count) validation, \(split.test.count) test frames\(raised); input \(config.resizeWidth)×\(config.resizeHeight), heatmaps \(model.grid.width)×\(model.grid.height)"
        )
        try startRanks()
        if let unlabeled {
            for line in unlabeled.summary { options.log(line) }
            unlabeled.start()
        }
        defer { unlabeled?.stop() }
        let budget = (options.maxMinutes ?? config.maxMinutes).map { $0 * 60 }  // this run's, from its start
        let started = Date()
        let epochs = config.maxEpochs
        let progress = ProgressLine(
            label: options.progressLabel, total: epochs * trainLoader.batchesPerEpoch, unit: "it", enabled: options.showProgress)
        Interruption.reset()
        var epochsThisRun = 0, stepsThisRun = 0
        var epoch = resumedEpoch
        func checkpointMetadata(
            elapsed: Double, epochSteps: Int = 0, sums: (Double, Double, Int) = (0, 0, 0),
            unsupervisedSums: [UnsupervisedLossKind: Double] = [:]
        ) -> [String: String] {
            var meta = [
                "epoch": String(epoch), "step": String(stepCount), "best_val_loss": String(bestLoss),
                "bad_checks": String(badChecks), "elapsed": String(elapsed),
                "pretrained": pretrainedLoaded ? "1" : "0", "threads": String(Runtime.threads),
            ]
            if epochSteps > 0 {
                meta["epoch_steps"] = String(epochSteps)
                meta["epoch_loss_sum"] = String(sums.0)
                meta["epoch_error_sum"] = String(sums.1)
                meta["epoch_error_count"] = String(sums.2)
                for (kind, sum) in unsupervisedSums { meta["epoch_\(kind.rawValue)_sum"] = String(sum) }
            }
            if let unlabeled {
                meta["unlabeled_batches"] = String(unlabeled.batchesTaken)
                meta["unlabeled_videos"] = unlabeled.folder
                meta["unlabeled_clip_length"] = String(unlabeled.source.clipLength)
            }
            return meta
        }
        do {
            while epoch < epochs {
                let lr = schedule.learningRate(at: epoch)
                let factor = try startEpoch(epoch, from: skip)
                var lossSum = partial.loss, batches = skip, errorSum = partial.errorSum, errorCount = partial.errorCount
                var unsupervisedSums = partialUnsupervised
                (skip, partial, partialUnsupervised) = (0, (0, 0, 0), [:])
                while let batch = nextBatch() {
                    let result = try step(batch, backboneFactor: factor)
                    lossSum += result.loss
                    for (kind, value) in result.unsupervised { unsupervisedSums[kind, default: 0] += value }
                    batches += 1
                    stepCount += 1
                    stepsThisRun += 1
                    errorSum += result.errorSum; errorCount += result.errorCount
                    progress.update(
                        epoch * trainLoader.batchesPerEpoch + batches,
                        extra: String(
                            format: "epoch %d loss %.5f err %.1f px", epoch + 1, lossSum / Double(batches),
                            errorSum / Double(Swift.max(1, errorCount))))
                    // A step boundary is checkpoint-safe: Ctrl-C and the time budget stop here, mid-epoch, resumably.
                    // Ranks stop together: at the step where any of them is interrupted or out of time.
                    let (interrupted, spent) = try agreeOnStop(
                        Interruption.isRequested,
                        budget.map { Date().timeIntervalSince(started) >= $0 } ?? false
                            || options.stopAfterSteps.map { stepsThisRun >= $0 } ?? false)
                    guard interrupted || spent, batches < trainLoader.batchesPerEpoch else { continue }
                    cancelEpoch()
                    try saveCheckpoint(
                        lastCheckpoint, withOptimizer: true,
                        metadata: checkpointMetadata(
                            elapsed: previousElapsed + Date().timeIntervalSince(started), epochSteps: batches,
                            sums: (lossSum, errorSum, errorCount), unsupervisedSums: unsupervisedSums))
                    if interrupted {
                        progress.stop("interrupted")
                        throw TrainingInterrupted(modelDir: options.modelDir, epochsDone: epoch, stepsIntoEpoch: batches)
                    }
                    progress.stop("time budget spent")
                    stoppedEarly =
                        "time budget\(budget.map { " of " + formatDuration($0) } ?? "") spent in epoch \(epoch + 1) after step \(batches); continue with: kinema train --resume \(options.modelDir)"
                    options.log(stoppedEarly!)
                    break
                }
                if stoppedEarly != nil { break }
                var record = EpochRecord(
                    epoch: epoch, step: stepCount, trainLoss: lossSum / Double(Swift.max(1, batches)), valLoss: nil,
                    valPixelError: nil, learningRate: lr, elapsed: previousElapsed + Date().timeIntervalSince(started),
                    unsupervised: unsupervisedSums.mapValues { $0 / Double(Swift.max(1, batches)) })
                epoch += 1
                epochsThisRun += 1
                let (interruptedNow, outOfTime) = try agreeOnStop(
                    Interruption.isRequested,
                    budget.map { Date().timeIntervalSince(started) >= $0 } ?? false
                        || options.stopAfterSteps.map { stepsThisRun >= $0 } ?? false)
                let validate = epoch % config.checkValEveryNEpoch == 0 || epoch == epochs || outOfTime
                var stopEarly = false
                if validate, !split.validation.isEmpty {
                    let (valLoss, valError) = try evaluate(indices: split.validation)
                    record.valLoss = valLoss
                    record.valPixelError = valError
                    if valLoss < bestLoss {
                        bestLoss = valLoss
                        badChecks = 0
                        try saveCheckpoint(
                            bestCheckpoint, withOptimizer: false,
                            metadata: ["epoch": String(epoch), "val_loss": String(valLoss), "val_pixel_error": String(valError)])
                    } else {
                        badChecks += 1
                        stopEarly = config.earlyStopping && badChecks >= config.earlyStopPatience && epoch >= config.minEpochs
                    }
                }
                records.append(record)
                try writeMetrics(records)
                try saveCheckpoint(lastCheckpoint, withOptimizer: true, metadata: checkpointMetadata(elapsed: record.elapsed))
                if let v = record.valPixelError {
                    progress.update(
                        epoch * trainLoader.batchesPerEpoch,
                        extra: String(format: "epoch %d loss %.5f val err %.2f px", epoch, record.trainLoss, v), force: true)
                }
                if stopEarly {
                    options.log("\nearly stopping after epoch \(epoch): validation loss did not improve for \(badChecks) checks"); break
                }
                if outOfTime, epoch < epochs {
                    progress.stop("time budget spent")
                    stoppedEarly =
                        "time budget\(budget.map { " of " + formatDuration($0) } ?? "") spent after epoch \(epoch); continue with: kinema train --resume \(options.modelDir)"
                    options.log(stoppedEarly!)
                    break
                }
                if interruptedNow || options.stopAfterEpochs.map({ epochsThisRun >= $0 }) ?? false, epoch < epochs {
                    progress.stop(interruptedNow ? "interrupted" : "stopped")
                    throw TrainingInterrupted(modelDir: options.modelDir, epochsDone: epoch)
                }
            }
        } catch let error as TrainingInterrupted {
            throw error
        } catch {
            progress.stop("failed")  // so that the error that follows starts on its own line
            throw error
        }
        if stoppedEarly == nil { progress.finish() }
        if writes, !FileManager.default.fileExists(atPath: bestCheckpoint) {
            try saveCheckpoint(bestCheckpoint, withOptimizer: false, metadata: ["epoch": String(epoch)])
        }
        return records
    }

    // MARK: - One epoch, step by step (what `train()` runs; also usable to time or drive training)

    /// What one optimisation step gave.
    public struct StepResult: Sendable {
        /// The batch's loss (supervised plus the weighted unsupervised terms).
        public var loss: Double
        /// Each unsupervised loss before weighting (semi-supervised runs).
        public var unsupervised: [UnsupervisedLossKind: Double] = [:]
        /// Sum and count of the batch's training pixel errors (the progress line's `err`).
        public var errorSum: Double, errorCount: Int
    }

    /// Prepares epoch `epoch` (backbone freezing, learning rates) and starts its augmented batches.
    /// Returns the backbone's learning-rate factor to pass to `step`.
    @discardableResult
    public func startEpoch(_ epoch: Int, from first: Int = 0) throws -> Double {
        let factor = backboneFactor(epoch: epoch)
        try setFrozen(factor == 0)
        optimizer.learningRate = schedule.learningRate(at: epoch)
        epochInProgress = epoch
        trainLoader.start(epoch: epoch, from: first)
        return factor
    }

    /// A resumed run computes with the thread count its checkpoint recorded (libtorch's CPU results depend on
    /// it), unless the user set one (`KINEMA_THREADS`), which is then said in one line.
    func adoptRecordedThreads(_ recorded: Int?) {
        guard let recorded, recorded != Runtime.threads else { return }
        if let user = options.userThreads {
            options.log(
                "KINEMA_THREADS=\(user) overrides the \(recorded) thread(s) this run trained with: the weights will not match an uninterrupted run bit for bit"
            )
        } else {
            Runtime.threads = recorded
            options.log("libtorch threads: \(recorded), as recorded when this run started (set KINEMA_THREADS to override)")
        }
    }

    /// The next batch of the epoch `startEpoch` started; nil at its end.
    public func nextBatch() -> PoseBatch? { trainLoader.next() }

    /// Stops the epoch's batch loader early.
    public func cancelEpoch() { trainLoader.cancel() }

    /// One optimisation step: forward, loss (plus, semi-supervised, the unsupervised terms of the next unlabelled
    /// clip), backward, optimizer step, then the loss and the training error.
    public func step(_ batch: PoseBatch, backboneFactor factor: Double) throws -> StepResult {
        if let group = options.group { return try distributedStep(batch, backboneFactor: factor, group: group) }
        let output = try model.forward(model.imageTensor(batch.images, count: batch.count), training: true)
        var loss = try model.loss(output: output, batch: batch)
        var terms: [(UnsupervisedLossKind, Tensor)] = []
        if let unlabeled {
            let unsupervised = try unlabeledTerms(unlabeled, epoch: epochInProgress)
            loss = try loss + unsupervised.total
            terms = try unsupervised.losses.sorted { $0.key.rawValue < $1.key.rawValue }.map { ($0.key, try $0.value.detach()) }
        }
        try model.network.store.zeroGrad()
        try loss.backward()
        try stepOptimizer(backboneFactor: factor)
        // The step's scalars come to the host together (one copy from the device), then its read-out (one more).
        let values = try stack([loss.detach()] + terms.map(\.1), dim: 0).toArray(Double.self)
        let unsupervised = Dictionary(uniqueKeysWithValues: zip(terms.map(\.0), values.dropFirst()))
        let (e, n) = try trainingError(output: output, batch: batch)
        return StepResult(loss: values[0], unsupervised: unsupervised, errorSum: e, errorCount: n)
    }

    func saveCheckpoint(_ path: String, withOptimizer: Bool, metadata: [String: String]) throws {
        guard writes else { return }
        try Checkpoint.save(
            to: URL(fileURLWithPath: path), store: model.network.store,
            optimizer: withOptimizer ? optimizer : nil, metadata: metadata)
    }

    /// One optimizer step; during LP's ramp-up the backbone moves by `factor` of the head's update
    /// (Adam's update is linear in the learning rate, so this equals a separate parameter group).
    func stepOptimizer(backboneFactor factor: Double) throws {
        guard factor > 0, factor < 1 else { try optimizer.step(); return }
        let prefix = model.network.backbonePrefix
        let backbone = model.network.store.trainable.filter { $0.name.hasPrefix(prefix) }
        let before = try withNoGrad { try backbone.map { try $0.tensor.clone() } }
        try optimizer.step()
        try withNoGrad {
            for (old, (_, p)) in zip(before, backbone) {
                // p = old + factor · (p − old)
                try p.mulInPlace(factor)
                try p.addInPlace(old, alpha: 1 - factor)
            }
        }
    }

    func setFrozen(_ frozen: Bool) throws {
        let prefix = model.network.backbonePrefix
        guard !prefix.isEmpty, pretrainedLoaded else { return }
        if frozen { try model.network.store.freeze(prefix: prefix) } else { try model.network.store.unfreeze(prefix: prefix) }
    }

    // MARK: - Metrics

    /// Mean pixel error (frame pixels) of a training batch's read-out, for the progress line.
    func trainingError(output: Tensor, batch: PoseBatch) throws -> (Double, Int) {
        let estimates = try model.readout(output, count: batch.count)
        var sum = 0.0, n = 0
        for b in 0..<batch.count {  // each image: a sample's view
            let image = dataset.frames[batch.indices[b / batch.views]].image(view: b % batch.views)
            let sx = Double(image.width) / Double(config.resizeWidth), sy = Double(image.height) / Double(config.resizeHeight)
            for (j, e) in estimates[b].enumerated() {
                let x = Double(batch.keypoints[(b * model.keypointCount + j) * 2]),
                    y = Double(batch.keypoints[(b * model.keypointCount + j) * 2 + 1])
                guard x.isFinite, y.isFinite else { continue }
                sum += (((e.x - x) * sx) * ((e.x - x) * sx) + ((e.y - y) * sy) * ((e.y - y) * sy)).squareRoot()
                n += 1
            }
        }
        return (sum, n)
    }

    /// Loss and mean pixel error (frame pixels) on resize-only versions of the given frames.
    public func evaluate(indices: [Int]) throws -> (loss: Double, pixelError: Double) {
        var lossSum = 0.0, lossCount = 0, errorSum = 0.0, errorCount = 0
        for start in stride(from: 0, to: indices.count, by: evaluationLoader.batchSize) {
            let chunk = Array(indices[start..<Swift.min(indices.count, start + evaluationLoader.batchSize)])
            let batch = evaluationLoader.makeBatch(chunk, epoch: 0)
            try withNoGrad {
                let output = try model.forward(model.imageTensor(batch.images, count: batch.count), training: false)
                lossSum += try model.loss(output: output, batch: batch).item() * Double(chunk.count)
                lossCount += chunk.count
                let estimates = try model.readout(output, count: batch.count)
                for b in 0..<batch.count {  // each image: a sample's view
                    let frame = dataset.frames[chunk[b / batch.views]], view = b % batch.views
                    let image = frame.image(view: view), offset = 2 * view * model.keypointCount
                    for (j, e) in estimates[b].enumerated() {
                        let p = model.toFrame(e, width: image.width, height: image.height)
                        let x = frame.keypoints[offset + 2 * j], y = frame.keypoints[offset + 2 * j + 1]
                        guard x.isFinite, y.isFinite else { continue }
                        errorSum += ((p.x - x) * (p.x - x) + (p.y - y) * (p.y - y)).squareRoot()
                        errorCount += 1
                    }
                }
            }
        }
        return (lossSum / Double(Swift.max(1, lossCount)), errorSum / Double(Swift.max(1, errorCount)))
    }

    // MARK: - metrics.csv

    var metricsPath: String { directory.metrics }

    func writeMetrics(_ records: [EpochRecord]) throws {
        guard writes else { return }
        func f(_ v: Double?) -> String { v.map { String($0) } ?? "" }  // shortest round-trip text: resume re-reads it
        let kinds = unlabeled?.losses.settings.kinds ?? []
        var text = "epoch,step,train_loss,val_loss,val_pixel_error,learning_rate,elapsed_s"
        text += kinds.map { ",\($0.rawValue)_loss" }.joined() + "\n"
        for r in records {
            text +=
                "\(r.epoch),\(r.step),\(f(r.trainLoss)),\(f(r.valLoss)),\(f(r.valPixelError)),\(f(r.learningRate)),\(String(format: "%.1f", r.elapsed))"
            text += kinds.map { ",\(f(r.unsupervised[$0]))" }.joined() + "\n"
        }
        try AtomicFile.write(text, to: metricsPath)
    }

    func readMetrics() throws -> [EpochRecord] {
        guard let text = try? String(contentsOfFile: metricsPath, encoding: .utf8) else { return [] }
        let lines = text.split(separator: "\n")
        // Columns after the seventh are unsupervised losses, `<kind>_loss`.
        let extra = (lines.first?.split(separator: ",").dropFirst(7) ?? []).map {
            UnsupervisedLossKind(rawValue: String($0.dropLast("_loss".count)))
        }
        return lines.dropFirst().compactMap { line in
            let c = line.split(separator: ",", omittingEmptySubsequences: false).map(String.init)
            guard c.count >= 7, let epoch = Int(c[0]), let step = Int(c[1]), let loss = Double(c[2]) else { return nil }
            var record = EpochRecord(
                epoch: epoch, step: step, trainLoss: loss, valLoss: Double(c[3]), valPixelError: Double(c[4]),
                learningRate: Double(c[5]) ?? 0, elapsed: Double(c[6]) ?? 0)
            for (i, kind) in extra.enumerated() where 7 + i < c.count {
                if let kind, let value = Double(c[7 + i]) { record.unsupervised[kind] = value }
            }
            return record
        }
    }
}
