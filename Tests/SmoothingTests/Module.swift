// Tests for Smoothing.
