// The pickle machine: runs a pickle stream's opcodes (protocols 0-5) on a stack and memo and returns the value
// tree it describes. No code runs: globals, calls and persistent ids become symbolic values.

extension PickleValue {
    /// Reads one pickle stream (up to its STOP opcode). Opcodes outside plain data, symbolic calls and
    /// persistent ids (sets, extension registry, NEWOBJ_EX, out-of-band buffers) are an error naming the opcode.
    /// (A bytearray reads as bytes.)
    public init(unpickling bytes: some Collection<UInt8>) throws(PythonFormatError) {
        var machine = PickleMachine(bytes: Array(bytes))
        self = try machine.run()
    }
}

/// A value under construction. Lists, dicts and call results stay mutable (boxed) until STOP, because APPEND,
/// SETITEM and BUILD act on an object that the memo may already share.
private indirect enum Node {
    case value(PickleValue)
    case box(Box)
    case tuple([Node])
    case persistent(Node)
    case mark
}

private final class Box {
    enum Kind { case list, dict, object(callable: Node, arguments: [Node]) }
    var kind: Kind
    var items: [Node] = []
    var entries: [(Node, Node)] = []
    var state: Node?
    init(_ kind: Kind, items: [Node] = []) {
        self.kind = kind
        self.items = items
    }
}

private struct PickleMachine {
    let bytes: [UInt8]
    var position = 0
    var stack: [Node] = []
    var memo: [Int: Node] = [:]
    var boxes: [Box] = []

    init(bytes: [UInt8]) { self.bytes = bytes }

    func fail(_ message: String) -> PythonFormatError { .pickle(message: message) }

    // MARK: Reading operands

    mutating func take(_ n: Int) throws(PythonFormatError) -> ArraySlice<UInt8> {
        guard n >= 0, n <= bytes.count - position else { throw fail("truncated: \(n) bytes needed at byte \(position)") }
        defer { position += n }
        return bytes[position..<(position + n)]
    }

    /// An unsigned little-endian integer of `n` bytes (a length, a memo index).
    mutating func unsigned(_ n: Int) throws(PythonFormatError) -> Int {
        var v: UInt64 = 0
        for b in try take(n).reversed() { v = v << 8 | UInt64(b) }
        guard v <= UInt64(Int.max) else { throw fail("length \(v) is out of range") }
        return Int(v)
    }

    /// A newline-terminated operand of the text opcodes.
    mutating func line() throws(PythonFormatError) -> ArraySlice<UInt8> {
        guard let end = bytes[position...].firstIndex(of: 0x0A) else { throw fail("truncated: unterminated line at byte \(position)") }
        defer { position = end + 1 }
        return bytes[position..<end]
    }

    mutating func text() throws(PythonFormatError) -> String { String(decoding: try line(), as: UTF8.self) }

    /// LONG1/LONG4: two's-complement little-endian; wider than 64 bits only if the extra bytes are sign extension.
    func long(_ raw: ArraySlice<UInt8>) throws(PythonFormatError) -> Int {
        guard let last = raw.last else { return 0 }
        let fill: UInt8 = last & 0x80 != 0 ? 0xFF : 0
        var v: UInt64 = fill == 0 ? 0 : ~0
        for b in raw.prefix(8).reversed() { v = v << 8 | UInt64(b) }
        let value = Int(bitPattern: UInt(v))
        guard raw.dropFirst(8).allSatisfy({ $0 == fill }), raw.count <= 8 || (value < 0) == (fill != 0) else {
            throw fail("integer wider than 64 bits")
        }
        return value
    }

    // MARK: The stack

    mutating func pop() throws(PythonFormatError) -> Node {
        guard let top = stack.popLast() else { throw fail("stack underflow at byte \(position)") }
        if case .mark = top { throw fail("a MARK where a value was expected at byte \(position)") }
        return top
    }

    mutating func popToMark() throws(PythonFormatError) -> [Node] {
        guard let m = stack.lastIndex(where: { if case .mark = $0 { true } else { false } }) else {
            throw fail("no MARK on the stack at byte \(position)")
        }
        let items = Array(stack[(m + 1)...])
        stack.removeSubrange(m...)
        return items
    }

    /// Boxes refer to each other; a stream that puts a container inside itself (refused at STOP, left behind by an
    /// error, or dropped with POP or a reused memo slot) would keep its boxes alive forever (found by fuzzing, under
    /// LeakSanitizer). Every box the machine made is emptied when it returns or throws.
    func breakCycles() {
        for box in boxes {
            box.items = []
            box.entries = []
            box.state = nil
            box.kind = .list
        }
    }

