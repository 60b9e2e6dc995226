import Testing
import Torch

@Suite("Tensor basics")
struct TensorBasicsTests {
    @Test func roundTripsEveryDType() throws {
        #expect(try Tensor([1.5, -2, 3] as [Float]).toArray(Float.self) == [1.5, -2, 3])
        #expect(try Tensor([1.5, -2, 3] as [Double]).toArray(Double.self) == [1.5, -2, 3])
        #expect(try Tensor([1, -2, 3] as [Int64]).toArray(Int64.self) == [1, -2, 3])
        #expect(try Tensor([1, -2, 3] as [Int32]).toArray(Int32.self) == [1, -2, 3])
        #expect(try Tensor([0, 7, 255] as [UInt8]).toArray(UInt8.self) == [0, 7, 255])
        #expect(try Tensor([true, false] as [Bool]).toArray(Bool.self) == [true, false])
        let half = try Tensor([0.5, 2, -4] as [Float]).to(.float16)
        #expect(half.dtype == .float16)
        #expect(try half.toArray(Float.self) == [0.5, 2, -4])
        let bf = try Tensor([0.5, 2, -4] as [Float]).to(.bfloat16)
        #expect(bf.dtype == .bfloat16)
        #expect(try bf.toArray(Float.self) == [0.5, 2, -4])
    }

    @Test func shapeAndMetadata() throws {
        let x = try Tensor.zeros([2, 3, 4])
        #expect(x.shape == [2, 3, 4])
        #expect(x.rank == 3)
        #expect(x.count == 24)
        #expect(x.dtype == .float32)
        #expect(x.device == .cpu)
        #expect(x.strides == [12, 4, 1])
        #expect(try Tensor(scalar: 3.0).shape == [])
    }

    @Test func broadcastingArithmetic() throws {
        let a = try Tensor([1, 2, 3, 4, 5, 6] as [Float], shape: [2, 3])
        let b = try Tensor([10, 20, 30] as [Float])
        #expect(try (a + b).toArray(Float.self) == [11, 22, 33, 14, 25, 36])
        #expect(try (a * 2 - 1).toArray(Float.self) == [1, 3, 5, 7, 9, 11])
        #expect(try (1 - a).toArray(Float.self) == [0, -1, -2, -3, -4, -5])
        #expect(try (a / b).toArray(Float.self).map { ($0 * 100).rounded() } == [10, 10, 10, 40, 25, 20])
        #expect(try (-a).sum().item() == -21)
        #expect(try (6 / a).toArray(Float.self) == [6, 3, 2, 1.5, 1.2, 1])
    }

    @Test func shapesSlicingIndexing() throws {
        let x = try Tensor.arange(0, 24).reshape([2, 3, 4])
        #expect(try x[1].shape == [3, 4])
        #expect(try x[1].toArray(Float.self).first == 12)
        #expect(try x.slice(2, 1, 3).toArray(Float.self) == [1, 2, 5, 6, 9, 10, 13, 14, 17, 18, 21, 22])
        #expect(try x.permute([2, 0, 1]).shape == [4, 2, 3])
        #expect(try x.transpose(0, 2).contiguous().toArray(Float.self)[1] == 12)
        #expect(try cat([x, x], dim: 1).shape == [2, 6, 4])
        #expect(try stack([x, x], dim: 0).shape == [2, 2, 3, 4])
        let idx = try Tensor([2, 0] as [Int64])
        #expect(try x.index([nil, idx]).shape == [2, 2, 4])
        #expect(try x.indexSelect(2, idx).select(0, 0).select(0, 0).toArray(Float.self) == [2, 0])
        #expect(try x.flatten().shape == [24])
        #expect(try x.unsqueeze(0).squeeze(0).shape == [2, 3, 4])
        #expect(try x.chunk(3, dim: 1).count == 3)
        #expect(try x.padded([1, 1]).shape == [2, 3, 6])
    }

    @Test func reductionsAndMatmul() throws {
        let x = try Tensor([1, 5, 3, 2, 8, 4] as [Float], shape: [2, 3])
        #expect(try x.sum().item() == 23)
        #expect(try x.sum(dims: [1]).toArray(Float.self) == [9, 14])
        #expect(try x.mean(dims: [0]).toArray(Float.self) == [1.5, 6.5, 3.5])
        let (values, indices) = try x.max(dim: 1)
        #expect(try values.toArray(Float.self) == [5, 8])
        #expect(try indices.toArray(Int64.self) == [1, 1])
        #expect(try x.argmax().intItem() == 4)
        #expect(abs(try x.variance(correction: 0).item() - 30.833333 / 6) < 1e-5)
        let m = try x.matmul(x.transpose(0, 1))
        #expect(try m.toArray(Float.self) == [35, 54, 54, 84])
    }

    @Test func errorsNameTheOperation() throws {
        let a = try Tensor.zeros([2, 3])
        let b = try Tensor.zeros([4, 5])
        do {
            _ = try a.matmul(b)
            Issue.record("matmul of mismatched shapes should throw")
        } catch {
            #expect(error.op == "aten::matmul")
            #expect(error.message.contains("cannot be multiplied"))
            #expect(!error.message.contains("frame #"), "no C++ backtrace in messages")
        }
        #expect(throws: TorchError.self) { try Tensor([1, 2, 3] as [Float], shape: [2, 2]) }
        #expect(throws: TorchError.self) { try Torch.call("aten::does_not_exist", []) }
    }

    @Test func cudaIsAClearErrorWithoutAGPU() throws {
        guard Runtime.cudaDeviceCount == 0 else { return }
        do {
            _ = try Tensor.zeros([2]).to(.cuda(0))
            Issue.record("moving to CUDA should fail on a machine without one")
        } catch {
            #expect(error.kind == .unavailable)
            #expect(error.message.contains("has no CUDA"))
        }
    }

    @Test func seededRandomNumbersRepeat() throws {
        try Runtime.manualSeed(42)
        let a = try Tensor.randn([5]).toArray(Float.self)
        try Runtime.manualSeed(42)
        let b = try Tensor.randn([5]).toArray(Float.self)
        #expect(a == b)
        let state = try Runtime.rngState()
        let c = try Tensor.rand([3]).toArray(Float.self)
        try Runtime.setRNGState(state)
        #expect(try Tensor.rand([3]).toArray(Float.self) == c)
        let r = try Tensor.randint(0, 10, [1000]).toArray(Int64.self)
        #expect(r.allSatisfy { (0..<10).contains($0) })
        #expect(Set(try Tensor.randperm(50).toArray(Int64.self)) == Set(0..<50))
    }

    @Test func noGradScopesAndLiveCount() throws {
        let base = Runtime.threadLiveTensorCount
        do {
            let w = try Tensor.ones([3]).requiresGrad(true)
            let y = try withNoGrad { try (w * 2).sum() }
            #expect(!y.requiresGrad)
            let z = try (w * 2).sum()
            #expect(z.requiresGrad)
            try z.backward()
            #expect(try w.grad?.toArray(Float.self) == [2, 2, 2])
        }
        #expect(Runtime.threadLiveTensorCount == base)
    }
}
