// The sessions of `kinema bench semi` (issue #12's synthetic benchmark): held-out sessions differ from training ones
// in background, lighting, occluders and distractors; the truth is where the keypoints are drawn; the mirror view
// is x' = 2·size − x; the project is an ordinary mirrored LP project; the figures match a hand computation.
import Foundation
import PoseData
import PoseFormats
import Testing

@Suite struct SyntheticSessionsTests {
    static let size = 96, frames = 300
    let training = (0..<4).map { SyntheticSession(kind: .training, index: $0, viewSize: size, frames: frames) }
    let heldOut = (0..<3).map { SyntheticSession(kind: .heldOut, index: $0, viewSize: size, frames: frames) }

    /// Mean of each channel over an image.
    func meanColor(_ image: HostImage) -> [Double] {
        (0..<3).map { c in
            let sum: Double = stride(from: c, to: image.pixels.count, by: 3).reduce(0.0) { $0 + Double(image.pixels[$1]) }
            return sum / Double(image.pixels.count / 3)
        }
    }

    /// Pixels of exactly this colour.
    func count(_ color: [UInt8], in image: HostImage) -> Int {
        stride(from: 0, to: image.pixels.count, by: 3).filter { Array(image.pixels[$0..<($0 + 3)]) == color }.count
    }

    @Test func heldOutSessionsDifferInEveryRespect() {
        // Background: warm waves in training, cool tiles held out.
        for session in training {
            for view in session.views {
                let mean = meanColor(view.background)
                #expect(view.texture == "waves" && mean[0] > mean[2] + 5, "\(session.name): \(mean)")
            }
        }
        for session in heldOut {
            for view in session.views {
                let mean = meanColor(view.background)
                #expect(view.texture == "tiles" && mean[2] > mean[0] + 25, "\(session.name): \(mean)")
            }
        }
        // Lighting: disjoint ranges of gain, offset and gradient.
        #expect(training.allSatisfy { (0.9...1.1).contains($0.lighting.gain) && abs($0.lighting.offset) <= 8 && $0.lighting.gradient == 0 })
        #expect(heldOut.allSatisfy { $0.lighting.gain <= 0.75 && $0.lighting.offset >= 20 && abs($0.lighting.gradient) >= 0.3 })
        // Distractors: none in training; keypoint-coloured blobs on every held-out view.
        let pink = SyntheticSession.markColors[1]!
        #expect(training.allSatisfy { $0.views.allSatisfy { $0.distractorCount == 0 && count(pink, in: $0.background) == 0 } })
        #expect(heldOut.allSatisfy { $0.views.allSatisfy { $0.distractorCount >= 13 } })
        #expect(heldOut.contains { $0.views.contains { count(pink, in: $0.background) > 0 } })
        // Occluders: training has one fixed pillar per view; held-out larger ones, one of which comes and goes.
        func area(_ o: SyntheticSession.Occluder) -> Double { (o.x1 - o.x0) * (o.y1 - o.y0) }
        let trainingArea = training.flatMap { $0.views.flatMap(\.occluders) }.map(area).max()!
        for session in heldOut {
            for view in session.views {
                let total: Double = view.occluders.map(area).reduce(0, +)
                #expect(total > 2 * trainingArea)
                // Stretches of 20 or more frames (the last one may be cut by the end of the video).
                let comesAndGoes = view.occluders.filter { !$0.active.isEmpty }
                #expect(comesAndGoes.count == 1)
                #expect(comesAndGoes.allSatisfy { $0.active.allSatisfy { $0.count >= 20 || $0.upperBound == Self.frames } })
            }
        }
        #expect(training.allSatisfy { $0.views.allSatisfy { $0.occluders.count == 1 && $0.occluders[0].active.isEmpty } })
        // Hidden for stretches: some keypoint stays behind an occluder for 5 or more frames in a row, in every held-out
        // session, and held-out sessions hide more keypoint-frames than training ones.
        func hiddenShare(_ s: SyntheticSession) -> Double {
            let count: Int = (0..<Self.frames).map { s.hidden(frame: $0).filter { $0 }.count }.reduce(0, +)
            return Double(count) / Double(Self.frames * 22)
        }
        for session in heldOut {
            let hidden = (0..<Self.frames).map { session.hidden(frame: $0) }
            let longest = (0..<22).map { j in
                hidden.reduce(into: (run: 0, best: 0)) { acc, row in
                    acc.run = row[j] ? acc.run + 1 : 0
                    acc.best = max(acc.best, acc.run)
                }.best
            }.max()!
            #expect(longest >= 5, "\(session.name)")
        }
        let heldOutHidden: Double = heldOut.map(hiddenShare).reduce(0, +) / 3
        let trainingHidden: Double = training.map(hiddenShare).reduce(0, +) / 4
        #expect(heldOutHidden > trainingHidden)
    }

