// `kinema train --distributed` with its ranks as real processes (Gloo over loopback): the same weights as one
// process on the whole batch (batch norm synchronised), exact resume, and a rank that dies or never comes named in
// one line. With Slurm (`sinfo` answers, as in CI), the same through `srun -n 2`.
import Foundation
import Glibc
import KinemaTestSupport
import PoseData
import Synchronization
import Testing
import Torch
import TorchNN

/// A synthetic project: 100 labelled 64×64 frames, 80 of them training (5 batches of the config's 16), the U-Net
/// (with batch norm) at 8 filters, no videos predicted.
private func makeProject(in dir: URL, trainFrames: Int = 80) throws -> URL {
    let folder = dir.appendingPathComponent("project")
    _ = try SyntheticProject.write(to: folder.path, labeledFrames: 100, videoFrames: 3, size: 64, modelSize: 64)
    var config = try PoseConfig.load(path: folder.appendingPathComponent("config.yaml").path)
    config.dataDir = "."
    config.videoDir = "videos"
    config.testVideosDirectory = nil
    config.trainBatchSize = 16
    config.trainFrames = Double(trainFrames)
    config.maxEpochs = 1
    config.minEpochs = 1
    config.unetFilters = 8
    config.predictVidsAfterTraining = false
    try config.yamlText().write(to: folder.appendingPathComponent("config.yaml"), atomically: true, encoding: .utf8)
    return folder.appendingPathComponent("config.yaml")
}

private func scratch(_ name: String) throws -> URL {
    let dir = FileManager.default.temporaryDirectory.appendingPathComponent("kinema-\(name)-\(UUID().uuidString)")
    try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
    return dir
}

/// Each rank of `kinema arguments…` as its own process, torchrun-style variables on a free port; all results.
private func launchRanks(_ size: Int, _ arguments: [String], timeout: TimeInterval = 240, extra: [String: String] = [:]) -> [CommandResult]
{
    let port = LoopbackPort.free()
    let results = RankResults()
    let done = DispatchGroup()
    for rank in 0..<size {
        done.enter()
        Thread.detachNewThread {
            let env = [
                "RANK": "\(rank)", "WORLD_SIZE": "\(size)", "MASTER_ADDR": "127.0.0.1", "MASTER_PORT": "\(port)", "KINEMA_THREADS": "1",
            ]
            let result =
                (try? KinemaProcess.run(arguments, timeout: timeout, environment: env.merging(extra) { $1 }))
                ?? CommandResult(arguments: arguments, status: -1, stdout: "", stderr: "could not start kinema")
            results.set(rank, result)
            done.leave()
        }
    }
    done.wait()
    return results.all(size)
}

/// What each rank's process gave (a class: a Mutex alone cannot be captured by the threads' closures).
private final class RankResults: Sendable {
    private let values = Mutex<[Int: CommandResult]>([:])
    func set(_ rank: Int, _ value: CommandResult) { values.withLock { $0[rank] = value } }
    func all(_ size: Int) -> [CommandResult] { values.withLock { v in (0..<size).map { v[$0]! } } }
}

/// Every tensor of a model folder's last checkpoint (`model.*`, `optim.*`, …), as float64.
private func tensors(_ model: URL) throws -> [String: [Double]] {
    let (tensors, _) = try SafeTensors.read(model.appendingPathComponent("checkpoints/last.safetensors"))
    var out: [String: [Double]] = [:]
    for (name, t) in tensors { out[name] = try t.toArray(Double.self) }
    return out
}

/// The model tensors (`model.*`) of a model folder's last checkpoint, as float64.
private func weights(_ model: URL) throws -> [String: [Double]] { try tensors(model).filter { $0.key.hasPrefix("model.") } }

/// The largest absolute difference between two checkpoints' model tensors (infinity if their names differ).
private func largestDifference(_ a: [String: [Double]], _ b: [String: [Double]]) -> Double {
    guard Set(a.keys) == Set(b.keys), !a.isEmpty else { return .infinity }
    return a.keys.map { k in zip(a[k]!, b[k]!).map { abs($0 - $1) }.max() ?? 0 }.max() ?? 0
}

