import HTTP
#if canImport(Glibc)
    import Glibc
#endif

/// The standard `process_*` metrics of the Prometheus client libraries, from Linux's /proc
/// (proc(5)): parsing is pure and takes the files' text; `read()` is the only I/O.
struct ProcessMetrics: Equatable {
    var cpuSeconds: Double
    var residentBytes: Int
    var virtualBytes: Int
    /// Seconds since the Unix epoch.
    var startTimeSeconds: Double
    var openFds: Int?
    var maxFds: Int?

    /// The fields of /proc/self/stat we use, in the kernel's units (clock ticks, pages, bytes).
    struct Stat: Equatable {
        var userTicks: Int
        var systemTicks: Int
        /// When the process started, in ticks after boot.
        var startTicks: Int
        var virtualBytes: Int
        var residentPages: Int

        /// `pid (comm) state …`: `comm` may hold spaces and parentheses, so fields are counted
        /// from the last `)`; field 3 (`state`) is the first after it.
        init?(parsing text: String) {
            guard let close = text.lastIndex(of: ")") else { return nil }
            let fields = text[text.index(after: close)...].split(whereSeparator: { $0 == " " || $0 == "\n" })
            func field(_ number: Int) -> Int? { fields.count > number - 3 ? Int(fields[number - 3]) : nil }
            guard let user = field(14), let system = field(15), let start = field(22), let virtual = field(23), let resident = field(24)
            else { return nil }
            (userTicks, systemTicks, startTicks, virtualBytes, residentPages) = (user, system, start, virtual, resident)
        }
    }

    /// The boot time (`btime`, seconds since the epoch) from /proc/stat.
    static func bootTime(parsing text: String) -> Int? {
        for line in text.split(separator: "\n") where line.hasPrefix("btime ") {
            return Int(line.dropFirst(6).trimmingPrefix(" "))
        }
        return nil
    }

    init(
        cpuSeconds: Double, residentBytes: Int, virtualBytes: Int, startTimeSeconds: Double, openFds: Int?, maxFds: Int?
    ) {
        (self.cpuSeconds, self.residentBytes, self.virtualBytes) = (cpuSeconds, residentBytes, virtualBytes)
        (self.startTimeSeconds, self.openFds, self.maxFds) = (startTimeSeconds, openFds, maxFds)
    }

    /// From the two files' text and the system's constants; nil when either file is not as proc(5) says.
    init?(stat: String, systemStat: String, ticksPerSecond: Int, pageSize: Int, openFds: Int?, maxFds: Int?) {
        guard let fields = Stat(parsing: stat), let boot = Self.bootTime(parsing: systemStat), ticksPerSecond > 0 else { return nil }
        let ticks = Double(ticksPerSecond)
        self.init(
            cpuSeconds: Double(fields.userTicks + fields.systemTicks) / ticks, residentBytes: fields.residentPages * pageSize,
            virtualBytes: fields.virtualBytes, startTimeSeconds: Double(boot) + Double(fields.startTicks) / ticks,
            openFds: openFds, maxFds: maxFds)
    }

    /// This process now; nil off Linux or when /proc is not mounted (the metrics are then left out).
    static func read() -> ProcessMetrics? {
        guard let stat = WholeFile.text("/proc/self/stat"), let systemStat = WholeFile.text("/proc/stat") else { return nil }
        var limit = rlimit()  // RLIM_INFINITY (all ones) is no number to report
        let maxFds = getrlimit(__rlimit_resource_t(RLIMIT_NOFILE.rawValue), &limit) == 0 && limit.rlim_cur != rlim_t.max ? Int(limit.rlim_cur) : nil
        return ProcessMetrics(
            stat: stat, systemStat: systemStat, ticksPerSecond: sysconf(Int32(_SC_CLK_TCK)), pageSize: sysconf(Int32(_SC_PAGESIZE)),
            openFds: countOpenFds(), maxFds: maxFds)
    }

    /// Entries of /proc/self/fd (the directory's own descriptor included, as the client libraries count).
    private static func countOpenFds() -> Int? {
        guard let directory = opendir("/proc/self/fd") else { return nil }
        defer { closedir(directory) }
        var count = 0
        // Only the name's first byte is read: an entry is `d_reclen` bytes, often fewer than
        // `MemoryLayout<dirent>.size`, so copying `entry.pointee` can read past the end of
        // readdir's buffer (it crashed a scrape with many descriptors open).
        let nameOffset = MemoryLayout<dirent>.offset(of: \dirent.d_name)!
        while let entry = readdir(directory) {
            let first = UnsafeRawPointer(entry).load(fromByteOffset: nameOffset, as: UInt8.self)
            if first != UInt8(ascii: ".") { count += 1 }
        }
        return count
    }

    /// The `process_*` families, named and typed as the Prometheus client libraries write them.
    func write(to out: inout MetricsExposition) {
        out.family("process_cpu_seconds_total", .counter, "Total user and system CPU time spent in seconds.")
        out.sample("process_cpu_seconds_total", [:], cpuSeconds)
        out.family("process_resident_memory_bytes", .gauge, "Resident memory size in bytes.")
        out.sample("process_resident_memory_bytes", [:], Double(residentBytes))
        out.family("process_virtual_memory_bytes", .gauge, "Virtual memory size in bytes.")
        out.sample("process_virtual_memory_bytes", [:], Double(virtualBytes))
        out.family("process_start_time_seconds", .gauge, "Start time of the process since unix epoch in seconds.")
        out.sample("process_start_time_seconds", [:], startTimeSeconds)
        if let openFds {
            out.family("process_open_fds", .gauge, "Number of open file descriptors.")
            out.sample("process_open_fds", [:], Double(openFds))
        }
        if let maxFds {
            out.family("process_max_fds", .gauge, "Maximum number of open file descriptors.")
            out.sample("process_max_fds", [:], Double(maxFds))
        }
    }
}
