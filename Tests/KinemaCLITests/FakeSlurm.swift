// A stand-in Slurm for the batch tests: sbatch, sacct and squeue as scripts answering as Slurm does (job ids from
// 4242 up, `sbatch --parsable`'s `id;cluster`), and an array task run here as Slurm would run it.
import Foundation

struct FakeSlurm {
    /// The folder of the scripts and of what they record (`sbatch.log`, `sacct.txt`).
    let folder: URL
    /// PATH with the scripts first, and FAKE_SLURM.
    let environment: [String: String]

    init(in dir: URL) throws {
        folder = dir.appendingPathComponent("fake-slurm-\(UInt32.random(in: 0...UInt32.max))")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        let tools = [
            "sbatch":
                "n=$(cat \"$FAKE_SLURM/n\" 2>/dev/null || echo 4241); n=$((n+1)); echo $n > \"$FAKE_SLURM/n\"\necho \"$@\" >> \"$FAKE_SLURM/sbatch.log\"\necho \"$n;local\"",
            "sacct": "cat \"$FAKE_SLURM/sacct.txt\"", "squeue": "exit 0",
        ]
        for (name, body) in tools {
            let path = folder.appendingPathComponent(name).path
            try ("#!/bin/sh\n" + body + "\n").write(toFile: path, atomically: true, encoding: .utf8)
            chmod(path, 0o755)
        }
        environment = [
            "PATH": folder.path + ":" + (ProcessInfo.processInfo.environment["PATH"] ?? "/usr/bin:/bin"), "FAKE_SLURM": folder.path,
        ]
    }

    /// The arguments of every sbatch call so far, one call a line.
    var sbatchLog: String { (try? String(contentsOf: folder.appendingPathComponent("sbatch.log"), encoding: .utf8)) ?? "" }

    /// What sacct answers from now on (`job_task|STATE|exit`, one task a line).
    func setSacct(_ text: String) throws {
        try text.write(to: folder.appendingPathComponent("sacct.txt"), atomically: true, encoding: .utf8)
    }

    /// Runs array task `task` of `script` as Slurm would: the script, with its index in the environment.
    func runTask(_ script: String, _ task: Int, _ arguments: [String] = []) throws -> Int32 {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/bin/bash")
        process.arguments = [script] + arguments
        process.environment = ProcessInfo.processInfo.environment.merging(["SLURM_ARRAY_TASK_ID": "\(task)"]) { $1 }
        process.standardOutput = FileHandle.nullDevice
        process.standardError = FileHandle.nullDevice
        try process.run()
        process.waitUntilExit()
        return process.terminationStatus
    }
}
