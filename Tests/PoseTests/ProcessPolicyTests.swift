// The thread-count rule of the process policy: KINEMA_THREADS, else the cores the process may use — never the load.
import Foundation
import ProcessPolicy
import Testing

@Suite struct ProcessPolicyTests {
    @Test func threadCountRule() {
        // KINEMA_THREADS wins when it is a positive integer; otherwise the available cores.
        #expect(ProcessPolicy.threadCount(setting: "3", available: 2) == 3)
        #expect(ProcessPolicy.threadCount(setting: "0", available: 4) == 4)
        #expect(ProcessPolicy.threadCount(setting: "two", available: 4) == 4)
        #expect(ProcessPolicy.threadCount(setting: nil, available: 16) == 16)
        #expect(ProcessPolicy.threadCount(setting: nil, available: 0) == 1)
        // #11.8: nothing else goes in (it used to drop to 1 thread when the 1-minute load reached the core count).
        unsetenv("KINEMA_THREADS")
        #expect(ProcessPolicy.threadCount() == ProcessPolicy.availableCores())
    }

    @Test func availableCoresFollowAffinityAndQuota() {
        #expect(ProcessPolicy.availableCores() >= 1)
        #expect(ProcessPolicy.availableCores() <= ProcessInfo.processInfo.processorCount)
        #expect(ProcessPolicy.cgroupQuota("max 100000\n") == nil)
        #expect(ProcessPolicy.cgroupQuota("200000 100000\n") == 2)
        #expect(ProcessPolicy.cgroupQuota("150000 100000") == 2)
        #expect(ProcessPolicy.cgroupQuota("50000 100000") == 1)
        #expect(ProcessPolicy.cgroupQuota("") == nil)
        #expect(ProcessPolicy.cpuListCount("\t0-1\n") == 2)
        #expect(ProcessPolicy.cpuListCount("0-3,8,10-11") == 7)
        #expect(ProcessPolicy.cpuListCount("5") == 1)
        #expect(ProcessPolicy.cpuListCount("") == nil && ProcessPolicy.cpuListCount("a-b") == nil)
        #expect(ProcessPolicy.cpuListCount(" 0 - 1 , 4\n") == 3)
    }

    /// availableCores reads /proc/self/status with read(2) (no Foundation set-up at start-up): it must see what
    /// Foundation sees there, capped by the cgroup quota when there is one.
    @Test func availableCoresReadTheProcessAffinity() throws {
        let status = try String(contentsOfFile: "/proc/self/status", encoding: .utf8)
        let line = try #require(status.split(separator: "\n").first { $0.hasPrefix("Cpus_allowed_list:") })
        let allowed = try #require(ProcessPolicy.cpuListCount(String(line.dropFirst("Cpus_allowed_list:".count))))
        let quota = (try? String(contentsOfFile: "/sys/fs/cgroup/cpu.max", encoding: .utf8)).flatMap(ProcessPolicy.cgroupQuota)
        #expect(ProcessPolicy.availableCores() == max(1, min(allowed, quota ?? allowed)))
    }
}
