// Configs, projects, label validation and splits.
import Foundation
import KinemaFiles
import PoseData
import PoseFormats
import Testing

@Suite struct ConfigTests {
    @Test func readsLightningPoseConfigOfTheMirrorMouse() throws {
        let config = try PoseConfig.load(path: mirrorMouseConfig())
        #expect(config.keypointNames?.count == 17)
        #expect(config.resizeHeight == 256 && config.resizeWidth == 256)
        #expect(config.rngSeedDataPt == 42)
        #expect(config.trainProb == 0.8 && config.valProb == 0.1)
        #expect(config.learningRate == 1e-3)
        #expect(config.milestones == [150, 200, 250])
        #expect(config.checkValEveryNEpoch == 10)
        // `${LP_ROOT_PATH:}/data/...` does not exist here: the config's own folder holds the CSV.
        #expect(FileManager.default.fileExists(atPath: config.csvPath))
        #expect(config.videoDir?.hasSuffix("mirror-mouse-example/videos") == true)
    }

    @Test func unknownKeyIsAnErrorWithSuggestion() throws {
        let dir = try temporaryDirectory("config")
        let path = dir + "/config.yaml"
        try "data:\n  image_resize_dims:\n    height: 128\n    width: 128\n  keypoint_name: [a, b]\ntraining:\n  train_batch_size: 8\n"
            .write(toFile: path, atomically: true, encoding: .utf8)
        let error = #expect(throws: PoseDataError.self) { try PoseConfig.load(path: path) }
        #expect(error?.description == path + ":5: unknown key 'data.keypoint_name'; did you mean 'data.keypoint_names'?")
        #expect(error?.row == 5)
        #expect(error?.file == path)
    }

    @Test func badValueNamesTheKey() throws {
        let dir = try temporaryDirectory("config2")
        let path = dir + "/config.yaml"
        try "training:\n  train_batch_size: many\n".write(toFile: path, atomically: true, encoding: .utf8)
        let error = #expect(throws: PoseDataError.self) { try PoseConfig.load(path: path) }
        #expect(error?.description == path + ":2: training.train_batch_size must be an integer, found 'many'")
    }

    @Test func writtenConfigReadsBackEqual() throws {
        var config = try PoseConfig.load(path: mirrorMouseConfig())
        config.skeleton = [["nose_top", "tailBase_top"]]
        config.maxMinutes = 3
        let dir = try temporaryDirectory("config3")
        try AtomicFile.write(config.yamlText(), to: dir + "/config.yaml")
        var again = try PoseConfig.load(path: dir + "/config.yaml")
        again.configFile = config.configFile
        #expect(again == config)
        // LP's loss and callback sections travel with it.
        #expect(again.losses.pcaMultiview.logWeight == 10.7 && again.callbacks.annealWeight.freezeUntilEpoch == 0)
    }

    @Test func configBuiltInCodeReadsBackEqual() throws {
        var config = PoseConfig()
        config.keypointNames = ["nose", "tail"]
        config.numKeypoints = 2
        config.flipPairs = [["left ear", "right: ear"]]
        config.modelName = "42"
        config.numWorkers = 0
        config.testVideosDirectory = "/videos"
        let dir = try temporaryDirectory("config4")
        try AtomicFile.write(config.yamlText(), to: dir + "/config.yaml")
        var again = try PoseConfig.load(path: dir + "/config.yaml")
        again.configFile = ""
        config.dataDir = (dir as NSString).standardizingPath  // "." is the config's folder
        #expect(again == config)
    }

