// torch.save files (.pt/.pth/.ckpt): the zip reader, the pickle machine and the tensor rebuilder behind them.
import FuzzSupport
import TorchNN

let input = InputFile(extension: "pt")
fuzz { bytes in _ = try? TorchFile.loadStateDict(input.write(bytes)) }
