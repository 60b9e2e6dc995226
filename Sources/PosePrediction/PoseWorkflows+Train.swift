// `kinema train`: validate, train, evaluate the labelled frames and (as Lightning Pose does) predict the
// project's videos, with LP's `train_status.json` along the way.
import Foundation
import PoseData
import PoseModels

extension PoseWorkflows {
    /// Validates the project, trains, then evaluates the labelled frames and (as LP does) predicts the
    /// project's videos. Returns the model directory.
    ///
    /// Nothing is written before every check has passed (the model folder's guard, the labels and images,
    /// the network); a new run never replaces an earlier one unless `overwrite`. Once the run has started,
    /// `train_status.json` always ends in a final state: COMPLETED, INTERRUPTED (Ctrl-C, time budget) or
    /// FAILED, the last two with their one-line reason. A video that cannot be predicted is said in one line
    /// and does not fail the run (the model and its evaluation are complete).
    @discardableResult
    public static func train(project: PoseProject, options: TrainOptions, overwrite: Bool = false, predictVideos: Bool? = nil)
        throws -> (directory: String, records: [EpochRecord], evaluation: LabeledEvaluation)
    {
        let directory = ModelDirectory(options.modelDir)
        if !options.resume { try directory.checkNewRun(overwrite: overwrite) }
        let dataset = try LabeledDataset.load(project: project)
        let views = dataset.viewNames.isEmpty ? "" : " in each of \(dataset.viewCount) views (\(dataset.viewNames.joined(separator: ", ")))"
        options.log("\(dataset.count) labelled frames, \(dataset.keypointNames.count) keypoints\(views): checked")
        if let note = dataset.contextNote { options.log(note) }
        let config = project.config
        let predicting = predictVideos ?? config.predictVidsAfterTraining
        let (videos, videoReport) = config.findVideos()
        options.log(videoReport + (videos.isEmpty ? "" : predicting ? " (predicted after training)" : " (not predicted)"))
        let trainer = try PoseTrainer(project: project, dataset: dataset, options: options)
        if !config.lossesToUse.isEmpty {
            // The losses' keys, their PCA fits and the unlabelled videos are checked now, before anything is written.
            trainer.unlabeled = try UnlabeledTraining(
                config: config, dataset: dataset, training: trainer.split.train, folder: options.unlabeledVideos,
                clipLength: try options.clipLength(for: config))
        }
        if !options.resume { try directory.startNewRun(overwrite: overwrite) }
        // From here on the folder holds this run: its status always ends final.
        let total = config.maxEpochs
        directory.writeTrainStatus("TRAINING", completed: 0, total: total)
        var records: [EpochRecord] = []
        do {
            records = try trainer.train()
            directory.writeTrainStatus("EVALUATING", completed: records.count, total: total)
            let trained = try TrainedModel(directory: options.modelDir, device: options.device)
            trained.model.precision = options.precision
            let evaluation = try evaluate(trained, dataset: dataset)
            options.log(evaluation.report(pcutoff: project.pcutoff))
            if predicting {
                // Separate cameras: the videos together, so that each session's views are predicted as one.
                let runs = config.cameraViews.isEmpty ? videos.map({ [$0] }) : [videos]
                for inputs in runs where !inputs.isEmpty {
                    do {
                        _ = try predict(
                            trained, inputs: inputs, labeledVideo: config.saveVidsAfterTraining,
                            showProgress: options.showProgress, log: options.log)
                    } catch {
                        options.log("could not predict \(inputs.joined(separator: ", ")) (the model is complete): \(error)")
                    }
                }
            }
            if let reason = trainer.stoppedEarly {
                directory.writeTrainStatus("INTERRUPTED", completed: records.count, total: total, reason: reason)
            } else {
                directory.writeTrainStatus("COMPLETED", completed: records.count, total: total)
            }
            return (options.modelDir, records, evaluation)
        } catch let error as TrainingInterrupted {
            directory.writeTrainStatus("INTERRUPTED", completed: error.epochsDone, total: total, reason: error.description)
            throw error
        } catch {
            let reason = "\(error)".split(separator: "\n").first.map(String.init) ?? "\(error)"
            directory.writeTrainStatus("FAILED", completed: records.count, total: total, reason: reason)
            throw error
        }
    }
}
