// Competition submission files (reference 4.4): one row per trial with the columns of the organisers'
// table, `mouse`, `trial_indices`, `prediction` (one list of frame values per neuron) and `neuron_ids`.
//
// The original is a brotli-compressed parquet file written by pandas/pyarrow. Kinema writes the same
// table as Parquet (uncompressed, `ParquetWriter.swift`) when the file name ends in `.parquet`, else as
// JSON Lines (one JSON object per trial, one per line), which `readSubmission` reads back.
import Foundation
import KinemaFiles

#if canImport(Glibc)
import Glibc
#endif

/// One row of a submission: the predictions of one trial.
public struct SubmissionRow: Codable, Sendable, Equatable {
    /// Session folder name, e.g. `dynamic29515-10-12-Video-9b4f6a1a067fe51e15306b9628efea20`.
    public var mouse: String
    /// Trial id (the `<trial>` of `data/*/<trial>.npy`).
    public var trialIndex: Int
    /// `prediction[n]` = frame values of neuron `n` (in `neuronIDs` order) for the submitted frames.
    public var prediction: [[Float]]
    /// Unit ids, one per prediction row.
    public var neuronIDs: [Int64]

    public init(mouse: String, trialIndex: Int, prediction: [[Float]], neuronIDs: [Int64]) {
        self.mouse = mouse
        self.trialIndex = trialIndex
        self.prediction = prediction
        self.neuronIDs = neuronIDs
    }

    enum CodingKeys: String, CodingKey {
        case mouse, trialIndex = "trial_indices", prediction, neuronIDs = "neuron_ids"
    }
}

/// Which frames a submission holds and whether they are scaled as for the official server.
public struct SubmissionFormat: Sendable, Equatable {
    /// Submitted frames of a trial of valid length L: `frames.range(length: L)`. Default: frames 50 … min(L,300)−1
    /// (the organisers' README); `dropLast` gives DwiseNeuro's 50 … min(L,300)−2.
    public var frames: ScoredFrames
    /// Multiply by the per-(neuron, frame) precision of `responses/all/std.npy` before cutting (reference 4.4).
    public var precisionScaled: Bool

    public init(frames: ScoredFrames = ScoredFrames(), precisionScaled: Bool = true) {
        self.frames = frames
        self.precisionScaled = precisionScaled
    }
}

// MARK: - Precision (reference 4.4)

extension SensoriumMouse {
    /// `1/std` of `responses/all/std.npy` per (neuron, frame), with `std` raised to `τ = 0.01·mean(std)`
    /// (mean over all finite entries) where it is not above `τ`; `(N, length)` row-major.
    public func responsePrecision(length: Int) throws -> [Float] {
        let std = try statistic("responses", "std")
        var sum = 0.0, count = 0
        for v in std.values where v.isFinite { sum += Double(v); count += 1 }
        guard count > 0 else {
            throw SensoriumError(
                path: folder.appendingPathComponent("meta/statistics/responses/all/std.npy").path,
                message: "no finite values; cannot compute the submission precision (use --unscaled)")
        }
        let tau = Float(0.01 * sum / Double(count))
        return std.sliced(toFrames: length).map { $0 > tau ? 1 / $0 : 1 / tau }
    }
}

/// The submission row of one trial from its whole-trial prediction `(N, length)` (column t = frame t).
public func submissionRow(
    prediction: [Float], length: Int, mouse: SensoriumMouse, trialID: Int,
    format: SubmissionFormat
) throws -> SubmissionRow {
    let neurons = mouse.neuronCount
    guard prediction.count == neurons * length else {
        throw SensoriumError(
            path: mouse.folder.path, message: "trial \(trialID): prediction has \(prediction.count) values, expected \(neurons) × \(length)"
        )
    }
    let precision = format.precisionScaled ? try mouse.responsePrecision(length: length) : nil
    let range = format.frames.range(length: length)
    let rows: [[Float]] = (0..<neurons).map { n in
        range.map { t in prediction[n * length + t] * (precision?[n * length + t] ?? 1) }
    }
    return SubmissionRow(mouse: mouse.name, trialIndex: trialID, prediction: rows, neuronIDs: mouse.unitIDs)
}

// MARK: - Writing

/// Writes a submission one row at a time through `AtomicFile.Writer` (a temporary file beside the destination,
/// renamed into place by `finish()`; a real submission holds gigabytes, so it is never held in memory). A writer
/// dropped without `finish()` leaves nothing behind.
public final class SubmissionWriter {
    public let url: URL
    private var file: AtomicFile.Writer?
    /// Set when the destination ends in `.parquet`.
    private var parquet: ParquetSubmissionEncoder?
    public private(set) var rowCount = 0

