// libgomp's wait policy as `kinema` chose it before libgomp loaded (Sources/CProcessStart), and what
// `kinema info` says about it.
import CProcessStart
import Foundation

extension ProcessPolicy {
    /// What the `kinema` executable chose before libgomp loaded, if anything (set once, in `main`).
    nonisolated(unsafe) static var waitPolicyChosenByKinema: String?

    /// Called first thing in `kinema`'s `main`, while the process has one thread and has loaded neither libtorch nor
    /// FFmpeg (whose libsoxr brings libgomp): OMP_WAIT_POLICY=PASSIVE unless the user set OMP_WAIT_POLICY or
    /// GOMP_SPINCOUNT. libgomp reads it when the first tensor or video loads it; CTorch's loader then gives child
    /// processes (benchmark baselines) the user's environment back.
    public static func chooseWaitPolicy() {
        waitPolicyChosenByKinema = kinema_choose_wait_policy().map { String(cString: $0) }
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
