// The hand-off's contract: results in job order, at most `capacity` ahead, an end a worker finds,
// errors in place of their job, and a reader moved to exactly one thread.
import Foundation
import Synchronization
import Testing
import VideoIO

@Suite struct OrderedHandoffTests {
    /// Three workers finishing out of order; the consumer still gets 0, 1, 2, … (`taken` is stored
    /// just after `take()` returns, so a claim can see it one behind: a lead of at most `capacity`).
    @Test func resultsArriveInJobOrderWithinCapacity() throws {
        let handoff = OrderedHandoff<Int>(jobCount: 40, capacity: 3)
        let taken = Atomic<Int>(0), worstLead = Atomic<Int>(0)
        for worker in 0..<3 {
            startWorker(name: "test.\(worker)") {
                while let job = handoff.claim() {
                    let lead = job - taken.load(ordering: .sequentiallyConsistent)
                    _ = worstLead.max(lead, ordering: .sequentiallyConsistent)
                    usleep(UInt32((job * 7919 + worker * 31) % 5) * 200)  // finish in a shuffled order
                    handoff.deliver(job, .success(job * job))
                }
            }
        }
        var results: [Int] = []
        while let value = try handoff.take() {
            results.append(value)
            taken.store(results.count, ordering: .sequentiallyConsistent)
        }
        #expect(results == (0..<40).map { $0 * $0 })
        #expect(worstLead.load(ordering: .sequentiallyConsistent) <= 3)
    }

    /// Workers stop claiming `capacity` jobs ahead of the consumer and go on as it takes.
    @Test func workersWaitCapacityJobsAhead() throws {
        let handoff = OrderedHandoff<Int>(jobCount: 10, capacity: 3)
        let claimed = Atomic<Int>(0)
        startWorker(name: "test.bound") {
            while let job = handoff.claim() {
                claimed.store(job + 1, ordering: .sequentiallyConsistent)
                handoff.deliver(job, .success(job))
            }
        }
        usleep(100_000)
        #expect(claimed.load(ordering: .sequentiallyConsistent) == 3)
        #expect(try handoff.take() == 0)
        usleep(100_000)
        #expect(claimed.load(ordering: .sequentiallyConsistent) == 4)
        handoff.stop()
        #expect(try handoff.take() == nil)
    }

    /// With no job count, the worker ends the sequence where it finds the end.
    @Test func workerFoundEndFinishesTheSequence() throws {
        let handoff = OrderedHandoff<String>(jobCount: nil, capacity: 2)
        startWorker(name: "test.end") {
            while let job = handoff.claim() {
                if job == 5 { handoff.end(at: 5); break }
                handoff.deliver(job, .success("batch \(job)"))
            }
        }
        var results: [String] = []
        while let value = try handoff.take() { results.append(value) }
        #expect(results == (0..<5).map { "batch \($0)" })
        #expect(handoff.claim() == nil)
        #expect(try handoff.take() == nil)
    }

    /// An error replaces its job's result, ends the sequence and stops the workers' claims.
    @Test func errorEndsTheSequence() throws {
        struct Broken: Error, Equatable {}
        let handoff = OrderedHandoff<Int>(jobCount: nil, capacity: 4)
        handoff.deliver(0, .success(10))
        handoff.deliver(1, .failure(Broken()))
        handoff.deliver(2, .success(12))
        #expect(try handoff.take() == 10)
        #expect(throws: Broken.self) { try handoff.take() }
        #expect(try handoff.take() == nil)
        #expect(handoff.claim() == nil)
    }

    /// A transferred value is taken once.
    @Test func transferGivesTheValueOnce() {
        let transfer = ThreadTransfer([1, 2, 3])
        #expect(transfer.take() == [1, 2, 3])
        #expect(transfer.take() == nil)
    }
}