    public init(url: URL) throws {
        self.url = url
        file = try AtomicFile.Writer(url: url)
        if url.pathExtension.lowercased() == "parquet" {
            var encoder = ParquetSubmissionEncoder()
            try write(encoder.start())
            parquet = encoder
        }
    }

    private func write(_ bytes: [UInt8]) throws {
        guard let file, !bytes.isEmpty else { return }
        try file.write(bytes)
    }

    /// Appends one row (a JSON line, or into the current Parquet row group).
    public func append(_ row: SubmissionRow) throws {
        guard file != nil else { throw SensoriumError(path: url.path, message: "submission already finished") }
        if var encoder = parquet {
            for (n, values) in row.prediction.enumerated() {
                if let i = values.firstIndex(where: { !$0.isFinite }) {
                    throw SensoriumError(
                        path: url.path,
                        message:
                            "\(row.mouse) trial \(row.trialIndex): prediction \(values[i]) for neuron row \(n), frame column \(i) is not finite"
                    )
                }
            }
            parquet = nil  // unique owner, so the buffers are not copied on write
            let bytes = encoder.append(row)
            parquet = encoder
            try write(bytes)
            rowCount += 1
            return
        }
        var bytes: [UInt8] = []
        bytes.reserveCapacity(row.prediction.count * ((row.prediction.first?.count ?? 0) * 10 + 4) + 256)
        bytes += Array("{\"mouse\":".utf8)
        appendJSONString(row.mouse, to: &bytes)
        bytes += Array(",\"trial_indices\":\(row.trialIndex),\"prediction\":[".utf8)
        for (n, values) in row.prediction.enumerated() {
            if n > 0 { bytes.append(UInt8(ascii: ",")) }
            bytes.append(UInt8(ascii: "["))
            for (i, v) in values.enumerated() {
                guard v.isFinite else {
                    throw SensoriumError(
                        path: url.path,
                        message:
                            "\(row.mouse) trial \(row.trialIndex): prediction \(v) for neuron row \(n), frame column \(i) is not finite")
                }
                if i > 0 { bytes.append(UInt8(ascii: ",")) }
                bytes += Array(v.description.utf8)
            }
            bytes.append(UInt8(ascii: "]"))
        }
        bytes += Array("],\"neuron_ids\":[".utf8)
        bytes += Array(row.neuronIDs.map(String.init).joined(separator: ",").utf8)
        bytes += Array("]}\n".utf8)
        try write(bytes)
        rowCount += 1
    }

    /// Closes the file and puts it in place (replacing an older one).
    public func finish() throws {
        guard let file else { return }
        self.file = nil
        if var encoder = parquet {
            parquet = nil
            try file.write(encoder.finish())  // on failure the dropped writer removes its temporary file
        }
        try file.commit()
    }
}

private func appendJSONString(_ text: String, to bytes: inout [UInt8]) {
    bytes.append(UInt8(ascii: "\""))
    for scalar in text.unicodeScalars {
        switch scalar {
        case "\"": bytes += Array("\\\"".utf8)
        case "\\": bytes += Array("\\\\".utf8)
        case _ where scalar.value < 0x20: bytes += Array(String(format: "\\u%04x", scalar.value).utf8)
        default: bytes += Array(String(scalar).utf8)
        }
    }
    bytes.append(UInt8(ascii: "\""))
}

// MARK: - Reading

/// Reads the rows of a submission file: Parquet (`.parquet`, see `readParquetSubmission`) or JSON Lines,
/// one line at a time, blank lines skipped.
public func readSubmission(_ url: URL, _ body: (SubmissionRow) throws -> Void) throws {
    if url.pathExtension.lowercased() == "parquet" { return try readParquetSubmission(url, body) }
    guard let handle = FileHandle(forReadingAtPath: url.path) else {
        throw SensoriumError(
            path: url.path, message: "cannot read the submission file (write one with `kinema neural predict --submission FILE`)")
    }
    defer { try? handle.close() }
    let decoder = JSONDecoder()
    var pending = Data()
    var lineNumber = 0
    func decode(_ line: Data) throws {
        lineNumber += 1
        guard line.contains(where: { $0 != 0x20 && $0 != 0x0D && $0 != 0x09 }) else { return }
        do {
            try body(try decoder.decode(SubmissionRow.self, from: line))
        } catch let error as Swift.DecodingError {
            throw SensoriumError(
                path: url.path,
                message: "line \(lineNumber): not a submission row with mouse, trial_indices, prediction, neuron_ids (\(describe(error)))")
        }
    }
    while true {
        let chunk: Data
        do { chunk = try handle.read(upToCount: 1 << 22) ?? Data() } catch {
            throw SensoriumError(path: url.path, message: "cannot read: \(FileProblem.describe(error))")
        }
        if chunk.isEmpty { break }
        pending.append(chunk)
        var start = pending.startIndex
        while let newline = pending[start...].firstIndex(of: 0x0A) {
            try decode(pending[start..<newline])
            start = pending.index(after: newline)
        }
        pending = Data(pending[start...])
    }
    if !pending.isEmpty { try decode(pending) }
}

