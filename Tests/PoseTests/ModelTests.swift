// Read-out accuracy, network shapes and names, pretrained loading.
import Foundation
import PoseData
import PoseModels
import Testing
import Torch
import TorchNN

@Suite struct ReadoutTests {
    @Test(arguments: [false, true])
    func targetReadoutRecoversTheKeypoint(normalized: Bool) {
        let grid = HeatmapGrid(width: 48, height: 40, stride: 4, sigma: normalized ? 1.25 : 2, normalized: normalized)
        var rng = MersenneTwister(seed: 5)
        var worst = 0.0
        for _ in 0..<50 {
            let x = rng.uniform(12, 180), y = rng.uniform(12, 150)
            var maps = [Float](repeating: 0, count: grid.width * grid.height)
            grid.render(keypoints: [Float(x), Float(y)], into: &maps, offset: 0, uniformForMissing: false)
            // Softmax-style read-out works on logits: the log of a sum-1 target is its logit up to a constant.
            let values = normalized ? maps.map { Foundation.log(Swift.max($0, 1e-30)) } : maps
            let estimate = HeatmapReadout.read(
                maps: values, batch: 1, keypoints: 1, grid: grid,
                style: normalized ? .softmax : .peak)[0][0]
            worst = Swift.max(worst, Swift.max(abs(estimate.x - x), abs(estimate.y - y)))
            #expect(estimate.likelihood > 0.5)
        }
        #expect(worst < 0.1, "worst read-out error \(worst) model px")
    }

    @Test func flatMapHasLowLikelihood() {
        let grid = HeatmapGrid(width: 32, height: 32, stride: 4, sigma: 1.25, normalized: true)
        let flat = [Float](repeating: 0, count: 32 * 32)
        let estimate = HeatmapReadout.read(maps: flat, batch: 1, keypoints: 1, grid: grid, style: .softmax)[0][0]
        // At most the 5×5 window's share of a uniform map (less at the border, as with LP's zero padding).
        #expect(estimate.likelihood > 0 && estimate.likelihood <= 25.0 / 1024 + 1e-9)
        let peak = HeatmapReadout.read(maps: flat, batch: 1, keypoints: 1, grid: grid, style: .peak)[0][0]
        #expect(peak.likelihood == 0)
    }
}

@Suite struct NetworkTests {
    @Test func resnetHeatmapNetworkHasTorchvisionNamesAndLPShapes() throws {
        var config = PoseConfig()
        config.backbone = "resnet18"
        config.resizeWidth = 128
        config.resizeHeight = 96
        let model = try PoseModel(config: config, keypointNames: ["a", "b", "c"])
        let names = Set(model.network.store.stateDict().keys)
        #expect(names.contains("backbone.layer1.0.conv1.weight"))
        #expect(names.contains("backbone.layer4.1.bn2.running_var"))
        #expect(names.contains("head.upsampling_layers.1.weight") && names.contains("head.upsampling_layers.2.weight"))
        #expect(!names.contains { $0.hasPrefix("backbone.fc") })
        let out = try model.network.forward(Tensor.zeros([2, 3, 96, 128]), training: false)
        #expect(out.shape == [2, 3, 24, 32])
    }

    @Test func unetAndRegressionShapes() throws {
        var config = PoseConfig()
        config.backbone = "unet"
        config.unetFilters = 8
        config.resizeWidth = 64
        config.resizeHeight = 64
        let unet = try PoseModel(config: config, keypointNames: ["a", "b"])
        #expect(try unet.network.forward(Tensor.zeros([1, 3, 64, 64]), training: false).shape == [1, 2, 16, 16])
        config.downsampleFactor = 1
        let fine = try PoseModel(config: config, keypointNames: ["a", "b"])
        #expect(try fine.network.forward(Tensor.zeros([1, 3, 64, 64]), training: false).shape == [1, 2, 32, 32])
        config.backbone = "resnet18"
        config.modelType = "regression"
        let regression = try PoseModel(config: config, keypointNames: ["a", "b"])
        #expect(try regression.network.forward(Tensor.zeros([1, 3, 64, 64]), training: false).shape == [1, 4])
        config.backbone = "resnet19"
        #expect(throws: PoseModelError.self) { try PoseModel(config: config, keypointNames: ["a"]) }
    }

    @Test func pretrainedTorchvisionWeightsLoadByName() throws {
        // A torchvision-named ResNet-18 state dict (with its classifier), written as safetensors.
        let source = ParameterStore()
        _ = try ResNet(source.root, depth: 18)
        let dir = try temporaryDirectory("pretrained")
        try SafeTensors.write(source.stateDict().map { ($0.key, $0.value) }, to: URL(fileURLWithPath: dir + "/r18.safetensors"))
        var config = PoseConfig()
        config.backbone = "resnet18"
        config.resizeWidth = 64
        config.resizeHeight = 64
        let model = try PoseModel(config: config, keypointNames: ["a"])
        let report = try model.loadPretrained(path: dir + "/r18.safetensors")
        let backboneCount = model.network.store.stateDict().keys.filter { $0.hasPrefix("backbone.") }.count
        #expect(report.contains("loaded \(backboneCount) of \(backboneCount) backbone tensors"), "\(report)")
        #expect(report.contains("ignored the classifier (2 fc tensors)"))
        let a = try source.stateDict()["layer2.0.conv1.weight"]!.toArray(Float.self)
        let b = try model.network.store.stateDict()["backbone.layer2.0.conv1.weight"]!.toArray(Float.self)
        #expect(a == b)
        config.backbone = "resnet34"
        let wrong = try PoseModel(config: config, keypointNames: ["a"])
        let text = try wrong.loadPretrained(path: dir + "/r18.safetensors")
        #expect(text.contains("NOT in the file"))
    }
}
