// Reading and writing pose tables as pandas-style CSV (3 header rows: scorer, bodyparts, coords).
import Foundation
import KinemaFiles

// MARK: - Reading

extension PoseTable {
    /// Reads a Lightning Pose / DeepLabCut CSV (labels or predictions).
    ///
    /// Accepts a frame-number index, an image-path index or DLC's 3-column index; empty cells and
    /// `nan` are NaN. Multi-animal files (4 header rows) are rejected with a clear error.
    public static func read(from url: URL) throws -> PoseTable {
        if url.pathExtension.lowercased() == "h5" { return try readHDF5(from: url) }  // DeepLabCut's pandas HDF5
        let name = url.path
        let bytes: [UInt8]
        do { bytes = try readTerminated(name) } catch {
            throw PoseFormatError(file: name, row: nil, message: "cannot read file (\(error))")
        }
        return try bytes.withUnsafeBufferPointer { try parse(bytes: $0, count: $0.count - 1, fileName: name) }
    }

    /// The file's bytes plus a 0 terminator (strtod needs one after the last cell), read in one copy.
    private static func readTerminated(_ path: String) throws -> [UInt8] {
        let fd = open(path, O_RDONLY | O_CLOEXEC)
        guard fd >= 0 else { throw PosixError(errno) }
        defer { close(fd) }
        var info = stat()
        guard fstat(fd, &info) == 0 else { throw PosixError(errno) }
        guard (info.st_mode & S_IFMT) == S_IFREG else { throw PosixError(EISDIR) }
        // One spare byte: it holds the terminator, and lets a read past the expected size detect a grown file.
        var capacity = Int(info.st_size) + 1
        var bytes = [UInt8](repeating: 0, count: capacity)
        var filled = 0
        while true {
            if filled == capacity {
                capacity *= 2
                bytes += [UInt8](repeating: 0, count: capacity - bytes.count)
            }
            let n = bytes.withUnsafeMutableBytes { Glibc.read(fd, $0.baseAddress! + filled, capacity - filled) }
            if n < 0 && errno == EINTR { continue }
            guard n >= 0 else { throw PosixError(errno) }
            if n == 0 { break }
            filled += n
        }
        bytes[filled] = 0
        bytes.removeSubrange((filled + 1)...)
        return bytes
    }

    /// Parses CSV text; `fileName` is used in error messages only.
    public static func parse(csv text: String, fileName: String = "<text>") throws -> PoseTable {
        var bytes = Array(text.utf8)
        bytes.append(0)  // strtod needs a terminator after the last cell
        return try bytes.withUnsafeBufferPointer { try parse(bytes: $0, count: $0.count - 1, fileName: fileName) }
    }

