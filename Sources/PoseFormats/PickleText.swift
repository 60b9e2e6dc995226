// A safe reader for the text pickles (protocol 0) that PyTables stores in HDF5 attributes: pandas keeps a
// table-format frame's column labels there (`non_index_axes`, `values_block_0_kind`, `info`). Only plain data
// is rebuilt (strings, numbers, None, booleans, lists, tuples, dicts); any opcode that would import or call
// Python code is rejected, so nothing in a file can run.

/// A Python value from a protocol-0 pickle.
indirect enum PickleValue: Equatable {
    case none
    case bool(Bool)
    case int(Int64)
    case float(Double)
    case string(String)
    case list([PickleValue])
    case tuple([PickleValue])
    case dict([(PickleValue, PickleValue)])

    static func == (a: PickleValue, b: PickleValue) -> Bool {
        switch (a, b) {
        case (.none, .none): return true
        case let (.bool(x), .bool(y)): return x == y
        case let (.int(x), .int(y)): return x == y
        case let (.float(x), .float(y)): return x == y || (x.isNaN && y.isNaN)
        case let (.string(x), .string(y)): return x == y
        case let (.list(x), .list(y)), let (.tuple(x), .tuple(y)): return x == y
        case let (.dict(x), .dict(y)): return x.count == y.count && zip(x, y).allSatisfy { $0.0 == $1.0 && $0.1 == $1.1 }
        default: return false
        }
    }

    /// Elements of a list or tuple; nil for other values.
    var items: [PickleValue]? {
        switch self {
        case .list(let v), .tuple(let v): return v
        default: return nil
        }
    }

    /// The value of `key` in a dict; nil when absent or not a dict.
    subscript(key: PickleValue) -> PickleValue? {
        guard case .dict(let pairs) = self else { return nil }
        return pairs.first { $0.0 == key }?.1
    }

    /// A label as pandas prints it in a CSV header (strings as they are, numbers in Python's spelling).
    var labelText: String {
        switch self {
        case .none: return ""
        case .bool(let b): return b ? "True" : "False"
        case .int(let i): return String(i)
        case .float(let d): return d.description
        case .string(let s): return s
        case .list(let v), .tuple(let v): return "(" + v.map(\.labelText).joined(separator: ", ") + ")"
        case .dict: return "{…}"
        }
    }
}

struct PickleError: Error {
    let message: String
}

/// Decodes a protocol-0 pickle.
func unpickleText(_ bytes: [UInt8]) throws(PickleError) -> PickleValue {
    // Containers are mutable while the pickle is read (APPEND/SETITEM act on an object that the memo may share),
    // so they are boxed until the end.
    final class Box {
        enum Kind { case list, tuple, dict }
        let kind: Kind
        var items: [Node] = []
        init(_ kind: Kind, _ items: [Node] = []) { self.kind = kind; self.items = items }
    }
    enum Node {
        case value(PickleValue)
        case box(Box)
        case mark
    }
    func freeze(_ node: Node) -> PickleValue {
        switch node {
        case .value(let v): return v
        case .mark: return .none
        case .box(let b):
            let items = b.items.map(freeze)
            switch b.kind {
            case .list: return .list(items)
            case .tuple: return .tuple(items)
            case .dict:
                return .dict(stride(from: 0, to: items.count - 1, by: 2).map { (items[$0], items[$0 + 1]) })
            }
        }
    }

    var stack: [Node] = []
    var memo: [Int: Node] = [:]
    var i = 0
    func line() throws(PickleError) -> ArraySlice<UInt8> {
        guard let end = bytes[i...].firstIndex(of: 10) else { throw PickleError(message: "truncated pickle") }
        defer { i = end + 1 }
        return bytes[i..<end]
    }
    func popToMark() throws(PickleError) -> [Node] {
        guard let m = stack.lastIndex(where: { if case .mark = $0 { return true }; return false }) else {
            throw PickleError(message: "pickle has no mark")
        }
        let items = Array(stack[(m + 1)...])
        stack.removeSubrange(m...)
        return items
    }
    func pop() throws(PickleError) -> Node {
        guard let top = stack.popLast() else { throw PickleError(message: "pickle stack underflow") }
        return top
    }
    func topBox(_ kind: Box.Kind) throws(PickleError) -> Box {
        guard case .box(let b)? = stack.last, b.kind == kind else { throw PickleError(message: "pickle appends to a non-\(kind)") }
        return b
    }
    func text(_ s: ArraySlice<UInt8>) -> String { String(decoding: s, as: UTF8.self) }

    while i < bytes.count {
        let op = bytes[i]
        i += 1
        switch op {
        case UInt8(ascii: "("): stack.append(.mark)
        case UInt8(ascii: "l"): stack.append(.box(Box(.list, try popToMark())))
        case UInt8(ascii: "t"): stack.append(.box(Box(.tuple, try popToMark())))
        case UInt8(ascii: "d"): stack.append(.box(Box(.dict, try popToMark())))
        case UInt8(ascii: "]"): stack.append(.box(Box(.list)))
        case UInt8(ascii: ")"): stack.append(.box(Box(.tuple)))
        case UInt8(ascii: "}"): stack.append(.box(Box(.dict)))
        case UInt8(ascii: "a"):
            let item = try pop()
            try topBox(.list).items.append(item)
        case UInt8(ascii: "e"):
            let items = try popToMark()
            try topBox(.list).items += items
        case UInt8(ascii: "s"):
            let value = try pop(), key = try pop()
            try topBox(.dict).items += [key, value]
        case UInt8(ascii: "u"):
            let items = try popToMark()
            try topBox(.dict).items += items
        case UInt8(ascii: "p"):
            guard let n = Int(text(try line())), let top = stack.last else { throw PickleError(message: "bad PUT in pickle") }
            memo[n] = top
        case UInt8(ascii: "g"):
            guard let n = Int(text(try line())), let v = memo[n] else { throw PickleError(message: "bad GET in pickle") }
            stack.append(v)
        case UInt8(ascii: "V"): stack.append(.value(.string(decodeRawUnicodeEscape(try line()))))
        case UInt8(ascii: "S"): stack.append(.value(.string(try decodePythonStringLiteral(try line()))))
        case UInt8(ascii: "I"):
            let s = text(try line())
            if s == "01" { stack.append(.value(.bool(true))) } else if s == "00" { stack.append(.value(.bool(false))) } else {
                guard let v = Int64(s) else { throw PickleError(message: "bad INT '\(s)' in pickle") }
                stack.append(.value(.int(v)))
            }
        case UInt8(ascii: "L"):
            var s = text(try line())
            if s.hasSuffix("L") { s.removeLast() }
            guard let v = Int64(s) else { throw PickleError(message: "integer '\(s)' in pickle is out of range") }
            stack.append(.value(.int(v)))
        case UInt8(ascii: "F"):
            let s = text(try line())
            guard let v = Double(s) ?? (s == "nan" ? .nan : s == "inf" ? .infinity : s == "-inf" ? -.infinity : nil) else {
                throw PickleError(message: "bad FLOAT '\(s)' in pickle")
            }
            stack.append(.value(.float(v)))
        case UInt8(ascii: "N"): stack.append(.value(.none))
        case UInt8(ascii: "0"): _ = try pop()
        case UInt8(ascii: "1"): _ = try popToMark()
        case UInt8(ascii: "2"):
            guard let top = stack.last else { throw PickleError(message: "pickle stack underflow") }
            stack.append(top)
        case UInt8(ascii: "."):
            guard stack.count == 1 else { throw PickleError(message: "pickle ends with \(stack.count) values on the stack") }
            return freeze(stack[0])
        default:
            // GLOBAL, REDUCE, BUILD, INST, OBJ, …: building objects would mean running Python code.
            let shown = op >= 32 && op < 127 ? "'\(Character(Unicode.Scalar(op)))'" : "0x\(String(op, radix: 16))"
            throw PickleError(message: "pickle opcode \(shown) (a Python object, not plain data) is not supported")
        }
    }
    throw PickleError(message: "pickle has no STOP opcode")
}

