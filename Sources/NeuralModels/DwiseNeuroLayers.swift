// DwiseNeuro building blocks, named like the original PyTorch modules so state_dict keys match:
// BatchNormAct (`.bn`), SqueezeExcite3d, InvertedResidual3d, PositionalEncoding3d, ShuffleLayer, Readout.
import Foundation
import Torch
import TorchNN

// MARK: - Helpers

/// A convolution initialised as the reference specifies: weights ~ N(0, sqrt(2 / fan_out)) with
/// fan_out = kernel volume · out / groups; bias (if any) zero.
func makeConv(
    _ path: ParameterPath, dims: Int, _ inChannels: Int, _ outChannels: Int, kernel: [Int],
    stride: [Int] = [1], padding: [Int] = [0], groups: Int = 1, bias: Bool = false
) throws -> Conv {
    let fanOut = kernel.reduce(1, *) * outChannels / groups
    let conv = try Conv(
        path, dims: dims, inChannels, outChannels, kernel: kernel, stride: stride, padding: padding,
        groups: groups, bias: bias, weightInit: .normal(mean: 0, std: (2 / Double(max(fanOut, 1))).squareRoot()))
    if let b = conv.bias { try withNoGrad { try b.zeroInPlace() } }
    return conv
}

/// Stochastic depth: keeps each sample's whole tensor with probability 1 − p (scaled by 1/(1 − p)).
func dropPath(_ x: Tensor, _ p: Double, training: Bool) throws -> Tensor {
    guard training, p > 0 else { return x }
    let keep = 1 - p
    let shape = [x.size(0)] + [Int](repeating: 1, count: x.rank - 1)
    let mask = try (Tensor.rand(shape, device: x.device) + keep).floor() / keep
    return try x * mask
}

/// `torch.tile` along channels, then the first `channels`: output channel j = input channel j mod C.
func tileChannels(_ x: Tensor, to channels: Int) throws -> Tensor {
    let c = x.size(1)
    guard c != channels else { return x }
    var repeats = [Int](repeating: 1, count: x.rank)
    repeats[1] = (channels + c - 1) / c
    return try x.repeated(repeats).slice(1, 0, channels)
}

// MARK: - BatchNormAct

/// BatchNorm followed by SiLU (or nothing): parameters under `<path>.bn`.
final class BatchNormAct {
    let bn: BatchNorm
    let act: Bool
    init(_ path: ParameterPath, _ features: Int, act: Bool) throws {
        bn = try BatchNorm(path / "bn", features)
        self.act = act
    }
    func callAsFunction(_ x: Tensor, training: Bool) throws -> Tensor {
        let y = try bn(x, training: training)
        return act ? try y.silu() : y
    }
}

// MARK: - Squeeze-excitation

/// Mean over (T, H, W) → 1×1×1 conv down (bias) → SiLU → 1×1×1 conv up (bias) → sigmoid gate.
final class SqueezeExcite3d {
    let reduce: Conv, expand: Conv
    init(_ path: ParameterPath, features: Int, reduceRatio: Int) throws {
        let hidden = features / reduceRatio
        reduce = try makeConv(path / "conv_reduce", dims: 3, features, hidden, kernel: [1, 1, 1], bias: true)
        expand = try makeConv(path / "conv_expand", dims: 3, hidden, features, kernel: [1, 1, 1], bias: true)
    }
    func callAsFunction(_ x: Tensor) throws -> Tensor {
        let squeezed = try x.mean(dims: [2, 3, 4], keepDim: true)
        let gate = try expand(try reduce(squeezed).silu()).sigmoid()
        return try x * gate
    }
}

// MARK: - Inverted residual block

/// Point-wise expansion, (2+1)-D depth-wise convolutions, squeeze-excitation, point-wise projection,
/// DropPath; shortcut = nearest-resize (stride > 1), channel tiling (width change), BatchNorm.
final class InvertedResidual3d {
    let inFeatures: Int, outFeatures: Int, stride: Int, dropPathRate: Double
    let pw: Conv, pwBN: BatchNormAct
    let spatial: Conv, spatialBN: BatchNormAct
    let temporal: Conv, temporalBN: BatchNormAct
    let se: SqueezeExcite3d
    let pwl: Conv, pwlBN: BatchNormAct
    let shortcutBN: BatchNormAct

