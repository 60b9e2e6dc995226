import Foundation

/// Reads the uncompressed ("stored") zip archives that `torch.save` writes, including ZIP64 records.
struct ZipArchive {
    struct Entry {
        let name: String
        let method: UInt16
        let size: Int
        let localHeaderOffset: Int
    }

    let data: Data
    let path: String
    private(set) var entries: [String: Entry] = [:]

    init(data: Data, path: String) throws {
        self.data = data
        self.path = path
        try readCentralDirectory()
    }

    private func fail(_ reason: String) -> NNError { .badFile(path: path, reason: reason) }

    private func u16(_ at: Int) -> Int { Int(data[data.startIndex + at]) | Int(data[data.startIndex + at + 1]) << 8 }
    private func u32(_ at: Int) -> Int { u16(at) | u16(at + 2) << 16 }
    private func u64(_ at: Int) -> Int { u32(at) | u32(at + 4) << 32 }

    /// Whether `length` bytes at `at` lie inside the file. Every offset and size comes from the file itself, so a
    /// damaged one may be negative or near Int.max (found by fuzzing); this is checked without overflowing.
    private func contains(_ at: Int, _ length: Int) -> Bool { at >= 0 && length >= 0 && at <= data.count - length }

    private mutating func readCentralDirectory() throws {
        let n = data.count
        guard n >= 22 else { throw fail("not a zip archive (too short)") }
        // The end-of-central-directory record sits within the last 64 KiB + 22 bytes.
        var eocd = -1
        var i = n - 22
        while i >= Swift.max(0, n - 65_557) {
            if u32(i) == 0x0605_4b50 { eocd = i; break }
            i -= 1
        }
        guard eocd >= 0 else {
            throw fail(
                "not a zip archive; files from torch.save before PyTorch 1.6 (legacy format) are not supported — re-save with a recent PyTorch"
            )
        }
        var count = u16(eocd + 10)
        var offset = u32(eocd + 16)
        // ZIP64: the locator precedes the EOCD and points at the ZIP64 EOCD record.
        if (count == 0xFFFF || offset == 0xFFFF_FFFF), eocd >= 20, u32(eocd - 20) == 0x0706_4b50 {
            let z = u64(eocd - 20 + 8)
            guard contains(z, 56), u32(z) == 0x0606_4b50 else { throw fail("corrupt ZIP64 directory") }
            count = u64(z + 32)
            offset = u64(z + 48)
        }
        // Each directory entry takes at least 46 bytes.
        guard count >= 0, count <= n / 46 else { throw fail("corrupt zip central directory") }
        var p = offset
        for _ in 0..<count {
            guard contains(p, 46), u32(p) == 0x0201_4b50 else { throw fail("corrupt zip central directory") }
            let method = UInt16(u16(p + 10))
            var size = u32(p + 24)
            let nameLength = u16(p + 28), extraLength = u16(p + 30), commentLength = u16(p + 32)
            var local = u32(p + 42)
            guard contains(p + 46, nameLength + extraLength) else { throw fail("corrupt zip central directory") }
            let nameBytes = data.subdata(in: (data.startIndex + p + 46)..<(data.startIndex + p + 46 + nameLength))
            let name = String(decoding: nameBytes, as: UTF8.self)
            // ZIP64 extra field (id 1) holds the 64-bit sizes/offset that overflowed.
            var e = p + 46 + nameLength
            let extraEnd = e + extraLength
            while e + 4 <= extraEnd {
                let id = u16(e), len = u16(e + 2)
                guard e + 4 + len <= extraEnd else { throw fail("corrupt zip extra field") }
                if id == 1 {
                    var q = e + 4
                    let needed = [24, 20, 42].filter { u32(p + $0) == 0xFFFF_FFFF }.count * 8
                    guard needed <= len else { throw fail("corrupt ZIP64 extra field") }
                    if u32(p + 24) == 0xFFFF_FFFF { size = u64(q); q += 8 }
                    if u32(p + 20) == 0xFFFF_FFFF { q += 8 }
                    if u32(p + 42) == 0xFFFF_FFFF { local = u64(q) }
                }
                e += 4 + len
            }
            entries[name] = Entry(name: name, method: method, size: size, localHeaderOffset: local)
            p += 46 + nameLength + extraLength + commentLength
        }
    }

    /// The bytes of `name` (stored entries only, as torch.save writes them).
    func contents(_ name: String) throws -> Data {
        guard let entry = entries[name] else { throw fail("the archive has no '\(name)'") }
        guard entry.method == 0 else {
            throw fail("'\(name)' is compressed (method \(entry.method)); torch.save writes uncompressed archives")
        }
        let h = entry.localHeaderOffset
        guard contains(h, 30), u32(h) == 0x0403_4b50 else { throw fail("corrupt local header for '\(name)'") }
        let start = h + 30 + u16(h + 26) + u16(h + 28)
        guard contains(start, entry.size) else { throw fail("'\(name)' is truncated") }
        return data.subdata(in: (data.startIndex + start)..<(data.startIndex + start + entry.size))
    }
}
