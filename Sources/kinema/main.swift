import KinemaCLI

await Kinema.main()