    init(
        _ path: ParameterPath, inFeatures: Int, outFeatures: Int, spatialKernel: Int, temporalKernel: Int,
        stride: Int, expansion: Int, seReduceRatio: Int, dropPathRate: Double
    ) throws {
        (self.inFeatures, self.outFeatures, self.stride, self.dropPathRate) = (inFeatures, outFeatures, stride, dropPathRate)
        let mid = inFeatures * expansion
        pw = try makeConv(path / "conv_pw" / 0, dims: 3, inFeatures, mid, kernel: [1, 1, 1])
        pwBN = try BatchNormAct(path / "conv_pw" / 1, mid, act: true)
        let sp = spatialKernel / 2, tp = temporalKernel / 2
        spatial = try makeConv(
            path / "spat_covn_dw" / 0, dims: 3, mid, mid, kernel: [1, spatialKernel, spatialKernel],
            stride: [1, stride, stride], padding: [0, sp, sp], groups: mid)
        spatialBN = try BatchNormAct(path / "spat_covn_dw" / 1, mid, act: true)
        temporal = try makeConv(
            path / "temp_covn_dw" / 0, dims: 3, mid, mid, kernel: [temporalKernel, 1, 1],
            padding: [tp, 0, 0], groups: mid)
        temporalBN = try BatchNormAct(path / "temp_covn_dw" / 1, mid, act: true)
        se = try SqueezeExcite3d(path / "se", features: mid, reduceRatio: seReduceRatio)
        pwl = try makeConv(path / "conv_pwl" / 0, dims: 3, mid, outFeatures, kernel: [1, 1, 1])
        pwlBN = try BatchNormAct(path / "conv_pwl" / 1, outFeatures, act: false)
        shortcutBN = try BatchNormAct(path / "bn_sc", outFeatures, act: false)
    }

    func callAsFunction(_ x: Tensor, training: Bool) throws -> Tensor {
        var y = try pwBN(try pw(x), training: training)
        y = try spatialBN(try spatial(y), training: training)
        y = try temporalBN(try temporal(y), training: training)
        y = try se(y)
        y = try pwlBN(try pwl(y), training: training)
        y = try dropPath(y, dropPathRate, training: training)
        var shortcut = x
        if stride > 1 {
            let (t, h, w) = (x.size(2), x.size(3), x.size(4))
            shortcut = try shortcut.interpolate(size: [t, (h + stride - 1) / stride, (w + stride - 1) / stride], mode: .nearest)
        }
        shortcut = try tileChannels(shortcut, to: outFeatures)
        return try y + shortcutBN(shortcut, training: training)
    }
}

// MARK: - Fixed 3-D position encoding

/// Sine/cosine encoding of (t, y, x) added to a block's input; `inv_freq` is a (persistent) buffer,
/// as in the original, so state_dicts match.
final class PositionalEncoding3d {
    let channels: Int, perAxis: Int
    let inverseFrequency: Tensor
    private var cache: [[Int]: Tensor] = [:]

    init(_ path: ParameterPath, channels: Int) throws {
        self.channels = channels
        var p = Int((Double(channels) / 6).rounded(.up)) * 2
        if p % 2 == 1 { p += 1 }
        perAxis = p
        let frequencies = stride(from: 0, to: p, by: 2).map { Float(1 / Foundation.pow(10000, Double($0) / Double(p))) }
        inverseFrequency = try path.buffer("inv_freq", Tensor(frequencies, shape: [frequencies.count]).to(path.store.device))
    }

