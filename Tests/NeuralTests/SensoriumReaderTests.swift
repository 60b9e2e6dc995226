// The Sensorium folder reader on synthetic data written in the real layout, and its errors.
import Foundation
import NeuralData
import PythonFormats
import Testing

@Suite("Sensorium reader")
struct SensoriumReaderTests {
    @Test func readsMiceTiersAndTrials() throws {
        let data = try SensoriumDataset(root: TestData.root)
        #expect(data.mice.map(\.name) == ["synthetic-mouse-0", "synthetic-mouse-1"])
        let mouse = data.mice[0]
        #expect(mouse.neuronCount == 40 && mouse.unitIDs.first == 1 && mouse.unitIDs.last == 40)
        #expect(mouse.height == 18 && mouse.width == 32 && mouse.paddedLength == 330)
        // 30 train + 1 long + 12 oracle + 2 live test.
        #expect(mouse.trialCount == 45)
        #expect(mouse.trialIDs(inTiers: [SensoriumTier.oracle]).count == 12)
        #expect(mouse.trialIDs(inTiers: [SensoriumTier.train]).count == 31)
        #expect(mouse.coordinates?.count == 120)

        // A trial is cut to its valid length, video time-major, no NaN left.
        let id = try #require(mouse.trialIDs(inTiers: [SensoriumTier.oracle]).first)
        let trial = try mouse.loadTrial(id)
        #expect(trial.length == 110 && trial.neuronCount == 40 && trial.isLabelled)
        #expect(trial.video.count == 110 * 18 * 32 && !trial.video.contains { $0.isNaN })
        #expect(trial.video.allSatisfy { $0 >= 0 && $0 <= 255 })
        #expect(trial.behavior.count == 220 && trial.pupilCenter.count == 220)
        // The time-major video matches the file's (H, W, T) layout.
        let raw = try NpyArray(contentsOf: mouse.fileURL("videos", trial: id))
        let values = try raw.float32Values()
        let videoIndex = 5 * 18 * 32 + 3 * 32 + 7
        let fileIndex = (3 * 32 + 7) * 330 + 5
        #expect(trial.video[videoIndex] == values[fileIndex])
        #expect(values[109].isNaN == false && values[110].isNaN)

        let long = try mouse.loadTrial(
            try #require(mouse.trialIDs(inTiers: [SensoriumTier.train]).first { try mouse.loadTrial($0).length > 300 }))
        #expect(long.length == 320)
        let hidden = try mouse.loadTrial(try #require(mouse.trialIDs(inTiers: [SensoriumTier.liveTestMain]).first))
        #expect(!hidden.isLabelled)
    }

    @Test func statisticsArePerFrame() throws {
        let mouse = try SensoriumMouse(folder: TestData.root.appendingPathComponent("synthetic-mouse-1"))
        let std = try mouse.statistic("responses", "std")
        #expect(std.channelShape == [24] && std.frames == 330)
        let mean = try mouse.statistic("behavior", "mean")
        // Mean pupil over train trials at frame 0, recomputed from the files.
        var sum = 0.0
        let train = mouse.trialIDs(inTiers: [SensoriumTier.train])
        for id in train { sum += Double(try mouse.loadTrial(id).behavior[0]) }
        #expect(abs(Double(mean.values[0]) - sum / Double(train.count)) < 1e-4)
        // Frames only the long trial has: statistics over that single trial; beyond it NaN.
        #expect(!mean.values[315].isNaN && mean.values[325].isNaN)
        #expect(mean.sliced(toFrames: 100).count == 200)
        let video = try mouse.statistic("videos", "median")
        #expect(video.channelShape == [18, 32])
    }

    @Test func clearErrorsForBrokenFolders() throws {
        #expect(throws: SensoriumError.self) { try SensoriumDataset(root: URL(fileURLWithPath: "/nonexistent/sensorium")) }

        // Copy one mouse and break it in three ways.
        let copy = TestData.scratch("broken")
        defer { try? FileManager.default.removeItem(at: copy) }
        try FileManager.default.copyItem(at: TestData.root.appendingPathComponent("synthetic-mouse-1"), to: copy)
        let mouse = try SensoriumMouse(folder: copy)

        // Wrong shape: behaviour with 3 rows.
        try NpyArray(float32: [Float](repeating: 1, count: 3 * 330), shape: [3, 330]).write(to: mouse.fileURL("behavior", trial: 4))
        do {
            _ = try mouse.loadTrial(4)
            Issue.record("wrong shape was accepted")
        } catch let error as SensoriumError {
            #expect(error.description.contains("behavior/4.npy") && error.description.contains("[3, 330]"))
        }
        // Behaviour shorter than the video.
        var short = [Float](repeating: 1, count: 2 * 330)
        for t in 50..<330 { short[t] = .nan; short[330 + t] = .nan }
        try NpyArray(float32: short, shape: [2, 330]).write(to: mouse.fileURL("behavior", trial: 5))
        #expect(throws: SensoriumError.self) { try mouse.loadTrial(5) }

        // Mismatched trial counts.
        try FileManager.default.removeItem(at: mouse.fileURL("responses", trial: 2))
        do {
            _ = try SensoriumMouse(folder: copy)
            Issue.record("missing trial file was accepted")
        } catch let error as SensoriumError {
            #expect(error.description.contains("responses") && error.description.contains("trial"))
        }
    }

    @Test func synthIsDeterministic() throws {
        var c = SyntheticConfig()
        c.neuronCounts = [5]
        c.trainTrials = 2
        c.oracleClips = 1
        c.oracleRepeats = 2
        c.frames = 40
        c.paddedFrames = 45
        let a = TestData.scratch("synA"), b = TestData.scratch("synB")
        defer { try? FileManager.default.removeItem(at: a); try? FileManager.default.removeItem(at: b) }
        try SyntheticGenerator(config: c).write(to: a)
        try SyntheticGenerator(config: c).write(to: b)
        for file in ["data/responses/3.npy", "data/videos/1.npy", "meta/trials/tiers.npy"] {
            let x = try Data(contentsOf: a.appendingPathComponent("synthetic-mouse-0/\(file)"))
            let y = try Data(contentsOf: b.appendingPathComponent("synthetic-mouse-0/\(file)"))
            #expect(x == y)
        }
        // Oracle repeats share their video exactly.
        let mouse = try SensoriumMouse(folder: a.appendingPathComponent("synthetic-mouse-0"))
        let oracle = mouse.trialIDs(inTiers: [SensoriumTier.oracle])
        #expect(oracle.count == 2)
        #expect(try mouse.loadTrial(oracle[0]).video == mouse.loadTrial(oracle[1]).video)
        #expect(throws: SensoriumError.self) {
            var bad = c
            bad.paddedFrames = 10
            _ = try SyntheticGenerator(config: bad)
        }
    }
}

@Suite("video-hash folds")
struct VideoHashFoldTests {
    @Test func repeatsShareAFoldAndClipsSpreadOverFolds() throws {
        let mouse = try SensoriumMouse(folder: TestData.root.appendingPathComponent("synthetic-mouse-0"))
        let oracle = try mouse.trialIDs(inTiers: [SensoriumTier.oracle]).map { try mouse.loadTrial($0) }
        var foldOfClip: [String: Int] = [:]
        for trial in oracle {
            let fold = videoFold(trial, folds: 7)
            let key = videoClipKey(trial.video)
            if let seen = foldOfClip[key] { #expect(seen == fold) }
            foldOfClip[key] = fold
        }
        #expect(foldOfClip.count == 4)
        let train = try mouse.trialIDs(inTiers: [SensoriumTier.train]).map { try mouse.loadTrial($0) }
        let hashes = Set(train.map(videoHash))
        #expect(hashes.count == train.count)  // distinct clips, distinct hashes
        #expect(Set(train.map { videoFold($0, folds: 7) }).count >= 5)
        // Brighter-left vs brighter-right halves flip the first horizontal-frequency bit.
        let left = (0..<(18 * 32)).map { Float($0 % 32 < 16 ? 200 : 50) }
        let right = (0..<(18 * 32)).map { Float($0 % 32 < 16 ? 50 : 200) }
        let hl = perceptualHash(frame: left, height: 18, width: 32), hr = perceptualHash(frame: right, height: 18, width: 32)
        #expect(hl & (1 << 62) != 0 && hr & (1 << 62) == 0)
    }
}
