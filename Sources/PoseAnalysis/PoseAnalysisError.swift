// The one error of PoseAnalysis: a sentence in a scientist's words naming the file or option.

/// Something `kinema filter`, `kinema plot` or the per-frame metrics cannot do, said in one line.
public struct PoseAnalysisError: Error, CustomStringConvertible, Sendable, Equatable {
    public let description: String
    public init(_ description: String) { self.description = description }
}
