// Inputs the torch.save fuzz target (Fuzz/Sources/FuzzTorchFile) found crashing the zip reader, kept so that
// `swift test` checks each fix without the fuzzer: every one must now be an NNError naming the file.
import Foundation
import Testing
import TorchNN

@Suite("torch.save reader: fuzz regressions")
struct TorchFileFuzzRegressionTests {
    /// An end-of-central-directory record whose directory offset is negative as a 64-bit value read past the start
    /// of the data (`Data` index out of range).
    static let directoryOutsideTheFile = """
        UEsDAABQSwYHAAAAABoTAP3/////AAAAAFBLBQYAAAAAABMAE6K/////////X3JlYnVpbGRfcGFyYW0A
        """

    @Test func aDirectoryOutsideTheFileIsAnError() throws {
        let url = FileManager.default.temporaryDirectory.appendingPathComponent("fuzz-\(UUID().uuidString).pt")
        try #require(Data(base64Encoded: Self.directoryOutsideTheFile, options: .ignoreUnknownCharacters)).write(to: url)
        defer { try? FileManager.default.removeItem(at: url) }
        #expect(throws: NNError.self) { try TorchFile.loadStateDict(url) }
        do {
            _ = try TorchFile.loadStateDict(url)
        } catch {
            #expect("\(error)".contains(url.lastPathComponent) && "\(error)".contains("corrupt"), "\(error)")
        }
    }
}
