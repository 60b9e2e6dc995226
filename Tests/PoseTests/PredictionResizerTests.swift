// The prediction-time resize gives the same floats as the augmenter's warp + normalize, bit for bit.
import KinemaTestSupport
import PoseData
import Testing

@Suite struct PredictionResizerTests {
    /// (source width, height, channels, output size): shrink ×3 (mirror-mouse 396×406 → 128), ×2, ×1, enlarging, grey, odd
    /// sizes, and ×21 (box sums too big for 16-bit lanes).
    @Test(arguments: [
        (396, 406, 3, 128), (256, 256, 3, 128), (396, 406, 3, 256), (100, 80, 3, 256),
        (97, 61, 1, 32), (7, 5, 3, 16), (640, 480, 3, 64), (700, 500, 3, 32), (700, 500, 1, 32),
    ])
    func resizerMatchesAugmenterBitForBit(_ c: (Int, Int, Int, Int)) {
        let (w, h, ch, size) = c
        let image = HostImage(width: w, height: h, channels: ch, pixels: TestNoise.bytes(w * h * ch, seed: UInt64(w * 1000 + h)))
        let augmenter = Augmenter(settings: .resizeOnly, outputWidth: size, outputHeight: size, flipPermutation: [])
        let transform = Affine2D(a: Double(size) / Double(w), b: 0, c: 0, d: Double(size) / Double(h), tx: 0, ty: 0)
        var expected = augmenter.warp(image, transform: transform)
        augmenter.normalize(&expected)
        var resizer = PredictionResizer(outputWidth: size, outputHeight: size)
        let got = resizer.resize(image)
        #expect(got.count == expected.count)
        let differing = zip(got, expected).filter { $0.0.bitPattern != $0.1.bitPattern }.count
        #expect(differing == 0, "\(differing) of \(got.count) values differ for \(w)×\(h)×\(ch) → \(size)")
        // The cached plan is reused for the next frame of the same size.
        let again = resizer.resize(image)
        #expect(again == got)
    }
}
