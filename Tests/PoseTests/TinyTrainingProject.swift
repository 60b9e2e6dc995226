// The small synthetic project that training suites learn on in seconds.
import PoseData
import PoseModels
import ProcessPolicy
import Torch

/// A synthetic 64×64 project with a 12-frame video, set to learn quickly (`quickToLearn`).
func tinyTrainingProject(in dir: String, labeledFrames: Int = 40, epochs: Int) throws -> PoseProject {
    Runtime.threads = ProcessPolicy.threadCount()
    let written = try SyntheticProject.write(to: dir, labeledFrames: labeledFrames, videoFrames: 12, size: 64, modelSize: 64)
    return try quickToLearn(PoseProject.load(configPath: written.configPath), epochs: epochs)
}

/// `project` set to learn in seconds: the U-Net with 8 filters, batch 8, `epochs` epochs validated once at the end,
/// no learning-rate drop, no video prediction after training.
func quickToLearn(_ project: PoseProject, epochs: Int) -> PoseProject {
    var project = project
    project.config.unetFilters = 8
    project.config.trainBatchSize = 8
    project.config.maxEpochs = epochs
    project.config.minEpochs = epochs
    project.config.checkValEveryNEpoch = epochs
    project.config.milestones = [1000]
    project.config.learningRate = 3e-3
    project.config.predictVidsAfterTraining = false
    return project
}

/// Training options for tests: no progress, no log, 4-frame unlabelled clips.
func quietTrainOptions(_ dir: String) -> TrainOptions {
    var options = TrainOptions(modelDir: dir)
    options.showProgress = false
    options.log = { _ in }
    options.unlabeledClipLength = 4
    return options
}
