import Foundation

// Which rank this process is, from the launcher's environment: Slurm's `srun` or torchrun-style variables.

/// A process's place in a data-parallel job, read from its launcher's environment variables.
public struct DistributedEnvironment: Sendable, Equatable {
    public var rank: Int
    public var worldSize: Int
    /// The rank among the processes on this node (which GPU it would take).
    public var localRank: Int
    /// Where rank 0 serves the group's store.
    public var masterAddress: String
    public var masterPort: Int
    /// "torchrun" (RANK, WORLD_SIZE, …) or "srun" (SLURM_PROCID, SLURM_NTASKS, …).
    public var launcher: String

    public init(rank: Int, worldSize: Int, localRank: Int, masterAddress: String, masterPort: Int, launcher: String) {
        (self.rank, self.worldSize, self.localRank) = (rank, worldSize, localRank)
        (self.masterAddress, self.masterPort, self.launcher) = (masterAddress, masterPort, launcher)
    }

    /// PyTorch's default rendezvous port.
    public static let defaultPort = 29500

    /// Reads torchrun-style variables (RANK, WORLD_SIZE, LOCAL_RANK, MASTER_ADDR, MASTER_PORT) when RANK is set,
    /// else Slurm's (SLURM_PROCID, SLURM_NTASKS, SLURM_LOCALID; rank 0 runs on the first node of
    /// SLURM_STEP_NODELIST or SLURM_JOB_NODELIST; the port is MASTER_PORT, else 15000 + SLURM_JOB_ID mod 20000, so
    /// two jobs sharing a node do not collide). MASTER_ADDR/MASTER_PORT override Slurm's choice.
    /// - Throws: one line saying what is missing or malformed.
    public static func detect(_ env: [String: String]) throws(TorchError) -> DistributedEnvironment {
        func fail(_ message: String) -> TorchError { TorchError(.invalidArgument, message, op: "--distributed") }
        func integer(_ name: String, minimum: Int) throws(TorchError) -> Int? {
            guard let text = env[name] else { return nil }
            guard let value = Int(text.trimmingCharacters(in: .whitespaces)), value >= minimum else {
                throw fail("\(name)=\(text) is not a whole number ≥ \(minimum)")
            }
            return value
        }
        func port(default value: Int) throws(TorchError) -> Int {
            let p = try integer("MASTER_PORT", minimum: 1) ?? value
            guard p <= 65535 else { throw fail("MASTER_PORT=\(p) is not a TCP port (1–65535)") }
            return p
        }
        var found: DistributedEnvironment
        if env["RANK"] != nil {
            guard let rank = try integer("RANK", minimum: 0), let size = try integer("WORLD_SIZE", minimum: 1) else {
                throw fail("RANK is set but WORLD_SIZE is not (torchrun sets both, with MASTER_ADDR and MASTER_PORT)")
            }
            found = DistributedEnvironment(
                rank: rank, worldSize: size, localRank: try integer("LOCAL_RANK", minimum: 0) ?? rank,
                masterAddress: env["MASTER_ADDR"] ?? "127.0.0.1", masterPort: try port(default: defaultPort), launcher: "torchrun")
        } else if env["SLURM_PROCID"] != nil {
            guard let rank = try integer("SLURM_PROCID", minimum: 0), let size = try integer("SLURM_NTASKS", minimum: 1) else {
                throw fail("SLURM_PROCID is set but SLURM_NTASKS is not: start the ranks with srun -n N")
            }
            let address: String
            if let given = env["MASTER_ADDR"] {
                address = given
            } else if let list = env["SLURM_STEP_NODELIST"] ?? env["SLURM_JOB_NODELIST"] ?? env["SLURM_NODELIST"] {
                do throws(TorchError) {
                    address = try expandHostlist(list).first ?? "127.0.0.1"
                } catch {
                    throw fail("SLURM_JOB_NODELIST=\(list): \(error.message)")
                }
            } else {
                address = "127.0.0.1"
            }
            let job = try integer("SLURM_JOB_ID", minimum: 0) ?? 0
            found = DistributedEnvironment(
                rank: rank, worldSize: size, localRank: try integer("SLURM_LOCALID", minimum: 0) ?? 0,
                masterAddress: address, masterPort: try port(default: 15000 + job % 20000), launcher: "srun")
        } else {
            throw fail(
                "no rank in the environment: start the ranks with srun (Slurm) or torchrun, or set RANK, WORLD_SIZE, MASTER_ADDR and MASTER_PORT"
            )
        }
        guard found.rank < found.worldSize else {
            throw fail("rank \(found.rank) is not below the world size \(found.worldSize)")
        }
        return found
    }

    /// Expands Slurm's hostlist syntax: `node[01-04,07],gpu5` → node01, node02, node03, node04, node07, gpu5
    /// (zero padding kept; several bracket groups in one name give their product, `r[1-2]n[1,3]` → r1n1, r1n3, r2n1, r2n3).
    public static func expandHostlist(_ list: String) throws(TorchError) -> [String] {
        func fail(_ message: String) -> TorchError { TorchError(.invalidArgument, message, op: "hostlist") }
        // Split at the commas outside brackets.
        var names: [String] = [], current = "", depth = 0
        for c in list {
            switch c {
            case "[": depth += 1
            case "]":
                depth -= 1
                guard depth >= 0 else { throw fail("unbalanced ] in \(list)") }
            default: break
            }
            if c == ",", depth == 0 {
                names.append(current)
                current = ""
            } else {
                current.append(c)
            }
        }
        guard depth == 0 else { throw fail("unbalanced [ in \(list)") }
        names.append(current)
        var hosts: [String] = []
        for name in names.map({ $0.trimmingCharacters(in: .whitespaces) }) where !name.isEmpty {
            hosts += try expandName(name, fail)
        }
        guard !hosts.isEmpty else { throw fail("no host names in \"\(list)\"") }
        return hosts
    }

    private static func expandName(_ name: String, _ fail: (String) -> TorchError) throws(TorchError) -> [String] {
        guard let open = name.firstIndex(of: "[") else { return [name] }
        guard let close = name[open...].firstIndex(of: "]") else { throw fail("unbalanced [ in \(name)") }
        let prefix = String(name[..<open]), body = name[name.index(after: open)..<close]
        let rest = try expandName(String(name[name.index(after: close)...]), fail)
        var values: [String] = []
        for part in body.split(separator: ",", omittingEmptySubsequences: false) {
            let bounds = part.split(separator: "-", omittingEmptySubsequences: false)
            guard (1...2).contains(bounds.count),
                bounds.allSatisfy({ !$0.isEmpty && $0.allSatisfy(\.isASCII) && $0.allSatisfy(\.isNumber) }),
                let low = Int(bounds[0]), let high = Int(bounds.last!), low <= high, high - low < 100_000
            else { throw fail("\"\(part)\" in \(name) is not a number or a range like 01-04") }
            let width = bounds[0].count
            for v in low...high {
                let digits = String(v)
                values.append(String(repeating: "0", count: max(0, width - digits.count)) + digits)
            }
        }
        return values.flatMap { v in rest.map { prefix + v + $0 } }
    }
}
