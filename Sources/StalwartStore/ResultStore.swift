// The SQLite results database of `stalwart eval`.
//
// Crash safety: every write is one transaction. The connection runs in WAL mode with
// synchronous=NORMAL: a WAL commit appends the transaction's pages and a commit frame to the
// -wal file with a single write sequence, and readers/recovery only honour frames up to the last
// complete commit frame (checksummed). Killing the process (kill -9) at any instant therefore
// leaves either the whole transaction or none of it — the OS page cache survives process death,
// so no fsync is needed for that. With NORMAL the WAL is not fsynced at each commit, so a power
// loss or OS crash may lose the most recent transactions, but never corrupts the database (the
// WAL is fsynced before every checkpoint). `stalwart eval` resumes from whatever was committed.
import CSQLite
import StalwartTensor

/// A results database (one SQLite file, plus its -wal/-shm while open).
///
/// Thread-safety: not thread-safe. A `ResultStore` must be used by one thread at a time (it may
/// move between threads). Several processes may open the same file; writers serialize on the
/// database lock and wait up to 5 s (busy timeout) before failing with `.io`.
public final class ResultStore {
    /// The schema version this Stalwart reads and writes.
    public static let schemaVersion = 1

    /// The database file path as given.
    public let path: String
    let db: SQLiteDatabase

    /// Opens the database at `path`, creating it (and its tables) when absent.
    /// - Parameter version: the Stalwart version string, recorded as `meta.created_by` on creation.
    /// - Throws: `.unsupported` when the file was written by a newer schema version, `.io` when the
    ///   file cannot be opened or is not an SQLite database, `.invalidArgument` when it is an
    ///   SQLite database but not a Stalwart results database.
    public init(path: String, version: String) throws {
        guard !path.isEmpty else {
            throw StalwartError.invalidArgument("results database path is empty")
        }
        self.path = path
        db = try SQLiteDatabase(path: path, flags: SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE)
        sqlite3_busy_timeout(db.handle, 5000)
        try db.exec("PRAGMA foreign_keys = ON", "enable foreign keys")
        // Validate before changing anything (switching to WAL rewrites the file header).
        try Self.checkSchema(db, allowEmpty: true)
        // See the file comment for why WAL + synchronous=NORMAL is enough for kill -9. If the
        // file system cannot do WAL, SQLite keeps the rollback journal, which is also atomic
        // with respect to process death.
        _ = try db.with("PRAGMA journal_mode = WAL", "enable WAL journal") { try $0.step() }
        try db.exec("PRAGMA synchronous = NORMAL", "set synchronous=NORMAL")
        try db.transaction("create schema") {
            try Self.checkSchema(db, allowEmpty: true)  // another process may have created it meanwhile
            try db.exec(Schema.createSQL, "create tables")
            try db.with("INSERT OR IGNORE INTO meta(key, value) VALUES ('schema_version', ?1)",
                        "record schema version") { s in
                try s.bind(1, String(Schema.version))
                try s.step()
            }
            try db.with("INSERT OR IGNORE INTO meta(key, value) VALUES ('created_by', ?1)",
                        "record creating Stalwart version") { s in
                try s.bind(1, version)
                try s.step()
            }
        }
    }

    /// Checks that `db` is empty (when `allowEmpty`) or a Stalwart results database of a
    /// supported schema version.
    static func checkSchema(_ db: SQLiteDatabase, allowEmpty: Bool) throws {
        let (objects, hasMeta) = try db.with(
            "SELECT count(*), coalesce(sum(type = 'table' AND name = 'meta'), 0) FROM sqlite_master",
            "read the schema") { s -> (Int64, Bool) in
            guard try s.step() else { return (0, false) }
            return (s.int64(0), s.int64(1) > 0)
        }
        if objects == 0 && allowEmpty { return }
        guard hasMeta else {
            throw StalwartError.invalidArgument(
                "'\(db.path)' is an SQLite database but not a Stalwart results database (no meta table)")
        }
        let value: String? = try db.with("SELECT value FROM meta WHERE key = 'schema_version'",
                                          "read the schema version") { s in
            try s.step() ? s.text(0) : nil
        }
        guard let value else {  // tables and meta rows are created in one transaction
            throw StalwartError.invalidArgument(
                "results database '\(db.path)' has no schema_version in its meta table")
        }
        guard let v = Int(value), v >= 1 else {
            throw StalwartError.invalidArgument(
                "results database '\(db.path)' has an invalid schema version '\(value)'")
        }
        if v > Schema.version {
            throw StalwartError.unsupported(
                "results database '\(db.path)' has schema version \(v), newer than this Stalwart's \(Schema.version): upgrade Stalwart")
        }
    }

