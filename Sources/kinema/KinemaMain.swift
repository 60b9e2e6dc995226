// The `kinema` executable: applies the process policy once, then runs KinemaCLI (everything else lives
// there so that it can be tested as a library).
import KinemaCLI
import ProcessPolicy
import Torch

@main
enum KinemaMain {
    static func main() async {
        // Once, before any command runs (see `ProcessPolicy` for why each setting exists). The wait policy first:
        // libgomp reads it when the first tensor or video loads it, and it is set while the process has one thread.
        ProcessPolicy.chooseWaitPolicy()
        ProcessPolicy.Allocator.tensorWorkloads.apply()
        Runtime.threads = ProcessPolicy.threadCount()
        await Kinema.main()
    }
}
