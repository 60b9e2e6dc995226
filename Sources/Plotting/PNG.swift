// PNG encoding without dependencies: zlib stream with fixed-Huffman deflate (greedy LZ77 with a
// hash of 3-byte prefixes), CRC-32 and Adler-32.
import Foundation
import KinemaFiles

// MARK: - PNG

public enum PNG {
    /// Encodes RGBA pixels (row-major, 4 bytes per pixel) as an 8-bit RGBA PNG.
    public static func encode(width: Int, height: Int, rgba: [UInt8]) -> [UInt8] {
        var raw = [UInt8]()
        raw.reserveCapacity(height * (width * 4 + 1))
        for y in 0..<height {
            raw.append(0)  // filter type None: flat plot colours compress well with LZ77 alone
            raw.append(contentsOf: rgba[(y * width * 4)..<((y + 1) * width * 4)])
        }
        var out: [UInt8] = [0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A]
        var header = [UInt8]()
        header += bigEndian(UInt32(width)) + bigEndian(UInt32(height))
        header += [8, 6, 0, 0, 0]  // bit depth 8, colour type RGBA, deflate, adaptive filter, no interlace
        appendChunk(&out, "IHDR", header)
        appendChunk(&out, "IDAT", Zlib.compress(raw))
        appendChunk(&out, "IEND", [])
        return out
    }

    private static func bigEndian(_ v: UInt32) -> [UInt8] {
        [UInt8(v >> 24), UInt8(v >> 16 & 0xFF), UInt8(v >> 8 & 0xFF), UInt8(v & 0xFF)]
    }

    private static func appendChunk(_ out: inout [UInt8], _ type: String, _ data: [UInt8]) {
        out += bigEndian(UInt32(data.count))
        let typeBytes = Array(type.utf8)
        out += typeBytes
        out += data
        out += bigEndian(CRC32.checksum(typeBytes + data))
    }
}

// MARK: - Checksums

public enum CRC32 {
    static let table: [UInt32] = (0..<256).map { n -> UInt32 in
        var c = UInt32(n)
        for _ in 0..<8 { c = c & 1 != 0 ? 0xEDB8_8320 ^ (c >> 1) : c >> 1 }
        return c
    }
    /// CRC-32 (ISO-HDLC, as used by PNG and zip).
    public static func checksum(_ data: [UInt8]) -> UInt32 {
        var c: UInt32 = 0xFFFF_FFFF
        for b in data { c = table[Int((c ^ UInt32(b)) & 0xFF)] ^ (c >> 8) }
        return c ^ 0xFFFF_FFFF
    }
}

public enum Adler32 {
    /// Adler-32 as used by zlib.
    public static func checksum(_ data: [UInt8]) -> UInt32 {
        var a: UInt32 = 1, b: UInt32 = 0
        var i = 0
        while i < data.count {
            let end = min(i + 5552, data.count)
            while i < end { a += UInt32(data[i]); b += a; i += 1 }
            a %= 65521; b %= 65521
        }
        return b << 16 | a
    }
}

// MARK: - zlib / deflate (fixed Huffman)

public enum Zlib {
    /// A zlib stream holding one fixed-Huffman deflate block.
    public static func compress(_ data: [UInt8]) -> [UInt8] {
        var bits = BitWriter()
        bits.write(1, count: 1)  // final block
        bits.write(1, count: 2)  // fixed Huffman
        let n = data.count
        var head = [Int32](repeating: -1, count: 1 << 15)
        var prev = [Int32](repeating: -1, count: n)
        var i = 0
        func hash(_ p: Int) -> Int { (Int(data[p]) << 10 ^ Int(data[p + 1]) << 5 ^ Int(data[p + 2])) & 0x7FFF }
        while i < n {
            var bestLength = 0, bestDistance = 0
            if i + 2 < n {
                let h = hash(i)
                var candidate = Int(head[h]), chain = 0
                while candidate >= 0 && i - candidate <= 32768 && chain < 16 {
                    var l = 0
                    while l < 258 && i + l < n && data[candidate + l] == data[i + l] { l += 1 }
                    if l > bestLength { bestLength = l; bestDistance = i - candidate; if l == 258 { break } }
                    candidate = Int(prev[candidate]); chain += 1
                }
                prev[i] = head[h]; head[h] = Int32(i)
            }
            if bestLength >= 3 {
                bits.writeLength(bestLength)
                bits.writeDistance(bestDistance)
                // Index the skipped positions so later matches can find them.
                for j in (i + 1)..<min(i + bestLength, n - 2) { let h = hash(j); prev[j] = head[h]; head[h] = Int32(j) }
                i += bestLength
            } else {
                bits.writeLiteral(Int(data[i]))
                i += 1
            }
        }
        bits.writeLiteral(256)  // end of block
        var out: [UInt8] = [0x78, 0x01]
        out += bits.finish()
        let adler = Adler32.checksum(data)
        out += [UInt8(adler >> 24), UInt8(adler >> 16 & 0xFF), UInt8(adler >> 8 & 0xFF), UInt8(adler & 0xFF)]
        return out
    }
}

