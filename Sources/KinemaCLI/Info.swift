// `kinema info`: which libtorch, threads, wait policy, devices and FFmpeg this process runs with.
import ArgumentParser
import Foundation
import ProcessPolicy
import Torch
import VideoIO

/// `kinema info`: what Kinema runs on.
struct Info: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Show libtorch (version, location, threads, devices) and FFmpeg versions.",
        discussion: "Use it first when something does not work: it says which libraries Kinema loaded and whether CUDA is usable."
    )

    func run() async throws {
        do {
            try Runtime.loadLibtorch()
        } catch {
            print("libtorch  not loaded: \(error.message)")
            print("video     \(ffmpegVersions())")
            throw ExitCode.failure
        }
        print("libtorch  \(Runtime.torchVersion) at \(Runtime.libtorchDirectory ?? "unknown location") (shim \(Runtime.shimPath))")
        print(
            "threads   \(Runtime.threads) intra-op (of \(ProcessInfo.processInfo.activeProcessorCount) cores); idle threads wait: \(ProcessPolicy.waitPolicyDescription)"
        )
        if let why = Runtime.loadCUDA() {
            print("devices   cpu (CUDA unavailable: \(why))")
        } else {
            let n = Runtime.cudaDeviceCount
            print("devices   cpu" + (0..<n).map { ", cuda:\($0)" }.joined())
        }
        print("video     \(ffmpegVersions())")
    }
}
