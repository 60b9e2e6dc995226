// Inputs the pickle fuzz target (Fuzz/Sources/FuzzPickle) found, kept so that `swift test` checks each fix without
// the fuzzer. (The leak itself is seen only under LeakSanitizer: `scripts/fuzz/run.sh --runs 1 FuzzPickle` with this
// input in its corpus; here the stream must still be one clear error.)
import Foundation
import PythonFormats
import Testing

@Suite("pickle machine: fuzz regressions")
struct PickleFuzzRegressionTests {
    /// A checkpoint-like stream whose dict ends up inside itself (via the memo): the boxes referred to each other
    /// and leaked when STOP refused the recursive structure.
    static let containerInsideItself = """
        gAJ9cQAoWAUAAABlcG9jaHEBSwNYCgAAAHN0YXRlX2RpY3RxAmNjb2xsZWN0aW9ucwpPcmRlcmVkRGljdApxAylScQQoWAsAAABoZWFkLndlaW
        dodHEFY3RvcmNoLl91dGlscwpfcmVidWlsZF90ZW5zb3JfdjIKcQYoKFgHAAAAc3RvcmFnZXEHY3RvcmNoCkZsb2F0U3RvcmFnZQpxCFgBAAAA
        MHEJWAMAAABjcHVxCksGdHELUUsASwJLA4ZxDEsDSwGGcQ2JaAMpUnEOdHEPUnEQWAkAAABoZWFkLmJpYXNxEWgGKChoB2gIWAEAAAAxcRJoCk
        sCdHETUUsASwKFcRRLAYVxFYloAylScRZ0cRdScRhYCwAAAG5vcm0ud2VpZ2h0cRloBigoaAdoCFgBAAAAMnEaaApLAnRxG1FLAEsChXEcSwGF
        cR2JaAMpUnEedHEfUnEgWAkAAABub3JtLmJpYXNxIWgGKChoB2gIWAEAAAAzcSJoCksCdHEjUUsASwKFcSRLAYVxJYloAylScSZ0cSdScShYEQ
        AAAG5vcm0ucnVubmluZ19tZWFucSloBigoaAdoCFgBAAAANHEqaApLAnRxK1FLAEsChXEsSwGFcS2JaAMpUnEudHEvUnEwWBAAAABub3JtLnJ1
        bm5pbmdfdmFycTFoBigoaAdoCFgBAAAANXEyaApLAnRxM1FLAEsvhXE0SwGFcTWJaAMpUnE2dHE3UnE4WBgAAABub3JtLm51bV9iSwBLAksDhn
        EMSwNLAYZxDYloAylScQ50cQ9ScRBYCQAAAGhlYWQuYmlhc3ERaAYoKGgHaAhYAQAAADFxEmgASwJ0cRNRSwBLAoVxFEsBhXEViWgDKVJxFnRx
        F1JxGFgLAAAAbm9ybS53ZWlnaHRxGWgGKChoB2gIWAEAAAAycRpoCksCdHEbUUsASwKFcRxLAYVxHYloAylScR50cR9ScSBYCQAAAG5vcm0uYm
        lhc3EhaAYoKGgHaAhYAQAAADNxImgKSwJ0cSNRSwBLAoVxJEsBhXEliWgDKVJxJnRxJ1JxKFgRAAAAbm9ybS5ydW5uaW5nX21lYW5xKWgGKCho
        B2gIWAEAAAA0cSpoCksCdHErUUsASwKFcSxLAYVxLYloAylScS50cS9ScTBYEAAAAG5vcm0ucnVubmluZ192YXJxMWgGKChoB2gIWAEAAAA1cT
        JoCksCdHEzUUsASy+FcTRLAYVxNYloAylScTZ0cTdScThYGAAAAG5vcm0ubnVtX2JhdGNoZXNfdHJhY2tlZHE4aAYoKGgHY3RvcmNoCkxvbmdT
        dG9yYWdlCnE6WAEAAAA2cTtoCksBdHE8UUsAKSmJaAMpUnE9dHE+UnE/WAYAAAB2aWV3LnRxQGgGKChoB2N0b3JjaApEb3VibGVTdG9yYWdlCn
        FBWAEAAAA3cUJoCksMdHFDUUsASwRLA4ZxREsBSwSGcUWJaAMpUnFGdHFHUnFIWAgAAAB2aWV3LnJvd3FJaAYoKGgHaEFoQmgKSwx0cUpRSwRL
        BIVxS0sBhXFMiWgDKVJxTXRxeEsBhXF5iWgDKVJxenVxe1JxfHVYBQAAAGh5cGVycX19cX4oWAIAAABscnF/Rz9QYk3S8an8WAQAAABuYW1lcY
        BYAQAAAHhxgXV1Lg==
        """

    /// A dict set into itself through DUP (not the memo), the stream then ending without STOP.
    static let dictInsideItselfByDup = """
        gAB9cQp9fX19fX19Mn1zc3Nzc2FhX3Yy
        """

    @Test func aContainerInsideItselfIsAnError() throws {
        let bytes = try #require(Data(base64Encoded: Self.containerInsideItself, options: .ignoreUnknownCharacters))
        #expect(throws: PythonFormatError.self) { try PickleValue(unpickling: bytes) }
        do {
            _ = try PickleValue(unpickling: bytes)
        } catch {
            #expect("\(error)".contains("pickle"), "\(error)")
        }
        let dup = try #require(Data(base64Encoded: Self.dictInsideItselfByDup, options: .ignoreUnknownCharacters))
        #expect(throws: PythonFormatError.self) { try PickleValue(unpickling: dup) }
    }
}
