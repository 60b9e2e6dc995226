// Parquet submission tables (`kinema neural evaluate`): Kinema's own and pyarrow's uncompressed PLAIN files.
import FuzzSupport
import NeuralData

let input = InputFile(extension: "parquet")
fuzz(seeds: {
    var encoder = ParquetSubmissionEncoder(rowGroupBytes: 200, pageBytes: 64)
    var bytes = encoder.start()
    for trial in 0..<3 {
        bytes += encoder.append(
            SubmissionRow(
                mouse: "mouse-\(trial % 2)", trialIndex: trial, prediction: [[0.5, 1.5], [Float(trial), -1]],
                neuronIDs: [3, 7]))
    }
    bytes += encoder.finish()
    return [("submission.parquet", bytes)]
}) { bytes in _ = try? readParquetSubmission(input.write(bytes)) { _ in } }
