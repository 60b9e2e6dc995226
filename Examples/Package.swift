// swift-tools-version: 6.2
// Kinema used as a library by another package, as a lab would embed it: each example is a small program over one
// of Kinema's library products. CI builds and runs them (`make examples`).
import Foundation
import PackageDescription

// A path dependency is known by its folder's name, which depends on where Kinema was cloned.
let kinema = URL(fileURLWithPath: Context.packageDirectory).deletingLastPathComponent()

let package = Package(
    name: "KinemaExamples",
    dependencies: [.package(path: kinema.path)],
    targets: [
        // A pose model: from a model folder `kinema train` wrote, or a fresh U-Net; keypoints of one image.
        .executableTarget(
            name: "PoseForward",
            dependencies: [
                .product(name: "Pose", package: kinema.lastPathComponent),
                .product(name: "Torch", package: kinema.lastPathComponent),
            ]),
        // DwiseNeuro: built from a configuration (and weights, when given), one forward pass on a video window.
        .executableTarget(
            name: "NeuralForward",
            dependencies: [
                .product(name: "Neural", package: kinema.lastPathComponent),
                .product(name: "Torch", package: kinema.lastPathComponent),
            ]),
        // Ensemble Kalman smoothing of three noisy trackers of one keypoint, in memory (no libtorch).
        .executableTarget(
            name: "SmoothTracks",
            dependencies: [
                .product(name: "Smoothing", package: kinema.lastPathComponent)
            ]),
    ]
)
