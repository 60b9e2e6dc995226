// Training DwiseNeuro: uniform mouse sampling, CutMix, Poisson loss, AdamW with warm-up + cosine,
// EMA, oracle-tier validation with the competition metric, checkpoints with exact resume.
import Foundation
import NeuralData
import Torch
import TorchNN
import TorchOptim

/// Result of one optimiser step.
public struct StepResult: Sendable {
    public var loss: Double
    /// Mean over mice in the batch of the per-neuron correlation over (sample, frame) rows.
    public var correlation: Double
    /// Part of `loss` from teacher targets (0 without distillation).
    public var distilledLoss: Double = 0
}

/// Validation scores: oracle-tier single-trial correlation per mouse and their mean.
public struct ValidationResult: Sendable {
    public var perMouse: [Double]
    public var mean: Double { perMouse.isEmpty ? 0 : perMouse.reduce(0, +) / Double(perMouse.count) }
}

/// Trains one DwiseNeuro model on a Sensorium data set.
public final class NeuralTrainer {
    public let config: TrainingConfig
    public let dataset: SensoriumDataset
    public let model: DwiseNeuro
    public let optimizer: Adam
    public let ema: ExponentialMovingAverage?
    /// Frozen teachers of the distillation stage (nil in stage 1).
    public let teachers: TeacherEnsemble?
    let schedule: CosineWithWarmup
    let builder: WindowBuilder
    /// Training trial ids per mouse (after the fold split; trials too short for a window removed).
    public private(set) var trainTrials: [[Int]] = []
    /// Steps done so far.
    public private(set) var step = 0
    private var cache: [String: SensoriumTrial] = [:]
    private var cacheOrder: [String] = []

    /// Builds the model for the data set's mice and selects the training trials.
    public init(config: TrainingConfig, dataset: SensoriumDataset, device: Device = .cpu) throws {
        try config.validate()
        self.config = config
        self.dataset = dataset
        let neurons = dataset.mice.map(\.neuronCount)
        let canvas = dataset.mice.map { max($0.height, $0.width) }.max() ?? 64
        var modelConfig = try config.model ?? DwiseNeuroConfig.preset(config.preset, neurons: neurons, canvas: canvas)
        modelConfig.readoutNeurons = neurons
        try Runtime.manualSeed(config.seed)
        model = try DwiseNeuro(config: modelConfig, device: device)
        optimizer = AdamW(model.store, learningRate: config.learningRate, weightDecay: config.weightDecay)
        ema = config.emaDecay > 0 ? try ExponentialMovingAverage(model.store, decay: config.emaDecay) : nil
        let warmup = Int((Double(config.steps) * config.warmupFraction).rounded())
        schedule = CosineWithWarmup(
            base: config.learningRate, warmup: warmup, total: config.steps,
            minimum: config.learningRate * config.minLearningRateFactor)
        builder = WindowBuilder(config: modelConfig)
        teachers =
            config.teachers.isEmpty
            ? nil
            : try TeacherEnsemble(folders: config.teachers.map { URL(fileURLWithPath: $0) }, student: modelConfig, device: device)
        for mouse in dataset.mice {
            var ids: [Int] = []
            for id in mouse.trialIDs(inTiers: Set(config.trainTiers)) {
                let trial = try loadTrial(mouse, id)
                guard trial.isLabelled, trial.length >= builder.span else { continue }
                try builder.check(trial, mouse: mouse.name)
                if let fold = config.validationFold, videoFold(trial, folds: config.folds) == fold { continue }
                ids.append(id)
            }
            guard !ids.isEmpty else {
                throw ModelError("\(mouse.name): no labelled trials of at least \(builder.span) frames in tiers \(config.trainTiers)")
            }
            trainTrials.append(ids)
        }
        if config.calibrateReadouts { try calibrateReadouts() }
    }

    /// Sets each readout's bias to Softplus_β⁻¹ of its neurons' mean training response and shrinks its
    /// weights ×0.1, so the first steps fit patterns rather than the mean rate.
    private func calibrateReadouts() throws {
        let beta = model.config.softplusBeta
        for (m, mouse) in dataset.mice.enumerated() {
            var sum = [Double](repeating: 0, count: mouse.neuronCount)
            var frames = 0.0
            for id in trainTrials[m] {
                let trial = try loadTrial(mouse, id)
                for n in 0..<mouse.neuronCount {
                    for t in 0..<trial.length { sum[n] += Double(max(0, trial.responses[n * trial.length + t])) }
                }
                frames += Double(trial.length)
            }
            let padded = model.readouts[m].conv.weight.size(0)
            var bias = [Float](repeating: 0, count: padded)
            for n in 0..<mouse.neuronCount {
                let mean = max(sum[n] / max(frames, 1), 1e-3)
                // Inverse of (1/β)·log(1 + exp(β x)); identity above PyTorch's threshold.
                bias[n] = Float(beta * mean > 20 ? mean : Foundation.log(Foundation.expm1(beta * mean)) / beta)
            }
            let conv = model.readouts[m].conv
            try withNoGrad {
                try conv.weight.mulInPlace(0.1)
                if let b = conv.bias { try b.copyFrom(Tensor(bias, shape: [padded]).to(b.device)) }
            }
        }
        try ema?.loadShadow(Dictionary(uniqueKeysWithValues: model.store.stateDict().map { ($0.key, $0.value) }))
    }

