import ArgumentParser

struct ValidateCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "validate", abstract: "Check the blueprints statically and report every error at once.")
    @OptionGroup var source: SourceOptions
    @OptionGroup var logging: LoggingOptions
    @Option(help: "human or json.") var format: OutputFormat = .human
    func run() throws { try notImplemented("validate") }
}
