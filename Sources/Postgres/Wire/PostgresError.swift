/// An ErrorResponse or NoticeResponse: the server's fields by their one-byte codes
/// (protocol-error-fields: "Error and Notice Message Fields").
///
/// `description` is what a log may show: severity, SQLSTATE, message and the names of the
/// objects involved. Detail, where (context), internal query and hint are left out, and so
/// is the message of a data exception (class 22): those can quote the values of a row or
/// parameter, and parameters may be secrets. The fields stay readable for a caller that knows.
public struct PostgresError: Error, Equatable, Sendable, CustomStringConvertible {
    /// A field's code byte (protocol-error-fields).
    public struct Field: Hashable, Sendable {
        public let code: UInt8
        public init(_ code: UInt8) { self.code = code }

        /// ERROR, FATAL, PANIC, WARNING, NOTICE… possibly translated.
        public static let localizedSeverity = Field(UInt8(ascii: "S"))
        /// The same, never translated (PostgreSQL 9.6 and later).
        public static let severity = Field(UInt8(ascii: "V"))
        public static let sqlState = Field(UInt8(ascii: "C"))
        public static let message = Field(UInt8(ascii: "M"))
        public static let detail = Field(UInt8(ascii: "D"))
        public static let hint = Field(UInt8(ascii: "H"))
        public static let position = Field(UInt8(ascii: "P"))
        public static let internalPosition = Field(UInt8(ascii: "p"))
        public static let internalQuery = Field(UInt8(ascii: "q"))
        public static let `where` = Field(UInt8(ascii: "W"))
        public static let schema = Field(UInt8(ascii: "s"))
        public static let table = Field(UInt8(ascii: "t"))
        public static let column = Field(UInt8(ascii: "c"))
        public static let dataType = Field(UInt8(ascii: "d"))
        public static let constraint = Field(UInt8(ascii: "n"))
        public static let file = Field(UInt8(ascii: "F"))
        public static let line = Field(UInt8(ascii: "L"))
        public static let routine = Field(UInt8(ascii: "R"))
    }

    /// Every field received, including codes added by later servers (clients must ignore
    /// fields they do not recognise).
    public var fields: [Field: String]

    public init(fields: [Field: String]) { self.fields = fields }

    public subscript(field: Field) -> String? { fields[field] }

    public var sqlState: SQLState { fields[.sqlState].map(SQLState.init) ?? .internalError }
    /// The untranslated severity when the server sends it, else the localized one.
    public var severity: String { fields[.severity] ?? fields[.localizedSeverity] ?? "ERROR" }
    public var message: String { fields[.message] ?? "" }
    public var detail: String? { fields[.detail] }
    public var hint: String? { fields[.hint] }
    /// 1-based character index into the query text.
    public var position: Int? { fields[.position].flatMap { Int($0) } }
    public var schema: String? { fields[.schema] }
    public var table: String? { fields[.table] }
    public var column: String? { fields[.column] }
    public var constraint: String? { fields[.constraint] }

    public var description: String {
        let state = sqlState
        var text = "\(severity) \(state): "
        // Data exceptions echo the offending input ("invalid input syntax for type uuid: \"…\"").
        text += state.classCode == "22" ? "(message withheld: it may quote a value)" : message
        let names = [("schema", schema), ("table", table), ("column", column), ("constraint", constraint)]
            .compactMap { name, value in value.map { "\(name) \($0)" } }
        if !names.isEmpty { text += " (" + names.joined(separator: ", ") + ")" }
        return text
    }
}
