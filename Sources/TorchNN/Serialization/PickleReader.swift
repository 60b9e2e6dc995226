import Foundation

/// A value produced by the pickle machine: just enough of Python's object model for `torch.save` files.
indirect enum PickleValue {
    case none
    case bool(Bool)
    case int(Int)
    case float(Double)
    case string(String)
    case bytes(Data)
    case tuple([PickleValue])
    case list(PickleList)
    case dict(PickleDict)
    case global(module: String, name: String)
    /// A `torch.*Storage` reference: (storage type, archive key).
    case storage(type: String, key: String)
    /// A call we do not evaluate, kept for inspection: callable(args).
    case call(PickleValue, [PickleValue])
    /// `_rebuild_tensor_v2` arguments.
    case tensor(storageType: String, key: String, offset: Int, size: [Int], stride: [Int])
    case mark
}

final class PickleList { var items: [PickleValue] = [] }
final class PickleDict { var keys: [PickleValue] = []; var values: [PickleValue] = [] }

/// A pickle interpreter for protocols 2–5 limited to what `torch.save` emits (no arbitrary code runs:
/// globals are recorded, only tensor/parameter rebuilds and OrderedDict are interpreted).
struct PickleReader {
    let bytes: [UInt8]
    let path: String
    var pos = 0
    var stack: [PickleValue] = []
    var memo: [Int: PickleValue] = [:]

    init(_ data: Data, path: String) {
        bytes = [UInt8](data)
        self.path = path
    }

    private func fail(_ reason: String) -> NNError { .badFile(path: path, reason: "cannot read its pickle: \(reason)") }

    mutating func read(_ n: Int) throws -> ArraySlice<UInt8> {
        guard pos + n <= bytes.count else { throw fail("unexpected end of data") }
        defer { pos += n }
        return bytes[pos..<(pos + n)]
    }

    mutating func le(_ n: Int) throws -> Int {
        try read(n).reversed().reduce(0) { $0 << 8 | Int($1) }
    }

    mutating func line() throws -> String {
        guard let end = bytes[pos...].firstIndex(of: 0x0A) else { throw fail("unterminated line") }
        defer { pos = end + 1 }
        return String(decoding: bytes[pos..<end], as: UTF8.self)
    }

    mutating func pop() throws -> PickleValue {
        guard let v = stack.popLast() else { throw fail("stack underflow") }
        return v
    }

    mutating func popToMark() throws -> [PickleValue] {
        guard let m = stack.lastIndex(where: { if case .mark = $0 { true } else { false } }) else { throw fail("no mark") }
        let items = Array(stack[(m + 1)...])
        stack.removeSubrange(m...)
        return items
    }

