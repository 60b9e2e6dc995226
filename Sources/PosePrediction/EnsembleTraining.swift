// `kinema train CONFIG --ensemble N`: Lightning Pose's ensemble procedure (§7.1) in one command: N members identical
// except for the data seed, trained one after another into one ensemble folder, resumable member by member.
import Foundation
import KinemaConsole
import KinemaFiles
import PoseData
import PoseModels

/// What `PoseWorkflows.trainEnsemble` is asked to do besides the training options every member shares.
public struct EnsembleTrainingOptions: Sendable {
    /// The ensemble folder.
    public var folder: String
    /// How many members (at least 2).
    public var members: Int
    /// The project config given on the command line (recorded in `ensemble.yaml`).
    public var sourceConfig: String
    /// Replace what an earlier run left in `folder` (after every check has passed).
    public var overwrite = false
    /// Predict the project's videos with the finished ensemble (EKS); nil: the config's `predict_vids_after_training`.
    public var predictVideos: Bool?
    /// Stop member `index` after `afterEpochs` epochs as if interrupted (tests of resuming).
    public var interruptMember: (index: Int, afterEpochs: Int)?

    public init(folder: String, members: Int, sourceConfig: String) {
        self.folder = folder
        self.members = members
        self.sourceConfig = sourceConfig
    }
}

/// What an ensemble run did, member by member.
public struct EnsembleTrainingSummary: Sendable {
    public enum Outcome: String, Sendable { case kept = "finished earlier, kept", trained, resumed }
    public struct Member: Sendable {
        public var folder: String
        public var dataSeed: Int
        public var outcome: Outcome
        /// Mean validation pixel error of the best weights (NaN for kept members or without validation frames).
        public var validationError: Double
        public var seconds: Double
    }
    public var folder: String
    public var members: [Member] = []
    /// Why the run stopped before the last member (the time budget), with how to continue; nil when complete.
    public var stoppedEarly: String?
    /// The ensemble's prediction of the project's videos, when made.
    public var predictions: EnsemblePredictionRun?

    /// One line per member, then where the ensemble is.
    public var lines: [String] {
        var lines = members.map { m in
            var line = "\(m.folder)  data seed \(m.dataSeed)  \(m.outcome.rawValue)"
            if m.outcome != .kept { line += String(format: " in %.1f s", m.seconds) }
            if m.validationError.isFinite { line += String(format: ", validation error %.2f px", m.validationError) }
            return line
        }
        lines.append(stoppedEarly ?? "ensemble: \(folder) (\(members.count) members; predict with: kinema predict \(folder) VIDEO...)")
        return lines
    }
}

