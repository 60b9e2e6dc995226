import ArgumentParser
import Foundation
import Torch
import TorchNN
import TorchOptim

/// `kinema bench torch`: ResNet-50 training steps and inference, Kinema against PyTorch's Python API on the same
/// libtorch version, same threads, same shapes.
struct BenchTorch: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "torch",
        abstract: "ResNet-50 training step and inference: Kinema vs PyTorch (Python) on the same libtorch.",
        discussion: """
            A training step is forward + cross-entropy + backward + Adam on a batch of 3×SIZE×SIZE images; inference is a \
            no-grad forward pass in eval mode. Both sides warm up first, then the steps are timed and the median is kept. \
            The PyTorch side needs a Python with torch: scripts/bench-venv.sh makes one in .venv-bench.
            """
    )

    @Option(help: "Network depth (18, 34, 50, 101).") var depth = 50
    @Option(help: "Image size (square).") var size = 256
    @Option(help: "Batch size of a training step.") var trainBatch = 16
    @Option(help: "Batch size of inference.") var inferBatch = 32
    @Option(help: "Timed iterations per measurement (after one warm-up).") var iterations = 3
    @Option(help: "Device: cpu or cuda[:N].") var device = "cpu"
    @Option(help: "Python with torch for the baseline (default: ./.venv-bench/bin/python).") var python: String?

    func run() async throws {
        let dev = try Device(parsing: device)
        try dev.checkAvailable()
        let threads = Runtime.threads
        print(
            "ResNet-\(depth), \(size)×\(size), train batch \(trainBatch), infer batch \(inferBatch), \(dev), \(threads) threads, libtorch \(Runtime.torchVersion)"
        )

        let (train, infer) = try measureKinema(dev)
        var baseTrain: Double?, baseInfer: Double?
        if let python = baselinePython(python), let script = benchScript("torch_baseline.py") {
            let out = try runProcess(
                python,
                [
                    script, "\(depth)", "\(size)", "\(trainBatch)", "\(inferBatch)",
                    "\(iterations)", dev.description, "\(threads)",
                ])
            let numbers = out.split(separator: "\n").last.map { $0.split(separator: " ").compactMap { Double($0) } } ?? []
            if numbers.count == 2 { (baseTrain, baseInfer) = (numbers[0], numbers[1]) }
        }
        let trainName = "resnet\(depth)_train_step_b\(trainBatch)_\(size)", inferName = "resnet\(depth)_infer_b\(inferBatch)_\(size)"
        if let baseTrain { benchLine(trainName + "_pytorch", Double(trainBatch) / baseTrain, "images/s", ratio: 1, baseline: "pytorch") }
        benchLine(trainName, Double(trainBatch) / train, "images/s", ratio: baseTrain.map { $0 / train }, baseline: "pytorch")
        if let baseInfer { benchLine(inferName + "_pytorch", Double(inferBatch) / baseInfer, "images/s", ratio: 1, baseline: "pytorch") }
        benchLine(inferName, Double(inferBatch) / infer, "images/s", ratio: baseInfer.map { $0 / infer }, baseline: "pytorch")
    }

    /// Median seconds per training step and per inference batch.
    private func measureKinema(_ dev: Device) throws -> (Double, Double) {
        try Runtime.manualSeed(0)
        let store = ParameterStore(device: dev)
        let net = try ResNet(store.root, depth: depth)
        let optimizer = Adam(store, learningRate: 1e-3)
        let x = try Tensor.randn([trainBatch, 3, size, size], device: dev)
        let y = try Tensor.randint(0, 1000, [trainBatch], device: dev)
        func step() throws {
            try store.zeroGrad()
            let loss = try crossEntropy(net(x, training: true), y)
            try loss.backward()
            try optimizer.step()
            _ = try loss.item()
        }
        try step()
        let train = try median((0..<iterations).map { _ in try timed(step) })
        let xi = try Tensor.randn([inferBatch, 3, size, size], device: dev)
        func inference() throws {
            try withNoGrad { _ = try net(xi, training: false).sum().item() }
        }
        try inference()
        let infer = try median((0..<iterations).map { _ in try timed(inference) })
        return (train, infer)
    }
}
