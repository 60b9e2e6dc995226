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
            _ = printVideo()
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
        if !printVideo() { throw ExitCode.failure }
    }

    /// FFmpeg's versions (loading it), or why it could not be loaded; false then.
    private func printVideo() -> Bool {
        do {
            print("video     \(try ffmpegVersions())")
            return true
        } catch {
            print("video     not loaded: \(error)")
            return false
        }
    }
}
