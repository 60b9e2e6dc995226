// Strict decoding of YAML configs into Codable types: unknown keys (with the closest valid one), wrong types and
// out-of-range values are errors with file and line; absent keys take the defaults stated on the properties.
import Foundation

/// Decodes a `Decodable` config from YAML, strictly.
///
/// - Keys: a Swift property `trainBatchSize` is the YAML key `train_batch_size` (explicit `CodingKeys` raw values
///   are used as they are). The keys valid at a level are the keys the type's `init(from:)` asks for, so no
///   separate list exists; any other key is an error naming the closest valid one.
/// - Defaults: for a `ConfigSection`, keys absent from the file (or `null`) take the values of `init()`.
/// - Values: integers, numbers (`1e-3` too), booleans (`true/yes/on`, `false/no/off`), text; a single value where
///   a list is expected is a one-element list. `ConfigValue` fields take any YAML unchecked (free-form sections).
/// - Interpolation (optional, OmegaConf's): `${section.key}` and `${ENV_VAR:default}` / `${oc.env:VAR}` in text
///   values are resolved against the file's own tree and the environment.
public struct ConfigDecoder: Sendable {
    public var file: String
    public var interpolates: Bool

    public init(file: String, interpolates: Bool = false) {
        self.file = file
        self.interpolates = interpolates
    }

    /// Parses and decodes YAML text.
    public func decode<T: Decodable>(_ type: T.Type, yaml text: String) throws -> T {
        try decode(type, from: try ConfigNode.parse(text, file: file))
    }

    /// Decodes an already parsed tree.
    public func decode<T: Decodable>(_ type: T.Type, from root: ConfigNode) throws -> T {
        let context = DecodingContext(file: file, root: root, interpolates: interpolates)
        do {
            return try context.decode(type, node: root, path: [])
        } catch let error as DecodingError {
            throw context.convert(error)
        }
    }

    /// Reads and decodes a YAML file.
    /// A missing, binary or empty file is said in those words (an empty config is a mistake, not "all defaults").
    public static func load<T: Decodable>(_ type: T.Type, path: String, interpolates: Bool = false) throws -> T {
        guard let data = FileManager.default.contents(atPath: path) else {
            throw ConfigError(file: path, line: nil, message: "cannot read the config file; check the path")
        }
        guard let text = String(data: data, encoding: .utf8), !text.contains("\0") else {
            throw ConfigError(file: path, line: nil, message: "not a YAML config: the file is not text (UTF-8)")
        }
        let settings = text.split(whereSeparator: \.isNewline).filter {
            let line = $0.trimmingCharacters(in: .whitespaces)
            return !line.isEmpty && !line.hasPrefix("#") && line != "---" && line != "..."
        }
        if settings.isEmpty {
            throw ConfigError(file: path, line: nil, message: "the config file is empty; write its settings as `key: value` lines")
        }
        return try ConfigDecoder(file: path, interpolates: interpolates).decode(type, yaml: text)
    }
}

// MARK: - Decoding

final class DecodingContext: Sendable {
    let file: String
    let root: ConfigNode
    let interpolates: Bool

    init(file: String, root: ConfigNode, interpolates: Bool) {
        self.file = file
        self.root = root
        self.interpolates = interpolates
    }

    /// Decodes one value: primitives and free-form values directly; sections with their defaults merged in,
    /// then their unknown keys and ranges checked.
    func decode<T: Decodable>(_ type: T.Type, node: ConfigNode, path: [any CodingKey]) throws -> T {
        if let value = try primitive(type, node: node, path: path) { return value }
        var node = node
        let section = T.self as? any ConfigSection.Type
        if let section { node = try withDefaults(node, section.init(), path: path) }
        let decoder = NodeDecoder(node: node, path: path, context: self)
        let value = try T(from: decoder)
        try decoder.rejectUnknownKeys()
        if let value = value as? any ConfigSection {
            try value.check(ConfigChecks(file: file, prefix: dotted(path), node: node))
        }
        return value
    }

