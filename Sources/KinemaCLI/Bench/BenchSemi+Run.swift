// `kinema bench semi`'s work: the project, one `kinema train` + `kinema predict` per configuration in child
// processes (so every budget is the trainer's own), the scores and the report.
import ArgumentParser
import ConfigDecoding
import Foundation
import KinemaConsole
import KinemaFiles
import PoseData
import PoseFormats

final class SemiBenchRun {
    let work: String
    let settings: SemiSettings
    /// This `kinema` executable, run for each configuration.
    let executable: String
    private(set) var project: SyntheticSessionsProject?

    var options: SyntheticSessionsOptions {
        var options = SyntheticSessionsOptions()
        options.viewSize = settings.size
        options.labeledFrames = settings.labelled
        options.trainingFrames = settings.trainingFrames
        options.heldOutFrames = settings.heldoutFrames
        return options
    }

    /// The error threshold of the "% off" figure: 5% of a view's side.
    var threshold: Double { Double(settings.size) / 20 }

    func folder(_ name: String) -> String { work + "/" + name }

    /// Checks the working folder: new, empty, or an earlier run with the same settings (whose results are kept).
    init(work: String, settings: SemiSettings) throws {
        let standard = (work as NSString).standardizingPath
        self.work = standard.hasPrefix("/") ? standard : FileManager.default.currentDirectoryPath + "/" + standard
        self.settings = settings
        executable = (try? FileManager.default.destinationOfSymbolicLink(atPath: "/proc/self/exe")) ?? CommandLine.arguments[0]
        let fm = FileManager.default
        var isFolder: ObjCBool = false
        if fm.fileExists(atPath: self.work, isDirectory: &isFolder) {
            guard isFolder.boolValue else { throw BenchError("--work \(work): is a file, not a folder") }
            let contents = (try? fm.contentsOfDirectory(atPath: self.work)) ?? []
            if !contents.isEmpty {
                guard let data = fm.contents(atPath: self.work + "/bench.json"),
                    let earlier = try? JSONDecoder().decode(SemiSettings.self, from: data)
                else {
                    throw BenchError("--work \(work): the folder holds other files; give an empty or new folder (or an earlier run's)")
                }
                guard earlier == settings else {
                    throw BenchError(
                        "--work \(work): holds a run with other settings (\(earlier.describe)); give another --work, or the same options to continue it"
                    )
                }
            }
        }
        do {
            for name in ["configs", "models", "predictions", "logs", "results"] {
                try fm.createDirectory(atPath: folder(name), withIntermediateDirectories: true)
            }
        } catch {
            throw BenchError("--work \(work): cannot be written: \(FileProblem.describe(error))")
        }
    }

    // MARK: - The project

    /// Generates the project (or finds the one an earlier run of the same settings made), sets the training keys
    /// every configuration shares, and says what it holds.
    func prepare() throws {
        let directory = folder("project"), options = options
        let marker = work + "/bench.json"
        if FileManager.default.fileExists(atPath: marker), FileManager.default.fileExists(atPath: directory + "/config.yaml") {
            project = SyntheticSessionsProject.written(in: directory, options: options)
            print("project: \(directory) (made by an earlier run with the same settings)")
        } else {
            try? FileManager.default.removeItem(atPath: directory)  // a project cut off while it was written
            print("generating the project in \(directory)")
            let seconds = try timed {
                project = try SyntheticSessionsProject.write(to: directory, options: options, progress: { print("   " + $0) })
            }
            try sharedTrainingKeys(project!.configPath)
            let data = try JSONEncoder().encode(settings)
            try AtomicFile.write([UInt8](data), to: marker)
            print(String(format: "   done in %.1f s", seconds))
        }
        guard let project else { return }
        for line in project.sessionSummaries { print("   session " + line) }
        let truths = try project.truthPaths.map { try PoseTable.read(from: URL(fileURLWithPath: $0)) }
        let truthScore = try HeldOutScore.score(truths.map { ($0, $0, "truth") }, threshold: threshold)
        print(
            String(
                format:
                    "held-out: %d videos × %d frames, frame %d×%d, %d keypoint-frames scored (%d behind occluders, %.1f%%); the truth's own temporal norm %.2f px",
                project.heldOutVideos.count, settings.heldoutFrames, 2 * settings.size, settings.size, truthScore.keypointFrames,
                truthScore.hiddenKeypointFrames, 100 * Double(truthScore.hiddenKeypointFrames) / Double(max(1, truthScore.keypointFrames)),
                truthScore.temporalNorm))
        let unlabeledFrames =
            options.trainingSessions * settings.trainingFrames
            + (settings.unlabeled == "all" ? project.heldOutVideos.count * settings.heldoutFrames : 0)
        print(
            String(
                format:
                    "training: %d labelled frames from %d sessions, %d unlabelled frames (%@), clips of %@ frames; budget %.2f min per model (each ensemble member too)",
                settings.labelled, options.trainingSessions, unlabeledFrames,
                settings.unlabeled == "all" ? "training and held-out sessions' videos" : "training sessions' videos",
                settings.clipLength.map(String.init) ?? "LP's 32 (context 16)", settings.budgetMinutes))
        if settings.unlabeled == "all" { try linkAllVideos(project) }
    }