    /// A new box, remembered for `breakCycles`.
    mutating func newBox(_ kind: Box.Kind, items: [Node] = []) -> Box {
        let box = Box(kind, items: items)
        boxes.append(box)
        return box
    }

    func top(_ opcode: PickleOpcode) throws(PythonFormatError) -> Box {
        guard case .box(let box)? = stack.last else { throw fail("\(opcode) on a value that is not a list, dict or object") }
        return box
    }

    static func pairs(_ flat: [Node]) -> [(Node, Node)] {
        stride(from: 0, to: flat.count - 1, by: 2).map { (flat[$0], flat[$0 + 1]) }
    }

    mutating func push(_ value: PickleValue) { stack.append(.value(value)) }

    // MARK: Running

    mutating func run() throws(PythonFormatError) -> PickleValue {
        defer { breakCycles() }
        while position < bytes.count {
            let at = position
            let code = bytes[position]
            position += 1
            guard let op = PickleOpcode(rawValue: code) else {
                throw fail("unknown opcode 0x\(String(code, radix: 16, uppercase: true)) at byte \(at)")
            }
            switch op {
            case .proto:
                let version = try unsigned(1)
                guard version <= 5 else { throw fail("protocol \(version) is newer than 5") }
            case .frame: _ = try take(8)
            case .stop:
                guard stack.count == 1 else { throw fail("the stream ends with \(stack.count) values on the stack") }
                var frozen = Freezer()
                return try frozen.value(try pop())

            // Plain data
            case .mark: stack.append(.mark)
            case .none: push(.none)
            case .newTrue: push(.bool(true))
            case .newFalse: push(.bool(false))
            case .binInt1: push(.int(try unsigned(1)))
            case .binInt2: push(.int(try unsigned(2)))
            case .binInt: push(.int(Int(Int32(truncatingIfNeeded: try unsigned(4)))))
            case .long1: push(.int(try long(try take(try unsigned(1)))))
            case .long4: push(.int(try long(try take(try unsigned(4)))))
            case .int:
                let s = try text()
                if s == "01" {
                    push(.bool(true))
                } else if s == "00" {
                    push(.bool(false))
                } else {
                    guard let v = Int(s) else { throw fail("bad INT '\(s)'") }
                    push(.int(v))
                }
            case .long:
                var s = try text()
                if s.hasSuffix("L") { s.removeLast() }
                guard let v = Int(s) else { throw fail("integer '\(s)' is out of range") }
                push(.int(v))
            case .float:
                let s = try text()
                guard let v = Double(s) ?? (s == "nan" ? .nan : s == "inf" ? .infinity : s == "-inf" ? -.infinity : nil) else {
                    throw fail("bad FLOAT '\(s)'")
                }
                push(.float(v))
            case .binFloat:
                push(.float(Double(bitPattern: try take(8).reduce(UInt64(0)) { $0 << 8 | UInt64($1) })))
            case .string: push(.string(try decodePythonStringLiteral(try line())))
            case .unicode: push(.string(decodeRawUnicodeEscape(try line())))
            case .shortBinString, .binString, .shortBinUnicode, .binUnicode, .binUnicode8:
                let width = op == .shortBinString || op == .shortBinUnicode ? 1 : op == .binUnicode8 ? 8 : 4
                push(.string(String(decoding: try take(try unsigned(width)), as: UTF8.self)))
            case .shortBinBytes, .binBytes, .binBytes8, .byteArray8:
                let width = op == .shortBinBytes ? 1 : op == .binBytes ? 4 : 8
                push(.bytes(Array(try take(try unsigned(width)))))

            // Containers
            case .emptyList: stack.append(.box(newBox(.list)))
            case .emptyDict: stack.append(.box(newBox(.dict)))
            case .emptyTuple: stack.append(.tuple([]))
            case .list: stack.append(.box(newBox(.list, items: try popToMark())))
            case .tuple: stack.append(.tuple(try popToMark()))
            case .tuple1: stack.append(.tuple([try pop()]))
            case .tuple2: let b = try pop(), a = try pop(); stack.append(.tuple([a, b]))
            case .tuple3: let c = try pop(), b = try pop(), a = try pop(); stack.append(.tuple([a, b, c]))
            case .dict:
                let flat = try popToMark()
                guard flat.count % 2 == 0 else { throw fail("DICT with an odd number of items") }
                let box = newBox(.dict)
                box.entries = Self.pairs(flat)
                stack.append(.box(box))
            case .append:
                let item = try pop()
                try top(op).items.append(item)
            case .appends:
                let items = try popToMark()
                try top(op).items += items
            case .setItem:
                let value = try pop(), key = try pop()
                try top(op).entries.append((key, value))
            case .setItems:
                let flat = try popToMark()
                guard flat.count % 2 == 0 else { throw fail("SETITEMS with an odd number of items") }
                try top(op).entries += Self.pairs(flat)

            // Stack and memo
            case .pop: _ = try pop()
            case .popMark: _ = try popToMark()
            case .dup:
                guard let last = stack.last else { throw fail("DUP on an empty stack") }
                stack.append(last)
            case .put: try remember(try index(try text()))
            case .binPut: try remember(try unsigned(1))
            case .longBinPut: try remember(try unsigned(4))
            case .memoize: try remember(memo.count)
            case .get: try recall(try index(try text()))
            case .binGet: try recall(try unsigned(1))
            case .longBinGet: try recall(try unsigned(4))

            // Symbols: nothing is imported or called
            case .global:
                let module = try text(), name = try text()
                push(.global(module: module, name: name))
            case .stackGlobal:
                let name = try pop(), module = try pop()
                guard case .value(.string(let n)) = name, case .value(.string(let m)) = module else {
                    throw fail("STACK_GLOBAL needs two strings")
                }
                push(.global(module: m, name: n))
            case .reduce, .newObj:
                let arguments = try pop(), callable = try pop()
                guard case .tuple(let args) = arguments else { throw fail("\(op) arguments are not a tuple") }
                // NEWOBJ is cls.__new__(cls, *args): recorded like a call of cls.
                stack.append(.box(newBox(.object(callable: callable, arguments: args))))
            case .inst:
                let module = try text(), name = try text()
                let args = try popToMark()
                stack.append(.box(newBox(.object(callable: .value(.global(module: module, name: name)), arguments: args))))
            case .obj:
                let all = try popToMark()
                guard let callable = all.first else { throw fail("OBJ without a class") }
                stack.append(.box(newBox(.object(callable: callable, arguments: Array(all.dropFirst())))))
            case .build:
                let state = try pop()
                guard case .box(let box)? = stack.last, case .object = box.kind else {
                    throw fail("BUILD on a value that is not an object")
                }
                box.state = state
            case .persID: push(.persistent(.string(try text())))
            case .binPersID: stack.append(.persistent(try pop()))

            case .ext1, .ext2, .ext4, .emptySet, .addItems, .frozenSet, .newObjEx, .nextBuffer, .readOnlyBuffer:
                throw fail("unsupported opcode \(op) (0x\(String(code, radix: 16, uppercase: true))) at byte \(at)")
            }
        }
        throw fail("the stream ends without a STOP opcode")
    }