    /// Writes `yaml` as a config and returns the one-line error reading it gives.
    func loadError(_ yaml: String) throws -> (String, PoseDataError?) {
        let dir = try temporaryDirectory("config-errors")
        let path = dir + "/config.yaml"
        try yaml.write(toFile: path, atomically: true, encoding: .utf8)
        return (path, #expect(throws: PoseDataError.self) { try PoseConfig.load(path: path) })
    }

    @Test func misspelledKeyAtEveryLevelNamesTheSuggestionAndLine() throws {
        let cases: [(String, String)] = [
            ("data:\n  csv_file: a.csv\ntrainig:\n  max_epochs: 3\n", ":3: unknown key 'trainig'; did you mean 'training'?"),
            (
                "data:\n  imgae_resize_dims:\n    height: 64\n",
                ":2: unknown key 'data.imgae_resize_dims'; did you mean 'data.image_resize_dims'?"
            ),
            (
                "data:\n  image_resize_dims:\n    height: 64\n    widht: 64\n",
                ":4: unknown key 'data.image_resize_dims.widht'; did you mean 'data.image_resize_dims.width'?"
            ),
            (
                "training:\n  lr_scheduler_params:\n    multisteplr:\n      milestones: [1]\n      gama: 0.1\n",
                ":5: unknown key 'training.lr_scheduler_params.multisteplr.gama'; did you mean 'training.lr_scheduler_params.multisteplr.gamma'?"
            ),
            (
                "model:\n  backbone: resnet18\n  heatmap_sigm: 2\n",
                ":3: unknown key 'model.heatmap_sigm'; did you mean 'model.heatmap_sigma'?"
            ),
        ]
        for (yaml, expected) in cases {
            let (path, error) = try loadError(yaml)
            #expect(error?.description == path + expected)
        }
    }

    @Test func wrongTypesAndRangesNameKeyLineAndValue() throws {
        let cases: [(String, String)] = [
            ("training:\n  train_batch_size: sixteen\n", ":2: training.train_batch_size must be an integer, found 'sixteen'"),
            ("training:\n  early_stopping: perhaps\n", ":2: training.early_stopping must be true or false, found 'perhaps'"),
            ("data:\n  keypoint_names: {a: 1}\n", ":2: data.keypoint_names must be a list, found a section"),
            ("training:\n  val_prob: 0\n  train_prob: 1.5\n", ":3: training.train_prob must be in (0, 1], found 1.5"),
            (
                "data:\n  image_resize_dims:\n    height: 100\n",
                ":3: data.image_resize_dims.height must be a positive multiple of 32, found 100"
            ),
            ("data:\n  downsample_factor: 4\n", ":2: data.downsample_factor must be 1, 2 or 3, found 4"),
            ("model:\n  model_type: keypoints\n", ":2: model.model_type must be heatmap, heatmap_mhcrnn or regression, found 'keypoints'"),
            (
                "training:\n  imgaug: fancy\n",
                ":2: training.imgaug must be a preset: dlc, dlc-lr, dlc-top-down, dlc-mv, default or none, found 'fancy'"
            ),
            (
                "training:\n  imgaug:\n    rotation: 10\n",
                ":2: custom augmentation dictionaries are not supported yet — use one of the presets: dlc, dlc-lr, dlc-top-down, dlc-mv, default, none"
            ),
        ]
        for (yaml, expected) in cases {
            let (path, error) = try loadError(yaml)
            #expect(error?.description == path + expected)
        }
    }
}

@Suite struct SplitTests {
    /// `torch.randperm(90, generator=torch.Generator().manual_seed(42))`, printed by libtorch 2.15.
    static let torchPermutation42 = [
        42, 66, 22, 82, 70, 45, 46, 85, 60, 38, 28, 88, 56, 17, 69, 37, 55, 23, 57, 26, 49, 12, 27, 67,
        71, 43, 63, 19, 31, 13, 0, 20, 87, 16, 39, 10, 65, 77, 74, 78, 76, 84, 29, 18, 5, 53, 73, 24, 81, 62, 80, 2, 35, 61, 11,
        59, 7, 86, 8, 79, 25, 1, 34, 54, 68, 40, 14, 33, 6, 36, 32, 72, 51, 15, 52, 89, 30, 41, 50, 83, 64, 21, 58, 3, 47, 48,
        4, 44, 75, 9,
    ]

