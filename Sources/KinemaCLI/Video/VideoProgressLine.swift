import Foundation

// MARK: - Progress on stderr

/// A one-line progress report (count, rate, ETA) rewritten in place on stderr, at most a few
/// times a second; silent for work that finishes within a second.
final class VideoProgressLine {
    private let total: Int
    private let unit: String
    private let start = Date()
    private var lastPrint = Date.distantPast
    private var printed = false

    init(total: Int, unit: String) {
        self.total = total
        self.unit = unit
    }

    func update(_ done: Int) {
        let now = Date()
        let elapsed = now.timeIntervalSince(start)
        guard elapsed > 1, now.timeIntervalSince(lastPrint) > 0.25 || done == total else { return }
        lastPrint = now
        let rate = Double(done) / elapsed
        let eta = rate > 0 ? Double(total - done) / rate : 0
        let line = String(format: "\r%d/%d %@  %.1f %@/s  ETA %.0f s   ", done, total, unit, rate, unit, eta)
        FileHandle.standardError.write(Data(line.utf8))
        printed = true
    }

    /// Ends the line (once), so what follows starts on a fresh line.
    func finish() {
        if printed { FileHandle.standardError.write(Data("\n".utf8)) }
        printed = false
    }
}
