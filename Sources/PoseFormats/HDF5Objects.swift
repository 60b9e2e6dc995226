// Small owning wrappers over HDF5 identifiers: files, groups, datasets and their attributes, for reading
// pandas' HDFStore layout and writing it back. Used only inside `HDF5Library.withLibrary` (under its lock).
import Foundation

/// A failure inside the HDF5 layer; the caller adds the file name.
struct HDF5Failure: Error {
    let message: String
}

/// An open HDF5 object (file, group or dataset). The identifier is closed when the wrapper goes away; all
/// work on it goes through methods, so the wrapper is alive while its identifier is in use.
class HDF5Object {
    let lib: HDF5Library
    let id: HID
    let path: String
    private let close: @convention(c) (HID) -> HErr
    /// Keeps the containing file open (HDF5 itself does not need it; it keeps ownership simple).
    private let parent: HDF5Object?

    init(lib: HDF5Library, id: HID, path: String, close: @convention(c) (HID) -> HErr, parent: HDF5Object?) {
        self.lib = lib
        self.id = id
        self.path = path
        self.close = close
        self.parent = parent
    }

    deinit { _ = close(id) }

    // MARK: Attributes

    func hasAttribute(_ name: String) -> Bool { lib.H5Aexists(id, name) > 0 }

    /// A scalar or one-element string attribute: its bytes (up to the first NUL) and whether its character set
    /// is ASCII (PyTables stores pickled Python objects as ASCII strings, text as UTF-8); nil when absent.
    func stringAttribute(_ name: String) throws(HDF5Failure) -> (bytes: [UInt8], ascii: Bool)? {
        try withAttribute(name) { attr, type throws(HDF5Failure) in try stringValue(name, attr: attr, type: type) }
    }

    private func stringValue(_ name: String, attr: HID, type: HID) throws(HDF5Failure) -> (bytes: [UInt8], ascii: Bool) {
        let space = lib.H5Aget_space(attr)
        defer { _ = lib.H5Sclose(space) }
        guard lib.H5Tget_class(type) == HDF5Library.classString else {
            throw HDF5Failure(message: "attribute \(path)@\(name) is not a string")
        }
        if lib.H5Sget_simple_extent_type(space) == HDF5Library.nullSpace { return ([], false) }  // PyTables' empty string
        guard lib.H5Tis_variable_str(type) <= 0 else {
            throw HDF5Failure(message: "attribute \(path)@\(name) is a variable-length string, which pandas does not write")
        }
        let ascii = lib.H5Tget_cset(type) == HDF5Library.csetASCII
        let size = lib.H5Tget_size(type)
        let count = max(1, elementCount(space))
        var buffer = [UInt8](repeating: 0, count: size * count)
        let status = buffer.withUnsafeMutableBytes { lib.H5Aread(attr, type, $0.baseAddress!) }
        guard status >= 0 else { throw HDF5Failure(message: "cannot read attribute \(path)@\(name)") }
        let first = buffer.prefix(size)
        return (Array(first.prefix { $0 != 0 }), ascii)
    }

    /// Text attribute (pandas' `pandas_type`, `kind`, …); nil when absent.
    func textAttribute(_ name: String) throws(HDF5Failure) -> String? {
        guard let (bytes, _) = try stringAttribute(name) else { return nil }
        return String(decoding: bytes, as: UTF8.self)
    }

    /// A scalar integer attribute (pandas' `ndim`, `nblocks`, `*_nlevels`, …); nil when absent.
    func intAttribute(_ name: String) throws(HDF5Failure) -> Int64? {
        try withAttribute(name) { attr, type throws(HDF5Failure) in try intValue(name, attr: attr, type: type) }
    }

    private func intValue(_ name: String, attr: HID, type: HID) throws(HDF5Failure) -> Int64 {
        let cls = lib.H5Tget_class(type)
        guard cls == HDF5Library.classInteger || cls == HDF5Library.classBitfield else {
            throw HDF5Failure(message: "attribute \(path)@\(name) is not an integer")
        }
        if cls == HDF5Library.classBitfield {  // numpy booleans (PyTables writes them as 8-bit bitfields)
            var byte: UInt8 = 0
            guard lib.H5Aread(attr, lib.bitfield8, &byte) >= 0 else { throw HDF5Failure(message: "cannot read attribute \(path)@\(name)") }
            return Int64(byte)
        }
        var value: Int64 = 0
        guard lib.H5Aread(attr, lib.nativeInt64, &value) >= 0 else { throw HDF5Failure(message: "cannot read attribute \(path)@\(name)") }
        return value
    }

