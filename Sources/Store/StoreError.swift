import CSQLite

/// Why a Store call failed: a stable `kind` to react to, SQLite's result codes, SQLite's own
/// message (or ours), and the SQL that failed.
///
/// A struct wrapping private enums, so kinds and constraint classes can be added without
/// breaking callers: compare with `==` (`error.kind == .busy`) rather than switching.
public struct StoreError: Error, Sendable, CustomStringConvertible {
    /// What went wrong, as a kind callers can compare against.
    public struct Kind: Hashable, Sendable, CustomStringConvertible {
        private enum Base: String, Hashable, Sendable {
            case cannotOpen, busy, constraintViolation, corrupt, notADatabase, schemaTooNew
            case misuse, sqlError, readOnly, diskFull, ioError, typeMismatch, columnNotFound
            case transactionAborted, overloaded, closed, other
        }
        private let base: Base
        private init(_ base: Base) { self.base = base }
        public var description: String { base.rawValue }

        /// The file could not be opened or created: missing directory, permissions, a directory in the way.
        public static let cannotOpen = Kind(.cannotOpen)
        /// Another connection or process held the lock beyond the busy timeout (SQLITE_BUSY / SQLITE_LOCKED).
        public static let busy = Kind(.busy)
        /// A UNIQUE, PRIMARY KEY, FOREIGN KEY, NOT NULL or CHECK constraint refused the change: see `constraint`.
        public static let constraintViolation = Kind(.constraintViolation)
        /// The file is a database but its content is damaged (SQLITE_CORRUPT).
        public static let corrupt = Kind(.corrupt)
        /// The file is not an SQLite database (or is encrypted) (SQLITE_NOTADB).
        public static let notADatabase = Kind(.notADatabase)
        /// The file was migrated by a newer binary: see `schemaVersions`. The gateway must not run on it.
        public static let schemaTooNew = Kind(.schemaTooNew)
        /// The API was used wrongly: a closed statement, bad migrations, a bad parameter name.
        public static let misuse = Kind(.misuse)
        /// SQLite refused the SQL itself: a syntax error, no such table or column (SQLITE_ERROR).
        public static let sqlError = Kind(.sqlError)
        /// A write on a read-only connection, file or file system.
        public static let readOnly = Kind(.readOnly)
        /// The disk (or `max_page_count`) is full.
        public static let diskFull = Kind(.diskFull)
        /// The operating system failed a read, write or fsync.
        public static let ioError = Kind(.ioError)
        /// A column held a value of another type than the one asked for (NULL into a non-optional included).
        public static let typeMismatch = Kind(.typeMismatch)
        /// No column of the result has the name asked for.
        public static let columnNotFound = Kind(.columnNotFound)
        /// The transaction a write ran in was rolled back by another write of its batch (see the message).
        public static let transactionAborted = Kind(.transactionAborted)
        /// A bounded queue was full: the caller should shed load (HTTP 503) rather than wait.
        public static let overloaded = Kind(.overloaded)
        /// The `Database` was closed.
        public static let closed = Kind(.closed)
        /// Any other SQLite failure; `resultCode` says which.
        public static let other = Kind(.other)
    }

    /// Which constraint refused a change, for `constraintViolation` errors.
    public struct Constraint: Hashable, Sendable, CustomStringConvertible {
        private enum Base: String, Hashable, Sendable { case unique, primaryKey, foreignKey, notNull, check, other }
        private let base: Base
        private init(_ base: Base) { self.base = base }
        public var description: String { base.rawValue }

        public static let unique = Constraint(.unique)
        public static let primaryKey = Constraint(.primaryKey)
        public static let foreignKey = Constraint(.foreignKey)
        public static let notNull = Constraint(.notNull)
        public static let check = Constraint(.check)
        public static let other = Constraint(.other)

        init(extendedCode: Int32) {
            switch extendedCode {
            case ExtendedResultCode.constraintUnique: self = .unique
            case ExtendedResultCode.constraintPrimaryKey, ExtendedResultCode.constraintRowId: self = .primaryKey
            case ExtendedResultCode.constraintForeignKey: self = .foreignKey
            case ExtendedResultCode.constraintNotNull: self = .notNull
            case ExtendedResultCode.constraintCheck: self = .check
            default: self = .other
            }
        }
    }

    public let kind: Kind
    /// SQLite's primary result code (`SQLITE_BUSY` = 5, …); 0 when the error is not SQLite's.
    public let resultCode: Int32
    /// SQLite's extended result code (`SQLITE_CONSTRAINT_UNIQUE` = 2067, …); 0 when not SQLite's.
    public let extendedResultCode: Int32
    /// `sqlite3_errmsg`, or our own explanation for errors SQLite did not raise.
    public let message: String
    /// The statement that failed, when there was one (placeholders only: never bound values).
    public let sql: String?
    /// The database file, when the error is about it (open, busy, corruption).
    public let path: String?
    /// For `constraintViolation`: which kind of constraint.
    public let constraint: Constraint?
    /// For `schemaTooNew`: the version found in the file and the newest this binary knows.
    public let schemaVersions: (found: Int, known: Int)?