    /// The folder of unlabelled videos of `--unlabeled all`: links to the training and the held-out sessions' videos.
    var allVideosFolder: String { folder("unlabeled-all") }

    private func linkAllVideos(_ project: SyntheticSessionsProject) throws {
        let fm = FileManager.default, target = allVideosFolder
        try fm.createDirectory(atPath: target, withIntermediateDirectories: true)
        for video in project.trainingVideos + project.heldOutVideos {
            let link = target + "/" + (video as NSString).lastPathComponent
            if (try? fm.destinationOfSymbolicLink(atPath: link)) == video { continue }
            try? fm.removeItem(atPath: link)
            try fm.createSymbolicLink(atPath: link, withDestinationPath: video)
        }
    }

    /// The keys every configuration trains with: the budget (and epochs that never end first), a constant learning
    /// rate (epoch milestones would favour the configurations that run more epochs in the budget), the temporal ε
    /// (5% of a view's side: a keypoint does not jump further in one frame) and an annealing that reaches full
    /// weight after 10 epochs (LP's 60-epoch freeze would keep the losses off for the whole budget).
    func sharedTrainingKeys(_ path: String) throws {
        var config = try PoseConfig.load(path: path)
        config.maxMinutes = settings.budgetMinutes
        if let seed = settings.seed {
            config.rngSeedDataPt = seed
            config.rngSeedModelPt = seed
        }
        config.maxEpochs = 100_000
        config.minEpochs = 100_000
        config.milestones = [100_000]
        config.losses.temporal.epsilon = [threshold]
        if let logWeight = settings.logWeight {
            config.losses.temporal.logWeight = logWeight
            config.losses.pcaSingleview.logWeight = logWeight
            config.losses.pcaMultiview.logWeight = logWeight
        }
        if let length = settings.clipLength {
            func leaf(_ key: String) -> ConfigValue { .map(["train"], [.map([key], [.scalar(String(length), plain: true)])]) }
            config.dali = .map(["base", "context"], [leaf("sequence_length"), leaf("batch_size")])
        }
        config.callbacks.annealWeight.freezeUntilEpoch = 0
        config.callbacks.annealWeight.increaseFactor = 0.1
        try AtomicFile.write(config.yamlText(), to: path)
    }

    // MARK: - One configuration