    mutating func run() throws -> PickleValue {
        while true {
            let code = try read(1).first!
            switch code {
            case 0x80: pos += 1                                   // PROTO
            case 0x95: pos += 8                                   // FRAME
            case 0x2E: return try pop()                           // STOP
            case 0x28: stack.append(.mark)                        // MARK
            case 0x7D: stack.append(.dict(PickleDict()))          // EMPTY_DICT
            case 0x5D: stack.append(.list(PickleList()))          // EMPTY_LIST
            case 0x29: stack.append(.tuple([]))                   // EMPTY_TUPLE
            case 0x4E: stack.append(.none)                        // NONE
            case 0x88: stack.append(.bool(true))
            case 0x89: stack.append(.bool(false))
            case 0x4B: stack.append(.int(try le(1)))              // BININT1
            case 0x4D: stack.append(.int(try le(2)))              // BININT2
            case 0x4A: stack.append(.int(Int(Int32(truncatingIfNeeded: try le(4)))))  // BININT
            case 0x8A, 0x8B:                                      // LONG1, LONG4
                let n = code == 0x8A ? try le(1) : try le(4)
                let raw = try read(n)
                var v = 0
                for (i, b) in raw.enumerated() where i < 8 { v |= Int(b) << (8 * i) }
                if n > 0, n < 8, raw.last! & 0x80 != 0 { v -= 1 << (8 * n) }
                stack.append(.int(v))
            case 0x47:                                            // BINFLOAT (big-endian)
                let raw = try read(8)
                stack.append(.float(Double(bitPattern: raw.reduce(UInt64(0)) { $0 << 8 | UInt64($1) })))
            case 0x58, 0x8C, 0x8D:                                // BINUNICODE, SHORT_BINUNICODE, BINUNICODE8
                let n = code == 0x8C ? try le(1) : code == 0x58 ? try le(4) : try le(8)
                stack.append(.string(String(decoding: try read(n), as: UTF8.self)))
            case 0x55, 0x54:                                      // SHORT_BINSTRING, BINSTRING
                let n = code == 0x55 ? try le(1) : try le(4)
                stack.append(.string(String(decoding: try read(n), as: UTF8.self)))
            case 0x43, 0x42, 0x8E:                                // SHORT_BINBYTES, BINBYTES, BINBYTES8
                let n = code == 0x43 ? try le(1) : code == 0x42 ? try le(4) : try le(8)
                stack.append(.bytes(Data(try read(n))))
            case 0x71: memo[try le(1)] = stack.last               // BINPUT
            case 0x72: memo[try le(4)] = stack.last               // LONG_BINPUT
            case 0x94: memo[memo.count] = stack.last              // MEMOIZE
            case 0x68, 0x6A:                                      // BINGET, LONG_BINGET
                let k = code == 0x68 ? try le(1) : try le(4)
                guard let v = memo[k] else { throw fail("memo \(k) missing") }
                stack.append(v)
            case 0x63:                                            // GLOBAL
                let module = try line(), name = try line()
                stack.append(.global(module: module, name: name))
            case 0x93:                                            // STACK_GLOBAL
                let name = try pop(), module = try pop()
                guard case .string(let n) = name, case .string(let m) = module else { throw fail("bad STACK_GLOBAL") }
                stack.append(.global(module: m, name: n))
            case 0x74: stack.append(.tuple(try popToMark()))      // TUPLE
            case 0x85: stack.append(.tuple([try pop()]))
            case 0x86: let b = try pop(), a = try pop(); stack.append(.tuple([a, b]))
            case 0x87: let c = try pop(), b = try pop(), a = try pop(); stack.append(.tuple([a, b, c]))
            case 0x61:                                            // APPEND
                let v = try pop()
                guard case .list(let l) = stack.last else { throw fail("APPEND to a non-list") }
                l.items.append(v)
            case 0x65:                                            // APPENDS
                let items = try popToMark()
                guard case .list(let l) = stack.last else { throw fail("APPENDS to a non-list") }
                l.items += items
            case 0x73:                                            // SETITEM
                let v = try pop(), k = try pop()
                guard case .dict(let d) = stack.last else { throw fail("SETITEM on a non-dict") }
                d.keys.append(k); d.values.append(v)
            case 0x75:                                            // SETITEMS
                let items = try popToMark()
                guard case .dict(let d) = stack.last else { throw fail("SETITEMS on a non-dict") }
                for i in stride(from: 0, to: items.count - 1, by: 2) { d.keys.append(items[i]); d.values.append(items[i + 1]) }
            case 0x51:                                            // BINPERSID
                stack.append(try persistent(try pop()))
            case 0x52, 0x81:                                      // REDUCE, NEWOBJ
                let args = try pop(), callable = try pop()
                guard case .tuple(let a) = args else { throw fail("call arguments are not a tuple") }
                stack.append(try reduce(callable, a))
            case 0x62:                                            // BUILD: object state (e.g. OrderedDict._metadata) is ignored
                _ = try pop()
            default:
                throw fail(String(format: "unsupported opcode 0x%02X at byte %d", code, pos - 1))
            }
        }
    }

    /// `('storage', torch.FloatStorage, '0', 'cpu', numel)` → a storage reference.
    private func persistent(_ pid: PickleValue) throws -> PickleValue {
        guard case .tuple(let t) = pid, t.count >= 3, case .string("storage") = t[0],
              case .global(_, let type) = t[1], case .string(let key) = t[2]
        else { throw fail("unknown persistent id") }
        return .storage(type: type, key: key)
    }

    private func reduce(_ callable: PickleValue, _ args: [PickleValue]) throws -> PickleValue {
        guard case .global(let module, let name) = callable else { return .call(callable, args) }
        switch (module, name) {
        case ("collections", "OrderedDict"), ("builtins", "dict"):
            return .dict(PickleDict())
        case ("torch._utils", "_rebuild_tensor_v2"), ("torch._utils", "_rebuild_tensor"):
            guard args.count >= 4, case .storage(let type, let key) = args[0], case .int(let offset) = args[1],
                  case .tuple(let sizeV) = args[2], case .tuple(let strideV) = args[3]
            else { throw fail("malformed tensor record") }
            let ints: ([PickleValue]) -> [Int] = { $0.compactMap { if case .int(let i) = $0 { i } else { nil } } }
            return .tensor(storageType: type, key: key, offset: offset, size: ints(sizeV), stride: ints(strideV))
        case ("torch._utils", "_rebuild_parameter"), ("torch._utils", "_rebuild_parameter_with_state"):
            guard let data = args.first else { throw fail("malformed parameter record") }
            return data
        default:
            return .call(callable, args)
        }
    }
}
