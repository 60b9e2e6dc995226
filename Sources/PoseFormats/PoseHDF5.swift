// DeepLabCut's .h5 pose files: pandas DataFrames in an HDFStore (PyTables layout).
//
// - labels (`CollectedData_<scorer>.h5`) and evaluation results: pandas "fixed" format (`pandas_type=frame`);
//   columns a 3-level MultiIndex (scorer, bodyparts, coords), rows image paths or DLC's 3-level index.
// - `analyze_videos` outputs (`<video>DLC_<scorer>.h5`): pandas "table" format (`pandas_type=frame_table`),
//   integer frame index; the column labels are protocol-0 pickles in attributes.
// Writing produces the fixed format, which every DeepLabCut reader accepts (`pd.read_hdf` without a key).
import Foundation
import KinemaFiles
import PythonFormats

extension PoseTable {
    /// HDF5 files, groups, datasets and attributes still open in this process: 0 between reads and writes, since
    /// every identifier is closed by its owner (the tests and the fuzz target check it; a leak sanitizer cannot
    /// see an identifier left open, as libhdf5 still holds it). nil when libhdf5 is not installed.
    @_spi(Diagnostics) public static var openHDF5Identifiers: Int? { HDF5Library.openIdentifierCount() }

    /// The key DeepLabCut reads and writes.
    public static let dlcHDF5Key = "df_with_missing"

    /// Reads a DeepLabCut / pandas `.h5` pose file (fixed or table format).
    ///
    /// The DataFrame under `df_with_missing` is read; a file with a single other key (napari-deeplabcut's
    /// `keypoints`) is accepted too. Columns are matched by name, so their order in the file does not matter.
    public static func readHDF5(from url: URL) throws -> PoseTable {
        let file = url.path
        func fail(_ message: String) -> PoseFormatError { PoseFormatError(file: file, row: nil, message: message) }
        try checkSignature(url)
        return try HDF5Library.withLibrary(file: file) { lib in
            do {
                let root = try HDF5Group.open(file: file, lib: lib)
                let children = try root.childNames().map { (name: $0, kind: root.childKind($0)) }
                if let damaged = children.first(where: { $0.kind == .damaged }) {
                    throw fail("the file is damaged: key '\(damaged.name)' cannot be opened (its HDF5 object header is unreadable)")
                }
                let keys = children.filter { $0.kind == .group }.map(\.name)
                let key: String
                if keys.contains(dlcHDF5Key) {
                    key = dlcHDF5Key
                } else if keys.count == 1 {
                    key = keys[0]
                } else if keys.isEmpty {
                    throw fail(
                        "no pandas DataFrame in this HDF5 file (no '\(dlcHDF5Key)' key, no groups at all); expected a file written by DeepLabCut or pandas"
                    )
                } else {
                    throw fail(
                        "no '\(dlcHDF5Key)' key; the file holds keys \(keys.map { "'\($0)'" }.joined(separator: ", ")) (expected the one DataFrame DeepLabCut writes under '\(dlcHDF5Key)')"
                    )
                }
                let group = try root.group(key)
                let kind = try group.textAttribute("pandas_type")
                switch kind {
                case "frame": return try readFixedFrame(group, key: key, file: file)
                case "frame_table": return try readTableFrame(group, key: key, file: file)
                case nil: throw fail("key '\(key)' is not a pandas object (no pandas_type attribute)")
                default: throw fail("key '\(key)' holds a pandas '\(kind!)', not a DataFrame ('frame' or 'frame_table')")
                }
            } catch let failure as HDF5Failure {
                throw fail(failure.message)
            } catch let failure as PythonFormatError {
                throw fail("unreadable column labels: \(failure.message)")
            }
        }
    }

