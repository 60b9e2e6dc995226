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
    }
}
