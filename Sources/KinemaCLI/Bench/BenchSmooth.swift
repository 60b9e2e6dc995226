import ArgumentParser
import Foundation
import Smoothing

/// `kinema bench smooth`: wall-clock of every golden EKS job, whole process, Kinema against the
/// Python package (run by `../shared/peers/eks-baseline.sh`, each job in its own process).
struct BenchSmooth: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "smooth",
        abstract: "Time the golden EKS jobs: `kinema smooth` (whole process) against the EKS Python package.",
        discussion: """
            Prints per job `bench smooth_<job> <seconds> s ratio=<package/kinema> vs eks-4.6.2` (median of --repeat \
            whole-process runs), the package's own line `bench smooth_<job>_eks …`, and the in-process time of the \
            same job (`smooth_<job>_inprocess`: reading, smoothing and writing without process start-up). \
            The package is set up by the baseline script in a venv (a minute or two on first use).
            """
    )

    @Option(help: "The EKS data folder (inputs of the golden jobs).")
    var data: String = "../shared/data/eks"

    @Option(help: "Baseline script that installs and times the Python package.")
    var baselineScript: String = "../shared/peers/eks-baseline.sh"

    @Flag(help: "Skip the Python package (prints Kinema's figures with ratio=n/a).")
    var noBaseline = false

    @Option(
        parsing: .upToNextOption,
        help:
            "Executables whose `smooth` subcommand is timed (default: this kinema); figures of the 2nd, 3rd… are named smooth_<job>_via_<name>."
    )
    var kinemaBinary: [String] = []

    @Option(name: .customLong("repeat"), help: "Whole-process runs of Kinema per job (the median is reported).")
    var repetitions: Int = 3

    @Option(parsing: .upToNextOption, help: "Jobs to run (default: all 12), e.g. mirror-mouse/singlecam_auto.")
    var jobs: [String] = []

    func run() async throws {
        let table = benchSmoothJobs(data: data)
        let selected = jobs.isEmpty ? table.map(\.name) : jobs
        for name in selected where !table.contains(where: { $0.name == name }) {
            throw ValidationError("unknown job '\(name)'; jobs: \(table.map(\.name).joined(separator: ", "))")
        }
        // By default: this kinema, and the torch-free kinema-smooth built next to it.
        let me = URL(fileURLWithPath: "/proc/self/exe").resolvingSymlinksInPath()
        let light = me.deletingLastPathComponent().appendingPathComponent("kinema-smooth").path
        let binaries =
            kinemaBinary.isEmpty
            ? [me.path] + (FileManager.default.isExecutableFile(atPath: light) ? [light] : []) : kinemaBinary
        let baseline = noBaseline ? [:] : runBaseline(selected)
        let scratch = FileManager.default.temporaryDirectory.appendingPathComponent("kinema-bench-smooth-\(getpid())")
        defer { try? FileManager.default.removeItem(at: scratch) }
        // Process start-up alone (loading the executable and its libraries) is part of every whole-process figure.
        for binary in binaries {
            let startups = try (0..<3).map { _ in try timed { try runProcess(binary, ["--help"]) } }.sorted()
            print(
                "bench note: start-up of \(binary) alone (--help) takes " + String(format: "%.3f", startups[1])
                    + " s of each of its whole-process figures")
        }
        for job in table where selected.contains(job.name) {
            let out = scratch.appendingPathComponent(job.name)
            let key = "smooth_" + job.name.replacingOccurrences(of: "/", with: "_")
            if let python = baseline[job.name] { benchLine(key + "_eks", python, "s", ratio: 1, baseline: "eks-4.6.2") }
            for (i, binary) in binaries.enumerated() {
                // kinema-smooth's root command is `smooth` itself.
                let isLight = URL(fileURLWithPath: binary).lastPathComponent == "kinema-smooth"
                let args = (isLight ? [] : ["smooth"]) + job.arguments + ["--save-dir", out.path]
                var times: [Double] = []
                for _ in 0..<max(1, repetitions) { times.append(try timed { try runProcess(binary, args) }) }
                let kinema = times.sorted()[times.count / 2]
                let name = i == 0 ? key : key + "_via_" + URL(fileURLWithPath: binary).lastPathComponent
                benchLine(name, kinema, "s", ratio: baseline[job.name].map { $0 / kinema }, baseline: "eks-4.6.2")
            }
            let inProcess = try timed { _ = try job.inProcess(out.appendingPathComponent("inprocess")).run() }
            benchLine(key + "_inprocess", inProcess, "s", ratio: baseline[job.name].map { $0 / inProcess }, baseline: "eks-4.6.2")
        }
    }

    /// Runs the package's jobs (one Python process each); returns process wall seconds per job.
    func runBaseline(_ names: [String]) -> [String: Double] {
        guard FileManager.default.fileExists(atPath: baselineScript) else {
            print(
                "bench note: EKS baseline unavailable: \(baselineScript) not found (run from the repository root or pass --baseline-script)"
            )
            return [:]
        }
        let out = FileManager.default.temporaryDirectory.appendingPathComponent("kinema-eks-baseline-\(getpid())")
        defer { try? FileManager.default.removeItem(at: out) }
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/bin/bash")
        process.arguments = [baselineScript, "--reuse-venv"] + names
        var env = ProcessInfo.processInfo.environment
        env["EKS_OUT"] = out.path
        env["EKS_DATA"] = URL(fileURLWithPath: data).standardizedFileURL.path
        process.environment = env
        process.standardOutput = FileHandle.nullDevice
        let err = Pipe()
        process.standardError = err
        FileHandle.standardError.write(
            Data("running the EKS package baseline (\(names.count) jobs; first use installs it in a venv)…\n".utf8))
        do { try process.run() } catch {
            print("bench note: EKS baseline unavailable: cannot run bash (\(error))")
            return [:]
        }
        let errors = err.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        guard let tsv = try? String(contentsOf: out.appendingPathComponent("golden/TIMINGS.tsv"), encoding: .utf8) else {
            let tail = String(decoding: errors, as: UTF8.self).split(separator: "\n").suffix(3).joined(separator: " | ")
            print("bench note: EKS baseline unavailable: the baseline script wrote no timings (\(tail))")
            return [:]
        }
        var result: [String: Double] = [:]
        for line in tsv.split(separator: "\n").dropFirst() {
            let cells = line.split(separator: "\t")
            if cells.count >= 2, let s = Double(cells[1]) { result[String(cells[0])] = s }
        }
        for name in names where result[name] == nil { print("bench note: EKS baseline job \(name) failed; no ratio for it") }
        return result
    }
}

