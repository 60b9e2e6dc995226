// The model folder's layout (Lightning Pose's names) and the names prediction writes.
import Foundation
import PoseData
import Testing

@Suite struct ModelDirectoryTests {
    @Test func layoutHasLightningPoseNames() {
        let folder = ModelDirectory("/m/run")
        #expect(folder.config == "/m/run/config.yaml")
        #expect(folder.checkpoints == "/m/run/checkpoints")
        #expect(folder.bestCheckpoint == "/m/run/checkpoints/best.safetensors")
        #expect(folder.lastCheckpoint == "/m/run/checkpoints/last.safetensors")
        #expect(folder.metrics == "/m/run/metrics.csv")
        #expect(folder.trainStatus == "/m/run/train_status.json")
        #expect(folder.predictions == "/m/run/predictions.csv")
        #expect(folder.predictionErrors == "/m/run/predictions_pixel_error.csv")
        #expect(folder.videoPredictions == "/m/run/video_preds")
        #expect(folder.file("CollectedData.csv") == "/m/run/CollectedData.csv")
    }

    @Test func predictionOutputNames() {
        let out = PredictionOutputs("/m/run/video_preds")
        #expect(PredictionOutputs.stem(of: "/data/videos/test_vid.mp4") == "test_vid")
        #expect(out.keypoints(video: "/data/videos/test_vid.mp4") == "/m/run/video_preds/test_vid.csv")
        #expect(
            out.keypoints(video: "a/b.c.avi", dlcScorer: "DLC_Unet_t2024shuffle1_snapshot_best-5")
                == "/m/run/video_preds/b.cDLC_Unet_t2024shuffle1_snapshot_best-5.csv")
        #expect(out.temporalNorm(video: "x/test_vid.mp4") == "/m/run/video_preds/test_vid_temporal_norm.csv")
        #expect(out.labeledVideo(video: "x/test_vid.mp4") == "/m/run/video_preds/labeled_videos/test_vid_labeled.mp4")
        #expect(out.imagePredictions(folder: "/data/frames/") == "/m/run/video_preds/frames/predictions.csv")
    }

    /// `train_status.json` as LP writes it, read back as JSON.
    @Test func trainStatusRoundTrip() throws {
        let folder = ModelDirectory(try temporaryDirectory("status"))
        #expect(folder.checkpointForPrediction() == nil)
        folder.writeTrainStatus("EVALUATING", completed: 7, total: 10, date: Date(timeIntervalSince1970: 1_700_000_000))
        let data = try Data(contentsOf: URL(fileURLWithPath: folder.trainStatus))
        let json = try #require(try JSONSerialization.jsonObject(with: data) as? [String: Any])
        #expect(json["status"] as? String == "EVALUATING")
        let progress = try #require(json["progress"] as? [String: Any])
        #expect(progress["completed"] as? Int == 7 && progress["total"] as? Int == 10)
        #expect(progress["timestamp"] as? Int == 1_700_000_000)
        // Prediction loads `best`, else `last`.
        try FileManager.default.createDirectory(atPath: folder.checkpoints, withIntermediateDirectories: true)
        #expect(FileManager.default.createFile(atPath: folder.lastCheckpoint, contents: Data()))
        #expect(folder.checkpointForPrediction() == folder.lastCheckpoint)
        #expect(FileManager.default.createFile(atPath: folder.bestCheckpoint, contents: Data()))
        #expect(folder.checkpointForPrediction() == folder.bestCheckpoint)
    }
}
