// libtorch is loaded by the first tensor, not at start-up (CTorch's loader), and `--device` is resolved in one place:
// what the built `kinema` opens (glibc's LD_DEBUG=files lists every library the dynamic loader maps), what it says when
// libtorch is missing or the device is not there, and that libgomp still gets kinema's wait policy.
import Foundation
import KinemaTestSupport
import PoseData
import Testing
import Torch

@Suite("libtorch loaded when first needed; --device", .serialized)
struct LazyLibtorchTests {
    /// A folder that cannot hold libtorch.
    static let noLibtorch = ["KINEMA_LIBTORCH": "/nonexistent"]

    /// The libraries the dynamic loader opened while `kinema arguments…` ran (LD_DEBUG=files writes one file per
    /// process), with the run's result.
    static func librariesOpened(_ arguments: [String], in dir: URL) throws -> (CommandResult, String) {
        let log = dir.appendingPathComponent("ld-\(UUID().uuidString)")
        let result = try KinemaProcess.run(
            arguments, in: dir, environment: ["LD_DEBUG": "files", "LD_DEBUG_OUTPUT": log.path])
        let files = try FileManager.default.contentsOfDirectory(atPath: dir.path).filter { $0.hasPrefix(log.lastPathComponent) }
        let text = try files.map { try String(contentsOf: dir.appendingPathComponent($0), encoding: .utf8) }.joined()
        for file in files { try FileManager.default.removeItem(at: dir.appendingPathComponent(file)) }
        return (result, text)
    }

    @Test("Help, smoothing and other commands without tensors never open libtorch or the shim; `kinema info` opens both")
    func commandsWithoutTensorsDoNotOpenLibtorch() throws {
        let dir = try TestFiles.temporaryDirectory("lazy-libtorch-open")
        defer { try? FileManager.default.removeItem(at: dir) }
        let input = TestFiles.fixtures("SmoothingTests").appendingPathComponent("paw/input")
        let members = (0..<3).map { input.appendingPathComponent("seed\($0)_left.csv").path }
        let commands: [[String]] = [
            ["--help"], ["smooth", "--help"], ["video", "--help"], ["filter", "--help"], ["label", "--help"],
            ["jobs", "--help"], ["predict", "--help"],
            ["smooth", "singlecam", "--input-files"] + members + ["--save-dir", dir.appendingPathComponent("smoothed").path, "--s", "5"],
        ]
        for arguments in commands {
            let (result, opened) = try Self.librariesOpened(arguments, in: dir)
            #expect(result.status == 0, "\(result)")
            #expect(opened.contains("libc.so.6"), "LD_DEBUG wrote nothing for \(arguments): the check would be vacuous")
            #expect(!opened.contains("libtorch_cpu.so") && !opened.contains("libKinemaTorchShim.so"), "\(arguments) opened libtorch")
        }
        #expect(FileManager.default.fileExists(atPath: dir.appendingPathComponent("smoothed/eks_singlecam.csv").path))
        // The same observation sees libtorch when a command does load it.
        let (info, opened) = try Self.librariesOpened(["info"], in: dir)
        #expect(info.status == 0, "\(info)")
        #expect(opened.contains("libtorch_cpu.so") && opened.contains("libKinemaTorchShim.so"), "\(opened.suffix(2000))")
        #expect(info.stdout.contains("libKinemaTorchShim.so"), "\(info)")
    }

