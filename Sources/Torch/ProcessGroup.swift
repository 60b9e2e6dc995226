import CTorch
import Foundation

/// Processes that train one model together (data parallel) through libtorch's own c10d: they meet at rank 0's
/// `TCPStore` and exchange CPU tensors through `ProcessGroupGloo` (NCCL would need a CUDA build of the shim).
///
/// Every collective must be called in the same order on every rank. When one fails because a rank died or hangs,
/// the error is one line naming that rank (after at most `timeout`), never a silent hang.
///
/// ```swift
/// let group = try ProcessGroup(host: "127.0.0.1", port: 29500, rank: rank, size: 2, timeout: 60)
/// try group.allReduce(gradients, average: true)
/// ```
///
/// c10d's group is thread-safe, but collectives issued from several threads would not match across ranks:
/// use one group from one thread at a time.
public final class ProcessGroup: @unchecked Sendable {
    let raw: ct_group
    public let rank: Int
    public let size: Int
    /// Where rank 0 serves the group's store.
    public let host: String, port: Int
    /// Seconds the rendezvous and each collective may wait for the other ranks.
    public let timeout: Double

    /// DDP's default gradient bucket: 25 MB.
    public static let defaultBucketBytes = 25 << 20

    /// Joins the group of `size` processes; returns when all have joined (or throws, naming the missing ranks).
    public init(host: String, port: Int, rank: Int, size: Int, timeout: Double) throws(TorchError) {
        let raw = ct_group_join(host, Int32(clamping: port), Int32(clamping: rank), Int32(clamping: size), Int64(timeout * 1000))
        guard raw.ptr != nil else { throw TorchError.last(op: "process group") }
        (self.raw, self.rank, self.size, self.host, self.port, self.timeout) = (raw, rank, size, host, port, timeout)
    }

    deinit { ct_group_free(raw) }

    /// Rank 0: the one that writes checkpoints, metrics and logs.
    public var isLeader: Bool { rank == 0 }

    /// Sums (or averages) each CPU tensor in place over the ranks, in flat buckets of at most `bucketBytes`.
    public func allReduce(_ tensors: [Tensor], average: Bool = false, bucketBytes: Int = defaultBucketBytes) throws(TorchError) {
        guard !tensors.isEmpty else { return }
        let handles = tensors.map(\.raw)
        try check(
            ct_group_all_reduce(raw, handles, Int32(handles.count), average ? 1 : 0, Int64(bucketBytes)), "process group")
        withExtendedLifetime(tensors) {}
    }

    /// Overwrites each tensor with rank `root`'s, in flat buckets.
    public func broadcast(_ tensors: [Tensor], from root: Int = 0, bucketBytes: Int = defaultBucketBytes) throws(TorchError) {
        guard !tensors.isEmpty else { return }
        let handles = tensors.map(\.raw)
        try check(ct_group_broadcast(raw, handles, Int32(handles.count), Int32(root), Int64(bucketBytes)), "process group")
        withExtendedLifetime(tensors) {}
    }

    /// Returns when every rank has called it.
    public func barrier() throws(TorchError) {
        try check(ct_group_barrier(raw), "process group")
    }

    /// The element-wise sum over the ranks of a few host numbers (loss sums, counts, flags), in float64.
    public func sum(_ values: [Double]) throws(TorchError) -> [Double] {
        guard !values.isEmpty else { return [] }
        let t = try Tensor(values, shape: [values.count])
        try allReduce([t])
        return try t.toArray(Double.self)
    }

    /// Runs `body` with every training-mode `Tensor.batchNorm` on this thread synchronised over the group
    /// (SyncBatchNorm: statistics of all ranks' samples; exact gradients). Every rank must run the same layers.
    public func synchronizingBatchNorm<R, E: Error>(_ body: () throws(E) -> R) throws(E) -> R {
        let dictionary = Thread.current.threadDictionary
        let previous = dictionary[Self.batchNormKey]
        dictionary[Self.batchNormKey] = self
        defer { dictionary[Self.batchNormKey] = previous }
        return try body()
    }

    private static let batchNormKey = "kinema.ProcessGroup.batchNorm"

    /// The group `synchronizingBatchNorm` set on this thread, if any.
    static var batchNormGroup: ProcessGroup? { Thread.current.threadDictionary[batchNormKey] as? ProcessGroup }

    func batchNorm(
        _ x: Tensor, weight: Tensor?, bias: Tensor?, runningMean: Tensor?, runningVar: Tensor?, momentum: Double, eps: Double
    ) throws(TorchError) -> Tensor {
        let none = ct_tensor(ptr: nil)
        let result = ct_group_batch_norm(
            raw, x.raw, weight?.raw ?? none, bias?.raw ?? none, runningMean?.raw ?? none, runningVar?.raw ?? none, momentum, eps)
        withExtendedLifetime((x, weight, bias, runningMean, runningVar)) {}
        return try adopt(result, "process group")
    }
}
