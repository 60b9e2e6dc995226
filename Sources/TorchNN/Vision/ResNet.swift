import Torch

/// torchvision's ResNet with its exact parameter names (`conv1.weight`, `layer1.0.bn1.running_mean`, `fc.bias`, ...),
/// so `resnet50-*.pth` state dicts load by name.
///
/// ```swift
/// let store = ParameterStore()
/// let net = try ResNet(store.root, depth: 50)              // 1000-class classifier
/// let backbone = try ResNet(store.root / "backbone", depth: 18, classes: nil)  // features only
/// let features = try backbone.features(images, training: true)  // (N, 512, H/32, W/32)
/// ```
public final class ResNet: Layer {
    public let depth: Int
    /// Channels of the last feature map (512 for 18/34, 2048 for 50/101/152).
    public let featureChannels: Int
    /// `conv1` and `bn1`.
    let stem: ConvBatchNorm
    let stages: [[ResidualBlock]]
    let fc: Linear?

    /// - Parameters:
    ///   - depth: 18, 34, 50, 101 or 152.
    ///   - classes: size of the `fc` classifier, or nil for a feature extractor without `avgpool`/`fc`.
    public init(_ path: ParameterPath, depth: Int, classes: Int? = 1000) throws {
        let plan: (bottleneck: Bool, blocks: [Int])
        switch depth {
        case 18: plan = (false, [2, 2, 2, 2])
        case 34: plan = (false, [3, 4, 6, 3])
        case 50: plan = (true, [3, 4, 6, 3])
        case 101: plan = (true, [3, 4, 23, 3])
        case 152: plan = (true, [3, 8, 36, 3])
        default: throw NNError.badConfig("ResNet depth \(depth) does not exist; use 18, 34, 50, 101 or 152")
        }
        self.depth = depth
        let expansion = plan.bottleneck ? 4 : 1
        stem = ConvBatchNorm(
            conv: try Conv(path / "conv1", 3, 64, kernel: [7], stride: [2], padding: [3], bias: false, weightInit: .kaimingNormalFanOut),
            norm: try BatchNorm(path / "bn1", 64))
        var inChannels = 64
        var stages: [[ResidualBlock]] = []
        for (stage, count) in plan.blocks.enumerated() {
            let width = 64 << stage
            var blocks: [ResidualBlock] = []
            for b in 0..<count {
                let stride = (b == 0 && stage > 0) ? 2 : 1
                let blockPath = path / "layer\(stage + 1)" / b
                blocks.append(
                    try ResidualBlock(
                        blockPath, inChannels: inChannels, width: width, stride: stride,
                        bottleneck: plan.bottleneck))
                inChannels = width * expansion
            }
            stages.append(blocks)
        }
        self.stages = stages
        featureChannels = inChannels
        fc = try classes.map { try Linear(path / "fc", inChannels, $0) }
    }

    /// The last feature map, stride 32 (before average pooling), computed channels-last.
    public func features(_ x: Tensor, training: Bool) throws -> Tensor {
        try features(x, training: training, layout: .channelsLast)
    }

    /// The last feature map with activations in `layout` (`.contiguous` is the plain NCHW formulation), as a
    /// tensor in that layout.
    ///
    /// Channels-last (NHWC in memory) is the fast layout on CPU: oneDNN's convolutions take it without reordering
    /// the activations, and ATen's pooling, batch-norm and element-wise kernels vectorise over channels. For
    /// inference with autograd off (`withNoGrad`), batch norm is folded into the convolutions (``ConvBatchNorm``)
    /// unless `foldBatchNorm` is false. Every variant computes the same values up to float summation order.
    public func features(_ x: Tensor, training: Bool, layout: MemoryFormat, foldBatchNorm: Bool = true) throws -> Tensor {
        let fold = foldBatchNorm && !training && !isGradEnabled
        var y = try stem.forward(x.contiguous(layout), training: training, fold: fold).reluInPlace()
        y = try y.maxPool(kernel: [3], stride: [2], padding: [1])
        for stage in stages {
            for block in stage { y = try block.forward(y, training: training, fold: fold) }
        }
        return y
    }

    /// Class logits when built with `classes`, else the feature map.
    public func forward(_ x: Tensor, training: Bool) throws -> Tensor {
        try classify(features(x, training: training))
    }

    /// Class logits from a feature map (average pool, `fc`) when built with `classes`, else the feature map itself.
    public func classify(_ features: Tensor) throws -> Tensor {
        guard let fc else { return features }
        return try fc(features.adaptiveAvgPool([1, 1]).flatten(from: 1))
    }
}

/// torchvision's BasicBlock (two 3×3 convs) or Bottleneck (1×1, 3×3 with the stride, 1×1 ×4).
final class ResidualBlock {
    let units: [ConvBatchNorm]
    let downsample: ConvBatchNorm?

    init(_ path: ParameterPath, inChannels: Int, width: Int, stride: Int, bottleneck: Bool) throws {
        let out = bottleneck ? width * 4 : width
        func unit(_ n: Int, _ cin: Int, _ cout: Int, kernel: Int, stride: Int = 1) throws -> ConvBatchNorm {
            ConvBatchNorm(
                conv: try Conv(
                    path / "conv\(n)", cin, cout, kernel: [kernel], stride: [stride], padding: [kernel / 2], bias: false,
                    weightInit: .kaimingNormalFanOut),
                norm: try BatchNorm(path / "bn\(n)", cout))
        }
        if bottleneck {
            units = [
                try unit(1, inChannels, width, kernel: 1), try unit(2, width, width, kernel: 3, stride: stride),
                try unit(3, width, out, kernel: 1),
            ]
        } else {
            units = [try unit(1, inChannels, width, kernel: 3, stride: stride), try unit(2, width, width, kernel: 3)]
        }
        if stride != 1 || inChannels != out {
            downsample = ConvBatchNorm(
                conv: try Conv(
                    path / "downsample" / 0, inChannels, out, kernel: [1], stride: [stride], bias: false,
                    weightInit: .kaimingNormalFanOut),
                norm: try BatchNorm(path / "downsample" / 1, out))
        } else {
            downsample = nil
        }
    }

    /// As torchvision: ReLUs, the residual sum and the last ReLU in place (batch norm's and the convolution's
    /// backward need their inputs, not these outputs, so autograd allows it).
    func forward(_ x: Tensor, training: Bool, fold: Bool) throws -> Tensor {
        var y = x
        for (i, unit) in units.enumerated() {
            y = try unit.forward(y, training: training, fold: fold)
            if i < units.count - 1 { y = try y.reluInPlace() }
        }
        try y.addInPlace(downsample?.forward(x, training: training, fold: fold) ?? x)
        return try y.reluInPlace()
    }
}
