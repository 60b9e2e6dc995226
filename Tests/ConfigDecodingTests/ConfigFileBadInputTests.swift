// `ConfigDecoder.load` on files a person hands over by accident: empty, binary, or a CSV given as the config.
import ConfigDecoding
import Foundation
import Testing

private struct Settings: ConfigSection, Equatable {
    var frames = 60
    var seed: UInt64 = 1
}

private func load(_ bytes: [UInt8], _ name: String = "settings.yaml") throws -> Settings {
    let url = FileManager.default.temporaryDirectory.appendingPathComponent("config-\(UUID().uuidString)-\(name)")
    try Data(bytes).write(to: url)
    defer { try? FileManager.default.removeItem(at: url) }
    return try ConfigDecoder.load(Settings.self, path: url.path)
}

private func message(_ bytes: [UInt8]) -> String {
    do {
        _ = try load(bytes)
        return "no error"
    } catch {
        return "\(error)"
    }
}

@Suite struct ConfigFileBadInputTests {
    @Test func anEmptyFileIsAnErrorNotAllDefaults() {
        for text in ["", "\n\n", "# only a comment\n", "---\n"] {
            #expect(message(Array(text.utf8)).hasSuffix("the config file is empty; write its settings as `key: value` lines"), "\(text)")
        }
        #expect((try? load(Array("frames: 40\n".utf8))) == Settings(frames: 40))
    }

    @Test func binaryDataIsSaidToBeNotText() {
        let png: [UInt8] = [0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A, 0, 0, 0, 13, 0x49, 0x48, 0x44, 0x52]
        #expect(message(png).hasSuffix(": not a YAML config: the file is not text (UTF-8)"))
        #expect(message([0x66, 0x72, 0x3A, 0x20, 0x00, 0x31]).hasSuffix(": not a YAML config: the file is not text (UTF-8)"))
    }

    /// A pose CSV given as the config parses as one long scalar; the error quotes its first 60 characters only.
    @Test func aWrongTextFileGivesOneShortLine() {
        var csv = "scorer,heatmap_tracker,heatmap_tracker,heatmap_tracker\nbodyparts,nose,nose,nose\ncoords,x,y,likelihood\n"
        for frame in 0..<200 { csv += "\(frame),1.5,2.5,0.9\n" }
        let text = message(Array(csv.utf8))
        #expect(
            text.contains("must be a section of `key: value` lines, found 'scorer,heatmap_tracker,heatmap_tracker,heatmap_tracker bodyp…'"),
            "\(text)")
        #expect(!text.contains("\n") && text.count < 200, "\(text)")
    }
}
