import ArgumentParser
import Foundation
import NeuralData
import PoseFormats
import PythonFormats

// MARK: - kinema neural decode

/// `kinema neural decode`: cross-validated ridge regression from neural activity to behaviour.
struct NeuralDecodeCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "decode",
        abstract: "Decode a behaviour signal from neural activity with cross-validated ridge regression (R² per fold).",
        discussion: """
            Two inputs:
              kinema neural decode --data MOUSE --signal pupil [--tiers train,oracle]
                Sensorium responses → pupil | speed | pupil-x | pupil-y; one segment per trial, trials spread over folds.
              kinema neural decode --activity acts.npy --pose-csv poses.csv --column paw1:x
                (neurons, frames) activity next to one column of a Lightning Pose / DeepLabCut CSV with one row per \
            frame; the recording is cut into --folds contiguous blocks. \
            Features are standardised; the penalty is chosen per fold by inner cross-validation unless --alpha \
            is given (relative to the number of training frames). --lags L adds activity at t−1 … t−L.
            """
    )

    @Option(help: "Sensorium mouse folder (or a folder of mice with --mouse).")
    var data: String?

    @Option(help: "Mouse folder name when --data holds several.")
    var mouse: String?

    @Option(help: "Behaviour signal for --data: pupil, speed, pupil-x, pupil-y.")
    var signal = "pupil"

    @Option(help: "Tiers whose labelled trials are used, comma-separated.")
    var tiers = "train,oracle"

    @Option(help: "Neural activity .npy (neurons, frames) for --pose-csv.")
    var activity: String?

    @Option(help: "Pose CSV (Lightning Pose / DeepLabCut) with one row per frame.")
    var poseCsv: String?

    @Option(help: ArgumentHelp("Pose column as KEYPOINT:COORD, e.g. pupil_top_r:y.", valueName: "KEYPOINT:COORD"))
    var column: String?

    @Option(help: "Number of folds.")
    var folds = 5

    @Option(help: "Previous frames added as features.")
    var lags = 0

    @Option(help: "Fixed penalty relative to training frames (default: chosen by inner CV).")
    var alpha: Double?

    @Option(help: "Use at most this many neurons (highest variance).")
    var maxNeurons = 500

    func run() throws {
        let segments: [DecodingSegment]
        if let data {
            guard let chosen = BehaviourSignal(rawValue: signal) else {
                throw ValidationError("--signal must be one of \(BehaviourSignal.allCases.map(\.rawValue).joined(separator: ", "))")
            }
            let dataset = try SensoriumDataset(root: URL(fileURLWithPath: data))
            let selected: SensoriumMouse
            if let mouse {
                guard let m = dataset.mouse(named: mouse) else { throw ValidationError("no mouse folder '\(mouse)' in \(data)") }
                selected = m
            } else {
                guard dataset.mice.count == 1, let m = dataset.mice.first else {
                    throw ValidationError(
                        "\(data) holds \(dataset.mice.count) mice; choose one with --mouse (\(dataset.mice.map(\.name).joined(separator: ", ")))"
                    )
                }
                selected = m
            }
            segments = try sensoriumDecodingSegments(
                mouse: selected, tiers: parseTiers(tiers), signal: chosen, folds: folds, maxNeurons: maxNeurons)
            print("decoding \(chosen.rawValue) of \(selected.name) from \(segments.first?.neurons ?? 0) neurons, \(segments.count) trials")
        } else if let activity, let poseCsv, let column {
            let parts = column.split(separator: ":").map(String.init)
            guard parts.count == 2 else { throw ValidationError("--column must be KEYPOINT:COORD, e.g. paw1:x") }
            let table = try PoseTable.read(from: URL(fileURLWithPath: poseCsv))
            guard let target = table.column(keypoint: parts[0], coord: parts[1]) else {
                throw ValidationError(
                    "\(poseCsv): no column \(column) (keypoints: \(table.keypoints.joined(separator: ", ")); coords: \(table.coords.joined(separator: ", ")))"
                )
            }
            let array = try NpyArray(contentsOf: URL(fileURLWithPath: activity))
            guard array.shape.count == 2, array.shape[1] == target.count else {
                throw ValidationError(
                    "\(activity): shape \(array.shape), expected (neurons, \(target.count)) to match the CSV's \(target.count) rows")
            }
            var values = try array.float32Values()
            let neurons = array.shape[0], frames = array.shape[1]
            let keep = highestVarianceRows([(values, frames)], rows: neurons, count: maxNeurons)
            values = selectRows(values, length: frames, rows: keep)
            segments = try contiguousDecodingSegments(activity: values, neurons: keep.count, frames: frames, target: target, folds: folds)
            print("decoding \(column) from \(keep.count) neurons, \(frames) frames")
        } else {
            throw ValidationError("give --data MOUSE --signal NAME, or --activity FILE --pose-csv FILE --column KEYPOINT:COORD")
        }
        var options = RidgeOptions(folds: folds, lags: lags, fixedAlpha: alpha)
        if alpha != nil { options.relativeAlphas = [] }
        let result = try crossValidatedRidge(segments, options: options)
        print("fold\tR2\talpha\ttrain_frames\ttest_frames")
        for f in result.folds {
            print("\(f.fold)\t\(String(format: "%.4f", f.r2))\t\(f.relativeAlpha)\t\(f.trainRows)\t\(f.testRows)")
        }
        print(String(format: "mean R2 %.4f", result.meanR2))
    }
}
