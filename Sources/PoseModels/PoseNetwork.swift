// The pose networks: a from-scratch U-Net (default for training without pretrained weights),
// ResNet-18/34/50/101 with Lightning Pose's heatmap head, and a regression head.
import Foundation
import PoseData
import Torch
import TorchNN

// MARK: - Common interface

/// What the network's output means, which decides the loss and the read-out.
public enum HeatmapStyle: String, Sendable {
    /// Raw maps trained towards peak-1 Gaussians (SLEAP's convention); likelihood = peak height.
    case peak
    /// Spatial softmax trained towards sum-1 Gaussians (Lightning Pose); likelihood = mass near the peak.
    case softmax
    /// No heatmap: 2K coordinates in model pixels (likelihood 0, as in LP).
    case regression
}

/// A pose network: images `(B, 3, H, W)` → heatmaps `(B, K, H/s, W/s)` or coordinates `(B, 2K)`.
public protocol PoseNetwork: AnyObject {
    var store: ParameterStore { get }
    var style: HeatmapStyle { get }
    /// Model pixels per heatmap cell.
    var outputStride: Int { get }
    /// Parameter-name prefix of the backbone (for `--pretrained` and LP's warm-up), "" if none.
    var backbonePrefix: String { get }
    func forward(_ images: Tensor, training: Bool) throws -> Tensor
}

/// A heatmap network in two parts: a backbone that runs once per frame, and a head on its features. The context
/// model (`ContextPoseNetwork`) runs the backbone once per frame and both of its heads on the features.
public protocol FeatureHeatmapNetwork: PoseNetwork {
    /// Backbone features `(N, C, h, w)` of images `(N, 3, H, W)`.
    func features(_ images: Tensor, training: Bool) throws -> Tensor
    /// C.
    var featureChannels: Int { get }
    /// The single-frame head: features → heatmaps `(N, K, H/s, W/s)`.
    func heatmaps(fromFeatures features: Tensor, training: Bool) throws -> Tensor
}

/// Errors building or loading a model, phrased for the user.
public struct PoseModelError: Error, CustomStringConvertible, Sendable {
    public var message: String
    public init(_ message: String) { self.message = message }
    public var description: String { message }
}

/// Builds the network a config asks for.
///
/// `backbone`: `unet` (Kinema), `resnet18|34|50|101` or LP's `resnet50_*` names (torchvision layout;
/// the pretrained variants need `--pretrained`). `model_type`: `heatmap`, `heatmap_mhcrnn` (the backbone and head
/// of `heatmap` plus LP's context head, `ContextPoseNetwork`) or `regression`.
/// Parameters and buffers are created on `device`.
public func makePoseNetwork(config: PoseConfig, keypoints: Int, device: Device = .cpu) throws -> any PoseNetwork {
    let network = try makeSingleFramePoseNetwork(config: config, keypoints: keypoints, device: device)
    guard config.isContextModel else { return network }
    guard let frameNetwork = network as? any FeatureHeatmapNetwork else {
        throw PoseModelError("model.model_type heatmap_mhcrnn needs a heatmap backbone (unet or a resnet)")
    }
    return try ContextPoseNetwork(frameNetwork: frameNetwork, keypoints: keypoints)
}

/// The network of one frame: the whole model, or the backbone and single-frame head of a context model.
func makeSingleFramePoseNetwork(config: PoseConfig, keypoints: Int, device: Device) throws -> any PoseNetwork {
    let store = ParameterStore(device: device)
    let name = config.backbone.lowercased()
    if name == "unet" {
        guard config.modelType != "regression" else {
            throw PoseModelError("the unet backbone only has a heatmap head; set model.model_type: heatmap or heatmap_mhcrnn")
        }
        return try UNetPoseNetwork(
            store: store, keypoints: keypoints, filters: config.unetFilters,
            outputStride: 1 << config.downsampleFactor)
    }
    guard name.hasPrefix("resnet"), let depth = Int(name.dropFirst(6).prefix { $0.isNumber }), [18, 34, 50, 101].contains(depth) else {
        let options = "unet, resnet18, resnet34, resnet50, resnet101, resnet50_animal_ap10k"
        throw PoseModelError("unknown backbone `\(config.backbone)` in model.backbone; use one of: \(options)")
    }
    if config.modelType == "regression" {
        return try ResNetRegressionNetwork(store: store, depth: depth, keypoints: keypoints)
    }
    return try ResNetHeatmapNetwork(store: store, depth: depth, keypoints: keypoints, downsampleFactor: config.downsampleFactor)
}

