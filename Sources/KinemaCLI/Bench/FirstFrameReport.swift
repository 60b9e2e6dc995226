// `kinema bench predict`'s start-up measurement from outside: a `kinema predict` child started with
// `KINEMA_REPORT_FIRST_FRAME=1` prints how long after its start the first batch was predicted.
import Foundation

/// Set `KINEMA_REPORT_FIRST_FRAME=1` to have prediction print one line on standard error when the
/// first frames are processed: `kinema-first-frame <seconds since the process started>`.
enum FirstFrameReport {
    /// The hook `kinema predict` passes to prediction: nil unless the benchmark asked for the report.
    static var hookIfRequested: (() -> Void)? {
        guard ProcessInfo.processInfo.environment["KINEMA_REPORT_FIRST_FRAME"] == "1" else { return nil }
        return { reportProcessAge() }
    }
}

/// Prints `kinema-first-frame <s>` on standard error: seconds since this process started
/// (`/proc/self/stat` start time against `/proc/uptime`, 10 ms resolution).
func reportProcessAge() {
    guard let stat = try? String(contentsOfFile: "/proc/self/stat", encoding: .utf8),
        let uptime = (try? String(contentsOfFile: "/proc/uptime", encoding: .utf8))?.split(separator: " ").first.flatMap({ Double($0) }),
        let close = stat.lastIndex(of: ")")
    else { return }
    // Fields after the command name; the start time is field 22 of the whole line (20th after ")").
    let fields = stat[stat.index(after: close)...].split(separator: " ")
    guard fields.count > 19, let ticks = Double(fields[19]) else { return }
    let hz = Double(sysconf(Int32(_SC_CLK_TCK)))
    FileHandle.standardError.write("kinema-first-frame \(String(format: "%.3f", uptime - ticks / hz))\n".data(using: .utf8)!)
}
