import KinemaCLI

/// The `kinema` executable: everything lives in KinemaCLI so that it can be tested as a library.
@main
enum KinemaMain {
    static func main() async {
        await Kinema.main()
    }
}