    /// HDF5's signature is at offset 0, or 512, 1024, 2048, … after a user block.
    private static func checkSignature(_ url: URL) throws {
        let file = url.path
        guard let handle = FileHandle(forReadingAtPath: file) else {
            let reason = FileManager.default.fileExists(atPath: file) ? "permission denied" : "no such file"
            throw PoseFormatError(file: file, row: nil, message: "cannot read file (\(reason))")
        }
        defer { try? handle.close() }
        let size = (try? handle.seekToEnd()) ?? 0
        let signature: [UInt8] = [0x89, 0x48, 0x44, 0x46, 0x0d, 0x0a, 0x1a, 0x0a]
        var offset: UInt64 = 0
        while offset + 8 <= size {
            try? handle.seek(toOffset: offset)
            if let bytes = try? handle.read(upToCount: 8), Array(bytes) == signature { return }
            offset = offset == 0 ? 512 : offset * 2
        }
        throw PoseFormatError(
            file: file, row: nil,
            message:
                "not an HDF5 file (no HDF5 signature); DeepLabCut .h5 files are written by pandas — is this a CSV or another format with an .h5 name?"
        )
    }

    // MARK: Fixed format

    /// A row or column index of a fixed frame: per-row (or per-column) label tuples.
    private enum AxisLabels {
        case multi([[String]], names: [String?])
        case strings([String])
        case integers([Int64])

        var count: Int {
            switch self {
            case .multi(let t, _): return t.count
            case .strings(let s): return s.count
            case .integers(let i): return i.count
            }
        }
    }

    private static func readFixedFrame(_ group: HDF5Group, key: String, file: String) throws -> PoseTable {
        func fail(_ message: String) -> PoseFormatError {
            PoseFormatError(file: file, row: nil, message: "key '\(key)': \(message)")
        }
        guard try group.intAttribute("ndim") == 2 else { throw fail("not a 2-D DataFrame (ndim attribute is not 2)") }
        let columns = try readAxis(group, "axis0", fail: fail)
        let rows = try readAxis(group, "axis1", fail: fail)
        let columnTuples: [[String]]
        var levelNames: [String?] = []
        switch columns {
        case .multi(let t, let names): columnTuples = t; levelNames = names
        case .strings(let s): columnTuples = s.map { [$0] }
        case .integers(let i): columnTuples = i.map { [String($0)] }
        }
        let nrows = rows.count
        let ncols = columnTuples.count
        var position: [[String]: Int] = [:]
        for (j, t) in columnTuples.enumerated() {
            guard position.updateValue(j, forKey: t) == nil else { throw fail("column \(t) appears twice") }
        }
        // Blocks hold groups of columns (one per dtype); map each onto the column order.
        var matrix = [Double](repeating: .nan, count: nrows * ncols)
        var filled = [Bool](repeating: false, count: ncols)
        let blocks = Int(try group.intAttribute("nblocks") ?? 0)
        for b in 0..<blocks {
            let items: [[String]]
            switch try readAxis(group, "block\(b)_items", fail: fail) {
            case .multi(let t, _): items = t
            case .strings(let s): items = s.map { [$0] }
            case .integers(let i): items = i.map { [String($0)] }
            }
            let data = try group.dataset("block\(b)_values")
            let blockValues: [Double]
            if data.hasAttribute("shape") || data.hasAttribute("value_type") {
                blockValues = []  // pandas' placeholder for an empty array
            } else {
                let cls = data.typeClass()
                guard cls == HDF5Library.classFloat || cls == HDF5Library.classInteger else {
                    throw fail(
                        "block \(b) holds non-numeric columns \(items.prefix(3).map { $0.joined(separator: "/") }); a pose table has numbers only"
                    )
                }
                blockValues = try data.readDoubles()
            }
            guard blockValues.count == nrows * items.count else {
                throw fail("block \(b) has \(blockValues.count) values for \(nrows) rows × \(items.count) columns")
            }
            // pandas stores a block transposed (rows × items) and flags it; an unflagged block is items × rows.
            let transposed = (try data.intAttribute("transposed") ?? 0) != 0
            for (k, item) in items.enumerated() {
                guard let j = position[item] else { throw fail("block \(b) column \(item) is not among the frame's columns") }
                filled[j] = true
                for r in 0..<nrows {
                    matrix[r * ncols + j] = transposed ? blockValues[r * items.count + k] : blockValues[k * nrows + r]
                }
            }
        }
        if let missing = filled.firstIndex(of: false) { throw fail("column \(columnTuples[missing]) has no data block") }

        let (rowKeys, style): ([String], RowIndexStyle)
        switch rows {
        case .multi(let tuples, _):
            guard tuples.first?.count ?? 3 == 3 else {
                throw fail(
                    "row index has \(tuples.first!.count) levels; expected 1 (image path or frame) or 3 ('labeled-data', video, image)")
            }
            rowKeys = tuples.map { $0.joined(separator: "/") }
            style = .dlcThreeLevel
        case .strings(let s):
            rowKeys = s.map { $0.contains("\\") ? $0.replacingOccurrences(of: "\\", with: "/") : $0 }
            style = .imagePath
        case .integers(let i):
            rowKeys = i.map { String($0) }
            style = .frameNumber
        }
        return try assemble(
            columns: columnTuples, levelNames: levelNames, rowKeys: rowKeys, style: style,
            matrix: matrix, fail: fail)
    }