    // MARK: Data

    private func loadTrial(_ mouse: SensoriumMouse, _ id: Int) throws -> SensoriumTrial {
        let key = "\(mouse.name)/\(id)"
        if let trial = cache[key] { return trial }
        let trial = try mouse.loadTrial(id)
        cache[key] = trial
        cacheOrder.append(key)
        if cacheOrder.count > max(config.cacheTrials, 1) { cache[cacheOrder.removeFirst()] = nil }
        return trial
    }

    /// A random window of a random training trial of `mouse`: input floats and `(N, frames)` target.
    private func drawSample(mouse: Int, rng: inout SeededRandom) throws -> (input: [Float], target: [Float]) {
        let ids = trainTrials[mouse]
        let trial = try loadTrial(dataset.mice[mouse], ids[rng.int(below: ids.count)])
        let end = builder.span - 1 + rng.int(below: trial.length - builder.span + 1)
        var input = [Float](repeating: 0, count: builder.inputCount)
        builder.fillInput(trial, end: end, into: &input, offset: 0)
        return (input, builder.target(trial, end: end))
    }

    // MARK: One step

    /// The samples of one optimiser step: inputs `(B, 5, frames, canvas, canvas)` (after CutMix), each
    /// sample's mouse and its `(N_mouse, frames)` target.
    public struct Batch {
        public var inputs: [Float]
        public var mice: [Int]
        public var targets: [[Float]]
    }

    /// Loss of one batch and how it splits.
    public struct BatchLoss {
        public var loss: Tensor
        /// Share of the loss from recorded responses and from teacher targets (they add up to the loss).
        public var labelled: Double, distilled: Double
        /// Mean over mice in the batch of the per-neuron correlation over (sample, frame) rows (labelled pairs).
        public var correlation: Double
    }

    /// Draws the batch of step `step` (seeded by the step, so resumed runs repeat exactly).
    public func makeBatch(step: Int) throws -> Batch {
        var rng = SeededRandom(seed: config.seed &+ 0x9E37_79B9_7F4A_7C15 &* UInt64(step + 1))
        let b = config.batchSize
        var batch = Batch(inputs: [Float](repeating: 0, count: b * builder.inputCount), mice: [], targets: [])
        for i in 0..<b {
            let mouse = rng.int(below: dataset.mice.count)
            var (input, target) = try drawSample(mouse: mouse, rng: &rng)
            if rng.uniform() < config.cutmixProbability {
                let other = try drawSample(mouse: mouse, rng: &rng)
                builder.cutMix(input: &input, offset: 0, target: &target, other: other.input, otherTarget: other.target, rng: &rng)
            }
            batch.inputs.replaceSubrange((i * builder.inputCount)..<((i + 1) * builder.inputCount), with: input)
            batch.mice.append(mouse)
            batch.targets.append(target)
        }
        return batch
    }

