// Where the test suites find their data: all of it inside the repository, so a clone tests itself.
import Foundation

public enum TestFiles {
    /// The repository's root folder (found from this file, so it works from a symlinked dev package too).
    public static let repository: URL = URL(fileURLWithPath: #filePath).resolvingSymlinksInPath()
        .deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()

    /// `Tests/Data`: the real data the suite uses (LP's mirror-mouse example, EKS ensembles and goldens),
    /// carried by the repository with its licences (Tests/Data/README.md).
    public static let data: URL = repository.appendingPathComponent("Tests/Data")

    /// A test target's own fixture folder, `Tests/<target>/Fixtures`.
    public static func fixtures(_ target: String) -> URL {
        repository.appendingPathComponent("Tests/\(target)/Fixtures")
    }

    /// The path of a command-line tool on `PATH` (`which NAME`), nil when it is not installed.
    public static func tool(_ name: String) -> String? {
        let folders = (ProcessInfo.processInfo.environment["PATH"] ?? "/usr/bin:/bin").split(separator: ":")
        return folders.map { "\($0)/\(name)" }.first { FileManager.default.isExecutableFile(atPath: $0) }
    }

    /// A fresh, empty temporary folder whose name says which test made it.
    public static func temporaryDirectory(_ name: String) throws -> URL {
        let url = FileManager.default.temporaryDirectory
            .appendingPathComponent("kinema-tests-\(name)-\(getpid())-\(UInt32.random(in: 0...UInt32.max))")
        try FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
        return url
    }
}

/// Every file under `folder` with its bytes (relative path → contents), to prove a failed command changed nothing.
public func snapshot(_ folder: URL) -> [String: Data] {
    var result: [String: Data] = [:]
    guard let walker = FileManager.default.enumerator(atPath: folder.path) else { return result }
    for case let path as String in walker {
        var isFolder: ObjCBool = false
        let full = folder.appendingPathComponent(path).path
        if FileManager.default.fileExists(atPath: full, isDirectory: &isFolder), !isFolder.boolValue {
            result[path] = FileManager.default.contents(atPath: full) ?? Data()
        }
    }
    return result
}
