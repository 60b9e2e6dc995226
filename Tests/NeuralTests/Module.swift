// Tests for Neural.
