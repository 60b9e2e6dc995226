// swift-tools-version: 6.2
// Kinema: behavioural video -> poses -> smoothed trajectories -> neural encoding, in Swift over libtorch.
import Foundation
import PackageDescription

// MARK: - libtorch, as found by scripts/setup.sh (written to .deps/libtorch.env)

/// Reads `KEY=VALUE` lines that `scripts/setup.sh` wrote; empty when set-up has not run yet.
func libtorchConfig() -> [String: String] {
    let path = Context.packageDirectory + "/.deps/libtorch.env"
    guard let text = try? String(contentsOfFile: path, encoding: .utf8) else { return [:] }
    var config: [String: String] = [:]
    for line in text.split(separator: "\n") {
        let parts = line.split(separator: "=", maxSplits: 1).map(String.init)
        if parts.count == 2 { config[parts[0]] = parts[1] }
    }
    return config
}

let torch = libtorchConfig()
let torchInclude = torch["LIBTORCH_INCLUDE"] ?? "/usr/include"
let torchLib = torch["LIBTORCH_LIB"] ?? "/usr/lib"
// torch >= 2.13 needs C++20; older 2.x builds as C++17 (the GPU machine's 2.11).
let cxxStandard: CXXLanguageStandard = torch["LIBTORCH_CXX_STD"] == "c++17" ? .cxx17 : .cxx20

let strictSwift: [SwiftSetting] = [.swiftLanguageMode(.v6)]

/// Both executables link the Swift runtime and Foundation statically: it halves process start-up (no dynamic
/// loading and relocation of ~20 shared libraries), which is most of a typical smoothing job. Foundation's static
/// archives depend on each other in a cycle that `-static-stdlib` alone does not list, hence the group.
/// `--no-export-dynamic` undoes swiftc's default export of every public symbol: nothing loaded later links against
/// the executable (the libtorch shim and FFmpeg are looked up by handle), the Swift runtime's start-up `dladdr`
/// scanned all ~29,000 of them in `kinema` (~1 M instructions, 5 % of `kinema smooth --help`), and FFmpeg's own
/// libraries resolved their calls to one another through `kinema`'s exported FFmpeg trampolines.
let staticSwiftRuntime =
    ["-static-stdlib", "-Xlinker", "--start-group"]
    + [
        "FoundationInternationalization", "FoundationEssentials", "_FoundationCollections", "CoreFoundation",
        "_FoundationICU", "_FoundationCShims", "swiftSynchronization",
    ].map { "-l" + $0 }
    + ["-Xlinker", "--end-group", "-Xlinker", "--no-export-dynamic"]

