// The `kinema` executable: applies the process policy once, then runs KinemaCLI (everything else lives
// there so that it can be tested as a library).
import KinemaCLI
import ProcessPolicy
import Torch

@main
enum KinemaMain {
    static func main() async {
        // Once, before any command runs (see `ProcessPolicy` for why each setting exists). The OpenMP
        // wait policy itself was set before libgomp loaded (Sources/CProcessStart).
        ProcessPolicy.adoptWaitPolicyChosenAtStart()
        ProcessPolicy.Allocator.tensorWorkloads.apply()
        Runtime.threads = ProcessPolicy.threadCount()
        await Kinema.main()
    }
}
