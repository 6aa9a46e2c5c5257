import Testing
@testable import Gateway

/// `process_*` from /proc text (proc(5)), parsed without reading a file.
@Suite struct ProcessMetricsTests {
    /// A real line's shape, with a command name made to trip a naive split.
    static let stat =
        "4242 (rokt gw) (x) S 1 4242 4242 0 -1 4194560 2710 0 0 0 150 25 0 0 20 0 9 0 1895260 731234304 6144 "
        + "18446744073709551615 1 1 0 0 0 0 0 4096 0 0 0 0 17 1 0 0 0 0 0\n"
    static let systemStat = "cpu  1 2 3 4\nintr 5\nctxt 6\nbtime 1796433309\nprocesses 7\n"

    @Test func statFieldsAreCountedFromTheLastParenthesis() throws {
        let fields = try #require(ProcessMetrics.Stat(parsing: Self.stat))
        #expect(fields == ProcessMetrics.Stat(parsing: Self.stat))
        #expect(fields.userTicks == 150 && fields.systemTicks == 25)
        #expect(fields.startTicks == 1_895_260 && fields.virtualBytes == 731_234_304 && fields.residentPages == 6144)
    }

    @Test func samplesAreInSecondsAndBytes() throws {
        let sample = try #require(
            ProcessMetrics(stat: Self.stat, systemStat: Self.systemStat, ticksPerSecond: 100, pageSize: 4096, openFds: 17, maxFds: 1024))
        #expect(sample.cpuSeconds == 1.75)
        #expect(sample.residentBytes == 6144 * 4096 && sample.virtualBytes == 731_234_304)
        #expect(sample.startTimeSeconds == 1_796_433_309 + 18_952.6)
        var out = MetricsExposition()
        sample.write(to: &out)
        #expect(out.text.contains("\nprocess_cpu_seconds_total 1.75\n"))
        #expect(out.text.contains("# TYPE process_cpu_seconds_total counter\n"))
        #expect(out.text.contains("\nprocess_resident_memory_bytes 25165824\n"))
        #expect(out.text.contains("\nprocess_open_fds 17\n") && out.text.contains("\nprocess_max_fds 1024\n"))
    }

    @Test func malformedTextIsNoSample() {
        #expect(ProcessMetrics.Stat(parsing: "4242 rokt S 1 2") == nil)
        #expect(ProcessMetrics.Stat(parsing: "4242 (rokt) S 1 2 3") == nil)
        #expect(ProcessMetrics.bootTime(parsing: "cpu 1 2\n") == nil)
        #expect(ProcessMetrics(stat: Self.stat, systemStat: "cpu 1\n", ticksPerSecond: 100, pageSize: 4096, openFds: nil, maxFds: nil) == nil)
    }

    /// On Linux the real files parse, and the numbers are this process's.
    @Test func thisProcessIsRead() throws {
        let sample = try #require(ProcessMetrics.read())
        #expect(sample.residentBytes > 1 << 20 && sample.virtualBytes >= sample.residentBytes)
        #expect(sample.cpuSeconds > 0)
        #expect(sample.startTimeSeconds > 1_600_000_000)
        #expect((sample.openFds ?? 0) >= 3)
        if let maxFds = sample.maxFds { #expect(maxFds >= sample.openFds ?? 0) }
    }
}
