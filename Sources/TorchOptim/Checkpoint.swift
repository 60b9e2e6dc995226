import Foundation
import Torch
import TorchNN

/// Everything needed to resume training exactly, in one safetensors file:
/// weights and buffers (`model.*`), optimizer state (`optim.*`), EMA weights (`ema.*`), libtorch's CPU RNG
/// state (`rng.cpu`), and string metadata (epoch, step, schedule position, anything the trainer adds).
public enum Checkpoint {
    public static func save(
        to url: URL, store: ParameterStore, optimizer: (any Optimizer)? = nil,
        ema: ExponentialMovingAverage? = nil, metadata: [String: String] = [:]
    ) throws {
        var tensors: [(String, Tensor)] = store.stateDict().map { ("model." + $0.key, $0.value) }
        if let optimizer { tensors += try optimizer.stateTensors().map { ("optim." + $0.0, $0.1) } }
        if let ema { tensors += ema.shadow.sorted(by: { $0.key < $1.key }).map { ("ema." + $0.key, $0.value) } }
        tensors.append(("rng.cpu", try Runtime.rngState()))
        var meta = metadata
        if let optimizer { meta["optim.lr"] = String(optimizer.learningRate) }
        meta["format"] = "kinema-checkpoint-1"
        try SafeTensors.write(tensors, metadata: meta, to: url)
    }

    /// Restores into the given objects and returns the metadata.
    /// - Parameter restoreRNG: also restore libtorch's CPU generator (for exact resumption).
    @discardableResult
    public static func load(
        from url: URL, store: ParameterStore, optimizer: (any Optimizer)? = nil,
        ema: ExponentialMovingAverage? = nil, restoreRNG: Bool = true
    ) throws -> [String: String] {
        let (tensors, metadata) = try SafeTensors.read(url)
        func group(_ prefix: String) -> [String: Tensor] {
            var out: [String: Tensor] = [:]
            for (k, v) in tensors where k.hasPrefix(prefix) { out[String(k.dropFirst(prefix.count))] = v }
            return out
        }
        let model = group("model.")
        guard !model.isEmpty else { throw NNError.badFile(path: url.path, reason: "is not a Kinema checkpoint (no model.* tensors)") }
        do {
            try store.load(model, strict: true)
        } catch let error as NNError {
            throw NNError.badFile(path: url.path, reason: "does not fit this model: \(error)")
        }
        if let optimizer {
            try optimizer.loadState(group("optim."))
            if let lr = metadata["optim.lr"].flatMap(Double.init) { optimizer.learningRate = lr }
        }
        if let ema { try ema.loadShadow(group("ema.")) }
        if restoreRNG, let rng = tensors["rng.cpu"] { try Runtime.setRNGState(rng) }
        return metadata
    }
}
