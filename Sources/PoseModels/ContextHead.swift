// Lightning Pose's temporal context network (`model.model_type: heatmap_mhcrnn`, LP §3.6): the backbone runs once per
// frame; a single-frame head reads the centre frame's features and a bidirectional convolutional RNN reads the five
// frames t−2…t+2. Both heads are trained; prediction keeps, per keypoint, the head that is more confident.
import Foundation
import PoseData
import Torch
import TorchNN

/// LP's `UpsamplingCRNN` (parameters `crnn.W_pre|W_f|W_b.*`, `crnn.H_f|H_b.0|1.*`).
///
/// Per frame: `x_t` = PixelShuffle(2) then ConvT(C/4→K, ×2) of ResNet features (stride 32 → 8), and the input maps
/// `W_f(x_t)`, `W_b(x_t)` = ConvT(K→K, ×2) (→ stride 4). Per window: `f ← W_f(x_1)`, `f ← W_f(x_t) + H_f(f)` for
/// t = 2…5, the same backwards with `W_b`, `H_b`; output `(f + b)/2`. `H` is grouped by keypoint: Conv(K→16K, 2×2,
/// stride 2) then ConvT(16K→K, 2×2, stride 2), so the hidden state keeps the heatmap resolution.
///
/// The U-Net's features are already at the heatmap resolution, so there `W_f`, `W_b` are 3×3 convolutions (C→K,
/// stride 1) and there is no `W_pre` (LP has no U-Net; this is the same recurrence at the resolution it has).
/// Initialisation as LP: Xavier-uniform with gain 1, zero biases.
final class ContextCRNN {
    let preUpsampling: ConvTranspose?
    let inputForward: any Layer, inputBackward: any Layer
    let hiddenForward: (Conv, ConvTranspose), hiddenBackward: (Conv, ConvTranspose)
    static let hiddenFiltersPerKeypoint = 16

    init(_ path: ParameterPath, featureChannels c: Int, keypoints k: Int, upsampleFeatures: Bool) throws {
        func doubling(_ name: String, _ inChannels: Int) throws -> ConvTranspose {
            try ConvTranspose(path / name, inChannels, k, kernel: [3], stride: [2], padding: [1], outputPadding: [1])
        }
        func hidden(_ name: String) throws -> (Conv, ConvTranspose) {
            let n = Self.hiddenFiltersPerKeypoint * k
            return (
                try Conv(path / name / 0, k, n, kernel: [2], stride: [2], groups: k),
                try ConvTranspose(path / name / 1, n, k, kernel: [2], stride: [2], groups: k)
            )
        }
        if upsampleFeatures {
            guard c % 4 == 0 else { throw PoseModelError("the context head needs backbone channels divisible by 4, found \(c)") }
            preUpsampling = try doubling("W_pre", c / 4)
            inputForward = try doubling("W_f", k)
            inputBackward = try doubling("W_b", k)
        } else {
            preUpsampling = nil
            inputForward = try Conv(path / "W_f", c, k, kernel: [3], padding: [1])
            inputBackward = try Conv(path / "W_b", c, k, kernel: [3], padding: [1])
        }
        hiddenForward = try hidden("H_f")
        hiddenBackward = try hidden("H_b")
        var weights: [Tensor] = [hiddenForward.0.weight, hiddenForward.1.weight, hiddenBackward.0.weight, hiddenBackward.1.weight]
        var biases: [Tensor?] = [hiddenForward.0.bias, hiddenForward.1.bias, hiddenBackward.0.bias, hiddenBackward.1.bias]
        for layer in [preUpsampling as (any Layer)?, inputForward, inputBackward].compactMap({ $0 }) {
            if let conv = layer as? Conv { weights.append(conv.weight); biases.append(conv.bias) }
            if let conv = layer as? ConvTranspose { weights.append(conv.weight); biases.append(conv.bias) }
        }
        try withNoGrad {
            for w in weights {
                // PyTorch's fans: dim 1 and dim 0 times the kernel size, for convolutions and transposed ones alike.
                let s = w.shape, field = s.dropFirst(2).reduce(1, *)
                let bound = (6.0 / Double((s[0] + s[1]) * field)).squareRoot()
                try w.uniformInPlace(-bound, bound)
            }
            for b in biases { try b?.zeroInPlace() }
        }
    }

    /// Each frame's contribution to the forward and the backward recursion, `(N, K, Hh, Wh)` each: they depend on
    /// the frame only, so a video computes them once per frame, not once per window.
    func frameInputs(_ features: Tensor, training: Bool) throws -> (forward: Tensor, backward: Tensor) {
        var x = features
        if let preUpsampling { x = try preUpsampling(x.pixelShuffle(2), training: training) }
        return (try inputForward(x, training: training), try inputBackward(x, training: training))
    }

    /// The recursion over windows: `forward`, `backward` are `(W, 5, K, Hh, Wh)` (the frame inputs of each window's
    /// frames in time order); returns `(W, K, Hh, Wh)` before the spatial softmax.
    func recur(forward: Tensor, backward: Tensor, training: Bool) throws -> Tensor {
        let frames = forward.size(1)
        var f = try forward.select(1, 0)
        for t in 1..<frames {
            f = try forward.select(1, t) + hiddenForward.1(hiddenForward.0(f, training: training), training: training)
        }
        var b = try backward.select(1, frames - 1)
        for t in stride(from: frames - 2, through: 0, by: -1) {
            b = try backward.select(1, t) + hiddenBackward.1(hiddenBackward.0(b, training: training), training: training)
        }
        return try (f + b) * 0.5
    }
}

