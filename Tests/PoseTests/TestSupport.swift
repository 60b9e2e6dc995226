// Shared helpers for the pose tests: locating the shared data and making temporary projects.
import Foundation
import PoseData

/// `../shared/data` next to the repository (works from a symlinked dev package too).
func sharedDataDirectory() -> String {
    let here = URL(fileURLWithPath: #filePath).resolvingSymlinksInPath()
    let repo = here.deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
    return repo.deletingLastPathComponent().appendingPathComponent("shared/data").path
}

/// The mirror-mouse example project's LP config.
func mirrorMouseConfig() -> String {
    sharedDataDirectory() + "/mirror-mouse-example/lp-config.yaml"
}

/// A fresh temporary directory.
func temporaryDirectory(_ name: String) throws -> String {
    let path = NSTemporaryDirectory() + "kinema-pose-tests-\(name)-\(getpid())-\(UInt32.random(in: 0...UInt32.max))"
    try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
    return path
}
