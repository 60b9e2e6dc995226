import Foundation
import KinemaFiles
import PoseData
import PoseModels
import Testing

@Suite("Unsupervised-loss config keys (model.losses_to_use, losses.*, callbacks.anneal_weight) and --losses")
struct LossConfigTests {
    /// LP's `losses:` and `callbacks:` blocks as its config_default.yaml writes them.
    static let lpDefaults = """
        model:
          losses_to_use: [pca_multiview, pca_singleview, temporal]
        losses:
          pca_multiview:
            log_weight: 11.0
            components_to_keep: 3
            epsilon: null
          pca_singleview:
            log_weight: 11.0
            components_to_keep: 0.99
            epsilon: null
          temporal:
            log_weight: 11.0
            epsilon: 20.0
            prob_threshold: 0.05
        callbacks:
          anneal_weight:
            attr_name: total_unsupervised_importance
            init_val: 0.0
            increase_factor: 0.01
            final_val: 1.0
            freeze_until_epoch: 60
        """

    func write(_ text: String, _ name: String) throws -> String {
        let path = try temporaryDirectory(name) + "/config.yaml"
        try text.write(toFile: path, atomically: true, encoding: .utf8)
        return path
    }

    @Test func lpDefaultsAreKinemasDefaults() throws {
        let config = try PoseConfig.load(path: try write(Self.lpDefaults, "loss-defaults"))
        #expect(config.losses == PoseConfig.LossesSection())
        #expect(config.callbacks == PoseConfig.CallbacksSection())
        #expect(config.losses.pcaSingleview.componentsToKeep == .fraction(0.99) && config.losses.pcaMultiview.componentsToKeep == .count(3))
        #expect(config.losses.temporal.epsilon == [20] && config.losses.pcaSingleview.epsilon == nil)
        #expect(config.losses.pcaSingleview.empiricalEpsilonPercentile == 99 && config.losses.pcaSingleview.centeringMethod == nil)
    }

    @Test func mirrorMouseExampleConfigParses() throws {
        let config = try PoseConfig.load(path: mirrorMouseConfig())
        #expect(config.losses.pcaMultiview.logWeight == 10.7 && config.losses.pcaSingleview.logWeight == 10.7)
        #expect(config.losses.temporal.epsilon == [20] && config.losses.temporal.probThreshold == 0.05)
        #expect(config.callbacks.annealWeight.freezeUntilEpoch == 0)
        // Its losses_to_use: pose PCA on the 14 keypoints of columns_for_singleview_pca.
        let settings = try UnsupervisedLossSettings(config: config, keypointCount: 17)
        #expect(settings.kinds == [.pcaSingleview] && settings.notes.isEmpty)
        let pca = try #require(settings.pcaSingleview)
        #expect(pca.observation == .pose(keypoints: [0, 1, 2, 3, 4, 5, 6, 8, 9, 10, 11, 12, 13, 14], centering: nil))
        #expect(pca.componentsToKeep == .fraction(0.99) && pca.epsilon == nil && pca.epsilonPercentile == 99)
        #expect(abs(pca.weight - 1 / (2 * exp(10.7))) < 1e-20)
        #expect(settings.anneal == AnnealSchedule(initial: 0, increasePerEpoch: 0.01, final: 1, freezeUntilEpoch: 0))
        // All three losses on the same project.
        var all = config
        all.lossesToUse = ["temporal", "pca_singleview", "pca_multiview"]
        let three = try UnsupervisedLossSettings(config: all, keypointCount: 17)
        #expect(three.kinds == [.temporal, .pcaSingleview, .pcaMultiview])
        #expect(three.temporal?.epsilon == Array(repeating: 20, count: 17))
        #expect(three.pcaMultiview?.observation == .bodyPartInViews([[0, 1, 2, 3, 4, 5, 6], [8, 9, 10, 11, 12, 13, 14]]))
    }

