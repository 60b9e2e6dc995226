// A NumPy `.npy` array in memory: raw element bytes plus header, with typed views and typed constructors.
import Foundation
import KinemaFiles

/// An n-dimensional array as stored in a `.npy` file.
///
/// The element bytes are kept exactly as in the file (byte order and memory order included), so a
/// read followed by a write reproduces the file. Typed accessors (`float32Values()`, `int64Values()`,
/// `stringValues()`, …) always return elements in C (row-major) order, converting byte order,
/// Fortran order and width as needed.
public struct NpyArray: Sendable, Equatable {
    /// Element type.
    public var dtype: NpyDType
    /// Shape (empty for a scalar).
    public var shape: [Int]
    /// Whether `bytes` are laid out column-major.
    public var fortranOrder: Bool
    /// Element bytes in file order.
    public var bytes: [UInt8]

    /// Number of elements.
    public var count: Int { shape.reduce(1, *) }

    /// Wraps raw element bytes; throws when their length does not match shape × element size.
    public init(dtype: NpyDType, shape: [Int], fortranOrder: Bool = false, bytes: [UInt8]) throws(PythonFormatError) {
        let expected = shape.reduce(1, *) * dtype.itemBytes
        guard bytes.count == expected, shape.allSatisfy({ $0 >= 0 }) else {
            throw PythonFormatError.npy(
                source: "<memory>", message: "\(bytes.count) bytes do not fit shape \(shape) of \(dtype.descr) (\(expected) bytes expected)"
            )
        }
        self.dtype = dtype
        self.shape = shape
        self.fortranOrder = fortranOrder
        self.bytes = bytes
    }

    // MARK: - Reading and writing files

    /// Decodes a whole `.npy` file held in memory; `source` names it in errors.
    public init(npyBytes: some RandomAccessCollection<UInt8>, source: String = "<memory>") throws(PythonFormatError) {
        let header = try NpyHeader.parse(npyBytes, source: source)
        let needed = header.count * header.dtype.itemBytes
        let available = npyBytes.count - header.dataOffset
        guard available >= needed else {
            throw PythonFormatError.npy(
                source: source,
                message:
                    "file is truncated: shape \(header.shape) of \(header.dtype.descr) needs \(needed) data bytes, found \(max(available, 0))"
            )
        }
        let start = npyBytes.index(npyBytes.startIndex, offsetBy: header.dataOffset)
        let end = npyBytes.index(start, offsetBy: needed)
        self.dtype = header.dtype
        self.shape = header.shape
        self.fortranOrder = header.fortranOrder
        self.bytes = Array(npyBytes[start..<end])
    }

    /// Reads a `.npy` file.
    public init(contentsOf url: URL) throws(PythonFormatError) {
        let data: Data
        do {
            data = try Data(contentsOf: url, options: .mappedIfSafe)
        } catch {
            let exists = FileManager.default.fileExists(atPath: url.path)
            throw PythonFormatError.npy(
                source: url.path, message: exists ? "cannot read file: \(FileProblem.describe(error))" : "file not found")
        }
        try self.init(npyBytes: [UInt8](data), source: url.path)
    }

    /// The complete file contents (header + data) in numpy's own layout.
    public func npyBytes() -> [UInt8] {
        NpyHeader(dtype: dtype, fortranOrder: fortranOrder, shape: shape).encoded() + bytes
    }

    /// Writes the array atomically (temporary file in the same folder, then rename).
    public func write(to url: URL) throws {
        try AtomicFile.write(Data(npyBytes()), to: url)
    }

    // MARK: - Typed constructors (C order)

    /// A float32 array; `values.count` must equal the product of `shape`.
    public init(float32 values: [Float], shape: [Int]) throws(PythonFormatError) {
        try self.init(dtype: .float32, shape: shape, bytes: Self.littleEndianBytes(values.map(\.bitPattern)))
    }

    /// A float64 array.
    public init(float64 values: [Double], shape: [Int]) throws(PythonFormatError) {
        try self.init(dtype: .float64, shape: shape, bytes: Self.littleEndianBytes(values.map(\.bitPattern)))
    }