    private func primitive<T>(_ type: T.Type, node: ConfigNode, path: [any CodingKey]) throws -> T? {
        switch type {
        case is ConfigValue.Type: return ConfigValue(node) as? T
        case is String.Type: return try text(node, path) as? T
        case is Int.Type: return try int(node, path) as? T
        case is Double.Type: return try double(node, path) as? T
        case is Bool.Type: return try bool(node, path) as? T
        case is UInt64.Type: return try number(node, path, "a non-negative integer") { UInt64($0) } as? T
        case is Float.Type: return Float(try double(node, path)) as? T
        default: return nil
        }
    }

    /// The file's values over the encoded defaults (shallow: nested sections merge their own defaults).
    private func withDefaults(_ node: ConfigNode, _ defaults: any ConfigSection, path: [any CodingKey]) throws -> ConfigNode {
        if node.isNull { return try ConfigEncoder.node(of: defaults) }
        guard case .map(let given, let line) = node else {
            throw failure(node, path, "must be a section of `key: value` lines")
        }
        guard case .map(var merged, _) = try ConfigEncoder.node(of: defaults) else { return node }
        for entry in given {
            if let i = merged.firstIndex(where: { $0.key == entry.key }) {
                if !entry.value.isNull { merged[i] = entry }  // `key: null` keeps the default
            } else {
                merged.append(entry)
            }
        }
        return .map(merged, line: line)
    }

    // MARK: Scalars

    func text(_ node: ConfigNode, _ path: [any CodingKey]) throws -> String {
        guard let raw = node.text else { throw failure(node, path, "must be a single value") }
        return interpolates ? try resolve(raw, depth: 0) : raw
    }

    func int(_ node: ConfigNode, _ path: [any CodingKey]) throws -> Int {
        try number(node, path, "an integer") { text in
            if let value = Int(text) { return value }
            if let value = Double(text), value == value.rounded(), abs(value) < 1e15 { return Int(value) }
            return nil
        }
    }

    func double(_ node: ConfigNode, _ path: [any CodingKey]) throws -> Double {
        // YAML 1.1 reads `1e-3` as text; accept it like OmegaConf does.
        try number(node, path, "a number") { Double($0) }
    }

    func bool(_ node: ConfigNode, _ path: [any CodingKey]) throws -> Bool {
        try number(node, path, "true or false") { text in
            switch text.lowercased() {
            case "true", "yes", "on": return true
            case "false", "no", "off": return false
            default: return nil
            }
        }
    }

    private func number<V>(_ node: ConfigNode, _ path: [any CodingKey], _ what: String, _ parse: (String) -> V?) throws -> V {
        guard let text = node.text else { throw failure(node, path, "must be \(what)") }
        guard let value = parse(text) else { throw failure(node, path, "must be \(what)") }
        return value
    }

    /// `PATH must be …, found 'X'` at the node's line.
    func failure(_ node: ConfigNode, _ path: [any CodingKey], _ rule: String) -> ConfigError {
        let found: String
        switch node {
        case .null: found = "nothing"
        case .scalar(let text, _, _):
            // A whole file read as one scalar (a CSV given as a config) would make a screenful of an error line.
            let line = text.split(whereSeparator: \.isNewline).first.map(String.init) ?? ""
            found = line.count > 60 || line.count < text.count ? "'\(line.prefix(60))…'" : "'\(text)'"
        case .list: found = "a list"
        case .map: found = "a section"
        }
        return ConfigError(file: file, line: node.line == 0 ? nil : node.line, message: "\(dotted(path)) \(rule), found \(found)")
    }

    /// `training.lr_scheduler_params.multisteplr.milestones[1]`.
    func dotted(_ path: [any CodingKey]) -> String {
        var out = ""
        for key in path {
            if let index = key.intValue, key.stringValue.hasPrefix("Index") { out += "[\(index)]"; continue }
            out += (out.isEmpty ? "" : ".") + yamlKey(key)
        }
        return out
    }

    /// Swift's own decoding errors (e.g. a custom `init(from:)`'s), in the same one-line form.
    func convert(_ error: DecodingError) -> ConfigError {
        switch error {
        case .keyNotFound(let key, let context):
            return ConfigError(file: file, line: nil, message: "\(dotted(context.codingPath + [key])) is missing")
        case .typeMismatch(_, let context), .valueNotFound(_, let context), .dataCorrupted(let context):
            let line = lineOf(context.codingPath)
            return ConfigError(file: file, line: line, message: "\(dotted(context.codingPath)): \(context.debugDescription)")
        @unknown default:
            return ConfigError(file: file, line: nil, message: "\(error)")
        }
    }

