import ArgumentParser
import Foundation
import Smoothing

/// `kinema bench smooth`: every EKS mode with fixed and automatic s, whole process, `kinema-smooth`
/// against the Python package (scripts/bench/eks-baseline.sh, each job its own process), in paired
/// rounds: each round runs the package's job once and then Kinema's, so both see the same load.
struct BenchSmooth: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "smooth",
        abstract: "Time every EKS mode (fixed and automatic s): `kinema-smooth` (whole process) against the EKS Python package.",
        discussion: """
            Jobs: singlecam, mirrored-multicam, multicam (Tests/Data/eks), calibrated multicam, pupil and paw \
            (Tests/SmoothingTests/Fixtures), each with a fixed and an automatic s; with --examples, also the package's own \
            example data (ibl-pupil, fly, ibl-paw: the sizes users run) as examples/<mode>_<s>. \
            Per job and round the package's job runs once (a fresh Python process) and then Kinema's --repeat times. Prints \
            `bench smooth_<job>_eks <median s> s` and `bench smooth_<job> <median s> s ratio=<median of the rounds' \
            package/Kinema ratios> vs eks-4.6.2`, with the ratios' spread and the load average on a note line, and at the \
            end the worst ratio. The package is installed by the baseline script in a venv on first use (a few minutes).
            """
    )

    @Option(help: "EKS ensembles and goldens (singlecam, mirrored-multicam, multicam jobs).")
    var data: String = "Tests/Data/eks"

    @Option(help: "The package-made calibrated, pupil and paw fixtures.")
    var fixtures: String = "Tests/SmoothingTests/Fixtures"

    @Option(help: "The package's own data/ folder (github.com/paninski-lab/eks v4.6.2): adds the examples/... jobs.")
    var examples: String?

    @Option(help: "Baseline script that installs and times the Python package.")
    var baselineScript: String = "scripts/bench/eks-baseline.sh"

    @Flag(help: "Skip the Python package (prints Kinema's figures with ratio=n/a).")
    var noBaseline = false

    @Option(help: "Executable whose `smooth` commands are timed (default: kinema-smooth next to this kinema, else this kinema).")
    var kinemaBinary: String?

    @Option(help: "Paired rounds per job (package once, then Kinema --repeat times).")
    var rounds: Int = 2

    @Option(name: .customLong("repeat"), help: "Whole-process runs of Kinema per round (their median pairs with the package's run).")
    var repetitions: Int = 3

    @Option(parsing: .upToNextOption, help: "Jobs to run (default: all), e.g. pupil_auto examples/calibrated_s5.")
    var jobs: [String] = []

    func run() async throws {
        let table = benchSmoothJobs(data: data, fixtures: fixtures, examples: examples)
        let selected = jobs.isEmpty ? table.map(\.name) : jobs
        for name in selected where !table.contains(where: { $0.name == name }) {
            throw ValidationError("unknown job '\(name)'; jobs: \(table.map(\.name).joined(separator: ", "))")
        }
        // A wrong --data/--fixtures/--examples is one line here, not a failed run per job.
        for job in table where selected.contains(job.name) {
            let folder = job.arguments[job.arguments.firstIndex(of: "--input-dir")! + 1]
            guard let files = try? SmoothingJob.csvFiles(in: URL(fileURLWithPath: folder)), !files.isEmpty else {
                throw ValidationError(
                    "job \(job.name): no prediction CSV files in \(folder) (run from the repository root, or pass --data/--fixtures/--examples)"
                )
            }
        }
        let binary = kinemaBinary ?? defaultSmoothBinary()
        // kinema-smooth's root command is `smooth` itself.
        let prefix = URL(fileURLWithPath: binary).lastPathComponent == "kinema-smooth" ? [] : ["smooth"]
        var baseline = !noBaseline && FileManager.default.fileExists(atPath: baselineScript)
        if !noBaseline && !baseline {
            print(
                "bench note: EKS baseline unavailable: \(baselineScript) not found (run from the repository root or pass --baseline-script)"
            )
        }
        let scratch = FileManager.default.temporaryDirectory.appendingPathComponent("kinema-bench-smooth-\(getpid())")
        defer { try? FileManager.default.removeItem(at: scratch) }
        let startups = try (0..<3).map { _ in try timed { _ = try runProcess(binary, prefix + ["--help"]) } }.sorted()
        print("bench note: \(binary): start-up alone (--help) \(String(format: "%.3f", startups[1])) s of each whole-process figure")
        if baseline {
            exportBaselineEnvironment()
            FileHandle.standardError.write(
                Data("EKS package baseline: \(selected.count) jobs × \(rounds) rounds (first use installs it)…\n".utf8))
        }
        var worst: (ratio: Double, job: String)?
        for job in table where selected.contains(job.name) {
            let out = scratch.appendingPathComponent(job.name)
            let key = "smooth_" + job.name.replacingOccurrences(of: "/", with: "_")
            var package: [Double] = [], kinema: [Double] = [], ratios: [Double] = []
            var loads: [String] = []
            for _ in 0..<max(1, rounds) {
                loads.append(loadAverage())
                var python: Double?
                if baseline {
                    switch runBaseline(job.name) {
                    case .success(let seconds): python = seconds
                    case .failure(let reason):
                        print("bench note: EKS baseline failed for \(job.name): \(reason); no ratios from here on")
                        baseline = false
                    }
                }
                var times: [Double] = []
                for _ in 0..<max(1, repetitions) {
                    times.append(try timed { _ = try runProcess(binary, prefix + job.arguments + ["--save-dir", out.path]) })
                }
                kinema += times
                if let python {
                    package.append(python)
                    ratios.append(python / median(times))
                }
            }
            if !package.isEmpty { benchLine(key + "_eks", median(package), "s", ratio: 1, baseline: "eks-4.6.2") }
            let ratio = ratios.isEmpty ? nil : median(ratios)
            benchLine(key, median(kinema), "s", ratio: ratio, baseline: "eks-4.6.2")
            let spread =
                ratios.isEmpty
                ? ""
                : "ratio spread \(String(format: "%.1f", ratios.min()!))–\(String(format: "%.1f", ratios.max()!)) over \(ratios.count) rounds, "
            print(
                "bench note: \(job.name): \(spread)Kinema \(String(format: "%.4f", kinema.min()!))–\(String(format: "%.4f", kinema.max()!)) s, "
                    + "load average (1/5/15 min) per round: \(loads.joined(separator: "; "))")
            if let ratio, ratio < (worst?.ratio ?? .infinity) { worst = (ratio, job.name) }
            fflush(nil)  // a job's lines as soon as they exist (the whole run takes minutes)
        }
        if let worst {
            print("bench note: the worst ratio is \(worst.job)'s")
            benchLine("smooth_worst_ratio", worst.ratio, "x", ratio: worst.ratio, baseline: "eks-4.6.2")
        }
    }

    /// kinema-smooth next to this executable (torch-free: the figure users get), else this kinema.
    func defaultSmoothBinary() -> String {
        let me = URL(fileURLWithPath: "/proc/self/exe").resolvingSymlinksInPath()
        let light = me.deletingLastPathComponent().appendingPathComponent("kinema-smooth").path
        return FileManager.default.isExecutableFile(atPath: light) ? light : me.path
    }

    /// Runs one job of the package (one Python process); returns its whole-process seconds.
    func runBaseline(_ job: String) -> Result<Double, BenchError> {
        let output: String
        do { output = try runProcess("/bin/bash", [baselineScript, "--reuse-venv", job]) } catch let error as BenchError {
            return .failure(BenchError(String(error.description.split(separator: "\n").suffix(3).joined(separator: " | "))))
        } catch { return .failure(BenchError("\(error)")) }
        for line in output.split(separator: "\n") {
            let cells = line.split(separator: "\t")
            if cells.count >= 2, cells[0] == job, let seconds = Double(cells[1]) { return .success(seconds) }
        }
        return .failure(BenchError("the script printed no timing"))
    }

    /// Where the baseline script finds the data (it runs with this process's environment).
    func exportBaselineEnvironment() {
        setenv("EKS_DATA", URL(fileURLWithPath: data).standardizedFileURL.path, 1)
        setenv("EKS_FIXTURES", URL(fileURLWithPath: fixtures).standardizedFileURL.path, 1)
        if let examples { setenv("EKS_EXAMPLES", URL(fileURLWithPath: examples).standardizedFileURL.path, 1) }
    }
}

