// A model folder written by `kinema train`, opened in one call: config, network and best weights.
import Foundation
import PoseData
import Torch
import TorchNN
import TorchOptim

/// A model directory written by `kinema train`, loaded with its best weights.
public struct TrainedModel {
    /// The folder and its file names.
    public let folder: ModelDirectory
    public let project: PoseProject
    public let model: PoseModel
    /// The epoch the loaded weights come from.
    public let epoch: Int

    /// The folder's path, as given.
    public var directory: String { folder.path }

    /// Opens a model folder: reads its `config.yaml` (the config training used), rebuilds the network
    /// and loads `checkpoints/best.safetensors` (falling back to `last`).
    ///
    /// Mode: the network is ready for inference. Pose networks take an explicit `training:` flag on every
    /// forward pass (`PoseModel.predict` and evaluation pass `false`: batch norm uses its running
    /// statistics), so there is no mode to switch; to train on, use `PoseTrainer` with `resume`.
    /// Threads are not touched: libtorch uses whatever the process set (`ProcessPolicy`). The weights (saved from the
    /// host) are loaded onto `device`.
    public init(directory path: String, device: Device = .cpu) throws {
        let folder = ModelDirectory(path)
        guard FileManager.default.fileExists(atPath: folder.config) else {
            throw PoseModelError("\(path) is not a Kinema model directory (no config.yaml); pass the folder `kinema train` wrote")
        }
        let project = try PoseProject.load(configPath: folder.config)
        guard let names = project.config.keypointNames, !names.isEmpty else {
            throw PoseModelError("\(folder.config): data.keypoint_names is missing; it is needed to name the prediction columns")
        }
        let model = try PoseModel(config: project.config, keypointNames: names, device: device)
        guard let checkpoint = folder.checkpointForPrediction() else {
            throw PoseModelError("\(path) has no checkpoint yet (checkpoints/best.safetensors); train it first")
        }
        let meta: [String: String]
        do {
            meta = try Checkpoint.load(from: URL(fileURLWithPath: checkpoint), store: model.network.store, restoreRNG: false)
        } catch NNError.badFile(_, let reason) where reason.hasPrefix("does not fit this model") {
            // The weights are what training wrote; the config that should describe them is what changed.
            throw PoseModelError(
                "\(folder.config): does not describe the weights in \(checkpoint) (it builds a \(project.config.backbone) network they do not fit) — restore the config.yaml that training wrote"
            )
        }
        self.folder = folder
        self.project = project
        self.model = model
        epoch = Int(meta["epoch"] ?? "") ?? 0
    }

    /// The scorer written into prediction CSVs: LP's `heatmap_tracker`, or DLC's network name.
    public var scorer: String {
        if project.kind == .deepLabCut {
            return "DLC_\(networkName)_\(project.dlcTask)\(project.dlcDate)shuffle1_snapshot_best-\(epoch)"
        }
        if model.network.style == .regression { return "regression_tracker" }
        return model.config.isContextModel ? "heatmap_mhcrnn_tracker" : "heatmap_tracker"
    }

    /// `Resnet50`, `Unet`: DLC's capitalised net type.
    var networkName: String {
        let b = model.config.backbone.lowercased()
        if b.hasPrefix("resnet") { return "Resnet" + b.dropFirst(6).prefix { $0.isNumber } }
        return b.prefix(1).uppercased() + b.dropFirst()
    }
}
