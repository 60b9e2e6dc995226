import Foundation
import OrderedCollections
import Torch

/// Reads PyTorch files written by `torch.save` (.pt/.pth/.ckpt, zip format): a `state_dict`, or a checkpoint
/// holding one under `state_dict`/`model`/`model_state_dict`. No Python runs: the pickle is interpreted
/// for tensors and dictionaries only.
public enum TorchFile {
    /// The tensors of the state dict in `url`, by their dotted names, on the CPU.
    public static func loadStateDict(_ url: URL) throws -> OrderedDictionary<String, Tensor> {
        let data: Data
        do { data = try Data(contentsOf: url, options: .alwaysMapped) } catch {
            throw NNError.badFile(path: url.path, reason: "cannot be read (\(error.localizedDescription))")
        }
        let archive = try ZipArchive(data: data, path: url.path)
        guard let pickleName = archive.entries.keys.first(where: { $0.hasSuffix("/data.pkl") || $0 == "data.pkl" }) else {
            throw NNError.badFile(path: url.path, reason: "is a zip archive but not a torch.save file (no data.pkl)")
        }
        let prefix = String(pickleName.dropLast("data.pkl".count))
        var reader = PickleReader(try archive.contents(pickleName), path: url.path)
        let root = try reader.run()
        guard let dict = stateDict(in: root) else {
            throw NNError.badFile(path: url.path, reason: "holds no state dict of tensors (looked at the top level and under state_dict, model, model_state_dict)")
        }
        var result: OrderedDictionary<String, Tensor> = [:]
        var storages: [String: Tensor] = [:]
        for (k, v) in Swift.zip(dict.keys, dict.values) {
            guard case .string(let name) = k, case .tensor(let type, let key, let offset, let size, let stride) = v else { continue }
            let storage: Tensor
            if let cached = storages[key] {
                storage = cached
            } else {
                guard let dtype = dtype(ofStorage: type) else {
                    throw NNError.badFile(path: url.path, reason: "tensor '\(name)' has unsupported storage type \(type)")
                }
                let bytes = try archive.contents(prefix + "data/" + key)
                storage = try bytes.withUnsafeBytes { raw in
                    try Tensor(bytes: raw, dtype: dtype, shape: [bytes.count / dtype.byteSize])
                }
                storages[key] = storage
            }
            let view = try Torch.call1("aten::as_strided", [.tensor(storage), .ints(size), .ints(stride), .int(offset)])
            result[name] = try view.clone()
        }
        return result
    }

    private static func stateDict(in value: PickleValue) -> PickleDict? {
        guard case .dict(let d) = value else { return nil }
        let hasTensors = d.values.contains { if case .tensor = $0 { true } else { false } }
        if hasTensors { return d }
        for key in ["state_dict", "model", "model_state_dict"] {
            if let i = d.keys.firstIndex(where: { if case .string(key) = $0 { true } else { false } }),
               let inner = stateDict(in: d.values[i]) {
                return inner
            }
        }
        return nil
    }

    private static func dtype(ofStorage type: String) -> DType? {
        switch type {
        case "FloatStorage": .float32
        case "DoubleStorage": .float64
        case "HalfStorage": .float16
        case "BFloat16Storage": .bfloat16
        case "LongStorage": .int64
        case "IntStorage": .int32
        case "ShortStorage": .int16
        case "CharStorage": .int8
        case "ByteStorage": .uint8
        case "BoolStorage": .bool
        default: nil
        }
    }
}