    private static func parse(bytes: UnsafeBufferPointer<UInt8>, count: Int, fileName: String) throws -> PoseTable {
        // Line ranges (without the newline and any trailing CR); trailing empty lines dropped.
        var lines: [Range<Int>] = []
        var start = 0
        for i in 0..<count where bytes[i] == UInt8(ascii: "\n") {
            lines.append(start..<i)
            start = i + 1
        }
        if start < count { lines.append(start..<count) }
        lines = lines.map { r in r.upperBound > r.lowerBound && bytes[r.upperBound - 1] == 13 ? r.lowerBound..<(r.upperBound - 1) : r }
        while let last = lines.last, last.isEmpty { lines.removeLast() }
        func text(_ r: Range<Int>) -> Substring {
            Substring(decoding: UnsafeBufferPointer(rebasing: bytes[r]), as: UTF8.self)
        }
        func fail(_ line: Int?, _ message: String) -> PoseFormatError {
            PoseFormatError(file: fileName, row: line, message: message)
        }
        // A video, an .h5 or a .npy given as a CSV: said as such, not as a header cell of binary bytes.
        if UnsafeBufferPointer(rebasing: bytes[0..<min(count, 4096)]).contains(0) {
            throw fail(nil, "not a CSV file (it holds binary data); give the pose CSV (or DeepLabCut .h5) file")
        }
        guard lines.count >= 3 else {
            throw fail(nil, "expected 3 header rows (scorer, bodyparts, coords), found \(lines.count) lines")
        }
        let h0 = splitCSVLine(text(lines[0])), h1 = splitCSVLine(text(lines[1])), h2 = splitCSVLine(text(lines[2]))
        if h1.first == "individuals" {
            throw fail(2, "multi-animal file (4 header rows with 'individuals') is not supported; export a single animal")
        }
        /// A header cell as quoted in an error: at most 40 characters, so a wrong file stays a one-line error.
        func quoted(_ cell: String?) -> String {
            let cell = cell ?? ""
            return cell.count > 40 ? "'\(cell.prefix(40))…'" : "'\(cell)'"
        }
        guard h0.first == "scorer" else { throw fail(1, "first header cell must be 'scorer', found \(quoted(h0.first))") }
        guard h1.first == "bodyparts" else { throw fail(2, "second header row must start with 'bodyparts', found \(quoted(h1.first))") }
        guard h2.first == "coords" else { throw fail(3, "third header row must start with 'coords', found \(quoted(h2.first))") }
        guard h0.count == h1.count, h1.count == h2.count else {
            throw fail(nil, "header rows have different lengths (\(h0.count), \(h1.count), \(h2.count))")
        }

        // Index columns: DLC's 3-level index pads the header rows with two empty cells.
        let firstData = lines.count > 3 ? splitCSVLine(text(lines[3])) : []
        let paddedHeader = h0.count > 3 && [h0, h1, h2].allSatisfy { $0[1].isEmpty && $0[2].isEmpty }
        let threeLevel = paddedHeader && (firstData.isEmpty || firstData.first == "labeled-data")
        let indexColumns = threeLevel ? 3 : 1

        // Numeric columns, then trailing text columns (e.g. LP's `set`).
        var dataEnd = h0.count
        while dataEnd > indexColumns, h1[dataEnd - 1].isEmpty, h2[dataEnd - 1].isEmpty { dataEnd -= 1 }
        var keypoints: [String] = []
        var coords: [String] = []
        var scorer: String?
        var col = indexColumns
        while col < dataEnd {
            let part = h1[col]
            guard !part.isEmpty else { throw fail(2, "empty bodypart name in column \(col + 1)") }
            if keypoints.contains(part) {
                throw fail(2, "columns of bodypart '\(part)' are not contiguous (column \(col + 1))")
            }
            var partCoords: [String] = []
            while col < dataEnd, h1[col] == part {
                if let s = scorer, s != h0[col] {
                    throw fail(1, "column \(col + 1) has scorer '\(h0[col])' but earlier columns have '\(s)'")
                }
                scorer = h0[col]
                partCoords.append(h2[col])
                col += 1
            }
            if keypoints.isEmpty {
                coords = partCoords
            } else if partCoords != coords {
                throw fail(3, "bodypart '\(part)' has coords \(partCoords), expected \(coords) like '\(keypoints[0])'")
            }
            keypoints.append(part)
        }
        guard !keypoints.isEmpty else { throw fail(2, "no bodypart columns found") }
        let extraHeaders = (dataEnd..<h0.count).map { [h0[$0], h1[$0], h2[$0]] }

        // Data rows: numbers parsed in place with strtod.
        let rowCount = lines.count - 3
        let perRow = keypoints.count * coords.count
        var values = [Double](repeating: .nan, count: rowCount * perRow)
        var rowKeys: [String] = []
        rowKeys.reserveCapacity(rowCount)
        var extraCells = [[String]](repeating: [], count: extraHeaders.count)
        let base = bytes.baseAddress!
        var cellStarts = [Int](repeating: 0, count: h0.count + 1)
        for r in 0..<rowCount {
            let lineNumber = r + 4
            let line = lines[r + 3]
            var cells: [String]? = nil
            var n = 0
            var quoted = false
            cellStarts[0] = line.lowerBound
            for i in line {
                let b = bytes[i]
                if b == UInt8(ascii: "\"") { quoted = true; break }
                if b == UInt8(ascii: ",") {
                    n += 1
                    if n > h0.count - 1 { break }
                    cellStarts[n] = i + 1
                }
            }
            if quoted {
                cells = splitCSVLine(text(line))
                n = cells!.count - 1
            }
            guard n + 1 == h0.count else {
                throw fail(lineNumber, "has \(n + 1)\(n + 1 > h0.count ? " or more" : "") cells, the header has \(h0.count)")
            }
            cellStarts[h0.count] = line.upperBound + 1
            func cell(_ j: Int) -> String {
                if let cells { return cells[j] }
                return String(text(cellStarts[j]..<(cellStarts[j + 1] - 1)))
            }
            if threeLevel {
                rowKeys.append([cell(0), cell(1), cell(2)].joined(separator: "/"))
            } else {
                let key = cell(0)
                rowKeys.append(key.utf8.contains(92) ? key.replacingOccurrences(of: "\\", with: "/") : key)
            }
            let out = r * perRow
            for j in 0..<perRow {
                let c = indexColumns + j
                var v = Double.nan
                if let cells {
                    let s = cells[c]
                    if !s.isEmpty && s.lowercased() != "nan" {
                        guard let d = Double(s) else { throw badNumber(s, j, lineNumber) }
                        v = d
                    }
                } else {
                    let lo = cellStarts[c], hi = cellStarts[c + 1] - 1
                    if hi > lo, let fast = fastDecimal(base, lo, hi) {
                        v = fast
                    } else if hi > lo {
                        var end: UnsafeMutablePointer<CChar>? = nil
                        let p = UnsafeRawPointer(base + lo).assumingMemoryBound(to: CChar.self)
                        let d = strtod(p, &end)
                        let used = end.map { UnsafeRawPointer($0) - UnsafeRawPointer(base) } ?? lo
                        guard used == hi else { throw badNumber(String(text(lo..<hi)), j, lineNumber) }
                        v = d
                    }
                }
                values[out + j] = v
            }
            for e in 0..<extraHeaders.count { extraCells[e].append(cell(dataEnd + e)) }
        }
        func badNumber(_ s: String, _ j: Int, _ line: Int) -> PoseFormatError {
            let k = j / coords.count, c = j % coords.count
            return fail(line, "'\(s)' in column \(keypoints[k])/\(coords[c]) is not a number")
        }
        let style: RowIndexStyle
        if threeLevel {
            style = .dlcThreeLevel
        } else if rowKeys.allSatisfy({ Int($0) != nil }) {
            style = .frameNumber
        } else {
            style = .imagePath
        }
        let extras = zip(extraHeaders, extraCells).map { ExtraColumn(header: $0, cells: $1) }
        return try PoseTable(
            scorer: scorer ?? "", keypoints: keypoints, coords: coords, rowKeys: rowKeys,
            indexStyle: style, values: values, extraColumns: extras)
    }
}

