// Opening a trained model directory (LP layout) for evaluation and prediction.
import Foundation
import PoseData
import TorchNN
import TorchOptim

/// A model directory written by `kinema train`, loaded with its best weights.
public struct TrainedModel {
    public let directory: String
    public let project: PoseProject
    public let model: PoseModel
    /// The epoch the loaded weights come from.
    public let epoch: Int

    /// Opens `directory`: reads its `config.yaml` (the config training used), rebuilds the network and
    /// loads `checkpoints/best.safetensors` (falling back to `last`).
    public static func open(_ directory: String) throws -> TrainedModel {
        let configPath = directory + "/config.yaml"
        guard FileManager.default.fileExists(atPath: configPath) else {
            throw PoseModelError("\(directory) is not a Kinema model directory (no config.yaml); pass the folder `kinema train` wrote")
        }
        let project = try PoseProject.load(configPath: configPath)
        configureThreads()
        guard let names = project.config.keypointNames, !names.isEmpty else {
            throw PoseModelError("\(configPath): data.keypoint_names is missing; it is needed to name the prediction columns")
        }
        let model = try PoseModel(config: project.config, keypointNames: names)
        var checkpoint = directory + "/checkpoints/best.safetensors"
        if !FileManager.default.fileExists(atPath: checkpoint) { checkpoint = directory + "/checkpoints/last.safetensors" }
        guard FileManager.default.fileExists(atPath: checkpoint) else {
            throw PoseModelError("\(directory) has no checkpoint yet (checkpoints/best.safetensors); train it first")
        }
        let meta = try Checkpoint.load(from: URL(fileURLWithPath: checkpoint), store: model.network.store, restoreRNG: false)
        return TrainedModel(directory: directory, project: project, model: model, epoch: Int(meta["epoch"] ?? "") ?? 0)
    }

    /// The scorer written into prediction CSVs: LP's `heatmap_tracker`, or DLC's network name.
    public var scorer: String {
        if project.kind == .deepLabCut {
            return "DLC_\(networkName)_\(project.dlcTask)\(project.dlcDate)shuffle1_snapshot_best-\(epoch)"
        }
        return model.network.style == .regression ? "regression_tracker" : "heatmap_tracker"
    }

    /// `Resnet50`, `Unet`: DLC's capitalised net type.
    var networkName: String {
        let b = model.config.backbone.lowercased()
        if b.hasPrefix("resnet") { return "Resnet" + b.dropFirst(6).prefix { $0.isNumber } }
        return b.prefix(1).uppercased() + b.dropFirst()
    }
}