    /// An int64 array.
    public init(int64 values: [Int64], shape: [Int]) throws(PythonFormatError) {
        try self.init(dtype: .int64, shape: shape, bytes: Self.littleEndianBytes(values.map { UInt64(bitPattern: $0) }))
    }

    /// An int32 array.
    public init(int32 values: [Int32], shape: [Int]) throws(PythonFormatError) {
        try self.init(dtype: .int32, shape: shape, bytes: Self.littleEndianBytes(values.map { UInt32(bitPattern: $0) }))
    }

    /// A uint8 array.
    public init(uint8 values: [UInt8], shape: [Int]) throws(PythonFormatError) {
        try self.init(dtype: .uint8, shape: shape, bytes: values)
    }

    /// A boolean array.
    public init(bool values: [Bool], shape: [Int]) throws(PythonFormatError) {
        try self.init(dtype: .bool, shape: shape, bytes: values.map { $0 ? 1 : 0 })
    }

    /// A fixed-width unicode array (`<U<width>`); `width` defaults to the longest string (numpy's rule).
    public init(strings values: [String], shape: [Int], width: Int? = nil) throws(PythonFormatError) {
        let scalars = values.map { Array($0.unicodeScalars) }
        let w = width ?? scalars.map(\.count).max() ?? 0
        guard let longest = scalars.map(\.count).max(), longest > w else {
            var codes: [UInt32] = []
            codes.reserveCapacity(values.count * w)
            for s in scalars {
                codes += s.map(\.value)
                codes += [UInt32](repeating: 0, count: w - s.count)
            }
            try self.init(dtype: .unicode(w), shape: shape, bytes: Self.littleEndianBytes(codes))
            return
        }
        throw PythonFormatError.npy(source: "<memory>", message: "a string of \(longest) characters does not fit '<U\(w)'")
    }

    private static func littleEndianBytes<T: FixedWidthInteger>(_ values: [T]) -> [UInt8] {
        var out = [UInt8](repeating: 0, count: values.count * MemoryLayout<T>.size)
        out.withUnsafeMutableBytes { raw in
            for (i, v) in values.enumerated() {
                raw.storeBytes(of: v.littleEndian, toByteOffset: i * MemoryLayout<T>.size, as: T.self)
            }
        }
        return out
    }

    // MARK: - Typed views (always C order)

    /// All elements as Float (numbers and booleans; floats narrowed, integers converted).
    public func float32Values() throws(PythonFormatError) -> [Float] {
        try numeric(Float.self, name: "float32")
    }

    /// All elements as Double.
    public func float64Values() throws(PythonFormatError) -> [Double] {
        try numeric(Double.self, name: "float64")
    }

    /// All elements as Int64 (integer and boolean arrays only).
    public func int64Values() throws(PythonFormatError) -> [Int64] {
        guard dtype.kind != .float, dtype.kind != .unicode else {
            throw PythonFormatError.npy(source: "<memory>", message: "expected an integer array, found \(dtype.descr)")
        }
        return cOrder((0..<count).map { Int64(truncatingIfNeeded: integerBits(at: $0, signed: dtype.kind == .signed)) })
    }

    /// All elements as Bool (non-zero = true).
    public func boolValues() throws(PythonFormatError) -> [Bool] {
        try float64Values().map { $0 != 0 }
    }

    /// All elements of a unicode array as Swift strings (trailing NULs removed, as numpy does).
    public func stringValues() throws(PythonFormatError) -> [String] {
        guard dtype.kind == .unicode else {
            throw PythonFormatError.npy(source: "<memory>", message: "expected a unicode string array ('<U…'), found \(dtype.descr)")
        }
        let width = dtype.size
        var strings: [String] = []
        strings.reserveCapacity(count)
        for element in 0..<count {
            var scalars = String.UnicodeScalarView()
            var codes: [UInt32] = []
            for c in 0..<width { codes.append(UInt32(truncatingIfNeeded: load(byteOffset: (element * width + c) * 4, size: 4))) }
            while let last = codes.last, last == 0 { codes.removeLast() }
            for code in codes {
                guard let scalar = Unicode.Scalar(code) else {
                    throw PythonFormatError.npy(source: "<memory>", message: "invalid unicode code point \(code) in string \(element)")
                }
                scalars.append(scalar)
            }
            strings.append(String(scalars))
        }
        return cOrder(strings)
    }

