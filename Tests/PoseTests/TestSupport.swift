import Foundation
// Shared helpers for the pose tests: locating the shared data and making temporary projects.
import KinemaTestSupport
import PoseData

/// `../shared/data` next to the repository.
func sharedDataDirectory() -> String { TestFiles.shared.path }

/// The mirror-mouse example project's LP config.
func mirrorMouseConfig() -> String {
    sharedDataDirectory() + "/mirror-mouse-example/lp-config.yaml"
}

/// A fresh temporary directory.
func temporaryDirectory(_ name: String) throws -> String {
    try TestFiles.temporaryDirectory("pose-" + name).path
}