/// LP's context model on any Kinema heatmap backbone: a `FeatureHeatmapNetwork` (its backbone and single-frame head,
/// the same parameters as the `heatmap` model) plus `ContextCRNN` (`crnn.*`).
///
/// `forward` takes `(B, 5, 3, H, W)` (frames t−2…t+2 of each sample) and returns both heads' heatmaps stacked along
/// the batch: rows `0..<B` the single-frame head, rows `B..<2B` the context head (LP concatenates them the same way
/// for its loss; `PoseModel.loss` duplicates the targets, `PoseModel.readout` chooses per keypoint).
public final class ContextPoseNetwork: PoseNetwork {
    public static let frames = 5
    public let frameNetwork: any FeatureHeatmapNetwork
    let crnn: ContextCRNN

    public var store: ParameterStore { frameNetwork.store }
    public var style: HeatmapStyle { frameNetwork.style }
    public var outputStride: Int { frameNetwork.outputStride }
    public var backbonePrefix: String { frameNetwork.backbonePrefix }

    public init(frameNetwork: any FeatureHeatmapNetwork, keypoints: Int) throws {
        self.frameNetwork = frameNetwork
        let resnet = frameNetwork is ResNetHeatmapNetwork
        if resnet, frameNetwork.outputStride != 4 {
            throw PoseModelError(
                "model.model_type heatmap_mhcrnn needs data.downsample_factor 2 with a ResNet backbone (as Lightning Pose), found \(Int(log2(Double(frameNetwork.outputStride))))"
            )
        }
        crnn = try ContextCRNN(
            frameNetwork.store.root / "crnn", featureChannels: frameNetwork.featureChannels, keypoints: keypoints,
            upsampleFeatures: resnet)
    }

    /// Both heads' heatmaps for samples of five frames each: `(2B, K, Hh, Wh)`, single-frame head first.
    public func forward(_ images: Tensor, training: Bool) throws -> Tensor {
        let (single, context) = try heads(images, training: training)
        return try cat([single, context], dim: 0)
    }

    /// Both heads for `(B, 5, 3, H, W)` images (the backbone runs once on all 5B frames).
    public func heads(_ images: Tensor, training: Bool) throws -> (single: Tensor, context: Tensor) {
        guard images.rank == 5, images.size(1) == Self.frames else {
            throw PoseModelError("the context model takes (B, 5, 3, H, W) images, found \(images.shape)")
        }
        let b = images.size(0)
        let features = try frameNetwork.features(images.flatten(from: 0, to: 1), training: training)
        let windows = (0..<b).map { s in Array((s * Self.frames)..<((s + 1) * Self.frames)) }
        return try heads(features: features, windows: windows, training: training)
    }

    /// Both heads for the centre frames of contiguous sequences (an unlabelled clip; separate cameras: one clip per
    /// view), `(S·T, 3, H, W)`, sequence after sequence. As LP, the backbone runs once per frame and its features are
    /// tiled into the windows of frames 2…T−3 of each sequence (S·(T−4) outputs, sequence after sequence); no window
    /// crosses from one sequence into the next.
    public func sequenceHeads(_ images: Tensor, sequences: Int = 1, training: Bool) throws -> (single: Tensor, context: Tensor) {
        let t = images.size(0) / Swift.max(1, sequences)
        guard t >= Self.frames, t * sequences == images.size(0) else {
            throw PoseModelError(
                "the context model needs clips of at least 5 frames, found \(images.size(0)) frames in \(sequences) clip(s)")
        }
        let features = try frameNetwork.features(images, training: training)
        let windows = (0..<sequences).flatMap { s in (2..<(t - 2)).map { c in Array((s * t + c - 2)...(s * t + c + 2)) } }
        return try heads(features: features, windows: windows, training: training)
    }

    /// Both heads from per-frame backbone features `(N, C, h, w)`: one output per window, each window five row
    /// indices into `features` in time order (the centre is `window[2]`). Frame-level work (the single-frame head,
    /// the recursion's input maps) is done once per distinct frame.
    public func heads(features: Tensor, windows: [[Int]], training: Bool) throws -> (single: Tensor, context: Tensor) {
        let device = features.device
        func rows(_ indices: [Int]) throws -> Tensor { try Tensor(indices.map(Int64.init)).to(device) }
        let used = Array(Set(windows.joined())).sorted()
        let position = Dictionary(uniqueKeysWithValues: used.enumerated().map { ($1, $0) })
        var frames = features
        if used != Array(0..<features.size(0)) { frames = try features.indexSelect(0, rows(used)) }
        let inputs = try crnn.frameInputs(frames, training: training)
        let flat = try rows(windows.flatMap { $0.map { position[$0]! } })
        func gathered(_ maps: Tensor) throws -> Tensor {
            try maps.indexSelect(0, flat).reshape([windows.count, Self.frames, maps.size(1), maps.size(2), maps.size(3)])
        }
        let context = try crnn.recur(forward: gathered(inputs.forward), backward: gathered(inputs.backward), training: training)
        let single = try frameNetwork.heatmaps(
            fromFeatures: frames.indexSelect(0, rows(windows.map { position[$0[2]]! })), training: training)
        return (single, try context.contiguous())
    }

    /// LP's choice per keypoint: the context head's estimate when its confidence is strictly greater, else the
    /// single-frame head's.
    public static func choose(single: [[KeypointEstimate]], context: [[KeypointEstimate]]) -> [[KeypointEstimate]] {
        zip(single, context).map { s, c in zip(s, c).map { $1.likelihood > $0.likelihood ? $1 : $0 } }
    }
}
