// Reads submission tables back from Parquet: the files `ParquetSubmissionEncoder` writes and uncompressed,
// PLAIN-encoded files from pyarrow (`to_parquet(compression=None, use_dictionary=False)`), whose fields are
// optional rather than required. Compressed or dictionary-encoded files get a one-line error saying how to
// rewrite them; nulls are rejected. One row group is decoded at a time.
import Foundation

/// Calls `body` with every row of a Parquet submission table (columns mouse, trial_indices, prediction, neuron_ids).
public func readParquetSubmission(_ url: URL, _ body: (SubmissionRow) throws -> Void) throws {
    let file = try ParquetFile(url)
    for group in 0..<file.rowGroupCount {
        for row in try file.rows(group: group) { try body(row) }
    }
}

/// A leaf of the schema with its maximum levels and, per repeated ancestor, the definition level at
/// which that repeated field holds at least one entry.
struct ParquetLeaf {
    var path: [String]
    var type: Int64
    var maxRep: Int
    var maxDef: Int
    var repeatedDefs: [Int]
}

/// Decoded pages of one column chunk: levels (empty when the maximum is 0) and the non-null values.
struct ParquetColumnData {
    var rep: [UInt8] = []
    var def: [UInt8] = []
    var values = ParquetValues.none
}

enum ParquetValues {
    case none
    case int64([Int64])
    case double([Double])
    case bytes([[UInt8]])
}

struct ParquetFile {
    let url: URL
    let data: Data
    let leaves: [ParquetLeaf]
    let rowGroups: [ThriftValue]
    var rowGroupCount: Int { rowGroups.count }

    init(_ url: URL) throws {
        self.url = url
        do { data = try Data(contentsOf: url, options: .alwaysMapped) } catch {
            throw SensoriumError(
                path: url.path,
                message: "cannot read the submission file (write one with `kinema neural predict --submission FILE.parquet`)")
        }
        let magic = ParquetSubmissionEncoder.magic
        guard data.count >= 12, Array(data.prefix(4)) == magic, Array(data.suffix(4)) == magic else {
            throw SensoriumError(path: url.path, message: "not a Parquet file (no PAR1 magic at both ends)")
        }
        let lengthBytes = Array(data[(data.count - 8)..<(data.count - 4)])
        let footerLength = Int(lengthBytes.enumerated().reduce(UInt32(0)) { $0 | UInt32($1.element) << (8 * UInt32($1.offset)) })
        guard footerLength <= data.count - 12 else {
            throw SensoriumError(path: url.path, message: "Parquet footer length \(footerLength) exceeds the file; the file is truncated")
        }
        var reader = ThriftCompactReader(bytes: Array(data[(data.count - 8 - footerLength)..<(data.count - 8)]))
        let meta: ThriftValue
        do { meta = try reader.readStruct() } catch {
            throw SensoriumError(path: url.path, message: "unreadable Parquet footer (\(error)); the file is damaged")
        }
        leaves = try Self.leaves(meta[2]?.list ?? [], url: url)
        rowGroups = meta[4]?.list ?? []
    }

    /// Walks the depth-first schema list (root first) into leaves with their levels.
    private static func leaves(_ schema: [ThriftValue], url: URL) throws -> [ParquetLeaf] {
        var result: [ParquetLeaf] = []
        var index = 1
        func walk(path: [String], rep: Int, def: Int, repeatedDefs: [Int]) throws {
            guard index < schema.count else {
                throw SensoriumError(path: url.path, message: "Parquet schema ends early; the file is damaged")
            }
            // A damaged schema can claim a negative number of children or nest without end (found by fuzzing);
            // a submission nests 5 levels deep.
            guard path.count < 32 else {
                throw SensoriumError(
                    path: url.path, message: "Parquet schema nests more than 32 levels; the file is damaged")
            }
            let element = schema[index]
            index += 1
            let name = String(decoding: element[4]?.binary ?? [], as: UTF8.self)
            var rep = rep, def = def, repeatedDefs = repeatedDefs
            switch element[3]?.int ?? 0 {
            case 1: def += 1
            case 2: def += 1; rep += 1; repeatedDefs.append(def)
            default: break
            }
            let children = Int(element[5]?.int ?? 0)
            guard children >= 0 else {
                throw SensoriumError(
                    path: url.path, message: "Parquet schema element '\(name)' has \(children) children; the file is damaged")
            }
            if children == 0 {
                result.append(
                    ParquetLeaf(path: path + [name], type: element[1]?.int ?? -1, maxRep: rep, maxDef: def, repeatedDefs: repeatedDefs))
            }
            for _ in 0..<children { try walk(path: path + [name], rep: rep, def: def, repeatedDefs: repeatedDefs) }
        }
        let rootChildren = Int(schema.first?[5]?.int ?? 0)
        guard rootChildren >= 0 else {
            throw SensoriumError(path: url.path, message: "Parquet schema root has \(rootChildren) children; the file is damaged")
        }
        for _ in 0..<rootChildren { try walk(path: [], rep: 0, def: 0, repeatedDefs: []) }
        return result
    }