// MARK: - Reading many files

extension PoseTable {
    /// Reads several files concurrently (results in the order of `urls`).
    public static func read(from urls: [URL]) throws -> [PoseTable] {
        let results = ChunkResults<Result<PoseTable, Error>>(urls.count)
        DispatchQueue.concurrentPerform(iterations: urls.count) { i in
            results.set(i, Result { try PoseTable.read(from: urls[i]) })
        }
        return try (0..<urls.count).map { try results.get(i: $0).get() }
    }
}

/// Slots filled concurrently.
private final class ChunkResults<T>: @unchecked Sendable {
    private var items: [T?]
    private let lock = NSLock()
    init(_ n: Int) { items = Array(repeating: nil, count: n) }
    func set(_ i: Int, _ v: T) { lock.lock(); items[i] = v; lock.unlock() }
    func get(i: Int) -> T { lock.lock(); defer { lock.unlock() }; return items[i]! }
}

// MARK: - Writing

extension PoseTable {
    /// The CSV text of this table (pandas layout, shortest round-trip numbers, NaN as empty cell).
    public func csvText() -> String {
        String(decoding: csvBytes(), as: UTF8.self)
    }

    /// The CSV as UTF-8 bytes (what `write(to:)` stores).
    public func csvBytes() -> [UInt8] {
        Array(csvChunks().joined())
    }

    /// The CSV in consecutive pieces: the header, then rows formatted in parallel chunks.
    func csvChunks() -> [[UInt8]] { [csvHeader()] + rowChunks(0..<rowCount) }

