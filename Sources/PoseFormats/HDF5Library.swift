// The HDF5 C library, loaded with dlopen on the first .h5 access.
//
// Linking libhdf5 would load it (and libcurl, libssl, … that Debian's build drags in) into every process that
// uses PoseFormats, including `kinema-smooth`, whose start-up time matters. So the few C functions we need are
// looked up by name at first use. Types follow HDF5 ≥ 1.10 (hid_t is int64_t); the entry points used here have
// the same signatures from 1.10 to 1.14.
import Foundation

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

typealias HID = Int64  // hid_t
typealias HErr = Int32  // herr_t / htri_t
typealias HSize = UInt64  // hsize_t

/// The loaded library. Builds of HDF5 without thread safety allow one caller at a time, so every call goes
/// through `HDF5Library.withLibrary`, which holds one process-wide lock.
final class HDF5Library: @unchecked Sendable {
    // Constants of H5public.h / H5Fpublic.h / H5Tpublic.h / H5Spublic.h / H5Ipublic.h (stable since 1.8).
    static let defaultProperties: HID = 0  // H5P_DEFAULT
    static let all: HID = 0  // H5S_ALL
    static let readOnly: UInt32 = 0  // H5F_ACC_RDONLY
    static let truncate: UInt32 = 2  // H5F_ACC_TRUNC
    static let classInteger: Int32 = 0, classFloat: Int32 = 1, classString: Int32 = 3, classBitfield: Int32 = 4
    static let classCompound: Int32 = 6, classArray: Int32 = 10
    static let csetASCII: Int32 = 0, csetUTF8: Int32 = 1
    static let strNullTerm: Int32 = 0
    static let scalarSpace: Int32 = 0, nullSpace: Int32 = 2
    static let groupObject: Int32 = 2, datasetObject: Int32 = 5  // H5I_GROUP, H5I_DATASET

