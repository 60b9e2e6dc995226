// The small synthetic project that training suites learn on in seconds.
import PoseData
import ProcessPolicy
import Torch

/// A synthetic 64×64 project with a 12-frame video, set to learn quickly: the U-Net with 8 filters, batch 8,
/// `epochs` epochs validated once at the end, no learning-rate drop, no video prediction after training.
func tinyTrainingProject(in dir: String, labeledFrames: Int = 40, epochs: Int) throws -> PoseProject {
    Runtime.threads = ProcessPolicy.threadCount()
    let written = try SyntheticProject.write(to: dir, labeledFrames: labeledFrames, videoFrames: 12, size: 64, modelSize: 64)
    var project = try PoseProject.load(configPath: written.configPath)
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
