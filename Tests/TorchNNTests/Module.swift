// Tests for TorchNN.