    // MARK: - Keys and validation

    /// The key of one stored item, as returned by `completedItems(run:)`:
    /// "\(corruption)\t\(severity)\t\(sample)".
    public static func itemKey(corruption: String, severity: Int, sample: String) -> String {
        "\(corruption)\t\(severity)\t\(sample)"
    }

    private static let shiftModes: Set<String> = ["none", "on-the-fly", "on-disk"]

    private func describe(_ run: Int64, _ corruption: String, _ severity: Int, _ sample: String) -> String {
        "run \(run), corruption '\(corruption)', severity \(severity), sample '\(sample)'"
    }

    private func validate(_ r: PredictionRow, run: Int64) throws {
        func bad(_ why: String) -> StalwartError {
            .invalidArgument("results database '\(path)': prediction \(describe(run, r.corruption, r.severity, r.sample)): \(why)")
        }
        if r.severity < 0 { throw bad("severity \(r.severity) < 0") }
        if r.corruption == "*" { throw bad("corruption '*' is reserved for run-level aggregates") }
        if r.label < -1 { throw bad("label \(r.label) < -1") }
        if r.rank < -1 { throw bad("rank \(r.rank) < -1") }
        // SQLite stores NaN as NULL: reject it rather than silently changing the value.
        if r.confidence.isNaN || r.sumSquares.isNaN || r.pLabel?.isNaN == true || r.logPLabel?.isNaN == true {
            throw bad("NaN value")
        }
    }

    // MARK: - Models and runs

    /// Inserts the model, or updates `name`/`path` of the model with the same `sha256`.
    /// Returns its id. Throws `.invalidArgument` if the stored model with that hash has a
    /// different `input` or `classes` (the same bytes cannot).
    @discardableResult
    public func upsertModel(_ m: ModelRecord) throws -> Int64 {
        guard m.classes > 0 else {
            throw StalwartError.invalidArgument("model '\(m.name)': classes \(m.classes) must be > 0")
        }
        return try db.transaction("upsert model") { try upsertModelInTransaction(m, updateNames: true) }
    }

    func upsertModelInTransaction(_ m: ModelRecord, updateNames: Bool) throws -> Int64 {
        let existing: (Int64, String, Int)? = try db.with(
            "SELECT id, input, classes FROM models WHERE sha256 = ?1", "look up model by sha256") { s in
            try s.bind(1, m.sha256)
            return try s.step() ? (s.int64(0), s.text(1), s.int(2)) : nil
        }
        if let (id, input, classes) = existing {
            guard input == m.input, classes == m.classes else {
                throw StalwartError.invalidArgument(
                    "results database '\(path)': model \(m.sha256) is stored with input '\(input)' and \(classes) classes, not '\(m.input)' and \(m.classes)")
            }
            if updateNames {
                try db.with("UPDATE models SET name = ?1, path = ?2 WHERE id = ?3", "update model name/path") { s in
                    try s.bind(1, m.name)
                    try s.bind(2, m.path)
                    try s.bind(3, id)
                    try s.step()
                }
            }
            return id
        }
        return try db.with("INSERT INTO models(sha256, name, path, input, classes) VALUES (?1, ?2, ?3, ?4, ?5)",
                           "insert model \(m.sha256)") { s in
            try s.bind(1, m.sha256)
            try s.bind(2, m.name)
            try s.bind(3, m.path)
            try s.bind(4, m.input)
            try s.bind(5, m.classes)
            try s.step()
            return sqlite3_last_insert_rowid(db.handle)
        }
    }

    /// Returns the id of the run with this identity (model, suite, dataRoot, preprocess,
    /// resolution, cropPct, interpolation, seed, shiftMode), updating its `config` and `version`;
    /// inserts it (with `created`, unfinished) when absent.
    /// Throws `.invalidArgument` for an unknown `modelID`, a `shiftMode` other than "none",
    /// "on-disk" or one starting with "on-the-fly" (the runner appends where and how it
    /// corrupts: "on-the-fly input imagecorruptions"), or when the existing run has a different `layout`/`labelSpace`
    /// (its stored labels would be misread).
    @discardableResult
    public func upsertRun(modelID: Int64, _ r: RunRecord, created: String) throws -> Int64 {
        try validate(r)
        return try db.transaction("upsert run") {
            try upsertRunInTransaction(modelID: modelID, r, created: created, finished: nil, updateDescription: true).id
        }
    }

