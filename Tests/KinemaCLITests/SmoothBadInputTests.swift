// The bad-input matrix of `kinema-smooth` / `kinema smooth`: every mode × every accident a person makes with files
// (missing, unreadable, empty, truncated, wrong type, unwritable output, an output name taken, a full disk). Each
// row expects a non-zero exit, exactly one error line naming the file or option, no raw Foundation text, and the
// earlier result in the output folder untouched.
import Foundation
import KinemaTestSupport
import Testing

/// One smoothing mode with good inputs; `spoiled` is the input the rows damage (a CSV, or the mode's other reader).
struct SmoothModeCase: CustomTestStringConvertible, Sendable {
    var name: String
    /// Fixture files copied into the row's folder (paths relative to SmoothingTests' fixtures; copied by file name).
    var fixtures: [String]
    var arguments: [String]
    var spoiled: String
    /// The file the mode writes first; an earlier version of it sits in the output folder during every row.
    var output: String
    var testDescription: String { name }

    static let calibrated = "calibrated/input/"
    static let all: [SmoothModeCase] = [
        SmoothModeCase(
            name: "singlecam", fixtures: [calibrated + "seed0.camA.csv", calibrated + "seed1.camA.csv"],
            arguments: ["singlecam", "--input-files", "seed0.camA.csv", "seed1.camA.csv", "--s", "5"],
            spoiled: "seed0.camA.csv", output: "eks_singlecam.csv"),
        SmoothModeCase(
            name: "mirrored-multicam", fixtures: ["mirrored/m0.csv", "mirrored/m1.csv"],
            arguments: ["mirrored-multicam", "--input-files", "m0.csv", "m1.csv", "--camera-names", "top,bot", "--s", "5"],
            spoiled: "m1.csv", output: "eks_mirrored_multicam.csv"),
        SmoothModeCase(
            name: "multicam",
            fixtures: ["seed0.camA.csv", "seed0.camB.csv", "seed1.camA.csv", "seed1.camB.csv"].map { calibrated + $0 },
            arguments: [
                "multicam", "--input-files", "seed0.camA.csv", "seed0.camB.csv", "seed1.camA.csv", "seed1.camB.csv",
                "--camera-names", "camA", "camB", "--s", "5",
            ],
            spoiled: "seed1.camB.csv", output: "multicam_camA_results.csv"),
        SmoothModeCase(
            name: "multicam --calibration",
            fixtures: ["calibrated/calibration.toml"]
                + ["seed0.camA.csv", "seed0.camB.csv", "seed0.camC.csv", "seed1.camA.csv", "seed1.camB.csv", "seed1.camC.csv"]
                .map { calibrated + $0 },
            arguments: [
                "multicam", "--input-files", "seed0.camA.csv", "seed0.camB.csv", "seed0.camC.csv", "seed1.camA.csv",
                "seed1.camB.csv", "seed1.camC.csv", "--calibration", "calibration.toml", "--s", "5",
            ],
            spoiled: "calibration.toml", output: "multicam_camA_results.csv"),
        SmoothModeCase(
            name: "pupil", fixtures: ["pupil/input/seed0.csv", "pupil/input/seed1.csv"],
            arguments: ["pupil", "--input-files", "seed0.csv", "seed1.csv", "--diameter-s", "0.9", "--com-s", "0.9"],
            spoiled: "seed0.csv", output: "eks_ibl_pupil.csv"),
        SmoothModeCase(
            name: "paw",
            fixtures: [
                "seed0_left.csv", "seed0_right.csv", "seed1_left.csv", "seed1_right.csv", "timestamps_left.npy", "timestamps_right.npy",
            ]
            .map { "paw/input/" + $0 },
            arguments: [
                "paw", "--input-files", "seed0_left.csv", "seed0_right.csv", "seed1_left.csv", "seed1_right.csv",
                "timestamps_left.npy", "timestamps_right.npy", "--s", "10",
            ],
            spoiled: "timestamps_left.npy", output: "multicam_left_results.csv"),
    ]
}

/// Runs `kinema-smooth` (the static executable beside `kinema`).
enum KinemaSmoothProcess {
    static func run(_ arguments: [String], in directory: URL) throws -> CommandResult {
        let smooth = try KinemaProcess.executable().deletingLastPathComponent().appendingPathComponent("kinema-smooth")
        return try KinemaProcess.run(arguments, in: directory, executable: smooth)
    }
}