    /// In a render without lighting, blur and noise, the pixel that holds a keypoint's truth shows the keypoint's own
    /// mark (nose tip, ears) when it is visible and an occluder's colour when `hidden` says it is behind one, in both
    /// views; the mirror view's truth is (2·size − x, y) of the main view's.
    @Test func truthIsWhereTheKeypointsAreDrawn() {
        var visible = 0, hiddenSeen = 0
        for session in [training[0], heldOut[0], heldOut[1]] {
            for f in stride(from: 0, to: Self.frames, by: 3) {
                let image = session.render(frame: f, effects: false)
                let truth = session.truth(frame: f), hidden = session.hidden(frame: f), on = session.onView(frame: f)
                let main = session.mainKeypoints(frame: f)
                #expect(image.width == 2 * Self.size && image.height == Self.size)
                for j in 0..<11 {
                    #expect(truth[2 * j] == main[2 * j] && truth[2 * j + 1] == main[2 * j + 1])
                    #expect(truth[22 + 2 * j] == 2 * Double(Self.size) - main[2 * j] && truth[22 + 2 * j + 1] == main[2 * j + 1])
                }
                for (j, color) in SyntheticSession.markColors {
                    for view in 0..<2 {
                        let column = view * 11 + j
                        guard on[column] else { continue }
                        let x = Int(truth[2 * column].rounded(.down)), y = Int(truth[2 * column + 1].rounded(.down))
                        let pixel = (0..<3).map { image.value(x: x, y: y, channel: $0) }
                        if hidden[column] {
                            let colors = session.views[view].occluders.flatMap { [$0.color, $0.color.map { $0 / 2 }] }
                            #expect(colors.contains(pixel), "\(session.name) frame \(f) \(column): \(pixel)")
                            hiddenSeen += 1
                        } else {
                            #expect(pixel == color, "\(session.name) frame \(f) \(column): \(pixel) at (\(x), \(y))")
                            visible += 1
                        }
                    }
                }
            }
        }
        #expect(visible > 1000 && hiddenSeen > 10, "\(visible) visible, \(hiddenSeen) hidden")
    }

    @Test func sessionsAreDeterministic() {
        let again = SyntheticSession(kind: .heldOut, index: 1, viewSize: Self.size, frames: Self.frames)
        #expect(again.render(frame: 17) == heldOut[1].render(frame: 17))
        #expect(again.summary == heldOut[1].summary)
        #expect(training[0].render(frame: 17) != heldOut[0].render(frame: 17))
    }

    /// The project on disk: labels only from training sessions, empty where hidden or off the view and equal to the
    /// truth elsewhere, with the context model's neighbours; the mirrored columns paired in the config; held-out
    /// videos outside video_dir, their truth's likelihood 0 exactly where a keypoint is hidden.
    @Test func projectIsAMirroredLPProject() throws {
        let dir = try temporaryDirectory("semi-sessions")
        defer { try? FileManager.default.removeItem(atPath: dir) }
        var options = SyntheticSessionsOptions()
        options.viewSize = 64
        options.labeledFrames = 20
        options.trainingFrames = 64
        options.heldOutFrames = 12
        let project = try SyntheticSessionsProject.write(to: dir, options: options)
        let config = try PoseConfig.load(path: project.configPath)
        let names = SyntheticSession.keypointNames
        #expect(config.keypointNames == names && names[0] == "nose_main" && names[11] == "nose_mirror")
        #expect(config.mirroredColumnMatches == [Array(0..<11), Array(11..<22)])
        #expect(config.columnsForSingleviewPca == [0, 1, 2, 3, 4, 7, 8, 9, 10])
        #expect(config.resizeWidth == 128 && config.resizeHeight == 64 && config.imgaugHflip == false)
        #expect(PoseConfig.absolute(config.videoDir!) == PoseConfig.absolute(dir + "/videos"))
        let videos = try FileManager.default.contentsOfDirectory(atPath: dir + "/videos").sorted()
        #expect(videos == ["train0.mp4", "train1.mp4", "train2.mp4", "train3.mp4"])
        #expect(project.heldOutVideos.map { ($0 as NSString).lastPathComponent } == ["heldout0.mp4", "heldout1.mp4", "heldout2.mp4"])

        let labels = try PoseTable.read(from: URL(fileURLWithPath: dir + "/CollectedData.csv"))
        #expect(labels.rowCount == 20 && labels.keypoints == names)
        var nan = 0
        for (r, key) in labels.rowKeys.enumerated() {
            let parts = key.split(separator: "/")  // labeled-data/train<i>/img<t>.png
            #expect(parts.count == 3 && parts[1].hasPrefix("train"), "\(key)")
            let index = Int(parts[1].dropFirst(5))!, t = Int(parts[2].dropFirst(3).dropLast(4))!
            let session = SyntheticSession(kind: .training, index: index, viewSize: 64, frames: 64)
            let truth = session.truth(frame: t), hidden = session.hidden(frame: t), on = session.onView(frame: t)
            for j in 0..<22 {
                let x = labels.value(row: r, keypoint: j, coord: 0), y = labels.value(row: r, keypoint: j, coord: 1)
                if hidden[j] || !on[j] {
                    #expect(x.isNaN && y.isNaN)
                    nan += 1
                } else {
                    #expect(abs(x - truth[2 * j]) < 1e-9 && abs(y - truth[2 * j + 1]) < 1e-9, "\(key) \(names[j])")
                }
            }
            for n in (t - 2)...(t + 2) {
                #expect(
                    FileManager.default.fileExists(atPath: dir + "/" + String(format: "labeled-data/%@/img%05d.png", String(parts[1]), n)))
            }
        }
        #expect(nan < 20 * 22 / 2)

