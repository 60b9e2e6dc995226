// NumPy `.npy` element types: the `descr` string of the header, parsed and written back.

// MARK: - Element type

/// The element type of a `.npy` array, as written in the header's `descr` (e.g. `<f4`, `|b1`, `<U12`).
///
/// Supported: booleans, signed and unsigned integers of 1–8 bytes, floats of 2, 4 and 8 bytes, and
/// fixed-width unicode strings (UTF-32 code units), each little- or big-endian. Structured and
/// object dtypes (which need pickle) are rejected.
public struct NpyDType: Sendable, Equatable, Hashable, CustomStringConvertible {
    /// The family of the element type.
    public enum Kind: Sendable, Equatable, Hashable {
        case bool, signed, unsigned, float, unicode
    }

    /// Family of the type.
    public var kind: Kind
    /// Bytes per element for numbers; characters per element for `unicode` (each 4 bytes).
    public var size: Int
    /// Whether multi-byte values are stored most-significant byte first.
    public var bigEndian: Bool

    public init(kind: Kind, size: Int, bigEndian: Bool = false) {
        self.kind = kind
        self.size = size
        self.bigEndian = bigEndian
    }

    // MARK: Common types

    public static let bool = NpyDType(kind: .bool, size: 1)
    public static let int8 = NpyDType(kind: .signed, size: 1)
    public static let uint8 = NpyDType(kind: .unsigned, size: 1)
    public static let int16 = NpyDType(kind: .signed, size: 2)
    public static let uint16 = NpyDType(kind: .unsigned, size: 2)
    public static let int32 = NpyDType(kind: .signed, size: 4)
    public static let uint32 = NpyDType(kind: .unsigned, size: 4)
    public static let int64 = NpyDType(kind: .signed, size: 8)
    public static let uint64 = NpyDType(kind: .unsigned, size: 8)
    public static let float16 = NpyDType(kind: .float, size: 2)
    public static let float32 = NpyDType(kind: .float, size: 4)
    public static let float64 = NpyDType(kind: .float, size: 8)
    /// Fixed-width unicode strings of `characters` UTF-32 code units (`<U<characters>`).
    public static func unicode(_ characters: Int) -> NpyDType { NpyDType(kind: .unicode, size: characters) }

    /// Bytes one element occupies in the file.
    public var itemBytes: Int { kind == .unicode ? 4 * size : size }

    // MARK: descr text

    /// Parses a `descr` such as `<f4`, `>i8`, `|u1`, `|b1`, `<U7`, `=f8` (native = little-endian here).
    public init(descr: String, source: String = "<memory>") throws(PythonFormatError) {
        let chars = Array(descr)
        guard chars.count >= 2 else {
            throw PythonFormatError.npy(source: source, message: "unsupported dtype '\(descr)' (expected e.g. '<f4')")
        }
        var index = 0
        var big = false
        switch chars[0] {
        case "<", "|", "=": index = 1
        case ">": big = true; index = 1
        default: index = 0
        }
        let code = chars[index]
        let digits = String(chars[(index + 1)...])
        let width = digits.isEmpty ? nil : Int(digits)
        func bad() -> PythonFormatError {
            PythonFormatError.npy(
                source: source,
                message:
                    "unsupported dtype '\(descr)' (supported: bool, int/uint 1-8 bytes, float 2/4/8 bytes, fixed-width unicode '<U<n>'; object and structured arrays are not)"
            )
        }
        switch code {
        case "?":
            self.init(kind: .bool, size: 1)
        case "b":
            // `|b1` is numpy's boolean; a bare `b` is int8.
            if width == 1 {
                self.init(kind: .bool, size: 1)
            } else if width == nil {
                self.init(kind: .signed, size: 1)
            } else {
                throw bad()
            }
        case "B":
            guard width == nil || width == 1 else { throw bad() }
            self.init(kind: .unsigned, size: 1)
        case "i", "u":
            guard let w = width, [1, 2, 4, 8].contains(w) else { throw bad() }
            self.init(kind: code == "i" ? .signed : .unsigned, size: w, bigEndian: big && w > 1)
        case "f":
            guard let w = width, [2, 4, 8].contains(w) else { throw bad() }
            self.init(kind: .float, size: w, bigEndian: big)
        case "U":
            guard let w = width, w >= 0 else { throw bad() }
            self.init(kind: .unicode, size: w, bigEndian: big)
        default:
            throw bad()
        }
    }

    /// The `descr` numpy writes for this type (`<f4`, `|b1`, `<U5`, …).
    public var descr: String {
        let order = bigEndian ? ">" : "<"
        switch kind {
        case .bool: return "|b1"
        case .signed: return size == 1 ? "|i1" : "\(order)i\(size)"
        case .unsigned: return size == 1 ? "|u1" : "\(order)u\(size)"
        case .float: return "\(order)f\(size)"
        case .unicode: return "\(order)U\(size)"
        }
    }

    public var description: String { descr }
}
