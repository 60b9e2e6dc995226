// DwiseNeuro in a few lines: `NeuralForward [MODEL_DIR]` (a folder `kinema neural train` wrote: model.yaml and
// model.safetensors), or a tiny random model, then predicted activity for one random window of video + behaviour.
import Foundation
import NeuralModels
import Torch

let model: DwiseNeuro
if CommandLine.arguments.count > 1 {
    let folder = URL(fileURLWithPath: CommandLine.arguments[1])
    model = try DwiseNeuro(config: try SavedModel.config(in: folder), weights: folder)  // config and weights in one call
} else {
    model = try DwiseNeuro(config: .tiny(neurons: [12]))
}
// (batch, channels: video, pupil, speed, pupil x, pupil y; frames; height; width)
let canvas = model.config.canvas
let window = try Tensor.rand([1, model.config.inChannels, 16, canvas, canvas])
// Eval mode is a flag of each call, not a state of the model.
let activity = try withNoGrad { try model(window, mouse: 0, training: false) }
print("predicted activity \(activity.shape) (batch, neurons, frames)")
let values = try activity.contiguous().toArray(Float.self)
print(
    String(
        format: "mean rate %.4f, all finite: %@", values.reduce(0, +) / Float(values.count),
        values.allSatisfy(\.isFinite) ? "yes" : "no"))
