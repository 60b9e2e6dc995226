// A parsed YAML document with the line of every key and value, and free-form values kept as they were written.
import Yams

// MARK: - Tree with lines

/// A YAML value with the 1-based line it came from (0: not from a file, e.g. a default).
public indirect enum ConfigNode: Sendable {
    case null(line: Int)
    /// `plain` is false for quoted scalars (`'16'` is text, not a number).
    case scalar(String, plain: Bool, line: Int)
    case list([ConfigNode], line: Int)
    /// Entries in file order; `line` of an entry is the line of its key.
    case map([Entry], line: Int)

    public struct Entry: Sendable {
        public var key: String
        public var line: Int
        public var value: ConfigNode
        public init(key: String, line: Int, value: ConfigNode) { self.key = key; self.line = line; self.value = value }
    }

    public var line: Int {
        switch self {
        case .null(let line), .scalar(_, _, let line), .list(_, let line), .map(_, let line): return line
        }
    }

    /// Parses YAML text; `file` only names the source in errors.
    public static func parse(_ text: String, file: String) throws -> ConfigNode {
        do {
            guard let node = try Yams.compose(yaml: text) else { return .map([], line: 1) }
            return ConfigNode(node)
        } catch {
            var line: Int?, problem = "\(error)"
            switch error as? YamlError {
            case .scanner(_, let p, let mark, _), .parser(_, let p, let mark, _), .composer(_, let p, let mark, _):
                line = mark.line; problem = p
            default: break
            }
            throw ConfigError(file: file, line: line, message: "not valid YAML (\(problem)); check indentation and quoting")
        }
    }

    init(_ node: Node) {
        let line = node.mark?.line ?? 0
        switch node {
        case .scalar(let scalar):
            let plain = scalar.style == .plain || scalar.style == .any
            if plain, ["", "~", "null", "Null", "NULL"].contains(scalar.string) { self = .null(line: line); return }
            self = .scalar(scalar.string, plain: plain, line: line)
        case .sequence(let sequence):
            self = .list(sequence.map(ConfigNode.init), line: line)
        case .mapping(let mapping):
            self = .map(
                mapping.map { Entry(key: $0.key.string ?? "\($0.key)", line: $0.key.mark?.line ?? line, value: ConfigNode($0.value)) },
                line: line)
        case .alias:
            self = .null(line: line)
        }
    }

    // MARK: Access

    /// The entry under `key` of a mapping.
    public func entry(_ key: String) -> Entry? {
        if case .map(let entries, _) = self { return entries.first { $0.key == key } }
        return nil
    }

    public subscript(key: String) -> ConfigNode? { entry(key)?.value }

    /// Follows a dotted path (`data.image_resize_dims.height`).
    public func at(_ path: String) -> ConfigNode? {
        var node: ConfigNode? = self
        for part in path.split(separator: ".") { node = node?[String(part)] }
        return node
    }

    public var isNull: Bool { if case .null = self { return true } else { return false } }
    /// The scalar text, or nil.
    public var text: String? { if case .scalar(let s, _, _) = self { return s } else { return nil } }
    /// The list items, or nil.
    public var items: [ConfigNode]? { if case .list(let items, _) = self { return items } else { return nil } }
    /// Mapping entries, or nil.
    public var entries: [Entry]? { if case .map(let entries, _) = self { return entries } else { return nil } }

    /// YAML text of this tree (block style; lists of scalars on one line).
    public func yamlText() throws -> String { try Yams.serialize(node: yamsNode, width: -1, sortKeys: false) }

    var yamsNode: Node {
        switch self {
        case .null: return Node("null")
        case .scalar(let text, let plain, _):
            return .scalar(.init(text, .implicit, plain ? .plain : .singleQuoted))
        case .list(let items, _):
            let flow = items.allSatisfy { if case .map = $0 { return false } else { return true } }
            return .sequence(.init(items.map(\.yamsNode), .implicit, flow ? .flow : .block))
        case .map(let entries, _):
            return .mapping(.init(entries.map { (Node($0.key), $0.value.yamsNode) }, .implicit, .block))
        }
    }
}

// MARK: - Free-form values

/// A free-form part of a config (LP's `losses`, `dali`, `hydra`, `callbacks`, …): any YAML, kept as written and
/// written back unchanged; its keys are not checked.
public indirect enum ConfigValue: Codable, Sendable, Equatable {
    case null
    case scalar(String, plain: Bool)
    case list([ConfigValue])
    case map([String], [ConfigValue])

    public init(_ node: ConfigNode) {
        switch node {
        case .null: self = .null
        case .scalar(let text, let plain, _): self = .scalar(text, plain: plain)
        case .list(let items, _): self = .list(items.map(ConfigValue.init))
        case .map(let entries, _): self = .map(entries.map(\.key), entries.map { ConfigValue($0.value) })
        }
    }

    /// As a tree without lines (for writing).
    public var node: ConfigNode {
        switch self {
        case .null: return .null(line: 0)
        case .scalar(let text, let plain): return .scalar(text, plain: plain, line: 0)
        case .list(let items): return .list(items.map(\.node), line: 0)
        case .map(let keys, let values):
            return .map(zip(keys, values).map { ConfigNode.Entry(key: $0, line: 0, value: $1.node) }, line: 0)
        }
    }

    /// The mapping's keys, or nil.
    public var keys: [String]? { if case .map(let keys, _) = self { return keys } else { return nil } }

    // ConfigDecoder/ConfigEncoder pass free-form values through untouched; these serve other coders (text only).
    public init(from decoder: any Decoder) throws {
        let c = try decoder.singleValueContainer()
        self = c.decodeNil() ? .null : .scalar(try c.decode(String.self), plain: true)
    }

    public func encode(to encoder: any Encoder) throws {
        var c = encoder.singleValueContainer()
        switch self {
        case .scalar(let text, _): try c.encode(text)
        default: try c.encodeNil()
        }
    }
}
