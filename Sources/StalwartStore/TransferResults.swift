// Transfer results (issue 9): few-shot and linear-probe accuracies per model, beside the
// robustness runs of the same models.
import CSQLite
import StalwartTensor

/// One transfer accuracy. The identity is (model, task, method, layer, preprocess,
/// resolution, shots, seed, l2); the other fields describe it.
public struct TransferResult: Sendable, Equatable {
    /// Task name, e.g. "digits" (what studies select with `TASK:SHOTS`).
    public var task: String
    /// The training data folder as given (informational).
    public var dataRoot: String
    /// "fewshot_lsr" (big_vision's few-shot ridge) or "linear_probe" (full-data logistic).
    public var method: String
    /// The feature tensor the model was read at.
    public var layer: String
    /// Preprocessing preset name and test resolution (pixels) the features were computed at.
    public var preprocess: String
    public var resolution: Int
    /// Training examples per class; 0 for methods trained on all training data.
    public var shots: Int
    /// Seed of the shots draw (0 for deterministic methods).
    public var seed: Int
    /// Regularization strength (ridge λ, or the probe's l2).
    public var l2: Double
    /// Fraction of test examples classified correctly, in [0, 1].
    public var accuracy: Double
    /// Training and test examples used.
    public var trainCount: Int
    public var testCount: Int

    public init(task: String, dataRoot: String, method: String, layer: String, preprocess: String, resolution: Int,
                shots: Int, seed: Int, l2: Double, accuracy: Double, trainCount: Int, testCount: Int) {
        self.task = task
        self.dataRoot = dataRoot
        self.method = method
        self.layer = layer
        self.preprocess = preprocess
        self.resolution = resolution
        self.shots = shots
        self.seed = seed
        self.l2 = l2
        self.accuracy = accuracy
        self.trainCount = trainCount
        self.testCount = testCount
    }
}

/// A stored transfer result with its model.
public struct StoredTransferResult: Sendable, Equatable {
    public var model: ModelRecord
    public var result: TransferResult
    public var created: String
}

extension ResultStore {
    static let transferColumns = """
        m.sha256, m.name, m.path, m.input, m.classes, t.task, t.data_root, t.method, t.layer, t.preprocess,
        t.resolution, t.shots, t.seed, t.l2, t.accuracy, t.train_count, t.test_count, t.created
        """

    private func validate(_ r: TransferResult) throws {
        func bad(_ why: String) -> StalwartError {
            StalwartError.invalidArgument("transfer result (task '\(r.task)', \(r.method), shots \(r.shots), seed \(r.seed)): \(why)")
        }
        guard !r.task.isEmpty else { throw bad("task name is empty") }
        guard !r.task.contains(":") else { throw bad("task name must not contain ':' (studies use TASK:SHOTS)") }
        guard r.method == "fewshot_lsr" || r.method == "linear_probe" else { throw bad("unknown method '\(r.method)'") }
        guard r.resolution > 0 else { throw bad("resolution \(r.resolution) must be > 0") }
        guard r.shots >= 0, r.seed >= 0 else { throw bad("shots and seed must be ≥ 0") }
        guard r.l2 >= 0, r.l2.isFinite else { throw bad("l2 \(r.l2) must be finite and ≥ 0") }
        guard r.accuracy >= 0, r.accuracy <= 1 else { throw bad("accuracy \(r.accuracy) is outside [0, 1]") }
        guard r.trainCount >= 0, r.testCount > 0 else { throw bad("counts must be ≥ 0 (train) and > 0 (test)") }
    }

    /// Stores transfer results of one model in one transaction, replacing rows with the same
    /// identity (a rerun overwrites). The model is upserted as by `upsertModel`.
    public func recordTransfer(model: ModelRecord, _ results: [TransferResult], created: String) throws {
        guard model.classes > 0 else {
            throw StalwartError.invalidArgument("model '\(model.name)': classes \(model.classes) must be > 0")
        }
        for r in results { try validate(r) }
        try db.transaction("record transfer results") {
            let modelID = try upsertModelInTransaction(model, updateNames: true)
            for r in results { try Self.insertTransfer(db, modelID: modelID, r, created: created, replace: true) }
        }
    }