private func column(_ model: URL, _ index: Int) -> [String] {
    let text = (try? String(contentsOf: model.appendingPathComponent("metrics.csv"), encoding: .utf8)) ?? ""
    return text.split(separator: "\n").dropFirst().map { String($0.split(separator: ",", omittingEmptySubsequences: false)[index]) }
}

/// Whether a Slurm cluster answers here (`sinfo`), for the srun test.
private let slurmAnswers: Bool = {
    let process = Process()
    process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
    process.arguments = ["sinfo", "-h", "-o", "%T"]
    process.standardOutput = FileHandle.nullDevice
    process.standardError = FileHandle.nullDevice
    do { try process.run() } catch { return false }
    process.waitUntilExit()
    return process.terminationStatus == 0
}()

@Suite("kinema train --distributed: ranks as processes over Gloo", .serialized)
struct DistributedTrainingTests {
    /// The issue's evidence, as far as float32 allows: 2 processes × batch 8 against 1 process × batch 16, batch norm
    /// included (synchronised), 5 steps. The losses agree to 1e-4; the weights as closely as two single-process runs
    /// that differ only in their thread count: Adam turns gradient components below float32's rounding noise
    /// (|g| ~ 1e-8, under its ε) into ±lr steps, so no float32 run reproduces another to 1e-5 (measured: 0.021 between
    /// 2 ranks and 1 process, 0.024 between 1 and 2 threads of one process, after 5 steps). The 1e-5 equality itself,
    /// in float64 through the same collectives, batch norm and Adam: TorchTests' DataParallelAdamTests (4e-16).
    @Test func twoRanksOfEightTrainAsOneOfSixteen() throws {
        let dir = try scratch("ddp")
        defer { try? FileManager.default.removeItem(at: dir) }
        let config = try makeProject(in: dir).path
        let one = dir.appendingPathComponent("one"), two = dir.appendingPathComponent("two")
        let threads = dir.appendingPathComponent("threads")
        for (model, count) in [(one, "1"), (threads, "2")] {
            let single = try KinemaProcess.run(
                ["train", config, "--model-dir", model.path, "--no-videos"], environment: ["KINEMA_THREADS": count])
            #expect(single.status == 0, "\(single)")
        }
        let ranks = launchRanks(2, ["train", config, "--model-dir", two.path, "--no-videos", "--distributed"])
        for r in ranks { #expect(r.status == 0, "\(r)") }
        #expect(ranks[0].stderr.contains("data-parallel: rank 0 of 2"), "\(ranks[0])")
        #expect(ranks[1].stdout.isEmpty && ranks[1].stderr.isEmpty, "rank 1 says nothing: \(ranks[1])")
        #expect(column(one, 1) == ["5"] && column(two, 1) == ["5"], "5 steps each")
        let reference = try weights(one)
        let (distributed, noise) = (largestDifference(reference, try weights(two)), largestDifference(reference, try weights(threads)))
        print("after 5 steps, largest weight difference to 1 process × 16: 2 ranks × 8 \(distributed); 1 process, 2 threads \(noise)")
        #expect(distributed <= 2 * noise + 1e-5)
        let (lossOne, lossTwo) = (Double(column(one, 2).first ?? "") ?? 0, Double(column(two, 2).first ?? "") ?? 1)
        #expect(abs(lossOne - lossTwo) < 1e-4 * abs(lossOne), "train loss \(lossOne) vs \(lossTwo)")
        #expect(FileManager.default.fileExists(atPath: two.appendingPathComponent("train_status.json").path))
    }

    /// One step, where Adam has not yet amplified anything: the batch's loss agrees to 1e-6 and the gradients (Adam's
    /// first moment, 0.1·g, in the checkpoint) to float32 rounding: every tensor's ‖Δg‖/‖g‖ < 2% (measured ≤ 0.5%),
    /// where a mean over the ranks instead of the weighted sum would give 50%.
    @Test func firstStepGradientsAreOneProcesss() throws {
        let dir = try scratch("ddp-step")
        defer { try? FileManager.default.removeItem(at: dir) }
        let config = try makeProject(in: dir, trainFrames: 16).path
        let one = dir.appendingPathComponent("one"), two = dir.appendingPathComponent("two")
        let single = try KinemaProcess.run(["train", config, "--model-dir", one.path, "--no-videos"], environment: ["KINEMA_THREADS": "1"])
        #expect(single.status == 0, "\(single)")
        for r in launchRanks(2, ["train", config, "--model-dir", two.path, "--no-videos", "--distributed"]) {
            #expect(r.status == 0, "\(r)")
        }
        let (lossOne, lossTwo) = (Double(column(one, 2).first ?? "") ?? 0, Double(column(two, 2).first ?? "") ?? 1)
        #expect(abs(lossOne - lossTwo) < 1e-6 * abs(lossOne), "loss \(lossOne) vs \(lossTwo)")
        let (a, b) = (try tensors(one), try tensors(two))
        let moments = a.keys.filter { $0.hasSuffix(".exp_avg") }
        #expect(moments.count > 10)
        var worst = (0.0, "")
        for k in moments {
            let x = a[k]!, y = try #require(b[k])
            let norm = x.reduce(0) { $0 + $1 * $1 }.squareRoot()
            let delta = zip(x, y).reduce(0) { $0 + ($1.0 - $1.1) * ($1.0 - $1.1) }.squareRoot()
            if delta / max(norm, 1e-30) > worst.0 { worst = (delta / max(norm, 1e-30), k) }
        }
        print("first step: largest relative gradient difference \(worst.0) (\(worst.1))")
        #expect(worst.0 < 0.02)
    }

    /// 2 ranks for 2 epochs equal 2 ranks for 1 epoch resumed (`--resume --epochs 2`, every rank reads rank 0's checkpoint).
    @Test func distributedResumeIsExact() throws {
        let dir = try scratch("ddp-resume")
        defer { try? FileManager.default.removeItem(at: dir) }
        let config = try makeProject(in: dir).path
        let straight = dir.appendingPathComponent("straight"), resumed = dir.appendingPathComponent("resumed")
        for r in launchRanks(2, ["train", config, "--model-dir", straight.path, "--no-videos", "--distributed", "--epochs", "2"]) {
            #expect(r.status == 0, "\(r)")
        }
        for r in launchRanks(2, ["train", config, "--model-dir", resumed.path, "--no-videos", "--distributed", "--epochs", "1"]) {
            #expect(r.status == 0, "\(r)")
        }
        for r in launchRanks(2, ["train", "--resume", resumed.path, "--no-videos", "--distributed", "--epochs", "2"]) {
            #expect(r.status == 0, "\(r)")
        }
        #expect(largestDifference(try weights(straight), try weights(resumed)) == 0)
        #expect(column(straight, 2) == column(resumed, 2), "the same losses")
    }

    /// A rank that never starts: rank 0 fails after the timeout with one line naming it.
    @Test func aMissingRankIsNamedAfterTheTimeout() throws {
        let dir = try scratch("ddp-missing")
        defer { try? FileManager.default.removeItem(at: dir) }
        let config = try makeProject(in: dir).path
        let started = Date()
        let result = try KinemaProcess.run(
            ["train", config, "--model-dir", dir.appendingPathComponent("m").path, "--distributed", "--distributed-timeout", "2"],
            timeout: 60, environment: ["RANK": "0", "WORLD_SIZE": "2", "MASTER_ADDR": "127.0.0.1", "MASTER_PORT": "\(LoopbackPort.free())"])
        #expect(result.status == 1)
        let errors = result.stderrLines.filter { $0.contains("error") }
        #expect(
            errors.count == 1
                && errors[0].hasPrefix("kinema train: error: process group: rank 1 of 2 did not join the group at 127.0.0.1:"), "\(result)")
        #expect(Date().timeIntervalSince(started) < 30)
    }

