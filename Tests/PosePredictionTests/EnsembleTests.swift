// Ensembles (issue #13.4): the EKS mode a config implies, the EKS step against `kinema smooth`'s job on the same
// CSVs, and a tiny ensemble trained, interrupted, continued and predicted with one shared decode.
import Foundation
import KinemaTestSupport
import PoseData
import PoseFormats
import PoseModels
import PosePrediction
import Smoothing
import Testing
import Torch

/// A fresh temporary folder.
private func scratch(_ name: String) throws -> String {
    let path = NSTemporaryDirectory() + "kinema-ensemble-\(name)-\(getpid())-\(UInt32.random(in: 0...UInt32.max))"
    try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
    return path
}

/// Member predictions of a smooth trajectory with per-member noise and a few wild frames (seeded).
private func memberTables(members: Int, frames: Int, keypoints: [String], seed: UInt64) throws -> [PoseTable] {
    var random = MersenneTwister(seed: seed)
    return try (0..<members).map { _ in
        var x: [Double] = [], y: [Double] = [], l: [Double] = []
        for t in 0..<frames {
            for k in keypoints.indices {
                let wild = random.chance(0.03) ? 25.0 : 0
                x.append(50 + 20 * sin(Double(t) / 6 + Double(k)) + 1.5 * random.normal() + wild)
                y.append(40 + 10 * Double(k) + 15 * cos(Double(t) / 9) + 1.5 * random.normal())
                l.append(0.5 + 0.5 * random.uniform())
            }
        }
        return try PoseTable.predictions(scorer: "heatmap_tracker", keypoints: keypoints, x: x, y: y, likelihood: l)
    }
}

/// Equal values, NaN equal to NaN.
private func sameValues(_ a: PoseTable, _ b: PoseTable) -> Bool {
    a.keypoints == b.keypoints && a.coords == b.coords && a.rowKeys == b.rowKeys && a.values.count == b.values.count
        && zip(a.values, b.values).allSatisfy { $0 == $1 || ($0.isNaN && $1.isNaN) }
}

@Suite(.serialized) struct EnsembleTests {
    // MARK: - The EKS mode from the config

    @Test func configPicksTheSmoothingMode() throws {
        var config = PoseConfig()
        #expect(try EnsembleViews(config: config, keypoints: ["nose", "tail"]) == .singleCamera)

        // Mirrored: view names from the keypoints' suffixes; unmatched columns (obs_top) are left out, as in the
        // mirror-mouse example.
        let mirrored = ["paw_front_top", "nose_top", "obs_top", "paw_front_bot", "nose_bot"]
        config.mirroredColumnMatches = [[0, 1], [3, 4]]
        #expect(
            try EnsembleViews(config: config, keypoints: mirrored) == .mirrored(views: ["top", "bot"], keypoints: ["paw_front", "nose"]))
        config.viewNames = ["front_top", "bot"]  // named views win over the suffix guess
        config.mirroredColumnMatches = [[0, 1], [2, 3]]
        let named = ["paw_front_top", "nose_front_top", "paw_bot", "nose_bot"]
        #expect(try EnsembleViews(config: config, keypoints: named) == .mirrored(views: ["front_top", "bot"], keypoints: ["paw", "nose"]))
        config.mirroredColumnMatches = [[0, 1], [3, 4]]