/// Python's raw-unicode-escape codec: bytes are Latin-1 code points, except `\uXXXX` and `\UXXXXXXXX`.
private func decodeRawUnicodeEscape(_ s: ArraySlice<UInt8>) -> String {
    var scalars = String.UnicodeScalarView()
    var i = s.startIndex
    while i < s.endIndex {
        let b = s[i]
        if b == UInt8(ascii: "\\"), i + 1 < s.endIndex, s[i + 1] == UInt8(ascii: "u") || s[i + 1] == UInt8(ascii: "U") {
            let digits = s[i + 1] == UInt8(ascii: "u") ? 4 : 8
            let hex = s[(i + 2)..<min(s.endIndex, i + 2 + digits)]
            if hex.count == digits, let v = UInt32(String(decoding: hex, as: UTF8.self), radix: 16), let u = Unicode.Scalar(v) {
                scalars.append(u)
                i += 2 + digits
                continue
            }
        }
        scalars.append(Unicode.Scalar(b))
        i += 1
    }
    return String(scalars)
}

/// A Python 2 `str` literal as protocol 0 writes it (`'text'` with backslash escapes); bytes as UTF-8.
private func decodePythonStringLiteral(_ s: ArraySlice<UInt8>) throws(PickleError) -> String {
    guard s.count >= 2, let q = s.first, q == s.last, q == UInt8(ascii: "'") || q == UInt8(ascii: "\"") else {
        throw PickleError(message: "bad STRING in pickle")
    }
    let body = s.dropFirst().dropLast()
    var out: [UInt8] = []
    var i = body.startIndex
    while i < body.endIndex {
        let b = body[i]
        i += 1
        guard b == UInt8(ascii: "\\"), i < body.endIndex else { out.append(b); continue }
        let e = body[i]
        i += 1
        switch e {
        case UInt8(ascii: "n"): out.append(10)
        case UInt8(ascii: "t"): out.append(9)
        case UInt8(ascii: "r"): out.append(13)
        case UInt8(ascii: "0"): out.append(0)
        case UInt8(ascii: "x"):
            guard i + 2 <= body.endIndex, let v = UInt8(String(decoding: body[i..<(i + 2)], as: UTF8.self), radix: 16) else {
                throw PickleError(message: "bad \\x escape in pickle")
            }
            out.append(v)
            i += 2
        default: out.append(e)  // \\ \' \"
        }
    }
    return String(decoding: out, as: UTF8.self)
}