// MARK: - Building blocks

/// 3×3 convolution, batch norm, ReLU.
final class ConvBNReLU: Layer {
    let conv: Conv
    let norm: BatchNorm

    init(_ path: ParameterPath, _ inChannels: Int, _ outChannels: Int) throws {
        conv = try Conv(path / "conv", inChannels, outChannels, kernel: [3], padding: [1], bias: false, weightInit: .kaimingNormalFanOut)
        norm = try BatchNorm(path / "bn", outChannels)
    }

    func forward(_ x: Tensor, training: Bool) throws -> Tensor {
        // In place: batch norm's backward needs its input, not its output (as torchvision's inplace ReLU).
        try norm(conv(x), training: training).reluInPlace()
    }
}

// MARK: - U-Net

/// A SLEAP-style U-Net: 4 pooling steps (stride 16) with channels f·2^i (capped at 8f), a bilinear
/// decoder with skip connections back to the output stride, and a 1×1 conv to K maps.
/// Small (≈0.6 M parameters at f = 16) and quick to train from scratch on a CPU.
public final class UNetPoseNetwork: FeatureHeatmapNetwork {
    public let store: ParameterStore
    public let style = HeatmapStyle.peak
    public let outputStride: Int
    public let backbonePrefix = ""
    let stem: ConvBNReLU
    let encoder: [[ConvBNReLU]]
    let decoder: [[ConvBNReLU]]
    let head: Conv
    public let featureChannels: Int

    public init(store: ParameterStore, keypoints: Int, filters f: Int, outputStride: Int) throws {
        guard [1, 2, 4, 8].contains(outputStride) else { throw PoseModelError("unet output stride must be 1, 2, 4 or 8") }
        self.store = store
        self.outputStride = outputStride
        let root = store.root / "backbone"
        stem = try ConvBNReLU(root / "stem", 3, f)
        var channels = [f]
        var encoder: [[ConvBNReLU]] = []
        for level in 1...4 {
            let c = f << Swift.min(level, 3)
            encoder.append([
                try ConvBNReLU(root / "down\(level)" / 0, channels.last!, c),
                try ConvBNReLU(root / "down\(level)" / 1, c, c),
            ])
            channels.append(c)
        }
        self.encoder = encoder
        // Decode from stride 16 back to the output stride, concatenating the encoder map of each level.
        var decoder: [[ConvBNReLU]] = []
        var current = channels[4]
        var level = 3
        while (1 << level) >= outputStride {
            let out = Swift.max(f, channels[level] / 2)
            decoder.append([
                try ConvBNReLU(root / "up\(level)" / 0, current + channels[level], out),
                try ConvBNReLU(root / "up\(level)" / 1, out, out),
            ])
            current = out
            level -= 1
        }
        self.decoder = decoder
        featureChannels = current
        head = try Conv(store.root / "head" / "conv", current, keypoints, kernel: [1], weightInit: .normal(mean: 0, std: 0.01))
        try withNoGrad { try head.bias?.zeroInPlace() }
    }

    /// Runs in channels-last layout (NHWC in memory): oneDNN's convolutions skip their NCHW reorders and
    /// ATen's max-pool, batch-norm and upsampling kernels vectorise over channels (the NCHW max-pool is
    /// scalar). Same values as NCHW up to float summation order; the heatmaps come back as plain NCHW.
    public func forward(_ images: Tensor, training: Bool) throws -> Tensor {
        try forward(images, training: training, layout: .channelsLast)
    }

    /// The forward pass in a chosen activation layout (`.contiguous` is the plain NCHW formulation).
    public func forward(_ images: Tensor, training: Bool, layout: MemoryFormat) throws -> Tensor {
        try heatmaps(fromFeatures: features(images, training: training, layout: layout), training: training)
    }

    /// The decoder's last map `(B, C, H/s, W/s)` (channels-last), which the 1×1 head turns into heatmaps.
    public func features(_ images: Tensor, training: Bool) throws -> Tensor {
        try features(images, training: training, layout: .channelsLast)
    }

    public func heatmaps(fromFeatures y: Tensor, training: Bool) throws -> Tensor {
        try head(y).contiguous(.contiguous)
    }

    func features(_ images: Tensor, training: Bool, layout: MemoryFormat) throws -> Tensor {
        let input = images.rank == 4 ? try images.contiguous(layout) : images
        var skips: [Tensor] = [try stem(input, training: training)]
        var y = skips[0]
        for block in encoder {
            y = try y.maxPool(kernel: [2], stride: [2])
            for layer in block { y = try layer(y, training: training) }
            skips.append(y)
        }
        var level = 3
        for block in decoder {
            let skip = skips[level]
            y = try y.interpolate(size: [skip.size(2), skip.size(3)], mode: .linear)
            y = try cat([y, skip], dim: 1)
            for layer in block { y = try layer(y, training: training) }
            level -= 1
        }
        return y
    }
}

