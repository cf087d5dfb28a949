// A minimal, non-trapping wrapper over the SQLite C API: one connection, prepared statements
// with bound parameters, and SQLite result codes mapped to `StalwartError`.
//
// Thread-safety: a `SQLiteDatabase` and its statements are used by one thread at a time.
import CSQLite
import StalwartTensor

/// `SQLITE_TRANSIENT`: SQLite copies text/blob parameters before `sqlite3_bind_*` returns.
let sqliteTransient = unsafeBitCast(-1, to: sqlite3_destructor_type.self)

/// Maps an SQLite result code to the matching `StalwartError` case.
/// - constraint violations and oversize values are the caller's data → `.invalidArgument`;
/// - file, lock and "not a database"/corruption problems → `.io`;
/// - allocation failure → `.outOfMemory`; anything else (SQL errors, misuse) → `.internal`.
func sqliteError(code: Int32, message: String) -> StalwartError {
    switch code & 0xff {
    case SQLITE_CONSTRAINT, SQLITE_TOOBIG, SQLITE_MISMATCH:
        return .invalidArgument(message)
    case SQLITE_NOMEM:
        return .outOfMemory(message)
    case SQLITE_IOERR, SQLITE_CANTOPEN, SQLITE_NOTADB, SQLITE_CORRUPT, SQLITE_FULL, SQLITE_READONLY,
         SQLITE_BUSY, SQLITE_LOCKED, SQLITE_PERM, SQLITE_PROTOCOL, SQLITE_AUTH, SQLITE_NOLFS:
        return .io(message)
    default:
        return .internal(message)
    }
}

/// One SQLite connection (owns the `sqlite3*`; closed in `deinit` after its cached statements).
final class SQLiteDatabase {
    /// The file name, used in error messages.
    let path: String
    private(set) var handle: OpaquePointer?
    /// Prepared statements reused across calls, keyed by SQL text (finalized before closing).
    private var cache: [String: Statement] = [:]
    private var inTransaction = false

    /// Opens `path` with `flags` (`SQLITE_OPEN_*`). Throws `.io` when the file cannot be opened.
    init(path: String, flags: Int32) throws {
        self.path = path
        var db: OpaquePointer?
        let rc = sqlite3_open_v2(path, &db, flags | SQLITE_OPEN_NOMUTEX, nil)
        guard rc == SQLITE_OK, let opened = db else {
            let msg = db.map { String(cString: sqlite3_errmsg($0)) } ?? String(cString: sqlite3_errstr(rc))
            if let db { sqlite3_close_v2(db) }
            throw StalwartError.io("results database '\(path)': cannot open: \(msg) (SQLite code \(rc))")
        }
        handle = opened
        sqlite3_extended_result_codes(opened, 1)
    }

    deinit {
        cache.removeAll()  // finalizes the statements before the connection is closed
        if let handle { sqlite3_close_v2(handle) }
    }

    /// The error for the connection's most recent failure, naming `purpose`.
    func error(_ rc: Int32, _ purpose: String) -> StalwartError {
        let msg = handle.map { String(cString: sqlite3_errmsg($0)) } ?? String(cString: sqlite3_errstr(rc))
        var text = "results database '\(path)': \(purpose): \(msg) (SQLite code \(rc))"
        if rc & 0xff == SQLITE_NOTADB {
            text = "results database '\(path)' is not an SQLite database (\(purpose): \(msg))"
        }
        return sqliteError(code: rc, message: text)
    }

    /// Runs SQL without parameters or results (pragmas, DDL, BEGIN/COMMIT). `purpose` is for errors.
    func exec(_ sql: String, _ purpose: String) throws {
        var errmsg: UnsafeMutablePointer<CChar>?
        let rc = sqlite3_exec(handle, sql, nil, nil, &errmsg)
        if rc != SQLITE_OK {
            let msg = errmsg.map { String(cString: $0) } ?? String(cString: sqlite3_errstr(rc))
            sqlite3_free(errmsg)
            var text = "results database '\(path)': \(purpose): \(msg) (SQLite code \(rc))"
            if rc & 0xff == SQLITE_NOTADB {
                text = "results database '\(path)' is not an SQLite database (\(purpose): \(msg))"
            }
            throw sqliteError(code: rc, message: text)
        }
    }

    /// Prepares `sql` once per connection and runs `body` with it; the statement is reset and
    /// its bindings cleared before `body` and reset again afterwards (releasing read locks).
    func with<R>(_ sql: String, _ purpose: String, _ body: (Statement) throws -> R) throws -> R {
        let stmt: Statement
        if let s = cache[sql] {
            stmt = s
        } else {
            stmt = try Statement(db: self, sql: sql, purpose: purpose)
            cache[sql] = stmt
        }
        stmt.purpose = purpose
        stmt.reset()
        defer { stmt.reset() }
        return try body(stmt)
    }

    /// Number of rows changed by the most recent INSERT/UPDATE/DELETE.
    var changes: Int { Int(sqlite3_changes(handle)) }

