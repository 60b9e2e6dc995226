// Augmentation moves image content and keypoints together; targets peak where the keypoint is.
import Foundation
import PoseData
import Testing

@Suite struct AugmentationTests {
    /// A black 300×240 image with a grey disk of a distinct level at each keypoint.
    func markerImage(_ points: [Double]) -> HostImage {
        var image = HostImage(width: 300, height: 240, channels: 3)
        for j in 0..<(points.count / 2) {
            let level = UInt8(60 + 40 * j)
            image.fillDisk(x: points[2 * j], y: points[2 * j + 1], radius: 9, color: [level, level, level])
        }
        return image
    }

    @Test(arguments: [false, true])
    func keypointsStayOnTheirMarkers(flip: Bool) throws {
        // Keypoints 0/1 are a left/right pair, 2/3 unpaired.
        let points: [Double] = [60, 50, 230, 70, 150, 120, 100, 190]
        let image = markerImage(points)
        var settings = AugmentationSettings.preset("dlc", horizontalFlip: flip)
        settings.rotationProb = 1
        settings.cropPadProb = 1
        let augmenter = Augmenter(settings: settings, outputWidth: 160, outputHeight: 128, flipPermutation: [1, 0, 2, 3])
        var checked = 0, flips = 0
        for trial in 0..<40 {
            var rng = MersenneTwister(seed: UInt64(trial))
            let (transform, flipped) = augmenter.drawGeometry(width: image.width, height: image.height, rng: &rng)
            flips += flipped ? 1 : 0
            // Geometry only, so marker levels survive; photometric ops do not move keypoints.
            let planes = augmenter.warp(image, transform: transform)
            var rng2 = MersenneTwister(seed: UInt64(trial))
            var plain = settings
            plain.motionBlurProb = 0; plain.coarseDropoutProb = 0; plain.coarseSaltProb = 0
            plain.coarsePepperProb = 0; plain.contrastProb = 0; plain.noiseProb = 0
            let sample = Augmenter(settings: plain, outputWidth: 160, outputHeight: 128, flipPermutation: [1, 0, 2, 3])
                .augment(image, keypoints: points, rng: &rng2)
            for j in 0..<4 {
                let x = sample.keypoints[2 * j], y = sample.keypoints[2 * j + 1]
                guard x.isFinite else { continue }
                // The marker of the keypoint that now carries label j (after a flip, its mirror partner).
                let source = flipped ? [1, 0, 2, 3][j] : j
                let expected = Float(60 + 40 * source) / 255
                let value = planes[Int(y) * 160 + Int(x)]
                #expect(abs(value - expected) < 0.03, "trial \(trial) keypoint \(j): level \(value) vs \(expected)")
                checked += 1
            }
        }
        #expect(checked > 100)
        if flip { #expect(flips > 5 && flips < 35) } else { #expect(flips == 0) }
    }

    @Test func resizeOnlyScalesKeypointsLinearly() {
        let augmenter = Augmenter(settings: .resizeOnly, outputWidth: 128, outputHeight: 64, flipPermutation: [0])
        var rng = MersenneTwister(seed: 1)
        let sample = augmenter.augment(HostImage(width: 256, height: 256), keypoints: [100, 200], rng: &rng)
        #expect(abs(sample.keypoints[0] - 50) < 1e-4 && abs(sample.keypoints[1] - 50) < 1e-4)
    }

    @Test func keypointsPushedOutsideBecomeMissing() {
        var settings = AugmentationSettings()
        settings.cropPadProb = 1
        settings.cropPadFraction = 0.15
        let augmenter = Augmenter(settings: settings, outputWidth: 64, outputHeight: 64, flipPermutation: [0])
        var missing = 0
        for seed in 0..<50 {
            var rng = MersenneTwister(seed: UInt64(seed))
            let s = augmenter.augment(HostImage(width: 100, height: 100), keypoints: [1, 1], rng: &rng)
            if s.keypoints[0].isNaN { missing += 1 } else { #expect(s.keypoints[0] >= 0 && s.keypoints[1] >= 0) }
        }
        #expect(missing > 5)
    }

    @Test func flipPairsFromNames() throws {
        #expect(try flipPermutation(names: ["paw_left", "nose", "paw_right"], pairs: []) == [2, 1, 0])
        #expect(throws: PoseDataError.self) { try flipPermutation(names: ["paw_left", "nose"], pairs: []) }
        #expect(try flipPermutation(names: ["a", "b", "c"], pairs: [["a", "c"]]) == [2, 1, 0])
    }

    @Test func targetHeatmapPeaksAtTheKeypoint() {
        let grid = HeatmapGrid(width: 32, height: 24, stride: 4, sigma: 1.25, normalized: true)
        var maps = [Float](repeating: 0, count: 2 * 32 * 24)
        grid.render(keypoints: [50, 30, .nan, .nan], into: &maps, offset: 0, uniformForMissing: true)
        let first = Array(maps[0..<(32 * 24)])
        #expect(abs(first.reduce(0, +) - 1) < 1e-4)
        // Centroid in cells, mapped back to model pixels, is the keypoint.
        var cx: Float = 0, cy: Float = 0
        for (i, v) in first.enumerated() { cx += v * Float(i % 32); cy += v * Float(i / 32) }
        #expect(abs(grid.toModel(Double(cx)) - 50) < 0.05 && abs(grid.toModel(Double(cy)) - 30) < 0.05)
        #expect(abs(maps[32 * 24 + 5] - 1 / Float(32 * 24)) < 1e-7)
    }

    @Test func loaderIsDeterministicPerEpoch() {
        let images = (0..<5).map { i in
            var im = HostImage(width: 40, height: 40); im.fillDisk(x: Double(5 + 6 * i), y: 20, radius: 3, color: [255]); return im
        }
        let keypoints = (0..<5).map { i in [Double(5 + 6 * i), 20] }
        let augmenter = Augmenter(settings: .preset("dlc"), outputWidth: 32, outputHeight: 32, flipPermutation: [0])
        func epochBatches(_ epoch: Int) -> [[Float]] {
            let loader = BatchLoader(
                images: images, keypoints: keypoints, indices: [0, 1, 2, 3, 4], batchSize: 2,
                augmenter: augmenter, grid: nil, seed: 3, shuffle: true)
            loader.start(epoch: epoch)
            var out: [[Float]] = []
            while let batch = loader.next() { out.append(batch.images + batch.keypoints) }
            return out
        }
        let a = epochBatches(2), b = epochBatches(2), c = epochBatches(3)
        #expect(a.count == 3)
        #expect(a.elementsEqual(b, by: { $0.elementsEqual($1, by: { $0 == $1 || ($0.isNaN && $1.isNaN) }) }))
        #expect(!a.elementsEqual(c, by: { $0.elementsEqual($1, by: { $0 == $1 || ($0.isNaN && $1.isNaN) }) }))
    }
}

@Suite struct SyntheticSceneTests {
    @Test func labelledFramesHaveTruthAndOcclusion() {
        let scene = SyntheticAnimalScene(width: 128, height: 128, seed: 7)
        let frames = scene.labeledFrames(count: 40)
        #expect(frames.count == 40 && frames[0].keypoints.count == 22)
        let visible = frames.flatMap { f in (0..<11).map { f.keypoints[2 * $0] } }.filter { $0.isFinite }
        #expect(visible.count > 300 && visible.count <= 440)
        #expect(visible.allSatisfy { $0 >= 0 && $0 <= 128 })
        // The nose carries the pale snout pixel: brighter than the fur around the body centre.
        let again = scene.labeledFrames(count: 2)
        #expect(again[1].image == frames[1].image)
    }
}