/// Whether this process may mount a small tmpfs (root in a container that allows it), to fill a disk on purpose.
let canMountTmpfs: Bool = {
    guard getuid() == 0, let dir = try? TestFiles.temporaryDirectory("tmpfs-probe") else { return false }
    defer { try? FileManager.default.removeItem(at: dir) }
    guard (try? runTool("/bin/mount", ["-t", "tmpfs", "-o", "size=64k", "tmpfs", dir.path])) == 0 else { return false }
    _ = try? runTool("/bin/umount", [dir.path])
    return true
}()

/// A 1 MiB tmpfs mounted at `folder`, filled to the last byte except what `keep` already wrote; unmounted by `body`'s end.
func withFullDisk(at folder: URL, keep: (URL) throws -> Void, _ body: () throws -> Void) throws {
    try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
    try #require(try runTool("/bin/mount", ["-t", "tmpfs", "-o", "size=1m", "tmpfs", folder.path]) == 0)
    defer { _ = try? runTool("/bin/umount", [folder.path]) }
    try keep(folder)
    let filler = open(folder.appendingPathComponent("filler").path, O_WRONLY | O_CREAT, 0o644)
    let block = [UInt8](repeating: 0, count: 512)
    while write(filler, block, block.count) > 0 {}
    close(filler)
    try body()
}

@Suite("kinema-smooth: bad input, every mode", .serialized)
struct SmoothBadInputTests {
    /// A fresh folder with the mode's inputs and, in out/, an earlier result that no row may destroy.
    func prepare(_ mode: SmoothModeCase, _ tag: String) throws -> URL {
        let dir = try TestFiles.temporaryDirectory("smooth-bad-\(tag)")
        let fixtures = TestFiles.fixtures("SmoothingTests")
        for fixture in mode.fixtures {
            let target = dir.appendingPathComponent((fixture as NSString).lastPathComponent)
            if fixture.hasPrefix("mirrored/") {
                // LP's mirror-mouse predictions (views as keypoint suffixes), cut to 60 frames.
                let member = fixture.hasSuffix("m0.csv") ? "rng=0" : "rng=1"
                let source = TestFiles.data.appendingPathComponent("eks/mirror-mouse/180607_004.train_frames=75.\(member).csv")
                let lines = try String(contentsOf: source, encoding: .utf8).split(separator: "\n").prefix(63)
                try (lines.joined(separator: "\n") + "\n").write(to: target, atomically: true, encoding: .utf8)
            } else {
                try FileManager.default.copyItem(at: fixtures.appendingPathComponent(fixture), to: target)
            }
        }
        try FileManager.default.createDirectory(at: dir.appendingPathComponent("out"), withIntermediateDirectories: true)
        try Data("earlier result\n".utf8).write(to: dir.appendingPathComponent("out/" + mode.output))
        return dir
    }

    func run(_ mode: SmoothModeCase, in dir: URL, out: String = "out") throws -> CommandResult {
        try KinemaSmoothProcess.run(mode.arguments + ["--save-dir", out], in: dir)
    }

    func expectEarlierResultKept(_ mode: SmoothModeCase, _ dir: URL, sourceLocation: SourceLocation = #_sourceLocation) {
        let earlier = try? String(contentsOf: dir.appendingPathComponent("out/" + mode.output), encoding: .utf8)
        #expect(earlier == "earlier result\n", "the earlier \(mode.output) was changed", sourceLocation: sourceLocation)
        let left = (try? FileManager.default.contentsOfDirectory(atPath: dir.appendingPathComponent("out").path)) ?? []
        #expect(left == [mode.output], "nothing else is left in the output folder: \(left)", sourceLocation: sourceLocation)
    }

    @Test("the good inputs work (so each row fails for its own reason)", arguments: SmoothModeCase.all)
    func goodInputs(_ mode: SmoothModeCase) throws {
        let dir = try prepare(mode, "good")
        defer { try? FileManager.default.removeItem(at: dir) }
        let result = try run(mode, in: dir, out: "fresh")
        #expect(result.status == 0 && result.stderr.isEmpty, "\(result)")
        #expect(FileManager.default.fileExists(atPath: dir.appendingPathComponent("fresh/" + mode.output).path))
    }