    private func lineOf(_ path: [any CodingKey]) -> Int? {
        var node: ConfigNode? = root
        for key in path {
            if let index = key.intValue, let items = node?.items {
                node = index < items.count ? items[index] : nil
            } else {
                node = node?[yamlKey(key)]
            }
        }
        return node.map(\.line).flatMap { $0 == 0 ? nil : $0 }
    }

    // MARK: Interpolation

    /// Resolves OmegaConf-style `${section.key}` (from the file's own tree) and `${ENV:default}` references.
    private func resolve(_ text: String, depth: Int) throws -> String {
        guard depth < 10, let open = text.range(of: "${"),
            let close = text.range(of: "}", range: open.upperBound..<text.endIndex)
        else { return text }
        let inner = String(text[open.upperBound..<close.lowerBound])
        var replacement = ""
        if inner.contains(":") || !inner.contains(".") {
            // `${VAR:default}` or `${oc.env:VAR}`: environment with a default.
            var parts = inner.split(separator: ":", maxSplits: 1, omittingEmptySubsequences: false).map(String.init)
            if parts.first == "oc.env" { parts.removeFirst() }
            replacement = ProcessInfo.processInfo.environment[parts.first ?? ""] ?? (parts.count > 1 ? parts[1] : "")
        } else if let target = root.at(inner), !target.isNull {
            replacement = try resolve(target.text ?? "", depth: depth + 1)
        }
        return try resolve(text.replacingCharacters(in: open.lowerBound..<close.upperBound, with: replacement), depth: depth + 1)
    }
}

/// One level of the tree, seen through `Decoder`; remembers which keys the type asked for.
final class NodeDecoder: Decoder {
    let node: ConfigNode
    let codingPath: [any CodingKey]
    let context: DecodingContext
    var userInfo: [CodingUserInfoKey: Any] { [:] }
    /// Keys asked for by the type (nil: no keyed container was made).
    var asked: Set<String>?
    /// The type listed the keys itself (`allKeys`): it accepts any.
    var freeForm = false

    init(node: ConfigNode, path: [any CodingKey], context: DecodingContext) {
        self.node = node
        self.codingPath = path
        self.context = context
    }

    func container<Key: CodingKey>(keyedBy type: Key.Type) throws -> KeyedDecodingContainer<Key> {
        guard let entries = node.entries else { throw context.failure(node, codingPath, "must be a section of `key: value` lines") }
        if asked == nil { asked = [] }
        return KeyedDecodingContainer(KeyedNodeContainer<Key>(decoder: self, entries: entries))
    }

    func unkeyedContainer() throws -> any UnkeyedDecodingContainer {
        switch node {
        case .list(let items, _): return UnkeyedNodeContainer(decoder: self, items: items)
        case .scalar: return UnkeyedNodeContainer(decoder: self, items: [node])  // `x` for `[x]`
        default: throw context.failure(node, codingPath, "must be a list")
        }
    }

    func singleValueContainer() throws -> any SingleValueDecodingContainer { SingleNodeContainer(decoder: self) }

    /// The first key (in file order) that the type did not ask for is an error with the closest one it did.
    func rejectUnknownKeys() throws {
        guard let asked, !freeForm, let entries = node.entries else { return }
        for entry in entries where entry.line > 0 && !asked.contains(entry.key) {
            throw ConfigError(
                file: context.file, line: entry.line,
                message: unknownKeyMessage(entry.key, prefix: context.dotted(codingPath), valid: Array(asked)))
        }
    }
}

private struct IndexKey: CodingKey {
    var stringValue: String { "Index \(intValue ?? 0)" }
    var intValue: Int?
    init(_ index: Int) { intValue = index }
    init?(stringValue: String) { nil }
    init?(intValue: Int) { self.intValue = intValue }
}

private struct KeyedNodeContainer<Key: CodingKey>: KeyedDecodingContainerProtocol {
    let decoder: NodeDecoder
    let entries: [ConfigNode.Entry]
    var codingPath: [any CodingKey] { decoder.codingPath }