    @Test("Without libtorch, commands that need no tensors run and those that compute say so in one line, writing nothing")
    func missingLibtorchIsOneLine() throws {
        let dir = try TestFiles.temporaryDirectory("lazy-libtorch-missing")
        defer { try? FileManager.default.removeItem(at: dir) }
        for arguments in [["smooth", "--help"], ["video", "--help"], ["filter", "--help"], ["--help"]] {
            let result = try KinemaProcess.run(arguments, in: dir, environment: Self.noLibtorch)
            #expect(result.status == 0 && result.stdout.contains("USAGE"), "\(result)")
        }
        let computing: [[String]] = [
            ["predict", "model", "video.mp4", "--output", "predicted"],
            ["train", "config.yaml", "--model-dir", "trained"],
            ["neural", "train", "--data", "data", "--out", "neural-model"],
            ["info"],
        ]
        for arguments in computing {
            let result = try KinemaProcess.run(arguments, in: dir, environment: Self.noLibtorch)
            #expect(result.status == 1, "\(result)")
            let lines = (arguments == ["info"] ? result.stdoutLines.prefix(1) : result.stderrLines[...])
            #expect(lines.count == 1, "\(result)")
            #expect(
                lines.first?.contains(
                    "libtorch could not be loaded from /nonexistent: /nonexistent/libc10.so: cannot open shared object file")
                    == true, "\(result)")
            #expect(lines.first?.contains("run `make setup` or set KINEMA_LIBTORCH=<dir>") == true, "\(result)")
        }
        #expect(try FileManager.default.contentsOfDirectory(atPath: dir.path).isEmpty, "something was written")
    }

    @Test(
        "--device cuda on a machine without CUDA: one line, status 1, nothing written; cpu and auto get past the check",
        .enabled(if: Runtime.cudaDeviceCount == 0, "this machine has CUDA: the no-CUDA error cannot be observed here"))
    func deviceOption() throws {
        let dir = try TestFiles.temporaryDirectory("lazy-libtorch-device")
        defer { try? FileManager.default.removeItem(at: dir) }
        let expected = "--device cuda: this libtorch (\(Runtime.libtorchDirectory ?? "?"), \(Runtime.torchVersion)) has no CUDA ("
        for arguments in [
            ["predict", "model", "video.mp4", "--output", "predicted", "--device", "cuda"],
            ["train", "config.yaml", "--model-dir", "trained", "--device", "cuda"],
            ["neural", "train", "--data", "data", "--out", "neural-model", "--device", "cuda"],
            ["neural", "predict", "--model", "m", "--data", "data", "--out", "p", "--device", "cuda"],
        ] {
            let result = try KinemaProcess.run(arguments, in: dir)
            #expect(result.status == 1 && result.stderrLines.count == 1, "\(result)")
            #expect(result.stderrLines.first?.contains(expected) == true, "\(result)")
            #expect(result.stderrLines.first?.hasSuffix("; use --device cpu or auto") == true, "\(result)")
        }
        #expect(try FileManager.default.contentsOfDirectory(atPath: dir.path).isEmpty, "something was written")
        // A device that is no device is a usage error, before anything is loaded.
        let bad = try KinemaProcess.run(["train", "config.yaml", "--device", "tpu"], in: dir, environment: Self.noLibtorch)
        #expect(bad.status != 0 && bad.stderr.contains("--device: 'tpu' is not a device; use cpu, cuda or cuda:N"), "\(bad)")
        // cpu and auto get past the device check to the next problem: the missing config file.
        for device in ["cpu", "auto"] {
            let result = try KinemaProcess.run(["train", "config.yaml", "--model-dir", "trained", "--device", device], in: dir)
            #expect(result.status == 1 && !result.stderr.contains("--device"), "\(result)")
            #expect(result.stderr.contains("config.yaml"), "\(result)")
        }
    }

    @Test("--device auto trains and predicts on this machine's CPU")
    func autoTrainsAndPredicts() throws {
        let dir = try TestFiles.temporaryDirectory("lazy-libtorch-auto")
        defer { try? FileManager.default.removeItem(at: dir) }
        let project = try SyntheticProject.write(
            to: dir.appendingPathComponent("project").path, labeledFrames: 8, videoFrames: 3, size: 64, modelSize: 64)
        try KinemaProcess.succeed(
            [
                "train", project.configPath, "--model-dir", "model", "--epochs", "1", "--image-size", "64", "--no-videos", "--device",
                "auto",
            ],
            in: dir, timeout: 300)
        #expect(FileManager.default.fileExists(atPath: dir.appendingPathComponent("model/config.yaml").path))
        let video = project.videoPath
        let predicted = try KinemaProcess.succeed(
            ["predict", "model", video, "--output", "predicted", "--device", "auto"], in: dir, timeout: 300)
        #expect(predicted.stdoutLines.contains { $0.hasSuffix(".csv") }, "\(predicted)")
    }

    @Test("libgomp gets OMP_WAIT_POLICY=PASSIVE from kinema (its spin count is 0), the user's setting wins, and info says so")
    func waitPolicyBeforeLibgompLoads() throws {
        let dir = try TestFiles.temporaryDirectory("lazy-libtorch-omp")
        defer { try? FileManager.default.removeItem(at: dir) }
        // OMP_DISPLAY_ENV=verbose makes libgomp print the settings it read when it was loaded. Its OMP_WAIT_POLICY line
        // says PASSIVE for the default too; the spin count tells them apart (default 300000, PASSIVE 0, ACTIVE 3e10).
        let chosen = try KinemaProcess.run(["info"], in: dir, environment: ["OMP_DISPLAY_ENV": "verbose"])
        #expect(chosen.status == 0, "\(chosen)")
        #expect(chosen.stderr.contains("GOMP_SPINCOUNT = '0'"), "\(chosen)")
        #expect(chosen.stdout.contains("idle threads wait: OMP_WAIT_POLICY=PASSIVE (kinema's choice"), "\(chosen)")
        let users = try KinemaProcess.run(["info"], in: dir, environment: ["OMP_DISPLAY_ENV": "verbose", "OMP_WAIT_POLICY": "ACTIVE"])
        #expect(users.stderr.contains("GOMP_SPINCOUNT = '30000000000'"), "\(users)")
        #expect(users.stdout.contains("idle threads wait: OMP_WAIT_POLICY=ACTIVE\n"), "\(users)")
    }
}
