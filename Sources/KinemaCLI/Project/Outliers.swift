import ArgumentParser
import Foundation
import KinemaConsole
import PoseData
import PoseFormats
import PoseModels
import ProjectSetup

/// `kinema outliers PROJECT PREDICTION...`: frames to relabel, as DeepLabCut's extract_outlier_frames.
struct Outliers: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "outliers",
        abstract: "Pick frames to relabel from a video's prediction and write them, with the machine labels, into labeled-data/.",
        discussion: """
            Each PREDICTION is a prediction CSV (or DeepLabCut .h5) of one of the project's videos: a single \
            model's (x, y, likelihood per keypoint) or an ensemble's EKS result (`kinema predict ENSEMBLE`, with \
            x_ens_var, y_ens_var, … columns). Its video is the project video the file is named after \
            (test_vid.csv, test_vidDLC_resnet50_….csv → videos/test_vid.mp4), or --video.

            A frame is a candidate when it fails a criterion (--by; auto, the default, uses all the file supports):
              spread      a keypoint's ensemble spread √(x_ens_var + y_ens_var) > 10 px
              jump        a keypoint moved > 20 px since the previous frame (DLC's epsilon)
              likelihood  a keypoint's likelihood < 0.01 (DLC's p_bound)
              pca         a keypoint's pose-PCA error > ε (the labels' own 99th percentile)
            pca fits Lightning Pose's pose PCA (losses.pca_singleview) on the project's labels; it is used when \
            the project has enough labels. \
            --threshold jump=30 (repeatable) changes a threshold. Frames already in labeled-data/ are never \
            candidates. When there are more candidates than --count, their small grey thumbnails are clustered \
            with k-means (as DeepLabCut does) and the most outlying frame of each cluster is taken: varied frames.

            Each chosen frame is written as labeled-data/<video>/img<index>.png (the exact frame; nothing is \
            overwritten) and the prediction's keypoints for it go to \
            labeled-data/<video>/machinelabels-iter<N>.csv (and .h5 in DeepLabCut projects), N being the \
            project's iteration. CollectedData is not touched: correct the points in `kinema label PROJECT`, \
            then `kinema merge PROJECT` starts the next iteration.

            Examples:
              kinema outliers reach ensemble/video_preds/day1.csv --count 10
              kinema outliers reach preds/cam.csv --video reach/videos/day1.mp4 \\
                --by jump,likelihood --threshold jump=30
            """
    )

    @Argument(help: "The project folder (or its config.yaml).")
    var project: String

    @Argument(help: ArgumentHelp("Prediction CSVs (or DeepLabCut .h5) of the project's videos.", valueName: "prediction"))
    var predictions: [String]

    @Option(help: "The video the prediction is of (default: the project video named like the prediction).")
    var video: String?

    @Option(help: "New frames per video.")
    var count = 20

    @Option(
        help: ArgumentHelp(
            "Criteria, comma-separated: spread, jump, likelihood, pca, or auto (all the file supports).", valueName: "criteria"))
    var by = "auto"

    @Option(
        help: ArgumentHelp(
            "A criterion's threshold, e.g. jump=30 (px), likelihood=0.05, spread=8 (px), pca=15 (px).", valueName: "criterion=value"))
    var threshold: [String] = []

    @Option(help: "Seed of the k-means thinning (the same seed picks the same frames).")
    var seed: UInt64 = 0

    func validate() throws {
        _ = try Self.criteria(by)
        _ = try Self.thresholds(threshold)
        guard count >= 1 else { throw ValidationError("--count \(count): give at least 1 frame per video") }
        guard video == nil || predictions.count == 1 else {
            throw ValidationError("--video names the video of one prediction; give one PREDICTION with it")
        }
    }

    static func criteria(_ text: String) throws -> [OutlierCriterion] {
        let names = text.split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces) }
        guard names != ["auto"] else { return [] }
        return try names.map { name in
            guard let criterion = OutlierCriterion(rawValue: name) else {
                throw ValidationError("--by '\(name)': choose spread, jump, likelihood, pca or auto")
            }
            return criterion
        }
    }

    static func thresholds(_ items: [String]) throws -> OutlierThresholds {
        var thresholds = OutlierThresholds()
        for item in items {
            let parts = item.split(separator: "=", maxSplits: 1).map(String.init)
            guard parts.count == 2, let criterion = OutlierCriterion(rawValue: parts[0]) else {
                throw ValidationError("--threshold '\(item)': write criterion=value, e.g. jump=30 (spread, jump, likelihood, pca)")
            }
            guard let value = Double(parts[1]), value.isFinite, value > 0, criterion != .likelihood || value <= 1 else {
                throw ValidationError(
                    "--threshold '\(item)': \(criterion == .likelihood ? "a likelihood in (0, 1]" : "a positive number of pixels")")
            }
            switch criterion {
            case .spread: thresholds.spread = value
            case .jump: thresholds.jump = value
            case .likelihood: thresholds.likelihood = value
            case .pca: thresholds.pca = value
            }
        }
        return thresholds
    }

    func run() async throws {
        let opened = try FrameExtraction.openProject(project)
        let iteration = try ProjectIteration.current(config: opened.config)
        var options = OutlierOptions()
        options.criteria = try Self.criteria(by)
        options.thresholds = try Self.thresholds(threshold)
        options.count = count
        options.seed = seed
        if let video, !FileManager.default.fileExists(atPath: video) { throw ProjectSetupError.missingVideos([video]) }
        // Every prediction is read and matched to its video before the first one writes anything.
        var work: [(file: String, table: PoseTable, video: String)] = []
        for file in predictions {
            guard FileManager.default.fileExists(atPath: file) else {
                throw ProjectSetupError.badPrediction(path: file, reason: "no such file")
            }
            let matched = try video ?? OutlierFrames.video(for: file, in: opened)
            work.append((file, try PoseTable.read(from: URL(fileURLWithPath: file)), matched))
        }
        var total = 0
        for (file, table, video) in work {
            let name = (video as NSString).lastPathComponent
            var note: String? = nil
            let explicitPCA = options.criteria.contains(.pca)
            var line: (stage: OutlierFrames.Stage, progress: ProgressLine)? = nil
            let result = try OutlierFrames.extract(
                prediction: table, file: file, video: video, project: opened, iteration: iteration, options: options,
                pca: { checked in
                    do {
                        let errors = try OutlierPCA.errors(project: opened.config, prediction: checked)
                        note = errors.summary
                        return errors
                    } catch {
                        if explicitPCA { throw ProjectSetupError.badPrediction(path: file, reason: "--by pca: \(error)") }
                        note = "pca left out: \(error)"
                        return nil
                    }
                }
            ) { stage, done, of in
                if line?.stage != stage {
                    line?.progress.finish()
                    line = (
                        stage,
                        ProgressLine(label: name, total: of, unit: stage == .thumbnails ? "thumbnails" : "frames written", quietSeconds: 1)
                    )
                }
                line?.progress.update(done)
            }
            line?.progress.finish()
            total += result.chosen.count
            let per = result.candidatesPerCriterion.map { "\($0.criterion.rawValue) \($0.frames)" }.joined(separator: ", ")
            print(
                "\(name): \(result.candidates) candidate frames (\(per))\(result.alreadyThere > 0 ? "; \(result.alreadyThere) frames already extracted, left out" : "")"
            )
            if let note { print("  \(note)") }
            let thinned =
                result.candidates > count
                ? " (k-means over \(min(result.candidates, OutlierOptions().sampleLimit)) candidates, the most outlying of each cluster)"
                : ""
            print("  \(result.chosen.count) new frames\(thinned) → \(result.folder)")
            for candidate in result.chosen {
                let image = FrameExtraction.imageName(frame: candidate.frame, frameCount: result.frameCount)
                print("    \(image)  \(candidate.reasons.map(\.description).joined(separator: ", "))")
            }
            if !result.machineLabels.isEmpty {
                print("  machine labels: \(result.machineLabels.map { ($0 as NSString).lastPathComponent }.joined(separator: ", "))")
            }
        }
        print(
            "wrote \(total) frames to refine (iteration \(iteration)); next: kinema label \(ProjectCreate.shellWord(project)), then kinema merge \(ProjectCreate.shellWord(project))"
        )
    }
}

