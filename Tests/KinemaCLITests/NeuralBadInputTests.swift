// The bad-input matrix of `kinema neural synth|train|predict|evaluate|decode`: each row spoils one input or output
// of a working set-up (a small synthetic data set, a model trained on it, its predictions and submission) and
// expects a non-zero exit, exactly one error line naming the file or option, no raw Foundation/libtorch text, and
// every earlier file of the set-up unchanged.
import Foundation
import KinemaTestSupport
import Testing

/// One accident: what is spoiled in a fresh copy of the working set-up, the command, and the name the error must say.
struct NeuralRow: CustomTestStringConvertible, Sendable {
    var name: String
    var arguments: [String]
    var naming: String
    var spoil: @Sendable (URL) throws -> Void = { _ in }
    var testDescription: String { name }

    static func write(_ path: String, _ bytes: [UInt8]) -> @Sendable (URL) throws -> Void {
        { dir in try Data(bytes).write(to: dir.appendingPathComponent(path)) }
    }
    static func cut(_ path: String) -> @Sendable (URL) throws -> Void {
        { dir in
            let url = dir.appendingPathComponent(path)
            let bytes = try Data(contentsOf: url)
            try bytes.prefix(bytes.count / 2 + 3).write(to: url)
        }
    }
    /// Cuts the first file (by name) of a folder of per-trial files.
    static func cutFirstFile(in folder: String) -> @Sendable (URL) throws -> Void {
        { dir in
            let names = try FileManager.default.contentsOfDirectory(atPath: dir.appendingPathComponent(folder).path).sorted()
            try cut(folder + "/" + (names.first ?? "none"))(dir)
        }
    }
    static func fileInTheWay(_ path: String) -> @Sendable (URL) throws -> Void { write(path, Array("a file\n".utf8)) }
    /// The start of a PNG: binary data under the name a person meant to give.
    static let png: [UInt8] = [0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A, 0, 0, 0, 13] + TestNoise.bytes(400, seed: 5)