    @Test func permutationMatchesTorch() {
        #expect(torchRandperm(90, seed: 42) == Self.torchPermutation42)
        #expect(torchRandperm(10, seed: 0) == [4, 1, 7, 5, 3, 9, 0, 8, 6, 2])
    }

    @Test func lightningPoseSplitSizesAndReproducibility() {
        let split = DataSplit.lightningPose(count: 90, trainProb: 0.8, valProb: 0.1, seed: 42)
        #expect(split.train.count == 72 && split.validation.count == 9 && split.test.count == 9)
        #expect(split.train == Array(Self.torchPermutation42[0..<72]))
        #expect(split.test == Array(Self.torchPermutation42[81..<90]))
        #expect(split == DataSplit.lightningPose(count: 90, trainProb: 0.8, valProb: 0.1, seed: 42))
        #expect(split != DataSplit.lightningPose(count: 90, trainProb: 0.8, valProb: 0.1, seed: 43))
        // Defaults: a leftover under 5 frames joins train; val has at least one frame.
        let small = DataSplit.lightningPose(count: 30, trainProb: 0.95, valProb: 0.05, seed: 0)
        #expect(small.train.count == 29 && small.validation.count == 1 && small.test.isEmpty)
        #expect(Set(split.train + split.validation + split.test) == Set(0..<90))
    }
}

@Suite struct LabelValidationTests {
    /// A tiny project: 3 images (20×10) and a CSV whose rows are given.
    func makeProject(
        rows: [String], keypoints: [String] = ["a", "b"], configNames: [String]? = nil,
        images: [String] = ["img0.png", "img1.png", "img2.png"]
    ) throws -> (String, PoseProject) {
        let dir = try temporaryDirectory("labels")
        try FileManager.default.createDirectory(atPath: dir + "/labeled-data", withIntermediateDirectories: true)
        for name in images {
            try HostImage(width: 20, height: 10).write(to: dir + "/labeled-data/" + name)
        }
        var csv = "scorer" + keypoints.map { _ in ",me,me" }.joined() + "\n"
        csv += "bodyparts" + keypoints.map { ",\($0),\($0)" }.joined() + "\n"
        csv += "coords" + keypoints.map { _ in ",x,y" }.joined() + "\n"
        csv += rows.joined(separator: "\n") + "\n"
        try csv.write(toFile: dir + "/CollectedData.csv", atomically: true, encoding: .utf8)
        let names = configNames ?? keypoints
        let yaml =
            "data:\n  image_resize_dims:\n    height: 64\n    width: 64\n  csv_file: CollectedData.csv\n  keypoint_names: [\(names.joined(separator: ", "))]\n"
        try yaml.write(toFile: dir + "/config.yaml", atomically: true, encoding: .utf8)
        return (dir, try PoseProject.load(configPath: dir + "/config.yaml"))
    }

    @Test func validProjectLoads() throws {
        let (_, project) = try makeProject(rows: ["labeled-data/img0.png,1,2,3,4", "labeled-data/img1.png,,,5,6"])
        let data = try LabeledDataset.load(project: project)
        #expect(data.count == 2)
        #expect(data.frames[1].keypoints[0].isNaN && data.frames[1].keypoints[2] == 5)
        #expect(data.frames[0].image.width == 20 && data.frames[0].image.height == 10)
    }

    @Test func missingImageNamesFileAndRow() throws {
        let (dir, project) = try makeProject(rows: ["labeled-data/img0.png,1,2,3,4", "labeled-data/gone.png,1,2,3,4"])
        let error = #expect(throws: PoseDataError.self) { try LabeledDataset.load(project: project) }
        #expect(error?.file == dir + "/CollectedData.csv")
        #expect(error?.row == 5)
        #expect(error?.description.contains("image `labeled-data/gone.png` does not exist") == true)
        #expect(error?.description.contains("restore the image or delete its row") == true)
    }

