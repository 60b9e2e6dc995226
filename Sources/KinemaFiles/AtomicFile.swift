import Foundation

#if canImport(Glibc)
import Glibc
#endif

/// Writes files so that nobody ever sees half of one: the bytes go to a temporary file in the destination folder,
/// which `rename(2)` then puts in place in one step (replacing an older file). On failure nothing is changed and
/// the temporary file is removed. Every module of Kinema writes its outputs through this.
public enum AtomicFile {
    public static func write(_ data: Data, to url: URL) throws {
        let file = try Writer(url: url)
        try data.withUnsafeBytes { try file.write($0) }
        try file.commit()
    }

    /// Writes the concatenation of `chunks` without joining them first (large outputs are built in parallel
    /// pieces; joining would copy every byte once more).
    public static func write(chunks: [[UInt8]], to url: URL) throws {
        let file = try Writer(url: url)
        for chunk in chunks { try file.write(chunk) }
        try file.commit()
    }

    public static func write(_ bytes: [UInt8], to path: String) throws {
        let file = try Writer(url: URL(fileURLWithPath: path))
        try file.write(bytes)
        try file.commit()
    }

    /// Writes UTF-8 text.
    public static func write(_ text: String, to path: String) throws {
        try write(Data(text.utf8), to: URL(fileURLWithPath: path))
    }

    /// The temporary name beside `path` that a write goes to first: `.<name>.<pid>.<random>.tmp`, with the name
    /// cut and replaced by a hash when the whole would exceed the 255 bytes a file name may have (a destination
    /// name near that limit must not fail after all the work that produced its bytes).
    public static func temporaryPath(for path: String) -> String {
        let url = URL(fileURLWithPath: path)
        let name = url.lastPathComponent
        let suffix = ".\(getpid()).\(UInt32.random(in: 0...UInt32.max)).tmp"
        var stem = name
        if 1 + stem.utf8.count + suffix.utf8.count > 255 {
            // FNV-1a of the whole name keeps different long names apart; the start keeps it recognisable.
            let hash = name.utf8.reduce(UInt64(0xcbf2_9ce4_8422_2325)) { ($0 ^ UInt64($1)) &* 0x100_0000_01b3 }
            stem = String(decoding: name.utf8.prefix(100), as: UTF8.self) + "~" + String(hash, radix: 16)
        }
        return url.deletingLastPathComponent().appendingPathComponent("." + stem + suffix).path
    }

    /// A file written in pieces (for outputs too large to hold in memory): bytes go to a temporary file beside
    /// the destination, `commit()` renames it into place; a writer dropped without `commit()` removes it.
    public final class Writer {
        public let url: URL
        private let temp: String
        private var fd: Int32

        public init(url: URL) throws(FileWriteError) {
            self.url = url
            let folder = url.deletingLastPathComponent()
            temp = AtomicFile.temporaryPath(for: url.path)
            do {
                try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
            } catch {
                throw FileWriteError(path: url.path, reason: FileProblem.describe(error))
            }
            fd = open(temp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0o644)
            guard fd >= 0 else { throw FileWriteError(path: url.path, reason: FileProblem.describe(errno: errno)) }
        }

        deinit { abandon() }

        public func write(_ bytes: [UInt8]) throws {
            try bytes.withUnsafeBytes { try write($0) }
        }

        public func write(_ bytes: UnsafeRawBufferPointer) throws(FileWriteError) {
            guard fd >= 0 else { throw FileWriteError(path: url.path, reason: "the file was already closed") }
            var done = 0
            while done < bytes.count {
                let n = Glibc.write(fd, bytes.baseAddress! + done, bytes.count - done)
                if n < 0 && errno == EINTR { continue }
                guard n > 0 else { throw failure() }
                done += n
            }
        }

        /// Closes the file and puts it in place (replacing an older one).
        public func commit() throws(FileWriteError) {
            guard fd >= 0 else { throw FileWriteError(path: url.path, reason: "the file was already closed") }
            let closed = close(fd)
            fd = -1
            guard closed == 0, rename(temp, url.path) == 0 else { throw failure() }
        }

        /// Removes the temporary file; nothing changes at the destination.
        public func abandon() {
            if fd >= 0 { close(fd); fd = -1 }
            unlink(temp)
        }

        private func failure() -> FileWriteError {
            let reason = FileProblem.describe(errno: errno)
            abandon()
            return FileWriteError(path: url.path, reason: reason)
        }
    }
}

/// A file could not be written; the message says where and why in one line.
public struct FileWriteError: Error, CustomStringConvertible, Sendable {
    public let path: String
    public let reason: String

    public var description: String {
        "cannot write \(path): \(reason); nothing was changed"
    }
}
