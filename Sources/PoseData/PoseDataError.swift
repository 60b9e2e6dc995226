// One error type for every problem with a pose project: config, labels, images, videos.
import ConfigDecoding
import Foundation

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

// MARK: - Config errors

extension PoseDataError {
    /// A config problem (unknown key, wrong type, value out of range) as a pose-project error; same one line.
    public init(_ error: ConfigError) {
        self.init(file: error.file, row: error.line, message: error.message)
    }

    /// Runs a config read, reporting its `ConfigError` as a `PoseDataError`.
    static func converting<T>(_ body: () throws -> T) throws -> T {
        do { return try body() } catch let error as ConfigError { throw PoseDataError(error) }
    }

    /// Reads and parses a YAML file (one parse serves both kinds of project).
    static func readYAML(path: String) throws -> ConfigNode {
        guard let data = FileManager.default.contents(atPath: path) else {
            throw PoseDataError(file: path, message: "cannot read the config file", hint: "check the path")
        }
        guard let text = String(data: data, encoding: .utf8), !text.contains("\u{0}") else {
            throw PoseDataError(file: path, message: "is not a text file", hint: "give the project's YAML config")
        }
        return try converting { try ConfigNode.parse(text, file: path) }
    }
}