    /// The leaf of a submission column, checked for the nesting the table needs.
    private func leaf(_ column: String, lists: Int) throws -> (index: Int, leaf: ParquetLeaf) {
        guard let i = leaves.firstIndex(where: { $0.path.first == column }) else {
            throw SensoriumError(
                path: url.path, message: "no column \(column) (a submission has mouse, trial_indices, prediction, neuron_ids)")
        }
        guard leaves[i].maxRep == lists, leaves[i].path.count == 1 + 2 * lists else {
            throw SensoriumError(
                path: url.path,
                message:
                    "column \(column) must be \(["a scalar", "a list", "a list of lists"][lists]) (it has \(leaves[i].maxRep) repeated levels)"
            )
        }
        return (i, leaves[i])
    }

    func rows(group: Int) throws -> [SubmissionRow] {
        let chunks = rowGroups[group][1]?.list ?? []
        func column(_ name: String, lists: Int) throws -> (ParquetLeaf, ParquetColumnData) {
            let (i, leaf) = try leaf(name, lists: lists)
            guard i < chunks.count, let meta = chunks[i][3] else {
                throw SensoriumError(path: url.path, message: "row group \(group): no column chunk for \(name)")
            }
            return (leaf, try readChunk(meta, leaf: leaf, group: group))
        }
        let (mouseLeaf, mice) = try column("mouse", lists: 0)
        let (_, trials) = try column("trial_indices", lists: 0)
        let (predictionLeaf, predictions) = try column("prediction", lists: 2)
        let (idLeaf, ids) = try column("neuron_ids", lists: 1)
        guard case .bytes(let mouseValues) = mice.values, mice.def.allSatisfy({ Int($0) == mouseLeaf.maxDef }) else {
            throw SensoriumError(path: url.path, message: "row group \(group): column mouse must be non-null strings")
        }
        let trialValues = try integers(trials, "trial_indices", group)
        let idValues = try integers(ids, "neuron_ids", group)
        let predictionValues: [Float]
        switch predictions.values {
        case .double(let v): predictionValues = v.map { Float($0) }
        default: throw SensoriumError(path: url.path, message: "row group \(group): prediction values must be float or double")
        }
        guard trialValues.count == mouseValues.count else {
            throw SensoriumError(
                path: url.path, message: "row group \(group): \(mouseValues.count) mouse values but \(trialValues.count) trial_indices")
        }

        // neuron_ids: one list per row.
        var idLists: [[Int64]] = []
        var v = 0
        for (r, d) in zip(ids.rep, ids.def) {
            if r == 0 { idLists.append([]) }
            guard Int(d) >= idLeaf.repeatedDefs[0] else { continue }  // empty (or null) list
            guard Int(d) == idLeaf.maxDef else { throw nullError("neuron_ids", group) }
            // Levels that continue a list before any started, or more values than the column holds (found by fuzzing).
            guard !idLists.isEmpty, v < idValues.count else { throw levelsError("neuron_ids", group) }
            idLists[idLists.count - 1].append(idValues[v])
            v += 1
        }
        // prediction: per row a list of neuron rows, each a list of frame values.
        var predictionLists: [[[Float]]] = []
        v = 0
        for (r, d) in zip(predictions.rep, predictions.def) {
            if r == 0 { predictionLists.append([]) }
            let d = Int(d)
            guard d >= predictionLeaf.repeatedDefs[0] else { continue }
            guard !predictionLists.isEmpty else { throw levelsError("prediction", group) }
            if r <= 1 { predictionLists[predictionLists.count - 1].append([]) }
            guard d >= predictionLeaf.repeatedDefs[1] else { continue }
            guard d == predictionLeaf.maxDef else { throw nullError("prediction", group) }
            let last = predictionLists.count - 1
            guard !predictionLists[last].isEmpty, v < predictionValues.count else { throw levelsError("prediction", group) }
            predictionLists[last][predictionLists[last].count - 1].append(predictionValues[v])
            v += 1
        }
        guard idLists.count == mouseValues.count, predictionLists.count == mouseValues.count else {
            throw SensoriumError(
                path: url.path,
                message:
                    "row group \(group): columns have different row counts (\(mouseValues.count), \(predictionLists.count), \(idLists.count))"
            )
        }
        return (0..<mouseValues.count).map { i in
            SubmissionRow(
                mouse: String(decoding: mouseValues[i], as: UTF8.self), trialIndex: Int(trialValues[i]),
                prediction: predictionLists[i], neuronIDs: idLists[i])
        }
    }

