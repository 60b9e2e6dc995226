import Foundation
import Testing
import Torch
import TorchNN
import TorchOptim

/// Each optimizer against its update formula, computed here in plain Swift doubles.
@Suite("Optimizers follow their formulas")
struct OptimizerTests {
    let start: [Double] = [0.5, -1.0, 2.0]
    let gradients: [[Double]] = [[0.1, -0.2, 0.3], [-0.5, 0.4, 0.0], [1.0, 1.0, -1.0], [0.2, -0.1, 0.05]]

    func run(_ make: (ParameterStore) -> any Optimizer) throws -> [Double] {
        let store = ParameterStore()
        let p = try store.parameter("p", shape: [3], dtype: .float64, .zeros)
        try withNoGrad { try p.copyFrom(Tensor(start)) }
        let optimizer = make(store)
        for g in gradients {
            try p.setGrad(Tensor(g))
            try optimizer.step()
        }
        return try p.toArray(Double.self)
    }

    func close(_ a: [Double], _ b: [Double]) -> Bool { zip(a, b).allSatisfy { Swift.abs($0 - $1) < 1e-12 } }

    @Test func sgdWithMomentumAndNesterov() throws {
        for nesterov in [false, true] {
            let (lr, mu, wd) = (0.1, 0.9, 0.01)
            var p = start, buf: [Double]? = nil
            for g0 in gradients {
                let g = zip(g0, p).map { $0 + wd * $1 }
                buf = buf.map { zip($0, g).map { mu * $0 + $1 } } ?? g
                let d = nesterov ? zip(g, buf!).map { $0 + mu * $1 } : buf!
                p = zip(p, d).map { $0 - lr * $1 }
            }
            let got = try run { SGD($0, learningRate: lr, momentum: mu, nesterov: nesterov, weightDecay: wd) }
            #expect(close(got, p), "nesterov \(nesterov): \(got) vs \(p)")
        }
    }

    @Test func adamAndAdamW() throws {
        for decoupled in [false, true] {
            let (lr, b1, b2, eps, wd) = (0.01, 0.9, 0.999, 1e-8, 0.1)
            var p = start, m = [0.0, 0, 0], v = [0.0, 0, 0]
            for (t, g0) in gradients.enumerated() {
                var g = g0
                if decoupled { p = p.map { $0 * (1 - lr * wd) } } else { g = zip(g, p).map { $0 + wd * $1 } }
                m = zip(m, g).map { b1 * $0 + (1 - b1) * $1 }
                v = zip(v, g).map { b2 * $0 + (1 - b2) * $1 * $1 }
                let c1 = 1 - pow(b1, Double(t + 1)), c2 = 1 - pow(b2, Double(t + 1))
                p = (0..<3).map { p[$0] - lr * (m[$0] / c1) / ((v[$0] / c2).squareRoot() + eps) }
            }
            let got = try run { store in
                decoupled ? AdamW(store, learningRate: lr, weightDecay: wd) : Adam(store, learningRate: lr, weightDecay: wd)
            }
            #expect(close(got, p), "decoupled \(decoupled): \(got) vs \(p)")
        }
    }

    @Test func schedulesAndClipping() throws {
        let multi = MultiStepLR(base: 1e-3, milestones: [150, 200, 250], gamma: 0.5)
        #expect(multi.learningRate(at: 0) == 1e-3 && multi.learningRate(at: 150) == 5e-4 && multi.learningRate(at: 260) == 1.25e-4)
        let cosine = CosineWithWarmup(base: 1, warmup: 10, total: 110, minimum: 0.1)
        #expect(cosine.learningRate(at: 0) == 0 && cosine.learningRate(at: 5) == 0.5 && cosine.learningRate(at: 10) == 1)
        #expect(Swift.abs(cosine.learningRate(at: 60) - 0.55) < 1e-12 && Swift.abs(cosine.learningRate(at: 110) - 0.1) < 1e-12)

        let store = ParameterStore()
        let a = try store.parameter("a", shape: [2], dtype: .float64, .zeros)
        let b = try store.parameter("b", shape: [1], dtype: .float64, .zeros)
        try a.setGrad(Tensor([3.0, 0]))
        try b.setGrad(Tensor([4.0]))
        let norm = try clipGradNorm(store, maxNorm: 1)
        #expect(Swift.abs(norm - 5) < 1e-12)
        #expect(Swift.abs(try a.grad!.toArray(Double.self)[0] - 0.6) < 1e-6)
        try clipGradValue(store, 0.5)
        #expect(try b.grad!.toArray(Double.self) == [0.5])
    }

    @Test func emaTracksAndSwaps() throws {
        let store = ParameterStore()
        let p = try store.parameter("w", shape: [1], dtype: .float64, .zeros)
        let ema = try ExponentialMovingAverage(store, decay: 0.5)
        try withNoGrad { try p.fillInPlace(4) }
        try ema.update()  // 0.5·0 + 0.5·4
        try withNoGrad { try p.fillInPlace(8) }
        try ema.update()  // 0.5·2 + 0.5·8
        #expect(try ema.shadow["w"]!.item() == 5)
        try ema.swap()
        #expect(try p.item() == 5)
        try ema.swap()
        #expect(try p.item() == 8)
    }
}
