// What suites that build one expensive fixture (a trained model, test videos) share: the visible reason a fixture
// cannot be built here, and the removal of its folder when the test process exits (no single test may remove it).
import Foundation
import KinemaTestSupport
import PoseData
import Synchronization
import Testing

/// A reason a test cannot run here, printed visibly.
struct Skip: Error, CustomStringConvertible {
    var description: String
    init(_ description: String) { self.description = description }
}

/// The suite fixture, or nil after printing why it cannot be built here; other failures are thrown.
func suiteFixture<Fixture>(_ shared: Result<Fixture, any Error>) throws -> Fixture? {
    switch shared {
    case .success(let fixture): return fixture
    case .failure(let error as Skip):
        print("skipped: \(error)")
        return nil
    case .failure(let error): throw error
    }
}

/// Folders removed at exit; atexit takes a C function, which cannot capture, hence the global.
private let foldersRemovedAtExit = Mutex<[String]>([])

/// Removes `folder` when the test process exits.
func removeAtExit(_ folder: URL) {
    foldersRemovedAtExit.withLock { folders in
        if folders.isEmpty {
            atexit { foldersRemovedAtExit.withLock { for path in $0 { try? FileManager.default.removeItem(atPath: path) } } }
        }
        folders.append(folder.path)
    }
}

/// Trains Kinema's smallest model (a synthetic 64² project, one epoch) into `dir/model` and returns its project: the
/// suites that predict need a real model folder, not a good one.
func trainTinyModel(in dir: URL, labeledFrames: Int = 12, videoFrames: Int = 5) throws -> SyntheticProject {
    let project = try SyntheticProject.write(
        to: dir.appendingPathComponent("project").path, labeledFrames: labeledFrames, videoFrames: videoFrames, size: 64,
        modelSize: 64)
    _ = try KinemaProcess.succeed(
        ["train", project.configPath, "--model-dir", "model", "--epochs", "1", "--image-size", "64", "--no-videos"],
        in: dir, timeout: 300)
    return project
}

/// Short videos `v0.mp4`… (FFmpeg's testsrc, 64×48, H.264) in a new folder `<name>-<random>` under `dir`,
/// `frames[i]` frames each.
func makeTestVideos(ffmpeg: String, in dir: URL, name: String, frames: [Int]) throws -> URL {
    let folder = dir.appendingPathComponent("\(name)-\(UInt32.random(in: 0...UInt32.max))")
    try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
    for (i, count) in frames.enumerated() {
        let path = folder.appendingPathComponent("v\(i).mp4").path
        let status = try runTool(
            ffmpeg,
            [
                "-loglevel", "error", "-y", "-f", "lavfi", "-i", "testsrc=size=64x48:rate=10", "-frames:v", "\(count)",
                "-c:v", "libx264", "-pix_fmt", "yuv420p", path,
            ])
        guard status == 0 else { throw Skip("ffmpeg could not make \(path) (status \(status))") }
    }
    return folder
}
