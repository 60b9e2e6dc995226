// What `torch.save`'s pickle means, read off PythonFormats' value tree: persistent ids name storages in the zip
// archive, `_rebuild_tensor_v2` calls make views of them, `_rebuild_parameter` wraps one.
import PythonFormats

/// A tensor in a `torch.save` file: a strided view of one storage (a zip entry).
struct TensorRecord {
    /// The storage class, e.g. `FloatStorage`.
    let storageType: String
    /// The storage's name under `data/` in the archive.
    let key: String
    let offset: Int
    let size: [Int]
    let stride: [Int]

    /// The record `value` describes, or nil when it is not a tensor; throws when it is one but malformed.
    init?(_ value: PickleValue, path: String) throws {
        guard case .object(let call) = value, case .global("torch._utils", let function) = call.callable else { return nil }
        switch function {
        case "_rebuild_parameter", "_rebuild_parameter_with_state":
            guard let data = call.arguments.first, let inner = try TensorRecord(data, path: path) else {
                throw NNError.badFile(path: path, reason: "cannot read its pickle: malformed parameter record")
            }
            self = inner
        case "_rebuild_tensor_v2", "_rebuild_tensor":
            // ('storage', torch.FloatStorage, '0', 'cpu', numel) as the persistent id of the first argument.
            let a = call.arguments
            guard a.count >= 4, case .persistent(.tuple(let pid)) = a[0], pid.count >= 3, pid[0] == .string("storage"),
                case .global(_, let type) = pid[1], case .string(let key) = pid[2], case .int(let offset) = a[1],
                let size = a[2].items, let stride = a[3].items
            else { throw NNError.badFile(path: path, reason: "cannot read its pickle: malformed tensor record") }
            let ints: ([PickleValue]) -> [Int] = { $0.compactMap { if case .int(let i) = $0 { i } else { nil } } }
            self.init(storageType: type, key: key, offset: offset, size: ints(size), stride: ints(stride))
        default:
            return nil
        }
    }

    init(storageType: String, key: String, offset: Int, size: [Int], stride: [Int]) {
        self.storageType = storageType
        self.key = key
        self.offset = offset
        self.size = size
        self.stride = stride
    }
}
