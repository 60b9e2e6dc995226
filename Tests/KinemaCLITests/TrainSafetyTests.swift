// `kinema train` / `kinema evaluate` with the accidents of a lab's first hour (issue #11): relative config paths,
// an existing model folder, bad options, resuming and extending, budgets and Ctrl-C, and every bad input file.
// Each run is tiny: a 12-frame synthetic project at 64×64, the U-Net, one or two epochs.
import Foundation
import KinemaTestSupport
import PoseData
import Testing

/// A synthetic project whose config uses relative paths (`data_dir: .`, `video_dir: videos`), 4 frames a batch
/// (3 steps an epoch), 1 epoch, no video prediction: `<dir>/project/config.yaml`.
private func makeProject(in dir: URL, epochs: Int = 1) throws -> URL {
    let folder = dir.appendingPathComponent("project")
    _ = try SyntheticProject.write(to: folder.path, labeledFrames: 12, videoFrames: 3, size: 64, modelSize: 64)
    var config = try PoseConfig.load(path: folder.appendingPathComponent("config.yaml").path)
    config.dataDir = "."
    config.videoDir = "videos"
    config.testVideosDirectory = nil
    config.trainBatchSize = 4
    config.maxEpochs = epochs
    config.minEpochs = epochs
    config.unetFilters = 8
    config.predictVidsAfterTraining = false
    try config.yamlText().write(to: folder.appendingPathComponent("config.yaml"), atomically: true, encoding: .utf8)
    return folder
}

private func text(_ url: URL) -> String { (try? String(contentsOf: url, encoding: .utf8)) ?? "" }

/// The `status` (and `reason`) of a model folder's train_status.json.
private func trainStatus(_ model: URL) throws -> (status: String, reason: String?) {
    let data = try Data(contentsOf: model.appendingPathComponent("train_status.json"))
    let json = try #require(try JSONSerialization.jsonObject(with: data) as? [String: Any])
    return (json["status"] as? String ?? "", json["reason"] as? String)
}

/// The train_loss and val_pixel_error columns of metrics.csv.
private func losses(_ model: URL) -> [String] {
    text(model.appendingPathComponent("metrics.csv")).split(separator: "\n").dropFirst().map { line in
        let c = line.split(separator: ",", omittingEmptySubsequences: false)
        return "\(c[0]) \(c[2]) \(c[4])"
    }
}

/// Mounts a small tmpfs at `folder` (root only); nil, with the reason, when the system does not allow it.
private func mountTmpfs(_ folder: URL, size: String, readOnly: Bool = false) throws -> String? {
    try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
    guard let mount = TestFiles.tool("mount") else { return "no mount tool" }
    let status = try runTool(mount, ["-t", "tmpfs", "-o", "size=\(size)" + (readOnly ? ",ro" : ""), "tmpfs", folder.path])
    return status == 0 ? nil : "mount -t tmpfs is not permitted here (not root, or no CAP_SYS_ADMIN)"
}

private func unmount(_ folder: URL) {
    if let umount = TestFiles.tool("umount") { _ = try? runTool(umount, [folder.path]) }
}

@Suite("kinema train safety", .serialized)
struct TrainSafetyTests {
    /// #11.9: `kinema train` alone prints train's own usage, not the list of every command.
    @Test func noArgumentsPrintsTrainsUsage() throws {
        let result = try KinemaProcess.run(["train"])
        #expect(result.status != 0, "\(result)")
        #expect(result.stderr.contains("give a project config, or --resume MODEL_DIR"), "\(result)")
        #expect(result.stderr.contains("Usage: kinema train"), "\(result)")
        #expect(!result.stderr.contains("SUBCOMMANDS") && !result.stderr.contains("kinema <subcommand>"), "\(result)")
    }