    /// Runs `body` on attribute `name` and its type, closing both afterwards; nil when there is no such attribute.
    private func withAttribute<T>(_ name: String, _ body: (HID, HID) throws(HDF5Failure) -> T) throws(HDF5Failure) -> T? {
        guard hasAttribute(name) else { return nil }
        let attr = lib.H5Aopen(id, name, HDF5Library.defaultProperties)
        guard attr >= 0 else { throw HDF5Failure(message: "cannot open attribute \(path)@\(name)") }
        defer { _ = lib.H5Aclose(attr) }
        let type = lib.H5Aget_type(attr)
        defer { _ = lib.H5Tclose(type) }
        return try body(attr, type)
    }

    /// Writes a scalar fixed-length string attribute (UTF-8 text, or ASCII for PyTables' pickled values). An
    /// empty string is stored as PyTables stores it: a one-byte string type over a null dataspace.
    func setAttribute(_ name: String, text: String, ascii: Bool = false) throws(HDF5Failure) {
        let bytes = Array(text.utf8)
        let type = lib.H5Tcopy(lib.cString)
        defer { _ = lib.H5Tclose(type) }
        _ = lib.H5Tset_size(type, max(1, bytes.count))
        _ = lib.H5Tset_cset(type, ascii ? HDF5Library.csetASCII : HDF5Library.csetUTF8)
        _ = lib.H5Tset_strpad(type, HDF5Library.strNullTerm)
        let space = lib.H5Screate(bytes.isEmpty ? HDF5Library.nullSpace : HDF5Library.scalarSpace)
        defer { _ = lib.H5Sclose(space) }
        try writeAttribute(name, type: type, space: space, bytes: bytes)
    }

    /// Writes a scalar int64 attribute.
    func setAttribute(_ name: String, int: Int64) throws(HDF5Failure) {
        let space = lib.H5Screate(HDF5Library.scalarSpace)
        defer { _ = lib.H5Sclose(space) }
        try writeAttribute(name, type: lib.nativeInt64, space: space, bytes: withUnsafeBytes(of: int) { Array($0) })
    }

    /// Writes a numpy boolean the way PyTables does (an 8-bit bitfield).
    func setAttribute(_ name: String, bool: Bool) throws(HDF5Failure) {
        let space = lib.H5Screate(HDF5Library.scalarSpace)
        defer { _ = lib.H5Sclose(space) }
        try writeAttribute(name, type: lib.bitfield8, space: space, bytes: [bool ? 1 : 0])
    }

    private func writeAttribute(_ name: String, type: HID, space: HID, bytes: [UInt8]) throws(HDF5Failure) {
        let attr = lib.H5Acreate2(id, name, type, space, HDF5Library.defaultProperties, HDF5Library.defaultProperties)
        guard attr >= 0 else { throw HDF5Failure(message: "cannot create attribute \(path)@\(name)") }
        defer { _ = lib.H5Aclose(attr) }
        guard !bytes.isEmpty else { return }
        let status = bytes.withUnsafeBytes { lib.H5Awrite(attr, type, $0.baseAddress!) }
        guard status >= 0 else { throw HDF5Failure(message: "cannot write attribute \(path)@\(name)") }
    }

    /// Number of elements of a dataspace (1 for a scalar).
    func elementCount(_ space: HID) -> Int {
        dimensions(space).reduce(1, *)
    }

    func dimensions(_ space: HID) -> [Int] {
        let rank = Int(lib.H5Sget_simple_extent_ndims(space))
        guard rank > 0 else { return [] }
        var dims = [HSize](repeating: 0, count: rank)
        _ = lib.H5Sget_simple_extent_dims(space, &dims, nil)
        return dims.map { Int($0) }
    }
}

