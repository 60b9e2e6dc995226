import Foundation

/// A learning rate as a pure function of the position (epoch or step), so resuming needs only the position.
public protocol LRSchedule: Sendable {
    func learningRate(at position: Int) -> Double
}

/// `torch.optim.lr_scheduler.MultiStepLR`: base × gamma^(number of milestones passed).
public struct MultiStepLR: LRSchedule {
    public let base: Double, milestones: [Int], gamma: Double

    public init(base: Double, milestones: [Int], gamma: Double = 0.1) {
        (self.base, self.milestones, self.gamma) = (base, milestones, gamma)
    }

    public func learningRate(at position: Int) -> Double {
        base * pow(gamma, Double(milestones.filter { position >= $0 }.count))
    }
}

/// Linear warm-up from `base × warmupStartFactor` to `base` over `warmup` steps, then cosine decay to `minimum` at `total`.
public struct CosineWithWarmup: LRSchedule {
    public let base: Double, warmup: Int, total: Int, minimum: Double, warmupStartFactor: Double

    public init(base: Double, warmup: Int, total: Int, minimum: Double = 0, warmupStartFactor: Double = 0) {
        (self.base, self.warmup, self.total, self.minimum, self.warmupStartFactor) = (base, warmup, total, minimum, warmupStartFactor)
    }

    public func learningRate(at position: Int) -> Double {
        if position < warmup {
            let f = warmupStartFactor + (1 - warmupStartFactor) * Double(position) / Double(max(warmup, 1))
            return base * f
        }
        let progress = min(1, Double(position - warmup) / Double(max(total - warmup, 1)))
        return minimum + (base - minimum) * 0.5 * (1 + cos(Double.pi * progress))
    }
}
