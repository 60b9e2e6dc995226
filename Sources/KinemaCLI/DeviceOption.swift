// `--device`, declared once for every command that computes with tensors, and resolved in one place: the same
// one-line error everywhere when the device is not there. `--precision`, the pose commands' autocast, beside it.
import ArgumentParser
import SmoothCLI
import Torch

/// `--device cpu|cuda|cuda:N|auto`: where a command's tensors are computed.
struct DeviceOption: ParsableArguments {
    @Option(
        help:
            "Where tensors are computed: cpu, cuda (cuda:0), cuda:N, or auto (CUDA when this machine has it, else the CPU). CUDA needs a CUDA build of libtorch (KINEMA_LIBTORCH)."
    )
    var device = "cpu"

    func validate() throws {
        if device.lowercased() == "auto" { return }
        do { _ = try Device(parsing: device) } catch { throw ValidationError("--device: \(error.message)") }
    }

    /// The device, checked on this machine before anything is read or written: loads libtorch (so a missing libtorch is
    /// this one line too), and for CUDA its backend; `auto` is CUDA device 0 when there is one, else the CPU.
    func target() throws -> Device {
        do throws(TorchError) {
            try Runtime.loadLibtorch()
            if device.lowercased() == "auto" { return Runtime.cudaDeviceCount > 0 ? .cuda(0) : .cpu }
            let chosen = try Device(parsing: device)
            try chosen.checkAvailable()
            return chosen
        } catch {
            throw PathProblem(error.op == "libtorch" ? error.message : "--device \(device): \(error.message)")
        }
    }
}

extension Precision: ExpressibleByArgument {}

/// `--precision fp32|bf16|fp16`: the pose networks' forward passes under libtorch's autocast.
struct PrecisionOption: ParsableArguments {
    @Option(
        help: ArgumentHelp(
            "The forward passes' arithmetic: fp32, bf16 or fp16 (libtorch autocast: convolutions in 16 bits, losses and read-out in 32).",
            discussion: "bf16 and fp16 are for CUDA devices; training refuses fp16, which would need loss scaling."))
    var precision = Precision.fp32

    /// The precision for `device`: 16-bit autocast is for CUDA (libtorch's CPU autocast leaves `aten::convolution`,
    /// which Kinema's layers call, in float32, so on the CPU it would change almost nothing and say otherwise).
    func resolved(on device: Device) throws -> Precision {
        guard precision != .fp32, case .cuda = device else {
            if precision == .fp32 { return precision }
            throw PathProblem(
                "--precision \(precision): 16-bit autocast is for CUDA devices (on the CPU libtorch leaves the networks' convolutions in float32); use --precision fp32 with --device \(device)"
            )
        }
        return precision
    }
}
