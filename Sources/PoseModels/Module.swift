// Pose models: backbones, heatmap heads, training, prediction.
