// LP's ResNet heatmap network runs channels-last end to end (the head's PixelShuffle and transposed convolutions
// too) with batch norm folded for inference: same heatmaps and gradients as the plain NCHW formulation, and a
// saved model (torchvision/LP names only) reloads and predicts the same.
import Foundation
import PoseModels
import Testing
import Torch
import TorchNN

@Suite struct ResNetHeatmapLayoutTests {
    /// A ResNet-18 heatmap network (3 keypoints, stride 4) with non-trivial batch-norm statistics and a head
    /// scaled up from LP's near-zero start, so differences are not hidden.
    static func network(seed: UInt64, dtype: DType = .float32) throws -> ResNetHeatmapNetwork {
        try Runtime.manualSeed(seed)
        let net = try ResNetHeatmapNetwork(store: ParameterStore(dtype: dtype), depth: 18, keypoints: 3, downsampleFactor: 2)
        try withNoGrad {
            for (name, tensor) in net.store.stateDict() where name.contains("bn") || name.contains("downsample.1") {
                if name.hasSuffix("running_mean") || name.hasSuffix(".bias") { try tensor.uniformInPlace(-0.2, 0.2) }
                if name.hasSuffix("running_var") || name.hasSuffix(".weight") { try tensor.uniformInPlace(0.5, 1.5) }
            }
            for (name, tensor) in net.store.stateDict() where name.hasPrefix("head.") && name.hasSuffix("weight") {
                try tensor.mulInPlace(100)
            }
        }
        return net
    }

    @Test func inferenceMatchesPlainNCHW() throws {
        let net = try Self.network(seed: 31)
        let images = try Tensor.randn([2, 3, 64, 96])
        try withNoGrad {
            let fast = try net.forward(images, training: false)
            let plain = try net.forward(images, training: false, layout: .contiguous, foldBatchNorm: false)
            #expect(fast.shape == [2, 3, 16, 24])
            #expect(fast.isContiguous(.contiguous), "the heatmaps must come back as plain NCHW for the read-out")
            #expect(try plain.abs().max().item() > 0.01, "the test map is not degenerate")
            let error = try UNetLayoutTests.relativeError(plain, fast)
            #expect(error < 1e-4, "relative error \(error)")
        }
    }

    /// In float64, where no ReLU decision flips between the layouts' summation orders (see ResNetLayoutTests).
    @Test func trainingGradientsMatchNCHW() throws {
        let a = try Self.network(seed: 32, dtype: .float64), b = try Self.network(seed: 97, dtype: .float64)
        try b.store.load(Dictionary(uniqueKeysWithValues: a.store.stateDict().map { ($0.key, $0.value) }))
        try Runtime.manualSeed(33)
        let images = try Tensor.randn([2, 3, 64, 64], dtype: .float64)
        let weights = try Tensor.randn([2, 3, 16, 16], dtype: .float64)
        func step(_ net: ResNetHeatmapNetwork, _ layout: MemoryFormat) throws {
            try (net.forward(images, training: true, layout: layout) * weights).sum().backward()
        }
        try step(a, .channelsLast)
        try step(b, .contiguous)
        let pa = a.store.stateDict(), pb = b.store.stateDict()
        for name in [
            "backbone.conv1.weight", "backbone.layer1.0.bn1.weight", "backbone.layer4.1.conv2.weight", "head.upsampling_layers.1.weight",
            "head.upsampling_layers.2.bias",
        ] {
            let ga = try #require(pa[name]?.grad, "\(name) has a gradient"), gb = try #require(pb[name]?.grad)
            #expect(try gb.abs().max().item() > 0, "\(name)")
            let error = try UNetLayoutTests.relativeError(gb.to(.float32), ga.to(.float32))
            #expect(error < 1e-6, "\(name) gradient relative error \(error)")
        }
    }

    @Test func savedModelReloadsAndPredictsTheSame() throws {
        let net = try Self.network(seed: 34)
        let images = try Tensor.randn([2, 3, 64, 64])
        let before = try withNoGrad { try net.forward(images, training: false) }  // builds the folded copies
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("kinema-resnet-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: folder) }
        let file = folder.appendingPathComponent("model.safetensors")
        try SafeTensors.write(net.store.stateDict().map { ($0.key, $0.value) }, to: file)
        let saved = try SafeTensors.read(file).tensors
        // Only the trained weights under their torchvision/LP names: nothing folded is saved.
        #expect(Set(saved.keys) == Set(net.store.stateDict().keys))
        #expect(saved.keys.contains("backbone.layer1.0.bn1.running_var") && saved.keys.contains("head.upsampling_layers.1.weight"))
        let reloaded = try Self.network(seed: 35)
        let other = try withNoGrad { try reloaded.forward(images, training: false) }  // folded from its own weights
        try reloaded.store.load(Dictionary(uniqueKeysWithValues: saved.map { ($0.key, $0.value) }))
        let after = try withNoGrad { try reloaded.forward(images, training: false) }
        #expect(try UNetLayoutTests.relativeError(before, other) > 0.01, "a different network predicts differently")
        #expect(try UNetLayoutTests.relativeError(before, after) < 1e-6, "the reloaded model predicts the same")
    }
}