/// The pose-PCA errors of a prediction: a PCA of the project's labels (Lightning Pose's pose PCA with the config's
/// `losses.pca_singleview` settings: components to keep, centring, ε from the labels' own errors), applied to each frame.
enum OutlierPCA {
    /// - Throws: when the project's labels cannot be read or are too few for the PCA (one line).
    static func errors(project config: String, prediction: PoseTable) throws -> PoseErrors {
        let project = try PoseProject.load(configPath: config)
        var frames: [[Double]] = []
        for file in project.labelFiles where FileManager.default.fileExists(atPath: file) {
            let labels = try PoseTable.read(from: URL(fileURLWithPath: file))
            guard let cx = labels.coordIndex("x"), let cy = labels.coordIndex("y") else { continue }
            let columns = prediction.keypoints.map { labels.keypointIndex($0) }
            for row in 0..<labels.rowCount {
                frames.append(
                    columns.flatMap { j in
                        j.map { [labels.value(row: row, keypoint: $0, coord: cx), labels.value(row: row, keypoint: $0, coord: cy)] }
                            ?? [.nan, .nan]
                    })
            }
        }
        guard !frames.isEmpty else { throw PoseModelError("the project has no labelled frames yet") }
        let keys = project.config.losses.pcaSingleview
        let keypoints = project.config.columnsForSingleviewPca ?? Array(prediction.keypoints.indices)
        let settings = UnsupervisedLossSettings.PCA(
            key: "losses.pca_singleview",
            observation: .pose(keypoints: keypoints, centering: keys.centeringMethod.flatMap(PoseCentering.init(rawValue:))),
            logWeight: keys.logWeight, componentsToKeep: keys.componentsToKeep, epsilon: keys.epsilon,
            epsilonPercentile: keys.empiricalEpsilonPercentile, epsilonMultiplier: keys.empiricalEpsilonMultiplier)
        let fit = try FittedSubspace.fit(settings, frames: frames)
        guard let cx = prediction.coordIndex("x"), let cy = prediction.coordIndex("y") else {
            throw PoseModelError("the prediction has no x and y columns")
        }
        let predicted = (0..<prediction.rowCount).map { row in
            prediction.keypoints.indices.flatMap {
                [prediction.value(row: row, keypoint: $0, coord: cx), prediction.value(row: row, keypoint: $0, coord: cy)]
            }
        }
        let errors = settings.observation.rows(frames: predicted).map(fit.pca.residuals)
        return PoseErrors(
            errors: errors, keypoints: keypoints.map { prediction.keypoints[$0] }, epsilon: fit.epsilon,
            summary: "\(fit.summary), from \(frames.count) labelled frames")
    }
}
