// The value tree a pickle stream describes: Python's plain data, plus globals, calls and persistent ids kept as
// symbols (nothing is imported or called), for callers to interpret.

/// A Python value read from a pickle stream.
///
/// Plain data (None, bool, int, float, str, bytes, list, tuple, dict) is rebuilt as it is. What Python would
/// import or call is kept as a description: `global` names a module attribute, `object` records a call
/// (REDUCE, NEWOBJ, INST, OBJ) with what the stream then did to its result, `persistent` an id that the
/// pickler's owner resolves (e.g. `torch.save`'s storages).
public indirect enum PickleValue: Sendable, Equatable {
    case none
    case bool(Bool)
    case int(Int)
    case float(Double)
    case string(String)
    case bytes([UInt8])
    case list([PickleValue])
    case tuple([PickleValue])
    /// Key/value pairs in the order the stream set them (keys may repeat, as SETITEM allows).
    case dict([PickleEntry])
    /// `module.name`, not imported.
    case global(module: String, name: String)
    /// The result of a call that was not made.
    case object(PickleObject)
    /// A persistent id (PERSID, BINPERSID), not resolved.
    case persistent(PickleValue)

    public static func == (a: PickleValue, b: PickleValue) -> Bool {
        switch (a, b) {
        case (.none, .none): true
        case let (.bool(x), .bool(y)): x == y
        case let (.int(x), .int(y)): x == y
        case let (.float(x), .float(y)): x == y || (x.isNaN && y.isNaN)
        case let (.string(x), .string(y)): x == y
        case let (.bytes(x), .bytes(y)): x == y
        case let (.list(x), .list(y)), let (.tuple(x), .tuple(y)): x == y
        case let (.dict(x), .dict(y)): x.count == y.count && zip(x, y).allSatisfy { $0.key == $1.key && $0.value == $1.value }
        case let (.global(m1, n1), .global(m2, n2)): m1 == m2 && n1 == n2
        case let (.object(x), .object(y)): x == y
        case let (.persistent(x), .persistent(y)): x == y
        default: false
        }
    }

    // MARK: Reading the tree

    /// Elements of a list or tuple; nil for other values.
    public var items: [PickleValue]? {
        switch self {
        case .list(let v), .tuple(let v): v
        default: nil
        }
    }

    /// The entries of a dict, or of a `collections.OrderedDict()` / `dict()` call filled by SETITEMS; nil for
    /// other values.
    public var entries: [PickleEntry]? {
        switch self {
        case .dict(let e): return e
        case .object(let o):
            guard case .global(let module, let name) = o.callable,
                (module, name) == ("collections", "OrderedDict") || (module, name) == ("builtins", "dict")
            else { return nil }
            return o.entries
        default: return nil
        }
    }

    /// The value of the last entry with key `key` in a dict or OrderedDict; nil when absent or not a dict.
    public subscript(key: PickleValue) -> PickleValue? {
        entries?.last { $0.key == key }?.value
    }
}

/// One key/value pair of a pickled dict.
public typealias PickleEntry = (key: PickleValue, value: PickleValue)

/// A call the stream asks for, `callable(*arguments)`, described instead of made, with what the stream did to
/// its result afterwards: items appended (APPEND/APPENDS), entries set (SETITEM/SETITEMS), state given (BUILD).
public struct PickleObject: Sendable, Equatable {
    /// What would be called: usually a `.global`.
    public var callable: PickleValue
    public var arguments: [PickleValue]
    public var items: [PickleValue] = []
    public var entries: [PickleEntry] = []
    /// The BUILD state (`__setstate__` argument), when the stream gave one.
    public var state: PickleValue?

    public init(callable: PickleValue, arguments: [PickleValue]) {
        self.callable = callable
        self.arguments = arguments
    }

    public static func == (a: PickleObject, b: PickleObject) -> Bool {
        a.callable == b.callable && a.arguments == b.arguments && a.items == b.items && a.state == b.state
            && PickleValue.dict(a.entries) == PickleValue.dict(b.entries)
    }
}