    // Library functions (C signatures in the comments where Swift's spelling hides them).
    let H5open: @convention(c) () -> HErr
    let H5get_libversion: @convention(c) (UnsafeMutablePointer<UInt32>, UnsafeMutablePointer<UInt32>, UnsafeMutablePointer<UInt32>) -> HErr
    let H5Eset_auto2: @convention(c) (HID, UnsafeMutableRawPointer?, UnsafeMutableRawPointer?) -> HErr
    let H5free_memory: @convention(c) (UnsafeMutableRawPointer?) -> HErr
    let H5Fopen: @convention(c) (UnsafePointer<CChar>, UInt32, HID) -> HID
    let H5Fcreate: @convention(c) (UnsafePointer<CChar>, UInt32, HID, HID) -> HID
    let H5Fflush: @convention(c) (HID, Int32) -> HErr
    let H5Fget_file_image: @convention(c) (HID, UnsafeMutableRawPointer?, Int) -> Int
    let H5Fclose: @convention(c) (HID) -> HErr
    let H5Fget_obj_count: @convention(c) (HID, UInt32) -> Int  // ssize_t (hid_t file_id, unsigned types)
    let H5Pcreate: @convention(c) (HID) -> HID
    let H5Pset_fapl_core: @convention(c) (HID, Int, Bool) -> HErr
    let H5Pclose: @convention(c) (HID) -> HErr
    let H5Gopen2: @convention(c) (HID, UnsafePointer<CChar>, HID) -> HID
    let H5Gcreate2: @convention(c) (HID, UnsafePointer<CChar>, HID, HID, HID) -> HID
    let H5Gget_info: @convention(c) (HID, UnsafeMutableRawPointer) -> HErr
    let H5Gclose: @convention(c) (HID) -> HErr
    // ssize_t H5Lget_name_by_idx(loc, group_name, idx_type, order, n, name, size, lapl)
    let H5Lget_name_by_idx: @convention(c) (HID, UnsafePointer<CChar>, Int32, Int32, HSize, UnsafeMutablePointer<CChar>?, Int, HID) -> Int
    let H5Lexists: @convention(c) (HID, UnsafePointer<CChar>, HID) -> HErr
    let H5Oopen: @convention(c) (HID, UnsafePointer<CChar>, HID) -> HID
    let H5Oclose: @convention(c) (HID) -> HErr
    let H5Iget_type: @convention(c) (HID) -> Int32
    let H5Aexists: @convention(c) (HID, UnsafePointer<CChar>) -> HErr
    let H5Aopen: @convention(c) (HID, UnsafePointer<CChar>, HID) -> HID
    let H5Acreate2: @convention(c) (HID, UnsafePointer<CChar>, HID, HID, HID, HID) -> HID
    let H5Aget_type: @convention(c) (HID) -> HID
    let H5Aget_space: @convention(c) (HID) -> HID
    let H5Aread: @convention(c) (HID, HID, UnsafeMutableRawPointer) -> HErr
    let H5Awrite: @convention(c) (HID, HID, UnsafeRawPointer) -> HErr
    let H5Aclose: @convention(c) (HID) -> HErr
    let H5Dopen2: @convention(c) (HID, UnsafePointer<CChar>, HID) -> HID
    let H5Dcreate2: @convention(c) (HID, UnsafePointer<CChar>, HID, HID, HID, HID, HID) -> HID
    let H5Dget_type: @convention(c) (HID) -> HID
    let H5Dget_space: @convention(c) (HID) -> HID
    let H5Dread: @convention(c) (HID, HID, HID, HID, HID, UnsafeMutableRawPointer) -> HErr
    let H5Dwrite: @convention(c) (HID, HID, HID, HID, HID, UnsafeRawPointer) -> HErr
    let H5Dclose: @convention(c) (HID) -> HErr
    let H5Screate: @convention(c) (Int32) -> HID
    let H5Screate_simple: @convention(c) (Int32, UnsafePointer<HSize>, UnsafePointer<HSize>?) -> HID
    let H5Sget_simple_extent_type: @convention(c) (HID) -> Int32
    let H5Sget_simple_extent_ndims: @convention(c) (HID) -> Int32
    let H5Sget_simple_extent_dims: @convention(c) (HID, UnsafeMutablePointer<HSize>?, UnsafeMutablePointer<HSize>?) -> Int32
    let H5Sclose: @convention(c) (HID) -> HErr
    let H5Tcopy: @convention(c) (HID) -> HID
    let H5Tcreate: @convention(c) (Int32, Int) -> HID
    let H5Tinsert: @convention(c) (HID, UnsafePointer<CChar>, Int, HID) -> HErr
    let H5Tarray_create2: @convention(c) (HID, UInt32, UnsafePointer<HSize>) -> HID
    let H5Tget_class: @convention(c) (HID) -> Int32
    let H5Tget_size: @convention(c) (HID) -> Int
    let H5Tset_size: @convention(c) (HID, Int) -> HErr
    let H5Tis_variable_str: @convention(c) (HID) -> HErr
    let H5Tget_cset: @convention(c) (HID) -> Int32
    let H5Tset_cset: @convention(c) (HID, Int32) -> HErr
    let H5Tset_strpad: @convention(c) (HID, Int32) -> HErr
    let H5Tget_nmembers: @convention(c) (HID) -> Int32
    let H5Tget_member_name: @convention(c) (HID, UInt32) -> UnsafeMutablePointer<CChar>?
    let H5Tget_member_type: @convention(c) (HID, UInt32) -> HID
    let H5Tget_array_ndims: @convention(c) (HID) -> Int32
    let H5Tget_array_dims2: @convention(c) (HID, UnsafeMutablePointer<HSize>) -> Int32
    let H5Tget_super: @convention(c) (HID) -> HID
    let H5Tclose: @convention(c) (HID) -> HErr

    // Predefined types and classes: globals that H5open() fills in (the H5T_NATIVE_* macros read them).
    let nativeDouble: HID, nativeInt64: HID, nativeInt8: HID, nativeInt16: HID, nativeInt32: HID
    let bitfield8: HID, cString: HID, fileAccessClass: HID

    /// "1.10.8": the version of the library that was loaded.
    let version: String
    /// The file name that was opened.
    let soname: String

    private let lock = NSLock()

