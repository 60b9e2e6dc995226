// Train/validation/test split exactly as Lightning Pose draws it (torch random_split on CPU).
import Foundation

// MARK: - Mersenne twister (the engine behind torch's CPU generator)

/// MT19937, 32-bit output, seeded like `at::mt19937(seed)`, so permutations match torch's CPU ones.
public struct MersenneTwister: Sendable {
    private var state = [UInt32](repeating: 0, count: 624)
    private var index = 624

    public init(seed: UInt64) {
        state[0] = UInt32(truncatingIfNeeded: seed)
        for i in 1..<624 {
            state[i] = 1_812_433_253 &* (state[i - 1] ^ (state[i - 1] >> 30)) &+ UInt32(i)
        }
    }

    public mutating func next() -> UInt32 {
        if index >= 624 { twist() }
        var y = state[index]
        index += 1
        y ^= y >> 11
        y ^= (y << 7) & 0x9D2C_5680
        y ^= (y << 15) & 0xEFC6_0000
        y ^= y >> 18
        return y
    }

    private mutating func twist() {
        for i in 0..<624 {
            let y = (state[i] & 0x8000_0000) | (state[(i + 1) % 624] & 0x7FFF_FFFF)
            var v = state[(i + 397) % 624] ^ (y >> 1)
            if y & 1 != 0 { v ^= 0x9908_B0DF }
            state[i] = v
        }
        index = 0
    }

    /// A uniform double in [0, 1).
    public mutating func uniform() -> Double { Double(next()) / 4_294_967_296.0 }

    /// A uniform double in [lo, hi).
    public mutating func uniform(_ lo: Double, _ hi: Double) -> Double { lo + (hi - lo) * uniform() }

    /// A standard normal draw (Box–Muller).
    public mutating func normal() -> Double {
        let u1 = max(uniform(), 1e-12), u2 = uniform()
        return (-2 * log(u1)).squareRoot() * cos(2 * Double.pi * u2)
    }

    /// True with probability p.
    public mutating func chance(_ p: Double) -> Bool { uniform() < p }
}

/// `torch.randperm(n, generator=torch.Generator().manual_seed(seed))` for n below 2^32/20.
public func torchRandperm(_ n: Int, seed: UInt64) -> [Int] {
    var generator = MersenneTwister(seed: seed)
    var result = Array(0..<n)
    if n < 2 { return result }
    for i in 0..<(n - 1) {
        let z = Int(generator.next() % UInt32(n - i))
        result.swapAt(i, i + z)
    }
    return result
}

// MARK: - Split

/// Indices of the labelled frames in each split.
public struct DataSplit: Sendable, Equatable {
    public var train: [Int]
    public var validation: [Int]
    public var test: [Int]

    public init(train: [Int], validation: [Int], test: [Int]) {
        self.train = train
        self.validation = validation
        self.test = test
    }

    /// The smallest validation set Kinema gives a DeepLabCut project (`training.min_val_frames`): one frame
    /// is too noisy to pick the best checkpoint by.
    public static let minimumValidationFrames = 5

    /// The split a config asks for, over `count` labelled frames: what training and evaluation both use.
    public static func of(_ config: PoseConfig, count: Int) -> DataSplit {
        lightningPose(
            count: count, trainProb: config.trainProb, valProb: config.valProb, seed: config.rngSeedDataPt,
            trainFrames: config.trainFrames, minimumValidation: config.minValFrames ?? 1)
    }

    /// LP's split (§6 of the LP reference): train ⌊p_train·N⌋, val max(1, ⌊p_val·N⌋), the rest is
    /// test when at least 5 frames, otherwise added to train; assignment by torch's seeded permutation.
    /// `trainFrames` ≤ 1 keeps that fraction of the train split, > 1 that many frames.
    /// `minimumValidation` > 1 (Kinema) raises the validation set to that many frames, at most a quarter of
    /// them, taken from the train share; 1 is LP's rule exactly.
    public static func lightningPose(
        count n: Int, trainProb: Double, valProb: Double, seed: Int,
        trainFrames: Double = 1, minimumValidation: Int = 1
    ) -> DataSplit {
        var trainSize = Int((trainProb * Double(n)).rounded(.down))
        var valSize = max(1, Int((valProb * Double(n)).rounded(.down)))
        if valSize < minimumValidation {
            valSize = max(valSize, min(minimumValidation, n / 4))
            trainSize = min(trainSize, n - valSize)
        }
        if n < 2 { valSize = 0 }
        var testSize = n - trainSize - valSize
        if testSize < 5 {
            trainSize += testSize
            testSize = 0
        }
        let order = torchRandperm(n, seed: UInt64(truncatingIfNeeded: seed))
        var train = Array(order[0..<trainSize])
        let validation = Array(order[trainSize..<(trainSize + valSize)])
        let test = Array(order[(trainSize + valSize)..<n])
        if trainFrames > 1 {
            train = Array(train.prefix(Int(trainFrames)))
        } else if trainFrames < 1 {
            train = Array(train.prefix(max(1, Int((trainFrames * Double(train.count)).rounded(.down)))))
        }
        return DataSplit(train: train, validation: validation, test: test)
    }

    /// The split name of every frame: `train`, `validation`, `test` or `unused` (LP's `set` column).
    public func setNames(count: Int) -> [String] {
        var names = [String](repeating: "unused", count: count)
        for i in train { names[i] = "train" }
        for i in validation { names[i] = "validation" }
        for i in test { names[i] = "test" }
        return names
    }
}
