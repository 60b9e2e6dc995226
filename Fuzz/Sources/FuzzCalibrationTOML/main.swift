// anipose calibration.toml, read by `kinema smooth calibrated`.
import FuzzSupport
import Smoothing

let input = InputFile(extension: "toml")
fuzz { bytes in _ = try? CameraCalibration.read(from: input.write(bytes)) }
