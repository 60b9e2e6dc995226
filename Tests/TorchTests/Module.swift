// Tests for Torch.
