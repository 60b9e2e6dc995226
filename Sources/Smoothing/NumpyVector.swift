// Reads 1-D NumPy `.npy` arrays (timestamps for the paw mode) as [Double].
import Foundation

/// Minimal `.npy` reader for 1-D numeric arrays (`<f8`, `<f4`, `<i8`, `<i4`, `<u8`, `<u4`), C order.
public enum NumpyVector {
    public static func read(from url: URL) throws -> [Double] {
        guard let data = try? Data(contentsOf: url) else { throw SmoothingError("\(url.path): cannot read the .npy file") }
        let bytes = [UInt8](data)
        guard bytes.count >= 10, bytes[0] == 0x93, Array(bytes[1...5]) == Array("NUMPY".utf8) else {
            throw SmoothingError("\(url.path): not a .npy file (bad magic)")
        }
        let major = bytes[6]
        let headerLength: Int, start: Int
        if major == 1 {
            headerLength = Int(bytes[8]) | Int(bytes[9]) << 8; start = 10
        } else {
            guard bytes.count >= 12 else { throw SmoothingError("\(url.path): truncated .npy header") }
            headerLength = Int(bytes[8]) | Int(bytes[9]) << 8 | Int(bytes[10]) << 16 | Int(bytes[11]) << 24; start = 12
        }
        guard bytes.count >= start + headerLength else { throw SmoothingError("\(url.path): truncated .npy header") }
        let header = String(decoding: bytes[start..<(start + headerLength)], as: UTF8.self)
        func field(_ key: String) -> String? {
            guard let r = header.range(of: "'\(key)':") else { return nil }
            return String(header[r.upperBound...]).trimmingCharacters(in: .whitespaces)
        }
        guard let descr = field("descr")?.split(separator: "'").first.map(String.init) else {
            throw SmoothingError("\(url.path): .npy header has no dtype")
        }
        if field("fortran_order")?.hasPrefix("True") == true {
            throw SmoothingError("\(url.path): Fortran-ordered arrays are not supported")
        }
        let shapeText = field("shape").flatMap { s in s.split(separator: ")").first.map { $0.dropFirst() } } ?? ""
        let dims = shapeText.split(separator: ",").compactMap { Int($0.trimmingCharacters(in: .whitespaces)) }
        guard dims.count == 1 || (dims.count == 2 && dims.contains(1)) else {
            throw SmoothingError("\(url.path): expected a 1-D array, found shape (\(shapeText))")
        }
        let n = dims.reduce(1, *)
        let width: Int
        switch descr { case "<f8", "<i8", "<u8": width = 8; case "<f4", "<i4", "<u4": width = 4
        default: throw SmoothingError("\(url.path): unsupported dtype \(descr); save timestamps as float64") }
        let body = start + headerLength
        guard bytes.count >= body + n * width else { throw SmoothingError("\(url.path): file holds fewer than \(n) values") }
        return (0..<n).map { i in
            var raw: UInt64 = 0
            for b in 0..<width { raw |= UInt64(bytes[body + i * width + b]) << (8 * UInt64(b)) }
            switch descr {
            case "<f8": return Double(bitPattern: raw)
            case "<f4": return Double(Float(bitPattern: UInt32(truncatingIfNeeded: raw)))
            case "<i8": return Double(Int64(bitPattern: raw))
            case "<i4": return Double(Int32(bitPattern: UInt32(truncatingIfNeeded: raw)))
            default: return Double(raw)
            }
        }
    }
}