// MARK: - ResNet + Lightning Pose heatmap head

/// torchvision ResNet features (`backbone.*`) and LP's head (§3.2): PixelShuffle(2), then
/// `log2(32) − d − 1` transposed 3×3 convs (stride 2, output padding 1), K channels, no nonlinearity;
/// spatial softmax. Names: `head.upsampling_layers.<i>.weight|bias`.
public final class ResNetHeatmapNetwork: FeatureHeatmapNetwork {
    public let store: ParameterStore
    public let style = HeatmapStyle.softmax
    public let outputStride: Int
    public let backbonePrefix = "backbone."
    let backbone: ResNet
    let deconvs: [ConvTranspose]

    public init(store: ParameterStore, depth: Int, keypoints: Int, downsampleFactor d: Int) throws {
        self.store = store
        backbone = try ResNet(store.root / "backbone", depth: depth, classes: nil)
        let layers = 5 - d - 1
        guard layers >= 1 else { throw PoseModelError("data.downsample_factor \(d) leaves no head layers for a ResNet; use 1 or 2") }
        var deconvs: [ConvTranspose] = []
        var inChannels = backbone.featureChannels / 4
        for i in 0..<layers {
            let layer = try ConvTranspose(
                store.root / "head" / "upsampling_layers" / (i + 1), inChannels, keypoints, kernel: [3],
                stride: [2], padding: [1], outputPadding: [1])
            // LP: Xavier-uniform with gain 0.01, zero bias.
            let fanIn = keypoints * 9, fanOut = inChannels * 9
            let bound = 0.01 * (6.0 / Double(fanIn + fanOut)).squareRoot()
            try withNoGrad {
                try layer.weight.uniformInPlace(-bound, bound)
                try layer.bias?.zeroInPlace()
            }
            deconvs.append(layer)
            inChannels = keypoints
        }
        self.deconvs = deconvs
        outputStride = 1 << d
    }

    /// Runs channels-last end to end, the head's PixelShuffle and transposed convolutions included (no reorder
    /// between layers), with batch norm folded into the backbone's convolutions when autograd is off; the
    /// heatmaps come back as plain NCHW for the read-out. Same values as NCHW up to float summation order.
    public func forward(_ images: Tensor, training: Bool) throws -> Tensor {
        try forward(images, training: training, layout: .channelsLast)
    }

    /// The forward pass in a chosen activation layout (`.contiguous`, `foldBatchNorm: false` is the plain formulation).
    public func forward(_ images: Tensor, training: Bool, layout: MemoryFormat, foldBatchNorm: Bool = true) throws -> Tensor {
        try heatmaps(
            fromFeatures: backbone.features(images, training: training, layout: layout, foldBatchNorm: foldBatchNorm), training: training)
    }

    /// The backbone's features `(B, C, H/32, W/32)` (channels-last).
    public func features(_ images: Tensor, training: Bool) throws -> Tensor {
        try backbone.features(images, training: training)
    }

    public var featureChannels: Int { backbone.featureChannels }

    /// LP's heatmap head on backbone features.
    public func heatmaps(fromFeatures features: Tensor, training: Bool) throws -> Tensor {
        var y = try features.pixelShuffle(2)
        for layer in deconvs { y = try layer(y, training: training) }
        return try y.contiguous(.contiguous)
    }
}

/// ResNet features, global average pool, one linear layer to 2K model-pixel coordinates (LP §3.5).
public final class ResNetRegressionNetwork: PoseNetwork {
    public let store: ParameterStore
    public let style = HeatmapStyle.regression
    public let outputStride = 1
    public let backbonePrefix = "backbone."
    let backbone: ResNet
    let linear: Linear

    public init(store: ParameterStore, depth: Int, keypoints: Int) throws {
        self.store = store
        backbone = try ResNet(store.root / "backbone", depth: depth, classes: nil)
        linear = try Linear(store.root / "head" / "linear", backbone.featureChannels, 2 * keypoints)
    }

    public func forward(_ images: Tensor, training: Bool) throws -> Tensor {
        let f = try backbone.features(images, training: training).adaptiveAvgPool([1, 1]).flatten(from: 1)
        return try linear(f)
    }
}
