import CFFmpeg

// MARK: - Frame index
// Built once on open by demuxing every packet of the video stream (no decoding). Sorting the
// packets by presentation timestamp gives each frame its index, which makes the frame count exact
// and lets random access seek to the right keyframe and decode forward to the exact timestamp,
// also when B-frames reorder pictures and GOPs are long.

/// Where each frame of a video stream sits, in presentation order. Immutable and Sendable, so
/// several readers of one file (parallel workers) can share it.
struct FrameIndex: Sendable {
    /// Presentation timestamps in stream time base, ascending; frame `i` has `pts[i]`.
    var pts: [Int64] = []
    /// Decode timestamps of the same frames (equal to `pts` where the container has none).
    var dts: [Int64] = []
    /// For frame `i`, the index of the keyframe with the largest pts at or before `pts[i]`.
    var keyframeBefore: [Int] = []
    /// Number of keyframes.
    var keyframeCount = 0
    /// True when decode order differs from presentation order (B-frames).
    var hasReorderedFrames = false
    /// False when the stream carries no timestamps; random access then decodes from the start.
    var hasTimestamps = true
    /// True when I/P-frame timestamps were rebuilt from the B-frame pattern (AVI); the reader
    /// checks them against the decoder on open and counts frames instead if they disagree.
    var reconstructedTimestamps = false
    /// Set when the file ends early or a packet read failed.
    var damage: String? = nil
    /// Packets the container promised but the file does not hold (truncated files).
    var expectedFrameCount: Int? = nil

    var count: Int { pts.count }

    /// The frame whose pts is `pts` (binary search), or `nil` for a picture outside the index.
    func frameIndex(ofPTS pts: Int64) -> Int? {
        var low = 0, high = self.pts.count
        while low < high {
            let middle = (low + high) / 2
            if self.pts[middle] < pts { low = middle + 1 } else { high = middle }
        }
        return low < self.pts.count && self.pts[low] == pts ? low : nil
    }

    /// Smallest timestamp to seek to for the start of the stream.
    var firstDTS: Int64 { dts.min() ?? 0 }

    /// Demuxes every packet of stream `stream` from the current position of `format`.
    /// - Parameter reorderDelay: the stream's `video_delay` (frames the decoder holds back for B-frames).
    static func build(
        format: UnsafeMutablePointer<AVFormatContext>, stream: Int32, containerFrameCount: Int,
        reorderDelay: Int, allowReconstruction: Bool = true, path: String
    ) throws -> FrameIndex {
        let packet = try PacketHandle(path: path)
        let noPTS = AVCode.noPTS
        var entries: [(pts: Int64, dts: Int64, key: Bool)] = []
        var lacksPTS: [Bool] = []
        var damage: String? = nil
        var partialDTS: Int64? = nil
        var missingPTS = 0, presentPTS = 0, missingBoth = false
        while true {
            let read = av_read_frame(format, packet.pointer)
            if read < 0 {
                if read != AVCode.eof { damage = "reading packet \(entries.count + 1) failed: \(ffmpegErrorText(read))" }
                break
            }
            defer { av_packet_unref(packet.pointer) }
            let p = packet.pointer.pointee
            guard p.stream_index == stream else { continue }
            if p.flags & AV_PKT_FLAG_DISCARD != 0 { continue }  // outside the edit list: never shown
            if p.flags & AV_PKT_FLAG_CORRUPT != 0 {
                // A packet cut short by the end of the file.
                damage = "packet \(entries.count + 1) is cut short by the end of the file"
                partialDTS = p.dts != noPTS ? p.dts : p.pts
                continue
            }
            if p.pts == noPTS { missingPTS += 1 } else { presentPTS += 1 }
            let pts = p.pts != noPTS ? p.pts : p.dts
            let dts = p.dts != noPTS ? p.dts : pts
            if pts == noPTS { missingBoth = true }  // neither timestamp: nothing to order by
            entries.append((pts, dts, p.flags & AV_PKT_FLAG_KEY != 0))
            lacksPTS.append(p.pts == noPTS)
        }

        var index = FrameIndex()
        // Without presentation timestamps, decode timestamps order the frames only when nothing is
        // reordered. AVI with B-frames (DivX/Xvid) has pts on B-frames only: there, and where no
        // timestamps exist at all, frames are counted as the decoder puts them out (from the start).
        let reordered = presentPTS > 0 || reorderDelay > 0
        if allowReconstruction, !missingBoth, missingPTS > 0, presentPTS > 0,
            let rebuilt = rebuildReferenceTimestamps(entries, lacksPTS: lacksPTS)
        {
            entries = rebuilt
            index.reconstructedTimestamps = true
        } else if missingBoth || (missingPTS > 0 && reordered) {
            index.hasTimestamps = false
            index.hasReorderedFrames = reordered
            for (i, entry) in entries.enumerated() {
                entries[i] = (Int64(i), Int64(i), entry.key)
            }
        }
        if let damage {
            // Frames whose pts lies before the first missing packet's dts are all present: every
            // missing packet comes later in decode order, so its pts is at least that dts.
            let bound = !index.hasTimestamps ? Int64(entries.count) : partialDTS ?? ((entries.map(\.dts).max() ?? -1) + 1)
            let kept = entries.filter { $0.pts < bound }
            index.damage = damage
            index.expectedFrameCount = containerFrameCount > entries.count ? containerFrameCount : nil
            entries = kept
        }

        if index.hasTimestamps && Set(entries.map(\.pts)).count != entries.count {
            // Repeated timestamps (broken muxers): fall back to counting frames from the start.
            index.hasTimestamps = false
            for (i, entry) in entries.enumerated() { entries[i] = (Int64(i), Int64(i), entry.key) }
        }
        let decodeOrderPTS = entries.map(\.pts)
        entries.sort { $0.pts < $1.pts }
        index.hasReorderedFrames = index.hasReorderedFrames || decodeOrderPTS != entries.map(\.pts)
        index.pts = entries.map(\.pts)
        index.dts = entries.map(\.dts)
        var lastKey = 0
        index.keyframeBefore.reserveCapacity(entries.count)
        for (i, entry) in entries.enumerated() {
            if entry.key { lastKey = i; index.keyframeCount += 1 }
            index.keyframeBefore.append(lastKey)
        }
        return index
    }

    /// The MPEG rule for streams with one frame of reordering and pts on B-frames only (AVI): an
    /// I- or P-frame is shown when the next I/P frame is decoded, so its pts is that frame's dts.
    /// `nil` when the result is not a set of distinct timestamps.
    private static func rebuildReferenceTimestamps(
        _ entries: [(pts: Int64, dts: Int64, key: Bool)],
        lacksPTS: [Bool]
    ) -> [(pts: Int64, dts: Int64, key: Bool)]? {
        var rebuilt = entries
        var pendingReference: Int? = nil
        for i in entries.indices where lacksPTS[i] {
            if let previous = pendingReference { rebuilt[previous].pts = entries[i].dts }
            pendingReference = i
        }
        if let last = pendingReference { rebuilt[last].pts = (entries.map(\.dts).max() ?? 0) + 1 }
        guard Set(rebuilt.map(\.pts)).count == rebuilt.count else { return nil }
        return rebuilt
    }
}
