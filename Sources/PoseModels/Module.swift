// Pose models over libtorch: backbones, heads, read-out, training, evaluation, prediction.