    private func validate(_ r: RunRecord) throws {
        guard Self.shiftModes.contains(r.shiftMode) || r.shiftMode.hasPrefix("on-the-fly") else {
            throw StalwartError.invalidArgument(
                "run shift mode '\(r.shiftMode)' is not 'none', 'on-disk' or 'on-the-fly…'")
        }
        guard r.resolution > 0 else {
            throw StalwartError.invalidArgument("run resolution \(r.resolution) must be > 0")
        }
        guard r.cropPct.isFinite, r.cropPct > 0 else {
            throw StalwartError.invalidArgument("run crop fraction \(r.cropPct) must be finite and > 0")
        }
    }

    private func upsertRunInTransaction(modelID: Int64, _ r: RunRecord, created: String, finished: String?,
                                        updateDescription: Bool) throws -> (id: Int64, inserted: Bool) {
        let existing: (Int64, String, String)? = try db.with("""
            SELECT id, layout, label_space FROM runs
            WHERE model_id = ?1 AND suite = ?2 AND data_root = ?3 AND preprocess = ?4 AND resolution = ?5
              AND crop_pct = ?6 AND interpolation = ?7 AND seed = ?8 AND shift_mode = ?9
            """, "look up run by identity") { s in
            try s.bind(1, modelID)
            try s.bind(2, r.suite)
            try s.bind(3, r.dataRoot)
            try s.bind(4, r.preprocess)
            try s.bind(5, r.resolution)
            try s.bind(6, r.cropPct)
            try s.bind(7, r.interpolation)
            try s.bind(8, Int64(bitPattern: r.seed))
            try s.bind(9, r.shiftMode)
            return try s.step() ? (s.int64(0), s.text(1), s.text(2)) : nil
        }
        if let (id, layout, labelSpace) = existing {
            guard layout == r.layout, labelSpace == r.labelSpace else {
                throw StalwartError.invalidArgument(
                    "results database '\(path)': run \(id) is stored with layout '\(layout)' and label space '\(labelSpace)', not '\(r.layout)' and '\(r.labelSpace)'; use another results database")
            }
            if updateDescription {
                try db.with("UPDATE runs SET config = ?1, stalwart_version = ?2 WHERE id = ?3",
                            "update run config/version") { s in
                    try s.bind(1, r.config)
                    try s.bind(2, r.version)
                    try s.bind(3, id)
                    try s.step()
                }
            }
            return (id, false)
        }
        let id = try db.with("""
            INSERT INTO runs(model_id, suite, data_root, layout, label_space, preprocess, resolution, crop_pct,
                             interpolation, seed, shift_mode, config, stalwart_version, created, finished)
            VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15)
            """, "insert run (model id \(modelID))") { s -> Int64 in
            try s.bind(1, modelID)
            try s.bind(2, r.suite)
            try s.bind(3, r.dataRoot)
            try s.bind(4, r.layout)
            try s.bind(5, r.labelSpace)
            try s.bind(6, r.preprocess)
            try s.bind(7, r.resolution)
            try s.bind(8, r.cropPct)
            try s.bind(9, r.interpolation)
            try s.bind(10, Int64(bitPattern: r.seed))
            try s.bind(11, r.shiftMode)
            try s.bind(12, r.config)
            try s.bind(13, r.version)
            try s.bind(14, created)
            try s.bind(15, finished)
            try s.step()
            return sqlite3_last_insert_rowid(db.handle)
        }
        return (id, true)
    }

    // MARK: - Batches

    /// Keys (`itemKey(corruption:severity:sample:)`) of the predictions already stored for `run`.
    /// Skipped samples are not included (see `skipped(run:)`).
    public func completedItems(run: Int64) throws -> Set<String> {
        try db.with("SELECT corruption, severity, sample FROM predictions WHERE run_id = ?1",
                    "read completed items of run \(run)") { s in
            try s.bind(1, run)
            var keys = Set<String>()
            while try s.step() {
                keys.insert(Self.itemKey(corruption: s.text(0), severity: s.int(1), sample: s.text(2)))
            }
            return keys
        }
    }