    /// Reads pandas' index `name` (`axis0`, `axis1`, `block0_items`): regular or multi.
    private static func readAxis(_ group: HDF5Group, _ name: String, fail: (String) -> PoseFormatError) throws -> AxisLabels {
        let variety = try group.textAttribute("\(name)_variety")
        switch variety {
        case "multi":
            guard let levels = try group.intAttribute("\(name)_nlevels"), levels > 0 else {
                throw fail("\(name) is a MultiIndex without \(name)_nlevels")
            }
            var codesPerLevel: [[Int64]] = []
            var valuesPerLevel: [[String]] = []
            var names: [String?] = []
            for l in 0..<Int(levels) {
                let level = try group.dataset("\(name)_level\(l)")
                valuesPerLevel.append(try readIndexValues(level, fail: fail))
                names.append(try levelName(level))
                let labels = try group.dataset("\(name)_label\(l)")
                codesPerLevel.append(labels.hasAttribute("shape") ? [] : try labels.readInts())
            }
            let count = codesPerLevel[0].count
            guard codesPerLevel.allSatisfy({ $0.count == count }) else { throw fail("\(name) levels have different lengths") }
            var tuples: [[String]] = []
            tuples.reserveCapacity(count)
            for i in 0..<count {
                var t: [String] = []
                for l in 0..<Int(levels) {
                    let code = Int(codesPerLevel[l][i])
                    // -1 is pandas' code for a missing label
                    guard code >= -1, code < valuesPerLevel[l].count else { throw fail("\(name) level \(l) code \(code) is out of range") }
                    t.append(code < 0 ? "" : valuesPerLevel[l][code])
                }
                tuples.append(t)
            }
            return .multi(tuples, names: names)
        case "regular":
            let node = try group.dataset(name)
            if node.hasAttribute("shape") { return .strings([]) }
            if try node.typeClass() == HDF5Library.classInteger && node.textAttribute("kind") == "integer" {
                return .integers(try node.readInts())
            }
            return .strings(try readIndexValues(node, fail: fail))
        case nil: throw fail("no \(name)_variety attribute (not written by pandas?)")
        default: throw fail("\(name) has an unsupported index variety '\(variety!)'")
        }
    }

    /// Values of one index (or MultiIndex level) dataset as text: strings, or integers / floats in Python's spelling.
    private static func readIndexValues(_ node: HDF5Dataset, fail: (String) -> PoseFormatError) throws -> [String] {
        if node.hasAttribute("shape") { return [] }
        switch node.typeClass() {
        case HDF5Library.classString: return try node.readStrings()
        case HDF5Library.classInteger: return try node.readInts().map { String($0) }
        case HDF5Library.classFloat: return try node.readDoubles().map { $0.description }
        default:
            let kind = (try? node.textAttribute("kind")) ?? nil
            throw fail("\(node.path) holds index labels of kind '\(kind ?? "?")' (Python objects); expected strings or integers")
        }
    }

    /// The `name` attribute of an index level: UTF-8 text, or a pickled value (None) stored as ASCII.
    private static func levelName(_ node: HDF5Dataset) throws -> String? {
        guard let (bytes, ascii) = try node.stringAttribute("name") else { return nil }
        guard ascii else { return String(decoding: bytes, as: UTF8.self) }
        if case .string(let s) = try PickleValue(unpickling: bytes) { return s }
        return nil
    }