    @Test func labelOutsideImage() throws {
        let (_, project) = try makeProject(rows: ["labeled-data/img0.png,1,2,25,4"])
        let error = #expect(throws: PoseDataError.self) { try LabeledDataset.load(project: project) }
        #expect(error?.row == 4)
        #expect(error?.description.contains("keypoint `b` at (25.0, 4.0) is outside the 20×10 image") == true)
    }

    @Test func columnCountDiffersFromConfig() throws {
        let (_, project) = try makeProject(rows: ["labeled-data/img0.png,1,2,3,4"], configNames: ["a", "b", "c"])
        let error = #expect(throws: PoseDataError.self) { try LabeledDataset.load(project: project) }
        #expect(error?.description.contains("2 body parts in the CSV (4 coordinate columns) but the config lists 3") == true)
    }

    @Test func halfLabelledKeypoint() throws {
        let (_, project) = try makeProject(rows: ["labeled-data/img0.png,1,,3,4"])
        let error = #expect(throws: PoseDataError.self) { try LabeledDataset.load(project: project) }
        #expect(error?.description.contains("keypoint `a` has only one of x and y") == true)
    }

    @Test func severalProblemsReportedTogether() throws {
        let (_, project) = try makeProject(rows: ["labeled-data/x.png,1,2,3,4", "labeled-data/img1.png,1,2,30,4"])
        let error = #expect(throws: PoseDataErrors.self) { try LabeledDataset.load(project: project) }
        #expect(error?.errors.count == 2)
    }

    @Test func deepLabCutProjectUnknownKey() throws {
        let dir = try temporaryDirectory("dlc")
        try "Task: mouse\nscorer: ana\ndate: Oct30\nbodyparts: [nose, tail]\nTrainingFraction: [0.95]\nbodypart: x\n"
            .write(toFile: dir + "/config.yaml", atomically: true, encoding: .utf8)
        let error = #expect(throws: PoseDataError.self) { try PoseProject.load(configPath: dir + "/config.yaml") }
        #expect(error?.description == dir + "/config.yaml:6: unknown key 'bodypart'; did you mean 'bodyparts'?")
    }

