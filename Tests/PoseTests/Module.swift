// Tests for Pose.
