// Inputs the Parquet fuzz target (Fuzz/Sources/FuzzParquet) found crashing the reader, kept so that `swift test`
// checks each fix without the fuzzer: every one must now be a thrown error naming the file.
import Foundation
import NeuralData
import Testing

@Suite("parquet reader: fuzz regressions")
struct ParquetFuzzRegressionTests {
    /// A schema element claiming a negative number of children trapped in `0..<children` (Range requires
    /// lowerBound <= upperBound).
    static let negativeChildren = """
        UEFSMRUAFUIVQiwVBhUAFQYVBgAABwAAAG1vdXNlLTAHAAAAbW91c2UtMQcAAABtb3VzZS0wFQAVMBUwLBUGFQAVBhUGAAAAAAAAAAAAAAEAAA
        AAAAAAAgAAAAAAAAAVABUyARW0ASwVEBUAFQYVBgAAEAAAAAIAAgICAQICAgACAgIBAgICAAAAEAIAAAAAAADgPwAAAAAAAPg/AAAAAAAAAAAA
        AAAAAADwvwAAAAAAAOA/AAAAAAAA+D8AAAAAAADwPwAAAAAAAPC/FQAVZBVkLBUIFQAVBhUGAAAIAAAAAgACAgIBAgICAAAACAIAAAAAAADgPw
        AAAAAAAPg/AAAAAAAAAEAAAAAAAADwvxUAFYwBFYwBLBUMFQAVBhUGAAAMAAAAAgACAQIAAgECAAIBAgAAAAwBAwAAAAAAAAAHAAAAAAAAAAMA
        AAAAAApwcmVkaWN0aW8DAAAAAAAAAAcAAAAAAAAAFQIZvEgGc2NoZW1hFQgAFQwlABgFbW91c2UlAEwcAAAAFQQlABgNdHJpYWxfaW5kaWNlcw
        A2ABgKcHJlZGljdGlvbhUCFQZMPAAAADUEGARsaXN0FQIANQAYB2VsZW1lbnQVAQAAADwAAAA1BBgEbGlzdBUCABUKJQAYB2VsZW1lbnQANQAY
        Cm5ldXJvbl9pZHMVAhUGTDwAAAA1BBgEbGlzdBUCABUEJQAYB2VsZW1lbnQAFgYZHBlMJggcFQwZJQAGGRgFbW91c2UVABYMFmQWZCYIAAAmbB
        wVBBklAAYZGA10cmlhbF9pbmRpY2VzFQAWBhZSBgAADAAAAAIAAgECAAIBAhlYCnByZWRpY3Rpb24EbGlzdAdlbGVtZW50BGxpc3QHZWxlbWVu
        dBUAFhgW4AIW4AImvgEAACaeBBwVBBklAAYZOQpuZXVyb25faWRzBGxpc3QHZWxlbWVudBUAFgwWsgEWsgEmngQAABbIBRYGACgGa2luZW1hAH
        4BAABQQVIx
        """

    /// List levels that continue a neuron_ids list before any started: `Index out of range` in the row assembly.
    static let levelsBeforeAnyList = """
        UEFSMRUAFUIVQiwVBhUAFQYVBgAABwAAAG1vdXNlLTAHAAAAbW91c2UtMQcAAABtb3VzZS0wFQAVMBUwLBUGFQAVBhUGAAAAAAAAAAAAAAEAAA
        AAAAAAAgAAAAAAAAAVABW0ARW0ASwVEBUAFQYVBgAAEAAAAAIAAgICAQICAgACAgIBAgICAAAAEAIAAAAAAADgPwAAAAAAAPg/AAAAAAAAAAAA
        AAAAAADwvwAAAAAAAOA/AAAAAAAA+D8AAAAAAADwPwAAAAAAAPC/FQAVZBVkLBUIFQAVBhUGAAAIAAAAAgACAgIBAgICAAAACAIAAAAAAADgPw
        AAAAAAAPg/AAAAAAAAAEAAAAAAAADwvxUAFYwBFYwBLBUMFQAVBhUGAAAMAAAAAgICAQIAAgECAAIBAgAAAAwBAwAAAAAAAAAHAAAAAAAAAAMA
        AAAAAAAABwAAAAAAAAADAAAAAAAAAAcAAAAAAAAAFQIZvEgGc2NoZW1hFQgAFQwlABgFbW91c2UlAEwcAAAAFQQlABgNdHJpYWxfaW5kaWNlcw
        A1ABgKcHJlZGljdGlvbhUCFQZMPAAAADUEGARsaXN0FQIANQAYB2VsZW1lbnQVAhUGTDwAAAA1BBgEbGlzdBUCABUKJQAYB2VsZW1lbnQANQAY
        Cm5ldXJvbl9pZHMVAhUGTDwAAAA1BBgEbGlzdBUCABUEJQAYB2VsZW1lbnQAFgYZHBlMJggcFQwZJQAGGRgFbW91c2UVABYGFmQWZCYIAAAmbB
        wVBBklAAYZGA10cmlhbF9pbmRpY2VzFQAWBhZSFlImbAAAJr4BHBUKGSUABhlYCnByZWRpY3Rpb24EbGlzdAdlbGVtZW50BGxpc3QHZWxlbWVu
        dBUAFhgW4AIW4AImvgEAACaeBBwVBBklAAYZOApuZXVyb25faWRzBGxpc3QHZWxlbWVudBUAFgwWsgEWsgEmngQAABbIBRYGACgGa2luZW1hAH
        4BAABQQVIx
        """

    func read(_ base64: String) throws -> String {
        let url = FileManager.default.temporaryDirectory.appendingPathComponent("fuzz-\(UUID().uuidString).parquet")
        try #require(Data(base64Encoded: base64, options: .ignoreUnknownCharacters)).write(to: url)
        defer { try? FileManager.default.removeItem(at: url) }
        do {
            try readParquetSubmission(url) { _ in }
            return "read without an error"
        } catch {
            return "\(error)".replacingOccurrences(of: url.path, with: "FILE")
        }
    }

    @Test func negativeChildCountIsADamagedFile() throws {
        let message = try read(Self.negativeChildren)
        #expect(message.hasPrefix("FILE: ") && message.contains("the file is damaged"), "\(message)")
    }

    @Test func listLevelsThatDoNotMatchTheValuesAreADamagedFile() throws {
        let message = try read(Self.levelsBeforeAnyList)
        #expect(message.hasPrefix("FILE: ") && message.contains("the file is damaged"), "\(message)")
    }
}
