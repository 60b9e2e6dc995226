// Keypoints of one image from a pose model: `PoseForward [MODEL_DIR]` (a folder `kinema train` wrote), or a
// fresh, untrained U-Net when no folder is given (shows the API; its keypoints mean nothing).
import Foundation
import PoseData
import PoseModels
import Torch

let model: PoseModel
if CommandLine.arguments.count > 1 {
    // Config, network and best weights in one call; threads stay as libtorch chose them.
    let trained = try TrainedModel(directory: CommandLine.arguments[1])
    print("loaded \(trained.directory) (epoch \(trained.epoch))")
    model = trained.model
} else {
    var config = PoseConfig()
    config.model.backbone = "unet"
    config.data.imageResizeDims.height = 64
    config.data.imageResizeDims.width = 64
    model = try PoseModel(config: config, keypointNames: ["nose", "tail"])
}

// One synthetic 3 × H × W image, already resized and normalised as the model expects.
let width = model.config.resizeWidth, height = model.config.resizeHeight
var image = [Float](repeating: 0, count: 3 * width * height)
for c in 0..<3 {
    for y in 0..<height {
        for x in 0..<width { image[(c * height + y) * width + x] = Float(x + y) / Float(width + height) - 0.5 }
    }
}
// `predict` runs the network in eval mode (`training: false`) without gradients.
let keypoints = try model.predict(images: image, count: 1)[0]
for (name, k) in zip(model.keypointNames, keypoints) {
    print(String(format: "%@: x %.1f y %.1f likelihood %.3f (model pixels)", name, k.x, k.y, k.likelihood))
}
