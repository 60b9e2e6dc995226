// Runtime.parallelFor: host work on libtorch's own intra-op threads.
import Foundation
import Synchronization
import Testing
import Torch

@Suite(.serialized) struct ParallelForTests {
    /// Records which items ran and on which threads.
    final class Log: Sendable {
        let state = Mutex<(items: [Int], threads: Set<UInt>, chunks: Int)>(([], [], 0))
    }

    @Test func everyItemRunsOnceInOneChunkPerThread() throws {
        let saved = Runtime.threads
        defer { Runtime.threads = saved }
        Runtime.threads = 2
        for count in [1, 2, 3, 7] {
            let log = Log()
            try Runtime.parallelFor(count) { range in
                let thread = UInt(bitPattern: Int(bitPattern: pthread_self()))
                usleep(20_000)  // long enough that one thread could not take both chunks if two exist
                log.state.withLock {
                    $0.items += Array(range); $0.threads.insert(thread); $0.chunks += 1
                }
            }
            let (items, threads, chunks) = log.state.withLock { $0 }
            #expect(items.sorted() == Array(0..<count), "\(count) items")
            #expect(chunks == min(count, 2), "\(count) items")
            #expect(threads.count == min(count, 2), "\(count) items ran on \(threads.count) threads")
        }
    }

    @Test func oneThreadOrANestedCallIsAPlainCall() throws {
        let saved = Runtime.threads
        defer { Runtime.threads = saved }
        Runtime.threads = 1
        let caller = pthread_self()
        let onCaller = Mutex(true)
        try Runtime.parallelFor(4) { range in
            #expect(range == 0..<4)
            if pthread_self() != caller { onCaller.withLock { $0 = false } }
        }
        #expect(onCaller.withLock { $0 })

        Runtime.threads = 2
        let inner = Mutex<[Range<Int>]>([])
        try Runtime.parallelFor(2) { _ in
            // Inside a parallel region libtorch (and so this) runs serially.
            try? Runtime.parallelFor(3) { range in inner.withLock { $0.append(range) } }
        }
        #expect(inner.withLock { $0 } == [0..<3, 0..<3])
    }

    @Test func emptyRangeRunsNothing() throws {
        let ran = Mutex(false)
        try Runtime.parallelFor(0) { _ in ran.withLock { $0 = true } }
        #expect(!ran.withLock { $0 })
    }
}
