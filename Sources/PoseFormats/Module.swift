// Pose files: Lightning Pose and DeepLabCut label and prediction CSVs.