    var allKeys: [Key] {
        decoder.freeForm = true
        return entries.compactMap { Key(stringValue: $0.key) }
    }

    private func node(_ key: Key) -> ConfigNode? {
        let name = yamlKey(key)
        decoder.asked?.insert(name)
        return entries.first { $0.key == name }?.value
    }

    private func required(_ key: Key) throws -> ConfigNode {
        guard let node = node(key) else {
            throw ConfigError(file: decoder.context.file, line: nil, message: "\(decoder.context.dotted(codingPath + [key])) is missing")
        }
        return node
    }

    func contains(_ key: Key) -> Bool { node(key) != nil }
    func decodeNil(forKey key: Key) throws -> Bool { node(key)?.isNull ?? true }

    func decode<T: Decodable>(_ type: T.Type, forKey key: Key) throws -> T {
        try decoder.context.decode(type, node: try required(key), path: codingPath + [key])
    }

    func decodeIfPresent<T: Decodable>(_ type: T.Type, forKey key: Key) throws -> T? {
        guard let node = node(key), !node.isNull else { return nil }
        return try decoder.context.decode(type, node: node, path: codingPath + [key])
    }

    func nestedContainer<NestedKey: CodingKey>(keyedBy type: NestedKey.Type, forKey key: Key) throws -> KeyedDecodingContainer<NestedKey> {
        try NodeDecoder(node: try required(key), path: codingPath + [key], context: decoder.context).container(keyedBy: type)
    }

    func nestedUnkeyedContainer(forKey key: Key) throws -> any UnkeyedDecodingContainer {
        try NodeDecoder(node: try required(key), path: codingPath + [key], context: decoder.context).unkeyedContainer()
    }

    func superDecoder() throws -> any Decoder { decoder }
    func superDecoder(forKey key: Key) throws -> any Decoder {
        NodeDecoder(node: try required(key), path: codingPath + [key], context: decoder.context)
    }
}

private struct UnkeyedNodeContainer: UnkeyedDecodingContainer {
    let decoder: NodeDecoder
    let items: [ConfigNode]
    var currentIndex = 0
    var codingPath: [any CodingKey] { decoder.codingPath }
    var count: Int? { items.count }
    var isAtEnd: Bool { currentIndex >= items.count }

    init(decoder: NodeDecoder, items: [ConfigNode]) {
        self.decoder = decoder
        self.items = items
    }

    private mutating func next() throws -> (ConfigNode, [any CodingKey]) {
        guard !isAtEnd else {
            throw ConfigError(
                file: decoder.context.file, line: decoder.node.line, message: "\(decoder.context.dotted(codingPath)) has too few items")
        }
        defer { currentIndex += 1 }
        return (items[currentIndex], codingPath + [IndexKey(currentIndex)])
    }

    mutating func decodeNil() throws -> Bool {
        if !isAtEnd, items[currentIndex].isNull { currentIndex += 1; return true }
        return false
    }

    mutating func decode<T: Decodable>(_ type: T.Type) throws -> T {
        let (node, path) = try next()
        return try decoder.context.decode(type, node: node, path: path)
    }

    mutating func nestedContainer<NestedKey: CodingKey>(keyedBy type: NestedKey.Type) throws -> KeyedDecodingContainer<NestedKey> {
        let (node, path) = try next()
        return try NodeDecoder(node: node, path: path, context: decoder.context).container(keyedBy: type)
    }

    mutating func nestedUnkeyedContainer() throws -> any UnkeyedDecodingContainer {
        let (node, path) = try next()
        return try NodeDecoder(node: node, path: path, context: decoder.context).unkeyedContainer()
    }

    mutating func superDecoder() throws -> any Decoder {
        let (node, path) = try next()
        return NodeDecoder(node: node, path: path, context: decoder.context)
    }
}

private struct SingleNodeContainer: SingleValueDecodingContainer {
    let decoder: NodeDecoder
    var codingPath: [any CodingKey] { decoder.codingPath }

    func decodeNil() -> Bool { decoder.node.isNull }

    func decode<T: Decodable>(_ type: T.Type) throws -> T {
        try decoder.context.decode(type, node: decoder.node, path: codingPath)
    }
}