    /// Library names tried in order: Debian/Ubuntu (serial build, 1.10 then 1.14), generic builds, macOS.
    static let candidates = [
        "libhdf5_serial.so.103", "libhdf5_serial.so.310", "libhdf5.so.310", "libhdf5.so.103", "libhdf5_serial.so",
        "libhdf5.so", "libhdf5.dylib", "/opt/homebrew/lib/libhdf5.dylib", "/usr/local/lib/libhdf5.dylib",
    ]

    /// The library, loaded once (a `static let` is initialised lazily and exactly once); nil with the reason.
    private static let loaded: Result<HDF5Library, LoadFailure> = {
        var names = candidates
        if let own = ProcessInfo.processInfo.environment["KINEMA_HDF5_LIBRARY"], !own.isEmpty { names.insert(own, at: 0) }
        for name in names {
            guard let handle = dlopen(name, RTLD_NOW | RTLD_LOCAL) else { continue }
            do throws(LoadFailure) { return .success(try HDF5Library(handle: handle, soname: name)) } catch {
                return .failure(error)
            }
        }
        return .failure(
            LoadFailure(
                message:
                    "the HDF5 library is not installed (tried \(names.prefix(3).joined(separator: ", ")), …); install libhdf5 (Debian/Ubuntu: apt-get install libhdf5-103-1, macOS: brew install hdf5) or set KINEMA_HDF5_LIBRARY to its path"
            ))
    }()

    struct LoadFailure: Error { let message: String }

    /// Files, groups, datasets and attributes still open in the whole process (H5F_OBJ_ALL over all files);
    /// 0 between calls when every wrapper closed its identifier. nil when the library is not installed.
    static func openIdentifierCount() -> Int? {
        guard case .success(let library) = loaded else { return nil }
        library.lock.lock()
        defer { library.lock.unlock() }
        let all: UInt32 = 0x1F  // H5F_OBJ_ALL
        return library.H5Fget_obj_count(HID(all), all)
    }

    /// Runs `body` with the library while holding the process-wide HDF5 lock; a missing library becomes a
    /// one-line error naming `file`.
    static func withLibrary<T>(file: String, _ body: (HDF5Library) throws -> T) throws -> T {
        switch loaded {
        case .failure(let failure):
            throw PoseFormatError(file: file, row: nil, message: failure.message)
        case .success(let library):
            library.lock.lock()
            defer { library.lock.unlock() }
            // We report our own one-line errors. HDF5's default handler prints its error stack to stderr, and
            // Debian's build is thread-safe, where that setting is per thread: switch it off on this one.
            _ = library.H5Eset_auto2(0, nil, nil)
            return try HDF5CrashGuard.run(file: file, version: library.version) { try body(library) }
        }
    }