private func describe(_ error: Swift.DecodingError) -> String {
    let context: Swift.DecodingError.Context
    switch error {
    case .keyNotFound(let key, _): return "missing key \(key.stringValue)"
    case .typeMismatch(_, let c): context = c
    case .valueNotFound(_, let c): context = c
    case .dataCorrupted(let c): context = c
    @unknown default: return "\(error)"
    }
    let path = context.codingPath.map { $0.stringValue }.joined(separator: ".")
    return path.isEmpty ? context.debugDescription : "\(path): \(context.debugDescription)"
}

// MARK: - Scoring

/// Scores a submission file against the recorded responses of `dataset` on the labelled trials of `tier`.
/// Row column j is frame `format.frames.skip + j`. When the submission is precision-scaled, the responses
/// are scaled by the same precision (the official server scored against per-(neuron, frame) standardised
/// responses, reference 8.2); otherwise the raw responses are used. Neurons are matched by unit id.
/// Every labelled trial of the tier must have a row; rows of other trials or mice are ignored.
public func evaluateSubmission(
    _ url: URL, dataset: SensoriumDataset, tier: String,
    format: SubmissionFormat = SubmissionFormat()
) throws -> [MouseEvaluation] {
    var wanted: [String: Set<Int>] = [:]
    for mouse in dataset.mice { wanted[mouse.name] = Set(mouse.trialIDs(inTiers: [tier])) }
    var rows: [String: [Int: SubmissionRow]] = [:]
    try readSubmission(url) { row in
        guard wanted[row.mouse]?.contains(row.trialIndex) == true else { return }
        guard rows[row.mouse]?[row.trialIndex] == nil else {
            throw SensoriumError(path: url.path, message: "two rows for \(row.mouse) trial \(row.trialIndex)")
        }
        rows[row.mouse, default: [:]][row.trialIndex] = row
    }
    let skip = format.frames.skip
    var results: [MouseEvaluation] = []
    for mouse in dataset.mice {
        var order: [Int64: Int] = [:]
        for (n, id) in mouse.unitIDs.enumerated() { order[id] = n }
        var trials: [ScoredTrial] = []
        for id in mouse.trialIDs(inTiers: [tier]) {
            let trial = try mouse.loadTrial(id)
            guard trial.isLabelled else { continue }
            guard let row = rows[mouse.name]?[id] else {
                throw SensoriumError(path: url.path, message: "no row for \(mouse.name) trial \(id) (tier \(tier))")
            }
            let neurons = mouse.neuronCount
            guard row.neuronIDs.count == neurons, row.prediction.count == neurons else {
                throw SensoriumError(
                    path: url.path,
                    message:
                        "\(mouse.name) trial \(id): \(row.prediction.count) prediction rows and \(row.neuronIDs.count) neuron ids, the mouse has \(neurons) neurons"
                )
            }
            let columns = row.prediction.first?.count ?? 0
            guard row.prediction.allSatisfy({ $0.count == columns }), skip + columns <= trial.length else {
                throw SensoriumError(
                    path: url.path,
                    message:
                        "\(mouse.name) trial \(id): rows must all have the same number of frames, at most \(trial.length - skip) (frames \(skip)…\(trial.length - 1))"
                )
            }
            // The trial cut to the submitted frames; frames before `skip` are not scored.
            let length = skip + columns
            var prediction = [Float](repeating: 0, count: neurons * length)
            for (r, unit) in row.neuronIDs.enumerated() {
                guard let n = order[unit] else {
                    throw SensoriumError(
                        path: url.path, message: "\(mouse.name) trial \(id): neuron id \(unit) is not in meta/neurons/unit_ids.npy")
                }
                for j in 0..<columns { prediction[n * length + skip + j] = row.prediction[r][j] }
            }
            let precision = format.precisionScaled ? try mouse.responsePrecision(length: length) : nil
            var target = [Float](repeating: 0, count: neurons * length)
            for n in 0..<neurons {
                for t in 0..<length { target[n * length + t] = trial.responses[n * trial.length + t] * (precision?[n * length + t] ?? 1) }
            }
            trials.append(ScoredTrial(prediction: prediction, target: target, length: length, clipKey: videoClipKey(trial.video)))
        }
        guard !trials.isEmpty else { continue }
        results.append(
            MouseEvaluation(
                mouse: mouse.name, trials: trials.count,
                score: scoreMouse(
                    trials, neurons: mouse.neuronCount,
                    frames: ScoredFrames(skip: skip, cap: Int.max))))
    }
    return results
}
