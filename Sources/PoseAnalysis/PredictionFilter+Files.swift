// `kinema filter PREDICTION...`: each file filtered into `<stem>_filtered.csv` beside it (and `.h5`, DeepLabCut's
// format, when the input was one or when asked), never over the input or an earlier result unless told.
import Foundation
import PoseFormats

extension PredictionFilter {
    /// The files a filtered prediction is written to.
    public static func outputs(for input: URL, h5: Bool) -> [URL] {
        let isH5 = input.pathExtension.lowercased() == "h5"
        return [output(for: input)] + (h5 || isH5 ? [output(for: input, extension: "h5")] : [])
    }

    /// Filters every input; all inputs are read and every output checked before the first file is written.
    /// Returns the files written, in order. `log` gets one line per input.
    public func run(inputs: [URL], h5: Bool, overwrite: Bool, log: (String) -> Void) throws -> [String] {
        if let problem { throw PoseAnalysisError(problem) }
        var jobs: [(input: URL, table: PoseTable, outputs: [URL])] = []
        var claimed: Set<String> = []
        for input in inputs {
            guard FileManager.default.fileExists(atPath: input.path) else {
                throw PoseAnalysisError("\(input.path): no such file; pass prediction files (.csv or DeepLabCut .h5)")
            }
            let table: PoseTable
            do { table = try PoseTable.read(from: input) } catch let error as PoseFormatError { throw PoseAnalysisError(error.description) }
            let outputs = Self.outputs(for: input, h5: h5)
            for out in outputs {
                if !overwrite, FileManager.default.fileExists(atPath: out.path) {
                    throw PoseAnalysisError(
                        "\(out.path) already exists (an earlier filtering?); remove it or pass --overwrite to replace it")
                }
                guard claimed.insert(out.standardizedFileURL.path).inserted else {
                    throw PoseAnalysisError("\(input.path) and another input would both be filtered into \(out.path)")
                }
            }
            jobs.append((input, table, outputs))
        }
        var written: [String] = []
        for job in jobs {
            let filtered = try apply(job.table, name: job.input.path)
            for out in job.outputs {
                do { try filtered.write(to: out) } catch let error as PoseFormatError { throw PoseAnalysisError(error.description) }
                written.append(out.path)
            }
            log("\(job.input.path): \(summary) -> \(job.outputs.map(\.lastPathComponent).joined(separator: ", "))")
        }
        return written
    }
}