    // MARK: Table format

    private static func readTableFrame(_ group: HDF5Group, key: String, file: String) throws -> PoseTable {
        func fail(_ message: String) -> PoseFormatError {
            PoseFormatError(file: file, row: nil, message: "key '\(key)': \(message)")
        }
        func pickled(_ node: HDF5Object, _ name: String) throws -> PickleValue {
            guard let (bytes, _) = try node.stringAttribute(name) else { throw fail("table-format frame without the \(name) attribute") }
            return try PickleValue(unpickling: bytes)
        }
        if let levels = try group.intAttribute("levels"), levels != 1 {
            throw fail("table-format frame with a \(levels)-level row index is not supported (DeepLabCut writes an integer frame index)")
        }
        // non_index_axes = [(1, [column labels])]
        guard let axes = try pickled(group, "non_index_axes").items,
            let columnAxis = axes.first(where: { $0.items?.first == .int(1) })?.items, columnAxis.count == 2,
            let labels = columnAxis[1].items
        else {
            throw fail("unexpected non_index_axes attribute (expected [(1, [column labels])])")
        }
        func tuple(_ label: PickleValue) -> [String] { label.items?.map(\.labelText) ?? [label.labelText] }
        let columnTuples = labels.map(tuple)
        var levelNames: [String?] = []
        if let info = try? pickled(group, "info"), let names = info[.int(1)]?[.string("names")]?.items {
            levelNames = names.map { if case .string(let s) = $0 { return s } else { return nil } }
        }
        var position: [[String]: Int] = [:]
        for (j, t) in columnTuples.enumerated() {
            guard position.updateValue(j, forKey: t) == nil else { throw fail("column \(t) appears twice") }
        }
        guard let blockNames = try pickled(group, "values_cols").items?.map(\.labelText) else {
            throw fail("unexpected values_cols attribute")
        }
        let table = try group.dataset("table")
        let fields = try table.fieldNames()
        let indexField = (try? pickled(group, "index_cols"))?.items?.first?.items?.last?.labelText ?? "index"
        guard fields.contains(indexField) else { throw fail("table has no '\(indexField)' column") }

        let nrows = table.shape().first ?? 0
        let ncols = columnTuples.count
        var matrix = [Double](repeating: .nan, count: nrows * ncols)
        var filled = [Bool](repeating: false, count: ncols)
        for name in blockNames {
            guard fields.contains(name) else { throw fail("table has no '\(name)' column") }
            guard let items = try pickled(table, "\(name)_kind").items?.map(tuple) else { throw fail("unexpected \(name)_kind attribute") }
            let field = try table.field(name)
            guard field.typeClass == HDF5Library.classFloat || field.typeClass == HDF5Library.classInteger else {
                throw fail(
                    "\(name) holds non-numeric columns \(items.prefix(3).map { $0.joined(separator: "/") }); a pose table has numbers only")
            }
            guard field.width == items.count else {
                throw fail("\(name) has \(field.width) values per row for \(items.count) column labels")
            }
            let values = try table.readField(name, width: field.width)
            for (k, item) in items.enumerated() {
                guard let j = position[item] else { throw fail("\(name) column \(item) is not among the frame's columns") }
                filled[j] = true
                for r in 0..<nrows { matrix[r * ncols + j] = values[r * items.count + k] }
            }
        }
        if let missing = filled.firstIndex(of: false) {
            throw fail("column \(columnTuples[missing]) is stored as a data column, which DeepLabCut never writes")
        }

        let indexKind = try table.textAttribute("\(indexField)_kind") ?? "integer"
        let (rowKeys, style): ([String], RowIndexStyle)
        switch indexKind {
        case "integer":
            rowKeys = try table.readIntField(indexField).map { String($0) }
            style = .frameNumber
        case "string":
            let field = try table.field(indexField)
            rowKeys = try table.readStringField(indexField, size: field.size).map { $0.replacingOccurrences(of: "\\", with: "/") }
            style = .imagePath
        default:
            throw fail("row index of kind '\(indexKind)' is not supported (expected frame numbers or image paths)")
        }
        return try assemble(
            columns: columnTuples, levelNames: levelNames, rowKeys: rowKeys, style: style,
            matrix: matrix, fail: fail)
    }

