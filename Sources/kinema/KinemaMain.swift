import KinemaCLI
#if canImport(Glibc)
import CMalloc
#endif

/// The `kinema` executable: everything lives in KinemaCLI so that it can be tested as a library.
@main
enum KinemaMain {
    static func main() async {
        IdleThreads.adoptPolicyChosenAtStart()
        #if canImport(Glibc)
        // libtorch allocates every activation and gradient with malloc, many of them tens of MB (a U-Net
        // batch at 128² has 33 MB maps). glibc serves blocks that big with mmap and unmaps them on free,
        // so every forward pass page-faults and zeroes its whole working set again (12 % of all CPU time
        // in `kinema bench predict`). Served from the heap and kept there, they are reused instead; the
        // heap stays at the job's high-water mark, which is what a batch job needs anyway.
        _ = mallopt(M_MMAP_MAX, 0)
        _ = mallopt(M_TRIM_THRESHOLD, 1 << 30)
        _ = mallopt(M_TOP_PAD, 64 << 20)
        #endif
        await Kinema.main()
    }
}
