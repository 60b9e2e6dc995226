// Ctrl-C during long work: the first one asks the work to stop at a safe point, the second ends the process.
import Foundation
import Synchronization

/// A process-wide stop request set by SIGINT. Long loops (training) poll `isRequested` at points where
/// stopping keeps every file valid, and say how to continue.
public enum Interruption {
    private static let requested = Atomic<Bool>(false)

    /// Routes SIGINT (and any other of `signals`, e.g. SIGTERM from a scheduler) here: the first asks to stop,
    /// a second one exits at once with status 130.
    public static func install(signals: [Int32] = [SIGINT]) {
        for number in signals {
            signal(number) { _ in
                if Interruption.requested.exchange(true, ordering: .sequentiallyConsistent) { _exit(130) }
            }
        }
    }

    /// Whether a stop was asked for since the last `reset()`.
    public static var isRequested: Bool { requested.load(ordering: .sequentiallyConsistent) }

    /// Forgets an earlier request (at the start of a new piece of work).
    public static func reset() { requested.store(false, ordering: .sequentiallyConsistent) }

    /// Asks to stop, as Ctrl-C does (tests).
    public static func request() { requested.store(true, ordering: .sequentiallyConsistent) }
}
