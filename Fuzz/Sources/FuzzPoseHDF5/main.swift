// DeepLabCut's pandas HDF5 (.h5) labels and predictions, read through libhdf5 (loaded at run time).
// Besides the sanitizers, every input must leave no HDF5 identifier open: LeakSanitizer cannot see one, since
// libhdf5 keeps a reference to every open object. scripts/fuzz/run.sh turns the reader's crash guard off
// (KINEMA_HDF5_CRASH_GUARD=off) so that a crash inside libhdf5 reaches AddressSanitizer with its stack.
import FuzzSupport
@_spi(Diagnostics) import PoseFormats

let input = InputFile(extension: "h5")
fuzz { bytes in
    _ = try? PoseTable.readHDF5(from: input.write(bytes))
    if let open = PoseTable.openHDF5Identifiers, open != 0 { fatalError("\(open) HDF5 identifiers left open") }
}
