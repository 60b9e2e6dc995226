// Pickle streams (inside torch.save files and DLC's HDF5 metadata): the machine that turns them into a value tree.
import FuzzSupport
import PythonFormats

fuzz { bytes in _ = try? PickleValue(unpickling: bytes) }
