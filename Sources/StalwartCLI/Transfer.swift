import ArgumentParser

/// `stalwart embed` (issue 9).
struct Embed: ParsableCommand {
    static let configuration = CommandConfiguration(abstract: "Write a model's features for a folder of images.")
}

/// `stalwart transfer` (issue 9).
struct TransferCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "transfer", abstract: "Few-shot and linear-probe transfer of a model's features.")
}

/// `stalwart study` (issue 9).
struct Study: ParsableCommand {
    static let configuration = CommandConfiguration(abstract: "Correlate robustness with transfer across models.")
}
