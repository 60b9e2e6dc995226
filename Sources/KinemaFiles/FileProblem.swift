// One way to say in words why a file could not be read or written, from any Foundation or POSIX error
// (never Foundation's `NSCocoaErrorDomain Code=… UserInfo=…` dump).
import Foundation

#if canImport(Glibc)
import Glibc
#endif

public enum FileProblem {
    /// `describe(error)` preceded by the file Foundation names in the error, when it names one
    /// ("out/frames: permission denied"): for errors that reach the user without a message of Kinema's around them.
    public static func sentence(_ error: any Error) -> String {
        let ns = error as NSError
        guard ns.domain == NSCocoaErrorDomain || ns.domain == NSPOSIXErrorDomain || error is POSIXError,
            let path = (ns.userInfo[NSFilePathErrorKey] as? String) ?? (ns.userInfo[NSURLErrorKey] as? URL)?.path
        else { return describe(error) }
        return "\(path): \(describe(error))"
    }

    /// Why a file operation failed, in a few words: "permission denied", "the disk is full", ...
    /// Errors that already describe themselves (Kinema's own) are returned as they print.
    public static func describe(_ error: any Error) -> String {
        if let posix = error as? POSIXError { return describe(errno: posix.code.rawValue) }
        let ns = error as NSError
        if ns.domain == NSPOSIXErrorDomain { return describe(errno: Int32(ns.code)) }
        guard ns.domain == NSCocoaErrorDomain else { return "\(error)" }
        // Foundation keeps the system's reason underneath; it is the most precise one.
        if let underlying = ns.userInfo[NSUnderlyingErrorKey] as? any Error {
            if let posix = underlying as? POSIXError { return describe(errno: posix.code.rawValue) }
            let inner = underlying as NSError
            if inner.domain == NSPOSIXErrorDomain { return describe(errno: Int32(inner.code)) }
        }
        switch CocoaError.Code(rawValue: ns.code) {
        case .fileNoSuchFile, .fileReadNoSuchFile: return describe(errno: ENOENT)
        case .fileReadNoPermission, .fileWriteNoPermission: return describe(errno: EACCES)
        case .fileWriteOutOfSpace: return describe(errno: ENOSPC)
        case .fileWriteVolumeReadOnly: return describe(errno: EROFS)
        case .fileWriteFileExists: return describe(errno: EEXIST)
        case .fileWriteInvalidFileName: return "the file name is not valid"
        case .fileReadTooLarge: return "the file is too large to read"
        case .fileReadCorruptFile: return "the file is damaged or not in the expected format"
        case .fileReadInapplicableStringEncoding, .fileReadUnknownStringEncoding: return "the file is not UTF-8 text"
        case .fileLocking: return "the file is locked by another program"
        default: return "the operation failed (Foundation error \(ns.code))"
        }
    }

    /// `errno` in words, with what usually helps.
    public static func describe(errno code: Int32) -> String {
        switch code {
        case EACCES, EPERM: return "permission denied (check the folder's owner and permissions)"
        case ENOENT: return "no such file or folder"
        case ENOTDIR: return "a part of the path is a file, not a folder"
        case EISDIR: return "it is a folder, not a file"
        case ENOSPC, EDQUOT: return "the disk is full (free some space or choose another output folder)"
        case EROFS: return "read-only file system (choose an output folder on a writable disk)"
        case ENAMETOOLONG: return "the file name is too long (at most 255 bytes per name)"
        case EEXIST: return "it already exists"
        case EIO: return "input/output error (a failing disk or an unreachable network drive)"
        case EMFILE, ENFILE: return "too many open files"
        case EXDEV: return "the temporary file and the destination are on different disks"
        case ELOOP: return "too many symbolic links in the path"
        case EBUSY, ETXTBSY: return "the file is busy (in use by another program)"
        default: return String(cString: strerror(code))
        }
    }
}
