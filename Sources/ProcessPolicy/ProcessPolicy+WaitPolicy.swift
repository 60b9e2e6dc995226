// libgomp's wait policy as `kinema` chose it before libgomp loaded (Sources/CProcessStart), and what
// `kinema info` says about it.
import Foundation

extension ProcessPolicy {
    /// What the `kinema` executable chose before libgomp loaded, if anything (set once, in `main`).
    nonisolated(unsafe) static var waitPolicyChosenByKinema: String?

    /// Called first thing in `kinema`'s `main`: remembers the wait policy `CProcessStart` added for this
    /// process and removes it from the environment, so that child processes (benchmark baselines,
    /// `kinema` started by a benchmark) get the user's environment. libgomp read it when it loaded.
    public static func adoptWaitPolicyChosenAtStart() {
        guard getenv("KINEMA_CHOSE_OMP_WAIT_POLICY") != nil else { return }
        waitPolicyChosenByKinema = getenv("OMP_WAIT_POLICY").map { String(cString: $0) }
        unsetenv("OMP_WAIT_POLICY")
        unsetenv("KINEMA_CHOSE_OMP_WAIT_POLICY")
    }

    /// How libtorch's idle threads wait in this process, in one line (`kinema info`).
    public static var waitPolicyDescription: String {
        if let chosen = waitPolicyChosenByKinema {
            return "OMP_WAIT_POLICY=\(chosen) (kinema's choice: spinning threads take the cores from other work)"
        }
        let environment = ProcessInfo.processInfo.environment
        return environment["OMP_WAIT_POLICY"].map { "OMP_WAIT_POLICY=\($0)" }
            ?? environment["GOMP_SPINCOUNT"].map { "GOMP_SPINCOUNT=\($0)" } ?? "libgomp's default (spin, then sleep)"
    }
}