    private static let insertPredictionSQL = """
        INSERT INTO predictions(run_id, sample, corruption, severity, label, top1, top5, rank, confidence,
                                p_label, log_p_label, sum_sq, correct1, correct5, params)
        VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15)
        """

    private static let mergePredictionSQL =
        insertPredictionSQL + " ON CONFLICT(run_id, corruption, severity, sample) DO NOTHING"

    private static func bindPrediction(_ s: Statement, run: Int64, _ r: PredictionRow) throws {
        try s.bind(1, run)
        try s.bind(2, r.sample)
        try s.bind(3, r.corruption)
        try s.bind(4, r.severity)
        try s.bind(5, r.label)
        try s.bind(6, r.top1)
        try s.bind(7, r.top5.map(String.init).joined(separator: ","))
        try s.bind(8, r.rank)
        try s.bind(9, r.confidence)
        try s.bind(10, r.pLabel)
        try s.bind(11, r.logPLabel)
        try s.bind(12, r.sumSquares)
        try s.bind(13, r.correct1)
        try s.bind(14, r.correct5)
        try s.bind(15, r.params)
    }

    /// Stores one batch in one atomic transaction: its prediction rows, its skipped samples
    /// (a sample skipped again keeps one entry with the latest reason) and its metric states
    /// (replacing the stored state of the same group and metric). Marks the run unfinished.
    /// If any row's key (corruption, severity, sample) is already stored — or repeated within the
    /// batch — this throws `.invalidArgument` naming it and nothing of the batch is stored.
    /// Throws `.invalidArgument` for an unknown run or invalid values (negative severity, NaN).
    public func commitBatch(run: Int64, rows: [PredictionRow], skipped: [(sample: String, reason: String)],
                            states: [(group: GroupKey, metric: String, state: [UInt8])]) throws {
        for r in rows { try validate(r, run: run) }
        if rows.isEmpty && skipped.isEmpty && states.isEmpty { return }
        try db.transaction("commit batch") {
            try db.with(Self.insertPredictionSQL, "insert prediction") { s in
                for r in rows {
                    s.reset()
                    try Self.bindPrediction(s, run: run, r)
                    do {
                        try s.step()
                    } catch let StalwartError.invalidArgument(m) {
                        throw StalwartError.invalidArgument(
                            "\(m) [\(describe(run, r.corruption, r.severity, r.sample))]; nothing of the batch was stored")
                    }
                }
            }
            try db.with("""
                INSERT INTO skipped(run_id, sample, reason) VALUES (?1, ?2, ?3)
                ON CONFLICT(run_id, sample) DO UPDATE SET reason = excluded.reason
                """, "insert skipped sample") { s in
                for k in skipped {
                    s.reset()
                    try s.bind(1, run)
                    try s.bind(2, k.sample)
                    try s.bind(3, k.reason)
                    try s.step()
                }
            }
            try db.with("""
                INSERT INTO metric_states(run_id, corruption, severity, metric, state) VALUES (?1, ?2, ?3, ?4, ?5)
                ON CONFLICT(run_id, corruption, severity, metric) DO UPDATE SET state = excluded.state
                """, "store metric state") { s in
                for st in states {
                    s.reset()
                    try s.bind(1, run)
                    try s.bind(2, st.group.corruption)
                    try s.bind(3, st.group.severity)
                    try s.bind(4, st.metric)
                    try s.bind(5, blob: st.state)
                    try s.step()
                }
            }
            try db.with("UPDATE runs SET finished = NULL WHERE id = ?1 AND finished IS NOT NULL",
                        "mark run unfinished") { s in
                try s.bind(1, run)
                try s.step()
            }
        }
    }

    /// All metric states of `run`, ordered by corruption, severity, metric.
    public func metricStates(run: Int64) throws -> [(group: GroupKey, metric: String, state: [UInt8])] {
        try db.with("""
            SELECT corruption, severity, metric, state FROM metric_states WHERE run_id = ?1
            ORDER BY corruption, severity, metric
            """, "read metric states of run \(run)") { s in
            try s.bind(1, run)
            var out: [(group: GroupKey, metric: String, state: [UInt8])] = []
            while try s.step() {
                out.append((GroupKey(corruption: s.text(0), severity: s.int(1)), s.text(2), s.blob(3)))
            }
            return out
        }
    }

    // MARK: - Aggregates