    /// LP's separate-camera example (config_mirror-mouse-example_split.yaml): one list of per-view indices, repeated
    /// for each view; its 17 temporal ε for 14 keypoints are only an error when `temporal` is used.
    @Test func separateCameraKeys() throws {
        let text = """
            data:
              csv_file: [top.csv, bot.csv]
              view_names: [top, bot]
              num_keypoints: 7
              mirrored_column_matches:
                - [0, 1, 2, 3, 4, 5, 6]
              columns_for_singleview_pca: [0, 1, 2, 3, 4, 5, 6]
            model:
              losses_to_use: ["pca_multiview"]
            losses:
              temporal:
                log_weight: 10.7
                epsilon: [12.9, 11.3, 10.5, 12.0, 5.0, 7.3, 0.7, 61.8, 11.2, 9.9, 9.7, 10.1, 4.8, 4.9, 1.0, 19.2, 6.8]
                prob_threshold: 0.05
            """
        let path = try write(text, "loss-split")
        var config = try PoseConfig.load(path: path)
        let settings = try UnsupervisedLossSettings(config: config, keypointCount: 14)
        #expect(settings.pcaMultiview?.observation == .bodyPartInViews([Array(0...6), Array(7...13)]))
        // A flat list means the same.
        #expect(UnsupervisedLossSettings.viewColumns([[0], [2], [5]], views: 2, keypointCount: 14) == [[0, 2, 5], [7, 9, 12]])
        config.lossesToUse = ["temporal"]
        let epsilon = #expect(throws: PoseDataError.self) { try UnsupervisedLossSettings(config: config, keypointCount: 14) }
        #expect(
            epsilon?.description == "\(path): losses.temporal.epsilon has 17 values for 14 keypoints — give one value, or one per keypoint")
        // Seven values (one per keypoint of a view) serve both views.
        config.losses.temporal.epsilon = [1, 2, 3, 4, 5, 6, 7]
        #expect(
            try UnsupervisedLossSettings(config: config, keypointCount: 14).temporal?.epsilon == [1, 2, 3, 4, 5, 6, 7, 1, 2, 3, 4, 5, 6, 7])
        // Pose PCA is one view's: its keypoints index a view's 7, and it is fitted and applied per view.
        config.lossesToUse = ["pca_singleview"]
        let single = try UnsupervisedLossSettings(config: config, keypointCount: 14)
        #expect(single.views == 2 && single.pcaSingleview?.observation == .pose(keypoints: Array(0...6), centering: nil))
        config.columnsForSingleviewPca = [0, 7]
        let outside = #expect(throws: PoseDataError.self) { try UnsupervisedLossSettings(config: config, keypointCount: 14) }
        #expect(
            outside?.description.contains("data.columns_for_singleview_pca names keypoint 7, but the project's keypoints are 0…6") == true)
    }

    /// Bad values: one line, `FILE:LINE: key … found …`.
    @Test(arguments: [
        ("losses:\n  temporal:\n    prob_threshold: 2\n", ":3: losses.temporal.prob_threshold must be in [0, 1], found 2.0"),
        (
            "losses:\n  temporal:\n    epsilon: [3, -1]\n",
            ":3: losses.temporal.epsilon must be one or more pixel distances, each at least 0"
        ),
        ("losses:\n  temporal:\n    epsilonn: 3\n", ":3: unknown key 'losses.temporal.epsilonn'; did you mean 'losses.temporal.epsilon'?"),
        (
            "losses:\n  pca_singleview:\n    components_to_keep: many\n",
            ":3: losses.pca_singleview.components_to_keep: must be a whole number"
        ),
        (
            "losses:\n  pca_singleview:\n    components_to_keep: 1.5\n",
            ":3: losses.pca_singleview.components_to_keep must be a fraction of variance in (0, 1]"
        ),
        (
            "losses:\n  pca_singleview:\n    components_to_keep: 0\n",
            ":3: losses.pca_singleview.components_to_keep must be at least 1 component"
        ),
        (
            "losses:\n  pca_singleview:\n    centering_method: mode\n",
            ":3: losses.pca_singleview.centering_method must be mean, median or null, found 'mode'"
        ),
        ("losses:\n  pca_multiview:\n    epsilon: -2\n", ":3: losses.pca_multiview.epsilon must be a pixel distance at least 0"),
        (
            "losses:\n  pca_multiview:\n    empirical_epsilon_percentile: 101\n",
            ":3: losses.pca_multiview.empirical_epsilon_percentile must be in [0, 100]"
        ),
        ("losses:\n  temporal:\n    log_weight: ten\n", ":3: losses.temporal.log_weight must be a number, found 'ten'"),
        ("model:\n  losses_to_use: [temporl]\n", ":2: model.losses_to_use names 'temporl', which is not a loss; did you mean 'temporal'?"),
        ("model:\n  losses_to_use: [temporal, temporal]\n", ":2: model.losses_to_use names 'temporal' twice"),
        (
            "callbacks:\n  anneal_weight:\n    final_val: -1\n",
            ":3: callbacks.anneal_weight.final_val must be a finite number at least init_val (0.0)"
        ),
        (
            "callbacks:\n  anneal_weight:\n    attr_name: lr\n",
            ":3: callbacks.anneal_weight.attr_name must be total_unsupervised_importance"
        ),
        ("callbacks:\n  early_stop:\n    patience: 3\n", ":2: unknown key 'callbacks.early_stop'"),
    ])
    func badValueIsOneLineNamingTheKey(_ yaml: String, _ expected: String) throws {
        let path = try write(yaml, "loss-bad")
        let error = #expect(throws: PoseDataError.self) { try PoseConfig.load(path: path) }
        let text = error?.description ?? ""
        #expect(text.hasPrefix(path + expected), "\(text)")
        #expect(!text.contains("\n"))
    }

    /// Problems only a project shows (its keypoints, views): one line naming the key, at training time.
    @Test func projectProblemsNameTheKey() throws {
        var config = try PoseConfig.load(path: mirrorMouseConfig())
        let file = config.configFile
        func problem(_ change: (inout PoseConfig) -> Void) -> String {
            var c = config
            change(&c)
            do {
                _ = try UnsupervisedLossSettings(config: c, keypointCount: 17)
                return "no error"
            } catch { return error.description }
        }
        #expect(
            problem { $0.columnsForSingleviewPca = [0, 17] }
                == "\(file): data.columns_for_singleview_pca names keypoint 17, but the project's keypoints are 0…16")
        #expect(problem { $0.columnsForSingleviewPca = [3, 3] } == "\(file): data.columns_for_singleview_pca names keypoint 3 twice")
        #expect(
            problem { $0.losses.pcaSingleview.componentsToKeep = .count(29) }.contains(
                "losses.pca_singleview.components_to_keep is 29, more than the 28 coordinates"))
        #expect(
            problem { $0.lossesToUse = ["temporal_heatmap_mse"] }.hasPrefix(
                "\(file): model.losses_to_use names 'temporal_heatmap_mse', which Kinema does not compute"))
        config.lossesToUse = ["pca_multiview"]
        #expect(problem { $0.mirroredColumnMatches = [] }.hasPrefix("\(file): losses.pca_multiview needs data.mirrored_column_matches"))
        #expect(
            problem { $0.mirroredColumnMatches = [[0, 1], [2]] }.contains(
                "data.mirrored_column_matches must list the same number of keypoints for every view, found [2, 1]"))
        #expect(
            problem { $0.mirroredColumnMatches = [[0, 1], [1, 2]] } == "\(file): data.mirrored_column_matches names keypoint 1 twice")
        #expect(problem { _ in } == "no error")
        var two = config
        two.losses.pcaMultiview.componentsToKeep = .count(2)
        let noted = try UnsupervisedLossSettings(config: two, keypointCount: 17)
        #expect(noted.pcaMultiview?.componentsToKeep == .count(3) && noted.notes.count == 1)
        #expect(noted.notes[0].hasPrefix("losses.pca_multiview.components_to_keep 2 is ignored"))
    }

    /// `components_to_keep: 1.0` (all of the variance) and `1` (one component) survive a write and read.
    @Test func writtenLossKeysReadBackEqual() throws {
        var config = try PoseConfig.load(path: mirrorMouseConfig())
        config.losses.pcaSingleview.componentsToKeep = .fraction(1.0)
        config.losses.pcaMultiview.componentsToKeep = .count(1)
        config.losses.temporal.epsilon = [4, 5.5]
        config.losses.pcaSingleview.centeringMethod = "median"
        config.callbacks.annealWeight.freezeUntilEpoch = 7
        let path = try temporaryDirectory("loss-roundtrip") + "/config.yaml"
        try AtomicFile.write(config.yamlText(), to: path)
        let again = try PoseConfig.load(path: path)
        #expect(again.losses == config.losses && again.callbacks == config.callbacks)
        #expect(again.losses.pcaSingleview.componentsToKeep == .fraction(1.0) && again.losses.pcaMultiview.componentsToKeep == .count(1))
    }

    @Test func commandLineLossList() throws {
        #expect(try UnsupervisedLossSettings.parseLossList("temporal,pca_singleview") == ["temporal", "pca_singleview"])
        #expect(try UnsupervisedLossSettings.parseLossList(" Temporal , pca-multiview ") == ["temporal", "pca_multiview"])
        #expect(try UnsupervisedLossSettings.parseLossList("none") == [])
        let cases = [
            (
                "temporl",
                "--losses: names 'temporl', which is not a loss; did you mean 'temporal'? (the losses are temporal, pca_singleview, pca_multiview)"
            ),
            ("temporal,temporal", "--losses: names 'temporal' twice"),
            ("temporal_heatmap_mse", "--losses: names 'temporal_heatmap_mse', which is not a loss"),
            (" , ", "--losses: names no loss — give temporal, pca_singleview, pca_multiview or none"),
        ]
        for (text, expected) in cases {
            let error = #expect(throws: PoseDataError.self) { try UnsupervisedLossSettings.parseLossList(text) }
            #expect(error?.description.hasPrefix(expected) == true, "\(error?.description ?? "")")
        }
    }

    /// The unlabelled clip length comes from LP's `dali` keys (the mirror-mouse config: 16 frames, 6 for the context
    /// model), else LP's defaults (32, 16); `TrainOptions.unlabeledClipLength` overrides both; a bad value is one line.
    @Test func clipLengthFromDaliKeys() throws {
        var config = try PoseConfig.load(path: mirrorMouseConfig())
        let options = TrainOptions(modelDir: "unused")
        #expect(try config.daliClipLength() == 16 && options.clipLength(for: config) == 16)
        config.modelType = "heatmap_mhcrnn"
        #expect(try config.daliClipLength() == 6 && options.clipLength(for: config) == 6)
        var chosen = options
        chosen.unlabeledClipLength = 8
        #expect(try chosen.clipLength(for: config) == 8)

        let defaults = try PoseConfig.load(path: try write(Self.lpDefaults, "dali-none"))
        #expect(try defaults.daliClipLength() == nil && options.clipLength(for: defaults) == 32)
        var context = defaults
        context.modelType = "heatmap_mhcrnn"
        #expect(try options.clipLength(for: context) == 16)

        let bad = try PoseConfig.load(
            path: try write(Self.lpDefaults + "\ndali:\n  base:\n    train:\n      sequence_length: 1\n", "dali-bad"))
        let error = #expect(throws: PoseDataError.self) { try options.clipLength(for: bad) }
        #expect(
            error?.message == "dali.base.train.sequence_length must be a whole number of frames, at least 2", "\(error?.description ?? "")")
    }
}
