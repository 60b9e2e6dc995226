import Foundation

/// A file or folder named on the command line that cannot be used, said in one line (no usage text after it).
public struct PathProblem: Error, CustomStringConvertible, Sendable {
    public let description: String
    public init(_ description: String) { self.description = description }
}

/// An output folder checked (and created) before any work, so that a path a person cannot write to is one line
/// naming the option, before minutes of computing rather than after. Shared with `kinema neural`'s commands.
public enum OutputFolder {

    /// Creates `path` and its missing parents, or says in one line why it cannot be: a file in the way, a folder that
    /// is not writable, the system's reason otherwise (POSIX's words, not Foundation's error dump).
    @discardableResult
    public static func create(_ path: String, option: String) throws(PathProblem) -> URL {
        let url = URL(fileURLWithPath: path).standardizedFileURL
        var missing: [URL] = []
        var folder = url
        var isFolder: ObjCBool = false
        while !FileManager.default.fileExists(atPath: folder.path, isDirectory: &isFolder) {
            missing.append(folder)
            folder = folder.deletingLastPathComponent()
        }
        guard isFolder.boolValue else {
            throw PathProblem("\(folder.path) is a file, not a folder (\(option) \(path))")
        }
        for folder in missing.reversed() where mkdir(folder.path, 0o777) != 0 && errno != EEXIST {
            throw PathProblem("\(folder.path): cannot create the folder (\(option) \(path)): \(String(cString: strerror(errno)))")
        }
        guard access(url.path, W_OK | X_OK) == 0 else {
            throw PathProblem("\(url.path): the folder is not writable (\(option) \(path))")
        }
        return url
    }

    /// Checks that the folder that will hold the output file `path` exists (creating it) and that `path` itself is
    /// not a folder.
    public static func createParent(of path: String, option: String) throws(PathProblem) {
        var isFolder: ObjCBool = false
        if FileManager.default.fileExists(atPath: path, isDirectory: &isFolder), isFolder.boolValue {
            throw PathProblem("\(path) is a folder; \(option) names the file to write")
        }
        try create(URL(fileURLWithPath: path).deletingLastPathComponent().path, option: option)
    }
}