    static let responses = "syn/synthetic-mouse-0/data/responses/0.npy"
    static let weights = "model/model.safetensors"
    static let all: [NeuralRow] = [
        // synth
        NeuralRow(name: "synth: config missing", arguments: ["synth", "new", "--config", "nope.yaml"], naming: "nope.yaml"),
        NeuralRow(
            name: "synth: config empty", arguments: ["synth", "new", "--config", "synth.yaml"], naming: "synth.yaml",
            spoil: write("synth.yaml", [])),
        NeuralRow(
            name: "synth: config truncated", arguments: ["synth", "new", "--config", "synth.yaml"], naming: "synth.yaml",
            spoil: write("synth.yaml", Array("frames: 60\npadded_fr".utf8))),
        NeuralRow(
            name: "synth: config wrong type", arguments: ["synth", "new", "--config", "synth.yaml"], naming: "synth.yaml",
            spoil: write("synth.yaml", png)),
        NeuralRow(name: "synth: OUT unwritable", arguments: ["synth", "taken/new"], naming: "taken", spoil: fileInTheWay("taken")),
        NeuralRow(name: "synth: OUT holds an earlier data set", arguments: ["synth", "syn", "--neurons", "3"], naming: "syn"),
        // train
        NeuralRow(name: "train: data missing", arguments: ["train", "--data", "nope", "--out", "new"], naming: "nope"),
        NeuralRow(
            name: "train: data folder empty", arguments: ["train", "--data", "empty", "--out", "new"], naming: "empty",
            spoil: { try FileManager.default.createDirectory(at: $0.appendingPathComponent("empty"), withIntermediateDirectories: true) }),
        NeuralRow(
            name: "train: data truncated", arguments: ["train", "--data", "syn", "--out", "new", "--steps", "1"], naming: "0.npy",
            spoil: cut(responses)),
        NeuralRow(
            name: "train: data wrong type", arguments: ["train", "--data", "syn", "--out", "new", "--steps", "1"], naming: "0.npy",
            spoil: write(responses, png)),
        NeuralRow(
            name: "train: config empty", arguments: ["train", "--data", "syn", "--out", "new", "--config", "train.yaml"],
            naming: "train.yaml",
            spoil: write("train.yaml", [])),
        NeuralRow(
            name: "train: out unwritable", arguments: ["train", "--data", "syn", "--out", "taken/new"], naming: "taken",
            spoil: fileInTheWay("taken")),
        NeuralRow(
            name: "train: out holds a model", arguments: ["train", "--data", "syn", "--out", "model", "--steps", "1"], naming: "model"),
        // predict
        NeuralRow(
            name: "predict: model missing", arguments: ["predict", "--model", "nope", "--data", "syn", "--out", "p"], naming: "nope"),
        NeuralRow(
            name: "predict: weights empty", arguments: ["predict", "--model", "model", "--data", "syn", "--out", "p"],
            naming: "model.safetensors", spoil: write(weights, [])),
        NeuralRow(
            name: "predict: weights truncated", arguments: ["predict", "--model", "model", "--data", "syn", "--out", "p"],
            naming: "model.safetensors", spoil: cut(weights)),
        NeuralRow(
            name: "predict: weights wrong type", arguments: ["predict", "--model", "model", "--data", "syn", "--out", "p"],
            naming: "model.safetensors", spoil: write(weights, png)),
        NeuralRow(
            name: "predict: out unwritable", arguments: ["predict", "--model", "model", "--data", "syn", "--out", "taken/p"],
            naming: "taken", spoil: fileInTheWay("taken")),
        NeuralRow(
            name: "predict: submission name taken by a folder",
            arguments: ["predict", "--model", "model", "--data", "syn", "--submission", "pred"],
            naming: "pred"),
        // evaluate
        NeuralRow(
            name: "evaluate: submission missing", arguments: ["evaluate", "--data", "syn", "--submission", "nope.parquet"],
            naming: "nope.parquet"),
        NeuralRow(
            name: "evaluate: submission empty", arguments: ["evaluate", "--data", "syn", "--submission", "sub.parquet"],
            naming: "sub.parquet", spoil: write("sub.parquet", [])),
        NeuralRow(
            name: "evaluate: submission truncated", arguments: ["evaluate", "--data", "syn", "--submission", "sub.parquet"],
            naming: "sub.parquet", spoil: cut("sub.parquet")),
        NeuralRow(
            name: "evaluate: submission wrong type", arguments: ["evaluate", "--data", "syn", "--submission", "sub.parquet"],
            naming: "sub.parquet", spoil: write("sub.parquet", png)),
        NeuralRow(
            name: "evaluate: predictions missing", arguments: ["evaluate", "--data", "syn", "--predictions", "nope"], naming: "nope"),
        NeuralRow(
            name: "evaluate: a prediction truncated", arguments: ["evaluate", "--data", "syn", "--predictions", "pred"],
            naming: "pred/synthetic-mouse-0", spoil: cutFirstFile(in: "pred/synthetic-mouse-0")),
        // decode
        NeuralRow(
            name: "decode: activity missing",
            arguments: ["decode", "--activity", "nope.npy", "--pose-csv", "pose.csv", "--column", "nose:x"], naming: "nope.npy"),
        NeuralRow(
            name: "decode: activity empty", arguments: ["decode", "--activity", "act.npy", "--pose-csv", "pose.csv", "--column", "nose:x"],
            naming: "act.npy", spoil: write("act.npy", [])),
        NeuralRow(
            name: "decode: activity truncated",
            arguments: ["decode", "--activity", "act.npy", "--pose-csv", "pose.csv", "--column", "nose:x"], naming: "act.npy",
            spoil: cut("act.npy")),
        NeuralRow(
            name: "decode: activity wrong type",
            arguments: ["decode", "--activity", "act.npy", "--pose-csv", "pose.csv", "--column", "nose:x"], naming: "act.npy",
            spoil: write("act.npy", png)),
        NeuralRow(
            name: "decode: pose CSV empty", arguments: ["decode", "--activity", "act.npy", "--pose-csv", "pose.csv", "--column", "nose:x"],
            naming: "pose.csv", spoil: write("pose.csv", [])),
        NeuralRow(
            name: "decode: pose CSV wrong type",
            arguments: ["decode", "--activity", "act.npy", "--pose-csv", "pose.csv", "--column", "nose:x"], naming: "pose.csv",
            spoil: write("pose.csv", png)),
    ]
}

/// The working set-up every row starts from, made once: data set, model, predictions, submission, decode inputs.
let neuralSetup: Result<URL, any Error> = Result {
    let dir = try TestFiles.temporaryDirectory("neural-bad-setup")
    try "frames: 40\npadded_frames: 44\noracle_clips: 1\noracle_repeats: 2\n"
        .write(to: dir.appendingPathComponent("synth.yaml"), atomically: true, encoding: .utf8)
    try "validation_window_stride: 7\n".write(to: dir.appendingPathComponent("train.yaml"), atomically: true, encoding: .utf8)
    for arguments in [
        ["neural", "synth", "syn", "--config", "synth.yaml", "--neurons", "5", "--train-trials", "2"],
        ["neural", "train", "--data", "syn", "--out", "model", "--config", "train.yaml", "--steps", "1", "--batch-size", "2", "--quiet"],
        [
            "neural", "predict", "--model", "model", "--data", "syn", "--out", "pred", "--tiers", "oracle", "--window-stride", "7",
            "--submission", "sub.parquet",
        ],
    ] {
        let result = try KinemaProcess.run(arguments, in: dir, timeout: 600)
        guard result.status == 0 else { throw SetupFailed(description: "\(result)") }
    }
    // decode's inputs: activity (neurons × frames) and a pose CSV with one row per frame.
    let predictions = dir.appendingPathComponent("pred/synthetic-mouse-0")
    let first = try FileManager.default.contentsOfDirectory(atPath: predictions.path).sorted()[0]
    try FileManager.default.copyItem(at: predictions.appendingPathComponent(first), to: dir.appendingPathComponent("act.npy"))
    var csv = "scorer,m,m,m\nbodyparts,nose,nose,nose\ncoords,x,y,likelihood\n"
    for frame in 0..<40 { csv += "\(frame),\(Double(frame % 7)),\(Double(frame % 5)),1\n" }
    try csv.write(to: dir.appendingPathComponent("pose.csv"), atomically: true, encoding: .utf8)
    return dir
}

