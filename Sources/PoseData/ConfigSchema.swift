// The set of keys a Kinema / Lightning Pose config may contain, and "did you mean" suggestions.

// MARK: - Schema

/// The allowed shape of a config: which keys exist at each level.
indirect enum ConfigSchema: Sendable {
    /// A value (scalar or list); no further key checking below it.
    case value
    /// A mapping whose keys must be among the listed ones.
    case section([String: ConfigSchema])
    /// A mapping with free-form keys (e.g. a custom augmentation dict).
    case freeform

    /// The keys of a section (empty for other cases).
    var keys: [String] {
        if case .section(let children) = self { return children.keys.sorted() }
        return []
    }

    /// Lightning Pose's config keys (§2 of the reference) plus Kinema's additions
    /// (`data.skeleton`, `data.flip_pairs`, `model.heatmap_sigma`, `training.max_minutes`).
    static let kinema: ConfigSchema = .section([
        "data": .section([
            "image_resize_dims": .section(["height": .value, "width": .value]),
            "image_orig_dims": .section(["height": .value, "width": .value]),
            "data_dir": .value, "video_dir": .value, "csv_file": .value,
            "num_keypoints": .value, "keypoint_names": .value,
            "mirrored_column_matches": .value, "columns_for_singleview_pca": .value,
            "downsample_factor": .value, "view_names": .value, "bbox_file": .value,
            "camera_params_file": .value,
            // Kinema additions.
            "skeleton": .value, "flip_pairs": .value,
        ]),
        "training": .section([
            "imgaug": .freeform, "imgaug_hflip": .value, "imgaug_3d": .value,
            "train_batch_size": .value, "val_batch_size": .value, "test_batch_size": .value,
            "train_prob": .value, "val_prob": .value, "train_frames": .value,
            "num_gpus": .value, "num_workers": .value,
            "unfreezing_epoch": .value, "unfreezing_step": .value,
            "min_epochs": .value, "max_epochs": .value, "min_steps": .value, "max_steps": .value,
            "log_every_n_steps": .value, "check_val_every_n_epoch": .value, "ckpt_every_n_epochs": .value,
            "early_stopping": .value, "early_stop_patience": .value,
            "rng_seed_data_pt": .value, "rng_seed_model_pt": .value,
            "optimizer": .value, "optimizer_params": .section(["learning_rate": .value]),
            "lr_scheduler": .value,
            "lr_scheduler_params": .section([
                "multisteplr": .section(["milestones": .value, "gamma": .value, "milestone_steps": .value]),
            ]),
            "uniform_heatmaps_for_nan_keypoints": .value,
            "accumulate_grad_batches": .value, "limit_train_batches": .value,
            "val_check_interval": .value, "profiler": .value, "patch_mask": .freeform,
            // Kinema addition: a wall-clock budget for training.
            "max_minutes": .value,
        ]),
        "model": .section([
            "losses_to_use": .value, "backbone": .value, "model_type": .value,
            "heatmap_loss_type": .value, "model_name": .value, "checkpoint": .value,
            "backbone_pretrained": .value, "backbone_checkpoint": .value, "head": .value,
            // Kinema additions.
            "heatmap_sigma": .value, "unet_filters": .value,
        ]),
        "dali": .freeform,
        "losses": .freeform,
        "eval": .section([
            "predict_vids_after_training": .value, "test_videos_directory": .value,
            "save_vids_after_training": .value, "colormap": .value,
            "confidence_thresh_for_vid": .value, "hydra_paths": .value,
        ]),
        "callbacks": .freeform,
        "detector": .freeform,
        "hydra": .freeform,
    ])
}

// MARK: - Suggestions

/// Levenshtein edit distance between two strings (case-insensitive).
func editDistance(_ a: String, _ b: String) -> Int {
    let x = Array(a.lowercased()), y = Array(b.lowercased())
    if x.isEmpty { return y.count }
    if y.isEmpty { return x.count }
    var previous = Array(0...y.count)
    var current = [Int](repeating: 0, count: y.count + 1)
    for i in 1...x.count {
        current[0] = i
        for j in 1...y.count {
            let cost = x[i - 1] == y[j - 1] ? 0 : 1
            current[j] = min(previous[j] + 1, current[j - 1] + 1, previous[j - 1] + cost)
        }
        swap(&previous, &current)
    }
    return previous[y.count]
}

/// The candidate closest to `key`, if it is close enough to be a plausible typo.
func closestKey(to key: String, among candidates: [String]) -> String? {
    let scored = candidates.map { ($0, editDistance(key, $0)) }.sorted { $0.1 < $1.1 }
    guard let best = scored.first else { return nil }
    let limit = max(3, key.count / 2)
    if best.1 <= limit { return best.0 }
    // A key that contains (or is contained in) a valid key is also a likely mistake.
    return candidates.first { $0.contains(key.lowercased()) || key.lowercased().contains($0) }
}
