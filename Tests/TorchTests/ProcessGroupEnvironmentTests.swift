import Testing
import Torch

/// The rank, world and rendezvous address from srun's and torchrun's variables, on strings.
@Suite("Distributed environment: srun and torchrun variables, Slurm hostlists")
struct ProcessGroupEnvironmentTests {
    @Test func torchrunVariables() throws {
        let env = try DistributedEnvironment.detect([
            "RANK": "3", "WORLD_SIZE": "4", "LOCAL_RANK": "1", "MASTER_ADDR": "10.0.0.2", "MASTER_PORT": "29501",
            "SLURM_PROCID": "0", "SLURM_NTASKS": "1",  // torchrun inside an allocation: its variables win
        ])
        #expect(
            env
                == DistributedEnvironment(
                    rank: 3, worldSize: 4, localRank: 1, masterAddress: "10.0.0.2", masterPort: 29501, launcher: "torchrun"))
        let defaults = try DistributedEnvironment.detect(["RANK": "0", "WORLD_SIZE": "1"])
        #expect(defaults.masterAddress == "127.0.0.1" && defaults.masterPort == 29500 && defaults.localRank == 0)
    }

    @Test func srunVariables() throws {
        let env = try DistributedEnvironment.detect([
            "SLURM_PROCID": "5", "SLURM_NTASKS": "8", "SLURM_LOCALID": "1", "SLURM_JOB_ID": "1234567",
            "SLURM_JOB_NODELIST": "gpu[07-08,10],cpu3",
        ])
        // 15000 + 1234567 mod 20000 = 15000 + 14567
        #expect(
            env == DistributedEnvironment(rank: 5, worldSize: 8, localRank: 1, masterAddress: "gpu07", masterPort: 29567, launcher: "srun"))
        let overridden = try DistributedEnvironment.detect([
            "SLURM_PROCID": "0", "SLURM_NTASKS": "2", "SLURM_JOB_NODELIST": "n1", "MASTER_ADDR": "head", "MASTER_PORT": "4000",
        ])
        #expect(overridden.masterAddress == "head" && overridden.masterPort == 4000)
        // srun's step node list (the nodes of this step) comes before the job's
        let step = try DistributedEnvironment.detect([
            "SLURM_PROCID": "0", "SLURM_NTASKS": "2", "SLURM_STEP_NODELIST": "b[2-3]", "SLURM_JOB_NODELIST": "a1,b[2-3]",
        ])
        #expect(step.masterAddress == "b2")
    }

    @Test func missingOrBadVariablesAreOneLine() {
        func message(_ env: [String: String]) -> String {
            do {
                _ = try DistributedEnvironment.detect(env)
                return "no error"
            } catch { return "\(error)" }
        }
        #expect(message([:]).hasPrefix("--distributed: no rank in the environment: start the ranks with srun"))
        #expect(
            message(["RANK": "1"])
                == "--distributed: RANK is set but WORLD_SIZE is not (torchrun sets both, with MASTER_ADDR and MASTER_PORT)")
        #expect(message(["RANK": "2", "WORLD_SIZE": "2"]) == "--distributed: rank 2 is not below the world size 2")
        #expect(message(["RANK": "x", "WORLD_SIZE": "2"]) == "--distributed: RANK=x is not a whole number ≥ 0")
        #expect(
            message(["RANK": "0", "WORLD_SIZE": "2", "MASTER_PORT": "70000"])
                == "--distributed: MASTER_PORT=70000 is not a TCP port (1–65535)")
        #expect(
            message(["SLURM_PROCID": "0"]) == "--distributed: SLURM_PROCID is set but SLURM_NTASKS is not: start the ranks with srun -n N")
        #expect(
            message(["SLURM_PROCID": "0", "SLURM_NTASKS": "2", "SLURM_JOB_NODELIST": "n[1-"])
                == "--distributed: SLURM_JOB_NODELIST=n[1-: unbalanced [ in n[1-")
    }

    @Test func hostlists() throws {
        #expect(try DistributedEnvironment.expandHostlist("node[01-04,07]") == ["node01", "node02", "node03", "node04", "node07"])
        #expect(try DistributedEnvironment.expandHostlist("a1,b[9-11],c") == ["a1", "b9", "b10", "b11", "c"])
        #expect(try DistributedEnvironment.expandHostlist("r[1-2]n[1,3]") == ["r1n1", "r1n3", "r2n1", "r2n3"])
        #expect(try DistributedEnvironment.expandHostlist("gpu[008-010]-ib") == ["gpu008-ib", "gpu009-ib", "gpu010-ib"])
        #expect(try DistributedEnvironment.expandHostlist("localhost") == ["localhost"])
        for bad in ["node[3-1]", "node[a-b]", "node[1-2", "node1-2]", "", "n[]"] {
            #expect(throws: TorchError.self, "\(bad)") { try DistributedEnvironment.expandHostlist(bad) }
        }
    }
}
