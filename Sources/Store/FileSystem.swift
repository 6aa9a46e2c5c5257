#if canImport(Glibc)
    import Glibc
#endif

/// The few file-system facts the Store needs around opening a database: creating its
/// directory, and explaining in words why a file could not be opened.
enum FileSystem {
    /// The directory part of `path` ("" for a bare file name).
    static func parentDirectory(of path: String) -> String {
        guard let slash = path.lastIndex(of: "/") else { return "" }
        if slash == path.startIndex { return "/" }
        return String(path[..<slash])
    }

    /// `mkdir -p` for the directory that will hold `path`; mode 0700 because the database holds
    /// webhook signing secrets, API key hashes and idempotency records that no other local user
    /// has any business reading. Directories that exist keep their mode.
    static func createParentDirectory(of path: String) throws {
        let directory = parentDirectory(of: path)
        guard !directory.isEmpty, !isDirectory(directory) else { return }
        var prefix = directory.hasPrefix("/") ? "" : "."
        for component in directory.split(separator: "/", omittingEmptySubsequences: true) {
            prefix += "/" + component
            if isDirectory(prefix) { continue }
            if mkdir(prefix, 0o700) != 0 && errno != EEXIST {
                let code = errno
                throw StoreError.cannotOpen(
                    path: path, reason: "cannot create its directory \(prefix): \(describe(errno: code))")
            }
        }
    }

    /// Creates `path` empty with mode 0600 when it does not exist. SQLite would create a missing
    /// database 0644 (less the umask) and gives its -wal, -shm and journal the database file's
    /// mode, so creating the file first keeps all of them private. An empty file is an empty
    /// database to SQLite. Failures are left for the open that follows to report in words.
    static func createPrivateFile(_ path: String) {
        let fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0o600)
        if fd >= 0 { close(fd) }
    }

    static func isDirectory(_ path: String) -> Bool {
        var info = stat()
        return stat(path, &info) == 0 && (info.st_mode & S_IFMT) == S_IFDIR
    }

    static func exists(_ path: String) -> Bool {
        var info = stat()
        return stat(path, &info) == 0
    }

    static func describe(errno code: Int32) -> String {
        switch code {
        case EACCES, EPERM: "permission denied (errno \(code))"
        case ENOENT: "no such file or directory (errno \(code))"
        case ENOTDIR: "a component of the path is not a directory (errno \(code))"
        case EISDIR: "the path is a directory (errno \(code))"
        case EROFS: "read-only file system (errno \(code))"
        case ENOSPC: "no space left on device (errno \(code))"
        default: "\(String(cString: strerror(code))) (errno \(code))"
        }
    }

    /// Why `sqlite3_open_v2` refused `path`, in the words an operator needs.
    static func openFailureReason(path: String, errno code: Int32, sqliteMessage: String) -> String {
        let directory = parentDirectory(of: path)
        if !directory.isEmpty && !exists(directory) { return "its directory \(directory) does not exist" }
        if isDirectory(path) { return "\(path) is a directory" }
        if code != 0 { return describe(errno: code) }
        return sqliteMessage
    }
}
