import Foundation
import KinemaFiles
import OrderedCollections
import PythonFormats
import Torch

/// Reads PyTorch files written by `torch.save` (.pt/.pth/.ckpt, zip format): a `state_dict`, or a checkpoint
/// holding one under `state_dict`/`model`/`model_state_dict`. No Python runs: PythonFormats' pickle machine
/// describes the objects and `TensorRecord` reads the tensors off that description.
public enum TorchFile {
    /// The tensors of the state dict in `url`, by their dotted names, on the CPU.
    public static func loadStateDict(_ url: URL) throws -> OrderedDictionary<String, Tensor> {
        let data: Data
        do { data = try Data(contentsOf: url, options: .alwaysMapped) } catch {
            throw NNError.badFile(path: url.path, reason: "cannot be read (\(FileProblem.describe(error)))")
        }
        let archive = try ZipArchive(data: data, path: url.path)
        guard let pickleName = archive.entries.keys.first(where: { $0.hasSuffix("/data.pkl") || $0 == "data.pkl" }) else {
            throw NNError.badFile(path: url.path, reason: "is a zip archive but not a torch.save file (no data.pkl)")
        }
        let prefix = String(pickleName.dropLast("data.pkl".count))
        let root: PickleValue
        do { root = try PickleValue(unpickling: try archive.contents(pickleName)) } catch let error as PythonFormatError {
            throw NNError.badFile(path: url.path, reason: "cannot read its pickle: \(error.message)")
        }
        guard let dict = try stateDict(in: root, path: url.path) else {
            throw NNError.badFile(
                path: url.path,
                reason: "holds no state dict of tensors (looked at the top level and under state_dict, model, model_state_dict)")
        }
        var result: OrderedDictionary<String, Tensor> = [:]
        var storages: [String: Tensor] = [:]
        for (k, v) in dict {
            guard case .string(let name) = k, let tensor = try TensorRecord(v, path: url.path) else { continue }
            let (type, key) = (tensor.storageType, tensor.key)
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
            let view = try Torch.call1(
                "aten::as_strided", [.tensor(storage), .ints(tensor.size), .ints(tensor.stride), .int(tensor.offset)])
            result[name] = try view.clone()
        }
        return result
    }

    /// The entries of the first dict (or OrderedDict) holding tensors: `value` itself, or one under a usual key.
    private static func stateDict(in value: PickleValue, path: String) throws -> [PickleEntry]? {
        guard let entries = value.entries else { return nil }
        if try entries.contains(where: { try TensorRecord($0.value, path: path) != nil }) { return entries }
        for key in ["state_dict", "model", "model_state_dict"] {
            if let i = entries.firstIndex(where: { $0.key == .string(key) }), let inner = try stateDict(in: entries[i].value, path: path) {
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
