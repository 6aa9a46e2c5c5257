#if canImport(Glibc)
    import Glibc
#endif

/// An exclusive lock on `<database>.lock` held for the gateway's lifetime: a second gateway on
/// the same database fails at start with a clear message, and so every job lease found at start
/// belongs to a process that is gone. (The `keys` and `migrate` commands do not take it.)
public final class ProcessLock: Sendable {
    private let fd: Int32

    public struct Held: Error, CustomStringConvertible {
        public let path: String
        public var description: String { "another rokt-gateway is already serving this database (lock \(path) is held)" }
    }

    public init(path: String) throws {
        // `self.fd` is set last: a class whose properties are all set runs `deinit` even when its
        // init throws, which would close the descriptor a second time, by then perhaps another
        // thread's socket.
        let fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0o600)
        guard fd >= 0 else { throw ConfigurationError(variable: "DATABASE_PATH", message: "cannot create \(path): \(String(cString: strerror(errno)))") }
        guard flock(fd, LOCK_EX | LOCK_NB) == 0 else {
            close(fd)
            throw Held(path: path)
        }
        self.fd = fd
    }

    deinit { close(fd) }
}
