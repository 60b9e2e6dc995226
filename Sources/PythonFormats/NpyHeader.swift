// The `.npy` header: magic, version, and the Python-literal dict with descr / fortran_order / shape.
import Foundation

/// The header of a `.npy` file (format versions 1.0, 2.0 and 3.0).
public struct NpyHeader: Sendable, Equatable {
    /// Element type.
    public var dtype: NpyDType
    /// Whether elements are stored column-major.
    public var fortranOrder: Bool
    /// Array shape (empty for a 0-d scalar).
    public var shape: [Int]
    /// Byte offset of the first element in the file.
    public var dataOffset: Int
    /// Format major version found in the file (1, 2 or 3).
    public var majorVersion: Int

    /// Number of elements (product of the shape; 1 for a scalar).
    public var count: Int { shape.reduce(1, *) }

    public init(dtype: NpyDType, fortranOrder: Bool, shape: [Int], dataOffset: Int = 0, majorVersion: Int = 1) {
        self.dtype = dtype
        self.fortranOrder = fortranOrder
        self.shape = shape
        self.dataOffset = dataOffset
        self.majorVersion = majorVersion
    }

    static let magic: [UInt8] = [0x93, 0x4E, 0x55, 0x4D, 0x50, 0x59]  // \x93NUMPY

    // MARK: Reading

    /// Parses the header at the start of `bytes`; `source` names the file in errors.
    public static func parse(_ bytes: some RandomAccessCollection<UInt8>, source: String) throws(PythonFormatError) -> NpyHeader {
        let b = Array(bytes.prefix(12))
        guard b.count >= 10, Array(b[0..<6]) == magic else {
            throw PythonFormatError.npy(source: source, message: "not a .npy file (missing \\x93NUMPY magic)")
        }
        let major = Int(b[6])
        let lengthBytes: Int
        switch major {
        case 1: lengthBytes = 2
        case 2, 3: lengthBytes = 4
        default:
            throw PythonFormatError.npy(source: source, message: "unsupported .npy format version \(major).\(b[7]) (1.0-3.0 are supported)")
        }
        guard b.count >= 8 + lengthBytes else { throw PythonFormatError.npy(source: source, message: "truncated .npy header") }
        var headerLength = 0
        for i in 0..<lengthBytes { headerLength |= Int(b[8 + i]) << (8 * i) }
        let start = 8 + lengthBytes
        let all = Array(bytes.prefix(start + headerLength))
        guard all.count == start + headerLength else {
            throw PythonFormatError.npy(source: source, message: "truncated .npy header (expected \(headerLength) header bytes)")
        }
        let headerBytes = all[start...]
        // Versions 1 and 2 are latin-1, version 3 is UTF-8.
        let text =
            major == 3
            ? (String(bytes: headerBytes, encoding: .utf8) ?? "")
            : String(headerBytes.map { Character(Unicode.Scalar($0)) })
        var parser = DictLiteralParser(text: text, source: source)
        let dict = try parser.parseDict()
        guard case .string(let descr)? = dict["descr"] else {
            throw PythonFormatError.npy(source: source, message: "header has no string 'descr' (structured dtypes are not supported)")
        }
        guard case .bool(let fortran)? = dict["fortran_order"] else {
            throw PythonFormatError.npy(source: source, message: "header has no boolean 'fortran_order'")
        }
        guard case .tuple(let shape)? = dict["shape"] else {
            throw PythonFormatError.npy(source: source, message: "header has no tuple 'shape'")
        }
        guard shape.allSatisfy({ $0 >= 0 }) else {
            throw PythonFormatError.npy(source: source, message: "negative dimension in shape \(shape)")
        }
        let dtype = try NpyDType(descr: descr, source: source)
        return NpyHeader(dtype: dtype, fortranOrder: fortran, shape: shape, dataOffset: start + headerLength, majorVersion: major)
    }

    /// Reads only the header of a file (a few hundred bytes), e.g. to check a shape without loading data.
    public static func read(contentsOf url: URL) throws(PythonFormatError) -> NpyHeader {
        guard let handle = FileHandle(forReadingAtPath: url.path) else {
            throw PythonFormatError.npy(source: url.path, message: "cannot open file (does it exist?)")
        }
        defer { try? handle.close() }
        let prefix = (try? handle.read(upToCount: 12)) ?? nil
        guard let prefix, prefix.count >= 10 else { throw PythonFormatError.npy(source: url.path, message: "not a .npy file (too short)") }
        let head = [UInt8](prefix)
        let lengthBytes = head[6] == 1 ? 2 : 4
        var headerLength = 0
        for i in 0..<lengthBytes where 8 + i < head.count { headerLength |= Int(head[8 + i]) << (8 * i) }
        let all = (try? handle.seek(toOffset: 0)).flatMap { _ in (try? handle.read(upToCount: 8 + lengthBytes + headerLength)) ?? nil }
        return try parse([UInt8](all ?? Data()), source: url.path)
    }