/// A file or group.
final class HDF5Group: HDF5Object {
    /// Opens a file read-only; its root group.
    static func open(file path: String, lib: HDF5Library) throws(HDF5Failure) -> HDF5Group {
        let file = lib.H5Fopen(path, HDF5Library.readOnly, HDF5Library.defaultProperties)
        guard file >= 0 else { throw HDF5Failure(message: "HDF5 cannot open the file (damaged or truncated?)") }
        let fileObject = HDF5Object(lib: lib, id: file, path: "", close: lib.H5Fclose, parent: nil)
        let root = lib.H5Gopen2(file, "/", HDF5Library.defaultProperties)
        guard root >= 0 else { throw HDF5Failure(message: "HDF5 cannot open the root group") }
        return HDF5Group(lib: lib, id: root, path: "", close: lib.H5Gclose, parent: fileObject)
    }

    /// `damaged`: the link exists but its object cannot be opened (a corrupt object header).
    enum ChildKind { case group, dataset, other, damaged }

    /// Names of the links in this group.
    func childNames() throws(HDF5Failure) -> [String] {
        var info = [UInt8](repeating: 0, count: 64)  // H5G_info_t: {int storage_type; hsize_t nlinks; int64 max_corder; hbool_t mounted}
        guard info.withUnsafeMutableBytes({ lib.H5Gget_info(id, $0.baseAddress!) }) >= 0 else {
            throw HDF5Failure(message: "cannot list group \(path.isEmpty ? "/" : path)")
        }
        let count = info.withUnsafeBytes { $0.load(fromByteOffset: 8, as: UInt64.self) }
        var names: [String] = []
        for i in 0..<count {
            // H5_INDEX_NAME = 0, H5_ITER_INC = 0
            let length = lib.H5Lget_name_by_idx(id, ".", 0, 0, i, nil, 0, HDF5Library.defaultProperties)
            guard length >= 0 else { throw HDF5Failure(message: "cannot list group \(path.isEmpty ? "/" : path)") }
            var buffer = [CChar](repeating: 0, count: length + 1)
            _ = lib.H5Lget_name_by_idx(id, ".", 0, 0, i, &buffer, length + 1, HDF5Library.defaultProperties)
            names.append(String(decoding: buffer.prefix(length).map { UInt8(bitPattern: $0) }, as: UTF8.self))
        }
        return names
    }

    /// What the link `name` points to; nil when there is no such link.
    func childKind(_ name: String) -> ChildKind? {
        guard lib.H5Lexists(id, name, HDF5Library.defaultProperties) > 0 else { return nil }
        let object = lib.H5Oopen(id, name, HDF5Library.defaultProperties)
        guard object >= 0 else { return .damaged }
        defer { _ = lib.H5Oclose(object) }
        switch lib.H5Iget_type(object) {
        case HDF5Library.groupObject: return .group
        case HDF5Library.datasetObject: return .dataset
        default: return .other
        }
    }

    func group(_ name: String) throws(HDF5Failure) -> HDF5Group {
        let child = lib.H5Gopen2(id, name, HDF5Library.defaultProperties)
        guard child >= 0 else { throw HDF5Failure(message: "cannot open group \(path)/\(name)") }
        return HDF5Group(lib: lib, id: child, path: path + "/" + name, close: lib.H5Gclose, parent: self)
    }

    func dataset(_ name: String) throws(HDF5Failure) -> HDF5Dataset {
        switch childKind(name) {
        case .dataset: break
        case .damaged: throw HDF5Failure(message: "dataset \(path)/\(name) is damaged (its header cannot be read)")
        default: throw HDF5Failure(message: "missing dataset \(path)/\(name)")
        }
        let child = lib.H5Dopen2(id, name, HDF5Library.defaultProperties)
        guard child >= 0 else { throw HDF5Failure(message: "cannot open dataset \(path)/\(name)") }
        return HDF5Dataset(lib: lib, id: child, path: path + "/" + name, close: lib.H5Dclose, parent: self)
    }

