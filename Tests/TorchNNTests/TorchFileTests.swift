import Foundation
import Testing
import Torch
import TorchNN

/// `torch.save` files (zip + pickle) read without Python. The fixture below was written by torch 2.15
/// (`scripts/dev/make-torchfile-fixture.py`): a Lightning-style checkpoint whose "state_dict" holds a Linear and a
/// BatchNorm, a transposed view and a row view sharing one storage, and one tensor of every other dtype.
@Suite("Reading PyTorch .pt files")
struct TorchFileTests {
    static let fixture = """
        UEsDBAAACAgAAAAAAAAAAAAAAAAAAAAAAAAQABIAYXJjaGl2ZS9kYXRhLnBrbEZCDgBaWlpaWlpaWlpaWlpaWoACfXEAKFgFAAAAZXBvY2hxAU
        sDWAoAAABzdGF0ZV9kaWN0cQJjY29sbGVjdGlvbnMKT3JkZXJlZERpY3QKcQMpUnEEKFgLAAAAaGVhZC53ZWlnaHRxBWN0b3JjaC5fdXRpbHMK
        X3JlYnVpbGRfdGVuc29yX3YyCnEGKChYBwAAAHN0b3JhZ2VxB2N0b3JjaApGbG9hdFN0b3JhZ2UKcQhYAQAAADBxCVgDAAAAY3B1cQpLBnRxC1
        FLAEsCSwOGcQxLA0sBhnENiWgDKVJxDnRxD1JxEFgJAAAAaGVhZC5iaWFzcRFoBigoaAdoCFgBAAAAMXESaApLAnRxE1FLAEsChXEUSwGFcRWJ
        aAMpUnEWdHEXUnEYWAsAAABub3JtLndlaWdodHEZaAYoKGgHaAhYAQAAADJxGmgKSwJ0cRtRSwBLAoVxHEsBhXEdiWgDKVJxHnRxH1JxIFgJAA
        AAbm9ybS5iaWFzcSFoBigoaAdoCFgBAAAAM3EiaApLAnRxI1FLAEsChXEkSwGFcSWJaAMpUnEmdHEnUnEoWBEAAABub3JtLnJ1bm5pbmdfbWVh
        bnEpaAYoKGgHaAhYAQAAADRxKmgKSwJ0cStRSwBLAoVxLEsBhXEtiWgDKVJxLnRxL1JxMFgQAAAAbm9ybS5ydW5uaW5nX3ZhcnExaAYoKGgHaA
        hYAQAAADVxMmgKSwJ0cTNRSwBLAoVxNEsBhXE1iWgDKVJxNnRxN1JxOFgYAAAAbm9ybS5udW1fYmF0Y2hlc190cmFja2VkcTloBigoaAdjdG9y
        Y2gKTG9uZ1N0b3JhZ2UKcTpYAQAAADZxO2gKSwF0cTxRSwApKYloAylScT10cT5ScT9YBgAAAHZpZXcudHFAaAYoKGgHY3RvcmNoCkRvdWJsZV
        N0b3JhZ2UKcUFYAQAAADdxQmgKSwx0cUNRSwBLBEsDhnFESwFLBIZxRYloAylScUZ0cUdScUhYCAAAAHZpZXcucm93cUloBigoaAdoQWhCaApL
        DHRxSlFLBEsEhXFLSwGFcUyJaAMpUnFNdHFOUnFPWAQAAABpbnRzcVBoBigoaAdjdG9yY2gKSW50U3RvcmFnZQpxUVgBAAAAOHFSaApLA3RxU1
        FLAEsDhXFUSwGFcVWJaAMpUnFWdHFXUnFYWAQAAABoYWxmcVloBigoaAdjdG9yY2gKSGFsZlN0b3JhZ2UKcVpYAQAAADlxW2gKSwJ0cVxRSwBL
        AoVxXUsBhXFeiWgDKVJxX3RxYFJxYVgCAAAAYmZxYmgGKChoB2N0b3JjaApCRmxvYXQxNlN0b3JhZ2UKcWNYAgAAADEwcWRoCksCdHFlUUsASw
        KFcWZLAYVxZ4loAylScWh0cWlScWpYBQAAAGZsYWdzcWtoBigoaAdjdG9yY2gKQm9vbFN0b3JhZ2UKcWxYAgAAADExcW1oCksCdHFuUUsASwKF
        cW9LAYVxcIloAylScXF0cXJScXNYBQAAAGJ5dGVzcXRoBigoaAdjdG9yY2gKQnl0ZVN0b3JhZ2UKcXVYAgAAADEycXZoCksCdHF3UUsASwKFcX
        hLAYVxeYloAylScXp0cXtScXx1WAUAAABoeXBlcnF9fXF+KFgCAAAAbHJxf0c/UGJN0vGp/FgEAAAAbmFtZXGAWAEAAAB4cYF1dS5QSwcIsjca
        tOEEAADhBAAAUEsDBAAACAgAAAAAAAAAAAAAAAAAAAAAAAAXABoAYXJjaGl2ZS8uZm9ybWF0X3ZlcnNpb25GQhYAWlpaWlpaWlpaWlpaWlpaWl
        paWlpaWjFQSwcIt+/cgwEAAAABAAAAUEsDBAAACAgAAAAAAAAAAAAAAAAAAAAAAAAaADcAYXJjaGl2ZS8uc3RvcmFnZV9hbGlnbm1lbnRGQjMA
        WlpaWlpaWlpaWlpaWlpaWlpaWlpaWlpaWlpaWlpaWlpaWlpaWlpaWlpaWlpaWlpaWlpaNjRQSwcIP3dx6QIAAAACAAAAUEsDBAAACAgAAAAAAA
        AAAAAAAAAAAAAAAAARAD8AYXJjaGl2ZS9ieXRlb3JkZXJGQjsAWlpaWlpaWlpaWlpaWlpaWlpaWlpaWlpaWlpaWlpaWlpaWlpaWlpaWlpaWlpa
        WlpaWlpaWlpaWlpaWlpsaXR0bGVQSwcIhT3jGQYAAAAGAAAAUEsDBAAACAgAAAAAAAAAAAAAAAAAAAAAAAAOAD4AYXJjaGl2ZS9kYXRhLzBGQj
        oAWlpaWlpaWlpaWlpaWlpaWlpaWlpaWlpaWlpaWlpaWlpaWlpaWlpaWlpaWlpaWlpaWlpaWlpaWlpaWuijjbsTk54+fkvzvsmL2b6xtGO+U4ke
        PlBLBwjB12fGGAAAABgAAABQSwMEAAAICAAAAAAAAAAAAAAAAAAAAAAAAA4ALABhcmNoaXZlL2RhdGEvMUZCKABaWlpaWlpaWlpaWlpaWlpaWl
        paWlpaWlpaWlpaWlpaWlpaWlpaWlpaQGs7vHph6j5QSwcIwvDjVggAAAAIAAAAUEsDBAAACAgAAAAAAAAAAAAAAAAAAAAAAAAOADwAYXJjaGl2
        ZS9kYXRhLzJGQjgAWlpaWlpaWlpaWlpaWlpaWlpaWlpaWlpaWlpaWlpaWlpaWlpaWlpaWlpaWlpaWlpaWlpaWlpaWloAAIA/AACAP1BLBwiQUQ
        bVCAAAAAgAAABQSwMEAAAICAAAAAAAAAAAAAAAAAAAAAAAAA4APABhcmNoaXZlL2RhdGEvM0ZCOABaWlpaWlpaWlpaWlpaWlpaWlpaWlpaWlpa
        WlpaWlpaWlpaWlpaWlpaWlpaWlpaWlpaWlpaWlpaWgAAAAAAAAAAUEsHCGnfImUIAAAACAAAAFBLAwQAAAgIAAAAAAAAAAAAAAAAAAAAAAAADg
        A8AGFyY2hpdmUvZGF0YS80RkI4AFpaWlpaWlpaWlpaWlpaWlpaWlpaWlpaWlpaWlpaWlpaWlpaWlpaWlpaWlpaWlpaWlpaWlpaWlpaAAAAAAAA
        AABQSwcIad8iZQgAAAAIAAAAUEsDBAAACAgAAAAAAAAAAAAAAAAAAAAAAAAOADwAYXJjaGl2ZS9kYXRhLzVGQjgAWlpaWlpaWlpaWlpaWlpaWl
        paWlpaWlpaWlpaWlpaWlpaWlpaWlpaWlpaWlpaWlpaWlpaWlpaWloAAIA/AACAP1BLBwiQUQbVCAAAAAgAAABQSwMEAAAICAAAAAAAAAAAAAAA
        AAAAAAAAAA4APABhcmNoaXZlL2RhdGEvNkZCOABaWlpaWlpaWlpaWlpaWlpaWlpaWlpaWlpaWlpaWlpaWlpaWlpaWlpaWlpaWlpaWlpaWlpaWl
        paWgAAAAAAAAAAUEsHCGnfImUIAAAACAAAAFBLAwQAAAgIAAAAAAAAAAAAAAAAAAAAAAAADgA8AGFyY2hpdmUvZGF0YS83RkI4AFpaWlpaWlpa
        WlpaWlpaWlpaWlpaWlpaWlpaWlpaWlpaWlpaWlpaWlpaWlpaWlpaWlpaWlpaWlpaAAAAAAAAAAAAAAAAAADwPwAAAAAAAABAAAAAAAAACEAAAA
        AAAAAQQAAAAAAAABRAAAAAAAAAGEAAAAAAAAAcQAAAAAAAACBAAAAAAAAAIkAAAAAAAAAkQAAAAAAAACZAUEsHCPAHmfhgAAAAYAAAAFBLAwQA
        AAgIAAAAAAAAAAAAAAAAAAAAAAAADgAkAGFyY2hpdmUvZGF0YS84RkIgAFpaWlpaWlpaWlpaWlpaWlpaWlpaWlpaWlpaWlpaWlpaAQAAAP7///
        8DAAAAUEsHCOYFsqQMAAAADAAAAFBLAwQAAAgIAAAAAAAAAAAAAAAAAAAAAAAADgA4AGFyY2hpdmUvZGF0YS85RkI0AFpaWlpaWlpaWlpaWlpa
        WlpaWlpaWlpaWlpaWlpaWlpaWlpaWlpaWlpaWlpaWlpaWlpaWloAOAC+UEsHCL/15ScEAAAABAAAAFBLAwQAAAgIAAAAAAAAAAAAAAAAAAAAAA
        AADwA/AGFyY2hpdmUvZGF0YS8xMEZCOwBaWlpaWlpaWlpaWlpaWlpaWlpaWlpaWlpaWlpaWlpaWlpaWlpaWlpaWlpaWlpaWlpaWlpaWlpaWlpa
        WgBAgL5QSwcIHFSERgQAAAAEAAAAUEsDBAAACAgAAAAAAAAAAAAAAAAAAAAAAAAPAD8AYXJjaGl2ZS9kYXRhLzExRkI7AFpaWlpaWlpaWlpaWl
        paWlpaWlpaWlpaWlpaWlpaWlpaWlpaWlpaWlpaWlpaWlpaWlpaWlpaWlpaWlpaAQBQSwcIviPCWAIAAAACAAAAUEsDBAAACAgAAAAAAAAAAAAA
        AAAAAAAAAAAPAEEAYXJjaGl2ZS9kYXRhLzEyRkI9AFpaWlpaWlpaWlpaWlpaWlpaWlpaWlpaWlpaWlpaWlpaWlpaWlpaWlpaWlpaWlpaWlpaWl
        paWlpaWlpaWloH+lBLBwg6n/BTAgAAAAIAAABQSwMEAAAICAAAAAAAAAAAAAAAAAAAAAAAAA8AQQBhcmNoaXZlL3ZlcnNpb25GQj0AWlpaWlpa
        WlpaWlpaWlpaWlpaWlpaWlpaWlpaWlpaWlpaWlpaWlpaWlpaWlpaWlpaWlpaWlpaWlpaWlpaWjMKUEsHCNGeZ1UCAAAAAgAAAFBLAwQAAAgIAA
        AAAAAAAAAAAAAAAAAAAAAAHgAyAGFyY2hpdmUvLmRhdGEvc2VyaWFsaXphdGlvbl9pZEZCLgBaWlpaWlpaWlpaWlpaWlpaWlpaWlpaWlpaWlpa
        WlpaWlpaWlpaWlpaWlpaWlpaMDY5MDM0OTA5OTc4MzE0NDM3NTAxMjQwMzE0MjA5NjUxODQ5NTQ4MFBLBwjgiAERKAAAACgAAABQSwECAAAAAA
        gIAAAAAAAAsjcatOEEAADhBAAAEAAAAAAAAAAAAAAAAAAAAAAAYXJjaGl2ZS9kYXRhLnBrbFBLAQIAAAAACAgAAAAAAAC379yDAQAAAAEAAAAX
        AAAAAAAAAAAAAAAAADEFAABhcmNoaXZlLy5mb3JtYXRfdmVyc2lvblBLAQIAAAAACAgAAAAAAAA/d3HpAgAAAAIAAAAaAAAAAAAAAAAAAAAAAJ
        EFAABhcmNoaXZlLy5zdG9yYWdlX2FsaWdubWVudFBLAQIAAAAACAgAAAAAAACFPeMZBgAAAAYAAAARAAAAAAAAAAAAAAAAABIGAABhcmNoaXZl
        L2J5dGVvcmRlclBLAQIAAAAACAgAAAAAAADB12fGGAAAABgAAAAOAAAAAAAAAAAAAAAAAJYGAABhcmNoaXZlL2RhdGEvMFBLAQIAAAAACAgAAA
        AAAADC8ONWCAAAAAgAAAAOAAAAAAAAAAAAAAAAACgHAABhcmNoaXZlL2RhdGEvMVBLAQIAAAAACAgAAAAAAACQUQbVCAAAAAgAAAAOAAAAAAAA
        AAAAAAAAAJgHAABhcmNoaXZlL2RhdGEvMlBLAQIAAAAACAgAAAAAAABp3yJlCAAAAAgAAAAOAAAAAAAAAAAAAAAAABgIAABhcmNoaXZlL2RhdG
        EvM1BLAQIAAAAACAgAAAAAAABp3yJlCAAAAAgAAAAOAAAAAAAAAAAAAAAAAJgIAABhcmNoaXZlL2RhdGEvNFBLAQIAAAAACAgAAAAAAACQUQbV
        CAAAAAgAAAAOAAAAAAAAAAAAAAAAABgJAABhcmNoaXZlL2RhdGEvNVBLAQIAAAAACAgAAAAAAABp3yJlCAAAAAgAAAAOAAAAAAAAAAAAAAAAAJ
        gJAABhcmNoaXZlL2RhdGEvNlBLAQIAAAAACAgAAAAAAADwB5n4YAAAAGAAAAAOAAAAAAAAAAAAAAAAABgKAABhcmNoaXZlL2RhdGEvN1BLAQIA
        AAAACAgAAAAAAADmBbKkDAAAAAwAAAAOAAAAAAAAAAAAAAAAAPAKAABhcmNoaXZlL2RhdGEvOFBLAQIAAAAACAgAAAAAAAC/9eUnBAAAAAQAAA
        AOAAAAAAAAAAAAAAAAAFwLAABhcmNoaXZlL2RhdGEvOVBLAQIAAAAACAgAAAAAAAAcVIRGBAAAAAQAAAAPAAAAAAAAAAAAAAAAANQLAABhcmNo
        aXZlL2RhdGEvMTBQSwECAAAAAAgIAAAAAAAAviPCWAIAAAACAAAADwAAAAAAAAAAAAAAAABUDAAAYXJjaGl2ZS9kYXRhLzExUEsBAgAAAAAICA
        AAAAAAADqf8FMCAAAAAgAAAA8AAAAAAAAAAAAAAAAA0gwAAGFyY2hpdmUvZGF0YS8xMlBLAQIAAAAACAgAAAAAAADRnmdVAgAAAAIAAAAPAAAA
        AAAAAAAAAAAAAFINAABhcmNoaXZlL3ZlcnNpb25QSwECAAAAAAgIAAAAAAAA4IgBESgAAAAoAAAAHgAAAAAAAAAAAAAAAADSDQAAYXJjaGl2ZS
        8uZGF0YS9zZXJpYWxpemF0aW9uX2lkUEsGBiwAAAAAAAAAHgMtAAAAAAAAAAAAEwAAAAAAAAATAAAAAAAAAKIEAAAAAAAAeA4AAAAAAABQSwYH
        AAAAABoTAAAAAAAAAQAAAFBLBQYAAAAAEwATAKIEAAB4DgAAAAA=
        """

