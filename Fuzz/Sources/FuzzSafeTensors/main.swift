// safetensors: Kinema's checkpoints and the weights a person downloads.
import Foundation
import FuzzSupport
import Torch
import TorchNN

let input = InputFile(extension: "safetensors")
fuzz(seeds: {
    let seed = InputFile(extension: "seed.safetensors")
    try SafeTensors.write(
        [
            ("model.weight", try Tensor.arange(0, 6, dtype: .float32).reshape([2, 3])),
            ("model.steps", try Tensor.arange(0, 2, dtype: .int64)),
            ("half", try Tensor.ones([2], dtype: .float16)),
        ], metadata: ["epoch": "3"], to: seed.url)
    return [("checkpoint.safetensors", Array(try Data(contentsOf: seed.url)))]
}) { bytes in _ = try? SafeTensors.read(input.write(bytes)) }
