// A one-line progress display on stderr: done/total, rate, ETA and free-form figures.
import Foundation

/// Redraws one stderr line at most every 0.25 s; `finish()` ends it with a newline.
public final class ProgressLine: @unchecked Sendable {
    let label: String
    let total: Int
    let unit: String
    let start = Date()
    var lastDraw = Date.distantPast
    let enabled: Bool

    public init(label: String, total: Int, unit: String, enabled: Bool = true) {
        self.label = label
        self.total = total
        self.unit = unit
        self.enabled = enabled
    }

    /// Updates the line; `extra` is appended (e.g. "loss 0.0123  err 4.2 px").
    public func update(done: Int, extra: String = "", force: Bool = false) {
        guard enabled else { return }
        let now = Date()
        guard force || now.timeIntervalSince(lastDraw) > 0.25 else { return }
        lastDraw = now
        let elapsed = now.timeIntervalSince(start)
        let rate = elapsed > 0 ? Double(done) / elapsed : 0
        let eta = rate > 0 ? Double(total - done) / rate : .nan
        let percent = total > 0 ? 100 * done / total : 100
        let barWidth = 20
        let filled = total > 0 ? barWidth * done / total : barWidth
        let bar = String(repeating: "█", count: filled) + String(repeating: "·", count: barWidth - filled)
        let line = "\r\(label) \(bar) \(percent)% \(done)/\(total) \(String(format: "%.2f", rate)) \(unit)/s ETA \(formatDuration(eta)) \(extra)"
        FileHandle.standardError.write(Data((line + "\u{1B}[K").utf8))
    }

    public func finish(extra: String = "") {
        guard enabled else { return }
        update(done: total, extra: extra, force: true)
        FileHandle.standardError.write(Data("\n".utf8))
    }
}

/// `1:05:09`, `4:12`, or `?` for an unknown duration.
public func formatDuration(_ seconds: Double) -> String {
    guard seconds.isFinite, seconds >= 0 else { return "?" }
    let s = Int(seconds.rounded())
    return s >= 3600 ? String(format: "%d:%02d:%02d", s / 3600, s / 60 % 60, s % 60) : String(format: "%d:%02d", s / 60, s % 60)
}

/// Writes a line to stderr (log messages that must not mix with CSV on stdout).
public func logLine(_ text: String) {
    FileHandle.standardError.write(Data((text + "\n").utf8))
}