    private func levelsError(_ column: String, _ group: Int) -> SensoriumError {
        SensoriumError(
            path: url.path, message: "row group \(group): column \(column)'s list levels do not match its values; the file is damaged")
    }

    private func nullError(_ column: String, _ group: Int) -> SensoriumError {
        SensoriumError(path: url.path, message: "row group \(group): column \(column) holds a null; a submission has no missing values")
    }

    private func integers(_ column: ParquetColumnData, _ name: String, _ group: Int) throws -> [Int64] {
        guard case .int64(let values) = column.values else {
            throw SensoriumError(path: url.path, message: "row group \(group): column \(name) must hold integers")
        }
        return values
    }

    /// Decodes every data page of one column chunk.
    private func readChunk(_ meta: ThriftValue, leaf: ParquetLeaf, group: Int) throws -> ParquetColumnData {
        let name = leaf.path.joined(separator: ".")
        func fail(_ message: String) -> SensoriumError {
            SensoriumError(path: url.path, message: "row group \(group), column \(name): \(message)")
        }
        guard meta[4]?.int ?? 0 == 0 else {
            throw fail("compressed pages are not supported; rewrite with `df.to_parquet(f, compression=None, use_dictionary=False)`")
        }
        guard meta[11] == nil else {
            throw fail("dictionary-encoded; rewrite with `df.to_parquet(f, compression=None, use_dictionary=False)`")
        }
        let start = Int(meta[9]?.int ?? -1), size = Int(meta[7]?.int ?? -1), total = Int(meta[5]?.int ?? 0)
        guard start >= 4, size >= 0, start <= data.count - 8, size <= data.count - 8 - start else {
            throw fail("chunk lies outside the file; the file is damaged")
        }
        let chunk = Array(data[start..<(start + size)])
        var result = ParquetColumnData()
        var doubles: [Double] = [], ints: [Int64] = [], strings: [[UInt8]] = []
        var pos = 0
        var entries = 0
        while entries < total {
            var headerReader = ThriftCompactReader(bytes: chunk, position: pos)
            let header: ThriftValue
            do { header = try headerReader.readStruct() } catch { throw fail("unreadable page header (\(error))") }
            let bodySize = Int(header[3]?.int ?? -1)
            let bodyStart = headerReader.position
            guard bodySize >= 0, bodySize <= chunk.count - bodyStart else { throw fail("page runs past its chunk; the file is damaged") }
            guard header[1]?.int == 0, let page = header[5] else {
                throw fail(
                    "page type \(header[1]?.int ?? -1) is not supported (only v1 data pages; rewrite with `data_page_version=\"1.0\"`, `use_dictionary=False`)"
                )
            }
            guard page[2]?.int == 0 else {
                throw fail("value encoding \(page[2]?.int ?? -1) is not PLAIN; rewrite with `use_dictionary=False`")
            }
            let count = Int(page[1]?.int ?? 0)
            // Parquet counts a page's values in an i32; real pages hold far fewer than 2^28.
            guard count >= 0, count < 1 << 28 else { throw fail("a page claims \(count) values; the file is damaged") }
            var body = ParquetByteCursor(bytes: chunk, position: bodyStart, end: bodyStart + bodySize)
            do {
                let rep = leaf.maxRep > 0 ? try body.levels(count: count, maxLevel: leaf.maxRep) : []
                let def = leaf.maxDef > 0 ? try body.levels(count: count, maxLevel: leaf.maxDef) : []
                result.rep += rep
                result.def += def
                let present = leaf.maxDef > 0 ? def.reduce(0) { $0 + (Int($1) == leaf.maxDef ? 1 : 0) } : count
                switch leaf.type {
                case 1: for _ in 0..<present { ints.append(Int64(Int32(bitPattern: try body.uint32()))) }
                case 2: for _ in 0..<present { ints.append(Int64(bitPattern: try body.uint64())) }
                case 4: for _ in 0..<present { doubles.append(Double(Float(bitPattern: try body.uint32()))) }
                case 5: for _ in 0..<present { doubles.append(Double(bitPattern: try body.uint64())) }
                case 6: for _ in 0..<present { strings.append(try body.take(Int(try body.uint32()))) }
                default: throw fail("physical type \(leaf.type) is not supported")
                }
            } catch let error as ParquetDecodeError {
                throw fail("\(error.message); the file is damaged")
            }
            entries += count
            pos = bodyStart + bodySize
        }
        switch leaf.type {
        case 1, 2: result.values = .int64(ints)
        case 4, 5: result.values = .double(doubles)
        default: result.values = .bytes(strings)
        }
        return result
    }
}

