import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// Writes files so that nobody ever sees half of one: the bytes go to a temporary file in the destination folder,
/// which `rename(2)` then puts in place in one step (replacing an older file). On failure nothing is changed and
/// the temporary file is removed. Every module of Kinema writes its outputs through this.
public enum AtomicFile {
    public static func write(_ data: Data, to url: URL) throws {
        let folder = url.deletingLastPathComponent()
        let temp = folder.appendingPathComponent(".\(url.lastPathComponent).\(getpid()).\(UInt32.random(in: 0...UInt32.max)).tmp")
        do {
            try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
            try data.write(to: temp)
        } catch {
            try? FileManager.default.removeItem(at: temp)
            throw FileWriteError(path: url.path, reason: error.localizedDescription)
        }
        guard rename(temp.path, url.path) == 0 else {
            let reason = String(cString: strerror(errno))
            try? FileManager.default.removeItem(at: temp)
            throw FileWriteError(path: url.path, reason: reason)
        }
    }

    /// Writes the concatenation of `chunks` without joining them first (large outputs are built in parallel
    /// pieces; joining would copy every byte once more).
    public static func write(chunks: [[UInt8]], to url: URL) throws {
        let folder = url.deletingLastPathComponent()
        let temp = folder.appendingPathComponent(".\(url.lastPathComponent).\(getpid()).\(UInt32.random(in: 0...UInt32.max)).tmp")
        func fail(_ reason: String) -> FileWriteError {
            unlink(temp.path)
            return FileWriteError(path: url.path, reason: reason)
        }
        do {
            try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        } catch {
            throw FileWriteError(path: url.path, reason: error.localizedDescription)
        }
        let fd = open(temp.path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0o644)
        guard fd >= 0 else { throw fail(String(cString: strerror(errno))) }
        for chunk in chunks {
            var done = 0
            while done < chunk.count {
                let n = chunk.withUnsafeBytes { Glibc.write(fd, $0.baseAddress! + done, $0.count - done) }
                if n < 0 && errno == EINTR { continue }
                guard n > 0 else {
                    let reason = String(cString: strerror(errno))
                    close(fd)
                    throw fail(reason)
                }
                done += n
            }
        }
        guard close(fd) == 0 else { throw fail(String(cString: strerror(errno))) }
        guard rename(temp.path, url.path) == 0 else { throw fail(String(cString: strerror(errno))) }
    }

    public static func write(_ bytes: [UInt8], to path: String) throws {
        try write(Data(bytes), to: URL(fileURLWithPath: path))
    }

    /// Writes UTF-8 text.
    public static func write(_ text: String, to path: String) throws {
        try write(Data(text.utf8), to: URL(fileURLWithPath: path))
    }
}

/// A file could not be written; the message says where and why in one line.
public struct FileWriteError: Error, CustomStringConvertible, Sendable {
    public let path: String
    public let reason: String

    public var description: String {
        "cannot write \(path): \(reason) (check that the folder is writable and the disk has space; nothing was changed)"
    }
}