    /// #11.5: options are checked before anything is read or written, and the error names the option.
    @Test func badOptionsAreRefusedBeforeAnyWork() throws {
        let dir = try TestFiles.temporaryDirectory("train-options")
        defer { try? FileManager.default.removeItem(at: dir) }
        _ = try makeProject(in: dir)
        let cases: [([String], String)] = [
            (["--epochs", "0"], "--epochs 0: must be at least 1"),
            (["--epochs=-3"], "--epochs -3: must be at least 1"),
            (["--max-minutes", "0"], "--max-minutes 0.0: must be a positive number"),
            (["--max-minutes=-1"], "--max-minutes -1.0"),
            (["--image-size", "250"], "--image-size 250: the networks take multiples of 32 (their total stride), e.g. 224 or 256"),
            (["--image-size", "16"], "--image-size 16"),
            (["--backbone", "resnet7"], "--backbone resnet7: must be one of unet"),
            (["--pretrained", "no-weights.pth"], "--pretrained no-weights.pth: no such file"),
        ]
        for (options, message) in cases {
            let result = try KinemaProcess.run(["train", "project/config.yaml", "--model-dir", "model"] + options, in: dir)
            expectOneErrorLine(result, naming: message)
            #expect(!FileManager.default.fileExists(atPath: dir.appendingPathComponent("model").path), "\(options) wrote nothing")
        }
    }

    /// #11.1: a config with relative paths gives the same model from its own folder and from the parent; the model's
    /// config.yaml holds absolute paths and data_dir from the model folder, so the moved whole still evaluates.
    @Test func relativeConfigPathsGiveTheSameModelFromAnyFolder() throws {
        setenv("KINEMA_THREADS", "1", 1)
        defer { unsetenv("KINEMA_THREADS") }
        let dir = try TestFiles.temporaryDirectory("train-relative")
        defer { try? FileManager.default.removeItem(at: dir) }
        let project = try makeProject(in: dir)
        let inside = try KinemaProcess.succeed(["train", "config.yaml", "--model-dir", "../m1"], in: project, timeout: 240)
        let parent = try KinemaProcess.succeed(["train", "project/config.yaml", "--model-dir", "m2"], in: dir, timeout: 240)
        let absolute = project.resolvingSymlinksInPath().path
        for result in [inside, parent] {
            #expect(result.stderrLines.contains("videos: 1 in \(absolute)/videos (not predicted)"), "\(result)")
        }
        let m1 = dir.appendingPathComponent("m1"), m2 = dir.appendingPathComponent("m2")
        let config = text(m1.appendingPathComponent("config.yaml"))
        #expect(config == text(m2.appendingPathComponent("config.yaml")))
        #expect(config.contains("data_dir: \(absolute)\n") && config.contains("video_dir: \(absolute)/videos\n"), "\(config)")
        #expect(config.contains("data_dir_relative: ../project\n"), "\(config)")
        #expect(losses(m1) == losses(m2) && losses(m1).count == 1)
        #expect(
            FileManager.default.contents(atPath: m1.appendingPathComponent("checkpoints/best.safetensors").path)
                == FileManager.default.contents(atPath: m2.appendingPathComponent("checkpoints/best.safetensors").path))