    @Test("missing input", arguments: SmoothModeCase.all)
    func missing(_ mode: SmoothModeCase) throws {
        let dir = try prepare(mode, "missing")
        defer { try? FileManager.default.removeItem(at: dir) }
        try FileManager.default.removeItem(at: dir.appendingPathComponent(mode.spoiled))
        expectOneErrorLine(try run(mode, in: dir), naming: mode.spoiled)
        expectEarlierResultKept(mode, dir)
    }

    @Test(
        "unreadable input", .enabled(if: getuid() != 0, "skipped: the tests run as root, where chmod 000 does not stop reads"),
        arguments: SmoothModeCase.all)
    func unreadable(_ mode: SmoothModeCase) throws {
        let dir = try prepare(mode, "unreadable")
        defer { try? FileManager.default.removeItem(at: dir) }
        try FileManager.default.setAttributes([.posixPermissions: 0], ofItemAtPath: dir.appendingPathComponent(mode.spoiled).path)
        expectOneErrorLine(try run(mode, in: dir), naming: mode.spoiled)
        expectEarlierResultKept(mode, dir)
    }

    @Test("empty input", arguments: SmoothModeCase.all)
    func empty(_ mode: SmoothModeCase) throws {
        let dir = try prepare(mode, "empty")
        defer { try? FileManager.default.removeItem(at: dir) }
        try Data().write(to: dir.appendingPathComponent(mode.spoiled))
        expectOneErrorLine(try run(mode, in: dir), naming: mode.spoiled)
        expectEarlierResultKept(mode, dir)
    }

    @Test("truncated input (cut in the middle of a row or value)", arguments: SmoothModeCase.all)
    func truncated(_ mode: SmoothModeCase) throws {
        let dir = try prepare(mode, "truncated")
        defer { try? FileManager.default.removeItem(at: dir) }
        let url = dir.appendingPathComponent(mode.spoiled)
        let bytes = try Data(contentsOf: url)
        try bytes.prefix(bytes.count / 2 + 7).write(to: url)
        expectOneErrorLine(try run(mode, in: dir), naming: mode.spoiled)
        expectEarlierResultKept(mode, dir)
    }

    @Test("wrong type (binary data under the input's name)", arguments: SmoothModeCase.all)
    func wrongType(_ mode: SmoothModeCase) throws {
        let dir = try prepare(mode, "wrongtype")
        defer { try? FileManager.default.removeItem(at: dir) }
        // The start of a PNG: what a mis-typed path in a folder of plots gives.
        let png: [UInt8] = [0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A, 0, 0, 0, 13] + TestNoise.bytes(500, seed: 11)
        try Data(png).write(to: dir.appendingPathComponent(mode.spoiled))
        expectOneErrorLine(try run(mode, in: dir), naming: mode.spoiled)
        expectEarlierResultKept(mode, dir)
    }

    @Test("unwritable output folder (a file in the way)", arguments: SmoothModeCase.all)
    func unwritableOutput(_ mode: SmoothModeCase) throws {
        let dir = try prepare(mode, "unwritable")
        defer { try? FileManager.default.removeItem(at: dir) }
        try Data("a file\n".utf8).write(to: dir.appendingPathComponent("results"))
        let result = try run(mode, in: dir, out: "results/smoothed")
        expectOneErrorLine(result, naming: "--save-dir")
        #expect(result.stderr.contains("results is a file, not a folder"), "\(result)")
        #expect(try String(contentsOf: dir.appendingPathComponent("results"), encoding: .utf8) == "a file\n")
    }

    @Test("an existing output name taken by a folder", arguments: SmoothModeCase.all)
    func existingOutput(_ mode: SmoothModeCase) throws {
        let dir = try prepare(mode, "existing")
        defer { try? FileManager.default.removeItem(at: dir) }
        let taken = dir.appendingPathComponent("taken/" + mode.output)
        try FileManager.default.createDirectory(at: taken, withIntermediateDirectories: true)
        try Data("kept\n".utf8).write(to: taken.appendingPathComponent("notes.txt"))
        expectOneErrorLine(try run(mode, in: dir, out: "taken"), naming: mode.output)
        #expect(try String(contentsOf: taken.appendingPathComponent("notes.txt"), encoding: .utf8) == "kept\n")
    }

