// A minimal Parquet encoder for exactly the submission table (reference 4.4), so `predict --submission
// x.parquet` gives the file the competition server read, with no library. Format (apache/parquet-format):
// "PAR1", row groups of column chunks made of v1 data pages, a FileMetaData footer, its length, "PAR1";
// headers and footer in the Thrift compact protocol. Values are PLAIN, levels RLE, codec UNCOMPRESSED.
//
// Schema (the three-level LIST structure of the LogicalTypes spec; every field required, no nulls):
//   required binary mouse (STRING);
//   required int64 trial_indices;
//   required group prediction (LIST) { repeated group list { required group element (LIST) {
//       repeated group list { required double element; } } } }
//   required group neuron_ids (LIST) { repeated group list { required int64 element; } }
// `prediction` is double, the type pandas/pyarrow gave the table so far (Float → Double is exact).

/// Encodes submission rows into Parquet bytes. Rows are buffered per row group (about `rowGroupBytes`
/// of encoded data, at least one row), so memory stays bounded; the caller writes the returned bytes
/// in order: `start()`, then whatever `append` returns, then `finish()`.
public struct ParquetSubmissionEncoder {
    public static let magic: [UInt8] = Array("PAR1".utf8)
    public var rowGroupBytes: Int
    public var pageBytes: Int

    private var columns: [ParquetColumnBuffer]
    private var groupRows = 0
    private var offset = 0
    private var totalRows = 0
    private var rowGroups: [ParquetRowGroupMeta] = []

    public init(rowGroupBytes: Int = 64 << 20, pageBytes: Int = 1 << 20) {
        self.rowGroupBytes = rowGroupBytes
        self.pageBytes = pageBytes
        columns = [
            ParquetColumnBuffer(path: ["mouse"], type: .byteArray, maxRep: 0, maxDef: 0),
            ParquetColumnBuffer(path: ["trial_indices"], type: .int64, maxRep: 0, maxDef: 0),
            ParquetColumnBuffer(path: ["prediction", "list", "element", "list", "element"], type: .double, maxRep: 2, maxDef: 2),
            ParquetColumnBuffer(path: ["neuron_ids", "list", "element"], type: .int64, maxRep: 1, maxDef: 1),
        ]
    }

    /// The file's first bytes.
    public mutating func start() -> [UInt8] {
        offset = Self.magic.count
        return Self.magic
    }

    /// Adds one row; returns the bytes of a finished row group when the buffered data reached `rowGroupBytes`.
    public mutating func append(_ row: SubmissionRow) -> [UInt8] {
        columns[0].appendByteArray(Array(row.mouse.utf8))
        columns[1].appendInt64(Int64(row.trialIndex))
        // Levels of a list of lists: repetition 0 starts the row, 1 a new neuron row, 2 the next frame;
        // definition 0 = empty outer list, 1 = empty inner list, 2 = a value.
        if row.prediction.isEmpty {
            columns[2].appendLevels(rep: 0, def: 0)
        } else {
            for (n, values) in row.prediction.enumerated() {
                let first: UInt8 = n == 0 ? 0 : 1
                if values.isEmpty {
                    columns[2].appendLevels(rep: first, def: 1)
                    continue
                }
                columns[2].appendLevels(rep: first, def: 2)
                columns[2].appendLevels(rep: 2, def: 2, count: values.count - 1)
                for v in values { columns[2].appendDouble(Double(v)) }
            }
        }
        if row.neuronIDs.isEmpty {
            columns[3].appendLevels(rep: 0, def: 0)
        } else {
            columns[3].appendLevels(rep: 0, def: 1)
            columns[3].appendLevels(rep: 1, def: 1, count: row.neuronIDs.count - 1)
            for id in row.neuronIDs { columns[3].appendInt64(id) }
        }
        groupRows += 1
        totalRows += 1
        var buffered = 0
        for c in columns.indices {
            columns[c].endRow(pageBytes: pageBytes)
            buffered += columns[c].bufferedBytes
        }
        return buffered >= rowGroupBytes ? flushRowGroup() : []
    }