    func write(_ data: Data) throws -> URL {
        let url = FileManager.default.temporaryDirectory.appendingPathComponent("kinema-\(UUID().uuidString).pt")
        try data.write(to: url)
        return url
    }

    @Test func readsAStateDictWithViewsAndEveryDType() throws {
        let data = try #require(Data(base64Encoded: Self.fixture.replacingOccurrences(of: "\n", with: "")))
        let url = try write(data)
        defer { try? FileManager.default.removeItem(at: url) }
        let sd = try TorchFile.loadStateDict(url)
        #expect(Array(sd.keys.prefix(3)) == ["head.weight", "head.bias", "norm.weight"])
        let w = try sd["head.weight"]!.toArray(Float.self)
        #expect(sd["head.weight"]!.shape == [2, 3] && w[1] == 0.3097158372402191 && w[5] == 0.15482072532176971)
        #expect(sd["norm.num_batches_tracked"]!.dtype == .int64 && sd["norm.num_batches_tracked"]!.shape == [])
        #expect(try sd["view.t"]!.toArray(Double.self) == [0, 4, 8, 1, 5, 9, 2, 6, 10, 3, 7, 11])
        #expect(try sd["view.row"]!.toArray(Double.self) == [4, 5, 6, 7])
        #expect(try sd["ints"]!.toArray(Int32.self) == [1, -2, 3])
        #expect(sd["half"]!.dtype == .float16 && sd["bf"]!.dtype == .bfloat16)
        let half = try sd["half"]!.toArray(Float.self), bf = try sd["bf"]!.toArray(Float.self)
        #expect(half == [0.5, -1.5] && bf == [2, -0.25])
        #expect(try sd["flags"]!.toArray(Bool.self) == [true, false])
        #expect(try sd["bytes"]!.toArray(UInt8.self) == [7, 250])

        // And it loads by name into a model with the same structure.
        let store = ParameterStore()
        _ = try Linear(store.root / "head", 3, 2)
        let report = try store.load(Dictionary(uniqueKeysWithValues: sd.map { ($0.key, $0.value) }), strict: false)
        #expect(report.loaded == ["head.weight", "head.bias"])
        #expect(try store.parameters["head.bias"]!.toArray(Float.self) == [-0.011439144611358643, 0.45777493715286255])
    }

    @Test func clearErrorsForFilesThatAreNotTorchSaves() throws {
        let text = try write(Data("not a checkpoint".utf8))
        defer { try? FileManager.default.removeItem(at: text) }
        #expect { try TorchFile.loadStateDict(text) } throws: { error in
            "\(error)".contains("not a zip archive")
        }
        let data = try #require(Data(base64Encoded: Self.fixture.replacingOccurrences(of: "\n", with: "")))
        let truncated = try write(data.prefix(data.count / 2))
        defer { try? FileManager.default.removeItem(at: truncated) }
        #expect(throws: NNError.self) { try TorchFile.loadStateDict(truncated) }
    }
}
