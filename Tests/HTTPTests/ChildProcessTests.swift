#if canImport(Glibc)
    import Glibc
#endif
import ChildProcess
import Testing

/// The test support's child processes: they must not inherit the test process's descriptors, or a
/// daemon a test starts (PostgreSQL's server) keeps other tests' sockets open, and a connection a
/// test closes never reaches its peer as closed.
@Suite struct ChildProcessTests {
    @Test func aChildInheritsOnlyItsStandardDescriptors() async throws {
        var fds: [Int32] = [0, 0]
        #expect(pipe(&fds) == 0)  // without CLOEXEC, as a careless test socket would be
        defer { fds.forEach { close($0) } }
        let child = try ChildProcess(executable: "/bin/ls", arguments: ["/proc/self/fd"])
        #expect(await child.waitForExit() == 0)
        // 0, 1, 2, and the descriptor ls opened to read the directory.
        let inherited = Set(child.text.split(separator: "\n").compactMap { Int32($0) })
        #expect(inherited.isSubset(of: [0, 1, 2, 3]), "\(inherited.sorted())")
    }
}