    // MARK: Columns → PoseTable

    /// Builds the table from (scorer, bodypart, coord) column labels and a row-major `rows × columns` matrix.
    /// Keypoints keep their first-appearance order and coords the first keypoint's order; every keypoint must
    /// have the same coords.
    private static func assemble(
        columns: [[String]], levelNames: [String?], rowKeys: [String], style: RowIndexStyle,
        matrix: [Double], fail: (String) -> PoseFormatError
    ) throws -> PoseTable {
        let levels = columns.first?.count ?? levelNames.count
        if levels == 4 || levelNames.contains("individuals") {
            throw fail(
                "multi-animal file (column levels \(levelNames.map { $0 ?? "None" }.joined(separator: ", "))) is not supported; export a single animal"
            )
        }
        guard levels == 3 else {
            throw fail(
                "expected 3 column levels (scorer, bodyparts, coords), found \(levels)\(levelNames.isEmpty ? "" : " (" + levelNames.map { $0 ?? "None" }.joined(separator: ", ") + ")")"
            )
        }
        guard !columns.isEmpty else { throw fail("no bodypart columns") }
        let scorer = columns[0][0]
        if let other = columns.first(where: { $0[0] != scorer }) {
            throw fail("column \(other.joined(separator: "/")) has scorer '\(other[0])' but others have '\(scorer)'")
        }
        var keypoints: [String] = []
        var coordsOf: [String: [String]] = [:]
        for c in columns {
            if coordsOf[c[1]] == nil { keypoints.append(c[1]); coordsOf[c[1]] = [] }
            coordsOf[c[1]]!.append(c[2])
        }
        let coords = coordsOf[keypoints[0]]!
        for k in keypoints where Set(coordsOf[k]!) != Set(coords) || coordsOf[k]!.count != coords.count {
            throw fail("bodypart '\(k)' has coords \(coordsOf[k]!), expected \(coords) like '\(keypoints[0])'")
        }
        var target: [[String]: Int] = [:]
        for (k, name) in keypoints.enumerated() {
            for (c, coord) in coords.enumerated() { target[[scorer, name, coord]] = k * coords.count + c }
        }
        let ncols = columns.count
        let source = columns.map { target[$0]! }
        var values = [Double](repeating: .nan, count: matrix.count)
        for r in 0..<rowKeys.count {
            for j in 0..<ncols { values[r * ncols + source[j]] = matrix[r * ncols + j] }
        }
        return try PoseTable(
            scorer: scorer, keypoints: keypoints, coords: coords, rowKeys: rowKeys, indexStyle: style,
            values: values)
    }
}

// MARK: - Writing (pandas fixed format)

extension PoseTable {
    /// Writes the table as DeepLabCut's `.h5`: key `df_with_missing`, pandas fixed format, column MultiIndex
    /// (scorer, bodyparts, coords), rows as in `indexStyle` (DLC's 3-level index for `.dlcThreeLevel`). The file is
    /// built in memory and written atomically.
    public func writeHDF5(to url: URL) throws {
        let file = url.path
        func fail(_ message: String) -> PoseFormatError { PoseFormatError(file: file, row: nil, message: message) }
        guard extraColumns.isEmpty else {
            throw fail(
                "text columns (\(extraColumns.map { $0.header.first ?? "" }.joined(separator: ", "))) cannot be stored in a DeepLabCut .h5; write a .csv or drop them"
            )
        }
        guard rowCount > 0, !keypoints.isEmpty, !coords.isEmpty else {
            throw fail("cannot write an empty table (\(rowCount) rows, \(keypoints.count) keypoints) as .h5")
        }
        var frames: [Int64] = []
        if indexStyle == .frameNumber {
            for key in rowKeys {
                guard let n = Int64(key) else { throw fail("row key '\(key)' is not a frame number") }
                frames.append(n)
            }
        }
        let image: [UInt8] = try HDF5Library.withLibrary(file: file) { lib in
            do {
                return try HDF5Writer(lib: lib).frame(self, frames: frames)
            } catch let failure as HDF5Failure {
                throw fail(failure.message)
            }
        }
        try AtomicFile.write(Data(image), to: url)
    }
}

