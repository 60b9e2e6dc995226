// Small synthetic videos made in the tests with VideoIO's writer.
import Foundation
import KinemaTestSupport
import VideoIO

enum TestVideos {
    /// A `width`×`height` H.264 video in `folder`; `frame(t)` gives frame t's RGB pixels.
    static func make(
        _ name: String, in folder: URL, frames: Int, width: Int = 64, height: Int = 48, keyframeInterval: Int = 12,
        pixels: (Int) -> [UInt8]
    ) throws -> String {
        let path = folder.appendingPathComponent(name).path
        let writer = try VideoWriter(
            path: path, width: width, height: height, framesPerSecond: 30,
            options: VideoWriterOptions(keyframeInterval: keyframeInterval, threads: 1))
        for t in 0..<frames { try writer.write(Frame(width: width, height: height, channels: 3, pixels: pixels(t))) }
        try writer.finish()
        return path
    }

    /// Moving texture: every frame differs (a bright square travels over noise).
    static func moving(_ name: String, in folder: URL, frames: Int, keyframeInterval: Int = 12) throws -> String {
        let w = 64, h = 48
        let texture = TestNoise.bytes(w * h * 3, seed: 11).map { $0 / 3 }
        return try make(name, in: folder, frames: frames, width: w, height: h, keyframeInterval: keyframeInterval) { t in
            var pixels = texture
            let x0 = (t * 3) % (w - 8), y0 = (t * 2) % (h - 8)
            for y in y0..<(y0 + 8) { for x in x0..<(x0 + 8) { for c in 0..<3 { pixels[(y * w + x) * 3 + c] = 240 } } }
            return pixels
        }
    }
}