        // Bad mirrored configs: one line naming the key.
        config.viewNames = nil
        #expect(throws: PoseDataError.self) { try EnsembleViews(config: config, keypoints: ["a_top", "b", "c", "a_bot", "b_bot"]) }
        do {
            _ = try EnsembleViews(config: config, keypoints: ["a_top", "b_top", "x", "b_bot", "a_bot"])
            Issue.record("body parts in another order were accepted")
        } catch {
            #expect(
                "\(error)".contains("data.mirrored_column_matches view 1 lists [\"b\", \"a\"] but view 0 lists [\"a\", \"b\"]"), "\(error)")
            #expect(!"\(error)".contains("\n"))
        }
        config.mirroredColumnMatches = [[0, 1], [3, 9]]
        #expect(throws: PoseDataError.self) { try EnsembleViews(config: config, keypoints: mirrored) }

        // Separate cameras: view_names without column matches; a name inside another is refused (EKS finds files by name).
        config.mirroredColumnMatches = []
        config.viewNames = ["top", "side"]
        #expect(try EnsembleViews(config: config, keypoints: ["nose"]) == .multiCamera(views: ["top", "side"]))
        config.viewNames = ["cam1", "cam10"]
        #expect(throws: PoseDataError.self) { try EnsembleViews(config: config, keypoints: ["nose"]) }
    }

    // MARK: - EKS through the ensemble equals `kinema smooth` on the same CSVs

    /// For each camera set-up, the EKS step on the members' tables in memory gives exactly what `kinema smooth`'s
    /// job (`SmoothingJob`, what the command runs) gives from the members' CSV files.
    @Test func smoothingEqualsTheSmoothCommandOnTheMemberCSVs() throws {
        let folder = try scratch("eks")
        defer { try? FileManager.default.removeItem(atPath: folder) }
        let frames = 120
        let cases: [(EnsembleViews, [[String]], String)] = [
            (.singleCamera, [["nose", "ear", "tail"]], "single"),
            (
                .mirrored(views: ["top", "bot"], keypoints: ["paw", "nose"]), [["paw_top", "nose_top", "obs_top", "paw_bot", "nose_bot"]],
                "mirrored"
            ),
            (.multiCamera(views: ["top", "side"]), [["paw", "nose"], ["paw", "nose"]], "multi"),
        ]
        for (c, (views, keypoints, name)) in cases.enumerated() {
            let viewNames = views.views.isEmpty ? [""] : views.views
            var members: [[PoseTable]] = [], files: [[String]] = [], inputs: [URL] = []
            for (v, kps) in keypoints.enumerated() {
                let tables = try memberTables(members: 3, frames: frames, keypoints: kps, seed: UInt64(10 * c + v))
                let paths = tables.indices.map {
                    "\(folder)/\(name)-member-\($0)\(viewNames.count > 1 && keypoints.count > 1 ? "_" + viewNames[v] : "").csv"
                }
                for (table, path) in zip(tables, paths) { try table.write(to: URL(fileURLWithPath: path)) }
                members.append(tables); files.append(paths); inputs += paths.map { URL(fileURLWithPath: $0) }
            }
            var options = SmoothingOptions()
            options.smoothing = .automatic()
            let ours = try views.smooth(members: members, names: files, options: options)
            var bodyParts: [String]? = nil
            if case .mirrored(_, let parts) = views { bodyParts = parts }
            let job = SmoothingJob(
                mode: views.smoothingMode, inputs: inputs, outputFolder: URL(fileURLWithPath: "\(folder)/smooth-\(name)"),
                outputFileName: "\(name).csv", keypoints: bodyParts, options: SmoothingOptions())
            let report = try job.run()
            #expect(report.files.count == ours.tables.count)
            for (file, table) in zip(report.files, ours.tables) {
                let theirs = try PoseTable.read(from: file)
                #expect(sameValues(theirs, table), "\(name): \(file.lastPathComponent) differs")
                #expect(table.coords == SmoothedTrack.columnNames)
            }
            #expect(ours.result.smoothingParameters == report.result.smoothingParameters)
            // The columns carry the ensemble's spread and the posterior variance, and they are not empty.
            let table = ours.tables[0]
            let ensVar = try #require(table.coordIndex("x_ens_var")), postVar = try #require(table.coordIndex("x_posterior_var"))
            #expect((0..<frames).contains { table.value(row: $0, keypoint: 0, coord: ensVar) > 0 })
            #expect((0..<frames).allSatisfy { table.value(row: $0, keypoint: 0, coord: postVar) > 0 })
        }
    }

    // MARK: - Training, resuming and predicting a tiny ensemble

    /// A 12-frame synthetic project at 64×64 (8-filter U-Net, 4 frames a batch, 2 epochs) with a 24-frame video.
    private func project(in folder: String) throws -> PoseProject {
        let synthetic = try SyntheticProject.write(to: folder + "/project", labeledFrames: 12, videoFrames: 24, size: 64, modelSize: 64)
        var config = try PoseConfig.load(path: synthetic.configPath)
        config.trainBatchSize = 4
        config.maxEpochs = 2
        config.minEpochs = 2
        config.unetFilters = 8
        config.predictVidsAfterTraining = false
        try config.yamlText().write(toFile: synthetic.configPath, atomically: true, encoding: .utf8)
        return try PoseProject.load(configPath: synthetic.configPath)
    }

    private func options(_ folder: String) -> TrainOptions {
        var options = TrainOptions(modelDir: folder)
        options.showProgress = false
        options.log = { _ in }
        return options
    }

    /// Every file of a folder (recursively) with its bytes and modification date.
    private func snapshot(_ folder: String) throws -> [String: (Data, Date)] {
        var result: [String: (Data, Date)] = [:]
        for case let name as String in FileManager.default.enumerator(atPath: folder)! {
            let path = folder + "/" + name
            var isFolder: ObjCBool = false
            guard FileManager.default.fileExists(atPath: path, isDirectory: &isFolder), !isFolder.boolValue else { continue }
            let date = try FileManager.default.attributesOfItem(atPath: path)[.modificationDate] as! Date
            result[name] = (try Data(contentsOf: URL(fileURLWithPath: path)), date)
        }
        return result
    }

    @Test func ensembleTrainsResumesMemberByMemberAndPredictsWithOneDecode() throws {
        let folder = try scratch("train")
        defer { try? FileManager.default.removeItem(atPath: folder) }
        let threads = Runtime.threads
        defer { Runtime.threads = threads }
        Runtime.threads = 2
        let project = try project(in: folder)
        let ensembleFolder = folder + "/ensemble"
        var settings = EnsembleTrainingOptions(folder: ensembleFolder, members: 3, sourceConfig: project.config.configFile)
        settings.interruptMember = (index: 1, afterEpochs: 1)

        // Member 1 is interrupted after its first epoch: member 0 is finished, member 2 not started.
        do {
            _ = try PoseWorkflows.trainEnsemble(project: project, options: options(ensembleFolder), ensemble: settings)
            Issue.record("the interrupted ensemble did not say so")
        } catch let error as TrainingInterrupted {
            #expect(error.modelDir == ensembleFolder)
            #expect(error.description.hasSuffix("continue with: kinema train --resume \(ensembleFolder)"))
        }
        let directory = EnsembleDirectory(ensembleFolder)
        #expect(EnsembleDirectory.trainStatus(of: directory.member(0)) == "COMPLETED")
        #expect(EnsembleDirectory.trainStatus(of: directory.member(1)) == "INTERRUPTED")
        #expect(!FileManager.default.fileExists(atPath: directory.member(2).path))
        #expect(throws: PoseModelError.self) { try TrainedEnsemble(directory: ensembleFolder) }  // not finished yet
        let memberZero = try snapshot(directory.member(0).path)
        #expect(memberZero.keys.contains("checkpoints/best.safetensors"))

        // Continued: member 0 untouched (bytes and dates), member 1 resumed, member 2 trained.
        Thread.sleep(forTimeInterval: 0.01)
        settings.interruptMember = nil
        let summary = try PoseWorkflows.trainEnsemble(project: project, options: options(ensembleFolder), ensemble: settings)
        #expect(summary.members.map(\.outcome) == [.kept, .resumed, .trained])
        #expect(summary.stoppedEarly == nil)
        let after = try snapshot(directory.member(0).path)
        #expect(after.keys.sorted() == memberZero.keys.sorted())
        for (name, (data, date)) in memberZero { #expect(after[name]?.0 == data && after[name]?.1 == date, "member-0/\(name) changed") }
        for i in 0..<3 { #expect(EnsembleDirectory.trainStatus(of: directory.member(i)) == "COMPLETED") }
        let resumedMetrics = try String(contentsOfFile: directory.member(1).metrics, encoding: .utf8)
        #expect(resumedMetrics.split(separator: "\n").count == 3, "header + 2 epochs: \(resumedMetrics)")

        // The layout and the manifest; members differ by their data seed only.
        let manifest = try directory.readManifest()
        #expect(manifest.members.map(\.folder) == ["member-0", "member-1", "member-2"])
        #expect(manifest.members.map(\.rngSeedDataPt) == [0, 1, 2])
        #expect(manifest.sourceConfig == project.config.configFile)
        let configs = try (0..<3).map { try PoseConfig.load(path: directory.member($0).config) }
        #expect(configs.map(\.rngSeedDataPt) == [0, 1, 2])
        #expect(Set(configs.map(\.rngSeedModelPt)).count == 1)
        var normalised = configs.map { config -> String in
            var c = config
            c.rngSeedDataPt = 0
            c.dataDirRelative = nil
            return c.yamlText()
        }
        normalised.append(
            try {
                var c = try PoseConfig.load(path: directory.config); c.dataDirRelative = nil; return c.yamlText()
            }())
        #expect(Set(normalised).count == 1, "members differ in more than the data seed")
        let splits = configs.map { DataSplit.of($0, count: 12) }
        #expect(Set(splits.map(\.validation)).count > 1 || Set(splits.map(\.train)).count > 1, "the data seeds gave one split")
        let weights = try (0..<3).map { try Data(contentsOf: URL(fileURLWithPath: directory.member($0).bestCheckpoint)) }
        #expect(Set(weights).count == 3, "members trained to the same weights")

        // A third run keeps everything; other settings for the same folder, or N < 2, are one line each.
        let again = try PoseWorkflows.trainEnsemble(project: project, options: options(ensembleFolder), ensemble: settings)
        #expect(again.members.map(\.outcome) == [.kept, .kept, .kept])
        var longer = project
        longer.config.maxEpochs = 3
        do {
            _ = try PoseWorkflows.trainEnsemble(project: longer, options: options(ensembleFolder), ensemble: settings)
            Issue.record("other settings were accepted")
        } catch {
            #expect("\(error)".contains("holds an ensemble trained with other settings") && "\(error)".contains("max_epochs"), "\(error)")
        }
        var four = settings
        four.members = 4
        #expect(throws: PoseModelError.self) {
            try PoseWorkflows.trainEnsemble(project: project, options: options(ensembleFolder), ensemble: four)
        }
        var one = EnsembleTrainingOptions(folder: folder + "/one", members: 1, sourceConfig: "")
        one.overwrite = true
        #expect(throws: PoseModelError.self) {
            try PoseWorkflows.trainEnsemble(project: project, options: options(folder + "/one"), ensemble: one)
        }
        #expect(!FileManager.default.fileExists(atPath: folder + "/one"))
        #expect(throws: PoseModelError.self) {
            try PoseWorkflows.trainEnsemble(
                project: project, options: options(folder + "/project"),
                ensemble: EnsembleTrainingOptions(folder: folder + "/project", members: 2, sourceConfig: ""))
        }

        // Prediction: one decode for all members gives each member's own prediction exactly; the EKS file is
        // `kinema smooth singlecam` on the members' CSVs.
        let ensemble = try TrainedEnsemble(directory: ensembleFolder)
        #expect(ensemble.views == .singleCamera)
        let video = folder + "/project/videos/walk.mp4"
        let output = folder + "/preds"
        let run = try PoseWorkflows.predict(ensemble, videos: [video], outputDirectory: output, showProgress: false, log: { _ in })
        #expect(run.memberFiles == (0..<3).map { "\(output)/members/member-\($0)/walk.csv" })
        #expect(run.smoothedFiles == ["\(output)/walk.csv"])
        for (i, member) in ensemble.members.enumerated() {
            let alone = try member.model.predictVideo(path: video, scorer: member.scorer, showProgress: false)
            #expect(sameValues(try PoseTable.read(from: URL(fileURLWithPath: run.memberFiles[i])), alone.table), "member \(i)")
            #expect(alone.table.rowCount == 24)
        }
        let job = SmoothingJob(
            mode: .singleCamera, inputs: run.memberFiles.map { URL(fileURLWithPath: $0) },
            outputFolder: URL(fileURLWithPath: folder + "/smooth"), outputFileName: "walk.csv")
        let report = try job.run()
        #expect(try Data(contentsOf: report.files[0]) == Data(contentsOf: URL(fileURLWithPath: run.smoothedFiles[0])))

        // A missing member is one line naming it.
        try FileManager.default.moveItem(atPath: directory.member(2).path, toPath: folder + "/aside")
        do {
            _ = try TrainedEnsemble(directory: ensembleFolder)
            Issue.record("an ensemble without member-2 opened")
        } catch {
            #expect("\(error)".contains("member-2 is missing") && !"\(error)".contains("\n"), "\(error)")
        }
    }
}
