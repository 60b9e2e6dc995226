// A network plus everything needed to turn images into frame-pixel keypoints (and back).
import Foundation
import PoseData
import Torch
import TorchNN

/// A pose network with its config: preprocessing, forward pass, loss and read-out.
///
/// Device: the network's parameters live on `device`, and every tensor the model, its trainer and its predictors
/// make goes there too (host data through `upload`, once per batch); read-outs come back to the host once per batch.
public final class PoseModel {
    public let config: PoseConfig
    public let keypointNames: [String]
    public let network: any PoseNetwork
    public let grid: HeatmapGrid
    /// Where the parameters live and every tensor of the model's work is made.
    public let device: Device
    /// The forward passes' autocast (`forward`, `autocast`); losses and read-outs stay float32.
    public var precision = Precision.fp32

    public init(config: PoseConfig, keypointNames: [String], device: Device = .cpu) throws {
        self.config = config
        self.keypointNames = keypointNames
        self.device = device
        network = try makePoseNetwork(config: config, keypoints: keypointNames.count, device: device)
        let s = network.outputStride
        grid = HeatmapGrid(
            width: config.resizeWidth / s, height: config.resizeHeight / s, stride: s,
            sigma: config.heatmapSigma, normalized: network.style == .softmax)
    }

    public var keypointCount: Int { keypointNames.count }

    /// An augmenter that only resizes (validation, test, prediction).
    public func resizer() -> Augmenter {
        Augmenter(
            settings: .resizeOnly, outputWidth: config.resizeWidth, outputHeight: config.resizeHeight,
            flipPermutation: Array(0..<keypointCount))
    }

    /// Frames each sample takes: 5 (t−2…t+2) for the context model, else 1.
    public var framesPerSample: Int { network is ContextPoseNetwork ? ContextPoseNetwork.frames : 1 }

    /// Images `(B, 3, H, W)` on the model's device from a host batch (`(B, 5, 3, H, W)` for the context model).
    public func imageTensor(_ images: [Float], count: Int) throws -> Tensor {
        let frames = framesPerSample
        return try upload(images, shape: (frames > 1 ? [count, frames] : [count]) + [3, config.resizeHeight, config.resizeWidth])
    }

    /// Host values as a tensor on the model's device: the one way host data reaches the model's computations (on
    /// the CPU the tensor is the host copy itself).
    public func upload<T: TensorScalar>(_ values: [T], shape: [Int]) throws -> Tensor {
        try Tensor(values, shape: shape).to(device)
    }

    /// Runs `body` (forward passes) under the model's autocast, if any.
    public func autocast<R>(_ body: () throws -> R) throws -> R {
        try withAutocast(device, precision, body)
    }

    /// The network's forward pass under the model's autocast, its output float32 (as the losses and read-out expect).
    public func forward(_ images: Tensor, training: Bool) throws -> Tensor {
        try autocast { try network.forward(images, training: training) }.to(.float32)
    }

    // MARK: - Loss

    /// The supervised loss of a batch (LP §4.1 for heatmaps: MSE against the targets, averaged over
    /// weighted keypoints and cells; regression: MSE on the labelled coordinates in model pixels). The context
    /// model's output holds both heads (`2B` maps): as LP, both are compared with the same targets and averaged.
    public func loss(output: Tensor, batch: PoseBatch) throws -> Tensor {
        let heads = output.size(0) / Swift.max(1, batch.count)  // batch.count: images (samples × views)
        let b = batch.count * heads, k = keypointCount
        switch network.style {
        case .regression:
            let target = batch.keypoints.map { $0.isFinite ? $0 : 0 }
            let mask = batch.keypoints.map { $0.isFinite ? Float(1) : 0 }
            let t = try upload(target, shape: [b, 2 * k]), m = try upload(mask, shape: [b, 2 * k])
            let squared = try (output - t).square() * m
            return try squared.sum() / Swift.max(1, Double(mask.reduce(0, +)))
        case .peak, .softmax:
            let cells = grid.width * grid.height
            let target = try upload(batch.heatmaps, shape: [batch.count, k, grid.height, grid.width]).repeated([heads, 1, 1, 1])
            let weights = try upload(batch.weights, shape: [batch.count, k, 1, 1]).repeated([heads, 1, 1, 1])
            var maps = output
            if network.style == .softmax {
                maps = try output.reshape([b, k, cells]).softmax(2).reshape([b, k, grid.height, grid.width])
            }
            let squared = try (maps - target).square() * weights
            let scale = network.style == .softmax ? Double(cells) : 1  // LP's sum-1 maps have tiny values
            return try squared.sum() * (scale / Swift.max(1, Double(heads) * Double(batch.weights.reduce(0, +)) * Double(cells)))
        }
    }

    // MARK: - Read-out