    /// The three header lines (scorer, bodyparts, coords).
    func csvHeader() -> [UInt8] {
        var out: [UInt8] = []
        let pad = indexStyle == .dlcThreeLevel ? ",," : ""
        let levels = [
            ("scorer", { (_: String, _: String) in self.scorer }),
            ("bodyparts", { (k: String, _: String) in k }),
            ("coords", { (_: String, c: String) in c }),
        ]
        for (level, (name, cell)) in levels.enumerated() {
            out += (name + pad).utf8
            for k in keypoints { for c in coords { out += ("," + csvEscape(cell(k, c))).utf8 } }
            for e in extraColumns { out += ("," + csvEscape(e.header.count > level ? e.header[level] : "")).utf8 }
            out.append(10)
        }
        return out
    }

    /// The rows `rows`, formatted in chunks on all cores (number formatting dominates), in order.
    func rowChunks(_ rows: Range<Int>) -> [[UInt8]] {
        let chunkCount = rows.count > 500 ? min(ProcessInfo.processInfo.activeProcessorCount, 8) : 1
        let chunks = ChunkBuffers(chunkCount)
        let rowsPerChunk = (rows.count + chunkCount - 1) / max(chunkCount, 1)
        DispatchQueue.concurrentPerform(iterations: chunkCount) { c in
            let from = rows.lowerBound + c * rowsPerChunk, to = min(rows.upperBound, from + rowsPerChunk)
            chunks.set(c, from < to ? formatRows(from..<to) : [])
        }
        return (0..<chunkCount).map { chunks.get($0) }
    }

    /// Rows that `write(to:)` formats and writes before formatting more, so that a long video's file is never all
    /// in memory at once (30 minutes at 30 fps are ~50 MB of text; a block of 17 keypoints is ~15 MB).
    static let rowsPerWriteBlock = 16_384

    /// CSV bytes of the data rows in `rows`.
    private func formatRows(_ rows: Range<Int>) -> [UInt8] {
        var out: [UInt8] = []
        out.reserveCapacity(rows.count * columnsPerRow * 12)
        let perRow = columnsPerRow
        for r in rows {
            if indexStyle == .dlcThreeLevel {
                let parts = rowKeys[r].split(separator: "/", maxSplits: 2, omittingEmptySubsequences: false)
                let padded = parts.map(String.init) + Array(repeating: "", count: max(0, 3 - parts.count))
                out += padded.map(csvEscape).joined(separator: ",").utf8
            } else {
                var key = csvEscape(rowKeys[r])
                key.withUTF8 { out.append(contentsOf: $0) }
            }
            let base = r * perRow
            for j in 0..<perRow {
                out.append(44)
                let v = values[base + j]
                if !v.isNaN {  // shortest round-trip digits, as pandas writes; copied as one block, not per byte
                    var digits = v.description
                    digits.withUTF8 { out.append(contentsOf: $0) }
                }
            }
            for e in extraColumns { out += ("," + csvEscape(e.cells[r])).utf8 }
            out.append(10)
        }
        return out
    }

    /// Writes the table atomically (temporary file in the same folder, then rename).
    public func write(to url: URL) throws {
        if url.pathExtension.lowercased() == "h5" { return try writeHDF5(to: url) }  // DeepLabCut's pandas HDF5
        let file = try AtomicFile.Writer(url: url)
        try file.write(csvHeader())
        for start in stride(from: 0, to: rowCount, by: Self.rowsPerWriteBlock) {
            for chunk in rowChunks(start..<min(rowCount, start + Self.rowsPerWriteBlock)) { try file.write(chunk) }
        }
        try file.commit()
    }
}

/// An errno from a POSIX call, shown as its message.
struct PosixError: Error, CustomStringConvertible {
    let code: Int32
    init(_ code: Int32) { self.code = code }
    var description: String { String(cString: strerror(code)) }
}