let package = Package(
    name: "Kinema",
    platforms: [.macOS(.v14)],
    products: [
        .executable(name: "kinema", targets: ["kinema"]),
        .executable(name: "kinema-smooth", targets: ["kinema-smooth"]),
        // Opened by CTorch on the first tensor operation; built beside the executables (`swift build`).
        .library(name: "KinemaTorchShim", type: .dynamic, targets: ["CTorchShim"]),
        // Libraries a lab can embed in its own Swift code (Examples/ shows each in use).
        .library(name: "Torch", targets: ["Torch", "TorchNN", "TorchOptim"]),
        .library(name: "Video", targets: ["VideoIO"]),
        .library(name: "Pose", targets: ["PoseFormats", "PoseData", "PoseModels", "PosePrediction", "PoseAnalysis"]),
        .library(name: "Smoothing", targets: ["Smoothing"]),
        .library(name: "Neural", targets: ["NeuralData", "NeuralModels"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.5.0"),
        .package(url: "https://github.com/apple/swift-collections", from: "1.1.0"),
        .package(url: "https://github.com/jpsim/Yams", from: "6.0.0"),
        // The labelling app's local HTTP server; no traits: its swift-configuration support is not used.
        .package(url: "https://github.com/hummingbird-project/hummingbird", from: "2.28.1", traits: []),
        .package(url: "https://github.com/apple/swift-nio", from: "2.101.0"),  // the server's byte buffers and socket
        .package(url: "https://github.com/apple/swift-log", from: "1.14.0"),  // to quieten the server's log
    ],
    targets: [
        // MARK: C layers
        // ctorch.h's functions, as trampolines that dlopen() libtorch and the shim on the first call (ctorch_loader.h):
        // a command that touches no tensor never loads libtorch. It links no libtorch itself.
        .target(
            name: "CTorch", dependencies: ["CProcessStart"],
            cSettings: torch["LIBTORCH_LIB"].map { [.define("KINEMA_LIBTORCH_DIR", to: "\"\($0)\"")] } ?? [],
            linkerSettings: [.linkedLibrary("dl")]
        ),
        // The shim over libtorch (ctorch.h implemented in C++), the only binary linked to libtorch: a dynamic library
        // product (libKinemaTorchShim.so) that CTorch opens at run time from the executable's folder. Its include/ctorch.h
        // is a link to CTorch's: one contract.
        .target(
            name: "CTorchShim",
            cxxSettings: [
                .unsafeFlags([
                    "-isystem", torchInclude, "-isystem", torchInclude + "/torch/csrc/api/include",
                    // Gloo's declarations for c10d's ProcessGroupGloo.hpp (the wheel ships no Gloo headers; see there)
                    "-idirafter", Context.packageDirectory + "/Sources/CTorchShim/gloo-declarations",
                ]),
                .define("_GLIBCXX_USE_CXX11_ABI", to: torch["LIBTORCH_CXX11_ABI"] ?? "1"),
            ],
            linkerSettings: [
                .unsafeFlags(["-L" + torchLib, "-Xlinker", "-rpath", "-Xlinker", torchLib]),
                .linkedLibrary("torch_cpu"), .linkedLibrary("c10"), .linkedLibrary("dl"),
            ]
        ),
        // FFmpeg's API (headers from libavformat-dev & co.) as trampolines that dlopen() libavformat, libavcodec,
        // libswscale and libavutil on the first call (ffmpeg_loader.h): a command that reads no video never maps FFmpeg
        // and its ~130 dependencies. It links no FFmpeg itself.
        .target(name: "CFFmpeg", linkerSettings: [.linkedLibrary("dl")]),

        // MARK: Files (atomic writes shared by every module) and the console (progress, log lines, Ctrl-C)
        .target(name: "KinemaFiles", swiftSettings: strictSwift),
        .target(name: "KinemaConsole", swiftSettings: strictSwift),
        // Slurm job arrays: the sbatch script, submission, and sacct/squeue read back (no libtorch)
        .target(name: "SlurmJobs", dependencies: ["KinemaFiles"], swiftSettings: strictSwift),
        // Files Python's ecosystem writes: NumPy .npy arrays and pickle streams (no libtorch, no FFmpeg).
        .target(name: "PythonFormats", dependencies: ["KinemaFiles"], swiftSettings: strictSwift),

        // MARK: Tensors and neural-network building blocks
        .target(name: "Torch", dependencies: ["CTorch"], swiftSettings: strictSwift),
        .target(
            name: "TorchNN",
            dependencies: ["Torch", "KinemaFiles", "PythonFormats", .product(name: "OrderedCollections", package: "swift-collections")],
            swiftSettings: strictSwift),
        .target(name: "TorchOptim", dependencies: ["Torch", "TorchNN"], swiftSettings: strictSwift),

        // MARK: Video and images
        .target(name: "VideoIO", dependencies: ["CFFmpeg", "KinemaFiles"], swiftSettings: strictSwift),

        // MARK: Pictures (plots as PNG, written atomically through KinemaFiles)
        .target(name: "Plotting", dependencies: ["KinemaFiles"], swiftSettings: strictSwift),

        // MARK: Config files (strict YAML decoding shared by pose and neural configs)
        .target(name: "ConfigDecoding", dependencies: ["Yams"], swiftSettings: strictSwift),

        // MARK: Pose estimation
        .target(name: "PoseFormats", dependencies: ["KinemaFiles", "PythonFormats"], swiftSettings: strictSwift),
        .target(name: "PoseData", dependencies: ["PoseFormats", "VideoIO", "KinemaFiles", "ConfigDecoding"], swiftSettings: strictSwift),
        .target(
            name: "PoseModels",
            dependencies: ["PoseData", "PoseFormats", "KinemaFiles", "KinemaConsole", "Torch", "TorchNN", "TorchOptim"],
            swiftSettings: strictSwift),
        // Video → poses: decode schedules, video/image-folder prediction, labelled videos, ensembles (EKS through Smoothing), the demo.
        .target(
            name: "PosePrediction",
            dependencies: [
                "PoseModels", "PoseData", "PoseFormats", "VideoIO", "Torch", "KinemaConsole", "KinemaFiles", "Plotting", "Smoothing",
                "PoseAnalysis",
            ],
            swiftSettings: strictSwift),

        // New projects (Kinema/LP or DeepLabCut layout) and frames to label, chosen from videos (DLC's extract_frames).
        .target(
            name: "ProjectSetup", dependencies: ["PoseData", "PoseFormats", "VideoIO", "KinemaFiles", "ConfigDecoding"],
            swiftSettings: strictSwift),

        // The labelling web app: a project's frames and labels, saved atomically with a backup, served on loopback.
        .target(
            name: "Labelling",
            dependencies: [
                "PoseFormats", "PoseData", "KinemaFiles", "ConfigDecoding", .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "NIOCore", package: "swift-nio"), .product(name: "Logging", package: "swift-log"),
            ],
            resources: [.copy("Web")], swiftSettings: strictSwift),

        // MARK: Ensemble Kalman smoothing
        .target(name: "Smoothing", dependencies: ["PoseFormats", "Plotting", "PythonFormats"], swiftSettings: strictSwift),

        // Filtering, plots and per-frame metrics of predictions (`kinema filter`, `kinema plot`, metrics beside video
        // predictions); no libtorch.
        .target(
            name: "PoseAnalysis", dependencies: ["PoseFormats", "Smoothing", "Plotting", "KinemaFiles"], swiftSettings: strictSwift),

        // MARK: Neural encoding
        .target(name: "NeuralData", dependencies: ["KinemaFiles", "PythonFormats", "ConfigDecoding"], swiftSettings: strictSwift),
        .target(
            name: "NeuralModels",
            dependencies: ["NeuralData", "ConfigDecoding", "KinemaFiles", "KinemaConsole", "Torch", "TorchNN", "TorchOptim"],
            swiftSettings: strictSwift),

        // MARK: Command line
        // `kinema smooth` lives in its own small target so that `kinema-smooth` can run it without loading libtorch
        // (loading libtorch_cpu costs ~0.6 s per process, more than a whole EKS job).
        .target(
            name: "SmoothCLI",
            dependencies: ["Smoothing", "KinemaConsole", .product(name: "ArgumentParser", package: "swift-argument-parser")],
            swiftSettings: strictSwift
        ),
        .systemLibrary(name: "CMalloc"),  // <malloc.h>: both executables tune glibc's allocator (ProcessPolicy)
        // The OpenMP wait policy libgomp reads when it is loaded, set in `main` before anything can load it (C: setenv
        // while the process has one thread), and given back to child processes once libtorch has read it (CTorch).
        .target(name: "CProcessStart"),
        // Threads, allocator and OpenMP wait policy, decided in one place and applied in the executables' `main`
        // (no libtorch, so kinema-smooth can use it).
        .target(name: "ProcessPolicy", dependencies: ["CMalloc", "CProcessStart"], swiftSettings: strictSwift),
        .executableTarget(
            name: "kinema-smooth", dependencies: ["SmoothCLI", "ProcessPolicy"], swiftSettings: strictSwift,
            linkerSettings: [.unsafeFlags(staticSwiftRuntime)]),
        .target(
            name: "KinemaCLI",
            dependencies: [
                "Torch", "TorchNN", "TorchOptim", "VideoIO", "PoseFormats", "PoseData", "PoseModels", "PosePrediction", "ProcessPolicy",
                "Smoothing", "NeuralData", "NeuralModels", "PythonFormats", "SmoothCLI", "KinemaConsole", "KinemaFiles", "SlurmJobs",
                "ProjectSetup", "PoseAnalysis", "Labelling", "ConfigDecoding",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
            ],
            swiftSettings: strictSwift
        ),
        .executableTarget(
            name: "kinema", dependencies: ["KinemaCLI", "ProcessPolicy", "Torch"], swiftSettings: strictSwift,
            linkerSettings: [.unsafeFlags(staticSwiftRuntime)]),

        // MARK: Tests
        // Where the suites find their data (fixtures in the repository, `shared/data` beside it).
        .target(name: "KinemaTestSupport", path: "Tests/Support", swiftSettings: strictSwift),
        .testTarget(name: "KinemaConsoleTests", dependencies: ["KinemaConsole"], swiftSettings: strictSwift),
        .testTarget(name: "SlurmJobsTests", dependencies: ["SlurmJobs"], swiftSettings: strictSwift),
        .testTarget(name: "ConfigDecodingTests", dependencies: ["ConfigDecoding"], swiftSettings: strictSwift),
        .testTarget(name: "PythonFormatsTests", dependencies: ["PythonFormats"], swiftSettings: strictSwift),
        .testTarget(name: "TorchTests", dependencies: ["Torch", "KinemaTestSupport"], swiftSettings: strictSwift),
        .testTarget(name: "TorchNNTests", dependencies: ["Torch", "TorchNN", "TorchOptim", "KinemaFiles"], swiftSettings: strictSwift),
        .testTarget(name: "VideoIOTests", dependencies: ["VideoIO", "KinemaFiles", "KinemaTestSupport"], swiftSettings: strictSwift),
        .testTarget(
            name: "PoseFormatsTests", dependencies: ["PoseFormats", "KinemaTestSupport"], exclude: ["Fixtures"], swiftSettings: strictSwift),
        .testTarget(
            name: "SmoothingTests", dependencies: ["Smoothing", "PoseFormats", "Plotting", "KinemaTestSupport"], exclude: ["Fixtures"],
            swiftSettings: strictSwift),
        .testTarget(
            name: "PoseTests",
            dependencies: [
                "PoseData", "PoseModels", "PoseFormats", "ProcessPolicy", "Torch", "TorchNN", "KinemaFiles", "VideoIO", "KinemaTestSupport",
            ],
            swiftSettings: strictSwift),
        .testTarget(
            name: "PosePredictionTests",
            dependencies: [
                "PosePrediction", "PoseModels", "PoseData", "PoseFormats", "VideoIO", "Torch", "Plotting", "Smoothing", "KinemaTestSupport",
            ],
            swiftSettings: strictSwift),
        .testTarget(
            name: "PoseAnalysisTests",
            dependencies: [
                "PoseAnalysis", "PoseFormats", "Plotting", "PosePrediction", "PoseModels", "PoseData", "KinemaTestSupport",
            ],
            exclude: ["Fixtures"], swiftSettings: strictSwift),
        .testTarget(
            name: "NeuralTests",
            dependencies: ["NeuralData", "NeuralModels", "PythonFormats", "Torch", "TorchNN", "TorchOptim", "KinemaConsole"],
            swiftSettings: strictSwift),
        .testTarget(
            name: "ProjectSetupTests",
            dependencies: ["ProjectSetup", "PoseData", "PoseFormats", "VideoIO", "KinemaTestSupport"], swiftSettings: strictSwift),
        .testTarget(
            name: "LabellingTests", dependencies: ["Labelling", "PoseData", "PoseFormats", "KinemaTestSupport"], swiftSettings: strictSwift),
        .testTarget(
            name: "KinemaCLITests",
            dependencies: [
                "KinemaCLI", "PoseData", "PoseFormats", "PosePrediction", "Torch", "TorchNN", "KinemaTestSupport",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
            ],
            swiftSettings: strictSwift),
    ],
    cxxLanguageStandard: cxxStandard
)