    /// A rank killed mid-training: the other fails within the timeout with one line naming it (no hang).
    @Test func aRankThatDiesIsNamed() throws {
        let dir = try scratch("ddp-dies")
        defer { try? FileManager.default.removeItem(at: dir) }
        let config = try makeProject(in: dir).path
        let model = dir.appendingPathComponent("m")
        let port = LoopbackPort.free()
        var processes: [Process] = []
        let errURL = dir.appendingPathComponent("rank0.err")
        _ = FileManager.default.createFile(atPath: errURL.path, contents: nil)
        for rank in 0..<2 {
            let p = Process()
            p.executableURL = try KinemaProcess.executable()
            p.arguments = [
                "train", config, "--model-dir", model.path, "--no-videos", "--distributed", "--distributed-timeout", "5", "--epochs", "50",
            ]
            p.environment = ProcessInfo.processInfo.environment.merging([
                "RANK": "\(rank)", "WORLD_SIZE": "2", "MASTER_ADDR": "127.0.0.1", "MASTER_PORT": "\(port)", "KINEMA_THREADS": "1",
            ]) { $1 }
            p.standardOutput = FileHandle.nullDevice
            p.standardError = rank == 0 ? try FileHandle(forWritingTo: errURL) : FileHandle.nullDevice
            p.standardInput = FileHandle.nullDevice
            try p.run()
            processes.append(p)
        }
        defer { for p in processes where p.isRunning { kill(p.processIdentifier, SIGKILL) } }
        // Once the first epoch is in metrics.csv both ranks are mid-training.
        let deadline = Date().addingTimeInterval(120)
        while !FileManager.default.fileExists(atPath: model.appendingPathComponent("metrics.csv").path), Date() < deadline,
            processes[0].isRunning
        {
            Thread.sleep(forTimeInterval: 0.05)
        }
        try #require(processes[0].isRunning, "rank 0 stopped before the first epoch ended")
        kill(processes[1].processIdentifier, SIGKILL)
        let killed = Date()
        while processes[0].isRunning, Date().timeIntervalSince(killed) < 60 { Thread.sleep(forTimeInterval: 0.05) }
        #expect(!processes[0].isRunning, "rank 0 still runs 60 s after rank 1 died")
        processes[0].waitUntilExit()
        let stderr = (try? String(contentsOf: errURL, encoding: .utf8)) ?? ""
        let errors = stderr.split(separator: "\n").filter { $0.contains("error:") }
        #expect(processes[0].terminationStatus == 1)
        #expect(errors.count == 1 && errors[0].contains("rank 1 did not answer within 5 s"), "\(stderr)")
        print("rank 0 failed \(String(format: "%.1f", Date().timeIntervalSince(killed))) s after rank 1 was killed: \(errors.first ?? "")")
    }

    @Test(.enabled(if: slurmAnswers, "skipped: no Slurm cluster answers here (sinfo failed); CI starts one with scripts/ci/start-slurm.sh"))
    func srunTrainsTwoRanks() throws {
        let dir = try scratch("ddp-srun")
        defer { try? FileManager.default.removeItem(at: dir) }
        let config = try makeProject(in: dir).path
        let model = dir.appendingPathComponent("m")
        let srun = try KinemaProcess.run(
            [
                "srun", "-n", "2", "--kill-on-bad-exit=1", try KinemaProcess.executable().path, "train", config, "--model-dir", model.path,
                "--no-videos", "--distributed",
            ],
            timeout: 300, executable: URL(fileURLWithPath: "/usr/bin/env"), environment: ["KINEMA_THREADS": "1"])
        #expect(srun.status == 0, "\(srun)")
        #expect(srun.stderr.contains("over 2 rank(s) from srun"), "\(srun)")
        #expect(column(model, 1) == ["5"])
    }
}