    /// The configuration's figures: from an earlier run when it was scored, else trained, predicted and scored now.
    func result(of configuration: SemiConfiguration) throws -> SemiResult {
        let saved = folder("results") + "/\(configuration.name).json"
        if let data = FileManager.default.contents(atPath: saved), let result = try? JSONDecoder().decode(SemiResult.self, from: data) {
            print("-- \(configuration.name): scored by an earlier run, kept")
            return result
        }
        guard let project else { throw BenchError("the project is not prepared") }
        let model = folder("models") + "/" + configuration.name
        let predictions = folder("predictions") + "/" + configuration.name
        let log = folder("logs") + "/\(configuration.name).log"
        var arguments = ["--losses", configuration.losses, "--no-videos", "--overwrite"]
        if settings.unlabeled == "all", configuration.losses != "none" { arguments += ["--unlabeled-videos", allVideosFolder] }
        if let type = configuration.modelType { arguments += ["--model-type", type] }
        let described = "--losses \(configuration.losses)" + (configuration.modelType.map { " --model-type \($0)" } ?? "")
        var trainSeconds = 0.0, steps: [Int] = []
        if configuration.ensemble {
            let ensemble = EnsembleDirectory(model)
            let base = try PoseConfig.load(path: project.configPath)
            if !FileManager.default.fileExists(atPath: ensemble.manifest) {
                try? FileManager.default.removeItem(atPath: model)
                try FileManager.default.createDirectory(atPath: model, withIntermediateDirectories: true)
                var config = base
                config.lossesToUse = try UnsupervisedLossSettings.parseLossList(configuration.losses)
                try AtomicFile.write(config.yamlText(), to: ensemble.config)
                try ensemble.writeManifest(.init(members: settings.members, config: config, sourceConfig: project.configPath))
            }
            let seeds = EnsembleDirectory.dataSeeds(base: base.rngSeedDataPt, members: settings.members)
            for (i, seed) in seeds.enumerated() {
                let member = ensemble.member(i), done = model + "/\(EnsembleDirectory.memberName(i)).trained"
                if !FileManager.default.fileExists(atPath: done) {
                    var config = base
                    config.rngSeedDataPt = seed
                    let memberConfig = folder("configs") + "/\(configuration.name)-member-\(i).yaml"
                    try AtomicFile.write(config.yamlText(), to: memberConfig)
                    print(
                        "-- \(configuration.name): member \(i + 1)/\(seeds.count) (data seed \(seed)): kinema train \(described), budget \(settings.budgetMinutes) min"
                    )
                    trainSeconds += try run(
                        ["train", memberConfig, "--model-dir", member.path] + arguments, log: log, what: "training member \(i)")
                    try AtomicFile.write("\(trainSeconds)\n", to: done)
                } else {
                    trainSeconds +=
                        Double((try? String(contentsOfFile: done, encoding: .utf8))?.trimmingCharacters(in: .whitespacesAndNewlines) ?? "")
                        ?? 0
                }
                steps.append(Self.steps(of: member.path))
            }
        } else {
            print("-- \(configuration.name): kinema train \(described), budget \(settings.budgetMinutes) min")
            trainSeconds = try run(["train", project.configPath, "--model-dir", model] + arguments, log: log, what: "training")
            steps = [Self.steps(of: model)]
        }
        print("   predicting \(project.heldOutVideos.count) held-out videos")
        try? FileManager.default.removeItem(atPath: predictions)
        let predictSeconds = try run(["predict", model] + project.heldOutVideos + ["--output", predictions], log: log, what: "predicting")
        let truths = try project.truthPaths.map { try PoseTable.read(from: URL(fileURLWithPath: $0)) }
        func scored(_ folder: String) throws -> HeldOutScore {
            let files = project.heldOutVideos.map {
                folder + "/" + (($0 as NSString).lastPathComponent as NSString).deletingPathExtension + ".csv"
            }
            let tables = try files.map { try PoseTable.read(from: URL(fileURLWithPath: $0)) }
            return try HeldOutScore.score(zip(zip(tables, truths), files).map { ($0.0, $0.1, $1) }, threshold: threshold)
        }
        var result = SemiResult(
            name: configuration.name, score: try scored(predictions), trainSeconds: trainSeconds, steps: steps,
            predictSeconds: predictSeconds, load: oneMinuteLoad())
        if configuration.ensemble {
            result.memberMeanErrors = try (0..<settings.members).map {
                try scored(predictions + "/members/" + EnsembleDirectory.memberName($0)).meanError
            }
        }
        try AtomicFile.write([UInt8](try JSONEncoder().encode(result)), to: saved)
        print(
            String(
                format:
                    "   mean %.2f px, p95 %.2f px, %.1f%% over %.1f px, temporal norm %.2f px; training %.0f s (%@ steps), prediction %.1f s; load %@",
                result.score.meanError, result.score.p95Error, 100 * result.score.fractionOver, threshold, result.score.temporalNorm,
                trainSeconds, steps.map(String.init).joined(separator: "+"), predictSeconds, result.load))
        return result
    }

