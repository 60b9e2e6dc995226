// Submission tables (reference 4.4): rows round-trip through the JSON Lines file, the precision scaling
// is 1/std with the τ floor, and scoring a submission equals scoring the same predictions directly.
import Foundation
import NeuralData
import PythonFormats
import Testing

/// The synthetic ground-truth rates of one trial, `(N, L)`.
private func rates(_ mouse: SensoriumMouse, _ trial: SensoriumTrial) throws -> [Float] {
    try mouse.loadRows("rates", trial: trial.id, rows: mouse.neuronCount, padded: mouse.paddedLength, length: trial.length)
}

/// Writes the rates of `tiers` of every mouse as a submission.
private func writeRatesSubmission(_ dataset: SensoriumDataset, tiers: Set<String>, format: SubmissionFormat, to url: URL) throws
    -> [SubmissionRow]
{
    let writer = try SubmissionWriter(url: url)
    var rows: [SubmissionRow] = []
    for mouse in dataset.mice {
        for id in mouse.trialIDs(inTiers: tiers) {
            let trial = try mouse.loadTrial(id)
            let row = try submissionRow(
                prediction: try rates(mouse, trial), length: trial.length, mouse: mouse, trialID: id, format: format)
            try writer.append(row)
            rows.append(row)
        }
    }
    try writer.finish()
    return rows
}

@Suite("submission files")
struct SubmissionTests {
    @Test func rowsRoundTripWithPrecisionScaling() throws {
        let dataset = try SensoriumDataset(root: TestData.root)
        let folder = TestData.scratch("submission")
        defer { try? FileManager.default.removeItem(at: folder) }
        let url = folder.appendingPathComponent("sub.jsonl")
        let tiers: Set<String> = [SensoriumTier.oracle, SensoriumTier.liveTestMain]
        let written = try writeRatesSubmission(dataset, tiers: tiers, format: SubmissionFormat(), to: url)
        var read: [SubmissionRow] = []
        try readSubmission(url) { read.append($0) }
        #expect(read == written)
        #expect(try FileManager.default.contentsOfDirectory(atPath: folder.path) == ["sub.jsonl"], "no temporary files left")
        let text = try String(contentsOf: url, encoding: .utf8)
        #expect(text.hasPrefix("{\"mouse\":\"synthetic-mouse-0\",\"trial_indices\":"))

        // Columns: frames 50 … L−1 (L = 110 here), neuron ids = unit ids, values = rate × precision.
        let mouse = dataset.mice[0]
        let row = try #require(written.first)
        let trial = try mouse.loadTrial(row.trialIndex)
        #expect(row.neuronIDs == mouse.unitIDs)
        #expect(row.prediction.count == mouse.neuronCount && row.prediction[0].count == trial.length - 50)
        let std = try NpyArray(contentsOf: mouse.folder.appendingPathComponent("meta/statistics/responses/all/std.npy"))
        let stdValues = try std.float64Values()
        let tau = 0.01 * stdValues.filter(\.isFinite).reduce(0, +) / Double(stdValues.filter(\.isFinite).count)
        let r = try rates(mouse, trial)
        let padded = std.shape[1]
        for (n, t) in [(0, 50), (3, 77), (mouse.neuronCount - 1, trial.length - 1)] {
            let s = stdValues[n * padded + t]
            let expected = Double(r[n * trial.length + t]) / (s > tau ? s : tau)
            #expect(abs(Double(row.prediction[n][t - 50]) - expected) < 1e-5 * max(1, expected))
        }

        // DwiseNeuro's cut drops the last frame; an unfinished writer leaves nothing behind.
        let dropped = try submissionRow(
            prediction: r, length: trial.length, mouse: mouse, trialID: trial.id,
            format: SubmissionFormat(frames: ScoredFrames(dropLast: true), precisionScaled: false))
        #expect(dropped.prediction[0].count == trial.length - 51 && dropped.prediction[0][0] == r[50])
        do {
            let abandoned = try SubmissionWriter(url: folder.appendingPathComponent("abandoned.jsonl"))
            try abandoned.append(dropped)
        }
        #expect(try FileManager.default.contentsOfDirectory(atPath: folder.path) == ["sub.jsonl"])
    }