    /// The last row group and the footer (FileMetaData, its length, "PAR1").
    public mutating func finish() -> [UInt8] {
        var bytes = groupRows > 0 ? flushRowGroup() : []  // an empty table has no row group
        var footer = ThriftCompactWriter()
        fileMetaData(into: &footer)
        bytes += footer.bytes
        let length = UInt32(footer.bytes.count)
        bytes += withUnsafeBytes(of: length.littleEndian, Array.init)
        bytes += Self.magic
        return bytes
    }

    private mutating func flushRowGroup() -> [UInt8] {
        var bytes: [UInt8] = []
        var chunks: [ParquetChunkMeta] = []
        for c in columns.indices {
            columns[c].sealPage()
            let chunk = columns[c].takeChunk(fileOffset: offset + bytes.count)
            bytes += chunk.bytes
            chunks.append(chunk.meta)
        }
        rowGroups.append(ParquetRowGroupMeta(columns: chunks, rows: groupRows))
        offset += bytes.count
        groupRows = 0
        return bytes
    }

    private func fileMetaData(into w: inout ThriftCompactWriter) {
        w.beginStruct()
        w.field(1, .i32); w.varint(zigzag(1))  // version
        w.field(2, .list); w.listHeader(count: 11, type: .structure)
        // Depth-first schema: root, then each field with its children.
        schema(&w, name: "schema", children: 4)
        schema(&w, name: "mouse", type: .byteArray, repetition: 0, converted: 0, logical: 1)
        schema(&w, name: "trial_indices", type: .int64, repetition: 0)
        schema(&w, name: "prediction", repetition: 0, children: 1, converted: 3, logical: 3)
        schema(&w, name: "list", repetition: 2, children: 1)
        schema(&w, name: "element", repetition: 0, children: 1, converted: 3, logical: 3)
        schema(&w, name: "list", repetition: 2, children: 1)
        schema(&w, name: "element", type: .double, repetition: 0)
        schema(&w, name: "neuron_ids", repetition: 0, children: 1, converted: 3, logical: 3)
        schema(&w, name: "list", repetition: 2, children: 1)
        schema(&w, name: "element", type: .int64, repetition: 0)
        w.field(3, .i64); w.varint(zigzag(Int64(totalRows)))
        w.field(4, .list); w.listHeader(count: rowGroups.count, type: .structure)
        for group in rowGroups {
            w.beginStruct()
            w.field(1, .list); w.listHeader(count: group.columns.count, type: .structure)
            for chunk in group.columns {
                w.beginStruct()
                w.field(2, .i64); w.varint(zigzag(Int64(chunk.dataPageOffset)))  // file_offset
                w.field(3, .structure)  // meta_data
                w.beginStruct()
                w.field(1, .i32); w.varint(zigzag(Int64(chunk.type.rawValue)))
                w.field(2, .list); w.listHeader(count: 2, type: .i32)
                w.varint(zigzag(0)); w.varint(zigzag(3))  // PLAIN, RLE
                w.field(3, .list); w.listHeader(count: chunk.path.count, type: .binary)
                for name in chunk.path { w.binary(Array(name.utf8)) }
                w.field(4, .i32); w.varint(zigzag(0))  // UNCOMPRESSED
                w.field(5, .i64); w.varint(zigzag(Int64(chunk.values)))
                w.field(6, .i64); w.varint(zigzag(Int64(chunk.bytes)))
                w.field(7, .i64); w.varint(zigzag(Int64(chunk.bytes)))
                w.field(9, .i64); w.varint(zigzag(Int64(chunk.dataPageOffset)))
                w.endStruct()
                w.endStruct()
            }
            w.field(2, .i64); w.varint(zigzag(Int64(group.columns.reduce(0) { $0 + $1.bytes })))
            w.field(3, .i64); w.varint(zigzag(Int64(group.rows)))
            w.endStruct()
        }
        w.field(6, .binary); w.binary(Array("kinema".utf8))  // created_by
        w.endStruct()
    }