    /// In one transaction: deletes the run's aggregates, inserts `values` and sets `runs.finished`
    /// to `finished` (nil keeps the run marked unfinished). Run-level values use `GroupKey.runLevel`
    /// ('*', -1). Throws `.invalidArgument` for an unknown run, a NaN value or a repeated
    /// (group, metric); nothing is changed then.
    public func replaceAggregates(run: Int64, _ values: [Aggregate], finished: String?) throws {
        for a in values where a.value.isNaN {
            throw StalwartError.invalidArgument(
                "results database '\(path)': aggregate '\(a.metric)' of run \(run), group ('\(a.group.corruption)', \(a.group.severity)) is NaN")
        }
        try db.transaction("replace aggregates") {
            try db.with("UPDATE runs SET finished = ?1 WHERE id = ?2", "mark run finished") { s in
                try s.bind(1, finished)
                try s.bind(2, run)
                try s.step()
            }
            guard db.changes == 1 else {
                throw StalwartError.invalidArgument("results database '\(path)': no run with id \(run)")
            }
            try db.with("DELETE FROM aggregates WHERE run_id = ?1", "delete aggregates") { s in
                try s.bind(1, run)
                try s.step()
            }
            try insertAggregates(run: run, values)
        }
    }

    private func insertAggregates(run: Int64, _ values: [Aggregate]) throws {
        try db.with("""
            INSERT INTO aggregates(run_id, corruption, severity, metric, value, count) VALUES (?1, ?2, ?3, ?4, ?5, ?6)
            """, "insert aggregate") { s in
            for a in values {
                s.reset()
                try s.bind(1, run)
                try s.bind(2, a.group.corruption)
                try s.bind(3, a.group.severity)
                try s.bind(4, a.metric)
                try s.bind(5, a.value)
                try s.bind(6, a.count)
                try s.step()
            }
        }
    }

    /// The run's aggregates, ordered by corruption, severity, metric.
    public func aggregates(run: Int64) throws -> [Aggregate] {
        try db.with("""
            SELECT corruption, severity, metric, value, count FROM aggregates WHERE run_id = ?1
            ORDER BY corruption, severity, metric
            """, "read aggregates of run \(run)") { s in
            try s.bind(1, run)
            var out: [Aggregate] = []
            while try s.step() {
                out.append(Aggregate(group: GroupKey(corruption: s.text(0), severity: s.int(1)),
                                     metric: s.text(2), value: s.double(3), count: s.int(4)))
            }
            return out
        }
    }

    // MARK: - Reading

    private static let predictionColumns = """
        sample, corruption, severity, label, top1, top5, rank, confidence, p_label, log_p_label, sum_sq,
        correct1, correct5, params
        """

    /// Decodes the `predictionColumns` starting at column `c`.
    private func readPrediction(_ s: Statement, at c: Int32, run: Int64) throws -> PredictionRow {
        let sample = s.text(c), corruption = s.text(c + 1), severity = s.int(c + 2)
        let top5Text = s.text(c + 5)
        var top5: [Int] = []
        if !top5Text.isEmpty {
            for part in top5Text.split(separator: ",", omittingEmptySubsequences: false) {
                guard let v = Int(part) else {
                    throw StalwartError.io(
                        "results database '\(path)': prediction \(describe(run, corruption, severity, sample)) has a malformed top5 '\(top5Text)'")
                }
                top5.append(v)
            }
        }
        return PredictionRow(
            sample: sample, corruption: corruption, severity: severity, label: s.int(c + 3), top1: s.int(c + 4),
            top5: top5, rank: s.int(c + 6), confidence: s.double(c + 7), pLabel: s.optionalDouble(c + 8),
            logPLabel: s.optionalDouble(c + 9), sumSquares: s.double(c + 10), correct1: s.optionalBool(c + 11),
            correct5: s.optionalBool(c + 12), params: s.text(c + 13))
    }

    /// All predictions of `run`, ordered by corruption, severity, sample (byte-wise UTF-8 order).
    public func predictions(run: Int64) throws -> [PredictionRow] {
        try db.with("""
            SELECT \(Self.predictionColumns) FROM predictions WHERE run_id = ?1 ORDER BY corruption, severity, sample
            """, "read predictions of run \(run)") { s in
            try s.bind(1, run)
            var out: [PredictionRow] = []
            while try s.step() { out.append(try readPrediction(s, at: 0, run: run)) }
            return out
        }
    }