    /// Runs this executable with `arguments`, its output appended to `log`; the wall-clock seconds it took. A child
    /// stopped by Ctrl-C (it received it too) ends the benchmark with what is scored so far.
    func run(_ arguments: [String], log: String, what: String) throws -> Double {
        fflush(nil)  // the lines so far before a child that runs for minutes (into a file, stdout is block-buffered)
        let header = "\n$ kinema \(arguments.joined(separator: " "))\n"
        if let handle = FileHandle(forWritingAtPath: log)
            ?? (FileManager.default.createFile(atPath: log, contents: nil) ? FileHandle(forWritingAtPath: log) : nil)
        {
            handle.seekToEndOfFile()
            handle.write(Data(header.utf8))
            try? handle.close()
        }
        var actions = posix_spawn_file_actions_t()
        posix_spawn_file_actions_init(&actions)
        defer { posix_spawn_file_actions_destroy(&actions) }
        posix_spawn_file_actions_addopen(&actions, 1, log, O_WRONLY | O_CREAT | O_APPEND, 0o644)
        posix_spawn_file_actions_adddup2(&actions, 1, 2)
        let argv: [UnsafeMutablePointer<CChar>?] = ([executable] + arguments).map { strdup($0) } + [nil]
        defer { for a in argv { free(a) } }
        let start = Date()
        var pid: pid_t = 0
        let spawned = posix_spawn(&pid, executable, &actions, nil, argv, environ)
        guard spawned == 0 else { throw BenchError("cannot run \(executable): \(String(cString: strerror(spawned)))") }
        var status: Int32 = 0
        while waitpid(pid, &status, 0) < 0 {
            guard errno == EINTR else { throw BenchError("waiting for \(executable): \(String(cString: strerror(errno)))") }
        }
        let seconds = Date().timeIntervalSince(start)
        let exited = status & 0x7f == 0, code = (status >> 8) & 0xff  // WIFEXITED, WEXITSTATUS
        if Interruption.isRequested || (exited && code == 130) || status & 0x7f == SIGINT { throw SemiInterrupted() }
        guard exited, code == 0 else {
            let last = (try? String(contentsOfFile: log, encoding: .utf8))?.split(separator: "\n").last.map(String.init) ?? ""
            throw BenchError("\(what) failed (kinema exit status \(exited ? code : status)): \(last) (whole output: \(log))")
        }
        return seconds
    }

    /// The optimisation steps of the completed epochs (the last row of metrics.csv); 0 when there is none.
    static func steps(of model: String) -> Int {
        guard let text = try? String(contentsOfFile: model + "/metrics.csv", encoding: .utf8),
            let last = text.split(separator: "\n").last, last.first?.isNumber == true
        else { return 0 }
        let cells = last.split(separator: ",", omittingEmptySubsequences: false)
        return cells.count > 1 ? Int(cells[1]) ?? 0 : 0
    }

    // MARK: - Report