/// Builds a pandas fixed-format frame in an in-memory HDF5 file, attribute for attribute as pandas 2.x + PyTables
/// write it (PyTables' CLASS/VERSION/TITLE bookkeeping included, so PyTables sees its own objects).
private struct HDF5Writer {
    let lib: HDF5Library

    func frame(_ table: PoseTable, frames: [Int64]) throws(HDF5Failure) -> [UInt8] {
        let fapl = lib.H5Pcreate(lib.fileAccessClass)
        defer { _ = lib.H5Pclose(fapl) }
        guard lib.H5Pset_fapl_core(fapl, 1 << 16, false) >= 0 else { throw HDF5Failure(message: "HDF5 has no in-memory file driver") }
        let fileID = lib.H5Fcreate("kinema-pose.h5", HDF5Library.truncate, HDF5Library.defaultProperties, fapl)
        guard fileID >= 0 else { throw HDF5Failure(message: "HDF5 cannot create an in-memory file") }
        let file = HDF5Object(lib: lib, id: fileID, path: "", close: lib.H5Fclose, parent: nil)
        do {
            let rootID = lib.H5Gopen2(fileID, "/", HDF5Library.defaultProperties)
            guard rootID >= 0 else { throw HDF5Failure(message: "HDF5 cannot open the root group") }
            let root = HDF5Group(lib: lib, id: rootID, path: "", close: lib.H5Gclose, parent: file)
            try pytablesGroup(root)
            try root.setAttribute("PYTABLES_FORMAT_VERSION", text: "2.1")
            let group = try root.createGroup(PoseTable.dlcHDF5Key)
            try pytablesGroup(group)
            for (name, value) in [("pandas_type", "frame"), ("pandas_version", "0.15.2"), ("encoding", "UTF-8"), ("errors", "strict")] {
                try group.setAttribute(name, text: value)
            }
            try group.setAttribute("ndim", int: 2)

            // axis0: the columns, a (scorer, bodyparts, coords) MultiIndex
            var columns: [[String]] = []
            for k in table.keypoints { for c in table.coords { columns.append([table.scorer, k, c]) } }
            let columnNames: [String?] = ["scorer", "bodyparts", "coords"]
            try multiIndex(group, "axis0", columns, names: columnNames)

            // axis1: the rows
            switch table.indexStyle {
            case .dlcThreeLevel:
                let tuples = table.rowKeys.map { key -> [String] in
                    let parts = key.split(separator: "/", maxSplits: 2, omittingEmptySubsequences: false).map(String.init)
                    return parts + Array(repeating: "", count: max(0, 3 - parts.count))
                }
                try multiIndex(group, "axis1", tuples, names: [nil, nil, nil])
            case .imagePath:
                try group.setAttribute("axis1_variety", text: "regular")
                let node = try strings(group, "axis1", table.rowKeys)
                try node.setAttribute("kind", text: "string")
                try node.setAttribute("name", text: "N.", ascii: true)
            case .frameNumber:
                try group.setAttribute("axis1_variety", text: "regular")
                let node = try array(group, "axis1", frames, type: lib.nativeInt64, shape: [frames.count])
                try node.setAttribute("kind", text: "integer")
                try node.setAttribute("name", text: "N.", ascii: true)
            }

            // one float64 block holding every column, stored rows × columns and flagged as transposed
            try group.setAttribute("nblocks", int: 1)
            _ = try array(group, "block0_values", table.values, type: lib.nativeDouble, shape: [table.rowCount, columns.count])
            try multiIndex(group, "block0_items", columns, names: columnNames)

            _ = lib.H5Fflush(fileID, 1)  // H5F_SCOPE_GLOBAL
            let size = lib.H5Fget_file_image(fileID, nil, 0)
            guard size > 0 else { throw HDF5Failure(message: "HDF5 cannot produce the file image") }
            var image = [UInt8](repeating: 0, count: size)
            guard image.withUnsafeMutableBytes({ lib.H5Fget_file_image(fileID, $0.baseAddress!, size) }) == size else {
                throw HDF5Failure(message: "HDF5 cannot produce the file image")
            }
            return image
        }
    }