extension PoseWorkflows {
    /// Trains the members of an ensemble in sequence: member i is `project` with `training.rng_seed_data_pt` =
    /// the config's seed + i (its split, labelled-batch order, augmentation and unlabelled clips differ; the model
    /// seed does not), in `folder/member-<i>`. A member that finished earlier is kept as it is; an interrupted one
    /// continues with the trainer's exact resume; the others start. Running the same command again (or
    /// `kinema train --resume ENSEMBLE`) continues an ensemble; other settings for an existing ensemble are refused.
    ///
    /// Nothing is written before the checks pass (the folder, the labels). Ctrl-C stops the member being trained
    /// resumably and throws `TrainingInterrupted` naming the ensemble folder; finished members are never touched.
    /// When every member is done and `predictVideos` (or the config) says so, the project's videos are predicted
    /// with the ensemble and smoothed (`predict(_:videos:…)`).
    public static func trainEnsemble(project: PoseProject, options template: TrainOptions, ensemble: EnsembleTrainingOptions)
        throws -> EnsembleTrainingSummary
    {
        let count = ensemble.members, directory = EnsembleDirectory(ensemble.folder), log = template.log
        guard count >= 2 else {
            throw PoseModelError("--ensemble \(count): an ensemble needs at least 2 members (EKS takes its variance from their spread)")
        }
        let configText = project.config.forModelFolder(directory.path).yamlText()
        let manifest: EnsembleDirectory.Manifest
        if EnsembleDirectory.isEnsemble(directory.path), !ensemble.overwrite {
            manifest = try directory.readManifest()
            guard manifest.members.count == count else {
                throw PoseModelError(
                    "\(directory.path) holds an ensemble of \(manifest.members.count) members, not \(count); continue it with --ensemble \(manifest.members.count), or choose another --output (or --overwrite)"
                )
            }
            let written = (try? String(contentsOfFile: directory.config, encoding: .utf8)) ?? ""
            if written != configText {
                throw PoseModelError(
                    "\(directory.path) holds an ensemble trained with other settings (\(directory.config): \(firstDifference(written, configText))); rerun with the same config and options, choose another --output, or add --overwrite"
                )
            }
            log("continuing the ensemble in \(directory.path) (\(count) members)")
        } else {
            try checkNewEnsemble(directory, overwrite: ensemble.overwrite)
            _ = try LabeledDataset.load(project: project)  // every label and image, before the folder is written
            manifest = EnsembleDirectory.Manifest(
                members: count, config: project.config, sourceConfig: PoseConfig.absolute(ensemble.sourceConfig))
            do {
                let fm = FileManager.default
                if ensemble.overwrite {
                    for name in (try? fm.contentsOfDirectory(atPath: directory.path)) ?? [] {
                        try fm.removeItem(atPath: directory.path + "/" + name)
                    }
                }
                try fm.createDirectory(atPath: directory.path, withIntermediateDirectories: true)
                try AtomicFile.write(configText, to: directory.config)
            } catch {
                throw PoseModelError("\(directory.path): cannot prepare the ensemble folder: \(FileProblem.describe(error))")
            }
            try directory.writeManifest(manifest)
            log(
                "ensemble of \(count) members in \(directory.path): identical but for training.rng_seed_data_pt \(manifest.members.map { String($0.rngSeedDataPt) }.joined(separator: ", ")) (split, batch order, augmentation)"
            )
        }

        var summary = EnsembleTrainingSummary(folder: directory.path)
        let deadline = template.maxMinutes.map { Date().addingTimeInterval($0 * 60) }
        for (i, entry) in manifest.members.enumerated() {
            let member = directory.member(i), label = "member \(i + 1)/\(count)"
            var record = EnsembleTrainingSummary.Member(
                folder: entry.folder, dataSeed: entry.rngSeedDataPt, outcome: .kept, validationError: .nan, seconds: 0)
            if EnsembleDirectory.trainStatus(of: member) == "COMPLETED", member.checkpointForPrediction() != nil {
                log("\(label) (\(member.path), data seed \(entry.rngSeedDataPt)): finished earlier, kept as it is")
                summary.members.append(record)
                continue
            }
            var options = template
            options.modelDir = member.path
            options.progressLabel = label
            options.resume = FileManager.default.fileExists(atPath: member.lastCheckpoint)
            if let deadline {
                let left = deadline.timeIntervalSinceNow / 60
                guard left > 0 else {
                    summary.stoppedEarly = "time budget spent before \(label); continue with: kinema train --resume \(directory.path)"
                    break
                }
                options.maxMinutes = left
            }
            if let stop = ensemble.interruptMember, stop.index == i { options.stopAfterEpochs = stop.afterEpochs }
            var memberProject = project
            memberProject.config.rngSeedDataPt = entry.rngSeedDataPt
            log("\(label): \(options.resume ? "resuming" : "training") \(member.path) (data seed \(entry.rngSeedDataPt))")
            record.outcome = options.resume ? .resumed : .trained
            let start = Date()
            do {
                // A member folder without a checkpoint holds nothing trained (a run stopped in its first epoch): it restarts.
                let result = try train(project: memberProject, options: options, overwrite: !options.resume, predictVideos: false)
                record.validationError = result.evaluation.meanError(set: "validation")
            } catch var error as TrainingInterrupted {
                let kept = i == 0 ? "" : "; members 1-\(i) are finished and kept"
                log("\(label) interrupted\(kept)")
                error.modelDir = directory.path  // "continue with: kinema train --resume ENSEMBLE"
                throw error
            } catch {
                log("\(label) failed (the members before it are finished and kept; rerun to continue)")
                throw error
            }
            record.seconds = Date().timeIntervalSince(start)
            summary.members.append(record)
            if EnsembleDirectory.trainStatus(of: member) != "COMPLETED" {
                summary.stoppedEarly = "time budget spent in \(label); continue with: kinema train --resume \(directory.path)"
                break
            }
        }
        guard summary.stoppedEarly == nil, ensemble.predictVideos ?? project.config.predictVidsAfterTraining else { return summary }
        let (videos, report) = project.config.findVideos()
        log(report + (videos.isEmpty ? "" : " (predicted with the ensemble)"))
        guard !videos.isEmpty else { return summary }
        do {
            let trained = try TrainedEnsemble(directory: directory.path, device: template.device)
            for member in trained.members { member.model.precision = template.precision }
            summary.predictions = try predict(
                trained, videos: videos, showProgress: template.showProgress, log: log)
        } catch {
            log("could not predict the project's videos (the ensemble is complete): \(error)")
        }
        return summary
    }

    /// The folder may hold a new ensemble: absent, empty, or (with `overwrite`) anything; and it is writable.
    static func checkNewEnsemble(_ directory: EnsembleDirectory, overwrite: Bool) throws {
        let fm = FileManager.default
        var isFolder: ObjCBool = false
        if fm.fileExists(atPath: directory.path, isDirectory: &isFolder) {
            guard isFolder.boolValue else {
                throw PoseModelError("\(directory.path) is a file, not an ensemble folder; choose another --output")
            }
            let present = ((try? fm.contentsOfDirectory(atPath: directory.path)) ?? []).sorted()
            if !present.isEmpty, !overwrite {
                throw PoseModelError(
                    "\(directory.path) already holds files (\(present.prefix(3).joined(separator: ", "))) and no ensemble; choose another --output or add --overwrite"
                )
            }
        }
        try ModelDirectory(directory.path).checkWritable()
    }

    /// The first line where two texts differ, in words.
    static func firstDifference(_ old: String, _ new: String) -> String {
        let a = old.split(separator: "\n", omittingEmptySubsequences: false),
            b = new.split(separator: "\n", omittingEmptySubsequences: false)
        guard let i = zip(a, b).enumerated().first(where: { $0.element.0 != $0.element.1 })?.offset else {
            return old.isEmpty ? "missing" : "a different length"
        }
        return "line \(i + 1) is '\(a[i].trimmingCharacters(in: .whitespaces))', now '\(b[i].trimmingCharacters(in: .whitespaces))'"
    }
}
