// Pose models over libtorch: networks, read-out, training, evaluation, opening a trained model folder.
