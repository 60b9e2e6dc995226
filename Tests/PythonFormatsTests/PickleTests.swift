// The pickle machine against hand-made streams: protocol 0, 2, 4 and 5 opcodes, memo sharing, symbolic
// globals/calls/persistent ids, and the errors for what it does not interpret.
import PythonFormats
import Testing

/// Bytes from hex (spaces allowed). Streams marked "pickle.dumps" were made by CPython 3 with that call.
private func hex(_ text: String) -> [UInt8] {
    let digits = Array(text.filter { !$0.isWhitespace })
    return stride(from: 0, to: digits.count, by: 2).map { UInt8(String(digits[$0...$0 + 1]), radix: 16)! }
}

private func unpickle(_ text: String) throws -> PickleValue { try PickleValue(unpickling: hex(text)) }

private func dict(_ pairs: (PickleValue, PickleValue)...) -> PickleValue { .dict(pairs.map { (key: $0.0, value: $0.1) }) }

@Suite("pickle machine")
struct PickleTests {
    @Test func protocol2PlainData() throws {
        // pickle.dumps({'a': [1, -2, 300, 70000, 2**40, -(2**63)], 'b': ('x', 2.5, None, True, False), 'c': 'é'}, protocol=2)
        let value = try unpickle(
            """
            80027d71002858010000006171015d7102284b014afeffffff4d2c014a701101008a060000000000018a08000000000000008065
            58010000006271032858010000007871044740040000000000004e888974710558010000006371065802000000c3a97107752e
            """)
        #expect(
            value
                == dict(
                    (.string("a"), .list([.int(1), .int(-2), .int(300), .int(70000), .int(1 << 40), .int(Int.min)])),
                    (.string("b"), .tuple([.string("x"), .float(2.5), .none, .bool(true), .bool(false)])),
                    (.string("c"), .string("é"))))
        #expect(value[.string("b")]?.items?.count == 5)
        #expect(value[.string("zz")] == nil)
    }

    @Test func protocol0Text() throws {
        // pickle.dumps([(1, 'a'), {'k': 1.5}, None, True, -7], protocol=0)
        let value = try unpickle("286c70300a2849310a56610a70310a7470320a61286470330a566b0a70340a46312e350a73614e614930310a61492d370a612e")
        #expect(value == .list([.tuple([.int(1), .string("a")]), dict((.string("k"), .float(1.5))), .none, .bool(true), .int(-7)]))
        // STRING with escapes, UNICODE with \u escapes and Latin-1 bytes
        #expect(try PickleValue(unpickling: Array("S'a\\'b\\x41'\n.".utf8)) == .string("a'bA"))
        #expect(try PickleValue(unpickling: [0x56, 0x5C, 0x75, 0x30, 0x30, 0x65, 0x39, 0xE9, 0x0A, 0x2E]) == .string("éé"))
    }

    @Test func protocol4FramesMemoizeStackGlobalAndOrderedDict() throws {
        // pickle.dumps([b'\x00\xff', collections.OrderedDict([('k', 1), ('m', [2])]), 'short'], protocol=4)
        let value = try unpickle(
            """
            80049544000000000000005d9428430200ff948c0b636f6c6c656374696f6e73948c0b4f72646572656444696374949394295294
            288c016b944b018c016d945d944b0261758c0573686f727494652e
            """)
        let items = try #require(value.items)
        #expect(items.count == 3)
        #expect(items[0] == .bytes([0, 255]))
        #expect(items[2] == .string("short"))
        guard case .object(let ordered) = items[1] else { Issue.record("not an object: \(items[1])"); return }
        #expect(ordered.callable == .global(module: "collections", name: "OrderedDict"))
        #expect(ordered.arguments.isEmpty && ordered.state == nil)
        #expect(items[1].entries?.map(\.key) == [.string("k"), .string("m")])
        #expect(items[1][.string("m")] == .list([.int(2)]))
    }

    @Test func protocol5ByteArray() throws {
        // pickle.dumps(bytearray(b'ab'), protocol=5)
        #expect(try unpickle("8005950d000000000000009602000000000000006162942e") == .bytes([0x61, 0x62]))
    }

    @Test func memoSharesContainersMutatedLater() throws {
        // pickle.dumps([l, l, (l,)], protocol=4) with l = [1]: BINGET of the memoized list
        #expect(
            try unpickle("80049510000000000000005d94285d944b0161680168018594652e")
                == .list([.list([.int(1)]), .list([.int(1)]), .tuple([.list([.int(1)])])]))
        // Hand-made: outer = [inner, inner] is built first, then inner (fetched from the memo) gets 7 appended.
        #expect(try unpickle("80 02 5d 28 5d 71 00 68 00 65 68 00 4b 07 61 30 2e") == .list([.list([.int(7)]), .list([.int(7)])]))
        // PUT/GET (protocol 0 text memo) and DUP
        #expect(try unpickle("4e 70 35 0a 30 67 35 0a 2e") == .none)
        #expect(try unpickle("28 4b 01 32 74 2e") == .tuple([.int(1), .int(1)]))
    }

    @Test func globalsCallsAndStateStaySymbolic() throws {
        // class P with p.x = 1; pickle.dumps(p, protocol=2): GLOBAL, EMPTY_TUPLE, NEWOBJ, BUILD
        let value = try unpickle("8002635f5f6d61696e5f5f0a500a7100298171017d710258010000007871034b0173622e")
        var expected = PickleObject(callable: .global(module: "__main__", name: "P"), arguments: [])
        expected.state = dict((.string("x"), .int(1)))
        #expect(value == .object(expected))
        // A persistent_id of ('storage', '0') for one value: BINPERSID keeps the id
        let persistent = try unpickle("80027d71005801000000777101580700000073746f726167657102580100000030710386710451732e")
        #expect(persistent[.string("w")] == .persistent(.tuple([.string("storage"), .string("0")])))
    }

    @Test func longIntegers() throws {
        #expect(try unpickle("80 02 8a 00 2e") == .int(0))
        #expect(try unpickle("80 02 8a 01 ff 2e") == .int(-1))
        #expect(try unpickle("80 02 8a 02 00 80 2e") == .int(-32768))
        // 2**63 - 1 written with a ninth (sign) byte, as Python does
        #expect(try unpickle("80 02 8a 09 ff ff ff ff ff ff ff 7f 00 2e") == .int(Int.max))
        #expect(throws: PythonFormatError.self) { try unpickle("80 02 8a 09 00 00 00 00 00 00 00 80 00 2e") }  // 2**63
    }

    @Test func errorsNameTheProblem() throws {
        // pickle.dumps({1}, protocol=4): sets are not interpreted
        #expect(throws: PythonFormatError.pickle(message: "unsupported opcode emptySet (0x8F) at byte 11")) {
            try unpickle("80049507000000000000008f94284b01902e")
        }
        #expect(throws: PythonFormatError.pickle(message: "unknown opcode 0xFF at byte 2")) { try unpickle("80 02 ff 2e") }
        // l = []; l.append(l); pickle.dumps(l, protocol=2)
        #expect(throws: PythonFormatError.self) { try unpickle("80025d71006800612e") }
        #expect(throws: PythonFormatError.pickle(message: "the stream ends without a STOP opcode")) { try unpickle("80 02 4e") }
        #expect(throws: PythonFormatError.self) { try unpickle("80 02 58 05 00 00 00 61 62 2e") }  // truncated BINUNICODE
        #expect(throws: PythonFormatError.self) { try unpickle("80 02 4e 4e 2e") }  // two values left
        #expect(throws: PythonFormatError.self) { try unpickle("80 02 4e 61 2e") }  // APPEND to None
        #expect(throws: PythonFormatError.self) { try unpickle("80 02 68 03 2e") }  // missing memo entry
        #expect(throws: PythonFormatError.self) { try unpickle("80 06 4e 2e") }  // protocol 6
        let error = PythonFormatError.pickle(message: "x")
        #expect(error.description == "pickle: x" && error.message == "x")
    }
}
