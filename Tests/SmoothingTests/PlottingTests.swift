import Foundation
import Plotting
import Testing

// MARK: - A tiny PNG decoder (inflate for stored and fixed-Huffman blocks) to check our encoder

struct BitReader {
    let bytes: [UInt8]
    var position = 0  // in bits
    mutating func bit() -> Int { defer { position += 1 }; return Int(bytes[position >> 3] >> UInt8(position & 7)) & 1 }
    mutating func bits(_ n: Int) -> Int { var v = 0; for i in 0..<n { v |= bit() << i }; return v }
    mutating func huffmanBits(_ n: Int) -> Int { var v = 0; for _ in 0..<n { v = v << 1 | bit() }; return v }
}

enum InflateError: Error { case unsupported, corrupt }

func inflate(_ zlib: [UInt8]) throws -> [UInt8] {
    var r = BitReader(bytes: Array(zlib.dropFirst(2)))
    var out: [UInt8] = []
    let lengthBase = [3, 4, 5, 6, 7, 8, 9, 10, 11, 13, 15, 17, 19, 23, 27, 31, 35, 43, 51, 59, 67, 83, 99, 115, 131, 163, 195, 227, 258]
    let lengthExtra = [0, 0, 0, 0, 0, 0, 0, 0, 1, 1, 1, 1, 2, 2, 2, 2, 3, 3, 3, 3, 4, 4, 4, 4, 5, 5, 5, 5, 0]
    let distBase = [
        1, 2, 3, 4, 5, 7, 9, 13, 17, 25, 33, 49, 65, 97, 129, 193, 257, 385, 513, 769, 1025, 1537, 2049, 3073, 4097, 6145, 8193, 12289,
        16385, 24577,
    ]
    let distExtra = [0, 0, 0, 0, 1, 1, 2, 2, 3, 3, 4, 4, 5, 5, 6, 6, 7, 7, 8, 8, 9, 9, 10, 10, 11, 11, 12, 12, 13, 13]
    while true {
        let final = r.bits(1), type = r.bits(2)
        if type == 0 {
            r.position = (r.position + 7) & ~7
            let len = r.bits(16); _ = r.bits(16)
            for _ in 0..<len { out.append(UInt8(r.bits(8))) }
        } else if type == 1 {
            while true {
                var code = r.huffmanBits(7), symbol: Int
                if code <= 0x17 {
                    symbol = code + 256
                } else {
                    code = code << 1 | r.bit()
                    if code >= 0x30 && code <= 0xBF {
                        symbol = code - 0x30
                    } else if code >= 0xC0 && code <= 0xC7 {
                        symbol = code - 0xC0 + 280
                    } else {
                        code = code << 1 | r.bit(); symbol = code - 0x190 + 144
                    }
                }
                if symbol < 256 { out.append(UInt8(symbol)); continue }
                if symbol == 256 { break }
                let li = symbol - 257
                guard li < 29 else { throw InflateError.corrupt }
                let length = lengthBase[li] + r.bits(lengthExtra[li])
                let di = r.huffmanBits(5)
                let distance = distBase[di] + r.bits(distExtra[di])
                guard distance <= out.count else { throw InflateError.corrupt }
                for _ in 0..<length { out.append(out[out.count - distance]) }
            }
        } else {
            throw InflateError.unsupported
        }
        if final == 1 { break }
    }
    return out
}

