// The strict decoder on small configs: unknown keys with suggestions and lines, types, ranges, defaults, round trips.
import ConfigDecoding
import Testing

/// A two-level config like the real ones.
private struct Demo: ConfigSection, Equatable {
    var name = "demo"
    var trainBatchSize = 16
    var trainProb = 0.95
    var flag = false
    var seed: UInt64 = 1
    var sizes = [1, 2]
    var maxMinutes: Double?
    var inner = Inner()
    var extra: ConfigValue?

    struct Inner: ConfigSection, Equatable {
        var imageResizeDims = 256
        var pairs: [[String]] = []
        func check(_ c: ConfigChecks) throws {
            try c.require(CodingKeys.imageResizeDims, imageResizeDims, "must be a multiple of 32") { $0 % 32 == 0 }
        }
    }

    func check(_ c: ConfigChecks) throws {
        try c.require(CodingKeys.trainProb, trainProb, "must be in (0, 1]") { $0 > 0 && $0 <= 1 }
    }
}

private func decode(_ yaml: String) throws -> Demo {
    try ConfigDecoder(file: "demo.yaml").decode(Demo.self, yaml: yaml)
}

private func failure(_ yaml: String) -> ConfigError? {
    #expect(throws: ConfigError.self) { try decode(yaml) }
}

@Suite struct ConfigDecoderTests {
    @Test func absentKeysTakeTheDeclaredDefaults() throws {
        #expect(try decode("") == Demo())
        #expect(try decode("name: x\ninner:\n  pairs: [[a, b]]\n").inner == Demo.Inner(imageResizeDims: 256, pairs: [["a", "b"]]))
        #expect(try decode("train_batch_size: null\n").trainBatchSize == 16)
    }

    @Test func valuesOfEveryKind() throws {
        let d = try decode(
            "name: '16'\ntrain_batch_size: 8.0\ntrain_prob: 1e-3\nflag: yes\nseed: 18446744073709551615\nsizes: 3\nmax_minutes: 2\nextra: {a: [1, 'b'], c: null}\n"
        )
        #expect(d.name == "16" && d.trainBatchSize == 8 && d.trainProb == 1e-3 && d.flag && d.seed == UInt64.max)
        #expect(d.sizes == [3] && d.maxMinutes == 2)
        #expect(d.extra?.keys == ["a", "c"])
    }

    @Test func unknownKeyAtTheTopNamesTheClosestAndItsLine() {
        let e = failure("name: x\ntrain_bach_size: 3\n")
        #expect(e?.description == "demo.yaml:2: unknown key 'train_bach_size'; did you mean 'train_batch_size'?")
    }

    @Test func unknownKeyInASectionNamesTheFullPath() {
        let e = failure("inner:\n  pairs: []\n  imgae_resize_dims: 64\n")
        #expect(e?.description == "demo.yaml:3: unknown key 'inner.imgae_resize_dims'; did you mean 'inner.image_resize_dims'?")
    }

    @Test func unknownKeyWithNothingCloseListsTheValidOnes() {
        let e = failure("inner:\n  zzzzzzzzzzzzzz: 1\n")
        #expect(e?.description == "demo.yaml:2: unknown key 'inner.zzzzzzzzzzzzzz'; remove it (valid here: image_resize_dims, pairs)")
    }

    @Test func freeFormValuesAreNotChecked() throws {
        #expect(try decode("extra:\n  anything_goes: {deep: [1]}\n").extra != nil)
    }

    @Test func wrongTypeNamesKeyLineAndValue() {
        #expect(
            failure("name: x\ntrain_batch_size: sixteen\n")?.description
                == "demo.yaml:2: train_batch_size must be an integer, found 'sixteen'")
        #expect(failure("flag: maybe\n")?.description == "demo.yaml:1: flag must be true or false, found 'maybe'")
        #expect(failure("sizes: [1, x]\n")?.description == "demo.yaml:1: sizes[1] must be an integer, found 'x'")
        #expect(failure("inner: 3\n")?.description == "demo.yaml:1: inner must be a section of `key: value` lines, found '3'")
        #expect(failure("name: [a]\n")?.description == "demo.yaml:1: name must be a single value, found a list")
        #expect(failure("seed: -1\n")?.description == "demo.yaml:1: seed must be a non-negative integer, found '-1'")
    }

    @Test func outOfRangeNamesKeyLineAndValue() {
        #expect(failure("name: x\ntrain_prob: 1.5\n")?.description == "demo.yaml:2: train_prob must be in (0, 1], found 1.5")
        #expect(
            failure("inner:\n  pairs: []\n  image_resize_dims: 100\n")?.description
                == "demo.yaml:3: inner.image_resize_dims must be a multiple of 32, found 100")
    }

    @Test func standaloneChecksNameTheKeyWithoutAFile() {
        var d = Demo()
        d.trainProb = 0
        #expect(throws: ConfigError(file: "", line: nil, message: "train_prob must be in (0, 1], found 0.0")) { try d.check(.standalone) }
    }

    @Test func invalidYAMLHasALine() {
        let e = failure("a: [1, 2\nb: 3\n")
        #expect(e?.line != nil && e?.description.contains("not valid YAML") == true)
    }

    @Test func writtenYAMLReadsBackEqual() throws {
        var d = Demo()
        d.name = "true"
        d.maxMinutes = 0.5
        d.inner.pairs = [["nose", "tail: base"]]
        d.extra = try decode("extra: {a: [1, 'b'], c: null, d: {e: x}}\n").extra
        let text = try ConfigEncoder.yaml(d)
        #expect(text.contains("train_batch_size: 16"))
        #expect(text.contains("name: 'true'"))
        #expect(try decode(text) == d)
    }
}
