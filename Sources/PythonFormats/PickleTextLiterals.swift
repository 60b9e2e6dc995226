// Protocol 0's text literals: UNICODE lines in Python's raw-unicode-escape codec, STRING lines as Python 2 `str`
// literals. (PyTables stores pandas' column labels in these.)

/// Python's raw-unicode-escape codec: bytes are Latin-1 code points, except `\uXXXX` and `\UXXXXXXXX`.
func decodeRawUnicodeEscape(_ s: ArraySlice<UInt8>) -> String {
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
func decodePythonStringLiteral(_ s: ArraySlice<UInt8>) throws(PythonFormatError) -> String {
    guard s.count >= 2, let q = s.first, q == s.last, q == UInt8(ascii: "'") || q == UInt8(ascii: "\"") else {
        throw PythonFormatError.pickle(message: "bad STRING in pickle")
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
                throw PythonFormatError.pickle(message: "bad \\x escape in pickle")
            }
            out.append(v)
            i += 2
        default: out.append(e)  // \\ \' \"
        }
    }
    return String(decoding: out, as: UTF8.self)
}
