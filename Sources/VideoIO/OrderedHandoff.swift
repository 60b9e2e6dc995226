import Foundation

// MARK: - Ordered, bounded hand-off between worker threads and one consumer

/// Numbered jobs `0..<jobCount` are claimed by worker threads and their results taken by one
/// consumer in job order. At most `capacity` jobs run or wait ahead of the consumer, so decoding
/// never runs away from the model, and workers block (on their own threads) when they are ahead.
/// An error ends the sequence: it is handed to the consumer in its place and the workers stop.
final class OrderedHandoff<Item: Sendable>: @unchecked Sendable {
    // All state below is guarded by `condition`.
    private let condition = NSCondition()
    private let jobCount: Int
    private let capacity: Int
    private var nextClaim = 0
    private var nextTake = 0
    private var results: [Int: Result<Item, any Error>] = [:]
    private var stopped = false
    private var waiting: CheckedContinuation<Item?, any Error>? = nil

    init(jobCount: Int, capacity: Int) {
        self.jobCount = jobCount
        self.capacity = max(1, capacity)
    }

    // MARK: Worker side

    /// The next job to run, waiting while the workers are `capacity` jobs ahead; `nil` when all
    /// jobs are claimed or the hand-off was stopped.
    func claim() -> Int? {
        condition.lock()
        defer { condition.unlock() }
        while !stopped && nextClaim < jobCount && nextClaim >= nextTake + capacity { condition.wait() }
        guard !stopped, nextClaim < jobCount else { return nil }
        nextClaim += 1
        return nextClaim - 1
    }

    /// Stores the result of `job` for the consumer.
    func deliver(_ job: Int, _ result: Result<Item, any Error>) {
        condition.lock()
        guard !stopped else { condition.unlock(); return }
        results[job] = result
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
    func take() throws -> Item? {
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
    func take() async throws -> Item? {
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
    func stop() {
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

/// Carries a non-Sendable value to exactly one other thread: the sender gives it up on `init`,
/// the receiver takes it once.
final class Transfer<Value>: @unchecked Sendable {
    private let lock = NSLock()
    private var value: Value?
    init(_ value: Value) { self.value = value }
    func take() -> Value? {
        lock.lock()
        defer { lock.unlock() }
        defer { value = nil }
        return value
    }
}

/// Starts a worker thread with a stack big enough for FFmpeg's decoders.
func startWorker(name: String, _ body: @escaping @Sendable () -> Void) {
    let thread = Thread(block: body)
    thread.name = name
    thread.stackSize = 8 << 20
    thread.start()
}