struct SetupFailed: Error, CustomStringConvertible { var description: String }

@Suite("kinema neural: bad input, every command", .serialized)
struct NeuralBadInputTests {
    func fresh(_ tag: String) throws -> URL {
        let dir = try TestFiles.temporaryDirectory("neural-bad-\(tag)")
        try FileManager.default.removeItem(at: dir)
        try FileManager.default.copyItem(at: try neuralSetup.get(), to: dir)
        return dir
    }

    @Test(arguments: NeuralRow.all)
    func row(_ row: NeuralRow) throws {
        let dir = try fresh("row")
        defer { try? FileManager.default.removeItem(at: dir) }
        try row.spoil(dir)
        let before = snapshot(dir)
        let result = try KinemaProcess.run(["neural"] + row.arguments, in: dir, timeout: 300)
        expectOneErrorLine(result, naming: row.naming)
        let after = snapshot(dir)
        for (path, data) in before where after[path] != data { Issue.record("\(row.name): \(path) was changed or removed") }
    }

    @Test(.enabled(if: getuid() != 0, "skipped: the tests run as root, where chmod 000 does not stop reads"))
    func unreadableInputs() throws {
        let dir = try fresh("unreadable")
        defer { try? FileManager.default.removeItem(at: dir) }
        for path in ["synth.yaml", NeuralRow.weights, "sub.parquet", "act.npy"] {
            try FileManager.default.setAttributes([.posixPermissions: 0], ofItemAtPath: dir.appendingPathComponent(path).path)
        }
        let commands: [([String], String)] = [
            (["synth", "new", "--config", "synth.yaml"], "synth.yaml"),
            (["predict", "--model", "model", "--data", "syn", "--out", "p"], "model.safetensors"),
            (["evaluate", "--data", "syn", "--submission", "sub.parquet"], "sub.parquet"),
            (["decode", "--activity", "act.npy", "--pose-csv", "pose.csv", "--column", "nose:x"], "act.npy"),
        ]
        for (arguments, naming) in commands { expectOneErrorLine(try KinemaProcess.run(["neural"] + arguments, in: dir), naming: naming) }
    }

    /// synth and predict onto a full disk: one line naming the file that did not fit; what was there stays.
    @Test(.enabled(if: canMountTmpfs, "skipped: mounting a 1 MiB tmpfs is not permitted here"))
    func fullDisk() throws {
        let dir = try fresh("full")
        defer { try? FileManager.default.removeItem(at: dir) }
        let disk = dir.appendingPathComponent("disk")
        try withFullDisk(at: disk, keep: { try Data("earlier\n".utf8).write(to: $0.appendingPathComponent("notes.txt")) }) {
            for arguments in [
                ["synth", "disk/new", "--config", "synth.yaml", "--neurons", "5", "--train-trials", "2"],
                ["predict", "--model", "model", "--data", "syn", "--out", "disk/p", "--tiers", "oracle", "--window-stride", "7"],
            ] {
                let result = try KinemaProcess.run(["neural"] + arguments, in: dir, timeout: 300)
                expectOneErrorLine(result, naming: "disk/")
                #expect(result.stderr.contains("the disk is full"), "\(result)")
                #expect(try String(contentsOf: disk.appendingPathComponent("notes.txt"), encoding: .utf8) == "earlier\n")
            }
        }
    }

    /// --overwrite replaces an earlier model on purpose (the refusal above is only for accidents).
    @Test func overwriteReplacesAModelOnPurpose() throws {
        let dir = try fresh("overwrite")
        defer { try? FileManager.default.removeItem(at: dir) }
        let before = try Data(contentsOf: dir.appendingPathComponent(NeuralRow.weights))
        let result = try KinemaProcess.run(
            [
                "neural", "train", "--data", "syn", "--out", "model", "--config", "train.yaml", "--steps", "1", "--batch-size", "2",
                "--seed", "9",
                "--quiet", "--overwrite",
            ], in: dir, timeout: 600)
        #expect(result.status == 0, "\(result)")
        #expect(try Data(contentsOf: dir.appendingPathComponent(NeuralRow.weights)) != before)
    }
}