        for (i, path) in project.truthPaths.enumerated() {
            let table = try PoseTable.read(from: URL(fileURLWithPath: path))
            let session = SyntheticSession(kind: .heldOut, index: i, viewSize: 64, frames: 12)
            #expect(table.rowCount == 12 && table.keypoints == names)
            for f in 0..<12 {
                let hidden = session.hidden(frame: f), truth = session.truth(frame: f)
                for j in 0..<22 {
                    #expect(table.value(row: f, keypoint: j, coord: 2) == (hidden[j] ? 0 : 1))
                    let x = table.value(row: f, keypoint: j, coord: 0)
                    #expect(x.isNaN || abs(x - truth[2 * j]) < 1e-9)
                }
            }
        }
    }

    /// Mean, 95th percentile (numpy's linear interpolation), share over the threshold, the hidden points' mean and
    /// the temporal norm, on two keypoints × three frames worked out by hand.
    @Test func scoreMatchesAHandComputation() throws {
        // Truth: a at (0,0),(0,0),(0,0); b at (10,10), off the view (NaN) in frame 1, (10,10) hidden in frame 2.
        let truth = try PoseTable.predictions(
            scorer: "t", keypoints: ["a", "b"], x: [0, 10, 0, .nan, 0, 10], y: [0, 10, 0, .nan, 0, 10], likelihood: [1, 1, 1, 1, 1, 0])
        // Prediction: a at (3,4), (3,0), (0,0) → errors 5, 3, 0; b at (10,10), (13,14), (16,18) → 0, —, 10.
        let prediction = try PoseTable.predictions(
            scorer: "p", keypoints: ["a", "b"], x: [3, 10, 3, 13, 0, 16], y: [4, 10, 0, 14, 0, 18], likelihood: [1, 1, 1, 1, 1, 1])
        let score = try HeldOutScore.score([(prediction, truth, "p.csv")], threshold: 4)
        #expect(score.keypointFrames == 5 && score.hiddenKeypointFrames == 1)
        #expect(abs(score.meanError - 18.0 / 5) < 1e-12)
        // sorted 0, 0, 3, 5, 10: position 0.95·4 = 3.8 → 5 + 0.8·5 = 9.
        #expect(abs(score.p95Error - 9) < 1e-12)
        #expect(abs(score.fractionOver - 2.0 / 5) < 1e-12)
        #expect(abs(score.hiddenMeanError - 10) < 1e-12)
        // Steps: a 4 then 3; b 5 then 5 (the prediction moves even where the truth is off the view) → mean 17/4.
        #expect(abs(score.temporalNorm - 17.0 / 4) < 1e-12)
        #expect(HeldOutScore.percentile([1, 2, 3, 4], 50) == 2.5 && HeldOutScore.percentile([7], 95) == 7)
        // A prediction of other frames is one error naming the file.
        let short = try PoseTable.predictions(scorer: "p", keypoints: ["a", "b"], x: [0, 0], y: [0, 0], likelihood: [1, 1])
        #expect(throws: PoseDataError.self) { try HeldOutScore.score([(short, truth, "short.csv")], threshold: 4) }
    }
}
