import ArgumentParser
import Foundation
import Torch
import TorchNN
import TorchOptim

/// `kinema bench torch`: ResNet-50 training steps and inference, Kinema against PyTorch's Python API on the same
/// libtorch version, same threads, same shapes, in interleaved pairs.
struct BenchTorch: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "torch",
        abstract: "ResNet-50 training step and inference: Kinema vs PyTorch (Python) on the same libtorch.",
        discussion: """
            A training step is forward + cross-entropy + backward + Adam on a batch of 3×SIZE×SIZE images; inference is a \
            no-grad forward pass in eval mode. Both sides warm up first; then Kinema and PyTorch (one Python process kept \
            alive) alternate run by run, so a busy machine slows both halves of a pair alike. Each pair gives a ratio \
            (PyTorch's seconds / Kinema's); the median ratio is reported, with the pairs' spread (min–max). \
            The PyTorch side needs a Python with torch: scripts/bench-venv.sh makes one in .venv-bench.
            """
    )

    @Option(help: "Network depth (18, 34, 50, 101).") var depth = 50
    @Option(help: "Image size (square).") var size = 256
    @Option(help: "Batch size of a training step.") var trainBatch = 16
    @Option(help: "Batch size of inference.") var inferBatch = 32
    @Option(help: "Interleaved (Kinema, PyTorch) pairs per measurement, after one warm-up run each.") var pairs = 5
    @Option(help: "What to measure: both, train or infer.") var measure = Measure.both
    @Option(help: "Kinema's formulation: fast (channels-last, batch norm folded for inference) or plain (NCHW, unfolded).")
    var kinemaPath = KinemaPath.fast
    @Flag(help: "Run Kinema alone (for instruction counts with perf stat).") var noBaseline = false
    @Option(help: "Device: cpu or cuda[:N].") var device = "cpu"
    @Option(help: "Python with torch for the baseline (default: ./.venv-bench/bin/python).") var python: String?

    enum Measure: String, ExpressibleByArgument { case both, train, infer }
    enum KinemaPath: String, ExpressibleByArgument { case fast, plain }

    func validate() throws {
        guard pairs >= 1 else { throw ValidationError("--pairs must be at least 1") }
    }

    func run() async throws {
        let dev = try Device(parsing: device)
        try dev.checkAvailable()
        let threads = Runtime.threads
        print(
            "ResNet-\(depth), \(size)×\(size), train batch \(trainBatch), infer batch \(inferBatch), \(dev), \(threads) threads, libtorch \(Runtime.torchVersion), Kinema \(kinemaPath.rawValue), \(pairs) pairs"
        )
        var baseline: PyTorchServer?
        if !noBaseline, let python = baselinePython(python), let script = benchScript("torch_baseline.py") {
            baseline = try PyTorchServer(
                python: python,
                arguments: [script, "\(depth)", "\(size)", "\(trainBatch)", "\(inferBatch)", dev.description, "\(threads)"])
        }
        defer { baseline?.close() }

        let kinema = try KinemaResNet(
            depth: depth, size: size, trainBatch: trainBatch, inferBatch: inferBatch, path: kinemaPath, device: dev)
        let runs: [(task: String, batch: Int, name: String, body: () throws -> Void)] = [
            ("train", trainBatch, "resnet\(depth)_train_step_b\(trainBatch)_\(size)", kinema.step),
            ("infer", inferBatch, "resnet\(depth)_infer_b\(inferBatch)_\(size)", kinema.infer),
        ]
        for run in runs where measure == .both || measure.rawValue == run.task {
            // Warm-up, then pairs: Kinema, PyTorch, Kinema, PyTorch, ...
            try run.body()
            _ = try baseline?.time(run.task)
            var ours: [Double] = [], theirs: [Double] = []
            for _ in 0..<pairs {
                ours.append(try timed(run.body))
                if let baseline { theirs.append(try baseline.time(run.task)) }
            }
            let perSecond = { (seconds: Double) in Double(run.batch) / seconds }
            guard !theirs.isEmpty else {
                benchLine(run.name, perSecond(median(ours)), "images/s", ratio: nil, baseline: "pytorch")
                continue
            }
            let ratios = zip(theirs, ours).map { $0 / $1 }
            benchLine(run.name + "_pytorch", perSecond(median(theirs)), "images/s", ratio: 1, baseline: "pytorch")
            benchLine(run.name, perSecond(median(ours)), "images/s", ratio: median(ratios), baseline: "pytorch")
            print(
                String(
                    format: "  %@: %d pairs, ratio min %.3f median %.3f max %.3f", run.name, ratios.count, ratios.min()!,
                    median(ratios), ratios.max()!))
        }
    }
}

