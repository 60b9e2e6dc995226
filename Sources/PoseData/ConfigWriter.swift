// Writes a PoseConfig back as YAML (the model directory keeps the exact config it was trained with).
import Foundation

extension PoseConfig {
    /// The config as Kinema/LP YAML; `PoseConfig.load` reads it back to an equal value.
    public func yamlText() -> String {
        func q(_ s: String) -> String { "'" + s.replacingOccurrences(of: "'", with: "''") + "'" }
        func list(_ xs: [String]) -> String { "[" + xs.map(q).joined(separator: ", ") + "]" }
        func num(_ x: Double) -> String { x == x.rounded() && abs(x) < 1e9 ? String(format: "%.1f", x) : "\(x)" }
        var lines: [String] = ["# Written by Kinema. Keys as in Lightning Pose's config.", "data:"]
        lines.append("  image_resize_dims:")
        lines.append("    height: \(resizeHeight)")
        lines.append("    width: \(resizeWidth)")
        lines.append("  data_dir: \(q(dataDir))")
        if let videoDir { lines.append("  video_dir: \(q(videoDir))") }
        lines.append("  csv_file: \(q(csvFile))")
        if let keypointNames {
            lines.append("  num_keypoints: \(keypointNames.count)")
            lines.append("  keypoint_names: \(list(keypointNames))")
        }
        if !mirroredColumnMatches.isEmpty {
            lines.append("  mirrored_column_matches: [" + mirroredColumnMatches.map { "[" + $0.map(String.init).joined(separator: ", ") + "]" }.joined(separator: ", ") + "]")
        }
        lines.append("  downsample_factor: \(downsampleFactor)")
        if !skeleton.isEmpty { lines.append("  skeleton: [" + skeleton.map(list).joined(separator: ", ") + "]") }
        if !flipPairs.isEmpty { lines.append("  flip_pairs: [" + flipPairs.map(list).joined(separator: ", ") + "]") }
        lines += [
            "training:",
            "  imgaug: \(imgaug)",
            "  imgaug_hflip: \(imgaugHflip)",
            "  train_batch_size: \(trainBatchSize)",
            "  val_batch_size: \(valBatchSize)",
            "  test_batch_size: \(testBatchSize)",
            "  train_prob: \(trainProb)",
            "  val_prob: \(valProb)",
            "  train_frames: \(trainFrames)",
        ]
        if let numWorkers { lines.append("  num_workers: \(numWorkers)") }
        lines += [
            "  unfreezing_epoch: \(unfreezingEpoch)",
            "  min_epochs: \(minEpochs)",
            "  max_epochs: \(maxEpochs)",
            "  check_val_every_n_epoch: \(checkValEveryNEpoch)",
            "  early_stopping: \(earlyStopping)",
            "  early_stop_patience: \(earlyStopPatience)",
            "  rng_seed_data_pt: \(rngSeedDataPt)",
            "  rng_seed_model_pt: \(rngSeedModelPt)",
            "  optimizer: \(optimizer)",
            "  optimizer_params:",
            "    learning_rate: \(learningRate)",
            "  lr_scheduler: multisteplr",
            "  lr_scheduler_params:",
            "    multisteplr:",
            "      milestones: [" + milestones.map(String.init).joined(separator: ", ") + "]",
            "      gamma: \(gamma)",
            "  uniform_heatmaps_for_nan_keypoints: \(uniformHeatmapsForNanKeypoints)",
        ]
        if let maxMinutes { lines.append("  max_minutes: \(num(maxMinutes))") }
        lines += [
            "model:",
            "  losses_to_use: \(list(lossesToUse))",
            "  backbone: \(backbone)",
            "  model_type: \(modelType)",
            "  heatmap_loss_type: \(heatmapLossType)",
            "  model_name: \(q(modelName))",
            "  heatmap_sigma: \(heatmapSigma)",
            "  unet_filters: \(unetFilters)",
            "eval:",
            "  predict_vids_after_training: \(predictVidsAfterTraining)",
        ]
        if let testVideosDirectory { lines.append("  test_videos_directory: \(q(testVideosDirectory))") }
        lines += [
            "  save_vids_after_training: \(saveVidsAfterTraining)",
            "  colormap: \(colormap)",
            "  confidence_thresh_for_vid: \(confidenceThreshForVid)",
        ]
        return lines.joined(separator: "\n") + "\n"
    }
}