/// Per-chunk results of the parallel formatter.
private final class ChunkBuffers: @unchecked Sendable {
    private var buffers: [[UInt8]]
    private let lock = NSLock()
    init(_ n: Int) { buffers = Array(repeating: [], count: n) }
    func set(_ i: Int, _ b: [UInt8]) { lock.lock(); buffers[i] = b; lock.unlock() }
    func get(_ i: Int) -> [UInt8] { lock.lock(); defer { lock.unlock() }; return buffers[i] }
}

// MARK: - Numbers

/// Parses a plain decimal (`-12.345`, `1e-05`) exactly: Clinger's fast path (one correctly rounded multiply or
/// divide) when the digits fit in 2^53 and the decimal exponent is within ±22, `extendedDecimal` for 16–19 digits.
/// Returns nil for anything else, so the caller falls back to strtod.
@inline(__always)
func fastDecimal(_ base: UnsafePointer<UInt8>, _ lo: Int, _ hi: Int) -> Double? {
    var i = lo
    var negative = false
    if base[i] == UInt8(ascii: "-") { negative = true; i += 1 } else if base[i] == UInt8(ascii: "+") { i += 1 }
    var mantissa: UInt64 = 0
    var exponent = 0
    var digits = 0  // significant digits so far (leading zeros do not count)
    let integerStart = i
    while i < hi {
        let d = base[i] &- 48
        guard d < 10 else { break }
        if mantissa > 0 || d != 0 { digits += 1 }
        if digits > 19 { return nil }  // 10^19 < 2^64: the mantissa stays exact
        mantissa = mantissa &* 10 &+ UInt64(d)
        i += 1
    }
    var sawDigit = i > integerStart
    if i < hi && base[i] == UInt8(ascii: ".") {
        i += 1
        let fractionStart = i
        // Eight digits per step once the mantissa is significant and has room (most of a pose CSV's digits).
        while mantissa > 0 && digits <= 11 && i + 8 <= hi {
            let chunk = UnsafeRawPointer(base + i).loadUnaligned(as: UInt64.self)
            guard isEightDigits(chunk) else { break }
            mantissa = mantissa &* 100_000_000 &+ eightDigitsValue(chunk)
            digits += 8
            i += 8
        }
        while i < hi {
            let d = base[i] &- 48
            guard d < 10 else { break }
            if mantissa > 0 || d != 0 { digits += 1 }
            if digits > 19 { return nil }
            mantissa = mantissa &* 10 &+ UInt64(d)
            i += 1
        }
        exponent = fractionStart - i
        sawDigit = sawDigit || i > fractionStart
    }
    guard sawDigit else { return nil }
    if i < hi {
        guard base[i] == UInt8(ascii: "e") || base[i] == UInt8(ascii: "E") else { return nil }
        i += 1
        var expNegative = false
        if i < hi && (base[i] == UInt8(ascii: "-") || base[i] == UInt8(ascii: "+")) { expNegative = base[i] == UInt8(ascii: "-"); i += 1 }
        var e = 0
        var any = false
        while i < hi, base[i] >= 48, base[i] <= 57 {
            e = e * 10 + Int(base[i] - 48); any = true; i += 1
            if e > 400 { return nil }
        }
        guard any, i == hi else { return nil }
        exponent += expNegative ? -e : e
    }
    guard i == hi, i > lo + (negative ? 1 : 0) else { return nil }
    if digits > 15 {
        guard let v = extendedDecimal(mantissa, exponent) else { return nil }
        return negative ? -v : v
    }
    var v = Double(mantissa)
    if exponent == 0 {
    } else if exponent > 0 && exponent <= 22 {
        v *= exactPowerOfTen(exponent)
    } else if exponent < 0 && exponent >= -22 {
        v /= exactPowerOfTen(-exponent)
    } else if mantissa == 0 {
        v = 0
    } else {
        return nil
    }
    return negative ? -v : v
}

/// Whether the eight bytes of `chunk` (little-endian) are all ASCII digits (the SWAR test of fast_float).
@inline(__always)
private func isEightDigits(_ chunk: UInt64) -> Bool {
    #if _endian(little)
    return (chunk & 0xF0F0_F0F0_F0F0_F0F0) | (((chunk &+ 0x0606_0606_0606_0606) & 0xF0F0_F0F0_F0F0_F0F0) >> 4)
        == 0x3333_3333_3333_3333
    #else
    return false
    #endif
}

