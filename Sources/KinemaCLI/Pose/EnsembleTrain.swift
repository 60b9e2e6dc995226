// `kinema train CONFIG --ensemble N [--output ENSEMBLE]` and `kinema train --resume ENSEMBLE`: the ensemble's part
// of `kinema train` (PoseTrain.swift parses the options; PoseWorkflows.trainEnsemble does the work).
import Foundation
import KinemaConsole
import PoseData
import PoseModels
import PosePrediction

extension PoseTrain {
    /// `--ensemble` and `--output` checked before any file is read: one line naming the option.
    func checkEnsembleOptions() throws {
        if let ensemble, ensemble < 2 {
            throw OptionError(
                "--ensemble", "\(ensemble)", "an ensemble needs at least 2 members (EKS takes its variance from their spread)")
        }
        if let output, ensemble == nil, resume == nil {
            throw OptionError("--output", output, "names an ensemble folder: add --ensemble N (a single model's folder is --model-dir)")
        }
        if let modelDir, ensemble != nil {
            throw OptionError("--model-dir", modelDir, "with --ensemble the folder is --output ENSEMBLE")
        }
    }

    /// The project and the ensemble's folder, size and source config, read back from an ensemble folder (`--resume`).
    func resumedEnsemble(_ folder: String) throws -> (project: PoseProject, ensemble: (folder: String, members: Int, source: String)) {
        let directory = EnsembleDirectory(folder)
        let manifest = try directory.readManifest()
        guard FileManager.default.fileExists(atPath: directory.config) else {
            throw OptionError("--resume", folder, "is an ensemble folder without its config.yaml; it cannot be continued")
        }
        return (try PoseProject.load(configPath: directory.config), (folder, manifest.members.count, manifest.sourceConfig))
    }

    /// Trains (or continues) the ensemble and prints its summary.
    func trainEnsemble(project: PoseProject, options: TrainOptions, folder: String, members: Int, source: String) throws {
        var settings = EnsembleTrainingOptions(folder: folder, members: members, sourceConfig: source)
        settings.overwrite = overwrite
        settings.predictVideos = noVideos ? false : nil
        let summary = try PoseWorkflows.trainEnsemble(project: project, options: options, ensemble: settings)
        for line in summary.lines { logLine(line) }
        for file in summary.predictions?.smoothedFiles ?? [] { print(file) }
    }
}
