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
