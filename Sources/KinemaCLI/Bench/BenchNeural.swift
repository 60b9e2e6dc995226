import ArgumentParser
import Foundation
import NeuralData
import NeuralModels
import Torch
import TorchNN
import TorchOptim

/// `kinema bench neural`: DwiseNeuro training steps and inference, Kinema against the same model in
/// PyTorch's Python API on the same libtorch version, same threads, same shapes.
struct BenchNeural: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "neural",
        abstract: "DwiseNeuro training step and inference: Kinema vs PyTorch (Python) on the same libtorch.",
        discussion: """
            A training step is forward (one mouse's readout) + Poisson loss + backward + AdamW on a batch of \
            (5, 16, canvas, canvas) windows; inference is a no-grad forward in eval mode. Both sides warm up, then \
            the median of the timed iterations is kept. Peak memory is each process's maximum resident \
            set size (host memory). Defaults: tiny preset (2 mice of 40 and 48 neurons, \
            32×32 canvas) on CPU; --preset full --device cuda --train-batch 32 is the GPU figure of the issue.
            """
    )

    @Option(help: "Model preset: tiny or full.") var preset = "tiny"
    @Option(help: "Batch size of a training step.") var trainBatch = 8
    @Option(help: "Batch size of inference.") var inferBatch = 32
    @Option(help: "Timed iterations per measurement (after one warm-up).") var iterations = 5
    @Option(help: "Device: cpu or cuda[:N].") var device = "cpu"
    @Option(help: "Python with torch for the baseline (default: ./.venv-bench/bin/python).") var python: String?

    func run() throws {
        let dev = try Device(parsing: device)
        try dev.checkAvailable()
        let config = try Self.modelConfig(preset)
        let threads = Runtime.threads
        print(
            "DwiseNeuro \(preset), canvas \(config.canvas), neurons \(config.readoutNeurons.prefix(3))…, train batch \(trainBatch), infer batch \(inferBatch), \(dev), \(threads) threads, libtorch \(Runtime.torchVersion)"
        )
        let (train, infer) = try measureKinema(config, dev)
        let kinemaPeak = peakMemoryMiB(dev)
        var baseline: [Double] = []
        if let python = baselinePython(python), let script = benchScript("neural_baseline.py") {
            let neurons = config.readoutNeurons.map(String.init).joined(separator: ",")
            let out = try runProcess(
                python,
                [
                    script, preset, neurons, "\(config.canvas)", "\(trainBatch)", "\(inferBatch)",
                    "\(iterations)", dev.description, "\(threads)",
                ])
            baseline = out.split(separator: "\n").last.map { $0.split(separator: " ").compactMap { Double($0) } } ?? []
        }
        let name = "dwiseneuro_\(preset)"
        let hasBaseline = baseline.count == 3
        if hasBaseline {
            benchLine("\(name)_train_b\(trainBatch)_pytorch", Double(trainBatch) / baseline[0], "samples/s", ratio: 1, baseline: "pytorch")
        }
        benchLine(
            "\(name)_train_b\(trainBatch)", Double(trainBatch) / train, "samples/s", ratio: hasBaseline ? baseline[0] / train : nil,
            baseline: "pytorch")
        if hasBaseline {
            benchLine("\(name)_infer_b\(inferBatch)_pytorch", Double(inferBatch) / baseline[1], "samples/s", ratio: 1, baseline: "pytorch")
        }
        benchLine(
            "\(name)_infer_b\(inferBatch)", Double(inferBatch) / infer, "samples/s", ratio: hasBaseline ? baseline[1] / infer : nil,
            baseline: "pytorch")
        // Memory: lower is better, so the ratio is baseline / Kinema as for the throughputs.
        if hasBaseline { benchLine("\(name)_peak_memory_pytorch", baseline[2], "MiB", ratio: 1, baseline: "pytorch") }
        benchLine("\(name)_peak_memory", kinemaPeak, "MiB", ratio: hasBaseline ? baseline[2] / kinemaPeak : nil, baseline: "pytorch")
    }

    static func modelConfig(_ preset: String) throws -> DwiseNeuroConfig {
        switch preset {
        case "tiny": return .tiny(neurons: [40, 48])
        case "full": return .full()
        default: throw ValidationError("--preset must be tiny or full")
        }
    }

    /// Median seconds per training step and per inference batch.
    private func measureKinema(_ config: DwiseNeuroConfig, _ dev: Device) throws -> (Double, Double) {
        try Runtime.manualSeed(0)
        let model = try DwiseNeuro(config: config, device: dev)
        let optimizer = AdamW(model.store, learningRate: 1e-3, weightDecay: 0.05)
        let c = config.canvas, t = config.frames, n = config.readoutNeurons[0]
        let x = try (Tensor.rand([trainBatch, 5, t, c, c], device: dev) * 255)
        let y = try (Tensor.rand([trainBatch, n, t], device: dev) * 2).floor()
        func step() throws {
            try model.store.zeroGrad()
            let p = try model(x, mouse: 0, training: true)
            let loss = try (p - y * (p + 1e-8).log()).sum() / Double(trainBatch)
            try loss.backward()
            try optimizer.step()
            _ = try loss.item()
        }
        try step()
        let train = try median((0..<iterations).map { _ in try timed(step) })
        let xi = try (Tensor.rand([inferBatch, 5, t, c, c], device: dev) * 255)
        func inference() throws {
            try withNoGrad { _ = try model(xi, mouse: 0, training: false).sum().item() }
        }
        try inference()
        let infer = try median((0..<iterations).map { _ in try timed(inference) })
        return (train, infer)
    }

    /// Peak resident (host) memory of this process in MiB (`VmHWM` of /proc/self/status).
    private func peakMemoryMiB(_ dev: Device) -> Double {
        guard let status = try? String(contentsOfFile: "/proc/self/status", encoding: .utf8),
            let line = status.split(separator: "\n").first(where: { $0.hasPrefix("VmHWM:") }),
            let kib = line.split(separator: " ").compactMap({ Double($0) }).first
        else { return .nan }
        return kib / 1024
    }
}
