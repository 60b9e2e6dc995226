// `--device` and `--precision` on every pose command (issue #12 item 6): on a machine without CUDA, `--device cuda`
// is the same one line for train, predict (one model, a batch, an ensemble), evaluate and demo, before anything is
// read or written; training refuses fp16 in one line; a precision that is none is a usage error.
import Foundation
import KinemaTestSupport
import Testing
import Torch

@Suite("pose commands: --device and --precision", .serialized)
struct PoseDeviceCLITests {
    @Test(
        "--device cuda without CUDA: one line, status 1, nothing written, for every pose command",
        .enabled(if: Runtime.cudaDeviceCount == 0, "this machine has CUDA: the no-CUDA error cannot be observed here"))
    func cudaRefusedInOneLine() throws {
        let dir = try TestFiles.temporaryDirectory("pose-device-cuda")
        defer { try? FileManager.default.removeItem(at: dir) }
        let commands: [[String]] = [
            ["train", "config.yaml", "--model-dir", "trained"],
            ["train", "config.yaml", "--model-dir", "trained", "--distributed"],
            ["predict", "model", "video.mp4", "--output", "predicted"],
            ["predict", "model", "--videos", "video.mp4", "--output", "predicted"],
            ["predict", "ensemble", "video.mp4"],
            ["evaluate", "model"],
            ["demo", "--directory", "demo"],
        ]
        for arguments in commands {
            for device in ["cuda", "cuda:1"] {
                let result = try KinemaProcess.run(arguments + ["--device", device], in: dir)
                #expect(result.status == 1 && result.stderrLines.count == 1, "\(arguments): \(result)")
                let line = result.stderrLines.first ?? ""
                #expect(line.contains("--device \(device): this libtorch (") && line.contains(") has no CUDA ("), "\(result)")
                #expect(line.hasSuffix("; use --device cpu or auto"), "\(result)")
            }
        }
        #expect(try FileManager.default.contentsOfDirectory(atPath: dir.path).isEmpty, "something was written")
    }

    @Test("--precision: fp16 training refused in one line; an unknown precision is a usage error")
    func precisionChecks() throws {
        let dir = try TestFiles.temporaryDirectory("pose-device-precision")
        defer { try? FileManager.default.removeItem(at: dir) }
        for arguments in [["train", "config.yaml", "--model-dir", "trained"], ["demo", "--directory", "demo"]] {
            let result = try KinemaProcess.run(arguments + ["--precision", "fp16"], in: dir)
            #expect(result.status == 1 && result.stderrLines.count == 1, "\(result)")
            #expect(
                result.stderrLines.first?.contains("--precision fp16: training in float16 needs loss scaling, which Kinema does not do")
                    == true, "\(result)")
        }
        let bad = try KinemaProcess.run(["predict", "model", "video.mp4", "--precision", "fp64"], in: dir)
        #expect(bad.status != 0 && bad.stderr.contains("--precision") && bad.stderr.contains("fp64"), "\(bad)")
        // 16-bit autocast is for CUDA: on the CPU, one line for every pose command.
        for arguments in [
            ["train", "config.yaml", "--model-dir", "trained"], ["predict", "model", "video.mp4"], ["evaluate", "model"],
            ["demo", "--directory", "demo"],
        ] {
            let result = try KinemaProcess.run(arguments + ["--precision", "bf16", "--device", "cpu"], in: dir)
            #expect(result.status == 1 && result.stderrLines.count == 1, "\(result)")
            #expect(
                result.stderrLines.first?.contains("--precision bf16: 16-bit autocast is for CUDA devices") == true
                    && result.stderrLines.first?.hasSuffix("use --precision fp32 with --device cpu") == true, "\(result)")
        }
        #expect(try FileManager.default.contentsOfDirectory(atPath: dir.path).isEmpty, "something was written")
    }
}