/// LSB-first bit writer with the fixed Huffman code of RFC 1951.
struct BitWriter {
    private(set) var bytes: [UInt8] = []
    private var buffer: UInt64 = 0
    private var count = 0

    mutating func write(_ value: Int, count n: Int) {
        buffer |= UInt64(value) << UInt64(count)
        count += n
        while count >= 8 { bytes.append(UInt8(buffer & 0xFF)); buffer >>= 8; count -= 8 }
    }

    /// Huffman codes are written most-significant bit first.
    mutating func writeReversed(_ code: Int, count n: Int) {
        var reversed = 0
        for b in 0..<n where code & (1 << b) != 0 { reversed |= 1 << (n - 1 - b) }
        write(reversed, count: n)
    }

    mutating func writeLiteral(_ symbol: Int) {
        switch symbol {
        case 0...143: writeReversed(0x30 + symbol, count: 8)
        case 144...255: writeReversed(0x190 + symbol - 144, count: 9)
        case 256...279: writeReversed(symbol - 256, count: 7)
        default: writeReversed(0xC0 + symbol - 280, count: 8)
        }
    }

    static let lengthBase = [
        3, 4, 5, 6, 7, 8, 9, 10, 11, 13, 15, 17, 19, 23, 27, 31, 35, 43, 51, 59, 67, 83, 99, 115, 131, 163, 195, 227, 258,
    ]
    static let lengthExtra = [0, 0, 0, 0, 0, 0, 0, 0, 1, 1, 1, 1, 2, 2, 2, 2, 3, 3, 3, 3, 4, 4, 4, 4, 5, 5, 5, 5, 0]
    static let distanceBase = [
        1, 2, 3, 4, 5, 7, 9, 13, 17, 25, 33, 49, 65, 97, 129, 193, 257, 385, 513, 769, 1025, 1537, 2049, 3073,
        4097, 6145, 8193, 12289, 16385, 24577,
    ]
    static let distanceExtra = [0, 0, 0, 0, 1, 1, 2, 2, 3, 3, 4, 4, 5, 5, 6, 6, 7, 7, 8, 8, 9, 9, 10, 10, 11, 11, 12, 12, 13, 13]

    mutating func writeLength(_ length: Int) {
        var code = 28
        while Self.lengthBase[code] > length { code -= 1 }
        writeLiteral(257 + code)
        if Self.lengthExtra[code] > 0 { write(length - Self.lengthBase[code], count: Self.lengthExtra[code]) }
    }

    mutating func writeDistance(_ distance: Int) {
        var code = 29
        while Self.distanceBase[code] > distance { code -= 1 }
        writeReversed(code, count: 5)
        if Self.distanceExtra[code] > 0 { write(distance - Self.distanceBase[code], count: Self.distanceExtra[code]) }
    }

    mutating func finish() -> [UInt8] {
        if count > 0 { bytes.append(UInt8(buffer & 0xFF)); buffer = 0; count = 0 }
        return bytes
    }
}

// MARK: - Saving

extension Canvas {
    /// PNG bytes of the canvas.
    public func pngData() -> [UInt8] { PNG.encode(width: width, height: height, rgba: pixels) }

    /// Writes the canvas as PNG atomically (KinemaFiles: temporary file, then rename).
    public func writePNG(to url: URL) throws {
        do {
            try AtomicFile.write(Data(pngData()), to: url)
        } catch let error as FileWriteError {
            throw PlotError("\(url.path): cannot write the picture (\(error.reason)); check that the folder is writable")
        }
    }
}

/// A plotting problem (e.g. the file cannot be written).
public struct PlotError: Error, CustomStringConvertible, Sendable {
    public let description: String
    public init(_ description: String) { self.description = description }
}