    private func pytablesGroup(_ group: HDF5Group) throws(HDF5Failure) {
        try group.setAttribute("CLASS", text: "GROUP")
        try group.setAttribute("TITLE", text: "")
        try group.setAttribute("VERSION", text: "1.0")
    }

    /// A PyTables Array (with pandas' `transposed` flag) holding `values` of HDF5 `type`.
    private func array<T>(_ group: HDF5Group, _ name: String, _ values: [T], type: HID, shape: [Int]) throws(HDF5Failure) -> HDF5Dataset {
        let created = values.withUnsafeBytes { raw in
            Result { () throws(HDF5Failure) in try group.createDataset(name, type: type, shape: shape, bytes: raw) }
        }
        let node = try created.get()
        try node.setAttribute("CLASS", text: "ARRAY")
        try node.setAttribute("FLAVOR", text: "numpy")
        try node.setAttribute("TITLE", text: "")
        try node.setAttribute("VERSION", text: "2.4")
        try node.setAttribute("transposed", bool: true)
        return node
    }

    /// A numpy `S<n>` array (UTF-8 bytes, NUL-padded), as pandas stores string labels.
    private func strings(_ group: HDF5Group, _ name: String, _ values: [String]) throws(HDF5Failure) -> HDF5Dataset {
        let encoded = values.map { Array($0.utf8) }
        let width = max(1, encoded.map(\.count).max() ?? 1)
        var bytes = [UInt8](repeating: 0, count: width * encoded.count)
        for (i, e) in encoded.enumerated() { bytes.replaceSubrange((i * width)..<(i * width + e.count), with: e) }
        let type = lib.H5Tcopy(lib.cString)
        defer { _ = lib.H5Tclose(type) }
        _ = lib.H5Tset_size(type, width)
        _ = lib.H5Tset_strpad(type, HDF5Library.strNullTerm)
        return try array(group, name, bytes, type: type, shape: [encoded.count])
    }

    /// pandas' MultiIndex layout: per level, the distinct values (sorted, as pandas' factorisation leaves them)
    /// and one small integer code per entry.
    private func multiIndex(_ group: HDF5Group, _ key: String, _ tuples: [[String]], names: [String?]) throws(HDF5Failure) {
        try group.setAttribute("\(key)_variety", text: "multi")
        try group.setAttribute("\(key)_nlevels", int: Int64(names.count))
        for (l, name) in names.enumerated() {
            // Python sorts str by code point, which is UTF-8 byte order.
            let levels = Set(tuples.map { $0[l] }).sorted { $0.utf8.lexicographicallyPrecedes($1.utf8) }
            let code = Dictionary(uniqueKeysWithValues: levels.enumerated().map { ($1, $0) })
            let node = try strings(group, "\(key)_level\(l)", levels)
            try node.setAttribute("kind", text: "string")
            if let name {
                try node.setAttribute("name", text: name)
                try node.setAttribute("\(key)_name\(name)", text: name)
            } else {  // None, pickled (protocol 0) in an ASCII attribute
                try node.setAttribute("name", text: "N.", ascii: true)
                try node.setAttribute("\(key)_nameNone", text: "N.", ascii: true)
            }
            let codes = tuples.map { code[$0[l]]! }
            // numpy picks the smallest signed integer type that holds the codes
            if levels.count <= Int(Int8.max) {
                _ = try array(group, "\(key)_label\(l)", codes.map { Int8($0) }, type: lib.nativeInt8, shape: [codes.count])
            } else if levels.count <= Int(Int16.max) {
                _ = try array(group, "\(key)_label\(l)", codes.map { Int16($0) }, type: lib.nativeInt16, shape: [codes.count])
            } else {
                _ = try array(group, "\(key)_label\(l)", codes.map { Int32($0) }, type: lib.nativeInt32, shape: [codes.count])
            }
        }
    }
}