/// Decodes an RGBA PNG written by `PNG.encode` (checks signature, CRCs and Adler-32).
func decodePNG(_ png: [UInt8]) throws -> (width: Int, height: Int, rgba: [UInt8]) {
    #expect(Array(png[0..<8]) == [0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A])
    var i = 8, width = 0, height = 0, idat: [UInt8] = []
    func be(_ p: Int) -> Int { Int(png[p]) << 24 | Int(png[p + 1]) << 16 | Int(png[p + 2]) << 8 | Int(png[p + 3]) }
    while i < png.count {
        let len = be(i), type = String(decoding: png[(i + 4)..<(i + 8)], as: UTF8.self)
        let body = Array(png[(i + 8)..<(i + 8 + len)])
        #expect(UInt32(be(i + 8 + len)) == CRC32.checksum(Array(png[(i + 4)..<(i + 8)]) + body), "CRC of \(type)")
        if type == "IHDR" { width = be(i + 8); height = be(i + 12); #expect(body[8] == 8 && body[9] == 6) }
        if type == "IDAT" { idat += body }
        i += 12 + len
    }
    let raw = try inflate(idat)
    var adler: UInt32 = 0
    for b in idat.suffix(4) { adler = adler << 8 | UInt32(b) }
    #expect(adler == Adler32.checksum(raw))
    #expect(raw.count == height * (width * 4 + 1))
    var rgba: [UInt8] = []
    let stride = width * 4 + 1
    for y in 0..<height {
        let start: Int = y * stride
        #expect(raw[start] == 0)
        rgba += raw[(start + 1)..<(start + stride)]
    }
    return (width, height, rgba)
}

// MARK: - Tests

@Test func checksumsMatchKnownValues() {
    #expect(CRC32.checksum(Array("123456789".utf8)) == 0xCBF4_3926)
    #expect(Adler32.checksum(Array("Wikipedia".utf8)) == 0x11E6_0398)
}

@Test func pngRoundTripPreservesPixels() throws {
    var canvas = Canvas(width: 97, height: 61)
    canvas.fillRect(x0: 10, y0: 5, x1: 40, y1: 30, Color(200, 30, 40))
    canvas.drawLine(0, 60, 96, 0, Color(0, 0, 255), width: 3)
    canvas.fillPolygon([(50, 10), (90, 20), (70, 55)], Color(0, 160, 0).withAlpha(0.5))
    canvas.drawText("EKS 0.5", x: 5, y: 45, .black)
    for i in 0..<200 { canvas.plot(i % 97, 59 - i / 97, Color(UInt8(i), UInt8(255 - i), 7)) }  // noisy row
    let png = canvas.pngData()
    let decoded = try decodePNG(png)
    #expect(decoded.width == 97 && decoded.height == 61)
    #expect(decoded.rgba == canvas.pixels)
    #expect(png.count < canvas.pixels.count / 3, "LZ77 should compress a mostly flat image")
    #expect(canvas.pixel(20, 20) == Color(200, 30, 40))
    #expect(canvas.pixel(95, 50) == .white)
    // Green at alpha 128/255 over white: 255·(127/255) = 127, 160·(128/255) + 127 = 207.
    #expect(canvas.pixel(70, 25) == Color(127, 207, 127))
}

@Test func textAndFigureRender() throws {
    var canvas = Canvas(width: 40, height: 10)
    canvas.drawText("1", x: 0, y: 0, .black)
    // Glyph "1": row 0 is ..#.., row 6 is .###.
    #expect(canvas.pixel(2, 0) == .black && canvas.pixel(0, 0) == .white)
    #expect(canvas.pixel(1, 6) == .black && canvas.pixel(3, 6) == .black && canvas.pixel(4, 6) == .white)

    var figure = Figure(width: 400, height: 300, rows: 1, columns: 2, title: "test")
    let x = (0..<50).map(Double.init)
    figure.axes[0].band(x: x, lower: x.map { $0 - 5 }, upper: x.map { $0 + 5 }, color: Color.palette[0].withAlpha(0.3), label: "band")
    figure.axes[0].line(x: x, y: x, color: Color.palette[1], label: "line")
    figure.axes[1].markers(x: x, y: x.map { $0 * $0 }, color: Color.palette[2], label: "pts")
    let url = FileManager.default.temporaryDirectory.appendingPathComponent("kinema-plot-\(UUID().uuidString).png")
    try figure.save(to: url)
    let decoded = try decodePNG([UInt8](try Data(contentsOf: url)))
    #expect(decoded.width == 400 && decoded.height == 300)
    // The line colour appears in the left subplot, the marker colour in the right one.
    let line = Color.palette[1], pts = Color.palette[2]
    var lineCount = 0, ptsCount = 0
    for y in 0..<300 {
        for xx in 0..<400 {
            let o = (y * 400 + xx) * 4
            let c = Color(decoded.rgba[o], decoded.rgba[o + 1], decoded.rgba[o + 2], decoded.rgba[o + 3])
            if c == line { #expect(xx < 200); lineCount += 1 }
            if c == pts { #expect(xx >= 200); ptsCount += 1 }
        }
    }
    #expect(lineCount > 100 && ptsCount > 100)
    try? FileManager.default.removeItem(at: url)
}
