// A trained model on disk and building a model from its configuration and weights in one call.
import Foundation
import KinemaFiles
import Torch
import TorchNN

extension DwiseNeuro {
    /// Builds the model for `config` and loads `weights` into it, in one call. The model has no mode of its
    /// own: every forward takes `training:` (false = eval: BatchNorm running statistics, no dropout or DropPath).
    ///
    /// `weights` may be
    /// - a model folder (`kinema neural train` output): its `model.safetensors`;
    /// - a `.safetensors` state dict (original `state_dict` names, as `model.safetensors`);
    /// - a training checkpoint (`checkpoint.safetensors`): its EMA weights when it has them (what the model
    ///   folder would hold), else its raw weights;
    /// - a `torch.save` file (`.pt`, `.pth`, `.ckpt`, `.bin`) holding a state dict, e.g. published weights.
    ///
    /// Every tensor of the model must be in the file with its shape, and nothing else; otherwise the error
    /// names the file and lists what is missing, extra or of another shape.
    public convenience init(config: DwiseNeuroConfig, weights: URL, device: Device = .cpu) throws {
        var isFolder: ObjCBool = false
        guard FileManager.default.fileExists(atPath: weights.path, isDirectory: &isFolder) else {
            throw ModelError("\(weights.path): no such weights file or model folder")
        }
        let file = isFolder.boolValue ? weights.appendingPathComponent(SavedModel.weightsFile) : weights
        let tensors = try SavedModel.stateDict(in: file)
        try self.init(config: config, device: device)
        let report = try store.load(tensors, strict: false)
        guard report.isExact else { throw ModelError("\(file.path) does not fit the model configuration: \(report)") }
    }
}

/// A trained model on disk: `model.yaml` (configuration) + `model.safetensors` (EMA weights).
public enum SavedModel {
    static let configFile = "model.yaml"
    static let weightsFile = "model.safetensors"

    /// Writes the configuration and the store's current weights into `folder`.
    public static func save(_ model: DwiseNeuro, to folder: URL, metadata: [String: String] = [:]) throws {
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        try AtomicFile.write(Data(try model.config.yaml().utf8), to: folder.appendingPathComponent(configFile))
        try SafeTensors.write(
            model.store.stateDict().map { ($0.key, $0.value) }, metadata: metadata,
            to: folder.appendingPathComponent(weightsFile))
    }

    /// The configuration in a model folder's `model.yaml`.
    public static func config(in folder: URL) throws -> DwiseNeuroConfig {
        let yamlURL = folder.appendingPathComponent(configFile)
        guard FileManager.default.fileExists(atPath: yamlURL.path) else {
            throw ModelError("\(yamlURL.path): missing model configuration (train a model with `kinema neural train` first)")
        }
        return try DwiseNeuroConfig.load(yaml: yamlURL)
    }

    /// Loads a model saved by `save` (or any folder with those two files).
    public static func load(from folder: URL, device: Device = .cpu) throws -> DwiseNeuro {
        try DwiseNeuro(config: try config(in: folder), weights: folder, device: device)
    }

    /// The model's tensors in a weights file, by `state_dict` name (see `DwiseNeuro(config:weights:)`).
    static func stateDict(in file: URL) throws -> [String: Tensor] {
        switch file.pathExtension.lowercased() {
        case "pt", "pth", "ckpt", "bin":
            return Dictionary(uniqueKeysWithValues: try TorchFile.loadStateDict(file).map { ($0.key, $0.value) })
        default:
            let (tensors, metadata) = try SafeTensors.read(file)
            guard metadata["format"] == "kinema-checkpoint-1" else {
                return Dictionary(uniqueKeysWithValues: tensors.map { ($0.key, $0.value) })
            }
            // A checkpoint (TorchOptim.Checkpoint): `ema.*` is the whole averaged state, `model.*` the raw one.
            let prefix = tensors.keys.contains { $0.hasPrefix("ema.") } ? "ema." : "model."
            var out: [String: Tensor] = [:]
            for (name, tensor) in tensors where name.hasPrefix(prefix) { out[String(name.dropFirst(prefix.count))] = tensor }
            return out
        }
    }
}
