// Pose CSV (LP/DLC labels and predictions) through the file reader `kinema smooth` and training use.
import FuzzSupport
import PoseFormats

let input = InputFile(extension: "csv")
fuzz { bytes in _ = try? PoseTable.read(from: input.write(bytes)) }
