// Every YAML config a person hands Kinema: LP/Kinema pose configs and DeepLabCut config.yaml (PoseProject tells them
// apart), and the neural model, training and synthetic-data configs.
import Foundation
import FuzzSupport
import NeuralData
import NeuralModels
import PoseData

let input = InputFile(extension: "yaml")
fuzz(seeds: {
    [
        ("pose-defaults.yaml", Array(try PoseConfig().yaml().utf8)),
        ("dwiseneuro.yaml", Array(try DwiseNeuroConfig().yaml().utf8)),
        ("training.yaml", Array(try TrainingConfig().yaml().utf8)),
        ("synthetic.yaml", Array(try SyntheticConfig().yaml().utf8)),
        (
            "dlc-config.yaml",
            Array(
                "Task: mouse\nscorer: ana\ndate: Oct30\nbodyparts:\n- nose\n- tail\nskeleton:\n- [nose, tail]\nTrainingFraction:\n- 0.95\npcutoff: 0.4\n"
                    .utf8)
        ),
    ]
}) { bytes in
    let url = input.write(bytes)
    _ = try? PoseProject.load(configPath: url.path)
    _ = try? DwiseNeuroConfig.load(yaml: url)
    _ = try? TrainingConfig.load(yaml: url)
    _ = try? SyntheticConfig.load(yaml: url)
}
