// c10d through the shim: two ranks as two threads of this process (Gloo over loopback), so the collectives, the
// synchronised batch norm and the named-rank failures are checked in milliseconds. Whole processes: KinemaCLITests.
import Foundation
import Glibc
import KinemaTestSupport
import Synchronization
import Testing
import Torch

/// Runs `body` as ranks 0..<size of one group, each on its own thread; returns each rank's result (or error).
func ranks<T: Sendable>(
    _ size: Int = 2, timeout: Double = 20, _ body: @escaping @Sendable (ProcessGroup) throws -> T
) -> [Result<T, any Error>] {
    let port = LoopbackPort.free()
    let results = PerRank<Result<T, any Error>>()
    let done = DispatchGroup()
    for rank in 0..<size {
        done.enter()
        let thread = Thread {
            let result = Result { () throws -> T in
                try body(try ProcessGroup(host: "127.0.0.1", port: port, rank: rank, size: size, timeout: timeout))
            }
            results.set(rank, result)
            done.leave()
        }
        thread.stackSize = 1 << 22
        thread.start()
    }
    done.wait()
    return results.all(size)
}

/// What each rank's thread returned (a class: a Mutex alone cannot be captured by the threads' closures).
final class PerRank<T: Sendable>: Sendable {
    private let values = Mutex<[Int: T]>([:])
    func set(_ rank: Int, _ value: T) { values.withLock { $0[rank] = value } }
    func all(_ size: Int) -> [T] { values.withLock { v in (0..<size).map { v[$0]! } } }
}

@Suite("Process groups: c10d collectives, synchronised batch norm, named dead ranks")
struct ProcessGroupTests {
    @Test func allReduceSumsAndAveragesInBuckets() throws {
        let results = ranks { group -> [[Double]] in
            let r = Double(group.rank + 1)
            let a = try Tensor([r, 2 * r, 3 * r], shape: [3]), b = try Tensor([10 * r, 20 * r, 30 * r, 40 * r] as [Double], shape: [2, 2])
            let c = try Tensor([Float(r)], shape: [1])
            try group.allReduce([a, b, c], bucketBytes: 16)  // 16 bytes: a float64 bucket per tensor, and a float32 one
            let d = try Tensor([r, -r], shape: [2])
            try group.allReduce([d], average: true)
            return [
                try a.toArray(Double.self), try b.toArray(Double.self), try c.toArray(Float.self).map(Double.init),
                try d.toArray(Double.self),
            ]
        }
        for result in results {
            // ranks hold 1× and 2× the values: sums are 3×, averages 1.5×
            #expect(try result.get() == [[3, 6, 9], [30, 60, 90, 120], [3], [1.5, -1.5]])
        }
    }

    @Test func broadcastAndSumOfHostNumbers() throws {
        let results = ranks(3) { group -> [Double] in
            let t = try Tensor([Double(group.rank), 7], shape: [2])
            try group.broadcast([t], from: 2)
            try group.barrier()
            return try t.toArray(Double.self) + group.sum([1, Double(group.rank)])
        }
        for result in results { #expect(try result.get() == [2, 7, 3, 3]) }
    }

    /// SyncBatchNorm over 2 ranks × 3 samples equals batch norm over the 6 samples: outputs, input gradients, the
    /// summed weight and bias gradients and the running statistics (float64, to 1e-12).
    @Test func synchronisedBatchNormEqualsOneBatch() throws {
        try Runtime.manualSeed(11)
        let shape = [6, 3, 2, 2]
        let x = try Tensor.randn(shape, dtype: .float64).toArray(Double.self)
        let c = try Tensor.randn(shape, dtype: .float64).toArray(Double.self)  // a loss Σ c·y with every gradient path
        let gamma: [Double] = [1.5, 0.5, -2], beta: [Double] = [0.1, 0.2, 0.3]
        @Sendable func run(rows: Range<Int>, group: ProcessGroup?) throws -> [[Double]] {
            let per = 3 * 2 * 2
            let input = try Tensor(Array(x[(rows.lowerBound * per)..<(rows.upperBound * per)]), shape: [rows.count, 3, 2, 2]).requiresGrad(
                true)
            let coefficients = try Tensor(Array(c[(rows.lowerBound * per)..<(rows.upperBound * per)]), shape: [rows.count, 3, 2, 2])
            let weight = try Tensor(gamma, shape: [3]).requiresGrad(true), bias = try Tensor(beta, shape: [3]).requiresGrad(true)
            let mean = try Tensor.zeros([3], dtype: .float64), variance = try Tensor.ones([3], dtype: .float64)
            let forward = { () throws(TorchError) -> Tensor in
                try input.batchNorm(weight: weight, bias: bias, runningMean: mean, runningVar: variance, training: true)
            }
            let y = if let group { try group.synchronizingBatchNorm(forward) } else { try forward() }
            try (y * coefficients).sum().backward()
            let gw = try #require(weight.grad), gb = try #require(bias.grad)
            try group?.allReduce([gw, gb])
            return try [y, input.grad!, gw, gb, mean, variance].map { try $0.toArray(Double.self) }
        }
        let reference = try run(rows: 0..<6, group: nil)
        let parts = ranks { group in try run(rows: (3 * group.rank)..<(3 * group.rank + 3), group: group) }
        let (a, b) = (try parts[0].get(), try parts[1].get())
        for (name, k) in [("output", 0), ("input gradient", 1)] {
            let joined = a[k] + b[k]
            #expect(zip(joined, reference[k]).allSatisfy { abs($0 - $1) < 1e-12 }, "\(name)")
        }
        for (name, k) in [("weight gradient", 2), ("bias gradient", 3), ("running mean", 4), ("running variance", 5)] {
            #expect(zip(a[k], reference[k]).allSatisfy { abs($0 - $1) < 1e-12 }, "\(name) on rank 0")
            #expect(a[k] == b[k], "\(name): the ranks agree")
        }
    }

    @Test func aRankThatNeverJoinsIsNamed() {
        let started = Date()
        let error = #expect(throws: TorchError.self) {
            _ = try ProcessGroup(host: "127.0.0.1", port: LoopbackPort.free(), rank: 0, size: 3, timeout: 1)
        }
        let message = error?.description ?? ""
        #expect(
            message.hasPrefix("process group: ranks 1, 2 of 3 did not join the group at 127.0.0.1:") && message.hasSuffix("within 1 s"),
            "\(message)")
        #expect(Date().timeIntervalSince(started) < 10)
    }

    /// Rank 1 leaves (its group is freed: connections closed) while rank 0 all-reduces: one line naming rank 1.
    @Test func aRankThatLeavesIsNamed() throws {
        let started = Date()
        let results = ranks(timeout: 2) { group -> String in
            guard group.rank == 0 else { return "left" }
            Thread.sleep(forTimeInterval: 0.3)
            do {
                try group.allReduce([try Tensor([1.0], shape: [1])])
                return "no error"
            } catch { return "\(error)" }
        }
        let message = try results[0].get()
        #expect(message.hasPrefix("process group: all-reduce failed on rank 0 of 2: rank 1 did not answer within 2 s"), "\(message)")
        #expect(!message.contains("\n"))
        #expect(Date().timeIntervalSince(started) < 15)
    }
}
