// DeepLabCut's pandas HDF5 (.h5) labels and predictions, read through libhdf5 (loaded at run time).
import FuzzSupport
import PoseFormats

let input = InputFile(extension: "h5")
fuzz { bytes in _ = try? PoseTable.readHDF5(from: input.write(bytes)) }
