// Issue #11's training defects at the library level: config paths resolved once, the model-folder guard, defaults
// for DeepLabCut projects, mid-epoch budget stops and extended runs that resume exactly, recorded thread counts.
import Foundation
import KinemaTestSupport
import PoseData
import PoseModels
import Testing
import Torch
import TorchNN

/// A copy of the mirror-mouse example in a fresh folder, with a config using relative paths.
private func relativeMirrorMouse(_ name: String) throws -> String {
    let dir = try temporaryDirectory(name)
    let source = TestFiles.data.appendingPathComponent("mirror-mouse-example").path
    try FileManager.default.copyItem(atPath: source, toPath: dir + "/project")
    var config = try String(contentsOfFile: dir + "/project/lp-config.yaml", encoding: .utf8)
    config = config.replacingOccurrences(of: "data_dir: ${LP_ROOT_PATH:}/data/mirror-mouse-example", with: "data_dir: .")
    config = config.replacingOccurrences(of: "video_dir: ${data.data_dir}/videos", with: "video_dir: videos")
    try config.write(toFile: dir + "/project/lp-config.yaml", atomically: true, encoding: .utf8)
    return dir
}

/// Runs `body` with `folder` as the working directory.
private func inFolder<T>(_ folder: String, _ body: () throws -> T) rethrows -> T {
    let previous = FileManager.default.currentDirectoryPath
    _ = FileManager.default.changeCurrentDirectoryPath(folder)
    defer { _ = FileManager.default.changeCurrentDirectoryPath(previous) }
    return try body()
}

/// The `model.*` tensors of a checkpoint as floats, by name.
private func weights(_ path: String) throws -> [String: [Float]] {
    var result: [String: [Float]] = [:]
    for (name, tensor) in try SafeTensors.read(URL(fileURLWithPath: path)).0 where name.hasPrefix("model.") {
        result[name] = try tensor.to(.float32).toArray(Float.self)
    }
    return result
}

@Suite(.serialized) struct TrainingSafetyTests {
    /// #11.1: `cd project && kinema train lp-config.yaml` used to give `data_dir: ''` and `video_dir: '/videos'`.
    @Test func configPathsResolveAgainstTheConfigFolder() throws {
        let example = TestFiles.data.appendingPathComponent("mirror-mouse-example").path
        let inside = try inFolder(example) { try PoseProject.load(configPath: "lp-config.yaml") }
        #expect(inside.config.dataDir == example)
        #expect(inside.config.videoDir == example + "/videos")
        #expect(inside.config.testVideosDirectory == example + "/videos")
        #expect(inside.config.configFile == example + "/lp-config.yaml")
        #expect(inside.labelFiles == [example + "/CollectedData.csv"])
        let parent = try inFolder((example as NSString).deletingLastPathComponent) {
            try PoseProject.load(configPath: "mirror-mouse-example/lp-config.yaml")
        }
        #expect(parent.config == inside.config)

        // Relative keys: data_dir against the config's folder, video_dir against data_dir (LP's rule).
        let dir = try relativeMirrorMouse("paths")
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let fromProject = try inFolder(dir + "/project") { try PoseConfig.load(path: "lp-config.yaml") }
        let fromElsewhere = try inFolder("/") { try PoseConfig.load(path: dir + "/project/../project/lp-config.yaml") }
        #expect(fromProject.dataDir == dir + "/project" && fromProject.videoDir == dir + "/project/videos")
        #expect(fromProject == fromElsewhere)
        let videos = fromProject.findVideos()
        #expect(videos.videos.map { ($0 as NSString).lastPathComponent } == ["test_vid.mp4"])
        #expect(videos.report == "videos: 1 in \(dir)/project/videos")
    }

    @Test func relativePathBetweenFolders() {
        #expect(PoseConfig.relative("/a/b/c", from: "/a/d") == "../b/c")
        #expect(PoseConfig.relative("/a/b", from: "/a/b/models/run") == "../..")
        #expect(PoseConfig.relative("/a/b", from: "/a/b") == ".")
        #expect(PoseConfig.relative("/x", from: "/") == "x")
    }

    /// A model folder's config holds absolute paths and `data_dir_relative`: moved together with its project, it
    /// still finds the labels and videos.
    @Test func movedModelFolderFindsItsProject() throws {
        let dir = try relativeMirrorMouse("moved")
        defer { try? FileManager.default.removeItem(atPath: dir + "-moved") }
        let config = try PoseConfig.load(path: dir + "/project/lp-config.yaml")
        let model = dir + "/project/models/run"
        try FileManager.default.createDirectory(atPath: model, withIntermediateDirectories: true)
        let written = config.forModelFolder(model)
        #expect(written.dataDirRelative == "../..")
        try written.yamlText().write(toFile: model + "/config.yaml", atomically: true, encoding: .utf8)
        try FileManager.default.copyItem(atPath: dir + "/project/CollectedData.csv", toPath: model + "/CollectedData.csv")
        #expect(try PoseConfig.load(path: model + "/config.yaml").dataDir == dir + "/project")

        try FileManager.default.moveItem(atPath: dir, toPath: dir + "-moved")
        let moved = try PoseConfig.load(path: dir + "-moved/project/models/run/config.yaml")
        #expect(moved.dataDir == dir + "-moved/project")
        #expect(moved.videoDir == dir + "-moved/project/videos")
        #expect(moved.csvPath == dir + "-moved/project/CollectedData.csv")  // not the model folder's copy of the labels
    }

