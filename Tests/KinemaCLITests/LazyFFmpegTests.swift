// FFmpeg is loaded by the first video, not at start-up (CFFmpeg's loader), and libgomp's wait policy is set in-process
// before anything can load libgomp: what the built `kinema` maps (glibc's LD_DEBUG=files lists every library the
// dynamic loader opens, in one file per process id), what it says when FFmpeg is missing, and that it starts once.
import Foundation
import KinemaTestSupport
import Testing

@Suite("FFmpeg loaded when first needed; the wait policy without re-execution", .serialized)
struct LazyFFmpegTests {
    static let video = TestFiles.data.appendingPathComponent("mirror-mouse-example/videos/test_vid.mp4").path

    /// The dynamic loader's log of `kinema arguments…` (LD_DEBUG=files, every process it started), with the run's result.
    static func loaderLog(_ arguments: [String], in dir: URL, environment: [String: String] = [:]) throws -> (CommandResult, String) {
        let log = dir.appendingPathComponent("ld-\(UUID().uuidString)")
        let result = try KinemaProcess.run(
            arguments, in: dir, environment: environment.merging(["LD_DEBUG": "files", "LD_DEBUG_OUTPUT": log.path]) { $1 })
        let files = try FileManager.default.contentsOfDirectory(atPath: dir.path).filter { $0.hasPrefix(log.lastPathComponent) }
        let text = try files.map { try String(contentsOf: dir.appendingPathComponent($0), encoding: .utf8) }.joined()
        for file in files { try FileManager.default.removeItem(at: dir.appendingPathComponent(file)) }
        return (result, text)
    }

    @Test("Commands that read no video map neither FFmpeg, libgomp nor libtorch; `kinema video info` maps FFmpeg")
    func commandsWithoutVideoDoNotMapFFmpeg() throws {
        let dir = try TestFiles.temporaryDirectory("lazy-ffmpeg-open")
        defer { try? FileManager.default.removeItem(at: dir) }
        let input = TestFiles.fixtures("SmoothingTests").appendingPathComponent("paw/input")
        let members = (0..<3).map { input.appendingPathComponent("seed\($0)_left.csv").path }
        let commands: [[String]] = [
            ["--help"], ["smooth", "--help"], ["label", "--help"], ["project", "--help"], ["jobs", "--help"], ["video", "--help"],
            ["smooth", "singlecam", "--input-files"] + members + ["--save-dir", dir.appendingPathComponent("smoothed").path, "--s", "5"],
        ]
        for arguments in commands {
            let (result, log) = try Self.loaderLog(arguments, in: dir)
            #expect(result.status == 0, "\(result)")
            #expect(log.contains("file=libc.so.6"), "LD_DEBUG wrote nothing for \(arguments): the check would be vacuous")
            for library in ["libavcodec.so", "libavformat.so", "libgomp.so", "libtorch_cpu.so"] {
                #expect(!log.contains("file=\(library)"), "\(arguments) mapped \(library)")
            }
        }
        #expect(FileManager.default.fileExists(atPath: dir.appendingPathComponent("smoothed/eks_singlecam.csv").path))
        // The same observation sees FFmpeg (and not libtorch) when a command reads a video.
        let (info, log) = try Self.loaderLog(["video", "info", Self.video], in: dir)
        #expect(info.status == 0 && info.stdout.contains("994"), "\(info)")
        #expect(log.contains("file=libavcodec.so.") && log.contains("file=libavformat.so."), "\(log.suffix(2000))")
        #expect(!log.contains("file=libtorch_cpu.so"), "video info mapped libtorch")
    }

    @Test("Without FFmpeg (KINEMA_FFMPEG=/nonexistent) reading a video is one line naming what to install; smoothing runs")
    func missingFFmpegIsOneLine() throws {
        let dir = try TestFiles.temporaryDirectory("lazy-ffmpeg-missing")
        defer { try? FileManager.default.removeItem(at: dir) }
        let noFFmpeg = ["KINEMA_FFMPEG": "/nonexistent"]
        for arguments in [["video", "info", Self.video], ["video", "frames", Self.video, "--at", "3", "--out", "frames"]] {
            let result = try KinemaProcess.run(arguments, in: dir, environment: noFFmpeg)
            #expect(result.status == 1 && result.stderrLines.count == 1, "\(result)")
            let line = result.stderrLines.first ?? ""
            #expect(line.contains("\(Self.video): FFmpeg could not be loaded (/nonexistent/libavutil.so."), "\(result)")
            #expect(line.contains("cannot open shared object file"), "\(result)")
            #expect(line.contains("install it (`apt-get install libavformat") && line.contains("or `make setup`"), "\(result)")
            #expect(line.hasSuffix("or correct KINEMA_FFMPEG=<folder>"), "\(result)")
        }
        #expect(try FileManager.default.contentsOfDirectory(atPath: dir.path).isEmpty, "something was written")
        // `kinema info` says it too, and fails; smoothing needs no FFmpeg.
        let info = try KinemaProcess.run(["info"], in: dir, environment: noFFmpeg)
        #expect(info.status == 1 && info.stdout.contains("video     not loaded: FFmpeg could not be loaded ("), "\(info)")
        let help = try KinemaProcess.run(["smooth", "--help"], in: dir, environment: noFFmpeg)
        #expect(help.status == 0 && help.stdout.contains("USAGE"), "\(help)")
    }

    @Test("The wait policy is set in-process: the program starts once, libgomp's spin count is 0 and info says so")
    func waitPolicyWithoutReexecution() throws {
        let dir = try TestFiles.temporaryDirectory("lazy-ffmpeg-omp")
        defer { try? FileManager.default.removeItem(at: dir) }
        // `info` loads libtorch (and libgomp) and FFmpeg. A re-executed process keeps its id, so the loader's log of that
        // id would hold two starts: libc mapped twice.
        let (info, log) = try Self.loaderLog(["info"], in: dir, environment: ["OMP_DISPLAY_ENV": "verbose"])
        #expect(info.status == 0, "\(info)")
        let starts = log.components(separatedBy: "\n").filter { $0.contains("file=libc.so.6 [0];  generating link map") }
        #expect(starts.count == 1, "\(starts)")
        #expect(log.contains("file=libgomp.so.1"), "libgomp was not loaded: the check would be vacuous")
        #expect(info.stderr.contains("GOMP_SPINCOUNT = '0'"), "\(info)")
        #expect(info.stdout.contains("idle threads wait: OMP_WAIT_POLICY=PASSIVE (kinema's choice"), "\(info)")
        // GOMP_SPINCOUNT is the user's choice too: kinema leaves it alone.
        let spin = try KinemaProcess.run(["info"], in: dir, environment: ["OMP_DISPLAY_ENV": "verbose", "GOMP_SPINCOUNT": "1000"])
        #expect(spin.stderr.contains("GOMP_SPINCOUNT = '1000'"), "\(spin)")
        #expect(spin.stdout.contains("idle threads wait: GOMP_SPINCOUNT=1000\n"), "\(spin)")
    }
}
