// A project's active-learning round (DeepLabCut's `iteration:`): machine labels are named after it, `kinema merge`
// advances it, and `kinema train` puts the next model under it.
import ConfigDecoding
import Foundation
import KinemaFiles

/// The top-level `iteration:` of a project's `config.yaml`: DeepLabCut's key, and the same key in a Kinema/LP config
/// (0 when absent).
public enum ProjectIteration {
    /// The iteration `config` states; 0 when it states none.
    /// - Throws: `ProjectSetupError.notAProject` for a config that cannot be read or a value that is not a whole
    ///   number ≥ 0.
    public static func current(config: String) throws -> Int {
        try value(in: read(config), file: config)
    }

    /// Sets `iteration:` to the next round and returns it. Only that line changes (comments and key order are kept;
    /// DeepLabCut rejects a config with any other key); a config without the key gains it at the end. Atomic.
    public static func advance(config: String) throws -> Int {
        let text = try read(config)
        let next = try value(in: text, file: config) + 1
        do {
            try AtomicFile.write(setting(next, in: text), to: config)
        } catch {
            throw ProjectSetupError.writeFailed(path: config, reason: FileProblem.describe(error))
        }
        return next
    }

    /// `text` with its top-level `iteration:` line set to `value` (added at the end when there is none).
    static func setting(_ value: Int, in text: String) -> String {
        var lines = text.components(separatedBy: "\n")
        if let i = lines.firstIndex(where: isIterationLine) {
            lines[i] = "iteration: \(value)"
            return lines.joined(separator: "\n")
        }
        let body = text.isEmpty || text.hasSuffix("\n") ? text : text + "\n"
        return body + "iteration: \(value)\n"
    }

    /// A top-level `iteration:` key (not indented, not inside a comment).
    private static func isIterationLine(_ line: String) -> Bool {
        line.hasPrefix("iteration:") || line.hasPrefix("\"iteration\":") || line.hasPrefix("'iteration':")
    }

    private static func read(_ config: String) throws -> String {
        guard let data = FileManager.default.contents(atPath: config), let text = String(data: data, encoding: .utf8) else {
            throw ProjectSetupError.notAProject(path: config, reason: "the config cannot be read as text")
        }
        return text
    }

    private static func value(in text: String, file: String) throws -> Int {
        let node = try ConfigNode.parse(text, file: file)
        guard let entry = node.entry("iteration"), !entry.value.isNull else { return 0 }
        guard let number = entry.value.text.flatMap({ Int($0) }), number >= 0 else {
            throw ProjectSetupError.notAProject(
                path: file, reason: "line \(entry.line): iteration must be a whole number ≥ 0, found '\(entry.value.text ?? "a list")'")
        }
        return number
    }
}