    /// The rows of one (corruption, severity) group of `run`, ordered by sample — e.g. the
    /// clean rows ("", 0) — without reading the rest of a large run.
    public func predictions(run: Int64, group: GroupKey) throws -> [PredictionRow] {
        try db.with("""
            SELECT \(Self.predictionColumns) FROM predictions
            WHERE run_id = ?1 AND corruption = ?2 AND severity = ?3 ORDER BY sample
            """, "read predictions of run \(run), group \(group.corruption)/\(group.severity)") { s in
            try s.bind(1, run)
            try s.bind(2, group.corruption)
            try s.bind(3, Int64(group.severity))
            var out: [PredictionRow] = []
            while try s.step() { out.append(try readPrediction(s, at: 0, run: run)) }
            return out
        }
    }

    /// Per (corruption, severity) group of `run`: the row count and the mean confidence,
    /// computed by SQLite (constant memory for any run size).
    public func groupConfidence(run: Int64) throws -> [(group: GroupKey, count: Int, meanConfidence: Double)] {
        try db.with("""
            SELECT corruption, severity, COUNT(*), AVG(confidence) FROM predictions
            WHERE run_id = ?1 GROUP BY corruption, severity ORDER BY corruption, severity
            """, "summarize the groups of run \(run)") { s in
            try s.bind(1, run)
            var out: [(group: GroupKey, count: Int, meanConfidence: Double)] = []
            while try s.step() {
                out.append((GroupKey(corruption: s.text(0), severity: s.int(1)), s.int(2), s.double(3)))
            }
            return out
        }
    }

    /// Per shifted group of `run`: how many of its images also have a clean row, and how many
    /// of those changed their top-1 prediction (the flip rate's numerator and denominator).
    public func flips(run: Int64) throws -> [(group: GroupKey, flipped: Int, matched: Int)] {
        try db.with("""
            SELECT p.corruption, p.severity, SUM(p.top1 != c.top1), COUNT(*)
            FROM predictions p JOIN predictions c
              ON c.run_id = p.run_id AND c.corruption = '' AND c.severity = 0 AND c.sample = p.sample
            WHERE p.run_id = ?1 AND p.corruption != ''
            GROUP BY p.corruption, p.severity ORDER BY p.corruption, p.severity
            """, "count prediction flips of run \(run)") { s in
            try s.bind(1, run)
            var out: [(group: GroupKey, flipped: Int, matched: Int)] = []
            while try s.step() {
                out.append((GroupKey(corruption: s.text(0), severity: s.int(1)), s.int(2), s.int(3)))
            }
            return out
        }
    }

    /// Skipped (unreadable) samples of `run` with their reasons, ordered by sample.
    public func skipped(run: Int64) throws -> [(sample: String, reason: String)] {
        try db.with("SELECT sample, reason FROM skipped WHERE run_id = ?1 ORDER BY sample",
                    "read skipped samples of run \(run)") { s in
            try s.bind(1, run)
            var out: [(sample: String, reason: String)] = []
            while try s.step() { out.append((s.text(0), s.text(1))) }
            return out
        }
    }

    private static let runColumns = """
        r.id, m.sha256, m.name, m.path, m.input, m.classes, r.suite, r.data_root, r.layout, r.label_space,
        r.preprocess, r.resolution, r.crop_pct, r.interpolation, r.seed, r.shift_mode, r.config,
        r.stalwart_version, r.created, r.finished
        """

    private static func readRun(_ s: Statement) -> StoredRun {
        let model = ModelRecord(sha256: s.text(1), name: s.text(2), path: s.text(3), input: s.text(4),
                                classes: s.int(5))
        let record = RunRecord(
            suite: s.text(6), dataRoot: s.text(7), layout: s.text(8), labelSpace: s.text(9),
            preprocess: s.text(10), resolution: s.int(11), cropPct: s.double(12), interpolation: s.text(13),
            seed: UInt64(bitPattern: s.int64(14)), shiftMode: s.text(15), config: s.text(16),
            version: s.text(17))
        return StoredRun(id: s.int64(0), model: model, record: record, created: s.text(18),
                         finished: s.optionalText(19))
    }

    /// All runs with their models, ordered by id.
    public func runs() throws -> [StoredRun] {
        try Self.readRuns(db)
    }

