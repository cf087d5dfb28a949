import Glibc
import StalwartData
import StalwartReport
import StalwartStore
import StalwartTensor

/// Writes a database's report files (HTML, and JSON/CSV when paths are given), atomically.
public enum ReportFiles {
    public static let defaultTitle = "Stalwart robustness report"

    public static func write(database: String, html: String, json: String?, csv: String?, title: String = defaultTitle) throws {
        guard FileSystem.exists(database) else { throw StalwartError.io("no results database at '\(database)'") }
        let store = try ResultStore(path: database, version: Evaluator.version)
        let input = try ReportBuilder.input(from: store, title: title, generated: utcTimestamp())
        try FileSystem.writeFileAtomically(html, Array(Report.html(input).utf8))
        if let json { try FileSystem.writeFileAtomically(json, Array(Report.json(input).utf8)) }
        if let csv { try FileSystem.writeFileAtomically(csv, Array(Report.csv(input).utf8)) }
    }
}