    @Test func scoringASubmissionEqualsScoringThePredictions() throws {
        let dataset = try SensoriumDataset(root: TestData.root)
        let folder = TestData.scratch("submission-score")
        defer { try? FileManager.default.removeItem(at: folder) }
        let tiers: Set<String> = [SensoriumTier.oracle]

        // Raw predictions: the same numbers as `evaluate --rates`.
        let raw = folder.appendingPathComponent("raw.jsonl")
        let rawFormat = SubmissionFormat(precisionScaled: false)
        _ = try writeRatesSubmission(dataset, tiers: tiers, format: rawFormat, to: raw)
        let fromFile = try evaluateSubmission(raw, dataset: dataset, tier: SensoriumTier.oracle, format: rawFormat)
        let direct = try evaluatePredictions(.syntheticRates, dataset: dataset, tier: SensoriumTier.oracle)
        #expect(fromFile.count == 2 && direct.count == 2)
        for (a, b) in zip(fromFile, direct) {
            #expect(a.mouse == b.mouse && a.trials == b.trials)
            for n in a.score.singleTrial.indices { #expect(abs(a.score.singleTrial[n] - b.score.singleTrial[n]) < 1e-9) }
            #expect(abs((a.score.toAverageMean ?? 0) - (b.score.toAverageMean ?? -1)) < 1e-9)
        }

        // Scaled predictions are scored against responses scaled by the same precision (the server's way):
        // independent per-neuron correlation over the concatenated frames.
        let scaled = folder.appendingPathComponent("scaled.jsonl")
        _ = try writeRatesSubmission(dataset, tiers: tiers, format: SubmissionFormat(), to: scaled)
        let scores = try evaluateSubmission(scaled, dataset: dataset, tier: SensoriumTier.oracle)
        let mouse = dataset.mice[1]
        var a = [[Double]](repeating: [], count: mouse.neuronCount), b = a
        for id in mouse.trialIDs(inTiers: tiers) {
            let trial = try mouse.loadTrial(id)
            let precision = try mouse.responsePrecision(length: trial.length)
            let r = try rates(mouse, trial)
            for n in 0..<mouse.neuronCount {
                for t in 50..<min(trial.length, 300) {
                    let i = n * trial.length + t
                    a[n].append(Double(r[i] * precision[i]))
                    b[n].append(Double(trial.responses[i] * precision[i]))
                }
            }
        }
        let expected = (0..<mouse.neuronCount).map { competitionCorrelation(a[$0], b[$0]) }
        for n in expected.indices { #expect(abs(scores[1].score.singleTrial[n] - expected[n]) < 1e-6) }
        #expect(abs(scores[1].score.singleTrialMean - direct[1].score.singleTrialMean) > 1e-4, "scaling changes the score")

        // Neurons are matched by unit id: a row in reversed neuron order scores the same.
        var rows: [SubmissionRow] = []
        try readSubmission(raw) { rows.append($0) }
        let reversed = folder.appendingPathComponent("reversed.jsonl")
        let writer = try SubmissionWriter(url: reversed)
        for var row in rows {
            row.prediction.reverse()
            row.neuronIDs.reverse()
            try writer.append(row)
        }
        try writer.finish()
        let again = try evaluateSubmission(reversed, dataset: dataset, tier: SensoriumTier.oracle, format: rawFormat)
        #expect(again.map(\.score.singleTrialMean) == fromFile.map(\.score.singleTrialMean))

        // A missing trial is a clear error naming the mouse and trial.
        let partial = folder.appendingPathComponent("partial.jsonl")
        let short = try SubmissionWriter(url: partial)
        for row in rows.dropFirst() { try short.append(row) }
        try short.finish()
        let missing = try #require(rows.first)
        #expect(throws: SensoriumError.self) {
            try evaluateSubmission(partial, dataset: dataset, tier: SensoriumTier.oracle, format: rawFormat)
        }
        do {
            _ = try evaluateSubmission(partial, dataset: dataset, tier: SensoriumTier.oracle, format: rawFormat)
        } catch {
            #expect("\(error)".contains("no row for \(missing.mouse) trial \(missing.trialIndex)"))
        }
    }
}
