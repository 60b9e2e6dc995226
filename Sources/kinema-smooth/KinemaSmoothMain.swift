// `kinema-smooth`: the same commands as `kinema smooth`, in an executable that does not load libtorch or
// FFmpeg, for scripts that smooth thousands of files (each process starts in milliseconds).
import ProcessPolicy
import SmoothCLI

@main
enum KinemaSmoothMain {
    static func main() async {
        ProcessPolicy.Allocator.shortJobs.apply()  // see `ProcessPolicy.Allocator` for why
        await KinemaSmooth.main()
    }
}
