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
        schedule = CosineWithWarmup(base: config.learningRate, warmup: warmup, total: config.steps,
                                    minimum: config.learningRate * config.minLearningRateFactor)
        builder = WindowBuilder(config: modelConfig)
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

    /// Runs optimiser step `step` (its sampling is seeded by the step, so resumed runs repeat exactly).
    @discardableResult
    public func trainStep() throws -> StepResult {
        var rng = SeededRandom(seed: config.seed &+ 0x9E37_79B9_7F4A_7C15 &* UInt64(step + 1))
        let b = config.batchSize, frames = builder.frames
        var mice: [Int] = [], inputs = [Float](repeating: 0, count: b * builder.inputCount), targets: [[Float]] = []
        for i in 0..<b {
            let mouse = rng.int(below: dataset.mice.count)
            var (input, target) = try drawSample(mouse: mouse, rng: &rng)
            if rng.uniform() < config.cutmixProbability {
                let other = try drawSample(mouse: mouse, rng: &rng)
                builder.cutMix(input: &input, offset: 0, target: &target, other: other.input, otherTarget: other.target, rng: &rng)
            }
            inputs.replaceSubrange((i * builder.inputCount)..<((i + 1) * builder.inputCount), with: input)
            mice.append(mouse)
            targets.append(target)
        }
        optimizer.learningRate = schedule.learningRate(at: step)
        let device = model.store.device
        let x = try Tensor(inputs, shape: [b, 5, frames, builder.canvas, builder.canvas]).to(device)
        try model.store.zeroGrad()
        let features = try model.features(x, training: true)
        var total: Tensor?
        var correlations: [Double] = []
        for mouse in Set(mice).sorted() {
            let rows = mice.indices.filter { mice[$0] == mouse }
            let neurons = model.config.readoutNeurons[mouse]
            let index = try Tensor(rows.map { Int64($0) }, shape: [rows.count]).to(device)
            let prediction = try model.readout(features.indexSelect(0, index), mouse: mouse, training: true)
            let targetValues = rows.flatMap { targets[$0] }
            let y = try Tensor(targetValues, shape: [rows.count, neurons, frames]).to(device)
            // Poisson NLL, rate parameterisation, summed over neurons and frames.
            let loss = try (prediction - y * (prediction + 1e-8).log()).sum()
            total = try total.map { try $0 + loss } ?? loss
            let predicted = try prediction.detach().to(.cpu).contiguous().toArray(Float.self)
            correlations.append(batchCorrelation(predicted, targetValues, samples: rows.count, neurons: neurons, frames: frames))
        }
        guard let summed = total else { throw ModelError("empty batch") }
        let loss = try summed / Double(b)
        try loss.backward()
        try optimizer.step()
        try ema?.update()
        step += 1
        return StepResult(loss: try loss.item(), correlation: correlations.reduce(0, +) / Double(max(correlations.count, 1)))
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
                trials.append(ScoredTrial(prediction: try predictor.predict(trial, mouse: m), target: trial.responses,
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
