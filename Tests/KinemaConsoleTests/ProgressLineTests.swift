// The progress reporter's text, its pacing into files and onto terminals, and the Ctrl-C flag.
import Foundation
import KinemaConsole
import Synchronization
import Testing

/// Collects what a progress line writes.
final class Collected: Sendable {
    private let text = Mutex<[String]>([])
    func append(_ s: String) { text.withLock { $0.append(s) } }
    var writes: [String] { text.withLock { $0 } }
}

@Suite struct ProgressLineTests {
    @Test func plainLinesIntoAFileArePacedAndEndAtTheTotal() {
        let out = Collected()
        let progress = ProgressLine(label: "video.mp4", total: 10, unit: "frames", terminal: false, write: out.append)
        progress.update(1)  // the first update is shown
        progress.update(2)  // within ten seconds of the last one: not shown
        progress.update(3, extra: "loss 0.5", force: true)
        progress.finish()
        #expect(out.writes.count == 3)
        #expect(out.writes.allSatisfy { $0.hasSuffix("\n") && !$0.contains("\r") && !$0.contains("\u{1B}") })
        #expect(out.writes[0].hasPrefix("video.mp4 10% 1/10 "))
        #expect(out.writes[1].hasPrefix("video.mp4 30% 3/10 ") && out.writes[1].hasSuffix(" loss 0.5\n"))
        #expect(out.writes[2].hasPrefix("video.mp4 100% 10/10 "))
    }

    @Test func aTerminalLineIsRedrawnInPlaceWithABar() {
        let out = Collected()
        let progress = ProgressLine(total: 4, unit: "it", terminal: true, write: out.append)
        progress.update(2, force: true)
        progress.finish()
        #expect(out.writes.count == 3)
        #expect(out.writes[0].hasPrefix("\r" + String(repeating: "█", count: 10) + String(repeating: "·", count: 10) + " 50% 2/4 "))
        #expect(out.writes[0].hasSuffix("\u{1B}[K"))
        #expect(out.writes[1].contains(" 100% 4/4 "))
        #expect(out.writes[2] == "\n")
    }

    @Test func stoppedWorkShowsWhereItStopped() {
        let out = Collected()
        let progress = ProgressLine(total: 400, unit: "steps", terminal: false, write: out.append)
        progress.update(39, force: true)
        progress.stop("interrupted")
        #expect(out.writes.last?.hasPrefix("9% 39/400 ") == true)
        #expect(out.writes.last?.hasSuffix(" interrupted\n") == true)
    }

    @Test func shortWorkStaysSilent() {
        let out = Collected()
        let progress = ProgressLine(total: 3, unit: "trials", quietSeconds: 60, terminal: false, write: out.append)
        progress.update(1)
        progress.update(2)
        progress.finish()
        #expect(out.writes.isEmpty)
        let off = ProgressLine(total: 3, unit: "trials", enabled: false, write: out.append)
        off.update(3, force: true)
        off.stop("interrupted")
        #expect(out.writes.isEmpty)
    }

    @Test func totalsLearntOnTheWay() {
        let out = Collected()
        let progress = ProgressLine(label: "choosing s:", total: 0, unit: "keypoints", terminal: false, write: out.append)
        progress.update(2, of: 8, force: true)
        #expect(out.writes.first?.hasPrefix("choosing s: 25% 2/8 ") == true)
    }

    @Test func durationsReadAsClockTimes() {
        #expect(formatDuration(0) == "0:00")
        #expect(formatDuration(252) == "4:12")
        #expect(formatDuration(3909) == "1:05:09")
        #expect(formatDuration(.nan) == "?")
        #expect(formatDuration(-1) == "?")
    }

    @Test func interruptionIsAskedAndForgotten() {
        Interruption.reset()
        #expect(!Interruption.isRequested)
        Interruption.request()
        #expect(Interruption.isRequested)
        Interruption.reset()
        #expect(!Interruption.isRequested)
    }
}
