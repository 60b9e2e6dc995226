// Batches of augmented samples built on a background thread while the model trains.
import Foundation

// MARK: - Batch

/// A batch ready for the network: images, model-space keypoints and (optionally) target heatmaps.
public struct PoseBatch: Sendable {
    /// Labelled-frame indices of the samples.
    public var indices: [Int]
    /// Images per sample: a multi-camera project's views (1 otherwise). The arrays below then hold `B·V` images,
    /// sample after sample, the views of a sample in view order: `(B, V, 3, H, W)` flattened to `(B·V, 3, H, W)`.
    public var views = 1
    /// `B × 3 × H × W`, ImageNet-normalised (`B × 5 × 3 × H × W`, frames t−2…t+2, for the context model).
    public var images: [Float]
    /// `B × K × 2` model pixels; NaN = ignore.
    public var keypoints: [Float]
    /// `B × K × Hh × Wh` (empty when no grid was given).
    public var heatmaps: [Float]
    /// `B × K` loss weights: 1 for a labelled keypoint inside the image, 1 for an unlabelled one when
    /// it gets a "not here" (uniform/zero) target, 0 for one that augmentation pushed out of the image.
    public var weights: [Float]
    /// Images in the batch (`B·V`): what the network's batch dimension holds.
    public var count: Int { indices.count * views }

    public init(indices: [Int], images: [Float], keypoints: [Float], heatmaps: [Float], weights: [Float]) {
        self.indices = indices
        self.images = images
        self.keypoints = keypoints
        self.heatmaps = heatmaps
        self.weights = weights
    }
}

// MARK: - Loader

/// Produces the batches of one epoch, in order, on a background thread (bounded prefetch queue).
///
/// Everything random derives from `(seed, epoch, frame)`, so an epoch's batches are the same
/// whether training ran straight through or was resumed: the basis of exact `--resume`.
public final class BatchLoader: @unchecked Sendable {
    private let images: [HostImage]
    private let keypoints: [[Double]]
    private let indices: [Int]
    public let batchSize: Int
    private let augmenter: Augmenter
    private let grid: HeatmapGrid?
    private let seed: Int
    private let shuffle: Bool
    private let uniformForMissing: Bool
    private let capacity: Int
    /// Per frame, the images t−2…t+2 of the context model (nil: single frames).
    private let context: [[HostImage]]?
    /// Per frame, a multi-camera project's image of each view (nil: one view); keypoints are then every view's,
    /// view after view.
    private let views: [[HostImage]]?

    private let condition = NSCondition()
    private var queue: [PoseBatch] = []
    private var produced = 0
    private var consumed = 0
    private var total = 0
    private var generation = 0

    /// - Parameters:
    ///   - images/keypoints: every labelled frame (keypoints in frame pixels).
    ///   - indices: the frames this loader serves (e.g. the train split).
    ///   - shuffle: reshuffle each epoch (training) or keep the order (evaluation).
    ///   - context: per frame, its five images t−2…t+2 (the context model; five per view, view after view, for
    ///     separate cameras); each sample then holds all five, with the same augmentation (as LP: one random transform
    ///     and flip decision per sample and view).
    public init(
        images: [HostImage], keypoints: [[Double]], indices: [Int], batchSize: Int,
        augmenter: Augmenter, grid: HeatmapGrid?, seed: Int, shuffle: Bool,
        uniformForMissing: Bool = false, prefetch: Int = 3, context: [[HostImage]]? = nil, views: [[HostImage]]? = nil
    ) {
        self.context = context
        self.views = views
        self.images = images
        self.keypoints = keypoints
        self.indices = indices
        self.batchSize = max(1, batchSize)
        self.augmenter = augmenter
        self.grid = grid
        self.seed = seed
        self.shuffle = shuffle
        self.uniformForMissing = uniformForMissing
        self.capacity = max(1, prefetch)
    }

    /// This process's part of every batch when several data-parallel ranks share it: `index` of `count` contiguous,
    /// near-equal slices of the global batch (which stays `batchSize` frames in the same order).
    public var shard = (index: 0, count: 1)

    /// Batches per epoch (the last partial batch is kept, as in LP).
    public var batchesPerEpoch: Int { (indices.count + batchSize - 1) / batchSize }

    /// The frame order of an epoch.
    public func order(epoch: Int) -> [Int] {
        guard shuffle else { return indices }
        let permutation = torchRandperm(indices.count, seed: UInt64(seed &* 1_000_003 &+ epoch))
        return permutation.map { indices[$0] }
    }

