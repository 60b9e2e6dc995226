import Foundation
// Shared helpers for the pose tests: locating the shared data and making temporary projects.
import KinemaTestSupport
import PoseData

/// The mirror-mouse example project's LP config.
func mirrorMouseConfig() -> String {
    TestFiles.data.appendingPathComponent("mirror-mouse-example/lp-config.yaml").path
}

/// A fresh temporary directory.
func temporaryDirectory(_ name: String) throws -> String {
    try TestFiles.temporaryDirectory("pose-" + name).path
}
