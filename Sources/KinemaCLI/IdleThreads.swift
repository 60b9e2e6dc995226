import Foundation

/// How libtorch's idle threads wait in this process (libgomp reads it once, when it is loaded).
public enum IdleThreads {
    /// What the `kinema` executable chose before libgomp loaded (Sources/CProcessStart), if anything.
    nonisolated(unsafe) static var chosenByKinema: String?

    /// Called first thing in `main`: remembers the policy the executable added for itself and removes
    /// it from the environment, so that child processes (benchmark baselines, `kinema` started by a
    /// benchmark) get the user's environment.
    public static func adoptPolicyChosenAtStart() {
        guard getenv("KINEMA_CHOSE_OMP_WAIT_POLICY") != nil else { return }
        chosenByKinema = getenv("OMP_WAIT_POLICY").map { String(cString: $0) }
        unsetenv("OMP_WAIT_POLICY")
        unsetenv("KINEMA_CHOSE_OMP_WAIT_POLICY")
    }

    /// One line for `kinema info`.
    static var description: String {
        if let chosenByKinema { return "OMP_WAIT_POLICY=\(chosenByKinema) (kinema's choice: spinning threads take the cores from other work)" }
        let environment = ProcessInfo.processInfo.environment
        return environment["OMP_WAIT_POLICY"].map { "OMP_WAIT_POLICY=\($0)" }
            ?? environment["GOMP_SPINCOUNT"].map { "GOMP_SPINCOUNT=\($0)" } ?? "libgomp's default (spin, then sleep)"
    }
}