    @Test func deepLabCutProjectLoadsLabels() throws {
        let dir = try temporaryDirectory("dlc2")
        try FileManager.default.createDirectory(atPath: dir + "/labeled-data/trial1", withIntermediateDirectories: true)
        try HostImage(width: 30, height: 20).write(to: dir + "/labeled-data/trial1/img003.png")
        try "scorer,,,ana,ana,ana,ana\nbodyparts,,,nose,nose,tail,tail\ncoords,,,x,y,x,y\nlabeled-data,trial1,img003.png,10.5,5.25,,\n"
            .write(toFile: dir + "/labeled-data/trial1/CollectedData_ana.csv", atomically: true, encoding: .utf8)
        try
            "Task: mouse\nscorer: ana\ndate: Oct30\nbodyparts:\n- nose\n- tail\nskeleton:\n- [nose, tail]\nTrainingFraction:\n- 0.95\npcutoff: 0.4\n"
            .write(toFile: dir + "/config.yaml", atomically: true, encoding: .utf8)
        let project = try PoseProject.load(configPath: dir + "/config.yaml")
        #expect(project.kind == .deepLabCut && project.pcutoff == 0.4 && project.config.skeleton == [["nose", "tail"]])
        let data = try LabeledDataset.load(project: project)
        #expect(data.count == 1 && data.frames[0].keypoints[0] == 10.5 && data.frames[0].keypoints[3].isNaN)
    }
}

/// What the pre-refactor reader (commit 99723c9) made of LP's mirror-mouse config, field by field; the strict
/// decoder must produce the same values.
@Suite struct ConfigValuesTests {
    @Test func mirrorMouseConfigDecodesToTheOldValues() throws {
        let path = mirrorMouseConfig()
        let dir = ((path as NSString).deletingLastPathComponent as NSString).standardizingPath
        let c = try PoseConfig.load(path: path)
        #expect(c.configFile == path)
        #expect(c.resizeHeight == 256 && c.resizeWidth == 256)
        #expect(c.dataDir == dir)
        #expect(c.videoDir == dir + "/videos")
        #expect(c.csvFile == "CollectedData.csv")
        #expect(
            c.keypointNames == [
                "paw1LH_top", "paw2LF_top", "paw3RF_top", "paw4RH_top", "tailBase_top", "tailMid_top",
                "nose_top", "obs_top", "paw1LH_bot", "paw2LF_bot", "paw3RF_bot", "paw4RH_bot",
                "tailBase_bot", "tailMid_bot", "nose_bot", "obsHigh_bot", "obsLow_bot",
            ])
        #expect(c.mirroredColumnMatches == [[0, 1, 2, 3, 4, 5, 6], [8, 9, 10, 11, 12, 13, 14]])
        #expect(c.downsampleFactor == 2 && c.skeleton.isEmpty && c.flipPairs.isEmpty)
        #expect(c.imgaug == "dlc" && c.imgaugHflip == false)
        #expect(c.trainBatchSize == 16 && c.valBatchSize == 16 && c.testBatchSize == 16)
        #expect(c.trainProb == 0.8 && c.valProb == 0.1 && c.trainFrames == 1.0)
        #expect(c.numWorkers == nil)
        #expect(c.unfreezingEpoch == 20 && c.minEpochs == 300 && c.maxEpochs == 300 && c.checkValEveryNEpoch == 10)
        #expect(c.earlyStopping == false && c.earlyStopPatience == 3)
        #expect(c.rngSeedDataPt == 42 && c.rngSeedModelPt == 44)
        #expect(c.optimizer == "Adam" && c.learningRate == 1e-3 && c.milestones == [150, 200, 250] && c.gamma == 0.5)
        #expect(c.uniformHeatmapsForNanKeypoints == true && c.maxMinutes == nil)
        #expect(c.backbone == "resnet50_animal_ap10k" && c.modelType == "heatmap" && c.heatmapLossType == "mse")
        #expect(c.modelName == "my_base_toy_model" && c.lossesToUse == ["pca_singleview"])
        #expect(c.heatmapSigma == 1.25 && c.unetFilters == 16)
        #expect(c.predictVidsAfterTraining == true && c.saveVidsAfterTraining == true)
        #expect(c.testVideosDirectory == dir + "/videos")
        #expect(c.colormap == "cool" && c.confidenceThreshForVid == 0.9)
    }

    /// Defaults of a config that names nothing (LP's defaults, as the old reader filled them).
    @Test func emptyConfigTakesTheOldDefaults() throws {
        let dir = try temporaryDirectory("config-defaults")
        try "data:\n  csv_file: labels.csv\n".write(toFile: dir + "/config.yaml", atomically: true, encoding: .utf8)
        var c = try PoseConfig.load(path: dir + "/config.yaml")
        var expected = PoseConfig()
        expected.configFile = dir + "/config.yaml"
        expected.dataDir = (dir as NSString).standardizingPath
        expected.csvFile = "labels.csv"
        #expect(c == expected)
        c.configFile = ""
        c.dataDir = "."
        c.csvFile = "CollectedData.csv"
        #expect(c == PoseConfig())
        #expect(c.resizeHeight == 256 && c.trainBatchSize == 16 && c.valBatchSize == 32 && c.trainProb == 0.95)
        #expect(c.valProb == 0.05 && c.minEpochs == 300 && c.checkValEveryNEpoch == 5 && c.learningRate == 1e-3)
        #expect(c.backbone == "resnet50_animal_ap10k" && c.modelName == "test" && c.colormap == "cool")
        #expect(c.predictVidsAfterTraining == true && c.saveVidsAfterTraining == false && c.rngSeedModelPt == 0)
    }
}