/// Kinema's side: a torchvision ResNet classifier, a training step (forward, cross-entropy, backward, Adam) and a
/// no-grad eval forward.
private final class KinemaResNet {
    let store: ParameterStore
    let net: ResNet
    let optimizer: Adam
    let path: BenchTorch.KinemaPath
    let x: Tensor, y: Tensor, xi: Tensor

    init(depth: Int, size: Int, trainBatch: Int, inferBatch: Int, path: BenchTorch.KinemaPath, device: Device) throws {
        try Runtime.manualSeed(0)
        store = ParameterStore(device: device)
        net = try ResNet(store.root, depth: depth)
        optimizer = Adam(store, learningRate: 1e-3)
        self.path = path
        x = try Tensor.randn([trainBatch, 3, size, size], device: device)
        y = try Tensor.randint(0, 1000, [trainBatch], device: device)
        xi = try Tensor.randn([inferBatch, 3, size, size], device: device)
    }

    func logits(_ images: Tensor, training: Bool) throws -> Tensor {
        switch path {
        case .fast: return try net(images, training: training)
        case .plain:
            let f = try net.features(images, training: training, layout: .contiguous, foldBatchNorm: false)
            return try net.classify(f)
        }
    }

    func step() throws {
        try store.zeroGrad()
        let loss = try crossEntropy(logits(x, training: true), y)
        try loss.backward()
        try optimizer.step()
        _ = try loss.item()
    }

    func infer() throws {
        try withNoGrad { _ = try logits(xi, training: false).sum().item() }
    }
}

/// PyTorch's side: one Python process (scripts/bench/torch_baseline.py) that runs a timed training step or inference
/// batch per request and answers its seconds, so its runs interleave with Kinema's.
private final class PyTorchServer {
    let process = Process()
    let requests: FileHandle
    let answers: UnsafeMutablePointer<FILE>

    init(python: String, arguments: [String]) throws {
        signal(SIGPIPE, SIG_IGN)  // a baseline that died is reported by `time`, not by killing Kinema
        process.executableURL = URL(fileURLWithPath: python)
        process.arguments = arguments
        let input = Pipe(), output = Pipe()
        (process.standardInput, process.standardOutput) = (input, output)
        do { try process.run() } catch { throw BenchError("cannot run \(python): \(error.localizedDescription)") }
        requests = input.fileHandleForWriting
        guard let answers = fdopen(dup(output.fileHandleForReading.fileDescriptor), "r") else {
            throw BenchError("cannot read the answers of \(python)")
        }
        self.answers = answers
        guard let first = readLine(), first == "ready" else {
            throw BenchError("the PyTorch baseline did not start (\(python) \(arguments.joined(separator: " ")); see its message above")
        }
    }

    /// Seconds of one `task` (train or infer) run by PyTorch.
    func time(_ task: String) throws -> Double {
        let sent = (try? requests.write(contentsOf: Data((task + "\n").utf8))) != nil
        guard sent, let line = readLine(), let seconds = Double(line) else {
            throw BenchError("the PyTorch baseline stopped answering during `\(task)`; see its message above")
        }
        return seconds
    }

    private func readLine() -> String? {
        var line: UnsafeMutablePointer<CChar>?
        var capacity = 0
        defer { free(line) }
        guard getline(&line, &capacity, answers) > 0, let line else { return nil }
        return String(cString: line).trimmingCharacters(in: .whitespacesAndNewlines)
    }

    func close() {
        try? requests.close()
        process.waitUntilExit()
        fclose(answers)
    }
}
