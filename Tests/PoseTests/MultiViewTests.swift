// Multi-camera projects with separate videos (issue #12.4): the views' labels side by side, `(B, V, 3, H, W)`
// batches, sessions of videos, the multiview PCA loss across cameras, and short runs that learn.
import Foundation
import PoseData
import PoseFormats
import PoseModels
import ProcessPolicy
import Testing
import Torch
import VideoIO

/// The synthetic two-camera project (64×64, `bot` = `top` upside down), set to learn quickly as `tinyTrainingProject`.
func tinyTwoViewProject(in dir: String, labeledFrames: Int = 40, videoFrames: Int = 12, epochs: Int) throws -> PoseProject {
    Runtime.threads = ProcessPolicy.threadCount()
    let written = try SyntheticProject.writeTwoViews(to: dir, labeledFrames: labeledFrames, videoFrames: videoFrames)
    return try quickToLearn(PoseProject.load(configPath: written.configPath), epochs: epochs)
}

@Suite(.serialized) struct MultiViewTests {
    /// Row n of each view's CSV is one sample: its keypoints side by side, its images in view order; a batch of B
    /// instants holds B·V images, view after view within a sample, each with its own view's targets.
    @Test func viewsOfARowLandInOneSample() throws {
        let dir = try temporaryDirectory("views-load")
        let project = try tinyTwoViewProject(in: dir, labeledFrames: 6, epochs: 1)
        #expect(project.labelFiles == [dir + "/top.csv", dir + "/bot.csv"].map { PoseConfig.absolute($0) })
        let dataset = try LabeledDataset.load(project: project)
        let k = SyntheticAnimalScene.keypointNames.count
        #expect(dataset.count == 6 && dataset.viewNames == ["top", "bot"] && dataset.keypointNames.count == k)
        let top = try PoseTable.read(from: URL(fileURLWithPath: dir + "/top.csv"))
        let bot = try PoseTable.read(from: URL(fileURLWithPath: dir + "/bot.csv"))
        for (n, frame) in dataset.frames.enumerated() {
            #expect(frame.views?.count == 2 && frame.keypoints.count == 2 * 2 * k)
            for j in 0..<k {
                let a = (top.value(row: n, keypoint: j, coord: 0), top.value(row: n, keypoint: j, coord: 1))
                let b = (bot.value(row: n, keypoint: j, coord: 0), bot.value(row: n, keypoint: j, coord: 1))
                #expect(frame.keypoints[2 * j].isNaN ? a.0.isNaN : frame.keypoints[2 * j] == a.0)
                #expect(frame.keypoints[2 * k + 2 * j + 1].isNaN ? b.1.isNaN : frame.keypoints[2 * k + 2 * j + 1] == b.1)
                if a.1.isFinite { #expect(b.1 == 64 - a.1) }  // the bot camera sees the image upside down
            }
        }
        // Resize-only batches of instants 4 and 1: (2, 2, 3, 64, 64) images, keypoints per image.
        let model = try PoseModel(config: project.config, keypointNames: dataset.keypointNames)
        let resizer = model.resizer()
        let loader = BatchLoader(
            images: dataset.frames.map(\.image), keypoints: dataset.frames.map(\.keypoints), indices: [4, 1], batchSize: 2,
            augmenter: resizer, grid: model.grid, seed: 0, shuffle: false, views: dataset.frames.map { $0.views! })
        let batch = loader.makeBatch([4, 1], epoch: 0)
        let plane = 3 * 64 * 64, cells = model.grid.width * model.grid.height
        #expect(batch.count == 4 && batch.views == 2 && batch.images.count == 4 * plane)
        #expect(batch.heatmaps.count == 4 * k * cells && batch.weights.count == 4 * k)
        for (s, index) in [4, 1].enumerated() {
            for v in 0..<2 {
                let b = s * 2 + v
                var expected = resizer.warp(dataset.frames[index].views![v], transform: Affine2D(a: 1, b: 0, c: 0, d: 1, tx: 0, ty: 0))
                resizer.normalize(&expected)
                #expect(Array(batch.images[(b * plane)..<((b + 1) * plane)]) == expected, "sample \(s) view \(v)")
                let labels = dataset.frames[index].keypoints[(v * 2 * k)..<((v + 1) * 2 * k)].map(Float.init)
                let got = Array(batch.keypoints[(b * 2 * k)..<((b + 1) * 2 * k)])
                #expect(
                    zip(got, labels).allSatisfy { $0.isNaN ? $1.isNaN : abs($0 - $1) < 1e-4 }, "sample \(s) view \(v): \(got) vs \(labels)")
            }
        }
        // The network's batch: B·V images.
        #expect(try model.imageTensor(batch.images, count: batch.count).shape == [4, 3, 64, 64])
    }