    func createGroup(_ name: String) throws(HDF5Failure) -> HDF5Group {
        let p = HDF5Library.defaultProperties
        let child = lib.H5Gcreate2(id, name, p, p, p)
        guard child >= 0 else { throw HDF5Failure(message: "cannot create group \(path)/\(name)") }
        return HDF5Group(lib: lib, id: child, path: path + "/" + name, close: lib.H5Gclose, parent: self)
    }

    /// Creates a contiguous dataset of `shape` from raw bytes laid out as `type` (row-major).
    func createDataset(_ name: String, type: HID, shape: [Int], bytes: UnsafeRawBufferPointer) throws(HDF5Failure) -> HDF5Dataset {
        let dims = shape.map { HSize($0) }
        let space = lib.H5Screate_simple(Int32(dims.count), dims, nil)
        defer { _ = lib.H5Sclose(space) }
        let p = HDF5Library.defaultProperties
        let child = lib.H5Dcreate2(id, name, type, space, p, p, p)
        guard child >= 0 else { throw HDF5Failure(message: "cannot create dataset \(path)/\(name)") }
        let dataset = HDF5Dataset(lib: lib, id: child, path: path + "/" + name, close: lib.H5Dclose, parent: self)
        if bytes.count > 0 {
            guard lib.H5Dwrite(child, type, HDF5Library.all, HDF5Library.all, p, bytes.baseAddress!) >= 0 else {
                throw HDF5Failure(message: "cannot write dataset \(path)/\(name)")
            }
        }
        return dataset
    }
}

/// A dataset: plain arrays (numbers or fixed-length strings) and PyTables tables (compound rows).
final class HDF5Dataset: HDF5Object {
    /// Dimensions of the dataspace.
    func shape() -> [Int] {
        let space = lib.H5Dget_space(id)
        defer { _ = lib.H5Sclose(space) }
        return dimensions(space)
    }

    /// Class of the stored type (`HDF5Library.classFloat`, …).
    func typeClass() -> Int32 {
        let type = lib.H5Dget_type(id)
        defer { _ = lib.H5Tclose(type) }
        return lib.H5Tget_class(type)
    }

    /// All elements converted to float64 (HDF5 converts integer and float32 data).
    func readDoubles() throws(HDF5Failure) -> [Double] {
        let cls = typeClass()
        guard cls == HDF5Library.classFloat || cls == HDF5Library.classInteger else {
            throw HDF5Failure(message: "dataset \(path) is not numeric")
        }
        return try read(count: shape().reduce(1, *), memoryType: lib.nativeDouble, zero: 0.0)
    }

    /// All elements converted to int64.
    func readInts() throws(HDF5Failure) -> [Int64] {
        guard typeClass() == HDF5Library.classInteger else { throw HDF5Failure(message: "dataset \(path) is not integer") }
        return try read(count: shape().reduce(1, *), memoryType: lib.nativeInt64, zero: Int64(0))
    }

    private func read<T>(count: Int, memoryType: HID, zero: T) throws(HDF5Failure) -> [T] {
        var out = [T](repeating: zero, count: count)
        guard count > 0 else { return out }
        let status = out.withUnsafeMutableBytes {
            lib.H5Dread(id, memoryType, HDF5Library.all, HDF5Library.all, HDF5Library.defaultProperties, $0.baseAddress!)
        }
        guard status >= 0 else { throw HDF5Failure(message: "cannot read dataset \(path)") }
        return out
    }

    /// A 1-D array of fixed-length byte strings (numpy `S<n>`), decoded as UTF-8.
    func readStrings() throws(HDF5Failure) -> [String] {
        let type = lib.H5Dget_type(id)
        defer { _ = lib.H5Tclose(type) }
        guard lib.H5Tget_class(type) == HDF5Library.classString, lib.H5Tis_variable_str(type) <= 0 else {
            throw HDF5Failure(message: "dataset \(path) is not an array of fixed-length strings")
        }
        let size = lib.H5Tget_size(type)
        let count = shape().reduce(1, *)
        var buffer = [UInt8](repeating: 0, count: size * count)
        if count > 0 {
            let status = buffer.withUnsafeMutableBytes {
                lib.H5Dread(id, type, HDF5Library.all, HDF5Library.all, HDF5Library.defaultProperties, $0.baseAddress!)
            }
            guard status >= 0 else { throw HDF5Failure(message: "cannot read dataset \(path)") }
        }
        return (0..<count).map { i in
            String(decoding: buffer[(i * size)..<((i + 1) * size)].prefix { $0 != 0 }, as: UTF8.self)
        }
    }

