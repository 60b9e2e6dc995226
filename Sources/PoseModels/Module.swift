// Pose models over libtorch: networks, read-out, unsupervised losses, training, evaluation, opening a trained model folder.