    /// LP's rule: the view name as a whole word in the file name; the session is the name without `_<view>`.
    @Test func videosAreGroupedBySessionAndView() throws {
        let sessions = try ViewSession.group(
            ["/v/m2_bot.mp4", "/v/m1_top.mp4", "/v/cage_top_3.avi", "/v/m1_bot.mp4", "/v/m2_top.mp4", "/v/cage_bot_3.avi"],
            views: ["top", "bot"])
        #expect(
            sessions == [
                ViewSession(name: "cage_3", videos: ["/v/cage_top_3.avi", "/v/cage_bot_3.avi"]),
                ViewSession(name: "m1", videos: ["/v/m1_top.mp4", "/v/m1_bot.mp4"]),
                ViewSession(name: "m2", videos: ["/v/m2_top.mp4", "/v/m2_bot.mp4"]),
            ])
        func problem(_ videos: [String]) -> String? {
            #expect(throws: PoseDataError.self) { try ViewSession.group(videos, views: ["top", "bot"]) }?.description
        }
        #expect(
            problem(["/v/m1_top.mp4", "/v/m1_bot.mp4", "/v/m2_top.mp4"])
                == "/v/m2_top.mp4: session m2 has no bot video (found m2_top.mp4) — every session needs one video per view: m2_top, m2_bot")
        #expect(
            problem(["/v/mousetop3.mp4"])
                == "/v/mousetop3.mp4: the file name names none of the views top, bot — name each camera's video <session>_<view>.mp4, as data.view_names spells the views"
        )
        #expect(problem(["/v/top_bot.mp4"])?.contains("names several views (top, bot)") == true)
        #expect(problem(["/v/m1_top.mp4", "/v/m1_top.avi"])?.contains("session m1 has two top videos (also /v/m1_top.mp4)") == true)
    }

    /// Each bad input is one line naming the file: a view CSV with other frames, rows out of order, a csv_file list
    /// that does not match view_names, videos of a session with different frame counts.
    @Test func badMultiViewInputsAreOneLine() throws {
        let dir = try temporaryDirectory("views-bad")
        let project = try tinyTwoViewProject(in: dir, labeledFrames: 4, videoFrames: 6, epochs: 1)
        let bot = dir + "/bot.csv"
        let original = try String(contentsOfFile: bot, encoding: .utf8)
        var lines = original.split(separator: "\n", omittingEmptySubsequences: false).map(String.init)
        // One row fewer.
        try (lines.prefix(6) + [""]).joined(separator: "\n").write(toFile: bot, atomically: true, encoding: .utf8)
        let fewer = #expect(throws: PoseDataError.self) { try LabeledDataset.load(project: project) }
        #expect(
            fewer?.description
                == "\(bot): view bot has 3 labelled frames but view top has 4 (\(dir)/top.csv) — row n of every view's CSV is the same instant; give every view the same frames"
        )
        // Rows 1 and 2 swapped.
        lines.swapAt(3, 4)
        try lines.joined(separator: "\n").write(toFile: bot, atomically: true, encoding: .utf8)
        let swapped = #expect(throws: PoseDataError.self) { try LabeledDataset.load(project: project) }
        #expect(
            swapped?.description.hasPrefix(
                "\(bot):4: row 1 is labeled-data/bot/img0001.png but row 1 of view top is labeled-data/top/img0000.png") == true)
        try original.write(toFile: bot, atomically: true, encoding: .utf8)
        // csv_file with one file for two views.
        var oneFile = project.config
        oneFile.csvFile = "top.csv"
        let config = dir + "/one-file.yaml"
        try oneFile.yamlText().write(toFile: config, atomically: true, encoding: .utf8)
        let mismatch = #expect(throws: PoseDataError.self) { try PoseProject.load(configPath: config) }
        #expect(
            mismatch?.description.contains(
                "data.csv_file lists 1 label file(s) but data.view_names names 2 views (top, bot); give one label CSV per view, in view order"
            )
                == true, "\(String(describing: mismatch))")
        // A session whose views differ in frame count.
        let short = dir + "/videos/walk_bot.mp4"
        let writer = try VideoWriter(path: short, width: 64, height: 64, framesPerSecond: 30)
        for i in 0..<4 {
            try writer.write(
                Frame(
                    width: 64, height: 64, channels: 3, index: i, time: Double(i) / 30, pixels: [UInt8](repeating: 90, count: 64 * 64 * 3)))
        }
        try writer.finish()
        let session = try ViewSession.group([dir + "/videos/walk_top.mp4", short], views: ["top", "bot"])[0]
        let counts = #expect(throws: PoseDataError.self) { try session.frameCount() }
        #expect(
            counts?.description
                == "\(dir)/videos/walk_top.mp4: the views of session walk differ in frame count (walk_top.mp4 6, walk_bot.mp4 4) — the cameras' videos must hold the same instants; trim them to the same frames"
        )
    }

    /// Multiview PCA across cameras against a hand computation. Two views of 2 body parts; in the labels the bot
    /// camera's x is the top camera's x + 10 and its y varies on its own, so the labels span every direction but
    /// (1, 0, −1, 0)/√2 of a part's `[x_top, y_top, x_bot, y_bot]`. A prediction whose bot x is off by d from
    /// x_top + 10 is d/√2 along that axis: d/2 from its reconstruction in each view.
    @Test func multiviewPCAOfSeparateCamerasMatchesHandComputation() throws {
        var config = PoseConfig()
        config.viewNames = ["top", "bot"]
        config.lossesToUse = ["pca_multiview"]
        config.losses.pcaMultiview.epsilon = 1
        let settings = try UnsupervisedLossSettings(config: config, keypointCount: 4)
        // No mirrored_column_matches: every keypoint, keypoint j of view v at v·K + j.
        #expect(settings.pcaMultiview?.observation == .bodyPartInViews([[0, 1], [2, 3]]))
        var frames: [[Double]] = []
        for i in 0..<8 {
            let x = Double(i * 7 % 11), y = Double(i * 5 % 9), w = Double(i * 3 % 7)
            // [top: a, b][bot: a, b]
            frames.append([x, y, x + 4, y + 1, x + 10, y + w, x + 14, y + 1 + 2 * w])
        }
        let losses = try UnsupervisedLosses(settings: settings, trainingFrames: frames)
        let loss = try #require(losses.pcaMultiview)
        #expect(loss.subspace.pca.keptCount == 3 && abs(loss.subspace.pca.explainedVariance[3]) < 1e-9)
        // Two frames: part a agrees (d = 0), part b is off by d = 6 then d = −3.
        let predicted: [Double] = [1, 2, 5, 3, 11, 9, 15 + 6, 4, 2, 2, 6, 3, 12, 0, 16 - 3, 5]
        let residuals = try loss.residuals(Tensor(predicted, shape: [2, 4, 2])).contiguous().toArray(Double.self)
        let expected = [0, 0, 3, 3, 0, 0, 1.5, 1.5]  // (frame, part) rows × views
        for (r, e) in zip(residuals, expected) { #expect(abs(r - e) < 1e-6, "\(residuals)") }
        // The loss: mean of max(0, r − ε) with ε = 1 over the 8 (observation, view) pairs.
        let value = try loss(Tensor(predicted, shape: [2, 4, 2])).item()
        #expect(abs(value - (2 * 2 + 2 * 0.5) / 8) < 1e-6, "\(value)")
        // Pose PCA per view: one fit per camera, on that camera's keypoints.
        config.lossesToUse = ["pca_singleview"]
        config.losses.pcaSingleview.componentsToKeep = .count(1)
        let single = try UnsupervisedLosses(
            settings: try UnsupervisedLossSettings(config: config, keypointCount: 4), trainingFrames: frames)
        #expect(single.pcaSingleview.count == 2)
        for v in 0..<2 {
            let fit = try FittedSubspace.fit(single.settings.pcaSingleview!, frames: frames.map { Array($0[(4 * v)..<(4 * v + 4)]) })
            #expect(single.pcaSingleview[v].subspace.pca == fit.pca && single.pcaSingleview[v].subspace.epsilon == fit.epsilon)
        }
        #expect(single.pcaSingleview[0].subspace.pca != single.pcaSingleview[1].subspace.pca)
    }

    /// A short supervised run on two cameras learns: the training loss falls and the error on the training frames
    /// of both views drops; evaluation writes LP's `predictions_<view>.csv` per view.
    @Test func supervisedTwoViewRunLearns() throws {
        let dir = try temporaryDirectory("views-train")
        let project = try tinyTwoViewProject(in: dir, epochs: 10)
        let dataset = try LabeledDataset.load(project: project)
        let trainer = try PoseTrainer(project: project, dataset: dataset, options: quietTrainOptions(dir + "/model"))
        let before = try trainer.evaluate(indices: trainer.split.train).pixelError
        let records = try trainer.train()
        let after = try trainer.evaluate(indices: trainer.split.train).pixelError
        #expect(after < 0.6 * before, "training error \(before) px -> \(after) px")
        #expect(records.first!.trainLoss > records.last!.trainLoss)
        let evaluation = try trainer.model.evaluate(dataset: dataset, split: trainer.split)
        let k = dataset.keypointNames.count
        #expect(evaluation.keypointNames.count == 2 * k && evaluation.keypointNames[k] == "nose_bot")
        for v in 0..<2 {
            let view = evaluation.view(v, of: 2, keypointNames: dataset.keypointNames)
            #expect(view.meanError(set: "train") < 0.6 * before, "view \(v): \(view.meanError(set: "train")) px")
        }
    }

    /// A semi-supervised run on two cameras: synchronised clips (the same frames of both views), the three losses
    /// finite and positive, weights unlike the supervised run's, and the training loss still falls.
    @Test func semiSupervisedTwoViewRunUsesSynchronisedClips() throws {
        let dir = try temporaryDirectory("views-semi")
        var project = try tinyTwoViewProject(in: dir, epochs: 3)
        project.config.lossesToUse = ["temporal", "pca_singleview", "pca_multiview"]
        project.config.losses.temporal.epsilon = [0]
        project.config.losses.pcaSingleview.epsilon = 0
        project.config.losses.pcaMultiview.epsilon = 0
        project.config.callbacks.annealWeight.initVal = 1
        // The clips: one session, views top and bot at the same frames, each with its own augmentation.
        let source = try UnlabeledClipSource(config: project.config, clipLength: 4, seed: 3)
        #expect(source.views == 2 && source.videos.count == 2 && source.clipsPerEpoch == 3)
        for n in 0..<6 {
            let a = source.spec(ofClip: n, view: 0), b = source.spec(ofClip: n, view: 1)
            #expect(a.start == b.start && a.video == 0 && b.video == 1 && a.augmentation != b.augmentation)
        }
        let stream = UnlabeledClipStream(source: source, clipsPerBatch: 2)
        let batch = try #require(try stream.next())
        stream.stop()
        #expect(batch.clips.map { ($0.path as NSString).lastPathComponent } == ["walk_top.mp4", "walk_bot.mp4"])
        #expect(batch.clips[0].spec.frames == batch.clips[1].spec.frames)

        let dataset = try LabeledDataset.load(project: project)
        func run(_ losses: [String], _ name: String) throws -> (PoseTrainer, [EpochRecord]) {
            var p = project
            p.config.lossesToUse = losses
            let trainer = try PoseTrainer(project: p, dataset: dataset, options: quietTrainOptions(dir + "/" + name))
            if !losses.isEmpty {
                trainer.unlabeled = try UnlabeledTraining(
                    config: p.config, dataset: dataset, training: trainer.split.train, folder: nil, clipLength: 4)
            }
            return (trainer, try trainer.train())
        }
        let (semi, records) = try run(project.config.lossesToUse, "semi")
        let (supervised, _) = try run([], "supervised")
        #expect(semi.unlabeled?.losses.pcaSingleview.count == 2)
        for kind in UnsupervisedLossKind.allCases {
            let value = try #require(records.last?.unsupervised[kind])
            #expect(value.isFinite && value > 0, "\(kind): \(value)")
        }
        #expect(records.first!.trainLoss > records.last!.trainLoss, "\(records.map(\.trainLoss))")
        let a = semi.model.network.store.stateDict(), b = supervised.model.network.store.stateDict()
        var changed = 0
        for (name, tensor) in a {
            let other = try #require(b[name])
            if try tensor.contiguous().toArray(Float.self) != other.contiguous().toArray(Float.self) { changed += 1 }
        }
        #expect(changed > 0, "the unsupervised losses left every weight as in the supervised run")
    }

    /// The context model on two cameras: each view's frames t−2…t+2 (bot's neighbours are top's upside down), a
    /// batch of `(B, V, 5, 3, H, W)` with each view's own five frames, each view's clip tiled into its own windows,
    /// and a short semi-supervised run whose losses are finite and whose training loss falls.
    @Test func contextModelOnTwoViews() throws {
        let dir = try temporaryDirectory("views-context")
        var project = try tinyTwoViewProject(in: dir, labeledFrames: 40, epochs: 3)
        project.config.modelType = "heatmap_mhcrnn"
        let dataset = try LabeledDataset.load(project: project)
        // 40 frames per view, img0000…img0039: the neighbours of the last two past img0039 are replaced (3 per view).
        let note = dataset.contextNote ?? ""
        #expect(
            note.hasPrefix("top: context frames: 3 of 160 neighbour images") && note.contains("; bot: context frames: 3 of 160"), "\(note)")
        func flippedRows(_ image: HostImage) -> [UInt8] {
            let row = image.width * image.channels
            return (0..<image.height).reversed().flatMap { image.pixels[($0 * row)..<(($0 + 1) * row)] }
        }
        for (n, frame) in dataset.frames.enumerated() {
            let top = frame.contextImages(view: 0), bot = frame.contextImages(view: 1)
            #expect(frame.context?.count == 10 && top[2].pixels == frame.image.pixels && bot[2].pixels == frame.views![1].pixels)
            for f in 0..<5 { #expect(flippedRows(top[f]) == bot[f].pixels, "instant \(n) frame \(f)") }
            #expect(top[0].pixels != top[4].pixels || n < 2, "instant \(n): the neighbours are other frames")
        }

        // Resize-only batch of instants 5 and 2: sample s, view v, frame f at ((s·2 + v)·5 + f) planes.
        let model = try PoseModel(config: project.config, keypointNames: dataset.keypointNames)
        let resizer = model.resizer()
        let loader = BatchLoader(
            images: dataset.frames.map(\.image), keypoints: dataset.frames.map(\.keypoints), indices: [5, 2], batchSize: 2,
            augmenter: resizer, grid: model.grid, seed: 0, shuffle: false,
            context: dataset.frames.map { f in (0..<2).flatMap { f.contextImages(view: $0) } }, views: dataset.frames.map { $0.views! })
        let batch = loader.makeBatch([5, 2], epoch: 0)
        let plane = 3 * 64 * 64
        #expect(batch.count == 4 && batch.images.count == 4 * 5 * plane)
        for (s, index) in [5, 2].enumerated() {
            for v in 0..<2 {
                for f in 0..<5 {
                    var expected = resizer.warp(
                        dataset.frames[index].contextImages(view: v)[f], transform: Affine2D(a: 1, b: 0, c: 0, d: 1, tx: 0, ty: 0))
                    resizer.normalize(&expected)
                    let at = ((s * 2 + v) * 5 + f) * plane
                    #expect(Array(batch.images[at..<(at + plane)]) == expected, "sample \(s) view \(v) frame \(f)")
                }
            }
        }
        #expect(try model.imageTensor(batch.images, count: batch.count).shape == [4, 5, 3, 64, 64])

        // Two views' clips of 7 frames in one call: the windows of each view's own clip, as each clip alone gives.
        let network = try #require(model.network as? ContextPoseNetwork)
        try withNoGrad {
            let clips = try Tensor.randn([14, 3, 64, 64])
            let both = try network.sequenceHeads(clips, sequences: 2, training: false)
            #expect(both.single.size(0) == 6 && both.context.size(0) == 6)
            for v in 0..<2 {
                let alone = try network.sequenceHeads(clips.slice(0, 7 * v, 7 * (v + 1)), training: false)
                for (a, b) in [(both.single, alone.single), (both.context, alone.context)] {
                    let x = try a.slice(0, 3 * v, 3 * (v + 1)).contiguous().toArray(Float.self)
                    let y = try b.contiguous().toArray(Float.self)
                    #expect(zip(x, y).map { abs($0 - $1) }.max()! < 1e-5, "view \(v)")
                }
            }
            #expect(throws: PoseModelError.self) {
                try network.sequenceHeads(Tensor.zeros([13, 3, 64, 64]), sequences: 2, training: false)
            }
        }

        // Semi-supervised: every loss on both views' clips (8 frames: 4 centre frames per view and head).
        project.config.lossesToUse = ["temporal", "pca_singleview", "pca_multiview"]
        project.config.losses.temporal.epsilon = [0]
        project.config.losses.pcaSingleview.epsilon = 0
        project.config.losses.pcaMultiview.epsilon = 0
        project.config.callbacks.annealWeight.initVal = 1
        var options = quietTrainOptions(dir + "/semi")
        options.unlabeledClipLength = 8
        let trainer = try PoseTrainer(project: project, dataset: dataset, options: options)
        trainer.unlabeled = try UnlabeledTraining(
            config: project.config, dataset: dataset, training: trainer.split.train, folder: nil, clipLength: 8)
        let records = try trainer.train()
        for kind in UnsupervisedLossKind.allCases {
            let value = try #require(records.last?.unsupervised[kind])
            #expect(value.isFinite && value > 0, "\(kind): \(value)")
        }
        #expect(records.first!.trainLoss > records.last!.trainLoss, "\(records.map(\.trainLoss))")
    }
}