    // MARK: Compound rows (PyTables tables)

    /// Names of the fields of a compound (table) dataset.
    func fieldNames() throws(HDF5Failure) -> [String] {
        let type = lib.H5Dget_type(id)
        defer { _ = lib.H5Tclose(type) }
        guard lib.H5Tget_class(type) == HDF5Library.classCompound else { throw HDF5Failure(message: "dataset \(path) is not a table") }
        return (0..<max(0, lib.H5Tget_nmembers(type))).map { i in
            guard let name = lib.H5Tget_member_name(type, UInt32(i)) else { return "" }
            defer { _ = lib.H5free_memory(name) }
            return String(cString: name)
        }
    }

    /// The stored type of field `name`: its class, element count (for array fields) and byte size.
    func field(_ name: String) throws(HDF5Failure) -> (typeClass: Int32, width: Int, size: Int) {
        let type = lib.H5Dget_type(id)
        defer { _ = lib.H5Tclose(type) }
        guard let index = try fieldNames().firstIndex(of: name) else { throw HDF5Failure(message: "table \(path) has no column '\(name)'") }
        let member = lib.H5Tget_member_type(type, UInt32(index))
        defer { _ = lib.H5Tclose(member) }
        var cls = lib.H5Tget_class(member)
        var width = 1
        if cls == HDF5Library.classArray {
            let rank = Int(lib.H5Tget_array_ndims(member))
            var dims = [HSize](repeating: 0, count: max(rank, 1))
            _ = lib.H5Tget_array_dims2(member, &dims)
            width = Int(dims.prefix(rank).reduce(1, *))
            let base = lib.H5Tget_super(member)
            cls = lib.H5Tget_class(base)
            _ = lib.H5Tclose(base)
        }
        return (cls, width, lib.H5Tget_size(member))
    }

    /// One numeric field of every row, as float64, `width` values per row (HDF5 picks the field by name).
    func readField(_ name: String, width: Int) throws(HDF5Failure) -> [Double] {
        let rows = shape().first ?? 0
        let memory = lib.H5Tcreate(HDF5Library.classCompound, 8 * width)
        defer { _ = lib.H5Tclose(memory) }
        var element = lib.nativeDouble
        var array: HID = -1
        if width != 1 {
            var dims = [HSize(width)]
            array = lib.H5Tarray_create2(lib.nativeDouble, 1, &dims)
            element = array
        }
        defer { if array >= 0 { _ = lib.H5Tclose(array) } }
        _ = lib.H5Tinsert(memory, name, 0, element)
        return try read(count: rows * width, memoryType: memory, zero: 0.0)
    }

    /// One integer field of every row, as int64.
    func readIntField(_ name: String) throws(HDF5Failure) -> [Int64] {
        let rows = shape().first ?? 0
        let memory = lib.H5Tcreate(HDF5Library.classCompound, 8)
        defer { _ = lib.H5Tclose(memory) }
        _ = lib.H5Tinsert(memory, name, 0, lib.nativeInt64)
        return try read(count: rows, memoryType: memory, zero: Int64(0))
    }

    /// One fixed-length string field of every row (`size` bytes each), decoded as UTF-8.
    func readStringField(_ name: String, size: Int) throws(HDF5Failure) -> [String] {
        let rows = shape().first ?? 0
        let string = lib.H5Tcopy(lib.cString)
        defer { _ = lib.H5Tclose(string) }
        _ = lib.H5Tset_size(string, size)
        let memory = lib.H5Tcreate(HDF5Library.classCompound, size)
        defer { _ = lib.H5Tclose(memory) }
        _ = lib.H5Tinsert(memory, name, 0, string)
        let bytes = try read(count: rows * size, memoryType: memory, zero: UInt8(0))
        return (0..<rows).map { i in
            String(decoding: bytes[(i * size)..<((i + 1) * size)].prefix { $0 != 0 }, as: UTF8.self)
        }
    }
}