/// The 1/5/15-minute load averages (the machine may be shared: every figure needs them next to it).
private func loadAverage() -> String {
    (try? String(contentsOfFile: "/proc/loadavg", encoding: .utf8))?.split(separator: " ").prefix(3).joined(separator: " ") ?? "?"
}

// MARK: - The jobs

/// One job, named as in scripts/bench/eks_run.py (the package's side of it).
struct BenchSmoothJob {
    let name: String
    /// Arguments after `kinema smooth` (or `kinema-smooth`), without --save-dir.
    let arguments: [String]
}

/// Every mode with a fixed and an automatic s: singlecam, mirrored-multicam and multicam on the
/// golden ensembles, calibrated, pupil and paw on the fixtures, and (with `examples`) the package's
/// example data for the last three.
func benchSmoothJobs(data: String, fixtures: String, examples: String?) -> [BenchSmoothJob] {
    let paws = ["paw1LH", "paw2LF", "paw3RF", "paw4RH"]
    let mm = data + "/mirror-mouse", mms = data + "/mirror-mouse-separate"
    let views = ["--bodypart-list"] + paws + ["--camera-names", "top", "bot"]
    var jobs: [BenchSmoothJob] = []
    for (suffix, s) in [("auto", [String]()), ("s10", ["--s", "10"])] {
        jobs.append(BenchSmoothJob(name: "singlecam_\(suffix)", arguments: ["singlecam", "--input-dir", mm] + s))
        jobs.append(BenchSmoothJob(name: "mirrored_multicam_\(suffix)", arguments: ["mirrored-multicam", "--input-dir", mm] + views + s))
        jobs.append(BenchSmoothJob(name: "multicam_\(suffix)", arguments: ["multicam", "--input-dir", mms] + views + s))
    }
    func calibrated(_ name: String, _ folder: String, _ toml: String, _ extra: [String]) {
        for (suffix, s) in [("auto", [String]()), ("s5", ["--s", "5"])] {
            jobs.append(
                BenchSmoothJob(
                    name: "\(name)_\(suffix)", arguments: ["multicam", "--input-dir", folder, "--calibration", toml] + extra + s))
        }
    }
    func pupil(_ name: String, _ folder: String) {
        for (suffix, s) in [("auto", [String]()), ("fixed", ["--diameter-s", "0.99", "--com-s", "0.98"])] {
            jobs.append(BenchSmoothJob(name: "\(name)_\(suffix)", arguments: ["pupil", "--input-dir", folder] + s))
        }
    }
    func paw(_ name: String, _ folder: String) {
        for (suffix, s) in [("auto", [String]()), ("s5", ["--s", "5"])] {
            jobs.append(BenchSmoothJob(name: "\(name)_\(suffix)", arguments: ["paw", "--input-dir", folder] + s))
        }
    }
    calibrated("calibrated", fixtures + "/calibrated/input", fixtures + "/calibrated/calibration.toml", ["--bodypart-list", "nose", "paw"])
    pupil("pupil", fixtures + "/pupil/input")
    paw("paw", fixtures + "/paw/input")
    if let examples {
        calibrated("examples/calibrated", examples + "/fly", examples + "/fly/calibration.toml", [])
        pupil("examples/pupil", examples + "/ibl-pupil")
        paw("examples/paw", examples + "/ibl-paw")
    }
    return jobs.sorted { $0.name < $1.name }
}
