import SmoothCLI

/// `kinema-smooth`: the same commands as `kinema smooth`, in an executable that does not load libtorch or FFmpeg,
/// for scripts that smooth thousands of files (each process starts in milliseconds).
@main
enum KinemaSmoothMain {
    static func main() async {
        await Smooth.main()
    }
}