    private func schema(
        _ w: inout ThriftCompactWriter, name: String, type: ParquetPhysicalType? = nil,
        repetition: Int? = nil, children: Int? = nil, converted: Int? = nil, logical: Int16? = nil
    ) {
        w.beginStruct()
        if let type { w.field(1, .i32); w.varint(zigzag(Int64(type.rawValue))) }
        if let repetition { w.field(3, .i32); w.varint(zigzag(Int64(repetition))) }
        w.field(4, .binary); w.binary(Array(name.utf8))
        if let children { w.field(5, .i32); w.varint(zigzag(Int64(children))) }
        if let converted { w.field(6, .i32); w.varint(zigzag(Int64(converted))) }
        if let logical {
            // LogicalType is a union: the chosen member (1 STRING, 3 LIST) holds an empty struct.
            w.field(10, .structure)
            w.beginStruct()
            w.field(logical, .structure)
            w.beginStruct(); w.endStruct()
            w.endStruct()
        }
        w.endStruct()
    }
}

// MARK: - Columns

enum ParquetPhysicalType: Int32 {
    case int64 = 2, double = 5, byteArray = 6
}

struct ParquetChunkMeta {
    var path: [String]
    var type: ParquetPhysicalType
    var values: Int
    var bytes: Int
    var dataPageOffset: Int
}

struct ParquetRowGroupMeta {
    var columns: [ParquetChunkMeta]
    var rows: Int
}

/// One leaf column of the current row group: finished pages (header + body) and the open page.
struct ParquetColumnBuffer {
    let path: [String]
    let type: ParquetPhysicalType
    let maxRep: UInt8
    let maxDef: UInt8
    private var pages: [UInt8] = []
    private var chunkValues = 0
    private var rep = ParquetLevelEncoder()
    private var def = ParquetLevelEncoder()
    private var values: [UInt8] = []
    private var pageValues = 0  // entries of the page, i.e. level pairs (or values for flat columns)

    init(path: [String], type: ParquetPhysicalType, maxRep: UInt8, maxDef: UInt8) {
        self.path = path
        self.type = type
        self.maxRep = maxRep
        self.maxDef = maxDef
        rep = ParquetLevelEncoder(bitWidth: Self.bitWidth(maxRep))
        def = ParquetLevelEncoder(bitWidth: Self.bitWidth(maxDef))
    }

    static func bitWidth(_ level: UInt8) -> Int { level == 0 ? 0 : 8 - level.leadingZeroBitCount }

    var bufferedBytes: Int { pages.count + values.count }

    mutating func appendLevels(rep r: UInt8, def d: UInt8, count: Int = 1) {
        guard count > 0 else { return }
        rep.append(r, count: count)
        def.append(d, count: count)
        pageValues += count
    }

    mutating func appendInt64(_ v: Int64) {
        withUnsafeBytes(of: v.littleEndian) { values.append(contentsOf: $0) }  // no array per value
        if maxRep == 0 { pageValues += 1 }
    }

    mutating func appendDouble(_ v: Double) {
        withUnsafeBytes(of: v.bitPattern.littleEndian) { values.append(contentsOf: $0) }
        if maxRep == 0 { pageValues += 1 }
    }

    mutating func appendByteArray(_ v: [UInt8]) {
        withUnsafeBytes(of: UInt32(v.count).littleEndian) { values.append(contentsOf: $0) }
        values += v
        if maxRep == 0 { pageValues += 1 }
    }

    /// Pages end on row boundaries only, so a row never straddles two pages.
    mutating func endRow(pageBytes: Int) {
        if values.count >= pageBytes { sealPage() }
    }

    mutating func sealPage() {
        guard pageValues > 0 else { return }
        var body: [UInt8] = []
        // v1 data page: repetition levels, then definition levels (each a 4-byte length + RLE hybrid), then values.
        for (levels, max) in [(rep, maxRep), (def, maxDef)] where max > 0 {
            let encoded = levels.finish()
            body += withUnsafeBytes(of: UInt32(encoded.count).littleEndian, Array.init)
            body += encoded
        }
        body += values
        var header = ThriftCompactWriter()
        header.beginStruct()
        header.field(1, .i32); header.varint(zigzag(0))  // DATA_PAGE
        header.field(2, .i32); header.varint(zigzag(Int64(body.count)))
        header.field(3, .i32); header.varint(zigzag(Int64(body.count)))
        header.field(5, .structure)
        header.beginStruct()
        header.field(1, .i32); header.varint(zigzag(Int64(pageValues)))
        header.field(2, .i32); header.varint(zigzag(0))  // PLAIN
        header.field(3, .i32); header.varint(zigzag(3))  // RLE
        header.field(4, .i32); header.varint(zigzag(3))  // RLE
        header.endStruct()
        header.endStruct()
        pages += header.bytes
        pages += body
        chunkValues += pageValues
        pageValues = 0
        values.removeAll(keepingCapacity: true)
        rep = ParquetLevelEncoder(bitWidth: rep.bitWidth)
        def = ParquetLevelEncoder(bitWidth: def.bitWidth)
    }