    /// One bench line per figure and configuration (ratios against supervised, the ensemble also against all
    /// losses), the targets, then a table.
    func report(_ results: [SemiResult]) {
        guard !results.isEmpty else { return print("no configuration was scored") }
        let supervised = results.first { $0.name == "supervised" }, allLosses = results.first { $0.name == "all_losses" }
        let figures: [(String, String, (HeldOutScore) -> Double)] = [
            ("mean_px", "px", { $0.meanError }), ("p95_px", "px", { $0.p95Error }),
            ("over_5pct", "%", { 100 * $0.fractionOver }), ("temporal_norm", "px", { $0.temporalNorm }),
        ]
        print("")
        for result in results {
            for (figure, unit, value) in figures {
                let v = value(result.score)
                benchLine(
                    "semi_\(result.name)_\(figure)", v, unit, ratio: supervised.map { v / value($0.score) },
                    baseline: supervised == nil ? "none" : "supervised")
            }
            if result.name == "ensemble_eks", let allLosses {
                for (figure, unit, value) in figures {
                    let v = value(result.score)
                    benchLine(
                        "semi_ensemble_eks_vs_all_losses_\(figure)", v, unit, ratio: v / value(allLosses.score), baseline: "all_losses")
                }
            }
        }
        func target(_ label: String, _ value: Double, _ baseline: Double, _ needed: Double) -> String {
            let reduction = 1 - value / baseline
            return String(
                format: "%@ %.1f%% %@ (target ≥ %.0f%% lower: %@)", label, 100 * abs(reduction), reduction >= 0 ? "lower" : "higher",
                100 * needed, reduction >= needed ? "met" : "NOT met")
        }
        if let supervised, let allLosses {
            print(
                "target all_losses vs supervised: "
                    + target("mean", allLosses.score.meanError, supervised.score.meanError, 0.15) + "; "
                    + target("p95", allLosses.score.p95Error, supervised.score.p95Error, 0.25))
        }
        if let allLosses, let ensemble = results.first(where: { $0.name == "ensemble_eks" }) {
            print(
                "target ensemble_eks vs all_losses: " + target("mean", ensemble.score.meanError, allLosses.score.meanError, 0.10) + "; "
                    + target("p95", ensemble.score.p95Error, allLosses.score.p95Error, 0.10))
        }
        print("")
        print(
            String(
                format:
                    "held-out sessions, budget %.2f min per model, threshold %.1f px (5%% of a %d px view); load at the end of each configuration",
                settings.budgetMinutes, threshold, settings.size))
        let header = ["configuration", "models", "steps", "mean px", "p95 px", "% > thr", "hidden px", "temporal norm", "train s", "load"]
        var rows = [header]
        for r in results {
            rows.append([
                r.name, "\(r.steps.count)", r.steps.map(String.init).joined(separator: "+"), String(format: "%.2f", r.score.meanError),
                String(format: "%.2f", r.score.p95Error), String(format: "%.1f", 100 * r.score.fractionOver),
                String(format: "%.2f", r.score.hiddenMeanError), String(format: "%.2f", r.score.temporalNorm),
                String(format: "%.0f", r.trainSeconds),
                r.load,
            ])
        }
        let widths = header.indices.map { c in rows.map { $0[c].count }.max() ?? 0 }
        for (i, row) in rows.enumerated() {
            print(
                "| "
                    + row.enumerated().map { c, cell in
                        c == 0
                            ? cell.padding(toLength: widths[c], withPad: " ", startingAt: 0)
                            : String(repeating: " ", count: widths[c] - cell.count) + cell
                    }
                    .joined(separator: " | ") + " |")
            if i == 0 {
                print(
                    "|"
                        + widths.enumerated().map { c, w in String(repeating: "-", count: w + 1) + (c == 0 ? "-" : ":") }.joined(
                            separator: "|") + "|")
            }
        }
        if let ensemble = results.first(where: { $0.name == "ensemble_eks" }), let members = ensemble.memberMeanErrors {
            print("ensemble members' own mean error: " + members.map { String(format: "%.2f", $0) }.joined(separator: ", ") + " px")
        }
    }
}

extension SemiSettings {
    var describe: String {
        "budget \(budgetMinutes) min, \(labelled) labelled, size \(size), \(members) members, \(trainingFrames)/\(heldoutFrames) frames"
            + (logWeight.map { ", log weight \($0)" } ?? "") + (unlabeled.map { ", unlabelled \($0)" } ?? "")
            + (clipLength.map { ", \($0)-frame clips" } ?? "") + (seed.map { ", seed \($0)" } ?? "")
    }
}

/// The 1-minute load average, recorded with each configuration's figures.
func oneMinuteLoad() -> String {
    (try? String(contentsOfFile: "/proc/loadavg", encoding: .utf8))?.split(separator: " ").first.map(String.init) ?? "?"
}