    /// The `(1, C, T, H, W)` encoding for a tensor shape.
    func encoding(t: Int, h: Int, w: Int, device: Device) throws -> Tensor {
        if let cached = cache[[t, h, w]] { return cached }
        let frequencies = try inverseFrequency.to(.cpu).toArray(Float.self)
        let f = frequencies.count, p = perAxis
        func axis(_ position: Int) -> [Float] {
            frequencies.map { Float(Foundation.sin(Double(position) * Double($0))) }
                + frequencies.map { Float(Foundation.cos(Double(position) * Double($0))) }
        }
        _ = f
        let volume = t * h * w
        var values = [Float](repeating: 0, count: channels * volume)
        let times = (0..<t).map(axis), rows = (0..<h).map(axis), cols = (0..<w).map(axis)
        for c in 0..<channels {
            let block = c / p, k = c % p
            for ti in 0..<t {
                for yi in 0..<h {
                    for xi in 0..<w {
                        let v: Float = block == 0 ? times[ti][k] : (block == 1 ? rows[yi][k] : cols[xi][k])
                        values[c * volume + (ti * h + yi) * w + xi] = v
                    }
                }
            }
        }
        let tensor = try Tensor(values, shape: [1, channels, t, h, w]).to(device)
        cache[[t, h, w]] = tensor
        return tensor
    }

    func callAsFunction(_ x: Tensor) throws -> Tensor {
        try x + encoding(t: x.size(2), h: x.size(3), w: x.size(4), device: x.device)
    }
}

// MARK: - Cortex

/// Grouped 1×1 Conv1d → BN → SiLU → channel shuffle → DropPath, plus a tiled, normalised shortcut.
final class ShuffleLayer {
    let inFeatures: Int, outFeatures: Int, groups: Int, dropPathRate: Double
    let conv: Conv, bn: BatchNormAct, shortcutBN: BatchNormAct

    init(_ path: ParameterPath, inFeatures: Int, outFeatures: Int, groups: Int, dropPathRate: Double) throws {
        (self.inFeatures, self.outFeatures, self.groups, self.dropPathRate) = (inFeatures, outFeatures, groups, dropPathRate)
        conv = try makeConv(path / "conv", dims: 1, inFeatures, outFeatures, kernel: [1], groups: groups)
        bn = try BatchNormAct(path / "bn", outFeatures, act: true)
        shortcutBN = try BatchNormAct(path / "bn_sc", outFeatures, act: false)
    }

    func callAsFunction(_ x: Tensor, training: Bool) throws -> Tensor {
        var y = try bn(try conv(x), training: training)
        if groups > 1 {
            let (b, t) = (y.size(0), y.size(2))
            y = try y.view([b, groups, outFeatures / groups, t]).transpose(1, 2).reshape([b, outFeatures, t])
        }
        y = try dropPath(y, dropPathRate, training: training)
        return try y + shortcutBN(tileChannels(x, to: outFeatures), training: training)
    }
}

// MARK: - Readout

/// Channel dropout → grouped Conv1d with bias (padded to a multiple of the groups) → first N → Softplus(β).
final class Readout {
    let neurons: Int, dropRate: Double, beta: Double
    let conv: Conv

    init(_ path: ParameterPath, inFeatures: Int, neurons: Int, groups: Int, beta: Double, dropRate: Double) throws {
        (self.neurons, self.dropRate, self.beta) = (neurons, dropRate, beta)
        let padded = (neurons + groups - 1) / groups * groups
        conv = try makeConv(path / "layer" / 1, dims: 1, inFeatures, padded, kernel: [1], groups: groups, bias: true)
    }

    func callAsFunction(_ x: Tensor, training: Bool) throws -> Tensor {
        var y = x
        if training && dropRate > 0 {
            // Dropout1d: whole channels, the same for all time steps of a sample.
            let keep = 1 - dropRate
            let mask = try (Tensor.rand([x.size(0), x.size(1), 1], device: x.device) + keep).floor() / keep
            y = try y * mask
        }
        y = try conv(y)
        if y.size(1) != neurons { y = try y.slice(1, 0, neurons) }
        return try y.softplus(beta: beta, threshold: 20)
    }
}