    /// Runs `body` inside `BEGIN IMMEDIATE … COMMIT` (the write lock is taken up front, so a
    /// concurrent writer fails fast with a busy error instead of deadlocking mid-transaction).
    /// Any thrown error rolls the whole transaction back. Not reentrant.
    func transaction<R>(_ purpose: String, _ body: () throws -> R) throws -> R {
        guard !inTransaction else {
            throw StalwartError.internal("results database '\(path)': nested transaction (\(purpose))")
        }
        try exec("BEGIN IMMEDIATE", "begin transaction (\(purpose))")
        inTransaction = true
        defer { inTransaction = false }
        do {
            let result = try body()
            try exec("COMMIT", "commit transaction (\(purpose))")
            return result
        } catch {
            if sqlite3_get_autocommit(handle) == 0 {
                _ = sqlite3_exec(handle, "ROLLBACK", nil, nil, nil)
            }
            throw error
        }
    }
}

/// A prepared statement (finalized in `deinit`). Parameter indices are 1-based, columns 0-based.
final class Statement {
    private unowned let db: SQLiteDatabase
    private var stmt: OpaquePointer?
    /// What the statement does, for error messages.
    var purpose: String

    init(db: SQLiteDatabase, sql: String, purpose: String) throws {
        self.db = db
        self.purpose = purpose
        var s: OpaquePointer?
        let rc = sqlite3_prepare_v2(db.handle, sql, -1, &s, nil)
        guard rc == SQLITE_OK, let prepared = s else {
            sqlite3_finalize(s)
            throw db.error(rc, "prepare (\(purpose))")
        }
        stmt = prepared
    }

    deinit { sqlite3_finalize(stmt) }

    func reset() {
        sqlite3_reset(stmt)
        sqlite3_clear_bindings(stmt)
    }

    private func check(_ rc: Int32, _ what: String) throws {
        if rc != SQLITE_OK { throw db.error(rc, "\(purpose): \(what)") }
    }

    func bind(_ i: Int32, _ v: Int64) throws { try check(sqlite3_bind_int64(stmt, i, v), "bind parameter \(i)") }
    func bind(_ i: Int32, _ v: Int) throws { try bind(i, Int64(v)) }
    func bind(_ i: Int32, _ v: Double) throws { try check(sqlite3_bind_double(stmt, i, v), "bind parameter \(i)") }
    func bindNull(_ i: Int32) throws { try check(sqlite3_bind_null(stmt, i), "bind parameter \(i)") }
    func bind(_ i: Int32, _ v: Double?) throws {
        if let v { try bind(i, v) } else { try bindNull(i) }
    }
    func bind(_ i: Int32, _ v: Bool?) throws {
        if let v { try bind(i, Int64(v ? 1 : 0)) } else { try bindNull(i) }
    }

    /// Binds UTF-8 text (copied; empty strings stay '' rather than NULL).
    func bind(_ i: Int32, _ v: String) throws {
        var s = v
        let rc: Int32 = s.withUTF8 { buf in
            guard buf.count <= Int(Int32.max) else { return SQLITE_TOOBIG }
            guard buf.count > 0, let base = buf.baseAddress else {
                return sqlite3_bind_text(stmt, i, "", 0, sqliteTransient)
            }
            return base.withMemoryRebound(to: CChar.self, capacity: buf.count) {
                sqlite3_bind_text(stmt, i, $0, Int32(buf.count), sqliteTransient)
            }
        }
        try check(rc, "bind text parameter \(i)")
    }
    func bind(_ i: Int32, _ v: String?) throws {
        if let v { try bind(i, v) } else { try bindNull(i) }
    }

    /// Binds a blob (copied; an empty array is a zero-length blob, not NULL).
    func bind(_ i: Int32, blob v: [UInt8]) throws {
        let rc: Int32 = v.withUnsafeBytes { buf in
            guard buf.count <= Int(Int32.max) else { return SQLITE_TOOBIG }
            guard buf.count > 0, let base = buf.baseAddress else { return sqlite3_bind_zeroblob(stmt, i, 0) }
            return sqlite3_bind_blob(stmt, i, base, Int32(buf.count), sqliteTransient)
        }
        try check(rc, "bind blob parameter \(i)")
    }

    /// Advances; `true` when a row is available, `false` when done.
    @discardableResult
    func step() throws -> Bool {
        let rc = sqlite3_step(stmt)
        if rc == SQLITE_ROW { return true }
        if rc == SQLITE_DONE { return false }
        throw db.error(rc, purpose)
    }

    func isNull(_ c: Int32) -> Bool { sqlite3_column_type(stmt, c) == SQLITE_NULL }
    func int64(_ c: Int32) -> Int64 { sqlite3_column_int64(stmt, c) }
    func int(_ c: Int32) -> Int { Int(truncatingIfNeeded: sqlite3_column_int64(stmt, c)) }
    func double(_ c: Int32) -> Double { sqlite3_column_double(stmt, c) }
    func optionalDouble(_ c: Int32) -> Double? { isNull(c) ? nil : double(c) }
    func optionalBool(_ c: Int32) -> Bool? { isNull(c) ? nil : int64(c) != 0 }

    func text(_ c: Int32) -> String {
        guard let p = sqlite3_column_text(stmt, c) else { return "" }
        let n = Int(sqlite3_column_bytes(stmt, c))
        return String(decoding: UnsafeBufferPointer(start: p, count: max(n, 0)), as: UTF8.self)
    }
    func optionalText(_ c: Int32) -> String? { isNull(c) ? nil : text(c) }

    func blob(_ c: Int32) -> [UInt8] {
        guard let p = sqlite3_column_blob(stmt, c) else { return [] }
        let n = Int(sqlite3_column_bytes(stmt, c))
        return Array(UnsafeRawBufferPointer(start: p, count: max(n, 0)))
    }
}
