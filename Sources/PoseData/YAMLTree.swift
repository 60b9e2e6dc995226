// A small, Sendable view of a parsed YAML document with line numbers, for strict config reading.
import Foundation
import Yams

// MARK: - Tree

/// A YAML value with the line it came from (1-based; 0 when unknown).
public indirect enum YAMLValue: Sendable {
    case null(line: Int)
    case scalar(String, line: Int)
    case list([YAMLValue], line: Int)
    case map([(key: String, value: YAMLValue)], line: Int)

    public var line: Int {
        switch self {
        case .null(let line), .scalar(_, let line), .list(_, let line), .map(_, let line): return line
        }
    }

    /// Parses YAML text; `file` only names the source in errors.
    public static func parse(_ text: String, file: String) throws -> YAMLValue {
        do {
            guard let node = try Yams.compose(yaml: text) else { return .map([], line: 1) }
            return convert(node)
        } catch {
            throw PoseDataError(file: file, message: "not valid YAML (\(error))",
                                hint: "check indentation and quoting near the reported position")
        }
    }

    private static func convert(_ node: Node) -> YAMLValue {
        let line = node.mark?.line ?? 0
        switch node {
        case .scalar(let scalar):
            let text = scalar.string
            if scalar.style == .plain, ["", "~", "null", "Null", "NULL"].contains(text) { return .null(line: line) }
            return .scalar(text, line: line)
        case .sequence(let sequence):
            return .list(sequence.map(convert), line: line)
        case .mapping(let mapping):
            return .map(mapping.map { (key: $0.key.string ?? "\($0.key)", value: convert($0.value)) }, line: line)
        case .alias:
            return .null(line: line)
        }
    }

    // MARK: - Access

    /// The child under `key` of a mapping.
    public subscript(key: String) -> YAMLValue? {
        if case .map(let entries, _) = self { return entries.first { $0.key == key }?.value }
        return nil
    }

    /// Follows a dotted path (`data.image_resize_dims.height`).
    public func at(_ path: String) -> YAMLValue? {
        var node: YAMLValue? = self
        for part in path.split(separator: ".") { node = node?[String(part)] }
        return node
    }

    public var isNull: Bool { if case .null = self { return true } else { return false } }

    /// The scalar text, or nil.
    public var text: String? { if case .scalar(let s, _) = self { return s } else { return nil } }

    /// The list items, or nil.
    public var items: [YAMLValue]? { if case .list(let items, _) = self { return items } else { return nil } }

    /// Mapping entries, or nil.
    public var entries: [(key: String, value: YAMLValue)]? {
        if case .map(let entries, _) = self { return entries } else { return nil }
    }
}

// MARK: - Typed reads with errors that name the key

/// Reads typed values out of a YAML tree, reporting the file, line and key on type errors.
struct YAMLReader {
    let root: YAMLValue
    let file: String

    private func fail(_ path: String, _ node: YAMLValue, expected: String) -> PoseDataError {
        PoseDataError(file: file, row: node.line, message: "`\(path)` should be \(expected)",
                      hint: "fix the value of `\(path)` in the config")
    }

    func string(_ path: String) throws -> String? {
        guard let node = root.at(path), !node.isNull else { return nil }
        guard let text = node.text else { throw fail(path, node, expected: "a single value") }
        return text
    }

    func int(_ path: String) throws -> Int? {
        guard let text = try string(path) else { return nil }
        if let value = Int(text) { return value }
        if let value = Double(text), value == value.rounded() { return Int(value) }
        throw fail(path, root.at(path)!, expected: "an integer (got '\(text)')")
    }

    func double(_ path: String) throws -> Double? {
        guard let text = try string(path) else { return nil }
        // YAML 1.1 reads `1e-3` as a string; accept it like OmegaConf does.
        guard let value = Double(text) else { throw fail(path, root.at(path)!, expected: "a number (got '\(text)')") }
        return value
    }

    func bool(_ path: String) throws -> Bool? {
        guard let text = try string(path) else { return nil }
        switch text.lowercased() {
        case "true", "yes", "on": return true
        case "false", "no", "off": return false
        default: throw fail(path, root.at(path)!, expected: "true or false (got '\(text)')")
        }
    }

    func strings(_ path: String) throws -> [String]? {
        guard let node = root.at(path), !node.isNull else { return nil }
        if let text = node.text { return [text] }
        guard let items = node.items else { throw fail(path, node, expected: "a list") }
        return try items.map { item in
            guard let text = item.text else { throw fail(path, item, expected: "a list of single values") }
            return text
        }
    }

    func ints(_ path: String) throws -> [Int]? {
        guard let values = try strings(path) else { return nil }
        return try values.map { text in
            guard let v = Int(text) else { throw fail(path, root.at(path)!, expected: "a list of integers (got '\(text)')") }
            return v
        }
    }

    /// A list of lists of strings (skeleton edges, flip pairs, mirrored column matches).
    func stringLists(_ path: String) throws -> [[String]]? {
        guard let node = root.at(path), !node.isNull else { return nil }
        guard let items = node.items else { throw fail(path, node, expected: "a list of lists") }
        return try items.map { item in
            guard let inner = item.items else { throw fail(path, item, expected: "a list of lists") }
            return try inner.map { value in
                guard let text = value.text else { throw fail(path, value, expected: "a list of lists of single values") }
                return text
            }
        }
    }
}