    private static func insertTransfer(_ db: SQLiteDatabase, modelID: Int64, _ r: TransferResult, created: String,
                                       replace: Bool) throws {
        try db.with("""
            INSERT \(replace ? "OR REPLACE " : "OR IGNORE ")INTO transfer_results(model_id, task, data_root, method, layer,
                preprocess, resolution, shots, seed, l2, accuracy, train_count, test_count, created)
            VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14)
            """, "store transfer result") { s in
            try s.bind(1, modelID)
            try s.bind(2, r.task)
            try s.bind(3, r.dataRoot)
            try s.bind(4, r.method)
            try s.bind(5, r.layer)
            try s.bind(6, r.preprocess)
            try s.bind(7, r.resolution)
            try s.bind(8, r.shots)
            try s.bind(9, r.seed)
            try s.bind(10, r.l2)
            try s.bind(11, r.accuracy)
            try s.bind(12, r.trainCount)
            try s.bind(13, r.testCount)
            try s.bind(14, created)
            try s.step()
        }
    }

    static func readTransfer(_ s: Statement) -> StoredTransferResult {
        let model = ModelRecord(sha256: s.text(0), name: s.text(1), path: s.text(2), input: s.text(3), classes: s.int(4))
        let r = TransferResult(task: s.text(5), dataRoot: s.text(6), method: s.text(7), layer: s.text(8),
                               preprocess: s.text(9), resolution: s.int(10), shots: s.int(11), seed: s.int(12),
                               l2: s.double(13), accuracy: s.double(14), trainCount: s.int(15), testCount: s.int(16))
        return StoredTransferResult(model: model, result: r, created: s.text(17))
    }

    /// Every stored transfer result, ordered by model id then identity.
    public func transferResults() throws -> [StoredTransferResult] {
        try Self.readTransferResults(db)
    }

    static func readTransferResults(_ db: SQLiteDatabase) throws -> [StoredTransferResult] {
        let exists = try db.with("SELECT count(*) FROM sqlite_master WHERE type = 'table' AND name = 'transfer_results'",
                                 "look for transfer results") { s in try s.step() && s.int64(0) > 0 }
        guard exists else { return [] }  // a read-only file written before the table existed
        return try db.with("""
            SELECT \(transferColumns) FROM transfer_results t JOIN models m ON m.id = t.model_id
            ORDER BY t.model_id, t.task, t.method, t.layer, t.preprocess, t.resolution, t.shots, t.seed, t.l2
            """, "read transfer results") { s in
            var out: [StoredTransferResult] = []
            while try s.step() { out.append(readTransfer(s)) }
            return out
        }
    }

    /// Merges the transfer results of `src` (part of `merge(from:)`'s transaction): rows absent
    /// here are inserted (their models upserted by hash); a row stored with a different
    /// accuracy is an error naming it.
    func mergeTransferResults(from src: SQLiteDatabase, otherPath: String) throws {
        for t in try Self.readTransferResults(src) {
            let modelID = try upsertModelInTransaction(t.model, updateNames: false)
            let existing: Double? = try db.with("""
                SELECT accuracy FROM transfer_results WHERE model_id = ?1 AND task = ?2 AND method = ?3 AND layer = ?4
                    AND preprocess = ?5 AND resolution = ?6 AND shots = ?7 AND seed = ?8 AND l2 = ?9
                """, "read stored transfer result") { q in
                let r = t.result
                try q.bind(1, modelID)
                try q.bind(2, r.task)
                try q.bind(3, r.method)
                try q.bind(4, r.layer)
                try q.bind(5, r.preprocess)
                try q.bind(6, r.resolution)
                try q.bind(7, r.shots)
                try q.bind(8, r.seed)
                try q.bind(9, r.l2)
                return try q.step() ? q.double(0) : nil
            }
            if let existing {
                guard existing == t.result.accuracy else {
                    throw StalwartError.invalidArgument(
                        "cannot merge '\(otherPath)' into '\(path)': transfer result of model \(t.model.name) task '\(t.result.task)' \(t.result.method) shots \(t.result.shots) seed \(t.result.seed) λ \(t.result.l2) is stored with a different accuracy")
                }
                continue
            }
            try Self.insertTransfer(db, modelID: modelID, t.result, created: t.created, replace: false)
        }
    }
}
