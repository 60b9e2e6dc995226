// Where the test suites find their data: fixtures inside the repository and the shared data folder beside it.
import Foundation

public enum TestFiles {
    /// The repository's root folder (found from this file, so it works from a symlinked dev package too).
    public static let repository: URL = URL(fileURLWithPath: #filePath).resolvingSymlinksInPath()
        .deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()

    /// `shared/data` beside the repository (CI clones the repository next to a copy of `shared/`).
    public static let shared: URL = repository.deletingLastPathComponent().appendingPathComponent("shared/data")

    /// A folder of `shared/data`, or nil when that folder is not beside this clone.
    public static func sharedFolder(_ relative: String) -> URL? {
        let url = shared.appendingPathComponent(relative)
        return FileManager.default.fileExists(atPath: url.path) ? url : nil
    }

    /// A test target's own fixture folder, `Tests/<target>/Fixtures`.
    public static func fixtures(_ target: String) -> URL {
        repository.appendingPathComponent("Tests/\(target)/Fixtures")
    }

    /// A fresh, empty temporary folder whose name says which test made it.
    public static func temporaryDirectory(_ name: String) throws -> URL {
        let url = FileManager.default.temporaryDirectory
            .appendingPathComponent("kinema-tests-\(name)-\(getpid())-\(UInt32.random(in: 0...UInt32.max))")
        try FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
        return url
    }
}
