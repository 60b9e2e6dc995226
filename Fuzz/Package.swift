// swift-tools-version: 6.2
// libFuzzer targets for every reader of files from outside: one executable per reader, over Kinema by path (as a
// lab's package would use it). They are built with coverage and AddressSanitizer by `scripts/fuzz/run.sh`
// (`make fuzz`), which also assembles the seed corpora from the repository's own test data.
import Foundation
import PackageDescription

// A path dependency is known by its folder's name, which depends on where Kinema was cloned.
let kinema = URL(fileURLWithPath: Context.packageDirectory).deletingLastPathComponent()
func kinemaProduct(_ name: String) -> Target.Dependency { .product(name: name, package: kinema.lastPathComponent) }

let strictSwift: [SwiftSetting] = [.swiftLanguageMode(.v6)]

/// A fuzz target: the reader's product plus FuzzSupport (the libFuzzer driver and the temporary input file).
func fuzzer(_ name: String, _ products: [String]) -> Target {
    .executableTarget(
        name: name, dependencies: ["FuzzSupport"] + products.map(kinemaProduct), swiftSettings: strictSwift)
}

let package = Package(
    name: "KinemaFuzz",
    dependencies: [.package(path: kinema.path)],
    targets: [
        .target(name: "FuzzSupport", swiftSettings: strictSwift),
        fuzzer("FuzzPoseCSV", ["Smoothing"]),  // PoseFormats comes with Smoothing without libtorch
        fuzzer("FuzzPoseHDF5", ["Smoothing"]),
        fuzzer("FuzzCalibrationTOML", ["Smoothing"]),
        fuzzer("FuzzNpy", ["Smoothing"]),  // PythonFormats, likewise
        fuzzer("FuzzPickle", ["Smoothing"]),
        fuzzer("FuzzConfigYAML", ["Pose", "Neural"]),
        fuzzer("FuzzSafeTensors", ["Torch"]),
        fuzzer("FuzzTorchFile", ["Torch"]),
        fuzzer("FuzzParquet", ["Neural"]),
    ]
)