    private init(handle: UnsafeMutableRawPointer, soname: String) throws(LoadFailure) {
        func symbol<F>(_ name: String, as type: F.Type = F.self) throws(LoadFailure) -> F {
            guard let pointer = dlsym(handle, name) else {
                throw LoadFailure(message: "\(soname) lacks \(name); Kinema needs HDF5 1.10 or newer")
            }
            return unsafeBitCast(pointer, to: F.self)
        }
        H5open = try symbol("H5open")
        H5get_libversion = try symbol("H5get_libversion")
        var major: UInt32 = 0, minor: UInt32 = 0, release: UInt32 = 0
        _ = H5get_libversion(&major, &minor, &release)
        version = "\(major).\(minor).\(release)"
        // hid_t became 64-bit in 1.10; an older library would silently truncate identifiers.
        guard major > 1 || (major == 1 && minor >= 10) else {
            throw LoadFailure(message: "\(soname) is HDF5 \(version); Kinema needs HDF5 1.10 or newer")
        }
        guard H5open() >= 0 else { throw LoadFailure(message: "\(soname): H5open failed") }
        self.soname = soname
        H5Eset_auto2 = try symbol("H5Eset_auto2")
        H5free_memory = try symbol("H5free_memory")
        H5Fopen = try symbol("H5Fopen")
        H5Fcreate = try symbol("H5Fcreate")
        H5Fflush = try symbol("H5Fflush")
        H5Fget_file_image = try symbol("H5Fget_file_image")
        H5Fclose = try symbol("H5Fclose")
        H5Fget_obj_count = try symbol("H5Fget_obj_count")
        H5Pcreate = try symbol("H5Pcreate")
        H5Pset_fapl_core = try symbol("H5Pset_fapl_core")
        H5Pclose = try symbol("H5Pclose")
        H5Gopen2 = try symbol("H5Gopen2")
        H5Gcreate2 = try symbol("H5Gcreate2")
        H5Gget_info = try symbol("H5Gget_info")
        H5Gclose = try symbol("H5Gclose")
        H5Lget_name_by_idx = try symbol("H5Lget_name_by_idx")
        H5Lexists = try symbol("H5Lexists")
        H5Oopen = try symbol("H5Oopen")
        H5Oclose = try symbol("H5Oclose")
        H5Iget_type = try symbol("H5Iget_type")
        H5Aexists = try symbol("H5Aexists")
        H5Aopen = try symbol("H5Aopen")
        H5Acreate2 = try symbol("H5Acreate2")
        H5Aget_type = try symbol("H5Aget_type")
        H5Aget_space = try symbol("H5Aget_space")
        H5Aread = try symbol("H5Aread")
        H5Awrite = try symbol("H5Awrite")
        H5Aclose = try symbol("H5Aclose")
        H5Dopen2 = try symbol("H5Dopen2")
        H5Dcreate2 = try symbol("H5Dcreate2")
        H5Dget_type = try symbol("H5Dget_type")
        H5Dget_space = try symbol("H5Dget_space")
        H5Dread = try symbol("H5Dread")
        H5Dwrite = try symbol("H5Dwrite")
        H5Dclose = try symbol("H5Dclose")
        H5Screate = try symbol("H5Screate")
        H5Screate_simple = try symbol("H5Screate_simple")
        H5Sget_simple_extent_type = try symbol("H5Sget_simple_extent_type")
        H5Sget_simple_extent_ndims = try symbol("H5Sget_simple_extent_ndims")
        H5Sget_simple_extent_dims = try symbol("H5Sget_simple_extent_dims")
        H5Sclose = try symbol("H5Sclose")
        H5Tcopy = try symbol("H5Tcopy")
        H5Tcreate = try symbol("H5Tcreate")
        H5Tinsert = try symbol("H5Tinsert")
        H5Tarray_create2 = try symbol("H5Tarray_create2")
        H5Tget_class = try symbol("H5Tget_class")
        H5Tget_size = try symbol("H5Tget_size")
        H5Tset_size = try symbol("H5Tset_size")
        H5Tis_variable_str = try symbol("H5Tis_variable_str")
        H5Tget_cset = try symbol("H5Tget_cset")
        H5Tset_cset = try symbol("H5Tset_cset")
        H5Tset_strpad = try symbol("H5Tset_strpad")
        H5Tget_nmembers = try symbol("H5Tget_nmembers")
        H5Tget_member_name = try symbol("H5Tget_member_name")
        H5Tget_member_type = try symbol("H5Tget_member_type")
        H5Tget_array_ndims = try symbol("H5Tget_array_ndims")
        H5Tget_array_dims2 = try symbol("H5Tget_array_dims2")
        H5Tget_super = try symbol("H5Tget_super")
        H5Tclose = try symbol("H5Tclose")
        func global(_ name: String) throws(LoadFailure) -> HID {
            let pointer: UnsafeMutablePointer<HID> = try symbol(name)
            return pointer.pointee
        }
        nativeDouble = try global("H5T_NATIVE_DOUBLE_g")
        nativeInt64 = try global("H5T_NATIVE_LLONG_g")
        nativeInt32 = try global("H5T_NATIVE_INT_g")
        nativeInt16 = try global("H5T_NATIVE_SHORT_g")
        nativeInt8 = try global("H5T_NATIVE_SCHAR_g")
        bitfield8 = try global("H5T_NATIVE_B8_g")
        cString = try global("H5T_C_S1_g")
        fileAccessClass = try global("H5P_CLS_FILE_ACCESS_ID_g")
    }
}