    /// Keypoints in model pixels for each sample of a forward pass's output. The context model's output holds both
    /// heads (`2·count` maps, single-frame head first): each keypoint comes from the more confident head (LP).
    public func readout(_ output: Tensor, count: Int) throws -> [[KeypointEstimate]] {
        guard network is ContextPoseNetwork else { return try readMaps(output, count: count) }
        let both = try readMaps(output, count: 2 * count)
        return ContextPoseNetwork.choose(single: Array(both[..<count]), context: Array(both[count...]))
    }

    /// Keypoints in model pixels of `count` maps (one head).
    public func readMaps(_ output: Tensor, count: Int) throws -> [[KeypointEstimate]] {
        let values = try output.detach().contiguous().toArray(Float.self)
        if network.style == .regression {
            return (0..<count).map { b in
                (0..<keypointCount).map { j in
                    KeypointEstimate(
                        x: Double(values[b * 2 * keypointCount + 2 * j]), y: Double(values[b * 2 * keypointCount + 2 * j + 1]),
                        likelihood: 0)
                }
            }
        }
        return HeatmapReadout.read(maps: values, batch: count, keypoints: keypointCount, grid: grid, style: network.style)
    }

    /// Runs the network without gradients on normalised images (`framesPerSample` per sample) and returns model-pixel
    /// keypoints.
    public func predict(images: [Float], count: Int) throws -> [[KeypointEstimate]] {
        try withNoGrad {
            let output = try forward(imageTensor(images, count: count), training: false)
            return try readout(output, count: count)
        }
    }

    /// Model pixels → frame pixels of an image of the given size (LP §0, no bounding box).
    public func toFrame(_ e: KeypointEstimate, width: Int, height: Int) -> KeypointEstimate {
        KeypointEstimate(
            x: e.x * Double(width) / Double(config.resizeWidth),
            y: e.y * Double(height) / Double(config.resizeHeight), likelihood: e.likelihood)
    }

    // MARK: - Weights

    /// Loads a torchvision ResNet state dict (`.pth`/`.pt` or safetensors) into the backbone by name.
    /// Returns a one-paragraph report of what matched; the classifier (`fc.*`) is expected not to.
    public func loadPretrained(path: String) throws -> String {
        guard !network.backbonePrefix.isEmpty else {
            throw PoseModelError("--pretrained needs a ResNet backbone; `\(config.backbone)` has no pretrained weights")
        }
        let url = URL(fileURLWithPath: path)
        let raw: [String: Tensor]
        if path.hasSuffix(".safetensors") {
            raw = Dictionary(uniqueKeysWithValues: try SafeTensors.read(url).tensors.map { ($0.key, $0.value) })
        } else {
            raw = Dictionary(uniqueKeysWithValues: try TorchFile.loadStateDict(url).map { ($0.key, $0.value) })
        }
        // Accept plain torchvision keys (`layer1.0.conv1.weight`) or already-prefixed ones.
        var tensors: [String: Tensor] = [:]
        for (key, value) in raw {
            let name = key.hasPrefix(network.backbonePrefix) ? key : network.backbonePrefix + key
            tensors[name] = value
        }
        let backboneOnly = tensors.filter { !$0.key.hasPrefix(network.backbonePrefix + "fc.") }
        let ownBackbone = network.store.stateDict().keys.filter { $0.hasPrefix(network.backbonePrefix) }
        var subset = backboneOnly
        for name in network.store.stateDict().keys where !name.hasPrefix(network.backbonePrefix) {
            subset[name] = network.store.stateDict()[name]  // the head keeps its initialisation
        }
        let report = try network.store.load(subset, strict: false)
        let ignoredFC = tensors.keys.filter { $0.hasPrefix(network.backbonePrefix + "fc.") }.count
        let missing = report.missing.filter { $0.hasPrefix(network.backbonePrefix) }
        var text =
            "pretrained \(path): loaded \(report.loaded.count - (network.store.stateDict().count - ownBackbone.count)) of \(ownBackbone.count) backbone tensors"
        if ignoredFC > 0 { text += "; ignored the classifier (\(ignoredFC) fc tensors)" }
        if !missing.isEmpty { text += "; NOT in the file (\(missing.count)): " + missing.prefix(6).joined(separator: ", ") }
        if !report.unexpected.isEmpty {
            text +=
                "; in the file but not in the model (\(report.unexpected.count)): " + report.unexpected.prefix(6).joined(separator: ", ")
        }
        if !report.shapeMismatches.isEmpty {
            text += "; wrong shape (\(report.shapeMismatches.count)): " + report.shapeMismatches.prefix(4).joined(separator: ", ")
        }
        if missing.count == ownBackbone.count {
            throw PoseModelError(
                "\(path) has no tensor that fits the \(config.backbone) backbone (\(text)); is it a torchvision ResNet-\(config.backbone.dropFirst(6).prefix { $0.isNumber }) state dict?"
            )
        }
        return text
    }
}
