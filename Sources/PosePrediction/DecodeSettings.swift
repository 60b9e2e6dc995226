// How prediction decodes a video: which schedule (`ahead` or `between`), FFmpeg threads, read-ahead
// and the decode thread's priority (defaults measured in docs/arch/pose.md).
import Foundation
import Torch

/// When frames are decoded relative to the network (measured in docs/arch/pose.md).
public enum DecodeSchedule: String, Sendable, CaseIterable {
    /// `between` when libtorch's threads fill every core (a CPU-only run), else `ahead`.
    case automatic = "auto"
    /// One background thread decodes a few batches ahead of the network (`FrameBatchPipeline`): best
    /// when a core is free for it (the network on a GPU, or fewer libtorch threads than cores).
    case ahead
    /// Each batch is decoded just before its network pass, on libtorch's own threads, each working
    /// through its own part of the video (`SegmentedFrameDecoder`): best when the network uses every
    /// core, where a decode thread could only take a core from libtorch in the middle of a parallel region.
    case between

    /// The schedule `automatic` stands for with the current libtorch thread count (pose models run on the CPU).
    public var resolved: DecodeSchedule {
        guard self == .automatic else { return self }
        return Runtime.threads >= ProcessInfo.processInfo.activeProcessorCount ? .between : .ahead
    }
}

/// How the decoding side of video prediction runs (defaults measured in docs/arch/pose.md).
public struct DecodeSettings: Sendable, Equatable {
    /// When frames are decoded relative to the network.
    public var schedule: DecodeSchedule = .automatic
    /// `between` schedule: also decode on an idle-priority thread while the network runs.
    public var fillGaps = true
    /// FFmpeg decoder threads; 1 keeps FFmpeg's own frame threads from competing with libtorch's.
    public var decoderThreads = 1
    /// Batches decoded and resized ahead of the network (`ahead` schedule).
    public var batchesAhead = 2
    /// Scheduling of the decode thread (`ahead` schedule). `.normal`: on a busy shared machine a niced decoder lost its
    /// turn to other processes (measured in docs/arch/pose.md); the others are kept for experiments.
    public var priority: DecodePriority = .normal

    public init() {}
}

/// Linux scheduling of the decode thread.
public enum DecodePriority: String, Sendable, CaseIterable {
    /// Same as the rest of the process.
    case normal
    /// `nice +10` for this thread only: libtorch's threads win when both want a core.
    case background
    /// `SCHED_IDLE`: runs only on otherwise idle cores.
    case idle
}
