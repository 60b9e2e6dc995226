// glibc allocator tuning for Kinema's two executables (measured reasons below).
#if canImport(Glibc)
import CMalloc
#endif

extension ProcessPolicy {
    /// How glibc's malloc keeps freed memory; apply one, first thing in `main`, before large allocations.
    public enum Allocator: Sendable {
        /// `kinema`: libtorch allocates every activation and gradient with malloc, many of them tens of MB
        /// (a U-Net batch at 128² has 33 MB maps). glibc serves blocks that big with mmap and unmaps them on
        /// free, so every forward pass page-faults and zeroes its whole working set again (12 % of all CPU
        /// time in `kinema bench predict`; predicting test_vid.mp4: 761 k → 44 k page faults, 1.8 → 0.16 s
        /// system time). Served from the heap and kept there, they are reused instead; the heap stays at the
        /// job's high-water mark, which is what a batch job needs anyway.
        case tensorWorkloads
        /// `kinema-smooth`: a job allocates and frees a few MB-sized buffers (file bytes, tables, output
        /// chunks). By default glibc serves each from fresh mmap'd pages and unmaps it on free, so every
        /// buffer page-faults again; keeping them in the heap lets later buffers reuse faulted-in pages
        /// (~20 % fewer page faults, ~6 % less wall time per job).
        case shortJobs

        /// Sets glibc's thresholds (no effect off glibc).
        public func apply() {
            #if canImport(Glibc)
            switch self {
            case .tensorWorkloads:
                _ = mallopt(M_MMAP_MAX, 0)
            case .shortJobs:
                _ = mallopt(M_MMAP_THRESHOLD, 32 << 20)
            }
            _ = mallopt(M_TRIM_THRESHOLD, 1 << 30)
            _ = mallopt(M_TOP_PAD, 64 << 20)
            #endif
        }
    }
}