    func index(_ text: String) throws(PythonFormatError) -> Int {
        guard let n = Int(text), n >= 0 else { throw fail("bad memo index '\(text)'") }
        return n
    }

    mutating func remember(_ key: Int) throws(PythonFormatError) {
        guard let last = stack.last else { throw fail("memo PUT on an empty stack") }
        memo[key] = last
    }

    mutating func recall(_ key: Int) throws(PythonFormatError) {
        guard let node = memo[key] else { throw fail("memo entry \(key) is missing") }
        stack.append(node)
    }
}

/// Turns the nodes into values once the stream is complete. A box reached twice gives the same value (computed
/// once); a box inside itself (a recursive list or dict) cannot be a value tree and is an error.
private struct Freezer {
    var done: [ObjectIdentifier: PickleValue] = [:]
    var open: Set<ObjectIdentifier> = []

    mutating func value(_ node: Node) throws(PythonFormatError) -> PickleValue {
        switch node {
        case .value(let v): return v
        case .mark: throw .pickle(message: "a MARK left inside a value")
        case .tuple(let items): return .tuple(try values(items))
        case .persistent(let id): return .persistent(try value(id))
        case .box(let box):
            let id = ObjectIdentifier(box)
            if let v = done[id] { return v }
            guard open.insert(id).inserted else { throw .pickle(message: "a recursive structure (a container inside itself)") }
            defer { open.remove(id) }
            let items = try values(box.items)
            var entries: [PickleEntry] = []
            for (k, v) in box.entries { entries.append((try value(k), try value(v))) }
            let result: PickleValue
            switch box.kind {
            case .list: result = .list(items)
            case .dict: result = .dict(entries)
            case let .object(callable, arguments):
                var object = PickleObject(callable: try value(callable), arguments: try values(arguments))
                object.items = items
                object.entries = entries
                if let state = box.state { object.state = try value(state) }
                result = .object(object)
            }
            done[id] = result
            return result
        }
    }

    mutating func values(_ nodes: [Node]) throws(PythonFormatError) -> [PickleValue] {
        var out: [PickleValue] = []
        out.reserveCapacity(nodes.count)
        for n in nodes { out.append(try value(n)) }
        return out
    }
}
