// The thread-count rule of the process policy (KINEMA_THREADS, else 1 thread on a busy machine).
import ProcessPolicy
import Testing

@Suite struct ProcessPolicyTests {
    @Test func threadCountRule() {
        // KINEMA_THREADS wins when it is a positive integer.
        #expect(ProcessPolicy.threadCount(setting: "3", loadAverage: 9, cores: 2) == 3)
        #expect(ProcessPolicy.threadCount(setting: "0", loadAverage: 0.1, cores: 4) == 4)
        #expect(ProcessPolicy.threadCount(setting: "two", loadAverage: nil, cores: 4) == 4)
        // Otherwise one per core, unless the 1-minute load already fills the cores (≥ cores − 0.5).
        #expect(ProcessPolicy.threadCount(setting: nil, loadAverage: 1.49, cores: 2) == 2)
        #expect(ProcessPolicy.threadCount(setting: nil, loadAverage: 1.5, cores: 2) == 1)
        #expect(ProcessPolicy.threadCount(setting: nil, loadAverage: nil, cores: 16) == 16)
    }
}