// MARK: - The golden jobs

struct BenchSmoothJob {
    let name: String
    /// Arguments after `kinema smooth`.
    let arguments: [String]
    /// The same job in-process.
    let inProcess: (URL) -> SmoothingJob
}

func benchSmoothJobs(data: String) -> [BenchSmoothJob] {
    let paws = ["paw1LH", "paw2LF", "paw3RF", "paw4RH"]
    let mm = data + "/mirror-mouse", mms = data + "/mirror-mouse-separate"
    func files(_ dir: String) -> [URL] { (try? SmoothingJob.csvFiles(in: URL(fileURLWithPath: dir))) ?? [] }
    var jobs: [BenchSmoothJob] = []
    for (suffix, s) in [("auto", [Double]()), ("s10", [10.0]), ("s10_x64", [10.0])] {
        var options = SmoothingOptions()
        if !s.isEmpty { options.smoothing = .fixed(s) }
        let sArgs = s.isEmpty ? [] : ["--s", "10"]
        jobs.append(
            BenchSmoothJob(name: "mirror-mouse/singlecam_\(suffix)", arguments: ["singlecam", "--input-dir", mm] + sArgs) { out in
                SmoothingJob(mode: .singleCamera, inputs: files(mm), outputFolder: out, options: options)
            })
        jobs.append(
            BenchSmoothJob(
                name: "mirror-mouse/mirrored_multicam_\(suffix)",
                arguments: ["mirrored-multicam", "--input-dir", mm, "--bodypart-list"] + paws + ["--camera-names", "top", "bot"] + sArgs
            ) { out in
                SmoothingJob(
                    mode: .mirrored(cameras: ["top", "bot"]), inputs: files(mm), outputFolder: out, keypoints: paws, options: options)
            })
        for (variant, q, inflate) in [("multicam", 95.0, true), ("multicam_noinflate_q50", 50.0, false)] {
            var o = options
            o.quantileKeepPCA = q
            o.inflateVariances = inflate
            let extra = inflate ? [] : ["--quantile-keep-pca", "50", "--no-inflate-vars"]
            jobs.append(
                BenchSmoothJob(
                    name: "mirror-mouse-separate/\(variant)_\(suffix)",
                    arguments: ["multicam", "--input-dir", mms, "--bodypart-list"] + paws + ["--camera-names", "top", "bot"] + extra + sArgs
                ) { out in
                    SmoothingJob(
                        mode: .multiCamera(cameras: ["top", "bot"]), inputs: files(mms), outputFolder: out, keypoints: paws, options: o)
                })
        }
    }
    return jobs.sorted { $0.name < $1.name }
}
