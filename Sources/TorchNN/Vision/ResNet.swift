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
    let conv1: Conv
    let bn1: BatchNorm
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
        conv1 = try Conv(path / "conv1", 3, 64, kernel: [7], stride: [2], padding: [3], bias: false, weightInit: .kaimingNormalFanOut)
        bn1 = try BatchNorm(path / "bn1", 64)
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

    /// The last feature map, stride 32 (before average pooling).
    public func features(_ x: Tensor, training: Bool) throws -> Tensor {
        var y = try bn1(conv1(x), training: training).relu()
        y = try y.maxPool(kernel: [3], stride: [2], padding: [1])
        for stage in stages {
            for block in stage { y = try block.forward(y, training: training) }
        }
        return y
    }

    /// Class logits when built with `classes`, else the feature map.
    public func forward(_ x: Tensor, training: Bool) throws -> Tensor {
        let f = try features(x, training: training)
        guard let fc else { return f }
        return try fc(f.adaptiveAvgPool([1, 1]).flatten(from: 1))
    }
}

/// torchvision's BasicBlock (two 3×3 convs) or Bottleneck (1×1, 3×3 with the stride, 1×1 ×4).
final class ResidualBlock {
    let convs: [Conv]
    let norms: [BatchNorm]
    let downsample: (Conv, BatchNorm)?

    init(_ path: ParameterPath, inChannels: Int, width: Int, stride: Int, bottleneck: Bool) throws {
        let out = bottleneck ? width * 4 : width
        if bottleneck {
            convs = [
                try Conv(path / "conv1", inChannels, width, kernel: [1], bias: false, weightInit: .kaimingNormalFanOut),
                try Conv(
                    path / "conv2", width, width, kernel: [3], stride: [stride], padding: [1], bias: false, weightInit: .kaimingNormalFanOut
                ),
                try Conv(path / "conv3", width, out, kernel: [1], bias: false, weightInit: .kaimingNormalFanOut),
            ]
            norms = [try BatchNorm(path / "bn1", width), try BatchNorm(path / "bn2", width), try BatchNorm(path / "bn3", out)]
        } else {
            convs = [
                try Conv(
                    path / "conv1", inChannels, width, kernel: [3], stride: [stride], padding: [1], bias: false,
                    weightInit: .kaimingNormalFanOut),
                try Conv(path / "conv2", width, width, kernel: [3], padding: [1], bias: false, weightInit: .kaimingNormalFanOut),
            ]
            norms = [try BatchNorm(path / "bn1", width), try BatchNorm(path / "bn2", width)]
        }
        if stride != 1 || inChannels != out {
            downsample = (
                try Conv(
                    path / "downsample" / 0, inChannels, out, kernel: [1], stride: [stride], bias: false,
                    weightInit: .kaimingNormalFanOut),
                try BatchNorm(path / "downsample" / 1, out)
            )
        } else {
            downsample = nil
        }
    }

    func forward(_ x: Tensor, training: Bool) throws -> Tensor {
        var y = x
        for (i, (conv, norm)) in zip(convs, norms).enumerated() {
            y = try norm(conv(y), training: training)
            if i < convs.count - 1 { y = try y.relu() }
        }
        let identity = try downsample.map { try $0.1($0.0(x), training: training) } ?? x
        return try (y + identity).relu()
    }
}
