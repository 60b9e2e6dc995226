import Foundation
import KinemaFiles
import Testing
import Torch
import TorchNN
import TorchOptim

@Suite("Checkpoints and weight files")
struct CheckpointTests {
    func tempURL(_ name: String) -> URL {
        FileManager.default.temporaryDirectory.appendingPathComponent("kinema-test-\(UUID().uuidString)-\(name)")
    }

    /// A model with dropout (so the RNG matters), BatchNorm buffers, Adam state and EMA.
    final class Trainer {
        let store = ParameterStore()
        let net: Sequential
        let optimizer: Adam
        let ema: ExponentialMovingAverage

        init() throws {
            net = Sequential([
                try Linear(store.root / 0, 6, 16), try BatchNorm(store.root / 1, 16), Lambda { try $0.relu() }, Dropout(0.3),
                try Linear(store.root / 4, 16, 1),
            ])
            optimizer = Adam(store, learningRate: 0.01)
            ema = try ExponentialMovingAverage(store, decay: 0.9)
        }

        func step(_ i: Int) throws -> Double {
            let x = try Tensor((0..<48).map { Float(sin(Double($0 * 7 + i * 13))) }, shape: [8, 6])
            let y = try x.sum(dims: [1], keepDim: true)
            try store.zeroGrad()
            let loss = try mseLoss(net(x, training: true), y)
            try loss.backward()
            try optimizer.step()
            try ema.update()
            return try loss.item()
        }
    }

    @Test func resumedRunReproducesTheUninterruptedLossSequence() throws {
        try Runtime.manualSeed(11)
        let full = try Trainer()
        let uninterrupted = try (0..<8).map { try full.step($0) }

        try Runtime.manualSeed(11)
        let first = try Trainer()
        var resumed = try (0..<4).map { try first.step($0) }
        let url = tempURL("resume.safetensors")
        defer { try? FileManager.default.removeItem(at: url) }
        try Checkpoint.save(to: url, store: first.store, optimizer: first.optimizer, ema: first.ema, metadata: ["step": "4"])

        try Runtime.manualSeed(999)  // a different RNG state that the checkpoint must overwrite
        let second = try Trainer()
        let meta = try Checkpoint.load(from: url, store: second.store, optimizer: second.optimizer, ema: second.ema)
        #expect(meta["step"] == "4")
        resumed += try (4..<8).map { try second.step($0) }
        #expect(resumed == uninterrupted, "bit-exact resume")
    }

    @Test func checkpointRoundTripsBitExactly() throws {
        try Runtime.manualSeed(5)
        let a = try Trainer()
        for i in 0..<3 { _ = try a.step(i) }
        let url = tempURL("roundtrip.safetensors")
        defer { try? FileManager.default.removeItem(at: url) }
        try Checkpoint.save(to: url, store: a.store, optimizer: a.optimizer, ema: a.ema)
        let b = try Trainer()
        try Checkpoint.load(from: url, store: b.store, optimizer: b.optimizer, ema: b.ema)
        for (name, t) in a.store.stateDict() {
            #expect(try t.toArray(Double.self) == b.store.stateDict()[name]!.toArray(Double.self), "\(name)")
        }
        let sa = try a.optimizer.stateTensors(), sb = try b.optimizer.stateTensors()
        #expect(sa.map(\.0) == sb.map(\.0))
        for (x, y) in zip(sa, sb) { #expect(try x.1.toArray(Double.self) == y.1.toArray(Double.self)) }
    }

    @Test func safetensorsRoundTripEveryDTypeAndRejectsCorruption() throws {
        let url = tempURL("all.safetensors")
        defer { try? FileManager.default.removeItem(at: url) }
        let source: [(String, Tensor)] = try DType.allCases.map { dtype in
            ("t_\(dtype)", try Tensor([1, 0, 3, 2, 5, 4] as [Float], shape: [2, 3]).to(dtype))
        }
        let empty = try Tensor.zeros([0, 3])
        try SafeTensors.write(source + [("empty", empty)], metadata: ["note": "hello"], to: url)
        let (tensors, metadata) = try SafeTensors.read(url)
        #expect(metadata["note"] == "hello")
        #expect(tensors["empty"]?.shape == [0, 3])
        for (name, t) in source {
            let back = try #require(tensors[name])
            #expect(back.dtype == t.dtype && back.shape == [2, 3])
            #expect(try back.toArray(Float.self) == t.toArray(Float.self))
        }
        var bytes = try Data(contentsOf: url)
        bytes.removeLast(10)
        try bytes.write(to: url)
        #expect(throws: NNError.self) { try SafeTensors.read(url) }
    }

    @Test func atomicWritesReplaceExistingFiles() throws {
        let url = tempURL("replace.bin")
        defer { try? FileManager.default.removeItem(at: url) }
        try AtomicFile.write(Data("first".utf8), to: url)
        try AtomicFile.write(Data("second".utf8), to: url)
        #expect(try Data(contentsOf: url) == Data("second".utf8))
        let leftovers = try FileManager.default.contentsOfDirectory(atPath: url.deletingLastPathComponent().path)
            .filter { $0.hasPrefix(".\(url.lastPathComponent)") }
        #expect(leftovers.isEmpty, "no temporary files left behind")
        let store = ParameterStore()
        _ = try Linear(store.root / "l", 2, 2)
        try Checkpoint.save(to: url, store: store)
        try Checkpoint.save(to: url, store: store)  // overwriting a checkpoint keeps it readable
        try Checkpoint.load(from: url, store: store)
    }

    @Test func trainingStepLeaksNoTensors() throws {
        let trainer = try Trainer()
        _ = try trainer.step(0)  // optimizer and EMA state now exist
        let baseline = Runtime.threadLiveTensorCount
        for i in 1..<4 { _ = try trainer.step(i) }
        #expect(Runtime.threadLiveTensorCount == baseline)
    }
}
