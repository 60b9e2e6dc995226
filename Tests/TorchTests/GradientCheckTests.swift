import Testing
import Torch

/// Autograd against central finite differences in float64, one test per op family.
@Suite("Gradients match finite differences (float64)")
struct GradientCheckTests {
    /// Compares d f / d inputs from backward() with (f(x+h) - f(x-h)) / 2h for every element.
    func gradcheck(
        _ shapes: [[Int]], seed: UInt64 = 1, positive: Bool = false, tolerance: Double = 1e-6,
        _ f: ([Tensor]) throws -> Tensor
    ) throws {
        try Runtime.manualSeed(seed)
        let inputs = try shapes.map { shape -> Tensor in
            let x = try Tensor.randn(shape, dtype: .float64)
            return positive ? try x.abs() + 0.5 : x
        }
        for x in inputs { try x.requiresGrad(true) }
        let out = try f(inputs)
        try out.sum().backward()
        let h = 1e-6
        for (k, x) in inputs.enumerated() {
            let analytic = try #require(x.grad).toArray(Double.self)
            var values = try x.toArray(Double.self)
            for i in 0..<values.count {
                func evaluate(_ v: Double) throws -> Double {
                    values[i] = v
                    let probe = try Tensor(values, shape: x.shape)
                    var args = inputs.map { try! $0.detach() }
                    args[k] = probe
                    return try withNoGrad { try f(args).sum().item() }
                }
                let original = values[i]
                let numeric = (try evaluate(original + h) - evaluate(original - h)) / (2 * h)
                values[i] = original
                let scale = Swift.max(1, Swift.abs(numeric))
                #expect(
                    Swift.abs(analytic[i] - numeric) / scale < tolerance,
                    "input \(k) element \(i): autograd \(analytic[i]) vs finite difference \(numeric)")
            }
        }
    }

    @Test func arithmetic() throws {
        try gradcheck([[2, 3], [3]]) { x in try (x[0] * x[1] + x[0] / (x[1].abs() + 1) - x[1] * 2.5).tanh() }
        try gradcheck([[4]], positive: true) { x in try x[0].sqrt() + x[0].log() + x[0].exp() * 0.1 + x[0].pow(1.7) + x[0].rsqrt() }
        try gradcheck([[5]]) { x in try x[0].sin() * x[0].cos() + x[0].clamp(min: -0.3, max: 0.4) }
        try gradcheck([[3, 4], [4, 2]]) { x in try x[0].matmul(x[1]) }
        try gradcheck([[2, 3], [2, 3]]) { x in try einsum("ij,ij->i", [x[0], x[1]]) }
    }

    @Test func reductions() throws {
        try gradcheck([[3, 4]]) { x in try x[0].sum(dims: [1]) * x[0].mean() }
        try gradcheck([[3, 4]]) { x in try x[0].variance(dims: [0]) + x[0].std(dims: [1], correction: 0).sum() }
        try gradcheck([[3, 4]]) { x in try x[0].logsumexp(dims: [1]) + x[0].norm(2) }
        try gradcheck([[3, 4]]) { x in try x[0].max(dim: 1).values }
    }

    @Test func shapeAndIndexing() throws {
        try gradcheck([[2, 3], [2, 3]]) { x in
            try cat([x[0], x[1] * 2], dim: 1).permute([1, 0]).reshape([3, 4]).slice(0, 1, 3) * stack([x[0], x[1]]).sum()
        }
        try gradcheck([[4, 3]]) { x in
            let idx = try Tensor([2, 0, 2] as [Int64])
            return try x[0].index([idx]).pow(2) + x[0].indexSelect(1, try Tensor([1] as [Int64])).sum()
        }
        try gradcheck([[2, 3]]) { x in try x[0].padded([1, 2], value: 0.5).flip([1]).unsqueeze(0).expand([2, 2, 6]) }
    }

    @Test func convolutions() throws {
        try gradcheck([[1, 2, 7], [4, 2, 3], [4]]) { x in
            try convolution(x[0], weight: x[1], bias: x[2], stride: [2], padding: [1], dilation: [1])
        }
        try gradcheck([[1, 4, 5, 5], [4, 2, 3, 3]]) { x in
            try convolution(x[0], weight: x[1], stride: [1], padding: [2], dilation: [2], groups: 2)
        }
        try gradcheck([[1, 1, 3, 4, 4], [2, 1, 2, 3, 3], [2]]) { x in
            try convolution(x[0], weight: x[1], bias: x[2], stride: [1, 2, 2], padding: [1])
        }
        try gradcheck([[1, 2, 3, 3], [2, 3, 3, 3], [3]]) { x in
            try convolution(x[0], weight: x[1], bias: x[2], stride: [2], padding: [1], transposed: true, outputPadding: [1])
        }
    }

    @Test func pooling() throws {
        try gradcheck([[1, 2, 6, 6]]) { x in try x[0].maxPool(kernel: [3], stride: [2], padding: [1]) }
        try gradcheck([[1, 2, 6, 6]]) { x in try x[0].avgPool(kernel: [2]) + x[0].adaptiveAvgPool([3, 2]).sum() }
        try gradcheck([[1, 1, 4, 4, 4]]) { x in try x[0].maxPool(dims: 3, kernel: [2]) }
    }

    @Test func normalisation() throws {
        try gradcheck([[4, 3, 2, 2], [3], [3]]) { x in
            try x[0].batchNorm(weight: x[1], bias: x[2], runningMean: nil, runningVar: nil, training: true)
        }
        try gradcheck([[2, 4, 3], [4], [4]]) { x in try x[0].groupNorm(groups: 2, weight: x[1], bias: x[2]) }
        try gradcheck([[2, 5], [5], [5]]) { x in try x[0].layerNorm([5], weight: x[1], bias: x[2]) }
    }

    @Test func activations() throws {
        try gradcheck([[10]]) { x in
            try x[0].gelu() + x[0].gelu(tanhApproximation: true) + x[0].silu() + x[0].softplus(beta: 2) + x[0].sigmoid()
                + x[0].elu() + x[0].leakyRelu(0.1) + x[0].mish()
        }
        try gradcheck([[3, 4]]) { x in try x[0].softmax(1) * x[0].logSoftmax(0) }
    }

    @Test func resampling() throws {
        try gradcheck([[1, 1, 3, 4]]) { x in try x[0].interpolate(size: [5, 7], mode: .linear, alignCorners: true) }
        try gradcheck([[1, 1, 3, 3]]) { x in try x[0].interpolate(size: [5, 5], mode: .cubic) }
        try gradcheck([[1, 2, 3, 3]]) { x in try x[0].interpolate(scale: [2], mode: .nearest) }
        try gradcheck([[1, 4, 2, 2]]) { x in try x[0].pixelShuffle(2) }
        try gradcheck([[1, 2, 4, 4], [1, 2, 3]]) { x in
            let grid = try affineGrid(x[1] * 0.3, size: [1, 2, 3, 3], alignCorners: false)
            return try x[0].gridSample(grid, mode: .bilinear, padding: .border)
        }
    }

    @Test func losses() throws {
        try gradcheck([[3, 4], [3, 4]]) { x in
            try mseLoss(x[0], x[1]) + smoothL1Loss(x[0], x[1], beta: 0.5) + binaryCrossEntropyWithLogits(x[0], x[1].sigmoid())
        }
        try gradcheck([[4, 3]]) { x in try crossEntropy(x[0], try Tensor([0, 2, 1, 2] as [Int64]), labelSmoothing: 0.1) }
        try gradcheck([[5]]) { x in try poissonNLLLoss(x[0], try Tensor([0, 1, 2, 0, 3] as [Double]), logInput: true) }
    }
}
