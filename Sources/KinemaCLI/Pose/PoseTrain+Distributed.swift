// `kinema train --distributed`: this process's rank from srun or torchrun, and the group it joins.
import Foundation
import KinemaConsole
import Torch

extension PoseTrain {
    /// Reads the rank from the launcher's environment and joins the group (rank 0 serves its store).
    func joinGroup(timeout: Double) throws -> ProcessGroup {
        let env = try DistributedEnvironment.detect(ProcessInfo.processInfo.environment)
        if env.rank == 0 {
            logLine(
                "data-parallel training over \(env.worldSize) rank(s) from \(env.launcher); waiting up to \(Int(timeout)) s for them at \(env.masterAddress):\(env.masterPort)"
            )
        }
        return try ProcessGroup(
            host: env.masterAddress, port: env.masterPort, rank: env.rank, size: env.worldSize, timeout: timeout)
    }
}
