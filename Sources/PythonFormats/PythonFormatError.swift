// The one error type of PythonFormats: a `.npy` file or a pickle stream that cannot be read or written.

/// What went wrong reading or writing a file that Python's ecosystem writes. Prints as one line naming the
/// source (file path, or `<memory>`) and what is wrong.
public enum PythonFormatError: Error, CustomStringConvertible, Equatable, Sendable {
    /// A `.npy` file or in-memory array that does not decode, or values that do not fit an array.
    case npy(source: String, message: String)
    /// A pickle stream that is malformed or uses an opcode this reader does not interpret.
    case pickle(message: String)

    /// What is wrong, without the source.
    public var message: String {
        switch self {
        case .npy(_, let message), .pickle(let message): message
        }
    }

    public var description: String {
        switch self {
        case let .npy(source, message): "\(source): \(message)"
        case let .pickle(message): "pickle: \(message)"
        }
    }
}
