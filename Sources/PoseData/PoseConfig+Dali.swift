// The one part of LP's free-form `dali:` section that Kinema reads: how long the unlabelled clips of semi-supervised
// training are. LP reads `dali.base.train.sequence_length` for heatmap models and `dali.context.train.batch_size` for
// the context model (each clip then gives batch_size − 4 centre frames); the other `dali` keys configure NVIDIA DALI's
// decoding, which Kinema does with FFmpeg, and are kept as written.
import ConfigDecoding

extension PoseConfig {
    /// The key that sets this model's unlabelled clip length.
    public var daliClipLengthKey: [String] {
        isContextModel ? ["dali", "context", "train", "batch_size"] : ["dali", "base", "train", "sequence_length"]
    }

    /// The unlabelled clip length the config sets (`daliClipLengthKey`), nil when it sets none.
    /// - Throws: one line naming the key when its value is not a whole number of at least 2 frames (5 for the
    ///   context model, whose clips lose two frames at each end).
    public func daliClipLength() throws -> Int? {
        var value = dali
        for key in daliClipLengthKey.dropFirst() {
            guard case .map(let keys, let values) = value, let i = keys.firstIndex(of: key) else { return nil }
            value = values[i]
        }
        guard let value, value != .null else { return nil }
        let least = isContextModel ? 5 : 2
        guard case .scalar(let text, _) = value, let length = Int(text), length >= least else {
            throw PoseDataError(
                file: configFile.isEmpty ? "config" : configFile,
                message: "\(daliClipLengthKey.joined(separator: ".")) must be a whole number of frames, at least \(least)",
                hint: "it is the length of the unlabelled clips of semi-supervised training (LP: 32, 16 for the context model)")
        }
        return length
    }
}
