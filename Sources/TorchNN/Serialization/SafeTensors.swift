import Foundation
import KinemaFiles
import OrderedCollections
import Torch

/// The safetensors format: 8-byte little-endian header length, a JSON header
/// `{"name": {"dtype": "F32", "shape": [..], "data_offsets": [begin, end]}, "__metadata__": {..}}`, then raw bytes.
/// It is how Kinema stores weights and checkpoints, and what Hugging Face tools read.
public enum SafeTensors {
    /// Writes tensors (any device; copied to host) and string metadata atomically (temp file, then rename).
    public static func write(_ tensors: [(String, Tensor)], metadata: [String: String] = [:], to url: URL) throws {
        var header: [String: Any] = [:]
        if !metadata.isEmpty { header["__metadata__"] = metadata }
        var offset = 0
        for (name, t) in tensors {
            let n = t.count * t.dtype.byteSize
            header[name] = ["dtype": t.dtype.safetensorsName, "shape": t.shape, "data_offsets": [offset, offset + n]] as [String: Any]
            offset += n
        }
        var json = try JSONSerialization.data(withJSONObject: header, options: [.sortedKeys])
        // Pad so the data starts 8-byte aligned, as the reference writer does.
        while (json.count + 8) % 8 != 0 { json.append(0x20) }
        var file = Data(capacity: 8 + json.count + offset)
        var length = UInt64(json.count).littleEndian
        withUnsafeBytes(of: &length) { file.append(contentsOf: $0) }
        file.append(json)
        for (_, t) in tensors {
            try t.withHostBytes { file.append(contentsOf: $0) }
        }
        try AtomicFile.write(file, to: url)
    }

    /// Reads every tensor (onto the CPU) and the metadata.
    public static func read(_ url: URL) throws -> (tensors: OrderedDictionary<String, Tensor>, metadata: [String: String]) {
        let data: Data
        do { data = try Data(contentsOf: url, options: .alwaysMapped) } catch {
            throw NNError.badFile(path: url.path, reason: "cannot be read (\(FileProblem.describe(error)))")
        }
        func bad(_ reason: String) -> NNError { .badFile(path: url.path, reason: "not a valid safetensors file: \(reason)") }
        guard data.count >= 8 else { throw bad("too short") }
        let headerLength = data.prefix(8).enumerated().reduce(UInt64(0)) { $0 | UInt64($1.element) << (8 * UInt64($1.offset)) }
        guard headerLength <= UInt64(data.count - 8) else { throw bad("header length \(headerLength) exceeds the file") }
        let start = 8 + Int(headerLength)
        guard let header = try? JSONSerialization.jsonObject(with: data.subdata(in: 8..<start)) as? [String: Any] else {
            throw bad("header is not JSON")
        }
        let metadata = header["__metadata__"] as? [String: String] ?? [:]
        var entries: [(String, DType, [Int], Int, Int)] = []
        for (name, value) in header where name != "__metadata__" {
            guard let info = value as? [String: Any], let dtypeName = info["dtype"] as? String,
                let shape = info["shape"] as? [Int], let offsets = info["data_offsets"] as? [Int], offsets.count == 2
            else { throw bad("entry '\(name)' is malformed") }
            guard let dtype = DType(safetensorsName: dtypeName) else { throw bad("'\(name)' has unsupported dtype \(dtypeName)") }
            guard offsets[0] >= 0, offsets[0] <= offsets[1], start + offsets[1] <= data.count,
                offsets[1] - offsets[0] == shape.reduce(1, *) * dtype.byteSize
            else { throw bad("'\(name)' has inconsistent data offsets") }
            entries.append((name, dtype, shape, offsets[0], offsets[1]))
        }
        var tensors: OrderedDictionary<String, Tensor> = [:]
        for (name, dtype, shape, begin, end) in entries.sorted(by: { $0.3 < $1.3 }) {
            tensors[name] = try data.withUnsafeBytes { raw in
                try Tensor(bytes: UnsafeRawBufferPointer(rebasing: raw[(start + begin)..<(start + end)]), dtype: dtype, shape: shape)
            }
        }
        return (tensors, metadata)
    }
}
