// Pose projects: configs, labelled frames, augmentation, synthetic projects.