struct ParquetDecodeError: Error, CustomStringConvertible {
    var message: String
    var description: String { message }
}

/// Little-endian reads within one page body.
struct ParquetByteCursor {
    let bytes: [UInt8]
    var position: Int
    let end: Int

    mutating func take(_ n: Int) throws -> [UInt8] {
        guard n >= 0, position + n <= end else { throw ParquetDecodeError(message: "page body ends early") }
        defer { position += n }
        return Array(bytes[position..<(position + n)])
    }

    // Without an intermediate array: pages hold millions of values.
    mutating func uint32() throws -> UInt32 { UInt32(truncatingIfNeeded: try little(4)) }

    mutating func uint64() throws -> UInt64 { try little(8) }

    private mutating func little(_ n: Int) throws -> UInt64 {
        guard position + n <= end else { throw ParquetDecodeError(message: "page body ends early") }
        var v: UInt64 = 0
        for i in 0..<n { v |= UInt64(bytes[position + i]) << (8 * UInt64(i)) }
        position += n
        return v
    }

    /// `count` levels in the RLE/bit-packing hybrid, preceded by their 4-byte length (v1 data pages).
    mutating func levels(count: Int, maxLevel: Int) throws -> [UInt8] {
        let length = Int(try uint32())
        var run = ParquetByteCursor(bytes: bytes, position: position, end: position + length)
        guard run.end <= end else { throw ParquetDecodeError(message: "level block runs past the page") }
        position += length
        return try run.hybrid(count: count, bitWidth: ParquetColumnBuffer.bitWidth(UInt8(maxLevel)))
    }

    mutating func hybrid(count: Int, bitWidth: Int) throws -> [UInt8] {
        var out: [UInt8] = []
        out.reserveCapacity(min(count, 1 << 20))
        while out.count < count {
            var header: UInt64 = 0, shift: UInt64 = 0
            while true {
                let b = try take(1)[0]
                header |= UInt64(b & 0x7F) << shift
                if b < 0x80 { break }
                shift += 7
                guard shift < 64 else { throw ParquetDecodeError(message: "bad level run header") }
            }
            if header & 1 == 0 {
                let value = try take((bitWidth + 7) / 8).enumerated().reduce(0) { $0 | Int($1.element) << (8 * $1.offset) }
                let n = min(Int(header >> 1), count - out.count)
                out += repeatElement(UInt8(truncatingIfNeeded: value), count: n)
            } else {
                // Bit-packed groups of 8 values, least significant bit first.
                let groups = Int(header >> 1)
                guard groups <= end - position else { throw ParquetDecodeError(message: "bit-packed run longer than the page") }
                let packed = try take(groups * bitWidth)
                for i in 0..<min(groups * 8, count - out.count) {
                    var value = 0
                    for b in 0..<bitWidth {
                        let bit = i * bitWidth + b
                        value |= Int(packed[bit / 8] >> (bit % 8) & 1) << b
                    }
                    out.append(UInt8(value))
                }
            }
        }
        return out
    }
}

// MARK: - Thrift compact protocol (reading)

