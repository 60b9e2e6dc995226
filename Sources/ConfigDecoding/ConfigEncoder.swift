// Writes Codable configs as YAML with the keys ConfigDecoder reads (snake_case), so written configs read back equal.

/// Encodes a config to a `ConfigNode` tree or YAML text. Properties become snake_case keys in declaration order,
/// `nil` optionals are left out, text that would read as a number, boolean or null is quoted, and `ConfigValue`
/// (free-form) parts are written as they were read.
public enum ConfigEncoder {
    public static func yaml(_ value: some Encodable) throws -> String { try node(of: value).yamlText() }

    public static func node(of value: some Encodable) throws -> ConfigNode { try encode(value, path: []).result }

    fileprivate static func encode(_ value: some Encodable, path: [any CodingKey]) throws -> Slot {
        let slot = Slot()
        switch value {
        case let v as ConfigValue: slot.node = v.node
        case let v as String: slot.setText(v)
        case let v as Bool: slot.node = .scalar(v ? "true" : "false", plain: true, line: 0)
        case let v as Double: slot.node = .scalar("\(v)", plain: true, line: 0)
        case let v as Float: slot.node = .scalar("\(v)", plain: true, line: 0)
        case let v as any BinaryInteger: slot.node = .scalar("\(v)", plain: true, line: 0)
        default: try value.encode(to: NodeEncoder(slot: slot, codingPath: path))
        }
        return slot
    }
}

/// A node under construction (containers fill it in after they are handed out).
fileprivate final class Slot {
    var node: ConfigNode = .null(line: 0)
    var keyed: [(String, Slot)]?
    var unkeyed: [Slot]?

    /// Text as a plain scalar unless YAML would read it as something else.
    func setText(_ text: String) {
        let lower = text.lowercased()
        let ambiguous =
            Int(text) != nil || Double(text) != nil
            || ["", "~", "null", "true", "false", "yes", "no", "on", "off"].contains(lower)
        node = .scalar(text, plain: !ambiguous, line: 0)
    }

    var result: ConfigNode {
        if let keyed { return .map(keyed.map { ConfigNode.Entry(key: $0.0, line: 0, value: $0.1.result) }, line: 0) }
        if let unkeyed { return .list(unkeyed.map(\.result), line: 0) }
        return node
    }
}

private struct NodeEncoder: Encoder {
    let slot: Slot
    let codingPath: [any CodingKey]
    var userInfo: [CodingUserInfoKey: Any] { [:] }

    func container<Key: CodingKey>(keyedBy type: Key.Type) -> KeyedEncodingContainer<Key> {
        if slot.keyed == nil { slot.keyed = [] }
        return KeyedEncodingContainer(KeyedSlotContainer<Key>(slot: slot, codingPath: codingPath))
    }

    func unkeyedContainer() -> any UnkeyedEncodingContainer {
        if slot.unkeyed == nil { slot.unkeyed = [] }
        return UnkeyedSlotContainer(slot: slot, codingPath: codingPath)
    }

    func singleValueContainer() -> any SingleValueEncodingContainer { SingleSlotContainer(slot: slot, codingPath: codingPath) }
}

private struct KeyedSlotContainer<Key: CodingKey>: KeyedEncodingContainerProtocol {
    let slot: Slot
    let codingPath: [any CodingKey]

    private func add(_ key: Key, _ child: Slot) { slot.keyed?.append((yamlKey(key), child)) }

    mutating func encodeNil(forKey key: Key) throws { add(key, Slot()) }

    mutating func encode<T: Encodable>(_ value: T, forKey key: Key) throws {
        add(key, try ConfigEncoder.encode(value, path: codingPath + [key]))
    }

    mutating func nestedContainer<NestedKey: CodingKey>(keyedBy keyType: NestedKey.Type, forKey key: Key) -> KeyedEncodingContainer<
        NestedKey
    > {
        let child = Slot()
        add(key, child)
        return NodeEncoder(slot: child, codingPath: codingPath + [key]).container(keyedBy: keyType)
    }

    mutating func nestedUnkeyedContainer(forKey key: Key) -> any UnkeyedEncodingContainer {
        let child = Slot()
        add(key, child)
        return NodeEncoder(slot: child, codingPath: codingPath + [key]).unkeyedContainer()
    }

    mutating func superEncoder() -> any Encoder { NodeEncoder(slot: slot, codingPath: codingPath) }
    mutating func superEncoder(forKey key: Key) -> any Encoder {
        let child = Slot()
        add(key, child)
        return NodeEncoder(slot: child, codingPath: codingPath + [key])
    }
}

private struct UnkeyedSlotContainer: UnkeyedEncodingContainer {
    let slot: Slot
    let codingPath: [any CodingKey]
    var count: Int { slot.unkeyed?.count ?? 0 }

    mutating func encodeNil() throws { slot.unkeyed?.append(Slot()) }

    mutating func encode<T: Encodable>(_ value: T) throws {
        slot.unkeyed?.append(try ConfigEncoder.encode(value, path: codingPath))
    }

    mutating func nestedContainer<NestedKey: CodingKey>(keyedBy keyType: NestedKey.Type) -> KeyedEncodingContainer<NestedKey> {
        let child = Slot()
        slot.unkeyed?.append(child)
        return NodeEncoder(slot: child, codingPath: codingPath).container(keyedBy: keyType)
    }

    mutating func nestedUnkeyedContainer() -> any UnkeyedEncodingContainer {
        let child = Slot()
        slot.unkeyed?.append(child)
        return NodeEncoder(slot: child, codingPath: codingPath).unkeyedContainer()
    }

    mutating func superEncoder() -> any Encoder {
        let child = Slot()
        slot.unkeyed?.append(child)
        return NodeEncoder(slot: child, codingPath: codingPath)
    }
}

private struct SingleSlotContainer: SingleValueEncodingContainer {
    let slot: Slot
    let codingPath: [any CodingKey]

    mutating func encodeNil() throws { slot.node = .null(line: 0) }

    mutating func encode<T: Encodable>(_ value: T) throws {
        let inner = try ConfigEncoder.encode(value, path: codingPath)
        (slot.node, slot.keyed, slot.unkeyed) = (inner.node, inner.keyed, inner.unkeyed)
    }
}

extension ConfigSection {
    /// YAML text of this config; `ConfigDecoder` reads it back to an equal value.
    public func yaml() throws -> String { try ConfigEncoder.yaml(self) }
}
