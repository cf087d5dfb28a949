import ArgumentParser

/// `stalwart siscore generate|eval` (issue 8).
struct SIScoreCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "siscore", abstract: "Synthesize SI-Score data and score models per factor.")
}