    // MARK: Writing

    /// The header text numpy's `np.save` writes for this array (dict literal, no padding).
    var dictText: String {
        let dims = shape.map(String.init)
        let shapeText = dims.count == 1 ? "(\(dims[0]),)" : "(" + dims.joined(separator: ", ") + ")"
        return "{'descr': '\(dtype.descr)', 'fortran_order': \(fortranOrder ? "True" : "False"), 'shape': \(shapeText), }"
    }

    /// Magic, version, length and padded header, exactly as numpy writes them (64-byte aligned data,
    /// version 1.0 unless the header needs more than 65535 bytes).
    func encoded() -> [UInt8] {
        let dict = Array(dictText.utf8)
        var major: UInt8 = 1
        var lengthBytes = 2
        var padded = paddedLength(dict.count, prefix: 10)
        if padded > 65535 {
            major = 2
            lengthBytes = 4
            padded = paddedLength(dict.count, prefix: 12)
        }
        var out = NpyHeader.magic + [major, 0]
        for i in 0..<lengthBytes { out.append(UInt8((padded >> (8 * i)) & 0xFF)) }
        out += dict
        out += [UInt8](repeating: 0x20, count: padded - dict.count - 1)
        out.append(0x0A)
        return out
    }

    private func paddedLength(_ dictBytes: Int, prefix: Int) -> Int {
        let unpadded = prefix + dictBytes + 1
        return ((unpadded + 63) / 64) * 64 - prefix
    }
}

// MARK: - Python literal parser (just what .npy headers contain)

private enum LiteralValue {
    case string(String), bool(Bool), tuple([Int]), int(Int), none
}

private struct DictLiteralParser {
    let chars: [Character]
    var pos = 0
    let source: String

    init(text: String, source: String) {
        chars = Array(text)
        self.source = source
    }

    func fail(_ what: String) -> PythonFormatError {
        PythonFormatError.npy(
            source: source,
            message:
                "malformed .npy header: \(what) at character \(pos) of \"\(String(chars).trimmingCharacters(in: .whitespacesAndNewlines))\""
        )
    }

    mutating func skipSpace() {
        while pos < chars.count, chars[pos].isWhitespace { pos += 1 }
    }

    mutating func expect(_ c: Character) throws(PythonFormatError) {
        skipSpace()
        guard pos < chars.count, chars[pos] == c else { throw fail("expected '\(c)'") }
        pos += 1
    }

    mutating func parseDict() throws(PythonFormatError) -> [String: LiteralValue] {
        try expect("{")
        var result: [String: LiteralValue] = [:]
        while true {
            skipSpace()
            guard pos < chars.count else { throw fail("unterminated dict") }
            if chars[pos] == "}" { pos += 1; return result }
            guard case .string(let key) = try parseValue() else { throw fail("dict key is not a string") }
            try expect(":")
            result[key] = try parseValue()
            skipSpace()
            if pos < chars.count, chars[pos] == "," { pos += 1 }
        }
    }

    mutating func parseValue() throws(PythonFormatError) -> LiteralValue {
        skipSpace()
        guard pos < chars.count else { throw fail("missing value") }
        let c = chars[pos]
        if c == "'" || c == "\"" {
            pos += 1
            var s = ""
            while pos < chars.count, chars[pos] != c { s.append(chars[pos]); pos += 1 }
            guard pos < chars.count else { throw fail("unterminated string") }
            pos += 1
            return .string(s)
        }
        if c == "(" || c == "[" {
            let close: Character = c == "(" ? ")" : "]"
            pos += 1
            var items: [Int] = []
            while true {
                skipSpace()
                guard pos < chars.count else { throw fail("unterminated tuple") }
                if chars[pos] == close { pos += 1; return .tuple(items) }
                guard case .int(let v) = try parseValue() else { throw fail("tuple item is not an integer") }
                items.append(v)
                skipSpace()
                if pos < chars.count, chars[pos] == "," { pos += 1 }
            }
        }
        var word = ""
        while pos < chars.count, chars[pos].isLetter || chars[pos].isNumber || chars[pos] == "-" || chars[pos] == "_" {
            word.append(chars[pos]); pos += 1
        }
        // Python 2 era headers may write longs as `3L`.
        if word.hasSuffix("L"), let v = Int(word.dropLast()) { return .int(v) }
        switch word {
        case "True": return .bool(true)
        case "False": return .bool(false)
        case "None": return .none
        default:
            guard let v = Int(word) else { throw fail("unexpected token '\(word)'") }
            return .int(v)
        }
    }
}
