// `kinema predict ENSEMBLE VIDEO...`: the ensemble's part of `kinema predict` (PosePredict.swift parses the options;
// PoseWorkflows.predict(_: TrainedEnsemble, …) does the work).
import ArgumentParser
import Foundation
import PoseData
import PoseModels
import PosePrediction
import Smoothing

extension PosePredict {
    /// Every member on the videos, their CSVs and the EKS result; options that apply to one model only are refused.
    func runEnsemble() throws {
        for (option, given) in [
            ("--videos", !videos.isEmpty), ("--slurm", slurmOptions.slurm), ("--labeled-video", labeledVideo), ("--strict", strict),
        ] where given {
            throw ValidationError(
                "\(option) applies to one model folder, not to the ensemble \(model); give the videos after ENSEMBLE (or use \(EnsembleDirectory(model).member(0).path))"
            )
        }
        if let bad = smoothS.first(where: { !($0 > 0 && $0.isFinite) }) {
            throw ValidationError("--smooth-s \(bad): the smoothing parameter must be a positive number")
        }
        let target = try device.target()
        let precision = try precision.resolved(on: target)
        let ensemble = try TrainedEnsemble(directory: model, device: target)
        for member in ensemble.members { member.model.precision = precision }
        var smoothed = ensemble.members[0].model.keypointNames.count
        if case .mirrored(_, let parts) = ensemble.views { smoothed = parts.count }
        if smoothS.count > 1, smoothS.count != smoothed {
            throw ValidationError("--smooth-s has \(smoothS.count) values; give one, or one per smoothed keypoint (\(smoothed))")
        }
        let run = try PoseWorkflows.predict(
            ensemble, videos: inputs, outputDirectory: output, smoothing: smoothS.isEmpty ? .automatic() : .fixed(smoothS),
            batchSize: batchSize)
        for file in run.memberFiles + run.smoothedFiles { print(file) }
    }
}