/// A decoded Thrift value; structs are keyed by field id (public so tests can inspect Parquet metadata).
public indirect enum ThriftValue: Equatable, Sendable {
    case int(Int64)
    case bool(Bool)
    case double(Double)
    case binary([UInt8])
    case list([ThriftValue])
    case structure([Int16: ThriftValue])

    public subscript(_ field: Int16) -> ThriftValue? {
        if case .structure(let fields) = self { return fields[field] }
        return nil
    }

    public var int: Int64? { if case .int(let v) = self { return v } else { return nil } }
    public var binary: [UInt8]? { if case .binary(let v) = self { return v } else { return nil } }
    public var list: [ThriftValue]? { if case .list(let v) = self { return v } else { return nil } }
}

public struct ThriftCompactReader {
    public let bytes: [UInt8]
    public var position = 0

    public init(bytes: [UInt8], position: Int = 0) {
        self.bytes = bytes
        self.position = position
    }

    mutating func byte() throws -> UInt8 {
        guard position < bytes.count else { throw ParquetDecodeError(message: "Thrift data ends early") }
        defer { position += 1 }
        return bytes[position]
    }

    mutating func varint() throws -> UInt64 {
        var result: UInt64 = 0, shift: UInt64 = 0
        while true {
            let b = try byte()
            result |= UInt64(b & 0x7F) << shift
            if b < 0x80 { return result }
            shift += 7
            guard shift < 64 else { throw ParquetDecodeError(message: "bad Thrift varint") }
        }
    }

    /// A varint length, which a damaged file can make larger than any Int (found by fuzzing).
    mutating func length() throws -> Int {
        guard let n = Int(exactly: try varint()) else { throw ParquetDecodeError(message: "Thrift length out of range") }
        return n
    }

    mutating func zigzagInt() throws -> Int64 {
        let v = try varint()
        return Int64(bitPattern: v >> 1) ^ -Int64(bitPattern: v & 1)
    }

    public mutating func readStruct(depth: Int = 0) throws -> ThriftValue {
        guard depth < 32 else { throw ParquetDecodeError(message: "Thrift nesting too deep") }
        var fields: [Int16: ThriftValue] = [:]
        var last: Int16 = 0
        while true {
            let header = try byte()
            if header == 0 { return .structure(fields) }
            let type = header & 0x0F
            let delta = Int16(header >> 4)
            let id = delta != 0 ? last &+ delta : Int16(truncatingIfNeeded: try zigzagInt())
            last = id
            // Booleans in a field carry their value in the type nibble.
            fields[id] = type == 1 || type == 2 ? .bool(type == 1) : try value(type: type, depth: depth)
        }
    }

    mutating func value(type: UInt8, depth: Int) throws -> ThriftValue {
        switch type {
        case 1, 2: return .bool(try byte() == 1)  // in a list: one byte each
        case 3: return .int(Int64(Int8(bitPattern: try byte())))
        case 4, 5, 6: return .int(try zigzagInt())
        case 7:
            guard position + 8 <= bytes.count else { throw ParquetDecodeError(message: "Thrift data ends early") }
            var bits: UInt64 = 0
            for i in 0..<8 { bits |= UInt64(bytes[position + i]) << (8 * UInt64(i)) }
            position += 8
            return .double(Double(bitPattern: bits))
        case 8:
            let n = try length()
            guard n <= bytes.count - position else { throw ParquetDecodeError(message: "Thrift string runs past the data") }
            defer { position += n }
            return .binary(Array(bytes[position..<(position + n)]))
        case 9, 10:
            let header = try byte()
            let n = header >> 4 == 15 ? try length() : Int(header >> 4)
            guard n <= bytes.count - position else { throw ParquetDecodeError(message: "Thrift list longer than the data") }
            var items: [ThriftValue] = []
            for _ in 0..<n { items.append(try value(type: header & 0x0F, depth: depth + 1)) }
            return .list(items)
        case 11:
            let n = try length()
            guard n <= bytes.count - position else { throw ParquetDecodeError(message: "Thrift map longer than the data") }
            var items: [ThriftValue] = []
            if n > 0 {
                let types = try byte()
                for _ in 0..<n {
                    items.append(try value(type: types >> 4, depth: depth + 1))
                    items.append(try value(type: types & 0x0F, depth: depth + 1))
                }
            }
            return .list(items)
        case 12: return try readStruct(depth: depth + 1)
        default: throw ParquetDecodeError(message: "unknown Thrift type \(type)")
        }
    }
}