        // The project and its models moved together: the absolute path is gone, the relative one finds the data.
        let moved = dir.deletingLastPathComponent().appendingPathComponent(dir.lastPathComponent + "-moved")
        try FileManager.default.moveItem(at: dir, to: moved)
        defer { try? FileManager.default.removeItem(at: moved) }
        let evaluate = try KinemaProcess.succeed(["evaluate", "m1"], in: moved)
        #expect(!evaluate.stdoutLines.isEmpty, "\(evaluate)")
    }

    /// #11.1: a missing or empty video folder is said in one line.
    @Test func missingOrEmptyVideoFolderIsSaid() throws {
        let dir = try TestFiles.temporaryDirectory("train-videos")
        defer { try? FileManager.default.removeItem(at: dir) }
        let project = try makeProject(in: dir)
        let videos = project.appendingPathComponent("videos")
        for name in try FileManager.default.contentsOfDirectory(atPath: videos.path) {
            try FileManager.default.removeItem(at: videos.appendingPathComponent(name))
        }
        let empty = try KinemaProcess.succeed(["train", "project/config.yaml", "--model-dir", "a"], in: dir, timeout: 240)
        let folder = videos.resolvingSymlinksInPath().path
        #expect(
            empty.stderrLines.contains { $0.hasPrefix("videos: none — \(folder) holds no video files (data.video_dir in ") }, "\(empty)")
        try FileManager.default.removeItem(at: videos)
        let missing = try KinemaProcess.succeed(["train", "project/config.yaml", "--model-dir", "b"], in: dir, timeout: 240)
        #expect(missing.stderrLines.contains { $0.hasPrefix("videos: none — \(folder) does not exist (data.video_dir in ") }, "\(missing)")
    }

    /// #11.2: an existing model folder is refused (and left byte for byte) unless --resume or --overwrite; a run that
    /// fails its checks with --overwrite leaves it too.
    @Test func existingModelFolderIsRefusedAndKept() throws {
        let dir = try TestFiles.temporaryDirectory("train-existing")
        defer { try? FileManager.default.removeItem(at: dir) }
        _ = try makeProject(in: dir)
        try KinemaProcess.succeed(["train", "project/config.yaml", "--model-dir", "model"], in: dir, timeout: 240)
        let model = dir.appendingPathComponent("model")
        let before = snapshot(model)
        #expect(before.keys.contains("checkpoints/best.safetensors") && before.keys.contains("config.yaml"))

        let again = try KinemaProcess.run(["train", "project/config.yaml", "--model-dir", "model"], in: dir)
        expectOneErrorLine(again, naming: "model: already holds a model (checkpoints, config.yaml, metrics.csv)")
        #expect(again.stderr.contains("use --resume to continue or --overwrite to replace"), "\(again)")
        #expect(snapshot(model) == before)

        // --overwrite, but the new run's labels are broken: its checks fail before any file is touched.
        let labels = dir.appendingPathComponent("project/CollectedData.csv")
        let good = try Data(contentsOf: labels)
        try Data().write(to: labels)
        let broken = try KinemaProcess.run(["train", "project/config.yaml", "--model-dir", "model", "--overwrite"], in: dir)
        expectOneErrorLine(broken, naming: "CollectedData.csv")
        #expect(snapshot(model) == before)
        let badOption = try KinemaProcess.run(
            ["train", "project/config.yaml", "--model-dir", "model", "--overwrite", "--epochs", "0"], in: dir)
        expectOneErrorLine(badOption, naming: "--epochs 0")
        #expect(snapshot(model) == before)

        try good.write(to: labels)
        let replaced = try KinemaProcess.succeed(
            ["train", "project/config.yaml", "--model-dir", "model", "--overwrite"], in: dir, timeout: 240)
        #expect(replaced.stderrLines.last == "model directory: model", "\(replaced)")
        #expect(try trainStatus(model).status == "COMPLETED")
    }

    /// #11.6 and #11.8: a finished run is extended with --resume --epochs and matches the run that went straight
    /// there; the resumed run uses the thread count the folder recorded, and says so when KINEMA_THREADS overrides it.
    @Test func resumeExtendsAFinishedRunExactly() throws {
        setenv("KINEMA_THREADS", "1", 1)
        defer { unsetenv("KINEMA_THREADS") }
        let dir = try TestFiles.temporaryDirectory("train-extend")
        defer { try? FileManager.default.removeItem(at: dir) }
        _ = try makeProject(in: dir)
        try KinemaProcess.succeed(["train", "project/config.yaml", "--model-dir", "straight", "--epochs", "2"], in: dir, timeout: 240)
        try KinemaProcess.succeed(["train", "project/config.yaml", "--model-dir", "extended", "--epochs", "1"], in: dir, timeout: 240)
        let extended = dir.appendingPathComponent("extended")

        let finished = try KinemaProcess.run(["train", "--resume", "extended"], in: dir)
        expectOneErrorLine(finished, naming: "has already trained 1 of max_epochs 1 epochs; to train longer, resume with --epochs N")

        unsetenv("KINEMA_THREADS")  // the default would be every core: the recorded count must win
        let resumed = try KinemaProcess.succeed(["train", "--resume", "extended", "--epochs", "2"], in: dir, timeout: 240)
        #expect(
            resumed.stderrLines.contains("libtorch threads: 1, as recorded when this run started (set KINEMA_THREADS to override)")
                || ProcessInfo.processInfo.activeProcessorCount == 1, "\(resumed)")
        #expect(resumed.stderrLines.contains { $0.hasPrefix("resuming extended after epoch 1 (step 3), to epoch 2") }, "\(resumed)")
        let straight = losses(dir.appendingPathComponent("straight"))
        let continued = losses(extended)
        #expect(straight.count == 2 && continued.count == 2)
        // Epoch 1 was validated in the 1-epoch run only; the training losses and the final validation match.
        #expect(
            continued.map { $0.split(separator: " ")[1] } == straight.map { $0.split(separator: " ")[1] }, "\(continued) vs \(straight)")
        #expect(continued.last == straight.last, "\(continued) vs \(straight)")
        #expect(try trainStatus(extended).status == "COMPLETED")
        #expect(text(extended.appendingPathComponent("config.yaml")).contains("max_epochs: 2\n"))

        setenv("KINEMA_THREADS", "2", 1)
        let overridden = try KinemaProcess.succeed(["train", "--resume", "extended", "--epochs", "3"], in: dir, timeout: 240)
        #expect(
            overridden.stderrLines.contains {
                $0.hasPrefix("KINEMA_THREADS=2 overrides the 1 thread(s) this run trained with")
            }, "\(overridden)")
    }

    /// #11.8: the same command gives the same weights on a quiet and on a busy machine (the default thread count
    /// used to follow the load average).
    @Test func sameCommandSameWeightsOnABusyMachine() throws {
        unsetenv("KINEMA_THREADS")
        let dir = try TestFiles.temporaryDirectory("train-busy")
        defer { try? FileManager.default.removeItem(at: dir) }
        _ = try makeProject(in: dir)
        let quiet = try KinemaProcess.succeed(["train", "project/config.yaml", "--model-dir", "quiet"], in: dir, timeout: 240)
        let running = Flag()
        let burners = (0..<ProcessInfo.processInfo.activeProcessorCount).map { _ in
            Thread { while running.isSet { _ = (0..<10_000).reduce(0, &+) } }
        }
        burners.forEach { $0.start() }
        Thread.sleep(forTimeInterval: 2)
        let busy = try KinemaProcess.succeed(["train", "project/config.yaml", "--model-dir", "busy"], in: dir, timeout: 240)
        running.clear()
        let threads = { (result: CommandResult) in result.stderrLines.first { $0.hasPrefix("libtorch threads: ") } }
        #expect(threads(quiet) != nil && threads(quiet) == threads(busy), "\(quiet)\n\(busy)")
        #expect(
            FileManager.default.contents(atPath: dir.appendingPathComponent("quiet/checkpoints/best.safetensors").path)
                == FileManager.default.contents(atPath: dir.appendingPathComponent("busy/checkpoints/best.safetensors").path))
    }

    /// #11.6 and #11.7: --max-minutes stops inside an epoch at a step, resumably: the status says INTERRUPTED with
    /// the reason, and --resume finishes with the losses of the run that was never stopped.
    @Test func timeBudgetStopsMidEpochAndResumeMatches() throws {
        setenv("KINEMA_THREADS", "1", 1)
        defer { unsetenv("KINEMA_THREADS") }
        let dir = try TestFiles.temporaryDirectory("train-budget")
        defer { try? FileManager.default.removeItem(at: dir) }
        _ = try makeProject(in: dir)
        try KinemaProcess.succeed(["train", "project/config.yaml", "--model-dir", "straight", "--epochs", "2"], in: dir, timeout: 240)
        let stopped = try KinemaProcess.succeed(
            ["train", "project/config.yaml", "--model-dir", "budget", "--epochs", "2", "--max-minutes", "0.000001"], in: dir, timeout: 240)
        let budget = dir.appendingPathComponent("budget")
        #expect(
            stopped.stderrLines.contains {
                $0.hasPrefix("time budget of ")
                    && $0.contains(" spent in epoch 1 after step 1; continue with: kinema train --resume budget")
            }, "\(stopped)")
        let status = try trainStatus(budget)
        #expect(status.status == "INTERRUPTED" && status.reason?.contains("time budget") == true, "\(status)")
        #expect(losses(budget).isEmpty)
        let resumed = try KinemaProcess.succeed(["train", "--resume", "budget"], in: dir, timeout: 240)
        #expect(resumed.stderrLines.contains { $0.hasPrefix("resuming budget in epoch 1 after step 1 (step 1)") }, "\(resumed)")
        #expect(losses(budget) == losses(dir.appendingPathComponent("straight")), "\(losses(budget))")
        #expect(try trainStatus(budget).status == "COMPLETED")
    }

    /// #11.7: Ctrl-C during training leaves the status INTERRUPTED (never TRAINING) and a folder that resumes.
    @Test func ctrlCLeavesAnInterruptedResumableRun() throws {
        let dir = try TestFiles.temporaryDirectory("train-ctrl-c")
        defer { try? FileManager.default.removeItem(at: dir) }
        _ = try makeProject(in: dir)
        let process = Process()
        process.executableURL = try KinemaProcess.executable()
        process.arguments = ["train", "project/config.yaml", "--model-dir", "model", "--epochs", "500"]
        process.currentDirectoryURL = dir
        let log = dir.appendingPathComponent("stderr")
        _ = FileManager.default.createFile(atPath: log.path, contents: nil)
        let handle = try FileHandle(forWritingTo: log)
        process.standardError = handle
        process.standardOutput = FileHandle.nullDevice
        try process.run()
        let deadline = Date().addingTimeInterval(120)
        while !text(log).contains("split:"), process.isRunning, Date() < deadline { Thread.sleep(forTimeInterval: 0.05) }
        Thread.sleep(forTimeInterval: 0.5)
        process.interrupt()
        process.waitUntilExit()
        try handle.close()
        let output = text(log)
        #expect(process.terminationStatus == 130, "\(output)")
        #expect(output.contains("training interrupted") && output.contains("continue with: kinema train --resume model"), "\(output)")
        let model = dir.appendingPathComponent("model")
        let status = try trainStatus(model)
        #expect(status.status == "INTERRUPTED" && status.reason?.contains("training interrupted") == true, "\(status)")
        // Progress into a file is plain lines: no carriage returns or escape codes, the last line on its own.
        #expect(!output.contains("\r") && !output.contains("\u{1B}["), "\(output)")
        // It stopped inside epoch 1 (resumes to the end of it) or after it (then there is nothing left to do).
        let resumed = try KinemaProcess.run(["train", "--resume", "model", "--epochs", "1"], in: dir, timeout: 240)
        #expect(resumed.status == 0 || resumed.stderr.contains("has already trained"), "\(resumed)")
    }

    /// #11.10: a DeepLabCut project without pretrained weights trains the U-Net, says so, and validates on more
    /// than LP's one frame; its model folder reads the whole project again (evaluate, --resume).
    @Test func deepLabCutProjectGetsTheFromScratchDefault() throws {
        let dir = try TestFiles.temporaryDirectory("train-dlc")
        defer { try? FileManager.default.removeItem(at: dir) }
        let synthetic = try makeProject(in: dir)
        // The synthetic labels as a DLC project: two labeled-data folders of 6 frames, CollectedData_me.csv in each.
        let dlc = dir.appendingPathComponent("dlc")
        let lines = text(synthetic.appendingPathComponent("CollectedData.csv")).split(separator: "\n").map(String.init)
        for (folder, rows) in [("walk1", lines[3..<9]), ("walk2", lines[9..<15])] {
            let labeled = dlc.appendingPathComponent("labeled-data/\(folder)")
            try FileManager.default.createDirectory(at: labeled, withIntermediateDirectories: true)
            var csv = lines[0..<3].joined(separator: "\n") + "\n"
            for row in rows {
                let name = String(row.prefix { $0 != "," }.dropFirst("labeled-data/".count))
                try FileManager.default.copyItem(
                    at: synthetic.appendingPathComponent("labeled-data/\(name)"), to: labeled.appendingPathComponent(name))
                csv += row.replacingOccurrences(of: "labeled-data/", with: "labeled-data/\(folder)/") + "\n"
            }
            try csv.write(to: labeled.appendingPathComponent("CollectedData_me.csv"), atomically: true, encoding: .utf8)
        }
        let parts = SyntheticAnimalScene.keypointNames.map { "- \($0)" }.joined(separator: "\n")
        try "Task: walk\nscorer: me\ndate: Dec7\nbodyparts:\n\(parts)\nTrainingFraction:\n- 0.95\n"
            .write(to: dlc.appendingPathComponent("config.yaml"), atomically: true, encoding: .utf8)
        let result = try KinemaProcess.succeed(
            ["train", "dlc/config.yaml", "--model-dir", "model", "--epochs", "1", "--image-size", "64", "--no-videos"], in: dir,
            timeout: 240)
        #expect(result.stderrLines.contains { $0.hasPrefix("backbone: unet, the network that learns from scratch") }, "\(result)")
        #expect(result.stderrLines.contains { $0.hasPrefix("split: 9 train, 3 validation, 0 test frames") }, "\(result)")
        #expect(text(dir.appendingPathComponent("model/config.yaml")).contains("backbone: unet\n"))
        // The model folder reads the project's labels again: every labeled-data folder, not the first one only.
        try KinemaProcess.succeed(["evaluate", "model"], in: dir)
        let predictions = text(dir.appendingPathComponent("model/predictions.csv")).split(separator: "\n")
        #expect(predictions.count == 3 + 12, "\(predictions.count) lines")
        #expect(predictions.contains { $0.hasPrefix("labeled-data/walk2/") })
    }

    // MARK: - The bad-input matrix

    /// `kinema train` on every kind of bad input: one line naming the file or option, nothing earlier destroyed.
    @Test func trainBadInputMatrix() throws {
        let dir = try TestFiles.temporaryDirectory("train-matrix")
        defer { try? FileManager.default.removeItem(at: dir) }
        let project = try makeProject(in: dir)
        try KinemaProcess.succeed(["train", "project/config.yaml", "--model-dir", "earlier"], in: dir, timeout: 240)
        let earlier = snapshot(dir.appendingPathComponent("earlier"))
        let config = project.appendingPathComponent("config.yaml"), labels = project.appendingPathComponent("CollectedData.csv")
        let goodConfig = try Data(contentsOf: config), goodLabels = try Data(contentsOf: labels)
        let png = project.appendingPathComponent("labeled-data/img0000.png")

        struct Row {
            var name: String
            var prepare: () throws -> String?  // nil, or why the row is skipped here
            var arguments: [String]
            var naming: String
        }
        let rows: [Row] = [
            Row(
                name: "config missing", prepare: { nil }, arguments: ["train", "project/nope.yaml"],
                naming: "project/nope.yaml: cannot read the config file"),
            Row(
                name: "config unreadable",
                prepare: {
                    if getuid() == 0 { return "tests run as root, where chmod 000 does not stop reads" }
                    chmod(config.path, 0)
                    return nil
                }, arguments: ["train", "project/config.yaml"], naming: "config.yaml: cannot read the config file"),
            Row(
                name: "config empty",
                prepare: {
                    try Data().write(to: config); return nil
                }, arguments: ["train", "project/config.yaml"], naming: "config.yaml: the config is empty"),
            Row(
                name: "config truncated",
                prepare: {
                    let text = String(decoding: goodConfig, as: UTF8.self)
                    let cut = text.range(of: "image_resize_dims:\n    height: 64")!.upperBound
                    try Data(text[..<cut].dropLast().utf8).write(to: config)  // `height: 6`
                    return nil
                }, arguments: ["train", "project/config.yaml"], naming: "config.yaml:"),
            Row(
                name: "config is a PNG", prepare: { nil }, arguments: ["train", "project/labeled-data/img0000.png"],
                naming: "img0000.png: is not a text file"),
            Row(
                name: "loss key out of range",
                prepare: {
                    var c = try PoseConfig.load(path: config.path)
                    c.losses.temporal.probThreshold = 2
                    try Data(c.yamlText().utf8).write(to: config)
                    return nil
                }, arguments: ["train", "project/config.yaml"], naming: "losses.temporal.prob_threshold must be in [0, 1]"),
            Row(
                name: "loss setting the project contradicts",
                prepare: {
                    var c = try PoseConfig.load(path: config.path)
                    c.lossesToUse = ["temporal"]
                    c.losses.temporal.epsilon = [1, 2, 3]
                    try Data(c.yamlText().utf8).write(to: config)
                    return nil
                }, arguments: ["train", "project/config.yaml"], naming: "losses.temporal.epsilon has 3 values for 11 keypoints"),
            Row(
                name: "labels missing",
                prepare: {
                    try FileManager.default.removeItem(at: labels); return nil
                }, arguments: ["train", "project/config.yaml"], naming: "CollectedData.csv"),
            Row(
                name: "labels empty",
                prepare: {
                    try Data().write(to: labels); return nil
                }, arguments: ["train", "project/config.yaml"], naming: "CollectedData.csv"),
            Row(
                name: "labels truncated",
                prepare: {
                    try goodLabels.prefix(goodLabels.count * 2 / 3).write(to: labels); return nil
                },
                arguments: ["train", "project/config.yaml"], naming: "CollectedData.csv"),
            Row(
                name: "labels are a PNG",
                prepare: {
                    try Data(contentsOf: png).write(to: labels); return nil
                }, arguments: ["train", "project/config.yaml"], naming: "CollectedData.csv"),
            Row(
                name: "model folder unwritable",
                prepare: { try mountTmpfs(dir.appendingPathComponent("readonly"), size: "1m", readOnly: true) },
                arguments: ["train", "project/config.yaml", "--model-dir", "readonly/model"], naming: "readonly/model: cannot be written"),
            Row(
                name: "model folder is a file", prepare: { nil },
                arguments: ["train", "project/config.yaml", "--model-dir", "project/CollectedData.csv"],
                naming: "CollectedData.csv: is a file"),
            Row(
                name: "existing model folder", prepare: { nil }, arguments: ["train", "project/config.yaml", "--model-dir", "earlier"],
                naming: "earlier: already holds a model"),
            Row(
                name: "disk full",
                prepare: { try mountTmpfs(dir.appendingPathComponent("full"), size: "1m") },
                arguments: ["train", "project/config.yaml", "--model-dir", "full/model"], naming: "full/model/"),
        ]
        for row in rows {
            defer {
                try? goodConfig.write(to: config)
                chmod(config.path, 0o644)
                try? goodLabels.write(to: labels)
                unmount(dir.appendingPathComponent("readonly"))
                unmount(dir.appendingPathComponent("full"))
                try? FileManager.default.removeItem(at: dir.appendingPathComponent("new"))
            }
            if let skipped = try row.prepare() {
                print("skipped train matrix row '\(row.name)': \(skipped)")
                continue
            }
            let result = try KinemaProcess.run(
                row.arguments + ["--model-dir", "new"].filter { _ in !row.arguments.contains("--model-dir") }, in: dir, timeout: 240)
            expectOneErrorLine(result, naming: row.naming)
            #expect(snapshot(dir.appendingPathComponent("earlier")) == earlier, "row '\(row.name)' changed an earlier model")
            if row.name == "disk full" {
                #expect(try trainStatus(dir.appendingPathComponent("full/model")).status == "FAILED", "\(row.name)")
            } else {
                #expect(
                    !FileManager.default.fileExists(atPath: dir.appendingPathComponent("new").path),
                    "row '\(row.name)' wrote a model folder")
            }
        }
    }

    /// `kinema evaluate` on every kind of bad input: one line naming the file, the model folder left as it was.
    @Test func evaluateBadInputMatrix() throws {
        let dir = try TestFiles.temporaryDirectory("evaluate-matrix")
        defer { try? FileManager.default.removeItem(at: dir) }
        let project = try makeProject(in: dir)
        try KinemaProcess.succeed(["train", "project/config.yaml", "--model-dir", "model"], in: dir, timeout: 240)
        let model = dir.appendingPathComponent("model")
        let before = snapshot(model)
        #expect(before.keys.contains("predictions.csv"))
        let config = model.appendingPathComponent("config.yaml"), labels = project.appendingPathComponent("CollectedData.csv")
        let goodConfig = try Data(contentsOf: config), goodLabels = try Data(contentsOf: labels)
        let png = project.appendingPathComponent("labeled-data/img0000.png")
        let rows: [(String, () throws -> String?, [String], String)] = [
            ("model folder missing", { nil }, ["evaluate", "nowhere"], "nowhere is not a Kinema model directory"),
            (
                "config missing",
                {
                    try FileManager.default.removeItem(at: config); return nil
                }, ["evaluate", "model"], "model is not a Kinema model directory (no config.yaml)"
            ),
            (
                "config unreadable",
                {
                    if getuid() == 0 { return "tests run as root, where chmod 000 does not stop reads" }
                    chmod(config.path, 0)
                    return nil
                }, ["evaluate", "model"], "config.yaml: cannot read the config file"
            ),
            (
                "config empty",
                {
                    try Data().write(to: config); return nil
                }, ["evaluate", "model"], "config.yaml: the config is empty"
            ),
            (
                "config truncated",
                {
                    try goodConfig.prefix(goodConfig.count / 3).write(to: config); return nil
                }, ["evaluate", "model"], "config.yaml"
            ),
            (
                "config is a PNG",
                {
                    try Data(contentsOf: png).write(to: config); return nil
                }, ["evaluate", "model"], "config.yaml: is not a text file"
            ),
            (
                "labels missing",
                {
                    try FileManager.default.removeItem(at: labels); return nil
                }, ["evaluate", "model"], "CollectedData.csv"
            ),
            (
                "labels empty",
                {
                    try Data().write(to: labels); return nil
                }, ["evaluate", "model"], "CollectedData.csv"
            ),
            (
                "labels truncated",
                {
                    try goodLabels.prefix(goodLabels.count * 2 / 3).write(to: labels); return nil
                }, ["evaluate", "model"], "CollectedData.csv"
            ),
        ]
        for (name, prepare, arguments, naming) in rows {
            defer {
                try? goodConfig.write(to: config)
                chmod(config.path, 0o644)
                try? goodLabels.write(to: labels)
            }
            if let skipped = try prepare() {
                print("skipped evaluate matrix row '\(name)': \(skipped)")
                continue
            }
            let result = try KinemaProcess.run(arguments, in: dir)
            expectOneErrorLine(result, naming: naming)
            var now = snapshot(model)
            now["config.yaml"] = goodConfig  // the row's own damage
            #expect(now == before, "row '\(name)' changed the model folder")
        }

        // Unwritable and full disks: the model folder copied onto a small tmpfs, then made read-only / filled.
        let mounted = dir.appendingPathComponent("disk")
        if let skipped = try mountTmpfs(mounted, size: "8m") {
            print("skipped evaluate matrix rows 'unwritable', 'disk full': \(skipped)")
            return
        }
        defer { unmount(mounted) }
        try FileManager.default.copyItem(at: model, to: mounted.appendingPathComponent("model"))
        let copy = mounted.appendingPathComponent("model")
        let copied = snapshot(copy)
        let filler = mounted.appendingPathComponent("filler")
        _ = FileManager.default.createFile(atPath: filler.path, contents: nil)
        let handle = try FileHandle(forWritingTo: filler)
        let block = Data(count: 64 * 1024)
        while (try? handle.write(contentsOf: block)) != nil {}
        try? handle.close()
        let full = try KinemaProcess.run(["evaluate", "disk/model"], in: dir)
        expectOneErrorLine(full, naming: "disk/model/predictions")
        #expect(snapshot(copy) == copied, "a full disk changed the model folder")
        try FileManager.default.removeItem(at: filler)
        if let mount = TestFiles.tool("mount"), try runTool(mount, ["-o", "remount,ro", mounted.path]) == 0 {
            let readOnly = try KinemaProcess.run(["evaluate", "disk/model"], in: dir)
            expectOneErrorLine(readOnly, naming: "disk/model: cannot be written")
            #expect(snapshot(copy) == copied)
        } else {
            print("skipped evaluate matrix row 'unwritable': remount read-only is not permitted")
        }
    }
}

/// A flag that starts set and is cleared once, read from other threads.
private final class Flag: @unchecked Sendable {
    private let lock = NSLock()
    private var value = true
    var isSet: Bool { lock.withLock { value } }
    func clear() { lock.withLock { value = false } }
}
