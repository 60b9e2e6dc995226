// The one way Kinema's decode threads hand results to a consumer (prefetchers, prediction's `ahead`
// schedule) and hand a reader to the thread that will own it.
import Foundation

// MARK: - Ordered, bounded hand-off between worker threads and one consumer

/// Numbered jobs `0, 1, 2, …` are claimed by worker threads and their results taken by one consumer
/// in job order.
///
/// Contract:
/// - **Bounded**: a worker can claim job `j` only once the consumer has taken job `j − capacity`, so at
///   most `capacity` jobs run or wait ahead of the consumer; workers block (on their own threads) when
///   they are ahead, and decoding never runs away from the model.
/// - **Ordered**: `take()` returns job 0's result, then job 1's, … whatever order they were delivered in.
/// - **End**: after the last job (`jobCount`, or the count a worker gave `end(at:)` when the number of
///   jobs is only found out by doing them) `take()` returns nil, as it does after `stop()`.
/// - **Errors**: a delivered error ends the sequence: the consumer gets it in place of that job's
///   result, and the workers' next `claim()` returns nil.
/// - One consumer; any number of workers. Every claimed job must be delivered (or `end(at:)` called at
///   or before it), or the consumer waits for it forever.
public final class OrderedHandoff<Item: Sendable>: @unchecked Sendable {
    // All state below is guarded by `condition`.
    private let condition = NSCondition()
    private var jobCount: Int
    private let capacity: Int
    private var nextClaim = 0
    private var nextTake = 0
    private var results: [Int: Result<Item, any Error>] = [:]
    private var stopped = false
    private var waiting: CheckedContinuation<Item?, any Error>? = nil

    /// - Parameters:
    ///   - jobCount: the number of jobs; nil when a worker will find it out (`end(at:)`).
    ///   - capacity: jobs claimed but not yet taken, at most (at least 1).
    public init(jobCount: Int?, capacity: Int) {
        self.jobCount = jobCount ?? Int.max
        self.capacity = max(1, capacity)
    }

    // MARK: Worker side

    /// The next job to run, waiting while the workers are `capacity` jobs ahead; `nil` when all
    /// jobs are claimed or the hand-off was stopped.
    public func claim() -> Int? {
        condition.lock()
        defer { condition.unlock() }
        while !stopped && nextClaim < jobCount && nextClaim >= nextTake + capacity { condition.wait() }
        guard !stopped, nextClaim < jobCount else { return nil }
        nextClaim += 1
        return nextClaim - 1
    }

    /// Stores the result of `job` for the consumer.
    public func deliver(_ job: Int, _ result: Result<Item, any Error>) {
        condition.lock()
        guard !stopped else { condition.unlock(); return }
        results[job] = result
        unlockWakingConsumer()
    }

    /// There are no jobs from `count` on (a worker found the end): the consumer gets nil after taking
    /// jobs `0..<count`, and later claims return nil. A larger count than already known changes nothing.
    public func end(at count: Int) {
        condition.lock()
        jobCount = min(jobCount, count)
        unlockWakingConsumer()
    }

    /// After a worker changed the state (must hold the lock): wakes blocked threads, unlocks, and resumes
    /// a suspended `take()` if its result (or the end) is now there.
    private func unlockWakingConsumer() {
        var resume: (CheckedContinuation<Item?, any Error>, Result<Item?, any Error>)? = nil
        if let continuation = waiting, let ready = popReadyLocked() {
            waiting = nil
            resume = (continuation, ready)
        }
        condition.broadcast()
        condition.unlock()
        if let (continuation, ready) = resume { continuation.resume(with: ready) }
    }

    // MARK: Consumer side

    /// The next result in job order, waiting for it; `nil` after the last job or after `stop()`.
    public func take() throws -> Item? {
        condition.lock()
        while true {
            if let ready = popReadyLocked() {
                condition.unlock()
                return try ready.get()
            }
            condition.wait()
        }
    }

    /// The next result in job order, suspending (not blocking) until it is ready.
    public func take() async throws -> Item? {
        try await withCheckedThrowingContinuation { continuation in
            condition.lock()
            if let ready = popReadyLocked() {
                condition.unlock()
                continuation.resume(with: ready)
            } else {
                waiting = continuation
                condition.unlock()
            }
        }
    }

    /// Ends the sequence: workers stop after their current job, the consumer gets `nil`.
    public func stop() {
        condition.lock()
        stopped = true
        results.removeAll()
        let continuation = waiting
        waiting = nil
        condition.broadcast()
        condition.unlock()
        continuation?.resume(returning: nil)
    }

    /// Takes the next result if it is there (or the end, as `nil`); `nil` (no value) when not ready.
    /// Must hold the lock.
    private func popReadyLocked() -> Result<Item?, any Error>? {
        if stopped || nextTake >= jobCount { return .success(nil) }
        guard let result = results.removeValue(forKey: nextTake) else { return nil }
        nextTake += 1
        condition.broadcast()
        switch result {
        case let .success(item):
            return .success(item)
        case let .failure(error):
            stopped = true  // an error ends the sequence; workers stop claiming
            results.removeAll()
            return .failure(error)
        }
    }
}

// MARK: - Moving a reader onto its worker thread

/// Carries a non-Sendable value (a `VideoReader`: it must live on one thread) to exactly one other
/// thread: the sender gives it up on `init`, the receiver takes it once; later `take()`s give nil.
public final class ThreadTransfer<Value>: @unchecked Sendable {
    private let lock = NSLock()
    private var value: Value?
    public init(_ value: Value) { self.value = value }
    public func take() -> Value? {
        lock.lock()
        defer { lock.unlock() }
        defer { value = nil }
        return value
    }
}

/// Starts a worker thread with a stack big enough for FFmpeg's decoders (Linux thread names: 15 characters).
public func startWorker(name: String, _ body: @escaping @Sendable () -> Void) {
    let thread = Thread(block: body)
    thread.name = name
    thread.stackSize = 8 << 20
    thread.start()
}
