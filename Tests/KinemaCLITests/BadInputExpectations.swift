import Foundation
import Testing

// What every bad-input matrix (train, evaluate, predict, video, smooth, neural) expects of a failed command, in one
// place: one clear error line, no raw dump, and nothing that was there before changed.

/// Text that only a raw Foundation / libtorch / Swift runtime error would print.
let rawErrorMarkers = [
    "NSCocoaErrorDomain", "Error Domain=", "UserInfo=", "NSUnderlyingError", "NSFilePath", "c10::", "Exception raised from",
    "Fatal error", "Stack dump", "backtrace",
]

/// A clean failure: exit status 1…127, exactly one error line (`KinemaProcess.isErrorLine`) that names `naming`, no
/// raw dump on either stream, and no usage text after an error that is not a usage error.
func expectOneErrorLine(_ result: CommandResult, naming: String, sourceLocation: SourceLocation = #_sourceLocation) {
    #expect(result.status != 0 && result.status < 128, "\(result)", sourceLocation: sourceLocation)
    let errors = result.stderrLines.filter { $0.localizedCaseInsensitiveContains("error") }
    #expect(errors.count == 1, "exactly one error line\n\(result)", sourceLocation: sourceLocation)
    let line = errors.first ?? ""
    #expect(KinemaProcess.isErrorLine(line) && line.contains(naming), "\(result)", sourceLocation: sourceLocation)
    for marker in rawErrorMarkers {
        #expect(
            !result.stderr.contains(marker) && !result.stdout.contains(marker), "raw `\(marker)`\n\(result)",
            sourceLocation: sourceLocation)
    }
    if !line.hasPrefix("Error: ") {
        #expect(!result.stderr.contains("Usage:"), "usage printed after a non-usage error\n\(result)", sourceLocation: sourceLocation)
    }
}

/// Every file under `folder` with its bytes (relative path → contents), to prove a failed command changed nothing.
func snapshot(_ folder: URL) -> [String: Data] {
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