    /// Poisson loss of a batch (reference 3.4). Stage 1: each sample's own readout only. With teachers
    /// (3.8): every readout runs on every sample; the pairs of other mice get the teachers' mean prediction
    /// on the same (CutMix-ed) input as target and the weight of `distillationWeight`.
    public func batchLoss(_ batch: Batch, training: Bool = true) throws -> BatchLoss {
        let b = batch.mice.count, frames = builder.frames
        let device = model.store.device
        let x = try Tensor(batch.inputs, shape: [b, 5, frames, builder.canvas, builder.canvas]).to(device)
        let features = try model.features(x, training: training)
        let distilling = teachers != nil && dataset.mice.count > 1
        let weight = distillationWeight(
            ratio: config.distillationRatio, realWeight: Double(b),
            unlabelledPairs: b * (dataset.mice.count - 1))
        let teacherOutputs = distilling ? try teachers?.predictAll(x) : nil
        var labelledTerms: [LossTerm] = [], distilledTerms: [LossTerm] = []
        var correlations: [Double] = []
        for mouse in 0..<dataset.mice.count {
            let rows = batch.mice.indices.filter { batch.mice[$0] == mouse }
            let others = batch.mice.indices.filter { batch.mice[$0] != mouse }
            guard !rows.isEmpty || (distilling && !others.isEmpty) else { continue }
            let neurons = model.config.readoutNeurons[mouse]
            func select(_ t: Tensor, _ r: [Int]) throws -> Tensor {
                r.count == b ? t : try t.indexSelect(0, Tensor(r.map { Int64($0) }, shape: [r.count]).to(device))
            }
            // Stage 1 runs the readout on its own rows only (same result, less work).
            let inputRows = distilling ? Array(0..<b) : rows
            let prediction = try model.readout(try select(features, inputRows), mouse: mouse, training: training)
            if !rows.isEmpty {
                let own = distilling ? try select(prediction, rows) : prediction
                let targetValues = rows.flatMap { batch.targets[$0] }
                let y = try Tensor(targetValues, shape: [rows.count, neurons, frames]).to(device)
                labelledTerms.append(LossTerm(prediction: own, target: y, weights: Array(repeating: 1, count: rows.count)))
                let predicted = try own.detach().to(.cpu).contiguous().toArray(Float.self)
                correlations.append(batchCorrelation(predicted, targetValues, samples: rows.count, neurons: neurons, frames: frames))
            }
            if !others.isEmpty, weight > 0, let teacherOutputs {
                let target = try select(teacherOutputs[mouse], others)
                distilledTerms.append(
                    LossTerm(
                        prediction: try select(prediction, others), target: target,
                        weights: Array(repeating: weight, count: others.count)))
            }
        }
        let (loss, parts) = try weightedPoissonLoss(labelledTerms + distilledTerms)
        return BatchLoss(
            loss: loss, labelled: parts.prefix(labelledTerms.count).reduce(0, +),
            distilled: parts.suffix(distilledTerms.count).reduce(0, +),
            correlation: correlations.reduce(0, +) / Double(max(correlations.count, 1)))
    }

    /// Runs optimiser step `step`: batch, loss, AdamW, whole-state EMA.
    @discardableResult
    public func trainStep() throws -> StepResult {
        let batch = try makeBatch(step: step)
        optimizer.learningRate = schedule.learningRate(at: step)
        try model.store.zeroGrad()
        let result = try batchLoss(batch)
        try result.loss.backward()
        try optimizer.step()
        try ema?.updateWholeState()
        step += 1
        return StepResult(loss: try result.loss.item(), correlation: result.correlation, distilledLoss: result.distilled)
    }

    // MARK: Validation

    /// Single-trial correlation on the validation tier with sliding-window prediction (EMA weights).
    public func validate() throws -> ValidationResult {
        try ema?.swap()
        defer { try? ema?.swap() }
        let predictor = SlidingWindowPredictor(model: model, batchSize: 32, windowStride: config.validationWindowStride)
        var perMouse: [Double] = []
        for (m, mouse) in dataset.mice.enumerated() {
            var trials: [ScoredTrial] = []
            for id in mouse.trialIDs(inTiers: [config.validationTier]) {
                let trial = try loadTrial(mouse, id)
                guard trial.isLabelled, trial.length >= builder.span else { continue }
                trials.append(
                    ScoredTrial(
                        prediction: try predictor.predict(trial, mouse: m), target: trial.responses,
                        length: trial.length, clipKey: ""))
            }
            guard !trials.isEmpty else { continue }
            let r = singleTrialCorrelation(trials, neurons: mouse.neuronCount, frames: ScoredFrames(skip: config.scoreSkip))
            perMouse.append(r.reduce(0, +) / Double(max(r.count, 1)))
        }
        return ValidationResult(perMouse: perMouse)
    }

    // MARK: Checkpoints

    /// Saves weights, optimiser, EMA, RNG and the step position.
    public func saveCheckpoint(to url: URL) throws {
        let metadata = ["step": String(step), "model": try model.config.yaml()]
        try Checkpoint.save(to: url, store: model.store, optimizer: optimizer, ema: ema, metadata: metadata)
    }

    /// Restores a checkpoint written by `saveCheckpoint` and continues from its step.
    public func resume(from url: URL) throws {
        let metadata = try Checkpoint.load(from: url, store: model.store, optimizer: optimizer, ema: ema, restoreRNG: true)
        guard let s = metadata["step"].flatMap(Int.init) else { throw ModelError("\(url.path): checkpoint has no step") }
        step = s
    }

    /// Writes the model to use for prediction (EMA weights when the EMA is on).
    public func saveModel(to folder: URL, metadata: [String: String] = [:]) throws {
        try ema?.swap()
        defer { try? ema?.swap() }
        try SavedModel.save(model, to: folder, metadata: metadata)
    }
}

/// Mean over neurons of the correlation over the (sample, frame) rows of `(B, N, T)` arrays.
func batchCorrelation(_ prediction: [Float], _ target: [Float], samples: Int, neurons: Int, frames: Int) -> Double {
    var acc = CorrelationAccumulator(neurons: neurons)
    for s in 0..<samples {
        let block = (s * neurons * frames)..<((s + 1) * neurons * frames)
        acc.add(prediction: Array(prediction[block]), target: Array(target[block]), length: frames, range: 0..<frames)
    }
    return acc.mean()
}
