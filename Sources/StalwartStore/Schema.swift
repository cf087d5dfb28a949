// The results database schema, version 1 (the contract shared with reports and external tools).
//
// Conventions:
// - A run is one model × dataset × preprocessing × resolution × seed (UNIQUE identity in `runs`).
// - Groups are (corruption, severity): clean is ('', 0), corruptions use severity 1…5, and
//   run-level aggregates (mCE, relative mCE, …) use ('*', -1) in `aggregates` only.
// - `predictions` is keyed by (run_id, corruption, severity, sample) WITHOUT ROWID, so the primary
//   key is the clustered storage order: resume scans, per-group reads and duplicate detection need
//   no further index. `skipped`, `metric_states` and `aggregates` are likewise keyed by their
//   natural primary keys; `runs(model_id, …)` is covered by its UNIQUE constraint.
// - `runs.seed` holds the UInt64 seed's bit pattern as a signed 64-bit integer.
// - `transfer_results` (added without a version bump: `CREATE TABLE IF NOT EXISTS` adds it to
//   older files when they are opened, and readers that predate it ignore it) holds one transfer
//   accuracy per (model, task, method, layer, preprocessing, resolution, shots, seed, λ); models
//   are the same `models` rows eval runs use (identified by file SHA-256), so studies join the
//   two sides per model. `shots` is 0 for a method trained on all training data (the probe).
enum Schema {
    static let version = 1

    static let createSQL = """
        CREATE TABLE IF NOT EXISTS meta(
            key   TEXT PRIMARY KEY,
            value TEXT NOT NULL
        ) WITHOUT ROWID;
        CREATE TABLE IF NOT EXISTS models(
            id      INTEGER PRIMARY KEY,
            sha256  TEXT NOT NULL UNIQUE,
            name    TEXT NOT NULL,
            path    TEXT NOT NULL,
            input   TEXT NOT NULL,
            classes INTEGER NOT NULL CHECK (classes > 0)
        );
        CREATE TABLE IF NOT EXISTS runs(
            id               INTEGER PRIMARY KEY,
            model_id         INTEGER NOT NULL REFERENCES models(id),
            suite            TEXT NOT NULL,
            data_root        TEXT NOT NULL,
            layout           TEXT NOT NULL,
            label_space      TEXT NOT NULL,
            preprocess       TEXT NOT NULL,
            resolution       INTEGER NOT NULL CHECK (resolution > 0),
            crop_pct         REAL NOT NULL,
            interpolation    TEXT NOT NULL,
            seed             INTEGER NOT NULL,
            shift_mode       TEXT NOT NULL CHECK (shift_mode IN ('none', 'on-disk') OR shift_mode LIKE 'on-the-fly%'),
            config           TEXT NOT NULL,  -- JSON
            stalwart_version TEXT NOT NULL,
            created          TEXT NOT NULL,
            finished         TEXT,           -- NULL until complete
            UNIQUE(model_id, suite, data_root, preprocess, resolution, crop_pct, interpolation, seed, shift_mode)
        );
        CREATE TABLE IF NOT EXISTS predictions(
            run_id      INTEGER NOT NULL REFERENCES runs(id),
            sample      TEXT NOT NULL,        -- dataset-relative key
            corruption  TEXT NOT NULL,        -- '' clean
            severity    INTEGER NOT NULL CHECK (severity >= 0),  -- 0 clean
            label       INTEGER NOT NULL CHECK (label >= -1),    -- -1 unlabelled
            top1        INTEGER NOT NULL,
            top5        TEXT NOT NULL,        -- comma-separated class indices, best first
            rank        INTEGER NOT NULL CHECK (rank >= -1),     -- classes strictly above the label; -1 unlabelled
            confidence  REAL NOT NULL,        -- max probability
            p_label     REAL,                 -- NULL unlabelled
            log_p_label REAL,                 -- NULL unlabelled
            sum_sq      REAL NOT NULL,        -- sum of p_i^2
            correct1    INTEGER,              -- 0/1, NULL unlabelled
            correct5    INTEGER,              -- 0/1, NULL unlabelled
            params      TEXT NOT NULL,        -- JSON of shift parameters, '{}'
            PRIMARY KEY(run_id, corruption, severity, sample)
        ) WITHOUT ROWID;
        CREATE TABLE IF NOT EXISTS metric_states(
            run_id     INTEGER NOT NULL REFERENCES runs(id),
            corruption TEXT NOT NULL,
            severity   INTEGER NOT NULL,
            metric     TEXT NOT NULL,         -- metric spec, e.g. 'accuracy:k=5'
            state      BLOB NOT NULL,         -- serialized mergeable accumulator
            PRIMARY KEY(run_id, corruption, severity, metric)
        ) WITHOUT ROWID;
        CREATE TABLE IF NOT EXISTS aggregates(
            run_id     INTEGER NOT NULL REFERENCES runs(id),
            corruption TEXT NOT NULL,         -- '*' for run-level aggregates
            severity   INTEGER NOT NULL,      -- -1 for run-level aggregates
            metric     TEXT NOT NULL,         -- e.g. 'top1', 'ece', 'mce'
            value      REAL NOT NULL,
            count      INTEGER NOT NULL,
            PRIMARY KEY(run_id, corruption, severity, metric)
        ) WITHOUT ROWID;
        CREATE TABLE IF NOT EXISTS transfer_results(
            model_id    INTEGER NOT NULL REFERENCES models(id),
            task        TEXT NOT NULL,
            data_root   TEXT NOT NULL,
            method      TEXT NOT NULL,        -- 'fewshot_lsr' or 'linear_probe'
            layer       TEXT NOT NULL,        -- feature tensor name
            preprocess  TEXT NOT NULL,
            resolution  INTEGER NOT NULL CHECK (resolution > 0),
            shots       INTEGER NOT NULL CHECK (shots >= 0),   -- 0 = all training data
            seed        INTEGER NOT NULL CHECK (seed >= 0),
            l2          REAL NOT NULL CHECK (l2 >= 0),
            accuracy    REAL NOT NULL CHECK (accuracy >= 0 AND accuracy <= 1),
            train_count INTEGER NOT NULL CHECK (train_count >= 0),
            test_count  INTEGER NOT NULL CHECK (test_count > 0),
            created     TEXT NOT NULL,
            PRIMARY KEY(model_id, task, method, layer, preprocess, resolution, shots, seed, l2)
        ) WITHOUT ROWID;
        CREATE TABLE IF NOT EXISTS skipped(
            run_id INTEGER NOT NULL REFERENCES runs(id),
            sample TEXT NOT NULL,
            reason TEXT NOT NULL,
            PRIMARY KEY(run_id, sample)
        ) WITHOUT ROWID;
        """
}
