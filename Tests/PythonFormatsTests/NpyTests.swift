// .npy reader/writer: numpy-made fixtures decode to hand-written values and re-encode byte for byte.
import Foundation
import PythonFormats
import Testing

private func fixture(_ base64: String) throws -> [UInt8] {
    try #require(Data(base64Encoded: base64).map { [UInt8]($0) })
}

/// Decodes a fixture, checks that writing it back gives numpy's exact bytes, returns the array.
private func roundTrip(_ base64: String, sameBytes: Bool = true) throws -> NpyArray {
    let bytes = try fixture(base64)
    let array = try NpyArray(npyBytes: bytes)
    if sameBytes { #expect(array.npyBytes() == bytes) }
    return array
}

@Suite("npy format")
struct NpyTests {
    @Test func floatArraysDecodeExactly() throws {
        let f4 = try roundTrip(NpyFixtures.f4_2x3)
        #expect(f4.dtype == .float32 && f4.shape == [2, 3] && !f4.fortranOrder)
        let v = try f4.float32Values()
        #expect(v[0] == 1.5 && v[1] == -2.25 && v[2].isNaN && v[3] == 0 && v[4] == Float(1e-3) && v[5] == Float(3.4e38))

        let f8 = try roundTrip(NpyFixtures.f8_3)
        #expect(try f8.float64Values() == [Double.pi, -M_E, .infinity])

        let big = try roundTrip(NpyFixtures.f8_big_2x2)
        #expect(big.dtype.bigEndian && big.dtype.descr == ">f8")
        #expect(try big.float32Values() == [1, 2, 3, 4.5])

        let half = try roundTrip(NpyFixtures.f2_4)
        let h = try half.float64Values()
        #expect(h[0] == 1 && h[1] == -0.5 && h[2] == 65504)
        #expect(abs(h[3] - 5.960464477539063e-08) < 1e-15)  // smallest subnormal half
    }

    @Test func integerArraysDecodeExactly() throws {
        #expect(try roundTrip(NpyFixtures.i1_4).int64Values() == [-128, -1, 0, 127])
        #expect(try roundTrip(NpyFixtures.u1_3).int64Values() == [0, 200, 255])
        #expect(try roundTrip(NpyFixtures.i2_3).int64Values() == [-32768, 5, 32767])
        #expect(try roundTrip(NpyFixtures.u2_2).int64Values() == [65535, 1])
        #expect(try roundTrip(NpyFixtures.i4_2x2).int64Values() == [-2_147_483_648, 1, 2, 2_147_483_647])
        #expect(try roundTrip(NpyFixtures.u4_2).int64Values() == [4_294_967_295, 7])
        #expect(try roundTrip(NpyFixtures.i8_3).int64Values() == [Int64.min, 42, Int64.max])
        #expect(try roundTrip(NpyFixtures.i8_big_2).int64Values() == [-3, 70000])
        let u8 = try roundTrip(NpyFixtures.u8_2)
        #expect(try u8.float64Values() == [18_446_744_073_709_551_615.0, 3])
        #expect(try roundTrip(NpyFixtures.i4_2x2).float32Values() == [-2_147_483_648, 1, 2, 2_147_483_647])
    }

    @Test func boolAndUnicodeArrays() throws {
        let b = try roundTrip(NpyFixtures.b1_2x2)
        #expect(b.dtype == .bool && b.dtype.descr == "|b1")
        #expect(try b.boolValues() == [true, false, false, true])

        let tiers = try roundTrip(NpyFixtures.U_tiers)
        #expect(tiers.dtype == .unicode(14))
        #expect(try tiers.stringValues() == ["train", "oracle", "live_test_main", "none"])
        // Strings written from Swift give numpy's bytes (width = longest string).
        let made = try NpyArray(strings: ["train", "oracle", "live_test_main", "none"], shape: [4])
        #expect(try made.npyBytes() == (fixture(NpyFixtures.U_tiers)))

        let big = try roundTrip(NpyFixtures.U_big)
        #expect(try big.stringValues() == ["ab", "é中"])
        #expect(throws: PythonFormatError.self) { try NpyArray(strings: ["toolong"], shape: [1], width: 3) }
        #expect(throws: PythonFormatError.self) { try tiers.float32Values() }
    }

    @Test func fortranOrderIsReturnedInCOrder() throws {
        let f = try roundTrip(NpyFixtures.f4_fortran_2x3x4)
        #expect(f.fortranOrder && f.shape == [2, 3, 4])
        #expect(try f.float32Values() == (0..<24).map(Float.init))
        let i = try roundTrip(NpyFixtures.i8_fortran_3x2)
        #expect(try i.int64Values() == [0, 1, 2, 3, 4, 5])
    }

    @Test func headerVersionsAndEdgeShapes() throws {
        for fx in [NpyFixtures.f4_2x3_v2, NpyFixtures.f4_2x3_v3] {
            let a = try roundTrip(fx, sameBytes: false)
            #expect(a.shape == [2, 3])
            #expect(try a.float32Values() == [1, 2, 3, 4, 5, 6])
        }
        let v2 = try NpyHeader.parse(try fixture(NpyFixtures.f4_2x3_v2), source: "v2")
        #expect(v2.majorVersion == 2 && v2.dataOffset % 64 == 0)
        let scalar = try roundTrip(NpyFixtures.f4_scalar)
        #expect(try scalar.shape == [] && scalar.float32Values() == [7.25])
        let empty = try roundTrip(NpyFixtures.f4_empty_0x3)
        #expect(try empty.shape == [0, 3] && empty.float32Values().isEmpty)
    }

    @Test func writersMatchNumpyBytes() throws {
        let f4 = try NpyArray(float32: [1.5, -2.25, .nan, 0, 1e-3, 3.4e38], shape: [2, 3])
        #expect(try f4.npyBytes() == (fixture(NpyFixtures.f4_2x3)))
        let i8 = try NpyArray(int64: [Int64.min, 42, Int64.max], shape: [3])
        #expect(try i8.npyBytes() == (fixture(NpyFixtures.i8_3)))
        let f8 = try NpyArray(float64: [.pi, -M_E, .infinity], shape: [3])
        #expect(try f8.npyBytes() == (fixture(NpyFixtures.f8_3)))
        let b = try NpyArray(bool: [true, false, false, true], shape: [2, 2])
        #expect(try b.npyBytes() == (fixture(NpyFixtures.b1_2x2)))
        let u1 = try NpyArray(uint8: [0, 200, 255], shape: [3])
        #expect(try u1.npyBytes() == (fixture(NpyFixtures.u1_3)))
    }

    @Test func fileRoundTripAndErrors() throws {
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("npy-\(UUID().uuidString)")
        defer { try? FileManager.default.removeItem(at: folder) }
        let url = folder.appendingPathComponent("sub/a.npy")
        let values = (0..<60).map { Float($0) * 0.5 - 3 }
        try NpyArray(float32: values, shape: [3, 4, 5]).write(to: url)
        let back = try NpyArray(contentsOf: url)
        #expect(try back.shape == [3, 4, 5] && back.float32Values() == values)
        #expect(try NpyHeader.read(contentsOf: url).shape == [3, 4, 5])
        // Missing file, bad magic, truncated data and unsupported dtypes each give a named error.
        #expect(throws: PythonFormatError.self) { try NpyArray(contentsOf: folder.appendingPathComponent("missing.npy")) }
        #expect(throws: PythonFormatError.self) { try NpyArray(npyBytes: [UInt8]("hello world, not numpy".utf8)) }
        var truncated = try fixture(NpyFixtures.f4_2x3)
        truncated.removeLast(3)
        #expect(throws: PythonFormatError.self) { try NpyArray(npyBytes: truncated) }
        #expect(throws: PythonFormatError.self) { try NpyDType(descr: "|O") }
        #expect(throws: PythonFormatError.self) { try NpyDType(descr: "<c16") }
        #expect(throws: PythonFormatError.self) { try NpyArray(float32: [1, 2], shape: [3]) }
        do {
            _ = try NpyArray(contentsOf: folder.appendingPathComponent("missing.npy"))
        } catch {
            #expect(error.description.contains("missing.npy") && error.description.contains("not found"))
        }
    }

    @Test func everyDTypeRoundTrips() throws {
        // Raw element bytes of every supported dtype survive write → read, header included, in both byte orders.
        let types: [NpyDType] = [
            .bool, .int8, .uint8, .int16, .uint16, .int32, .uint32, .int64, .uint64, .float16, .float32,
            .float64, .unicode(3),
        ]
        for base in types {
            for bigEndian in [false, true] where !bigEndian || base.itemBytes > 1 {
                var dtype = base
                dtype.bigEndian = bigEndian
                let bytes = (0..<(6 * dtype.itemBytes)).map {
                    UInt8(truncatingIfNeeded: $0 &* 37 &+ 11) & (dtype.kind == .unicode ? 0x3F : 0xFF)
                }
                let array = try NpyArray(dtype: dtype, shape: [2, 3], bytes: dtype.kind == .bool ? [1, 0, 1, 1, 0, 0] : bytes)
                let back = try NpyArray(npyBytes: array.npyBytes())
                #expect(back == array, "\(dtype.descr)")
                #expect(try NpyDType(descr: dtype.descr) == dtype)
                #expect(try NpyHeader.parse(array.npyBytes(), source: "t").dataOffset % 64 == 0)
            }
        }
        // Typed constructors read back through the typed views.
        #expect(try NpyArray(npyBytes: NpyArray(int32: [-5, 7], shape: [2]).npyBytes()).int64Values() == [-5, 7])
        #expect(try NpyArray(npyBytes: NpyArray(float64: [0.1, -2], shape: [1, 2]).npyBytes()).float64Values() == [0.1, -2])
        #expect(try NpyArray(npyBytes: NpyArray(bool: [true, false], shape: [2]).npyBytes()).boolValues() == [true, false])
        #expect(try NpyArray(npyBytes: NpyArray(strings: ["a", "bcd"], shape: [2]).npyBytes()).stringValues() == ["a", "bcd"])
        let big = try NpyArray(dtype: NpyDType(descr: ">i2"), shape: [2], bytes: [0xFF, 0xFE, 0x01, 0x00])
        #expect(try big.int64Values() == [-2, 256])
    }
}
