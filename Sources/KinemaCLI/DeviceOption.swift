// `--device`, declared once for every command that computes with tensors, and resolved in one place: the same
// one-line error everywhere when the device is not there.
import ArgumentParser
import SmoothCLI
import Torch

/// `--device cpu|cuda|cuda:N|auto`: where a command's tensors are computed.
struct DeviceOption: ParsableArguments {
    @Option(help: "Where tensors are computed: cpu, cuda (cuda:0), cuda:N, or auto (CUDA when this machine has it, else the CPU).")
    var device = "cpu"

    func validate() throws {
        if device.lowercased() == "auto" { return }
        do { _ = try Device(parsing: device) } catch { throw ValidationError("--device: \(error.message)") }
    }

    /// The device, checked on this machine before anything is read or written: loads libtorch (so a missing libtorch is
    /// this one line too), and for CUDA its backend. `placesTensors: false` is for a command whose tensors are not yet
    /// placed on the chosen device (pose models compute on the CPU): `auto` then means the CPU, and CUDA is refused in
    /// words rather than ignored.
    func target(placesTensors: Bool = true) throws -> Device {
        do throws(TorchError) {
            try Runtime.loadLibtorch()
            if device.lowercased() == "auto" {
                return placesTensors && Runtime.cudaDeviceCount > 0 ? .cuda(0) : .cpu
            }
            let chosen = try Device(parsing: device)
            try chosen.checkAvailable()
            if chosen != .cpu, !placesTensors {
                throw TorchError(.unavailable, "this command computes on the CPU only so far; use --device cpu", op: "Device")
            }
            return chosen
        } catch {
            throw PathProblem(error.op == "libtorch" ? error.message : "--device \(device): \(error.message)")
        }
    }
}
