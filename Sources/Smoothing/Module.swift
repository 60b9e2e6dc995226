// Ensemble Kalman smoothing of pose trajectories (the EKS package methods).