    private static func readRuns(_ db: SQLiteDatabase) throws -> [StoredRun] {
        try db.with("SELECT \(runColumns) FROM runs r JOIN models m ON m.id = r.model_id ORDER BY r.id",
                    "read runs") { s in
            var out: [StoredRun] = []
            while try s.step() { out.append(readRun(s)) }
            return out
        }
    }

    // MARK: - Merging shards

    private struct RunGroup: Hashable {
        var run: Int64
        var group: GroupKey
    }

    /// Merges the results database at `otherPath` (opened read-only, never modified) into this
    /// one, in one transaction; on any error nothing is changed.
    ///
    /// - Models are matched by sha256 (inserted when absent), runs by their identity (inserted
    ///   with their description, timestamps and aggregates when absent).
    /// - Predictions: new keys are inserted; a key already stored with identical values is
    ///   ignored; with different values → `.invalidArgument` naming the item.
    /// - Skipped samples: inserted when absent (an existing entry keeps its reason).
    /// - Metric states, per (run, group, metric): stored when absent here; when present in both,
    ///   combined as `mergeState(existing, incoming)` — provided the incoming shard's rows of that
    ///   group were all new here. When all of them were already stored (the same shard merged
    ///   twice, or a group computed by both shards), the incoming state is already accounted for
    ///   and is ignored. A group whose incoming rows are partly new and partly already stored
    ///   cannot be combined without double counting → `.invalidArgument`.
    /// - A run that existed here and gained anything has its aggregates deleted and `finished`
    ///   cleared: re-aggregate it from the merged metric states.
    /// - Transfer results: inserted when absent; one stored with a different accuracy →
    ///   `.invalidArgument`.
    public func merge(from otherPath: String, mergeState: ([UInt8], [UInt8]) throws -> [UInt8]) throws {
        let src = try SQLiteDatabase(path: otherPath, flags: SQLITE_OPEN_READONLY)
        sqlite3_busy_timeout(src.handle, 5000)
        try Self.checkSchema(src, allowEmpty: false)
        let srcRuns = try Self.readRuns(src)

        try db.transaction("merge '\(otherPath)'") {
            // Models and runs.
            var modelIDs: [String: Int64] = [:]
            var runIDs: [Int64: Int64] = [:]          // source run id → id here
            var preexisting: Set<Int64> = []          // ids here of runs that existed before
            var changed: Set<Int64> = []              // ids here of pre-existing runs that gained something
            for r in srcRuns {
                try validate(r.record)
                let modelID: Int64
                if let id = modelIDs[r.model.sha256] {
                    modelID = id
                } else {
                    modelID = try upsertModelInTransaction(r.model, updateNames: false)
                    modelIDs[r.model.sha256] = modelID
                }
                let (id, inserted) = try upsertRunInTransaction(
                    modelID: modelID, r.record, created: r.created, finished: r.finished, updateDescription: false)
                runIDs[r.id] = id
                if !inserted { preexisting.insert(id) }
                if inserted {
                    let aggs = try src.with("""
                        SELECT corruption, severity, metric, value, count FROM aggregates WHERE run_id = ?1
                        """, "read aggregates of run \(r.id)") { s in
                        try s.bind(1, r.id)
                        var out: [Aggregate] = []
                        while try s.step() {
                            out.append(Aggregate(group: GroupKey(corruption: s.text(0), severity: s.int(1)),
                                                 metric: s.text(2), value: s.double(3), count: s.int(4)))
                        }
                        return out
                    }
                    try insertAggregates(run: id, aggs)
                }
            }
            func target(_ srcRun: Int64) throws -> Int64 {
                guard let id = runIDs[srcRun] else {
                    throw StalwartError.io("results database '\(otherPath)': rows refer to missing run \(srcRun)")
                }
                return id
            }

            // Predictions: count new and identical rows per group.
            var newRows: [RunGroup: Int] = [:]
            var sameRows: [RunGroup: Int] = [:]
            try src.with("SELECT run_id, \(Self.predictionColumns) FROM predictions",
                         "read predictions of '\(otherPath)'") { s in
                while try s.step() {
                    let srcRun = s.int64(0)
                    let run = try target(srcRun)
                    let row = try readPrediction(s, at: 1, run: srcRun)
                    let inserted: Bool = try db.with(
                        Self.mergePredictionSQL, "merge prediction") { ins in
                        try Self.bindPrediction(ins, run: run, row)
                        try ins.step()
                        return db.changes > 0
                    }
                    let key = RunGroup(run: run, group: GroupKey(corruption: row.corruption, severity: row.severity))
                    if inserted {
                        newRows[key, default: 0] += 1
                        if preexisting.contains(run) { changed.insert(run) }
                        continue
                    }
                    let existing = try db.with("""
                        SELECT \(Self.predictionColumns) FROM predictions
                        WHERE run_id = ?1 AND corruption = ?2 AND severity = ?3 AND sample = ?4
                        """, "read stored prediction") { q -> PredictionRow? in
                        try q.bind(1, run)
                        try q.bind(2, row.corruption)
                        try q.bind(3, row.severity)
                        try q.bind(4, row.sample)
                        return try q.step() ? readPrediction(q, at: 0, run: run) : nil
                    }
                    guard existing == row else {
                        throw StalwartError.invalidArgument(
                            "cannot merge '\(otherPath)' into '\(path)': prediction \(describe(run, row.corruption, row.severity, row.sample)) is stored with different values")
                    }
                    sameRows[key, default: 0] += 1
                }
            }

            // Skipped samples.
            try src.with("SELECT run_id, sample, reason FROM skipped", "read skipped of '\(otherPath)'") { s in
                while try s.step() {
                    let run = try target(s.int64(0))
                    try db.with("""
                        INSERT INTO skipped(run_id, sample, reason) VALUES (?1, ?2, ?3)
                        ON CONFLICT(run_id, sample) DO NOTHING
                        """, "merge skipped sample") { ins in
                        try ins.bind(1, run)
                        try ins.bind(2, s.text(1))
                        try ins.bind(3, s.text(2))
                        try ins.step()
                    }
                    if db.changes > 0 && preexisting.contains(run) { changed.insert(run) }
                }
            }

            // Metric states.
            try src.with("SELECT run_id, corruption, severity, metric, state FROM metric_states",
                         "read metric states of '\(otherPath)'") { s in
                while try s.step() {
                    let run = try target(s.int64(0))
                    let group = GroupKey(corruption: s.text(1), severity: s.int(2))
                    let metric = s.text(3), incoming = s.blob(4)
                    let key = RunGroup(run: run, group: group)
                    let fresh = newRows[key, default: 0], same = sameRows[key, default: 0]
                    if fresh > 0 && same > 0 {
                        throw StalwartError.invalidArgument(
                            "cannot merge '\(otherPath)' into '\(path)': run \(run) group ('\(group.corruption)', \(group.severity)) has \(fresh) new and \(same) already stored predictions; its metric states cannot be combined without double counting")
                    }
                    let existing: [UInt8]? = try db.with("""
                        SELECT state FROM metric_states WHERE run_id = ?1 AND corruption = ?2 AND severity = ?3 AND metric = ?4
                        """, "read stored metric state") { q in
                        try q.bind(1, run)
                        try q.bind(2, group.corruption)
                        try q.bind(3, group.severity)
                        try q.bind(4, metric)
                        return try q.step() ? q.blob(0) : nil
                    }
                    let state: [UInt8]
                    if let existing {
                        if same > 0 { continue }  // already accounted for
                        state = try mergeState(existing, incoming)
                    } else {
                        state = incoming
                    }
                    try db.with("""
                        INSERT INTO metric_states(run_id, corruption, severity, metric, state) VALUES (?1, ?2, ?3, ?4, ?5)
                        ON CONFLICT(run_id, corruption, severity, metric) DO UPDATE SET state = excluded.state
                        """, "store merged metric state") { ins in
                        try ins.bind(1, run)
                        try ins.bind(2, group.corruption)
                        try ins.bind(3, group.severity)
                        try ins.bind(4, metric)
                        try ins.bind(5, blob: state)
                        try ins.step()
                    }
                    if preexisting.contains(run) { changed.insert(run) }
                }
            }

            // Transfer results (models without eval runs included).
            try mergeTransferResults(from: src, otherPath: otherPath)

            // Stale aggregates of runs that gained results.
            for run in changed.sorted() {
                try db.with("DELETE FROM aggregates WHERE run_id = ?1", "delete stale aggregates") { s in
                    try s.bind(1, run)
                    try s.step()
                }
                try db.with("UPDATE runs SET finished = NULL WHERE id = ?1", "mark merged run unfinished") { s in
                    try s.bind(1, run)
                    try s.step()
                }
            }
        }
    }
}
