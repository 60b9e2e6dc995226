// `kinema train`: validate, train, evaluate the labelled frames and (as Lightning Pose does) predict the
// project's videos, with LP's `train_status.json` along the way.
import Foundation
import PoseData
import PoseModels

extension PoseWorkflows {
    /// Validates the project, trains, then evaluates the labelled frames and (as LP does) predicts the
    /// project's videos. Returns the model directory.
    @discardableResult
    public static func train(project: PoseProject, options: TrainOptions, predictVideos: Bool? = nil) throws -> (
        directory: String, records: [EpochRecord], evaluation: LabeledEvaluation
    ) {
        let dataset = try LabeledDataset.load(project: project)
        options.log("\(dataset.count) labelled frames, \(dataset.keypointNames.count) keypoints: checked")
        if !project.config.lossesToUse.isEmpty {
            options.log(
                "note: model.losses_to_use \(project.config.lossesToUse) are semi-supervised losses, not implemented yet; training supervised only"
            )
        }
        let trainer = try PoseTrainer(project: project, dataset: dataset, options: options)
        let directory = trainer.directory
        directory.writeTrainStatus("TRAINING", completed: 0, total: project.config.maxEpochs)
        let records = try trainer.train()
        directory.writeTrainStatus("EVALUATING", completed: records.count, total: project.config.maxEpochs)
        let trained = try TrainedModel(directory: options.modelDir)
        let evaluation = try evaluate(trained, dataset: dataset)
        options.log(evaluation.report(pcutoff: project.pcutoff))
        let config = project.config
        if predictVideos ?? config.predictVidsAfterTraining, let dir = config.testVideosDirectory ?? config.videoDir,
            FileManager.default.fileExists(atPath: dir)
        {
            let videos = ((try? FileManager.default.contentsOfDirectory(atPath: dir)) ?? []).filter { $0.hasSuffix(".mp4") }.sorted()
            if !videos.isEmpty {
                _ = try predict(
                    trained, inputs: videos.map { dir + "/" + $0 }, labeledVideo: config.saveVidsAfterTraining,
                    showProgress: options.showProgress, log: options.log)
            }
        }
        directory.writeTrainStatus("COMPLETED", completed: records.count, total: project.config.maxEpochs)
        return (options.modelDir, records, evaluation)
    }
}
