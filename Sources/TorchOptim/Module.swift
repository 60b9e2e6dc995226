// Optimizers, learning-rate schedules, EMA and training checkpoints.
