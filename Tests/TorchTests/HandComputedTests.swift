import Testing
import Torch

/// Small cases worked out by hand.
@Suite("Conv, pooling and normalisation on hand-computed cases")
struct HandComputedTests {
    @Test func conv2dWithStridePaddingAndBias() throws {
        // 3x3 input 1..9, 2x2 kernel of ones, padding 0: sums of 2x2 windows, plus bias 1.
        let x = try Tensor((1...9).map(Float.init), shape: [1, 1, 3, 3])
        let w = try Tensor.ones([1, 1, 2, 2])
        let b = try Tensor([1] as [Float])
        #expect(try convolution(x, weight: w, bias: b).toArray(Float.self) == [13, 17, 25, 29])
        // Stride 2 with padding 1: windows at corners see one real row/column.
        #expect(try convolution(x, weight: w, stride: [2], padding: [1]).toArray(Float.self) == [1, 5, 11, 28])
        // Dilation 2: the four corners 1+3+7+9.
        #expect(try convolution(x, weight: w, dilation: [2]).toArray(Float.self) == [20])
    }

    @Test func groupedAndTransposedConv() throws {
        // Two groups, each a 1x1 kernel scaling its own channel.
        let x = try Tensor([1, 2, 3, 4] as [Float], shape: [1, 2, 1, 2])
        let w = try Tensor([10, 100] as [Float], shape: [2, 1, 1, 1])
        #expect(try convolution(x, weight: w, groups: 2).toArray(Float.self) == [10, 20, 300, 400])
        // Transposed 1-d conv, stride 2, kernel [1, 1]: each input spreads into two outputs.
        let t = try Tensor([1, 2] as [Float], shape: [1, 1, 2])
        let k = try Tensor([1, 1] as [Float], shape: [1, 1, 2])
        #expect(try convolution(t, weight: k, stride: [2], transposed: true).toArray(Float.self) == [1, 1, 2, 2])
    }

    @Test func pooling() throws {
        let x = try Tensor((1...16).map(Float.init), shape: [1, 1, 4, 4])
        #expect(try x.maxPool(kernel: [2]).toArray(Float.self) == [6, 8, 14, 16])
        #expect(try x.avgPool(kernel: [2]).toArray(Float.self) == [3.5, 5.5, 11.5, 13.5])
        #expect(try x.adaptiveAvgPool([1, 1]).item() == 8.5)
        // Padding counts as zeros for average pooling by default (PyTorch's count_include_pad=True).
        #expect(try x.avgPool(kernel: [2], stride: [2], padding: [1]).toArray(Float.self)[0] == 0.25)
    }

    @Test func normalisation() throws {
        // Batch norm in training: per-channel (x - mean) / sqrt(var + eps) with the biased variance.
        let x = try Tensor([1, 3, 10, 30] as [Double], shape: [2, 2, 1, 1])  // channel 0: 1, 10; channel 1: 3, 30
        let mean = try Tensor.zeros([2], dtype: .float64), variance = try Tensor.ones([2], dtype: .float64)
        let y = try x.batchNorm(weight: nil, bias: nil, runningMean: mean, runningVar: variance, training: true, momentum: 0.1, eps: 0)
        #expect(try y.toArray(Double.self).map { ($0 * 1e6).rounded() / 1e6 } == [-1, -1, 1, 1])
        // Running statistics move 10% towards the batch mean and unbiased variance.
        let m = try mean.toArray(Double.self)
        #expect(Swift.abs(m[0] - 0.55) < 1e-12 && Swift.abs(m[1] - 1.65) < 1e-12)
        let v = try variance.toArray(Double.self)
        #expect(Swift.abs(v[0] - (0.9 + 0.1 * 40.5)) < 1e-12 && Swift.abs(v[1] - (0.9 + 0.1 * 364.5)) < 1e-12)
        // Layer norm of [1, 2, 3]: (x - 2) / sqrt(2/3).
        let l = try Tensor([1, 2, 3] as [Double]).layerNorm([3], weight: nil, bias: nil, eps: 0).toArray(Double.self)
        #expect(Swift.abs(l[0] + 1.224744871391589) < 1e-9 && Swift.abs(l[1]) < 1e-12)
        // Group norm with one group per channel equals instance norm.
        let g = try Tensor([0, 2, 5, 7] as [Double], shape: [1, 2, 2]).groupNorm(groups: 2, weight: nil, bias: nil, eps: 0)
        #expect(try g.toArray(Double.self) == [-1, 1, -1, 1])
    }

    @Test func softmaxInterpolationPixelShuffle() throws {
        let s = try Tensor([0, 0, Double(2).squareRoot().squareRoot()] as [Double]).softmax(0).sum().item()
        #expect(Swift.abs(s - 1) < 1e-12)
        let x = try Tensor([1, 2, 3, 4] as [Float], shape: [1, 1, 2, 2])
        #expect(
            try x.interpolate(scale: [2], mode: .nearest).toArray(Float.self)
                == [1, 1, 2, 2, 1, 1, 2, 2, 3, 3, 4, 4, 3, 3, 4, 4])
        #expect(
            try x.interpolate(size: [3, 3], mode: .linear, alignCorners: true).toArray(Float.self)
                == [1, 1.5, 2, 2, 2.5, 3, 3, 3.5, 4])
        let c = try Tensor([1, 2, 3, 4] as [Float], shape: [1, 4, 1, 1]).pixelShuffle(2)
        #expect(c.shape == [1, 1, 2, 2])
        #expect(try c.toArray(Float.self) == [1, 2, 3, 4])
        // An identity affine grid samples the image back unchanged.
        let theta = try Tensor([1, 0, 0, 0, 1, 0] as [Float], shape: [1, 2, 3])
        let grid = try affineGrid(theta, size: [1, 1, 2, 2], alignCorners: false)
        #expect(try x.gridSample(grid).toArray(Float.self) == [1, 2, 3, 4])
    }
}
