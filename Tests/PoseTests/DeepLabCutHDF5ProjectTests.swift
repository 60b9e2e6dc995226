import Foundation
// A DeepLabCut project whose labels exist only as CollectedData_<scorer>.h5 (what DLC itself reads).
import KinemaTestSupport
import PoseData
import PoseFormats
import Testing

@Test func deepLabCutProjectWithOnlyHDF5LabelsLoads() throws {
    // The pandas-written fixture (scripts/dev/make-dlc-h5-fixtures.py): scorer Ana, 5 images in trial1/trial2.
    let fixtures = TestFiles.fixtures("PoseFormatsTests")
    let reference = try PoseTable.read(from: fixtures.appendingPathComponent("dlc-labels-3level.csv"))
    let dir = try temporaryDirectory("dlc-h5")
    for key in reference.rowKeys {
        let folder = (dir + "/" + key as NSString).deletingLastPathComponent
        try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
        try HostImage(width: 641, height: 641).write(to: dir + "/" + key)  // labels lie in [0, 640)
    }
    try FileManager.default.copyItem(
        atPath: fixtures.appendingPathComponent("dlc-labels-3level.h5").path,
        toPath: dir + "/labeled-data/trial1/CollectedData_Ana.h5")
    try "Task: mouse\nscorer: Ana\ndate: Oct30\nbodyparts:\n- snout\n- leftear\n- rightear\n- tailbase\nTrainingFraction:\n- 0.95\n"
        .write(toFile: dir + "/config.yaml", atomically: true, encoding: .utf8)

    let project = try PoseProject.load(configPath: dir + "/config.yaml")
    #expect(project.labelFiles == [dir + "/labeled-data/trial1/CollectedData_Ana.h5"])
    let data = try LabeledDataset.load(project: project)
    #expect(data.count == 5)
    for (r, frame) in data.frames.enumerated() {
        #expect(frame.key == reference.rowKeys[r])
        let expected = Array(reference.values[(r * 8)..<((r + 1) * 8)])
        #expect(zip(frame.keypoints, expected).allSatisfy { $0 == $1 || ($0.isNaN && $1.isNaN) })
    }
}
