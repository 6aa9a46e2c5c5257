#if canImport(Glibc)
    import Glibc
#endif

/// Reads a file whole, refusing what cannot be read as one: a directory, or more than `limit`
/// bytes. It reads to the end rather than by size: a pipe (`<(…)`) or procfs reports none.
public enum WholeFile {
    public struct Failure: Error {
        public let reason: String
    }

    public static func read(_ path: String, limit: Int) throws(Failure) -> [UInt8] {
        let descriptor = open(path, O_RDONLY | O_CLOEXEC)
        guard descriptor >= 0 else { throw Failure(reason: "cannot be read (\(String(cString: strerror(errno))))") }
        defer { close(descriptor) }
        var info = stat()
        if fstat(descriptor, &info) == 0, (info.st_mode & S_IFMT) == S_IFDIR { throw Failure(reason: "is a directory, not a file") }
        var bytes: [UInt8] = []
        var buffer = [UInt8](repeating: 0, count: 4096)
        while bytes.count <= limit {
            let count = buffer.withUnsafeMutableBytes { Glibc.read(descriptor, $0.baseAddress, $0.count) }
            if count < 0 && errno == EINTR { continue }
            guard count >= 0 else { throw Failure(reason: "cannot be read (\(String(cString: strerror(errno))))") }
            if count == 0 { return bytes }
            bytes += buffer[..<count]
        }
        throw Failure(reason: "is larger than \(limit / 1024) KiB")
    }

    /// A small file as text, nil when it cannot be read (procfs and cgroupfs files: they report a
    /// size of 0, and some are absent; 1 MiB is ample for /proc/stat's lines).
    public static func text(_ path: String, limit: Int = 1 << 20) -> String? {
        (try? read(path, limit: limit)).map { String(decoding: $0, as: UTF8.self) }
    }
}
