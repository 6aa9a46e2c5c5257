import CLinux

#if canImport(Glibc)
    import Glibc
#endif

/// A new detached, named pthread running `body` once: for work that blocks in the kernel and so
/// must stay off the Swift cooperative pool (a name lookup; a PostgreSQL session's poll loop).
public enum DetachedThread {
    private final class Body {
        let name: String
        let run: @Sendable () -> Void
        init(name: String, run: @escaping @Sendable () -> Void) { (self.name, self.run) = (name, run) }
    }

    /// Throws when the system has no thread to give (the caller decides how to degrade).
    public static func start(name: String, _ body: @escaping @Sendable () -> Void) throws(SystemError) {
        let box = Unmanaged.passRetained(Body(name: name, run: body))
        var attributes = pthread_attr_t()
        pthread_attr_init(&attributes)
        pthread_attr_setdetachstate(&attributes, Int32(PTHREAD_CREATE_DETACHED))
        defer { pthread_attr_destroy(&attributes) }
        var thread = pthread_t()
        let rc = pthread_create(
            &thread, &attributes,
            { arg in
                let body = Unmanaged<Body>.fromOpaque(arg!).takeRetainedValue()
                // Named for top, perf and /proc/<pid>/task/*/comm (the kernel keeps 15 bytes of it).
                clinux_set_thread_name(body.name)
                body.run()
                return nil
            }, box.toOpaque())
        guard rc == 0 else {
            box.release()
            throw SystemError(call: "pthread_create", errno: rc)
        }
    }
}
