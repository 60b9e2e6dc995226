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
        A training step is forward + cross-entropy + backward + Adam on a batch of 3×SIZE×SIZE images; inference is a
        no-grad forward pass in eval mode. Both sides warm up first, then the steps are timed and the median is kept.
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
        print("ResNet-\(depth), \(size)×\(size), train batch \(trainBatch), infer batch \(inferBatch), \(dev), \(threads) threads, libtorch \(Runtime.torchVersion)")

        let (train, infer) = try measureKinema(dev)
        var baseTrain: Double?, baseInfer: Double?
        if let python = baselinePython(python) {
            let script = FileManager.default.temporaryDirectory.appendingPathComponent("kinema-bench-torch.py")
            try Self.pythonBaseline.write(to: script, atomically: true, encoding: .utf8)
            let out = try runProcess(python, [script.path, "\(depth)", "\(size)", "\(trainBatch)", "\(inferBatch)",
                                              "\(iterations)", dev.description, "\(threads)"])
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


    /// The same work in PyTorch's Python API; prints "train_seconds infer_seconds" (medians).
    static let pythonBaseline = #"""
    # torchvision's ResNet written out (torchvision is not installed in the bench venv), same init and layout.
    import sys, time, statistics
    import torch
    from torch import nn

    depth, size, train_batch, infer_batch, iterations, device, threads = sys.argv[1:8]
    depth, size, train_batch, infer_batch, iterations, threads = map(int, (depth, size, train_batch, infer_batch, iterations, threads))
    torch.set_num_threads(threads)
    dev = torch.device(device)

    class Block(nn.Module):
        def __init__(self, cin, width, stride, bottleneck):
            super().__init__()
            out = width * 4 if bottleneck else width
            if bottleneck:
                self.convs = nn.ModuleList([nn.Conv2d(cin, width, 1, bias=False), nn.Conv2d(width, width, 3, stride, 1, bias=False), nn.Conv2d(width, out, 1, bias=False)])
                self.bns = nn.ModuleList([nn.BatchNorm2d(width), nn.BatchNorm2d(width), nn.BatchNorm2d(out)])
            else:
                self.convs = nn.ModuleList([nn.Conv2d(cin, width, 3, stride, 1, bias=False), nn.Conv2d(width, width, 3, 1, 1, bias=False)])
                self.bns = nn.ModuleList([nn.BatchNorm2d(width), nn.BatchNorm2d(width)])
            self.down = nn.Sequential(nn.Conv2d(cin, out, 1, stride, bias=False), nn.BatchNorm2d(out)) if stride != 1 or cin != out else None
        def forward(self, x):
            y = x
            for i, (c, b) in enumerate(zip(self.convs, self.bns)):
                y = b(c(y))
                if i < len(self.convs) - 1: y = torch.relu(y)
            return torch.relu(y + (self.down(x) if self.down is not None else x))

    plans = {18: (False, [2, 2, 2, 2]), 34: (False, [3, 4, 6, 3]), 50: (True, [3, 4, 6, 3]), 101: (True, [3, 4, 23, 3])}
    bottleneck, blocks = plans[depth]
    layers, cin = [], 64
    for stage, n in enumerate(blocks):
        for b in range(n):
            layers.append(Block(cin, 64 << stage, 2 if b == 0 and stage > 0 else 1, bottleneck))
            cin = (64 << stage) * (4 if bottleneck else 1)
    net = nn.Sequential(nn.Conv2d(3, 64, 7, 2, 3, bias=False), nn.BatchNorm2d(64), nn.ReLU(), nn.MaxPool2d(3, 2, 1),
                        *layers, nn.AdaptiveAvgPool2d(1), nn.Flatten(), nn.Linear(cin, 1000)).to(dev)
    for m in net.modules():
        if isinstance(m, nn.Conv2d): nn.init.kaiming_normal_(m.weight, mode="fan_out", nonlinearity="relu")
    opt = torch.optim.Adam(net.parameters(), lr=1e-3)
    x = torch.randn(train_batch, 3, size, size, device=dev)
    y = torch.randint(0, 1000, (train_batch,), device=dev)

    def sync():
        if dev.type == "cuda": torch.cuda.synchronize()

    def step():
        opt.zero_grad(set_to_none=True)
        loss = nn.functional.cross_entropy(net.train()(x), y)
        loss.backward()
        opt.step()
        loss.item()

    def timed(f):
        sync(); t = time.perf_counter(); f(); sync(); return time.perf_counter() - t

    step()
    train = statistics.median(timed(step) for _ in range(iterations))
    xi = torch.randn(infer_batch, 3, size, size, device=dev)
    def infer():
        with torch.no_grad(): net.eval()(xi).sum().item()
    infer()
    inference = statistics.median(timed(infer) for _ in range(iterations))
    print(train, inference)
    """#
}