    /// #11.2: the one guard before a new run writes anything.
    @Test func modelFolderGuard() throws {
        let dir = try temporaryDirectory("guard")
        defer { try? FileManager.default.removeItem(atPath: dir) }
        try ModelDirectory(dir + "/new/run").checkNewRun(overwrite: false)  // nothing there yet
        try FileManager.default.createDirectory(atPath: dir + "/empty", withIntermediateDirectories: true)
        try ModelDirectory(dir + "/empty").checkNewRun(overwrite: false)
        let model = ModelDirectory(dir + "/model")
        try FileManager.default.createDirectory(atPath: model.checkpoints, withIntermediateDirectories: true)
        try "x".write(toFile: model.config, atomically: true, encoding: .utf8)
        #expect {
            try model.checkNewRun(overwrite: false)
        } throws: {
            "\($0)" == "\(dir)/model: already holds a model (checkpoints, config.yaml) — use --resume to continue or --overwrite to replace"
        }
        try model.checkNewRun(overwrite: true)
        #expect(FileManager.default.fileExists(atPath: model.config), "checking never removes anything")
        try model.startNewRun(overwrite: true)
        #expect(try FileManager.default.contentsOfDirectory(atPath: model.path) == ["checkpoints"])
        #expect(try FileManager.default.contentsOfDirectory(atPath: model.checkpoints).isEmpty)
        try "x".write(toFile: model.metrics, atomically: true, encoding: .utf8)
        #expect { try ModelDirectory(model.metrics).checkNewRun(overwrite: true) } throws: {
            "\($0)" == "\(model.metrics): is a file, not a model folder — choose another --model-dir"
        }
        #expect(throws: PoseDataError.self) { try ModelDirectory(model.metrics + "/run").checkNewRun(overwrite: false) }
    }

    /// #11.7: a final status carries its one-line reason, as JSON.
    @Test func finalStatusWithReason() throws {
        let folder = ModelDirectory(try temporaryDirectory("status-reason"))
        folder.writeTrainStatus("FAILED", completed: 2, total: 5, reason: "cannot write \"x\"\\y")
        let data = try Data(contentsOf: URL(fileURLWithPath: folder.trainStatus))
        let json = try #require(try JSONSerialization.jsonObject(with: data) as? [String: Any])
        #expect(json["status"] as? String == "FAILED" && json["reason"] as? String == "cannot write \"x\"\\y")
    }

    /// #11.10: a DeepLabCut project without weights gets the U-Net, with weights DLC's ResNet-50; LP configs are
    /// left as written. Its split validates on more than LP's one frame.
    @Test func deepLabCutDefaults() throws {
        let dir = try temporaryDirectory("dlc-defaults")
        defer { try? FileManager.default.removeItem(atPath: dir) }
        try FileManager.default.createDirectory(atPath: dir + "/labeled-data/v1", withIntermediateDirectories: true)
        #expect(FileManager.default.createFile(atPath: dir + "/labeled-data/v1/CollectedData_me.csv", contents: Data()))
        try "Task: t\nscorer: me\ndate: d\nbodyparts:\n- nose\nTrainingFraction:\n- 0.95\n"
            .write(toFile: dir + "/config.yaml", atomically: true, encoding: .utf8)
        var dlc = try PoseProject.load(configPath: dir + "/config.yaml")
        #expect(dlc.config.minValFrames == DataSplit.minimumValidationFrames)
        #expect(dlc.config.videoDir == dir + "/videos")
        #expect(dlc.chooseDefaultBackbone(pretrainedWeights: false)?.hasPrefix("backbone: unet") == true)
        #expect(dlc.config.backbone == "unet")
        #expect(dlc.chooseDefaultBackbone(pretrainedWeights: true)?.hasPrefix("backbone: resnet50") == true)
        #expect(dlc.config.backbone == "resnet50")
        var lp = try PoseProject.load(configPath: mirrorMouseConfig())
        #expect(lp.chooseDefaultBackbone(pretrainedWeights: false) == nil && lp.config.backbone == "resnet50_animal_ap10k")

        // openfield-like: 93 frames, TrainingFraction 0.95. Before: val_prob 0, so LP's rule gave 1 validation frame.
        let old = DataSplit.lightningPose(count: 93, trainProb: 0.95, valProb: 0, seed: 0)
        #expect((old.train.count, old.validation.count, old.test.count) == (92, 1, 0))
        var config = PoseConfig()
        config.trainProb = 0.95
        config.valProb = 1 - 0.95
        config.minValFrames = DataSplit.minimumValidationFrames
        let split = DataSplit.of(config, count: 93)
        #expect((split.train.count, split.validation.count, split.test.count) == (88, 5, 0))
        #expect(Set(split.train + split.validation).count == 93)
        // At most a quarter of a tiny project.
        let tiny = DataSplit.of(config, count: 12)
        #expect((tiny.train.count, tiny.validation.count, tiny.test.count) == (9, 3, 0))
        // LP configs keep LP's split bit for bit.
        config.minValFrames = nil
        #expect(DataSplit.of(config, count: 93) == DataSplit.lightningPose(count: 93, trainProb: 0.95, valProb: 0.05, seed: 0))
    }

    /// #11.6: a time budget stops inside an epoch at a step; resuming gives the weights of the run never stopped.
    @Test func budgetStopsMidEpochAndResumeIsExact() throws {
        setenv("KINEMA_THREADS", "1", 1)
        defer { unsetenv("KINEMA_THREADS") }
        let project = try tinyMirrorMouse(epochs: 2)
        let dataset = try LabeledDataset.load(project: project)
        func trainer(_ dir: String, resume: Bool, minutes: Double? = nil) throws -> PoseTrainer {
            var options = TrainOptions(modelDir: dir)
            options.showProgress = false
            options.log = { _ in }
            options.resume = resume
            options.maxMinutes = minutes
            return try PoseTrainer(project: project, dataset: dataset, options: options)
        }
        let straight = try temporaryDirectory("budget-straight")
        let reference = try trainer(straight, resume: false).train()
        let stopped = try temporaryDirectory("budget-stopped")
        let first = try trainer(stopped, resume: false, minutes: 1e-9)
        #expect(first.split.train.count > project.config.trainBatchSize)  // more than one step an epoch
        #expect(try first.train().isEmpty)
        #expect(first.stoppedEarly?.contains("spent in epoch 1 after step 1") == true, "\(first.stoppedEarly ?? "")")
        let meta = try SafeTensors.read(URL(fileURLWithPath: ModelDirectory(stopped).lastCheckpoint)).1
        #expect(meta["epoch"] == "0" && meta["epoch_steps"] == "1" && meta["threads"] == "1")
        let resumed = try trainer(stopped, resume: true)
        let continued = try resumed.train()
        #expect(resumed.stoppedEarly == nil)
        #expect(continued.map(\.trainLoss) == reference.map(\.trainLoss))
        #expect(continued.last?.valPixelError == reference.last?.valPixelError)
        #expect(try weights(ModelDirectory(stopped).lastCheckpoint) == weights(ModelDirectory(straight).lastCheckpoint))
    }

    /// #11.6 and #11.8: a finished run trains on to a larger max_epochs exactly as the longer run would, with the
    /// thread count it recorded (restored even when the process was set up differently).
    @Test func finishedRunExtendsExactlyWithItsRecordedThreads() throws {
        setenv("KINEMA_THREADS", "1", 1)
        defer { unsetenv("KINEMA_THREADS") }
        var project = try tinyMirrorMouse(epochs: 1)
        let dataset = try LabeledDataset.load(project: project)
        func trainer(_ project: PoseProject, _ dir: String, resume: Bool) throws -> PoseTrainer {
            var options = TrainOptions(modelDir: dir)
            options.showProgress = false
            options.log = { _ in }
            options.resume = resume
            return try PoseTrainer(project: project, dataset: dataset, options: options)
        }
        let short = try temporaryDirectory("extend")
        try trainer(project, short, resume: false).train()
        #expect(throws: PoseModelError.self) { try trainer(project, short, resume: true).train() }  // finished: say --epochs
        project.config.maxEpochs = 2
        project.config.minEpochs = 2
        project.config.checkValEveryNEpoch = 2
        let long = try temporaryDirectory("extend-long")
        let reference = try trainer(project, long, resume: false).train()
        Runtime.threads = 2  // as a process on a 2-core machine would start; the recorded 1 must win
        let extended = try trainer(project, short, resume: true).train()
        #expect(Runtime.threads == 1)
        #expect(extended.map(\.trainLoss) == reference.map(\.trainLoss))
        #expect(try weights(ModelDirectory(short).lastCheckpoint) == weights(ModelDirectory(long).lastCheckpoint))
        #expect(try PoseConfig.load(path: ModelDirectory(short).config).maxEpochs == 2)
    }
}
