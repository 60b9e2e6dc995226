// Shared synthetic data for the neural tests: generated once per process into a temporary folder.
import Foundation
import NeuralData

enum TestData {
    /// A small calibration-style set: 2 mice, 30 train trials, oracle 4 clips × 3 repeats, a hidden
    /// live-test tier and one 320-frame trial.
    static let config: SyntheticConfig = {
        var c = SyntheticConfig()
        c.seed = 7
        c.frames = 110
        c.paddedFrames = 120
        c.neuronCounts = [40, 24]
        c.trainTrials = 30
        c.liveTestClips = 1
        c.liveTestRepeats = 2
        c.sharedPositions = 0
        c.longTrialFrames = 320
        return c
    }()

    /// Root folder holding `synthetic-mouse-0` and `synthetic-mouse-1`.
    static let root: URL = {
        let url = FileManager.default.temporaryDirectory.appendingPathComponent("kinema-neural-tests-\(getpid())")
        if !FileManager.default.fileExists(atPath: url.appendingPathComponent("synthetic-mouse-1/meta/ground_truth/clip_ids.npy").path) {
            do {
                try SyntheticGenerator(config: config).write(to: url)
            } catch {
                print("synthetic test data could not be written: \(error)")
            }
        }
        return url
    }()

    /// A fresh temporary folder.
    static func scratch(_ name: String) -> URL {
        FileManager.default.temporaryDirectory.appendingPathComponent("kinema-\(name)-\(UUID().uuidString)")
    }
}
