/// The format of a parameter or result column on the wire (protocol-message-formats: Bind's
/// format codes): text is what `psql` shows, binary is each type's send/recv form.
public enum PostgresFormat: Int16, Sendable, Hashable {
    case text = 0
    case binary = 1
}
