// The U-Net runs channels-last (NHWC in memory) for speed: same values, gradients and checkpoints as the
// plain NCHW formulation, and the memory-format helpers it relies on.
import Foundation
import PoseData
import PoseModels
import Testing
import Torch
import TorchNN

@Suite struct UNetLayoutTests {
    /// A small U-Net (f = 8, stride 4) whose batch norms have non-trivial statistics and affine parameters,
    /// so eval mode exercises every term.
    static func network(seed: UInt64) throws -> UNetPoseNetwork {
        try Runtime.manualSeed(seed)
        let net = try UNetPoseNetwork(store: ParameterStore(), keypoints: 3, filters: 8, outputStride: 4)
        try withNoGrad {
            for (name, tensor) in net.store.stateDict() where name.contains(".bn.") {
                if name.hasSuffix("running_mean") || name.hasSuffix(".bias") { try tensor.uniformInPlace(-0.2, 0.2) }
                if name.hasSuffix("running_var") || name.hasSuffix(".weight") { try tensor.uniformInPlace(0.5, 1.5) }
            }
            // The head starts near zero (std 0.01); scale it up so its output differences are not hidden.
            try net.store.stateDict()["head.conv.weight"]!.mulInPlace(50)
        }
        return net
    }

    /// Largest |a − b| relative to the largest |a|.
    static func relativeError(_ a: Tensor, _ b: Tensor) throws -> Double {
        let x = try a.contiguous().toArray(Float.self), y = try b.contiguous().toArray(Float.self)
        #expect(x.count == y.count)
        let scale = x.map { Double(Swift.abs($0)) }.max() ?? 0
        let diff = zip(x, y).map { Double(Swift.abs($0 - $1)) }.max() ?? 0
        return scale > 0 ? diff / scale : diff
    }

    // 64² pools evenly down to 4²; 72×88 gives odd sizes (9×11 at stride 8), floor-pooled and upsampled back.
    @Test(arguments: [[2, 3, 64, 64], [2, 3, 72, 88]])
    func evalOutputMatchesNCHW(shape: [Int]) throws {
        let net = try Self.network(seed: 11)
        let images = try Tensor.randn(shape)
        let fast = try net.forward(images, training: false)
        let plain = try net.forward(images, training: false, layout: .contiguous)
        #expect(fast.shape == [shape[0], 3, shape[2] / 4, shape[3] / 4])
        #expect(fast.isContiguous(.contiguous), "the heatmaps must come back as plain NCHW for the read-out")
        // Only the summation order of oneDNN's convolutions differs (pooling, batch norm and ReLU are exact).
        let error = try Self.relativeError(plain, fast)
        #expect(error < 1e-5, "relative error \(error)")
        #expect(try plain.abs().max().item() > 0.1, "the test map is not degenerate")
    }

    @Test func trainingGradientsAndStatisticsMatchNCHW() throws {
        // Two copies of the same network: one trained step channels-last, one in NCHW.
        let a = try Self.network(seed: 12), b = try Self.network(seed: 99)
        try b.store.load(Dictionary(uniqueKeysWithValues: a.store.stateDict().map { ($0.key, $0.value) }))
        try Runtime.manualSeed(13)
        let images = try Tensor.randn([4, 3, 64, 80])
        let weights = try Tensor.randn([4, 3, 16, 20])
        func step(_ net: UNetPoseNetwork, _ layout: MemoryFormat) throws -> Tensor {
            let input = try images.clone().requiresGrad(true)
            let loss = try (net.forward(input, training: true, layout: layout) * weights).sum()
            try loss.backward()
            return try #require(input.grad)
        }
        let gradFast = try step(a, .channelsLast)
        let gradPlain = try step(b, .contiguous)
        #expect(try gradPlain.abs().max().item() > 0)
        let inputError = try Self.relativeError(gradPlain, gradFast)
        #expect(inputError < 1e-4, "input gradient relative error \(inputError)")
        let checked = [
            "backbone.stem.conv.weight", "backbone.stem.bn.weight", "backbone.down2.1.conv.weight",
            "backbone.down4.0.bn.bias", "backbone.up3.0.conv.weight", "backbone.up2.1.bn.weight",
            "head.conv.weight", "head.conv.bias",
        ]
        let pa = a.store.stateDict(), pb = b.store.stateDict()
        for name in checked {
            let ga = try #require(pa[name]?.grad, "\(name) has a gradient"), gb = try #require(pb[name]?.grad)
            let error = try Self.relativeError(gb, ga)
            #expect(error < 1e-4, "\(name) gradient relative error \(error)")
        }
        // Batch statistics (summed in another order) updated the running buffers alike.
        for name in pa.keys where name.hasSuffix("running_mean") || name.hasSuffix("running_var") {
            let error = try Self.relativeError(pb[name]!, pa[name]!)
            #expect(error < 1e-5, "\(name) relative error \(error)")
        }
        // The layout stays inside the forward pass: parameters, buffers and gradients remain plain.
        for (name, tensor) in pa {
            #expect(tensor.isContiguous(.contiguous), "\(name) is not plain contiguous")
            if let g = tensor.grad { #expect(g.isContiguous(.contiguous), "\(name).grad is not plain contiguous") }
        }
    }

    @Test func memoryFormatHelpers() throws {
        let x = try Tensor.randn([2, 5, 3, 4])
        #expect(x.isContiguous(.contiguous) && !x.isContiguous(.channelsLast))
        let nhwc = try x.contiguous(.channelsLast)
        #expect(nhwc.shape == [2, 5, 3, 4] && nhwc.strides == [60, 1, 20, 5])
        #expect(nhwc.isContiguous(.channelsLast) && !nhwc.isContiguous(.contiguous))
        #expect(try nhwc.toArray(Float.self) == x.toArray(Float.self))
        let back = try nhwc.contiguous(.contiguous)
        #expect(back.strides == [60, 12, 4, 1] && back.isContiguous(.contiguous))
        // Size-1 dimensions' strides do not count, as in ATen: one channel is both layouts.
        let single = try Tensor.randn([2, 1, 3, 4])
        #expect(single.isContiguous(.channelsLast) && single.isContiguous(.contiguous))
        #expect(!x.isContiguous(.channelsLast3d))
        let values = try x.toArray(Float.self)
        let same = try x.reluInPlace()
        #expect(try same.toArray(Float.self) == values.map { Swift.max($0, 0) })
        #expect(try x.toArray(Float.self) == values.map { Swift.max($0, 0) }, "relu_ writes into self")
    }
}