    @Test(
        "full disk", .enabled(if: canMountTmpfs, "skipped: mounting a 1 MiB tmpfs is not permitted here"),
        arguments: SmoothModeCase.all)
    func diskFull(_ mode: SmoothModeCase) throws {
        let dir = try prepare(mode, "full")
        defer { try? FileManager.default.removeItem(at: dir) }
        let disk = dir.appendingPathComponent("disk")
        try withFullDisk(
            at: disk,
            keep: { disk in
                try Data("earlier result\n".utf8).write(to: disk.appendingPathComponent(mode.output))
            }
        ) {
            let result = try run(mode, in: dir, out: "disk")
            expectOneErrorLine(result, naming: mode.output)
            #expect(result.stderr.contains("the disk is full"), "\(result)")
            let earlier = try String(contentsOf: disk.appendingPathComponent(mode.output), encoding: .utf8)
            #expect(earlier == "earlier result\n")
            let left = try FileManager.default.contentsOfDirectory(atPath: disk.path).sorted()
            #expect(left == [mode.output, "filler"].sorted(), "no half-written files: \(left)")
        }
    }

    /// `kinema smooth` and `kinema-smooth` are one implementation: the same row gives the same message.
    /// A damaged .h5 on which libhdf5 1.10.8 itself crashes (a NULL read in H5F__accum_read, found by fuzzing):
    /// one line naming the file instead of "Segmentation fault", and the earlier result kept.
    @Test func anHDF5FileThatCrashesLibhdf5IsOneLine() throws {
        let mode = SmoothModeCase.all[0]
        let dir = try prepare(mode, "h5-crash")
        defer { try? FileManager.default.removeItem(at: dir) }
        try FileManager.default.copyItem(
            at: TestFiles.fixtures("PoseFormatsTests").appendingPathComponent("libhdf5-crash-corrupt-btree.h5"),
            to: dir.appendingPathComponent("seed0.h5"))
        let arguments = ["singlecam", "--input-files", "seed0.h5", "seed1.camA.csv", "--s", "5", "--save-dir", "out"]
        let result = try KinemaSmoothProcess.run(arguments, in: dir)
        expectOneErrorLine(result, naming: "seed0.h5")
        #expect(result.stderr.contains("this HDF5 file is damaged") && result.status == 1, "\(result)")
        expectEarlierResultKept(mode, dir)
        expectOneErrorLine(try KinemaProcess.run(["smooth"] + arguments, in: dir), naming: "seed0.h5")
    }

    @Test func kinemaSmoothSaysTheSame() throws {
        let mode = SmoothModeCase.all[0]
        let dir = try prepare(mode, "same")
        defer { try? FileManager.default.removeItem(at: dir) }
        try Data().write(to: dir.appendingPathComponent(mode.spoiled))
        let viaKinema = try KinemaProcess.run(["smooth"] + mode.arguments + ["--save-dir", "out"], in: dir)
        expectOneErrorLine(viaKinema, naming: mode.spoiled)
        // `kinema` frames every non-usage error as `kinema smooth <mode>: error: …`, kinema-smooth as `Error: …`.
        let message = { (line: String?) in line.map { $0.components(separatedBy: "rror: ").dropFirst().joined(separator: "rror: ") } }
        let direct = try run(mode, in: dir)
        #expect(message(viaKinema.stderrLines.last) == message(direct.stderrLines.last), "\(viaKinema)\n\(direct)")
    }
}

// MARK: - #11.9: kinema-smooth's name, list options, an ensemble of one

@Suite("kinema-smooth: its name, list options, one-member ensembles")
struct SmoothCommandLineTests {
    @Test func usageNamesTheExecutable() throws {
        let dir = try TestFiles.temporaryDirectory("smooth-usage")
        defer { try? FileManager.default.removeItem(at: dir) }
        let help = try KinemaSmoothProcess.run(["singlecam", "--help"], in: dir)
        #expect(help.stdout.contains("USAGE: kinema-smooth singlecam"), "\(help)")
        let wrong = try KinemaSmoothProcess.run(["singlecam", "--bogus"], in: dir)
        #expect(wrong.stderr.contains("kinema-smooth singlecam"), "\(wrong)")
        #expect(!wrong.stderr.contains("Usage: smooth"), "\(wrong)")
        // `kinema smooth` stays `kinema smooth`.
        let kinema = try KinemaProcess.run(["smooth", "singlecam", "--help"], in: dir)
        #expect(kinema.stdout.contains("USAGE: kinema smooth singlecam"), "\(kinema)")
    }

