// libhdf5 can crash on a damaged file: fuzzing found Debian 12's 1.10.8 reading through a NULL pointer in
// H5F__accum_read while listing a group whose B-tree is corrupt. Such a crash must not reach a scientist as
// "Segmentation fault": while libhdf5 runs for a file, a fault on that thread prints one line naming the file
// and ends the process (nothing after a fault inside the library is safe to run, so there is no recovery; every
// output Kinema writes is atomic, so nothing half-written is left). A fault on any other thread goes to the
// handler that was there before. KINEMA_HDF5_CRASH_GUARD=off leaves faults to the sanitizers (the fuzz target).
import Foundation

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

enum HDF5CrashGuard {
    private typealias SignalAction = sigaction  // the struct; the bare name in an expression is the function
    private static let signals: [Int32] = [SIGSEGV, SIGBUS, SIGFPE, SIGILL]
    private static let enabled = ProcessInfo.processInfo.environment["KINEMA_HDF5_CRASH_GUARD"] != "off"
    // Read by the signal handler, so set before the handler is installed and kept in plain memory.
    nonisolated(unsafe) private static var owner: pthread_t?
    nonisolated(unsafe) private static var message: [UInt8] = []
    nonisolated(unsafe) private static var previousList = [SignalAction](repeating: SignalAction(), count: 4)

    /// Runs `body` (libhdf5 calls for `file`, under `HDF5Library`'s lock) with the guard installed.
    static func run<T>(file: String, version: String, _ body: () throws -> T) rethrows -> T {
        guard enabled else { return try body() }
        let program = URL(fileURLWithPath: CommandLine.arguments.first ?? "kinema").lastPathComponent
        message = Array(
            "\(program): error: \(file): this HDF5 file is damaged: the HDF5 library (libhdf5 \(version)) crashed reading it; nothing was written\n"
                .utf8)
        owner = pthread_self()
        var action = SignalAction()
        #if canImport(Glibc)
        action.__sigaction_handler.sa_handler = handleFault
        #else
        action.__sigaction_u.__sa_handler = handleFault
        #endif
        sigemptyset(&action.sa_mask)
        for (i, signal) in signals.enumerated() { sigaction(signal, &action, &previousList[i]) }
        defer {
            for (i, signal) in signals.enumerated() { sigaction(signal, &previousList[i], nil) }
            owner = nil
        }
        return try body()
    }

    /// On the guarded thread: the line, then exit 1. Elsewhere: the previous handler is put back and the faulting
    /// instruction, run again on return, reaches it.
    private static let handleFault: @convention(c) (Int32) -> Void = { signal in
        if let owner = HDF5CrashGuard.owner, pthread_equal(owner, pthread_self()) != 0 {
            HDF5CrashGuard.message.withUnsafeBytes { _ = write(2, $0.baseAddress, $0.count) }
            _exit(1)
        }
        if let i = HDF5CrashGuard.signals.firstIndex(of: signal) { sigaction(signal, &HDF5CrashGuard.previousList[i], nil) }
    }
}