    init(
        _ kind: Kind, _ message: String, resultCode: Int32 = 0, extendedResultCode: Int32 = 0,
        sql: String? = nil, path: String? = nil, constraint: Constraint? = nil,
        schemaVersions: (found: Int, known: Int)? = nil
    ) {
        self.kind = kind
        self.message = message
        self.resultCode = resultCode
        self.extendedResultCode = extendedResultCode
        self.sql = sql
        self.path = path
        self.constraint = constraint
        self.schemaVersions = schemaVersions
    }

    /// True for a UNIQUE or PRIMARY KEY conflict: the row exists already (an idempotency key, an API key name…).
    public var isUniqueViolation: Bool { constraint == .unique || constraint == .primaryKey }

    public var description: String {
        var text = "\(kind): \(message)"
        if resultCode != 0 { text += " (SQLite code \(resultCode)/\(extendedResultCode))" }
        if let path { text += " [\(path)]" }
        if let sql { text += " in: \(sql)" }
        return text
    }
}

// MARK: - Constructors

extension StoreError {
    /// Classifies an SQLite result code. `busyTimeout` goes into the message of a busy error so
    /// an operator reading a log knows how long the wait was.
    static func sqlite(
        _ extendedCode: Int32, message: String, sql: String?, path: String?, busyTimeoutMilliseconds: Int? = nil
    ) -> StoreError {
        let primary = extendedCode & 0xFF
        var text = message
        let kind: Kind
        var constraint: Constraint?
        switch primary {
        case SQLITE_BUSY, SQLITE_LOCKED:
            kind = .busy
            let wait = busyTimeoutMilliseconds.map { " of \($0) ms" } ?? ""
            text = "\(message): another connection or process held the lock beyond the busy timeout\(wait)"
        case SQLITE_CONSTRAINT:
            kind = .constraintViolation
            constraint = Constraint(extendedCode: extendedCode)
        case SQLITE_CANTOPEN: kind = .cannotOpen
        case SQLITE_CORRUPT: kind = .corrupt
        case SQLITE_NOTADB: kind = .notADatabase
        case SQLITE_MISUSE, SQLITE_RANGE: kind = .misuse
        case SQLITE_ERROR, SQLITE_SCHEMA: kind = .sqlError
        case SQLITE_READONLY: kind = .readOnly
        case SQLITE_FULL: kind = .diskFull
        case SQLITE_IOERR: kind = .ioError
        default: kind = .other
        }
        return StoreError(
            kind, text, resultCode: primary, extendedResultCode: extendedCode, sql: sql, path: path, constraint: constraint)
    }

    static func cannotOpen(path: String, reason: String, code: Int32 = SQLITE_CANTOPEN) -> StoreError {
        StoreError(.cannotOpen, "cannot open the database file: \(reason)", resultCode: code & 0xFF, extendedResultCode: code, path: path)
    }

    static func schemaTooNew(found: Int, known: Int, path: String?) -> StoreError {
        StoreError(
            .schemaTooNew,
            "the database schema is at version \(found) but this binary knows versions up to \(known): it was migrated by a newer release; run that release or restore a backup",
            path: path, schemaVersions: (found, known))
    }

    static func misuse(_ message: String, sql: String? = nil) -> StoreError {
        StoreError(.misuse, message, resultCode: SQLITE_MISUSE, extendedResultCode: SQLITE_MISUSE, sql: sql)
    }

    static func overloaded(limit: Int, queue: String) -> StoreError {
        StoreError(.overloaded, "the \(queue) queue is full (\(limit) waiting): shed load and retry later")
    }

    static let closed = StoreError(.closed, "the database is closed")
}

/// SQLite's extended result codes Swift cannot import (`(SQLITE_CONSTRAINT | (8<<8))` is a
/// macro expression), spelled as sqlite3.h defines them.
enum ExtendedResultCode {
    static let constraintCheck = SQLITE_CONSTRAINT | (1 << 8)
    static let constraintCommitHook = SQLITE_CONSTRAINT | (2 << 8)
    static let constraintForeignKey = SQLITE_CONSTRAINT | (3 << 8)
    static let constraintNotNull = SQLITE_CONSTRAINT | (5 << 8)
    static let constraintPrimaryKey = SQLITE_CONSTRAINT | (6 << 8)
    static let constraintUnique = SQLITE_CONSTRAINT | (8 << 8)
    static let constraintRowId = SQLITE_CONSTRAINT | (10 << 8)
}