    /// Starts producing the batches of `epoch` in the background, from batch `first` on (a resumed epoch);
    /// read them with `next()`.
    public func start(epoch: Int, from first: Int = 0) {
        condition.lock()
        generation += 1
        let myGeneration = generation
        queue.removeAll()
        produced = 0
        consumed = 0
        total = max(0, batchesPerEpoch - first)
        condition.unlock()
        let order = order(epoch: epoch)
        let (part, parts) = shard
        let thread = Thread { [self] in
            var b = first
            while b * batchSize < order.count {
                let global = order[(b * batchSize)..<min(order.count, (b + 1) * batchSize)]
                let chunk = Array(
                    global.dropFirst(global.count * part / parts).prefix(global.count * (part + 1) / parts - global.count * part / parts))
                let batch = makeBatch(chunk, epoch: epoch)
                condition.lock()
                while queue.count >= capacity && generation == myGeneration { condition.wait() }
                if generation != myGeneration { condition.unlock(); return }
                queue.append(batch)
                produced += 1
                condition.broadcast()
                condition.unlock()
                b += 1
            }
        }
        thread.stackSize = 1 << 22
        thread.start()
    }

    /// The next batch of the current epoch, waiting for it if needed; nil when the epoch is done.
    public func next() -> PoseBatch? {
        condition.lock()
        defer { condition.unlock() }
        while queue.isEmpty && consumed < total { condition.wait() }
        guard !queue.isEmpty else { return nil }
        consumed += 1
        let batch = queue.removeFirst()
        condition.broadcast()
        return batch
    }

    /// Stops the producer of the current epoch (e.g. on interruption).
    public func cancel() {
        condition.lock()
        generation += 1
        queue.removeAll()
        total = 0
        condition.broadcast()
        condition.unlock()
    }

    /// Builds one batch synchronously (also used for deterministic evaluation). A multi-camera sample is one image
    /// per view, each augmented on its own (one generator, views in turn: view 0 draws what a single view would).
    public func makeBatch(_ frameIndices: [Int], epoch: Int) -> PoseBatch {
        let W = augmenter.outputWidth, H = augmenter.outputHeight
        let v = views?.first?.count ?? 1
        let k = (keypoints.first?.count ?? 0) / 2 / v
        let frames = context == nil ? 1 : 5, plane = 3 * W * H
        let n = frameIndices.count * v
        var images = [Float](repeating: 0, count: n * frames * plane)
        var points = [Float](repeating: .nan, count: n * k * 2)
        var heatmaps: [Float] = []
        var weights = [Float](repeating: 0, count: n * k)
        if let grid { heatmaps = [Float](repeating: 0, count: n * k * grid.width * grid.height) }
        for (s, index) in frameIndices.enumerated() {
            var rng = MersenneTwister(seed: UInt64(truncatingIfNeeded: seed &* 7_919 &+ epoch &* 1_000_003 &+ index))
            for view in 0..<v {
                let b = s * v + view
                let labels = v == 1 ? keypoints[index] : Array(keypoints[index][(view * 2 * k)..<((view + 1) * 2 * k)])
                var sample: AugmentedSample
                if let context {
                    // Every frame from the same generator state: the same geometry, flip and photometric draws.
                    let start = rng, clip = context[index][(view * frames)..<((view + 1) * frames)]
                    sample = augmenter.augment(clip[clip.startIndex + 2], keypoints: labels, rng: &rng)
                    for (f, image) in clip.enumerated() {
                        var same = start
                        let frame = f == 2 ? sample.image : augmenter.augment(image, keypoints: labels, rng: &same).image
                        images.replaceSubrange(((b * frames + f) * plane)..<((b * frames + f + 1) * plane), with: frame)
                    }
                } else {
                    let image = views?[index][view] ?? self.images[index]
                    sample = augmenter.augment(image, keypoints: labels, rng: &rng)
                    images.replaceSubrange((b * plane)..<((b + 1) * plane), with: sample.image)
                }
                points.replaceSubrange((b * k * 2)..<((b + 1) * k * 2), with: sample.keypoints)
                for j in 0..<k {
                    let labelled = labels[2 * j].isFinite
                    weights[b * k + j] = sample.keypoints[2 * j].isFinite ? 1 : (!labelled && uniformForMissing ? 1 : 0)
                }
                if let grid {
                    grid.render(
                        keypoints: sample.keypoints, into: &heatmaps, offset: b * k * grid.width * grid.height,
                        uniformForMissing: uniformForMissing)
                }
            }
        }
        var batch = PoseBatch(indices: frameIndices, images: images, keypoints: points, heatmaps: heatmaps, weights: weights)
        batch.views = v
        return batch
    }
}
