// Tests for PoseFormats.
