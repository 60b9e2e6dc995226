// What a person at the terminal sees besides results: log lines on stderr (stdout stays for data).
import Foundation

public enum Console {
    /// Whether stderr is a terminal (progress redraws in place) or a file or pipe (plain lines).
    public static let standardErrorIsTerminal: Bool = isatty(STDERR_FILENO) == 1

    /// Writes text to stderr as it is.
    public static func writeError(_ text: String) {
        FileHandle.standardError.write(Data(text.utf8))
    }
}

/// Writes a line to stderr (log messages that must not mix with CSV on stdout).
public func logLine(_ text: String) {
    Console.writeError(text + "\n")
}
