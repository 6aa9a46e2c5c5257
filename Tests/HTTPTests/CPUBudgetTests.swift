import Foundation
import Testing

@testable import HTTP

@Suite struct CPUBudgetTests {
    @Test func theTightestLimitWinsAndAQuotaIsRoundedUp() {
        #expect(CPUBudget.cores(online: 64, affinity: nil, quota: nil) == 64)
        #expect(CPUBudget.cores(online: 64, affinity: 4, quota: nil) == 4)
        #expect(CPUBudget.cores(online: 64, affinity: 4, quota: 2) == 2)
        #expect(CPUBudget.cores(online: 64, affinity: nil, quota: 1.5) == 2)
        #expect(CPUBudget.cores(online: 64, affinity: nil, quota: 0.25) == 1)
        #expect(CPUBudget.cores(online: 2, affinity: 2, quota: 8) == 2)
        #expect(CPUBudget.cores(online: 0, affinity: nil, quota: nil) == 1)
    }

    @Test func cpuMaxAndCFSQuotasReadAsCPUs() {
        #expect(CPUBudget.quota(cpuMax: "max 100000\n") == nil)
        #expect(CPUBudget.quota(cpuMax: "150000 100000\n") == 1.5)
        #expect(CPUBudget.quota(cpuMax: "50000 100000") == 0.5)
        #expect(CPUBudget.quota(cpuMax: "") == nil)
        #expect(CPUBudget.quota(cpuMax: "0 100000") == nil)
        #expect(CPUBudget.quota(cfsQuota: "-1\n", cfsPeriod: "100000\n") == nil)
        #expect(CPUBudget.quota(cfsQuota: "200000\n", cfsPeriod: "100000\n") == 2)
        #expect(CPUBudget.quota(cfsQuota: "junk", cfsPeriod: "100000") == nil)
    }

    @Test func procSelfCgroupNamesTheUnifiedAndTheCPUHierarchies() {
        let v1 = "12:pids:/docker/abc\n4:cpu,cpuacct:/docker/abc\n3:cpuset:/docker/abc\n0::/system.slice/x.service\n"
        #expect(CPUBudget.cgroupPaths(v1).unified == "/system.slice/x.service")
        #expect(CPUBudget.cgroupPaths(v1).cpu == "/docker/abc")
        #expect(CPUBudget.cgroupPaths("0::/\n").unified == "/")
        #expect(CPUBudget.cgroupPaths("0::/\n").cpu == nil)
        #expect(CPUBudget.cgroupPaths("3:cpuacct:/a\ngarbage\n").cpu == nil)
        #expect(CPUBudget.ancestors(of: "/a/b") == ["/a/b", "/a", ""])
        #expect(CPUBudget.ancestors(of: "/") == [""])
    }

    /// The files as a host lays them out, in a scratch directory: a limit on an ancestor binds its
    /// children, the tightest of all counts, and a v1 hierarchy is read as well as v2.
    @Test func theQuotaIsTheTightestOfTheCgroupAndItsAncestors() throws {
        let root = NSTemporaryDirectory() + "cgroup-\(UUID().uuidString)"
        defer { try? FileManager.default.removeItem(atPath: root) }
        func write(_ path: String, _ text: String) throws {
            try FileManager.default.createDirectory(atPath: root + (path as NSString).deletingLastPathComponent, withIntermediateDirectories: true)
            try text.write(toFile: root + path, atomically: true, encoding: .utf8)
        }
        try write("/cpu.max", "max 100000\n")
        try write("/kubepods/cpu.max", "300000 100000\n")
        try write("/kubepods/pod1/cpu.max", "max 100000\n")
        try write("/kubepods/pod1/c1/cpu.max", "70000 100000\n")
        #expect(CPUBudget.quota(cgroups: "0::/kubepods/pod1/c1\n", root: root) == 0.7)
        #expect(CPUBudget.quota(cgroups: "0::/kubepods/pod1\n", root: root) == 3)
        #expect(CPUBudget.quota(cgroups: "0::/\n", root: root) == nil)
        // A container's cgroup namespace: its own cgroup is the root.
        try write("/cpu.max", "200000 100000\n")
        #expect(CPUBudget.quota(cgroups: "0::/\n", root: root) == 2)
        try write("/cpu/docker/abc/cpu.cfs_quota_us", "50000\n")
        try write("/cpu/docker/abc/cpu.cfs_period_us", "100000\n")
        #expect(CPUBudget.quota(cgroups: "4:cpu,cpuacct:/docker/abc\n", root: root) == 0.5)
        #expect(CPUBudget.quota(cgroups: "4:cpu,cpuacct:/elsewhere\n", root: root) == nil)
    }

    /// The shared group's size is chosen before its first use or not at all: a later choice is
    /// refused, and the group keeps its loops.
    @Test func theSharedLoopCountCannotChangeOnceTheGroupExists() {
        let loops = EventLoopGroup.shared.loops.count
        #expect(!EventLoopGroup.setSharedLoopCount(loops + 1))
        #expect(EventLoopGroup.shared.loops.count == loops)
    }

    @Test func thisProcessHasAtLeastOneCPUAndNoMoreThanAreOnline() {
        let online = Int(sysconf(Int32(_SC_NPROCESSORS_ONLN)))
        #expect((1...max(1, online)).contains(CPUBudget.current))
    }
}
