// Neural data: .npy files, the Sensorium 2023 format, synthetic data, metrics, decoding.
