// Options that several `kinema neural` commands share, with the loading they imply, in one place.
import ArgumentParser
import Foundation
import NeuralData

/// `--data`: a Sensorium 2023 data folder.
struct SensoriumDataOption: ParsableArguments {
    @Option(help: "Data folder: one mouse folder or a folder of mouse folders.")
    var data: String

    /// Opens (and validates) every mouse folder.
    func dataset() throws -> SensoriumDataset { try SensoriumDataset(root: URL(fileURLWithPath: data)) }
}

/// Parses a comma-separated tier list.
func parseTiers(_ text: String) -> Set<String> {
    Set(text.split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces) }.filter { !$0.isEmpty })
}