    // MARK: - Element decoding

    /// Loads `size` bytes at `byteOffset` as an unsigned integer, honouring the byte order.
    @inline(__always)
    private func load(byteOffset: Int, size: Int) -> UInt64 {
        var v: UInt64 = 0
        if dtype.bigEndian {
            for i in 0..<size { v = (v << 8) | UInt64(bytes[byteOffset + i]) }
        } else {
            for i in stride(from: size - 1, through: 0, by: -1) { v = (v << 8) | UInt64(bytes[byteOffset + i]) }
        }
        return v
    }

    private func integerBits(at element: Int, signed: Bool) -> Int64 {
        let size = dtype.size
        let raw = load(byteOffset: element * size, size: size)
        if signed && size < 8 {
            let shift = UInt64(64 - 8 * size)
            return Int64(bitPattern: raw << shift) >> Int64(shift)
        }
        return Int64(bitPattern: raw)
    }

    private func numeric<T: BinaryFloatingPoint>(_: T.Type, name: String) throws(PythonFormatError) -> [T] {
        var out = [T](repeating: 0, count: count)
        switch dtype.kind {
        case .unicode:
            throw PythonFormatError.npy(source: "<memory>", message: "expected a numeric array, found strings (\(dtype.descr))")
        case .float:
            switch dtype.size {
            case 4 where !dtype.bigEndian && T.self == Float.self:
                // Fast path for the common case: reinterpret the bytes.
                bytes.withUnsafeBytes { raw in
                    for i in 0..<count { out[i] = T(Float(bitPattern: raw.loadUnaligned(fromByteOffset: i * 4, as: UInt32.self))) }
                }
            case 4:
                for i in 0..<count { out[i] = T(Float(bitPattern: UInt32(load(byteOffset: i * 4, size: 4)))) }
            case 8:
                for i in 0..<count { out[i] = T(Double(bitPattern: load(byteOffset: i * 8, size: 8))) }
            default:
                for i in 0..<count { out[i] = T(Self.halfToFloat(UInt16(load(byteOffset: i * 2, size: 2)))) }
            }
        case .signed, .bool:
            for i in 0..<count { out[i] = T(integerBits(at: i, signed: dtype.kind == .signed)) }
        case .unsigned:
            for i in 0..<count { out[i] = T(UInt64(bitPattern: integerBits(at: i, signed: false))) }
        }
        return cOrder(out)
    }

    /// IEEE half precision to Float (subnormals, infinities and NaN included).
    static func halfToFloat(_ h: UInt16) -> Float {
        let sign: Float = (h & 0x8000) != 0 ? -1 : 1
        let exponent = Int((h >> 10) & 0x1F)
        let mantissa = Float(h & 0x3FF)
        switch exponent {
        case 0: return sign * mantissa * Float(sign: .plus, exponent: -24, significand: 1)
        case 31: return mantissa == 0 ? sign * .infinity : .nan
        default: return sign * (1 + mantissa / 1024) * Float(sign: .plus, exponent: exponent - 15, significand: 1)
        }
    }

    /// Reorders file-order elements into C order (identity unless the array is Fortran-ordered).
    private func cOrder<T>(_ fileOrder: [T]) -> [T] {
        guard fortranOrder, shape.count > 1, !fileOrder.isEmpty else { return fileOrder }
        // Fortran strides: first axis fastest.
        var fStrides = [Int](repeating: 1, count: shape.count)
        for axis in 1..<shape.count { fStrides[axis] = fStrides[axis - 1] * shape[axis - 1] }
        var out: [T] = []
        out.reserveCapacity(fileOrder.count)
        var index = [Int](repeating: 0, count: shape.count)
        for _ in 0..<fileOrder.count {
            var offset = 0
            for axis in 0..<shape.count { offset += index[axis] * fStrides[axis] }
            out.append(fileOrder[offset])
            var axis = shape.count - 1
            while axis >= 0 {
                index[axis] += 1
                if index[axis] < shape[axis] { break }
                index[axis] = 0
                axis -= 1
            }
        }
        return out
    }
}
