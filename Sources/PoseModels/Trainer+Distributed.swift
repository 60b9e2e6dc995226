// Data-parallel training (`kinema train --distributed`) through libtorch's c10d (Torch's `ProcessGroup`).
//
// The global batch is the config's `train_batch_size`: each of the n ranks takes a contiguous near-equal slice of
// every batch (same frames, same augmentation as one process), and its own share of the unlabelled clips (rank r:
// clips r, r + n, …). Batch norm is synchronised (SyncBatchNorm: every rank's samples form the statistics). Each
// rank's supervised loss is weighted by its share of the batch's loss normaliser, so the all-reduced SUM of the
// gradients is the gradient of one process's loss on the whole batch; the unsupervised terms are averaged over the
// ranks' clips. Gradients are all-reduced after backward in flat 25 MB buckets (overlapping them with backward
// would need autograd hooks through the shim). Parameters and buffers are broadcast from rank 0 at the start;
// only rank 0 writes checkpoints, metrics and logs; every rank reads rank 0's checkpoint on --resume.
import Foundation
import PoseData
import Torch

extension PoseTrainer {
    /// Whether this process writes the model folder (rank 0, or a run without ranks).
    var writes: Bool { options.group?.isLeader ?? true }

    /// Every rank starts from rank 0's parameters and buffers, and takes its share of the unlabelled clips.
    func startRanks() throws {
        guard let group = options.group else { return }
        try group.broadcast(Array(model.network.store.stateDict().values))
        unlabeled?.shard = (group.rank, group.size)
        options.log(
            "data-parallel: rank \(group.rank) of \(group.size) (Gloo, store at \(group.host):\(group.port)); global batch \(config.trainBatchSize) = about \(config.trainBatchSize / group.size) frames per rank; synchronised batch norm"
        )
    }

    /// Stops on every rank when any rank wants to (Ctrl-C, time budget): otherwise the others would wait for it.
    func agreeOnStop(_ interrupted: Bool, _ spent: Bool) throws -> (interrupted: Bool, spent: Bool) {
        guard let group = options.group else { return (interrupted, spent) }
        let votes = try group.sum([interrupted ? 1 : 0, spent ? 1 : 0])
        return (votes[0] > 0, votes[1] > 0)
    }

    /// What `PoseModel.loss` divides the batch's summed error by (before its constant factors): the ranks' shares of
    /// it weight their losses so that the summed gradients are one process's.
    func lossNormalizer(_ batch: PoseBatch) -> Double {
        switch model.network.style {
        case .regression: Double(batch.keypoints.reduce(0) { $0 + ($1.isFinite ? 1 : 0) })
        case .peak, .softmax: Double(batch.weights.reduce(0, +))
        }
    }

    /// One data-parallel optimisation step: this rank's slice of the batch (and its clip), synchronised batch norm,
    /// gradients summed over the ranks, the same optimizer step everywhere; the loss and errors of the whole batch.
    func distributedStep(_ batch: PoseBatch, backboneFactor factor: Double, group: ProcessGroup) throws -> StepResult {
        let local = lossNormalizer(batch)
        let total = try group.sum([local])[0]
        let share = total > 0 ? Swift.max(1, local) / Swift.max(1, total) : 0
        let ranks = Double(group.size)
        var unsupervised: [UnsupervisedLossKind: Double] = [:]
        let (loss, output) = try group.synchronizingBatchNorm { () throws -> (Tensor, Tensor) in
            let output = try model.forward(model.imageTensor(batch.images, count: batch.count), training: true)
            var loss = try model.loss(output: output, batch: batch) * share
            if let unlabeled {
                let terms = try unlabeledTerms(unlabeled, epoch: epochInProgress)
                loss = try loss + terms.total / ranks
                for (kind, value) in terms.losses { unsupervised[kind] = try value.item() / ranks }
            }
            try model.network.store.zeroGrad()
            try loss.backward()
            return (loss, output)
        }
        try reduceGradients(group)
        try stepOptimizer(backboneFactor: factor)
        let (e, n) = try trainingError(output: output, batch: batch)
        let kinds = unsupervised.keys.sorted { $0.rawValue < $1.rawValue }
        let sums = try group.sum([try loss.item(), e, Double(n)] + kinds.map { unsupervised[$0] ?? 0 })
        return StepResult(
            loss: sums[0], unsupervised: Dictionary(uniqueKeysWithValues: zip(kinds, sums.dropFirst(3))), errorSum: sums[1],
            errorCount: Int(sums[2]))
    }

    /// Sums the trainable parameters' gradients over the ranks (a parameter without one contributes zeros, so every
    /// rank sends the same buckets).
    func reduceGradients(_ group: ProcessGroup) throws {
        var grads: [Tensor] = []
        for (_, p) in model.network.store.trainable where p.requiresGrad {
            if let g = p.grad, g.isDefined {
                grads.append(g)
            } else {
                let zero = try Tensor.zeros(p.shape, dtype: p.dtype, device: p.device)
                try p.setGrad(zero)
                grads.append(zero)
            }
        }
        try group.allReduce(grads)
    }
}

extension PoseTrainer {
    /// What a rank other than 0 runs for `kinema train --distributed`: the same trainer on its share of the data,
    /// writing nothing (rank 0 runs the whole workflow: checks, model folder, evaluation, predictions).
    public static func trainAsFollower(project: PoseProject, options: TrainOptions) throws {
        let dataset = try LabeledDataset.load(project: project)
        let trainer = try PoseTrainer(project: project, dataset: dataset, options: options)
        let config = project.config
        if !config.lossesToUse.isEmpty {
            trainer.unlabeled = try UnlabeledTraining(
                config: config, dataset: dataset, training: trainer.split.train, folder: options.unlabeledVideos,
                clipLength: options.clipLength(for: config))
        }
        try trainer.train()
    }
}
