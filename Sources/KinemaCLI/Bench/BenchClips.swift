// `kinema bench clips`: the unlabelled-clip stream of semi-supervised training against decoding the
// same clips serially on the consumer's thread.
import ArgumentParser
import Foundation
import PoseData

// MARK: - kinema bench clips

/// `kinema bench clips [VIDEO|FOLDER ...]`: clips per second and the consumer's idle time per batch of
/// `UnlabeledClipStream`, against the same clips decoded, resized and augmented serially on the
/// consumer's thread (the consumer then waits for every clip), in the same run.
struct BenchClips: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "clips",
        abstract: "Unlabelled training clips: background stream vs serial decoding on the consumer's thread.",
        discussion: """
            Without VIDEO, uses the repository's mirror-mouse test video. Three runs over the same clips (same \
            seed): serial (the baseline: the consumer decodes each batch itself), the stream with a consumer that \
            takes batches as fast as it can (throughput), and the stream with a consumer that spends --step-ms \
            of CPU per batch like a training step (default: 1.25x the serial time per batch), where the idle time \
            per batch shows whether decoding keeps up. Idle times exclude the first batch (the pipeline filling), \
            printed apart. ratio > 1 means the stream is better: more clips/s, or less waiting (an idle time under \
            0.01 ms counts as 0.01 ms).
            """)

    @Argument(help: "Videos or folders of videos (default: Tests/Data/mirror-mouse-example/videos/test_vid.mp4).")
    var videos: [String] = []

    @Option(help: "Frames per clip (LP: 32; 16 for the context model).")
    var clipLength = 32

    @Option(help: "Model input size (square).")
    var size = 256

    @Option(help: "Batches per run.")
    var batches = 12

    @Option(help: "Clips per batch (LP: 1).")
    var clipsPerBatch = 1

    @Option(help: "Decoding threads of the stream.")
    var workers = 2

    @Option(help: "Milliseconds of consumer CPU per batch in the last run (default: 1.25x the serial time per batch).")
    var stepMs: Double?

    @Option(help: "Clip augmentation: lp (LP's dlc clip augmentation) or none (resize only).")
    var augmentation = "lp"

    @Option(help: "Seed of the clip positions and augmentations.")
    var seed = 0

    func validate() throws {
        guard clipLength > 0, size > 0, batches > 1, clipsPerBatch > 0, workers > 0, (stepMs ?? 0) >= 0 else {
            throw ValidationError("--clip-length, --size, --clips-per-batch and --workers must be positive, --batches at least 2")
        }
        guard ["lp", "none"].contains(augmentation) else { throw ValidationError("--augmentation is lp or none, not \(augmentation)") }
    }

    func run() throws {
        var paths: [String] = []
        for path in videos {
            var isFolder: ObjCBool = false
            let exists = FileManager.default.fileExists(atPath: path, isDirectory: &isFolder)
            paths += exists && isFolder.boolValue ? try UnlabeledClipSource.videos(inFolder: path) : [path]
        }
        if videos.isEmpty {
            guard let example = benchExampleData("videos/test_vid.mp4") else {
                throw ValidationError("no video given and the repository's mirror-mouse test video is not found; pass videos")
            }
            paths = [example]
        }
        let source = try UnlabeledClipSource(
            videos: paths, clipLength: clipLength, modelWidth: size, modelHeight: size, seed: seed,
            augmentation: augmentation == "lp" ? .lightningPose : .resizeOnly)
        for note in source.notes { print("note: \(note)") }
        let frames = source.videos.map(\.frameCount).reduce(0, +)
        let megabytes = Double(clipLength * 3 * size * size * 4) / 1_048_576
        print(
            "videos: \(source.videos.count) (\(frames) frames, e.g. \(source.videos[0].width)x\(source.videos[0].height)); "
                + "clips of \(clipLength) frames at \(size)x\(size) (\(String(format: "%.1f", megabytes)) MB each), "
                + "\(clipsPerBatch) per batch, augmentation \(augmentation), \(workers) decoding threads")

        // The baseline: the consumer decodes every batch itself.
        let decoder = source.makeDecoder()
        var serialWaits: [Double] = []
        var checksum: Float = 0
        let serialStart = monotonicSeconds()
        for b in 0..<batches {
            let start = monotonicSeconds()
            for c in 0..<clipsPerBatch { checksum += try decoder.clip(number: b * clipsPerBatch + c).images[0] }
            serialWaits.append(monotonicSeconds() - start)
        }
        let serialRate = Double(batches * clipsPerBatch) / (monotonicSeconds() - serialStart)
        let serialWait = median(Array(serialWaits.dropFirst()))

        let free = try streamRun(source, stepSeconds: 0, checksum: &checksum)
        let step = (stepMs.map { $0 / 1000 }) ?? 1.25 * serialWait
        let busy = try streamRun(source, stepSeconds: step, checksum: &checksum)
        if checksum.isNaN { print("") }  // keeps the decoded pixels alive for the optimiser

        let name = "clips\(clipLength)_\(size)", serialName = name + "_serial"
        let stepName = "_step\(Int((step * 1000).rounded()))ms"
        benchLine(serialName, serialRate, "clips/s", ratio: 1, baseline: serialName)
        benchLine(name + "_stream_\(workers)workers", free.rate, "clips/s", ratio: free.rate / serialRate, baseline: serialName)
        benchLine(name + "_stream_\(workers)workers" + stepName, busy.rate, "clips/s", ratio: busy.rate / serialRate, baseline: serialName)
        let waitName = name + "_serial_wait_per_batch"
        benchLine(waitName, serialWait * 1000, "ms", ratio: 1, baseline: waitName)
        for (label, run) in [("", free), (stepName, busy)] {
            benchLine(
                name + "_stream_idle_per_batch" + label, run.idle * 1000, "ms", ratio: serialWait / max(run.idle, 1e-5), baseline: waitName)
        }
        print(
            String(
                format: "stream with a %.0f ms step: idle per batch median %.2f ms, max %.2f ms, first batch %.1f ms; "
                    + "at most %d clips in flight, %d clip buffers allocated for %d clips",
                step * 1000, busy.idle * 1000, busy.maxIdle * 1000, busy.firstIdle * 1000, busy.inFlight, busy.buffers,
                batches * clipsPerBatch))
    }

    private struct StreamRun {
        var rate: Double
        /// Median idle seconds per batch after the first, the largest, and the first batch's.
        var idle: Double
        var maxIdle: Double
        var firstIdle: Double
        var inFlight: Int
        var buffers: Int
    }

    /// Takes `batches` batches from a fresh stream, spending `stepSeconds` of CPU on each, as a training step would.
    private func streamRun(_ source: UnlabeledClipSource, stepSeconds: Double, checksum: inout Float) throws -> StreamRun {
        let stream = UnlabeledClipStream(source: source, clipsPerBatch: clipsPerBatch, workers: workers)
        defer { stream.stop() }
        var idle: [Double] = []
        let start = monotonicSeconds()
        for _ in 0..<batches {
            guard let batch = try stream.next() else { break }
            idle.append(batch.idleSeconds)
            checksum += batch.clips[0].images[0]
            let stepStart = monotonicSeconds()
            var spin = 0.0
            while monotonicSeconds() - stepStart < stepSeconds { spin += 1 }
            checksum += Float(spin) * 0
            stream.recycle(batch)
        }
        let seconds = monotonicSeconds() - start
        let statistics = stream.statistics
        return StreamRun(
            rate: Double(idle.count * clipsPerBatch) / seconds, idle: median(Array(idle.dropFirst())),
            maxIdle: idle.dropFirst().max() ?? 0, firstIdle: idle.first ?? 0, inFlight: statistics.maxClipsInFlight,
            buffers: statistics.buffersAllocated)
    }
}

private func monotonicSeconds() -> Double { Double(DispatchTime.now().uptimeNanoseconds) / 1e9 }