    /// `--camera-names top,bot` and `--camera-names top bot` (and every list option) mean the same.
    @Test func listOptionsTakeCommasOrSpaces() throws {
        let mirrored = SmoothModeCase.all[1]
        let dir = try SmoothBadInputTests().prepare(mirrored, "lists")
        defer { try? FileManager.default.removeItem(at: dir) }
        let common = ["mirrored-multicam", "--input-files", "m0.csv", "m1.csv"]
        let spaces = try KinemaSmoothProcess.run(common + ["--camera-names", "top", "bot", "--s", "5", "--save-dir", "a"], in: dir)
        let commas = try KinemaSmoothProcess.run(common + ["--camera-names", "top,bot", "--s", "5", "--save-dir", "b"], in: dir)
        #expect(spaces.status == 0, "\(spaces)")
        #expect(commas.status == 0, "\(commas)")
        let a = try Data(contentsOf: dir.appendingPathComponent("a/eks_mirrored_multicam.csv"))
        let b = try Data(contentsOf: dir.appendingPathComponent("b/eks_mirrored_multicam.csv"))
        #expect(a == b && !a.isEmpty)

        let single = SmoothModeCase.all[0]
        let folder = try SmoothBadInputTests().prepare(single, "lists-single")
        defer { try? FileManager.default.removeItem(at: folder) }
        let files = ["singlecam", "--input-files", "seed0.camA.csv", "seed1.camA.csv"]
        let listed = try KinemaSmoothProcess.run(
            files + ["--bodypart-list", "nose", "paw", "--s", "5", "9", "--save-dir", "c"], in: folder)
        let joined = try KinemaSmoothProcess.run(files + ["--bodypart-list", "nose,paw", "--s", "5,9", "--save-dir", "d"], in: folder)
        #expect(listed.status == 0 && listed.stdout.contains("s 9"), "\(listed)")
        #expect(
            try Data(contentsOf: folder.appendingPathComponent("c/eks_singlecam.csv"))
                == (try Data(contentsOf: folder.appendingPathComponent("d/eks_singlecam.csv"))))
        #expect(listed.stdout == joined.stdout.replacingOccurrences(of: "/d/", with: "/c/"), "\(listed)\n\(joined)")
        let bad = try KinemaSmoothProcess.run(files + ["--s", "5,soft"], in: folder)
        #expect(bad.status != 0 && bad.stderr.contains("'5,soft' is invalid for '--s"), "\(bad)")
    }

    @Test func oneMemberEnsembleIsSaidInOneLine() throws {
        let mode = SmoothModeCase.all[0]
        let dir = try SmoothBadInputTests().prepare(mode, "one")
        defer { try? FileManager.default.removeItem(at: dir) }
        let one = try KinemaSmoothProcess.run(["singlecam", "--input-files", "seed0.camA.csv", "--s", "5", "--save-dir", "one"], in: dir)
        #expect(one.status == 0, "\(one)")
        #expect(one.stderrLines.count == 1, "\(one)")
        #expect(one.stderrLines.first?.hasPrefix("warning: one ensemble member") == true, "\(one)")
        #expect(one.stderr.contains("at least 2 members") && one.stderr.contains("1/likelihood"), "\(one)")
        let two = try KinemaSmoothProcess.run(mode.arguments + ["--save-dir", "two"], in: dir)
        #expect(two.status == 0 && two.stderr.isEmpty, "\(two)")
        // Multi-camera: one file per camera is one member per view.
        let multicam = try SmoothBadInputTests().prepare(SmoothModeCase.all[2], "one-view")
        defer { try? FileManager.default.removeItem(at: multicam) }
        let views = try KinemaSmoothProcess.run(
            [
                "multicam", "--input-files", "seed0.camA.csv", "seed0.camB.csv", "--camera-names", "camA,camB", "--s", "5", "--save-dir",
                "v",
            ],
            in: multicam)
        #expect(views.status == 0 && views.stderrLines.count == 1, "\(views)")
        #expect(views.stderrLines.first?.hasPrefix("warning: one ensemble member") == true, "\(views)")
    }
}
