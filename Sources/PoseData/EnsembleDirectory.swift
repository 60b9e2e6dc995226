// The layout of an ensemble folder written by `kinema train --ensemble N` (Lightning Pose's procedure, §7.1:
// models identical except for the data seed), in one place, beside `ModelDirectory`.
import ConfigDecoding
import Foundation
import KinemaFiles

/// An ensemble folder: N ordinary model folders that differ only in `training.rng_seed_data_pt`.
///
/// ```
/// <path>/ensemble.yaml        the members, their data seeds and the config they were trained from
/// <path>/config.yaml          that config (with the command line's overrides; member 0's data seed)
/// <path>/member-0 … member-(N-1)/   each a model folder (`ModelDirectory`) that `kinema predict` accepts alone
/// <path>/video_preds/         default output folder of `kinema predict ENSEMBLE`
/// ```
/// Only paths and the manifest: nothing is created by building one.
public struct EnsembleDirectory: Sendable, Equatable {
    /// The folder itself, as given.
    public let path: String

    public init(_ path: String) { self.path = path }

    public static let manifestName = "ensemble.yaml"

    /// `<path>/ensemble.yaml`.
    public var manifest: String { path + "/" + Self.manifestName }
    /// The config the members were trained from.
    public var config: String { path + "/config.yaml" }
    /// Where `kinema predict ENSEMBLE` writes when no output folder is given.
    public var videoPredictions: String { path + "/video_preds" }

    /// Member `index`'s folder name, `member-<index>`.
    public static func memberName(_ index: Int) -> String { "member-\(index)" }
    /// Member `index`'s model folder.
    public func member(_ index: Int) -> ModelDirectory { ModelDirectory(path + "/" + Self.memberName(index)) }

    /// Whether `path` is an ensemble folder (it holds `ensemble.yaml`), as opposed to a model folder.
    public static func isEnsemble(_ path: String) -> Bool {
        FileManager.default.fileExists(atPath: EnsembleDirectory(path).manifest)
    }

    /// The data seed of each member: the config's `rng_seed_data_pt` plus the member's index (LP's sweeps use
    /// 0, 1, 2 with the default seed 0), so member 0 is the model a plain `kinema train` of the config gives.
    public static func dataSeeds(base: Int, members: Int) -> [Int] { (0..<members).map { base + $0 } }

    // MARK: - ensemble.yaml

    /// `ensemble.yaml`: what the ensemble is, read back strictly (unknown key → closest valid key).
    public struct Manifest: ConfigSection, Sendable, Equatable {
        /// The config the members were trained from, relative to the ensemble folder.
        public var config = "config.yaml"
        /// The project config given to `kinema train` (absolute), for the record.
        public var sourceConfig = ""
        /// Shared by every member (LP keeps the model seed fixed).
        public var rngSeedModelPt = 0
        public var members: [Member] = []

        public struct Member: ConfigSection, Sendable, Equatable {
            /// Folder name inside the ensemble (`member-<i>`).
            public var folder = ""
            /// The member's `training.rng_seed_data_pt`: its split, labelled-batch order, augmentation and
            /// unlabelled clips.
            public var rngSeedDataPt = 0
            public init() {}
            public init(folder: String, rngSeedDataPt: Int) {
                self.folder = folder
                self.rngSeedDataPt = rngSeedDataPt
            }
        }

        public init() {}

        /// The manifest of `members` members trained from `config` (seeds from `EnsembleDirectory.dataSeeds`).
        public init(members: Int, config: PoseConfig, sourceConfig: String) {
            self.sourceConfig = sourceConfig
            rngSeedModelPt = config.rngSeedModelPt
            self.members = EnsembleDirectory.dataSeeds(base: config.rngSeedDataPt, members: members).enumerated().map {
                Member(folder: EnsembleDirectory.memberName($0.offset), rngSeedDataPt: $0.element)
            }
        }

        public func check(_ c: ConfigChecks) throws {
            try c.require(CodingKeys.members, members.count, "must list at least 2 members") { $0 >= 2 }
            for (i, member) in members.enumerated() where member.folder != EnsembleDirectory.memberName(i) {
                throw c.error(CodingKeys.members, "lists '\(member.folder)' as member \(i); expected \(EnsembleDirectory.memberName(i))")
            }
        }
    }

    /// Writes `ensemble.yaml` in one step.
    public func writeManifest(_ manifest: Manifest) throws {
        let header = "# Written by kinema train --ensemble: members identical except for training.rng_seed_data_pt (LP §7.1).\n"
        do {
            try AtomicFile.write(header + (try manifest.yaml()), to: self.manifest)
        } catch {
            throw PoseDataError(
                file: self.manifest, message: "cannot be written: \(FileProblem.describe(error))", hint: "choose a writable folder")
        }
    }

    /// Reads `ensemble.yaml`; one line naming the file and key when it is missing or wrong.
    public func readManifest() throws -> Manifest {
        guard FileManager.default.fileExists(atPath: manifest) else {
            throw PoseDataError(
                file: path, message: "is not a Kinema ensemble folder (no \(Self.manifestName))",
                hint: "pass the folder `kinema train --ensemble N` wrote")
        }
        return try PoseDataError.converting {
            try ConfigDecoder(file: manifest).decode(Manifest.self, from: try PoseDataError.readYAML(path: manifest))
        }
    }

    /// The `status` a member's `train_status.json` records (`COMPLETED`, `INTERRUPTED`, …), nil when there is none.
    public static func trainStatus(of member: ModelDirectory) -> String? {
        guard let data = FileManager.default.contents(atPath: member.trainStatus),
            let json = try? JSONSerialization.jsonObject(with: data) as? [String: Any]
        else { return nil }
        return json["status"] as? String
    }

    /// The members whose folder holds no trained weights yet (`ModelDirectory.checkpointForPrediction`), with the
    /// reason in words; empty when every member can predict.
    public func unfinishedMembers(_ manifest: Manifest) -> [String] {
        manifest.members.indices.compactMap { i in
            let member = self.member(i)
            var isFolder: ObjCBool = false
            if !FileManager.default.fileExists(atPath: member.path, isDirectory: &isFolder) || !isFolder.boolValue {
                return "\(member.path) is missing"
            }
            if !FileManager.default.fileExists(atPath: member.config) { return "\(member.path) has no config.yaml" }
            return member.checkpointForPrediction() == nil ? "\(member.path) has no trained weights yet" : nil
        }
    }
}