    /// The column chunk's bytes and metadata; empties the buffer for the next row group.
    mutating func takeChunk(fileOffset: Int) -> (bytes: [UInt8], meta: ParquetChunkMeta) {
        let meta = ParquetChunkMeta(path: path, type: type, values: chunkValues, bytes: pages.count, dataPageOffset: fileOffset)
        let bytes = pages
        pages = []
        chunkValues = 0
        return (bytes, meta)
    }
}

/// Levels in the RLE/bit-packing hybrid, as RLE runs only (header = run length << 1, then the value in
/// ceil(bitWidth/8) bytes); list levels are long runs of the same value, so bit-packing would not pay.
struct ParquetLevelEncoder {
    var bitWidth = 0
    private var bytes: [UInt8] = []
    private var runValue: UInt8 = 0
    private var runLength = 0

    init(bitWidth: Int = 0) { self.bitWidth = bitWidth }

    mutating func append(_ value: UInt8, count: Int) {
        if runLength > 0 && value != runValue { flushRun() }
        runValue = value
        runLength += count
    }

    private mutating func flushRun() {
        guard runLength > 0 else { return }
        appendVarint(UInt64(runLength) << 1, to: &bytes)
        for i in 0..<(bitWidth + 7) / 8 { bytes.append(UInt8(truncatingIfNeeded: Int(runValue) >> (8 * i))) }
        runLength = 0
    }

    func finish() -> [UInt8] {
        var copy = self
        copy.flushRun()
        return copy.bytes
    }
}

// MARK: - Thrift compact protocol (writing)

enum ThriftCompactType: UInt8 {
    case boolTrue = 1, boolFalse = 2, byte = 3, i16 = 4, i32 = 5, i64 = 6, double = 7, binary = 8
    case list = 9, set = 10, map = 11, structure = 12
}

struct ThriftCompactWriter {
    private(set) var bytes: [UInt8] = []
    private var lastField: [Int16] = []

    mutating func beginStruct() { lastField.append(0) }

    mutating func endStruct() {
        bytes.append(0)  // STOP
        lastField.removeLast()
    }

    mutating func field(_ id: Int16, _ type: ThriftCompactType) {
        let delta = id - lastField[lastField.count - 1]
        if delta > 0 && delta <= 15 {
            bytes.append(UInt8(delta) << 4 | type.rawValue)
        } else {
            bytes.append(type.rawValue)
            appendVarint(UInt64(zigzag(Int64(id))), to: &bytes)
        }
        lastField[lastField.count - 1] = id
    }

    mutating func listHeader(count: Int, type: ThriftCompactType) {
        if count < 15 {
            bytes.append(UInt8(count) << 4 | type.rawValue)
        } else {
            bytes.append(0xF0 | type.rawValue)
            appendVarint(UInt64(count), to: &bytes)
        }
    }

    mutating func varint(_ v: UInt64) { appendVarint(v, to: &bytes) }

    mutating func binary(_ v: [UInt8]) {
        appendVarint(UInt64(v.count), to: &bytes)
        bytes += v
    }
}

func zigzag(_ v: Int64) -> UInt64 { UInt64(bitPattern: (v << 1) ^ (v >> 63)) }

func appendVarint(_ value: UInt64, to bytes: inout [UInt8]) {
    var v = value
    while v >= 0x80 {
        bytes.append(UInt8(v & 0x7F) | 0x80)
        v >>= 7
    }
    bytes.append(UInt8(v))
}
