import SmoothCLI
#if canImport(Glibc)
import CMalloc
#endif

/// `kinema-smooth`: the same commands as `kinema smooth`, in an executable that does not load libtorch or FFmpeg,
/// for scripts that smooth thousands of files (each process starts in milliseconds).
@main
enum KinemaSmoothMain {
    static func main() async {
        #if canImport(Glibc)
        // A job allocates and frees a few MB-sized buffers (file bytes, tables, output chunks). By default glibc
        // serves each from fresh mmap'd pages and unmaps it on free, so every buffer page-faults again; keeping them
        // in the heap lets later buffers reuse faulted-in pages (~20 % fewer page faults, ~6 % less wall time per job).
        _ = mallopt(M_MMAP_THRESHOLD, 32 << 20)
        _ = mallopt(M_TRIM_THRESHOLD, 1 << 30)
        _ = mallopt(M_TOP_PAD, 64 << 20)
        #endif
        await Smooth.main()
    }
}
