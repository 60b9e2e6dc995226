// Progress of long work on stderr: done/total, rate, ETA and free-form figures. On a terminal one line is
// redrawn in place; into a file or a pipe, plain lines are written now and then, so logs stay readable.
import Foundation

/// One progress report for one piece of work. Thread-safe: decode workers and the training loop may both update it.
public final class ProgressLine: @unchecked Sendable {
    private let label: String?
    private var total: Int
    private let unit: String
    private let enabled: Bool
    private let terminal: Bool
    private let quietSeconds: Double
    private let write: @Sendable (String) -> Void
    private let start = Date()
    private let lock = NSLock()
    private var lastDraw = Date.distantPast
    private var drawn = false
    private var lastDone = 0

    /// - Parameters:
    ///   - label: printed before the figures (e.g. the video's name).
    ///   - enabled: false prints nothing (tests, `--quiet`).
    ///   - quietSeconds: nothing is printed before this much time has passed, so short work stays silent.
    ///   - terminal: redraw in place; by default, whether stderr is a terminal.
    ///   - write: where the text goes (stderr; tests collect it).
    public init(
        label: String? = nil, total: Int, unit: String, enabled: Bool = true, quietSeconds: Double = 0,
        terminal: Bool = Console.standardErrorIsTerminal,
        write: @escaping @Sendable (String) -> Void = Console.writeError
    ) {
        self.label = label
        self.total = total
        self.unit = unit
        self.enabled = enabled
        self.quietSeconds = quietSeconds
        self.terminal = terminal
        self.write = write
    }

    /// Seconds since the work started.
    public var elapsed: Double { Date().timeIntervalSince(start) }

    /// Reports `done` of `total`; `extra` is appended (e.g. "loss 0.0123  err 4.2 px"). Redraws at most four
    /// times a second on a terminal and every ten seconds otherwise, unless `force`. `of` replaces the total,
    /// for work whose size is learnt as it goes.
    public func update(_ done: Int, of newTotal: Int? = nil, extra: String = "", force: Bool = false) {
        guard enabled else { return }
        lock.lock(); defer { lock.unlock() }
        if let newTotal { total = newTotal }
        lastDone = done
        let now = Date()
        let elapsed = now.timeIntervalSince(start)
        guard force || elapsed >= quietSeconds else { return }
        guard force || now.timeIntervalSince(lastDraw) >= (terminal ? 0.25 : 10) else { return }
        lastDraw = now
        drawn = true
        let text = Self.describe(
            label: label, done: done, total: total, unit: unit, elapsed: elapsed, extra: extra,
            bar: terminal)
        write(terminal ? "\r" + text + "\u{1B}[K" : text + "\n")
    }

    /// Ends the report of work that is complete: the final figures (if anything was shown, or `extra` has
    /// something to say) and a newline on a terminal, so what follows starts on a fresh line.
    public func finish(extra: String = "") {
        lock.lock()
        let total = total
        lock.unlock()
        end(at: total, extra: extra)
    }

    /// Ends the report of work that stopped early (interrupted, early stopping): the figures where it stopped.
    public func stop(_ reason: String) {
        lock.lock()
        let done = lastDone
        lock.unlock()
        end(at: done, extra: reason)
    }

    private func end(at done: Int, extra: String) {
        guard enabled else { return }
        lock.lock()
        let shown = drawn
        lock.unlock()
        guard shown || !extra.isEmpty else { return }
        update(done, extra: extra, force: true)
        if terminal { write("\n") }
    }

    /// `label ████······ 50% 5/10 2.00 frames/s ETA 0:03 extra` (the bar only on a terminal).
    static func describe(
        label: String?, done: Int, total: Int, unit: String, elapsed: Double, extra: String,
        bar: Bool
    ) -> String {
        let rate = elapsed > 0 ? Double(done) / elapsed : 0
        let eta = rate > 0 ? Double(total - done) / rate : .nan
        let percent = total > 0 ? 100 * done / total : 100
        var parts: [String] = []
        if let label { parts.append(label) }
        if bar {
            let width = 20
            let filled = total > 0 ? Swift.min(width, Swift.max(0, width * done / total)) : width
            parts.append(String(repeating: "█", count: filled) + String(repeating: "·", count: width - filled))
        }
        parts.append("\(percent)% \(done)/\(total) \(String(format: "%.2f", rate)) \(unit)/s ETA \(formatDuration(eta))")
        if !extra.isEmpty { parts.append(extra) }
        return parts.joined(separator: " ")
    }
}

/// `1:05:09`, `4:12`, or `?` for an unknown duration.
public func formatDuration(_ seconds: Double) -> String {
    guard seconds.isFinite, seconds >= 0 else { return "?" }
    let s = Int(seconds.rounded())
    return s >= 3600 ? String(format: "%d:%02d:%02d", s / 3600, s / 60 % 60, s % 60) : String(format: "%d:%02d", s / 60, s % 60)
}
