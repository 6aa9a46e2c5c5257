import CLinux
#if canImport(Glibc)
    import Glibc
#endif

/// How many CPUs this process may use, the default number of event loops: the online processors,
/// fewer when its affinity mask allows fewer (`taskset`, cpusets), and fewer again when a cgroup caps
/// its CPU time (a container's `--cpus`, a Kubernetes CPU limit; a quota of 1.5 CPUs counts as 2).
/// Sized by the host's processors instead, a pod limited to 2 CPUs on a 64-core node would start 64
/// loops: more threads than CPUs, each woken with less work to do.
public enum CPUBudget {
    /// This process's CPUs now, at least 1.
    public static var current: Int {
        let online = sysconf(Int32(_SC_NPROCESSORS_ONLN))
        let affinity = Int(clinux_affinity_cpu_count())
        let cgroups = WholeFile.text("/proc/self/cgroup") ?? ""
        return cores(online: online > 0 ? online : 1, affinity: affinity > 0 ? affinity : nil, quota: quota(cgroups: cgroups))
    }

    /// The smallest of the limits known, the quota rounded up, at least 1.
    static func cores(online: Int, affinity: Int?, quota: Double?) -> Int {
        var cores = online
        if let affinity { cores = min(cores, affinity) }
        if let quota, quota > 0 { cores = min(cores, Int(quota.rounded(.up))) }
        return max(1, cores)
    }

    /// The tightest CPU quota of this process's cgroup and its ancestors, in CPUs (nil: none), read
    /// under `root`, where cgroup v2 (`cpu.max`) or v1's cpu controller (`cpu/cpu.cfs_quota_us`) is
    /// mounted. `cgroups` is /proc/self/cgroup. Inside a container's cgroup namespace the process's
    /// own cgroup is the mount's root, so the root's files count too.
    static func quota(cgroups: String, root: String = "/sys/fs/cgroup") -> Double? {
        let paths = cgroupPaths(cgroups)
        var quotas: [Double] = []
        if let unified = paths.unified {
            for directory in ancestors(of: unified) {
                if let cpuMax = WholeFile.text(root + directory + "/cpu.max"), let cpus = quota(cpuMax: cpuMax) { quotas.append(cpus) }
            }
        }
        if let cpu = paths.cpu {
            for directory in ancestors(of: cpu) {
                let base = root + "/cpu" + directory
                if let quotaText = WholeFile.text(base + "/cpu.cfs_quota_us"), let periodText = WholeFile.text(base + "/cpu.cfs_period_us"),
                    let cpus = quota(cfsQuota: quotaText, cfsPeriod: periodText)
                {
                    quotas.append(cpus)
                }
            }
        }
        return quotas.min()
    }

    /// cgroup v2's `cpu.max`: `max 100000` (no limit) or `QUOTA PERIOD` in microseconds.
    static func quota(cpuMax: String) -> Double? {
        let fields = asciiFields(cpuMax)
        guard fields.count == 2, let quota = Int(fields[0]), let period = Int(fields[1]), quota > 0, period > 0 else { return nil }
        return Double(quota) / Double(period)
    }

    /// cgroup v1's `cpu.cfs_quota_us` (-1: no limit) over `cpu.cfs_period_us`.
    static func quota(cfsQuota: String, cfsPeriod: String) -> Double? {
        quota(cpuMax: cfsQuota + " " + cfsPeriod)
    }

    /// From /proc/self/cgroup: the v2 path (`0::/path`) and the path of the v1 hierarchy holding the
    /// cpu controller (`4:cpu,cpuacct:/path`).
    static func cgroupPaths(_ text: String) -> (unified: String?, cpu: String?) {
        var unified: String?
        var cpu: String?
        for line in text.utf8.split(separator: UInt8(ascii: "\n")) {
            let fields = line.split(separator: UInt8(ascii: ":"), maxSplits: 2, omittingEmptySubsequences: false)
            guard fields.count == 3, fields[2].first == UInt8(ascii: "/") else { continue }
            if fields[0].elementsEqual("0".utf8) && fields[1].isEmpty {
                unified = String(decoding: fields[2], as: UTF8.self)
            } else if fields[1].split(separator: UInt8(ascii: ",")).contains(where: { $0.elementsEqual("cpu".utf8) }) {
                cpu = String(decoding: fields[2], as: UTF8.self)
            }
        }
        return (unified, cpu)
    }

    /// `/a/b`, `/a`, then the root (``): a limit set on any of them applies.
    static func ancestors(of path: String) -> [String] {
        var parts = path.utf8.split(separator: UInt8(ascii: "/")).map { String(decoding: $0, as: UTF8.self) }
        var found: [String] = []
        while !parts.isEmpty {
            found.append("/" + parts.joined(separator: "/"))
            parts.removeLast()
        }
        return found + [""]
    }

    /// Fields split at spaces, tabs and newlines, byte by byte (kernel files are ASCII).
    private static func asciiFields(_ text: String) -> [String] {
        text.utf8.split { $0 == UInt8(ascii: " ") || $0 == UInt8(ascii: "\t") || $0 == UInt8(ascii: "\n") }
            .map { String(decoding: $0, as: UTF8.self) }
    }
}
