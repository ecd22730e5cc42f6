import DriftlessCLI

DriftlessCommand.main()
