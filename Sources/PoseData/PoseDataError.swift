// One error type for every problem with a pose project: config, labels, images, videos.

/// A problem with the user's project, reported before any training starts.
///
/// The description is one line: `file[:row]: what is wrong — what to do`.
public struct PoseDataError: Error, CustomStringConvertible, Sendable, Equatable {
    /// The file at fault (config, label CSV, image).
    public var file: String
    /// 1-based line (config) or data row (label CSV) where the problem is; nil when not row-specific.
    public var row: Int?
    /// What is wrong.
    public var message: String
    /// What the user should do about it.
    public var hint: String

    public init(file: String, row: Int? = nil, message: String, hint: String = "") {
        self.file = file
        self.row = row
        self.message = message
        self.hint = hint
    }

    public var description: String {
        var text = file
        if let row { text += ":\(row)" }
        text += ": \(message)"
        if !hint.isEmpty { text += " — \(hint)" }
        return text
    }
}

/// Several input problems found in one pass, so the user can fix them all at once.
public struct PoseDataErrors: Error, CustomStringConvertible, Sendable {
    public var errors: [PoseDataError]
    public init(_ errors: [PoseDataError]) { self.errors = errors }

    public var description: String {
        let shown = errors.prefix(20).map { "  " + $0.description }
        var lines = ["\(errors.count) problem(s) with the labelled data:"] + shown
        if errors.count > 20 { lines.append("  … and \(errors.count - 20) more") }
        return lines.joined(separator: "\n")
    }
}
