// A progress line on stderr: count, rate, ETA and any extra figures, rewritten in place.
import Foundation

/// Reports progress of long work on stderr at most four times a second; silent for work that
/// finishes within a second.
public struct ProgressLine: Sendable {
    private let total: Int
    private let unit: String
    private let start = Date()
    private var lastPrint = Date.distantPast
    private var printed = false
    /// Whether to print at all (off in tests and `--quiet` runs).
    public var enabled: Bool

    public init(total: Int, unit: String, enabled: Bool = true) {
        self.total = total
        self.unit = unit
        self.enabled = enabled
    }

    /// Seconds since the line was created.
    public var elapsed: Double { Date().timeIntervalSince(start) }

    /// Updates the line after `done` of `total` units; `extra` is appended (e.g. `loss 0.91`).
    public mutating func update(_ done: Int, extra: String = "", rateScale: Double = 1, rateUnit: String? = nil) {
        guard enabled else { return }
        let now = Date()
        let elapsed = now.timeIntervalSince(start)
        guard elapsed > 1, now.timeIntervalSince(lastPrint) > 0.25 || done == total else { return }
        lastPrint = now
        let rate = Double(done) / elapsed
        let eta = rate > 0 ? Double(total - done) / rate : 0
        let line = String(format: "\r%d/%d %@  %.1f %@/s  ETA %.0f s  %@   ", done, total, unit, rate * rateScale,
                          rateUnit ?? unit, eta, extra)
        FileHandle.standardError.write(Data(line.utf8))
        printed = true
    }

    /// Ends the line (newline) if anything was printed.
    public mutating func finish() {
        if printed { FileHandle.standardError.write(Data("\n".utf8)) }
        printed = false
    }
}
