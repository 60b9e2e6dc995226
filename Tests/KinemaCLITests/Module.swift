// Tests for KinemaCLI.