/// The value of eight ASCII digits loaded little-endian (first digit in the lowest byte): three multiply-add
/// steps combine digits pairwise into 2-, 4- and 8-digit numbers.
@inline(__always)
private func eightDigitsValue(_ chunk: UInt64) -> UInt64 {
    var v = chunk &- 0x3030_3030_3030_3030
    v = (v &* 10) &+ (v >> 8)  // each even byte: two digits
    let mask: UInt64 = 0x0000_00FF_0000_00FF
    let mul1: UInt64 = 100 &+ (1_000_000 << 32), mul2: UInt64 = 1 &+ (10_000 << 32)
    return (((v & mask) &* mul1) &+ (((v >> 16) & mask) &* mul2)) >> 32
}

/// mantissa × 10^exponent correctly rounded, for the 16–19 significant digits that float32 values printed as
/// float64 have (every LP prediction CSV): one rounding in x86's 64-bit-significand Float80 (10^k is exact there for
/// k ≤ 27), then one to Double. Double rounding could differ from the correctly rounded result only when the
/// Float80 value sits within an ulp of a Double halfway point; those rare cases, other exponents and machines
/// without Float80 return nil for strtod.
@inline(__always)
private func extendedDecimal(_ mantissa: UInt64, _ exponent: Int) -> Double? {
    #if arch(x86_64) && !os(Windows)
    guard exponent >= -27 && exponent <= 27, mantissa != 0 else { return nil }
    var power: Float80 = 1
    for _ in 0..<abs(exponent) { power *= 10 }  // exact: 10^27 < 2^64 · 2^27 needs 63 bits of significand
    let x = exponent >= 0 ? Float80(mantissa) * power : Float80(mantissa) / power
    let tail = x.significandBitPattern & 0x7FF  // the 11 bits below Double's 52-bit fraction
    guard tail < 0x3FF || tail > 0x401 else { return nil }
    return Double(x)
    #else
    return nil
    #endif
}

/// 10^e for 0 ≤ e ≤ 22 (all exactly representable); a switch avoids a lazily initialised global.
@inline(__always)
private func exactPowerOfTen(_ e: Int) -> Double {
    switch e {
    case 0: return 1e0;
    case 1: return 1e1;
    case 2: return 1e2;
    case 3: return 1e3;
    case 4: return 1e4
    case 5: return 1e5;
    case 6: return 1e6;
    case 7: return 1e7;
    case 8: return 1e8;
    case 9: return 1e9
    case 10: return 1e10;
    case 11: return 1e11;
    case 12: return 1e12;
    case 13: return 1e13;
    case 14: return 1e14
    case 15: return 1e15;
    case 16: return 1e16;
    case 17: return 1e17;
    case 18: return 1e18;
    case 19: return 1e19
    case 20: return 1e20;
    case 21: return 1e21;
    default: return 1e22
    }
}

// MARK: - CSV cells

/// Splits one CSV line into cells, honouring double quotes.
func splitCSVLine(_ line: Substring) -> [String] {
    if !line.contains("\"") { return line.split(separator: ",", omittingEmptySubsequences: false).map(String.init) }
    var cells: [String] = []
    var current = ""
    var inQuotes = false
    var iterator = line.makeIterator()
    var pending: Character? = nil
    while let ch = pending ?? iterator.next() {
        pending = nil
        if inQuotes {
            if ch == "\"" {
                if let next = iterator.next() {
                    if next == "\"" { current.append("\"") } else { inQuotes = false; pending = next }
                } else {
                    inQuotes = false
                }
            } else {
                current.append(ch)
            }
        } else if ch == "\"" {
            inQuotes = true
        } else if ch == "," {
            cells.append(current); current = ""
        } else {
            current.append(ch)
        }
    }
    cells.append(current)
    return cells
}

/// Quotes a cell if it contains a comma, quote or newline.
func csvEscape(_ cell: String) -> String {
    guard cell.contains(where: { $0 == "," || $0 == "\"" || $0 == "\n" }) else { return cell }
    return "\"" + cell.replacingOccurrences(of: "\"", with: "\"\"") + "\""
}
