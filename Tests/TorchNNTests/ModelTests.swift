import Foundation
import Testing
import Torch
import TorchNN
import TorchOptim

@Suite("Parameters, layers and ResNet")
struct ModelTests {
    @Test func resnetMatchesTorchvisionNamesAndCounts() throws {
        // Parameter counts of torchvision.models.resnet18() / resnet50().
        let r18 = ParameterStore()
        _ = try ResNet(r18.root, depth: 18)
        #expect(r18.parameterCount == 11_689_512)
        let keys = Set(r18.stateDict().keys)
        for key in [
            "conv1.weight", "bn1.running_mean", "bn1.num_batches_tracked", "layer1.0.conv1.weight",
            "layer2.0.downsample.0.weight", "layer2.0.downsample.1.running_var", "layer4.1.bn2.bias", "fc.weight", "fc.bias",
        ] {
            #expect(keys.contains(key), "missing \(key)")
        }
        #expect(keys.count == 122)  // len(resnet18().state_dict())
        let r50 = ParameterStore()
        let net = try ResNet(r50.root / "backbone", depth: 50, classes: nil)
        #expect(r50.parameterCount == 25_557_032 - 2048 * 1000 - 1000)
        #expect(r50.parameters.keys.contains("backbone.layer3.5.conv3.weight"))
        let y = try withNoGrad { try net.features(Tensor.randn([1, 3, 64, 64]), training: false) }
        #expect(y.shape == [1, 2048, 2, 2])
    }

    @Test func pytorchDefaultInitialisationBounds() throws {
        try Runtime.manualSeed(0)
        let store = ParameterStore()
        let linear = try Linear(store.root / "fc", 100, 10)
        let w = try linear.weight.toArray(Float.self), b = try #require(linear.bias).toArray(Float.self)
        #expect(w.allSatisfy { Swift.abs($0) <= 0.1 } && b.allSatisfy { Swift.abs($0) <= 0.1 })
        #expect(w.map { Swift.abs($0) }.max()! > 0.09, "uniform over the whole ±1/√fan_in range")
        let conv = try Conv(store.root / "conv", 4, 8, kernel: [3])
        #expect(try conv.weight.abs().max().item() <= 1 / 6.0 + 1e-7)  // fan_in = 4·3·3 = 36
        #expect(conv.weight.shape == [8, 4, 3, 3])
        let deconv = try ConvTranspose(store.root / "deconv", 8, 4, kernel: [4], stride: [2], padding: [1])
        #expect(deconv.weight.shape == [8, 4, 4, 4])
        let out = try deconv(Tensor.zeros([1, 8, 5, 5]))
        #expect(out.shape == [1, 4, 10, 10])
        #expect(throws: NNError.self) { try store.parameter("fc.weight", shape: [1], .zeros) }
    }

    @Test func loadReportsMismatchesClearly() throws {
        let store = ParameterStore()
        _ = try Linear(store.root / "head", 3, 2)
        let report = try store.load(
            [
                "head.weight": try Tensor.ones([2, 3]), "head.bias": try Tensor.ones([5]),
                "extra.weight": try Tensor.ones([1]),
            ], strict: false)
        #expect(report.loaded == ["head.weight"])
        #expect(report.shapeMismatches.count == 1 && report.unexpected == ["extra.weight"])
        #expect(try store.parameters["head.weight"]!.sum().item() == 6)
        #expect(report.description.contains("head.bias: file [5], model [2]"))
        #expect(throws: NNError.self) { try store.load(["head.weight": try Tensor.ones([2, 3])], strict: true) }
    }

    @Test func smallCNNLearnsASyntheticTask() throws {
        // Where is the bright square: left or right half? From scratch, Adam, 60 steps.
        try Runtime.manualSeed(7)
        let store = ParameterStore()
        let net = Sequential([
            try Conv(store.root / 0, 1, 8, kernel: [3], padding: [1]), try BatchNorm(store.root / 1, 8), Lambda { try $0.relu() },
            Lambda { try $0.maxPool(kernel: [2]) },
            try Conv(store.root / 4, 8, 16, kernel: [3], padding: [1]), Lambda { try $0.relu() },
            Lambda { try $0.adaptiveAvgPool([1, 2]).flatten(from: 1) },
            try Linear(store.root / 7, 32, 2),
        ])
        let optimizer = Adam(store, learningRate: 0.01)
        var generator = SplitMix(seed: 3)
        func batch() throws -> (Tensor, Tensor) {
            var pixels = [Float](repeating: 0, count: 32 * 16 * 16), labels = [Int64]()
            for n in 0..<32 {
                let right = generator.next() % 2 == 1
                let x0 = Int(generator.next() % 5) + (right ? 9 : 1), y0 = Int(generator.next() % 12)
                for y in y0..<(y0 + 4) { for x in x0..<(x0 + 4) { pixels[n * 256 + y * 16 + x] = 1 } }
                for i in 0..<256 { pixels[n * 256 + i] += Float(generator.next() % 100) / 400 }
                labels.append(right ? 1 : 0)
            }
            return (try Tensor(pixels, shape: [32, 1, 16, 16]), try Tensor(labels))
        }
        var losses: [Double] = []
        for _ in 0..<60 {
            let (x, y) = try batch()
            try store.zeroGrad()
            let loss = try crossEntropy(net(x, training: true), y)
            try loss.backward()
            try optimizer.step()
            losses.append(try loss.item())
        }
        let (x, y) = try batch()
        let accuracy = try withNoGrad { try net(x).argmax(dim: 1).eq(y).to(.float32).mean().item() }
        #expect(losses[0] > 0.5, "an untrained classifier is near chance (ln 2)")
        #expect(losses.suffix(5).reduce(0, +) / 5 < 0.15, "final losses \(losses.suffix(5))")
        #expect(accuracy >= 0.95)
    }
}

/// A tiny deterministic generator for test data.
struct SplitMix {
    var state: UInt64
    init(seed: UInt64) { state = seed }
    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
}
